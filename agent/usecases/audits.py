"""Audit a person: from their interview answers or a profile file, with the evidence their
consented sources gave; store it as a draft with its review prompts; re-score it after an
adjustment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.interview import build_profile
from agent.review import ReviewPrompt, merge_prompts, render_prompts
from agent.sources import UnknownSource
from agent.store import AuditRow, UserScope
from agent.turn import Turn
from agent.usecases.evidence import (
    income_records_from,
    inputs_from,
    knowledge_for,
    run_spec,
    stored_results,
    with_market_demand,
)
from knowledge.base import KnowledgeBase, default_knowledge
from knowledge.schema import Pillar
from tools.audit import run_audit
from tools.errors import ConnectorError
from tools.profile import (
    EvidenceInput,
    IncomeRecordsSummary,
    ModelReport,
    Profile,
    load_profile,
    validate_profile,
)
from tools.results import AuditResult, PreviousAudit

log = logging.getLogger(__name__)
# Interview answers kept with an audit as its context (for plans and reports), not scored.
CONTEXT_KEYS = ("preferred_formats", "income_streams", "clients", "top_client_share", "consents")


class AuditReport:
    """An audit result with its review prompts; a draft until every prompt is answered."""

    def __init__(self, result: AuditResult, review: list[ReviewPrompt]) -> None:
        self.result = result
        self.review = review

    @property
    def state(self) -> str:
        return "final" if all(not p.open for p in self.review) else "draft"

    def to_dict(self) -> dict[str, Any]:
        data = self.result.model_dump(mode="json")
        data["review"] = [p.model_dump(mode="json") for p in self.review]
        data["state"] = self.state
        return data

    def to_json(self) -> str:
        """Stable JSON: the same input and as-of date give the same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class AuditOutcome:
    """A stored audit and the report it was made from."""

    row: AuditRow
    report: AuditReport


def score(
    profile: Profile,
    kb: KnowledgeBase,
    as_of: dt.date,
    force: bool = False,
    previous: PreviousAudit | None = None,
) -> AuditReport:
    """Run the deterministic audit and render its review prompts (nothing is stored)."""
    result = run_audit(profile, kb, as_of, force=force, previous=previous)
    return AuditReport(result, render_prompts(result.review))


def latest_before(scope: UserScope, day: dt.date) -> AuditRow | None:
    """The person's latest audit dated on or before `day` (a back-dated audit is compared with
    what came before it, never with a later one)."""
    earlier = [a for a in scope.audits() if a.as_of <= day]
    return earlier[-1] if earlier else None


def previous_of(latest: AuditRow | None) -> PreviousAudit | None:
    if latest is None:
        return None
    audit = latest.audit
    pillars = {key.value: pillar.score for key, pillar in audit.pillars.items()}
    return PreviousAudit(as_of=latest.as_of, overall=latest.overall, pillars=pillars)


def audit_answers(turn: Turn, answers: dict[str, Any], force: bool = False) -> AuditOutcome:
    """Score a person's interview answers with their consented evidence and store the draft.

    Raises a SkillAuditError (AuditRefused within the fatigue window, ProfileError for
    answers that do not validate); nothing is stored then.
    """
    scope = turn.scope
    kb = knowledge_for(scope, turn.kb)
    data = build_profile(answers, scope.external_id, kb, turn.today)
    latest = latest_before(scope, turn.today)
    if latest is not None:
        data["last_full_audit"] = latest.as_of.isoformat()
    results = stored_results(scope)
    evidence, models = inputs_from(results)
    data["evidence"] = [*data.get("evidence", []), *evidence]
    if models:
        data["models"] = [*data.get("models", []), *models]
    records = income_records_from(results)
    if records is not None and not data.get("income"):
        data["income_records"] = records
    report = score(validate_profile(data, kb), kb, turn.today, force, previous_of(latest))
    row = store(turn.scope, report, data, {k: answers.get(k) for k in CONTEXT_KEYS})
    return AuditOutcome(row, report)


