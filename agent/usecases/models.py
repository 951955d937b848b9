"""Audit one model's metrics against similar projects, stored as a draft to review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.outputs import model_prompts
from agent.review import ReviewPrompt, merge_prompts
from agent.store import ModelAuditRow
from agent.turn import Turn
from agent.usecases.audits import revised_model
from tools.model_audit import audit_model
from tools.params import DEFAULT_PARAMS
from tools.profile import ModelReport
from tools.results import ModelVerdict


@dataclass(frozen=True)
class ModelOutcome:
    row: ModelAuditRow
    verdict: ModelVerdict


def audit_one_model(turn: Turn, data: dict[str, Any]) -> ModelOutcome:
    """Validate a model report (name, task, metrics, class balance, personal data, legal
    basis), audit it and store the verdict; ValueError or SkillAuditError for a bad report."""
    report = ModelReport.model_validate(data, context={"kb": turn.kb})
    verdict = audit_model(report, turn.kb, DEFAULT_PARAMS)
    row = turn.scope.add_model_audit(
        report=report.model_dump(mode="json"),
        verdict=verdict.model_dump(mode="json"),
        review=model_prompts(verdict),
        state="draft",
    )
    return ModelOutcome(row, verdict)


def revise_model(turn: Turn, row: ModelAuditRow, facts: dict[str, Any]) -> ModelVerdict:
    """Record facts stated in review on a stored model audit (a legal basis, the class
    balance, more metrics) and judge the model again; answered prompts keep their answers."""
    report = ModelReport.model_validate(revised_model(row.report, facts), context={"kb": turn.kb})
    verdict = audit_model(report, turn.kb, DEFAULT_PARAMS)
    fresh = [ReviewPrompt.model_validate(p) for p in model_prompts(verdict)]
    turn.scope.update_row(
        row,
        report=report.model_dump(mode="json"),
        verdict=verdict.model_dump(mode="json"),
        review=[p.model_dump(mode="json") for p in merge_prompts(row.prompts, fresh)],
    )
    return verdict