def score_file(
    path: Path,
    as_of: dt.date,
    settings: Settings,
    kb: KnowledgeBase | None = None,
    force: bool = False,
    connects: Sequence[list[str]] = (),
    warn: Callable[[str], None] | None = None,
    latest: AuditRow | None = None,
) -> tuple[AuditReport, Profile]:
    """Load, validate and audit a profile file, with evidence from `connects` specs
    (["github", "octocat"]); ProfileError / ConnectorError / AuditRefused on bad input.

    `latest` is the person's stored audit, if any: the fatigue guard and the comparison
    with the previous audit count it. Nothing is stored.
    """
    kb = kb or default_knowledge()
    profile = load_profile(path, kb)
    results = []
    for spec in connects:
        try:
            found, result = run_spec(spec, kb, as_of, settings)
        except UnknownSource:
            raise  # a mistyped source name is a mistake in the command itself
        except ConnectorError as exc:
            # An unreadable source costs only its own evidence: the audit goes on without it.
            if warn is not None:
                warn(f"{spec[0]}: {exc}; the audit goes on without it")
            continue
        for problem in result.problems:
            if warn is not None:
                warn(f"{found.name}: {problem}")
        results.append(result)
    if results:
        evidence, models = inputs_from(results)
        context = {"kb": kb}
        profile = profile.model_copy(
            update={
                "evidence": [
                    *profile.evidence,
                    *(EvidenceInput.model_validate(e, context=context) for e in evidence),
                ],
                "models": [
                    *profile.models,
                    *(ModelReport.model_validate(m, context=context) for m in models),
                ],
            }
        )
        records = income_records_from(results)
        if records is not None and not profile.income and profile.income_records is None:
            profile = profile.model_copy(
                update={"income_records": IncomeRecordsSummary.model_validate(records)}
            )
        kb = with_market_demand(kb, results)
    if latest is not None and (
        profile.last_full_audit is None or profile.last_full_audit < latest.as_of
    ):
        profile = profile.model_copy(update={"last_full_audit": latest.as_of})
    return score(profile, kb, as_of, force, previous_of(latest)), profile


def audit_file(
    turn: Turn,
    path: Path,
    force: bool = False,
    connects: Sequence[list[str]] = (),
    warn: Callable[[str], None] | None = None,
) -> AuditOutcome:
    """Audit a profile file as this person's next audit and store it as their draft."""
    report, profile = score_file(
        path,
        turn.today,
        turn.settings,
        turn.kb,
        force,
        connects,
        warn,
        latest=latest_before(turn.scope, turn.today),
    )
    data = profile.model_dump(mode="json", exclude_none=True)
    row = store(turn.scope, report, data, {})
    return AuditOutcome(row, report)


def store(
    scope: UserScope, report: AuditReport, profile: dict[str, Any], context: dict[str, Any]
) -> AuditRow:
    """Store a scored audit (a draft with its review prompts) and its schedule."""
    result = report.result
    audit = scope.add_audit(
        as_of=result.as_of,
        methodology_version=result.methodology_version,
        knowledge_version=result.knowledge_version,
        overall=result.overall.score,
        profile=profile,
        context=context,
        result=result.model_dump(mode="json"),
        review=[p.model_dump(mode="json") for p in report.review],
        state=report.state,
    )
    schedule = result.schedule
    scope.add_schedule(
        audit, schedule.next_audit, schedule.cadence, [d.isoformat() for d in schedule.micro_audits]
    )
    log.info("audit %s stored (%d review prompts)", audit.id, len(report.review))
    return audit


def rescore(
    turn: Turn,
    audit: AuditRow,
    ratings: Mapping[str, float] | None = None,
    model_facts: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Apply a person's review decisions to the audit's input and score it again on its date.

    A rating sets the skill's value (`reviewed`, a decision; it also replaces their own
    earlier rating); a model fact (model name -> fields such as legal_basis, positive_rate,
    metrics) is recorded on the model it names, metrics added to the ones it had. Answered
    prompts stay as they were answered (an adjustment is never lost, even when the re-scored
    audit would no longer raise it); open ones take their new wording.
    """
    kb = turn.kb
    profile = {k: (dict(v) if isinstance(v, dict) else v) for k, v in audit.profile.items()}
    for key in ("self_ratings", "soft_skills", "reviewed"):
        profile.setdefault(key, {})
    for skill, rating in (ratings or {}).items():
        target = "soft_skills" if kb.skills[skill].pillar == Pillar.CAREER else "self_ratings"
        other = "self_ratings" if target == "soft_skills" else "soft_skills"
        profile[other].pop(skill, None)
        profile[target][skill] = rating
        profile["reviewed"][skill] = rating
    if model_facts:
        profile["models"] = [
            revised_model(m, model_facts[m["name"]]) if m.get("name") in model_facts else m
            for m in profile.get("models", [])
        ]
    kb = knowledge_for(turn.scope, kb)
    report = score(validate_profile(profile, kb), kb, audit.as_of, force=True)
    review = merge_prompts(audit.prompts, report.review)
    turn.scope.update_row(
        audit,
        profile=profile,
        result=report.result.model_dump(mode="json"),
        review=[p.model_dump(mode="json") for p in review],
        overall=report.result.overall.score,
    )


def revised_model(report: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """A model report with facts stated in review; new metrics join the ones it had."""
    revised = {**report, **facts}
    if "metrics" in facts:
        revised["metrics"] = {**(report.get("metrics") or {}), **facts["metrics"]}
    return revised
