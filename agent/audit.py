"""Audits as the engine and the CLI run them: scored result plus rendered review prompts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agent.review import ReviewPrompt, render_prompts
from agent.store import AuditRow, UserScope
from knowledge.base import KnowledgeBase, default_knowledge
from tools.audit import run_audit
from tools.errors import SkillAuditError
from tools.profile import Profile, load_profile
from tools.results import AuditResult, PreviousAudit

__all__ = ["AuditReport", "SkillAuditError", "audit_profile", "audit_profile_file"]


class AuditReport:
    """An audit result with its review prompts; a draft until every prompt is answered."""

    def __init__(self, result: AuditResult, review: list[ReviewPrompt]) -> None:
        self.result = result
        self.review = review

    @property
    def state(self) -> str:
        return "final" if all(p.status != "open" for p in self.review) else "draft"

    def to_dict(self) -> dict[str, Any]:
        data = self.result.model_dump(mode="json")
        data["review"] = [p.model_dump(mode="json") for p in self.review]
        data["state"] = self.state
        return data

    def to_json(self) -> str:
        """Stable JSON: the same input and as-of date give the same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def audit_profile(
    profile: Profile,
    kb: KnowledgeBase,
    as_of: dt.date,
    force: bool = False,
    previous: PreviousAudit | None = None,
) -> AuditReport:
    result = run_audit(profile, kb, as_of, force=force, previous=previous)
    return AuditReport(result, render_prompts(result.review))


def audit_profile_file(
    path: Path,
    as_of: dt.date,
    force: bool = False,
    kb: KnowledgeBase | None = None,
    connects: Sequence[str] = (),
    warn: Callable[[str], None] | None = None,
) -> AuditReport:
    """Load, validate and audit a profile file, with evidence from `connects` specs
    ("github octocat", "income_csv pay.csv"); ProfileError / ConnectorError / AuditRefused on bad input."""
    from agent.connect import run_direct
    from tools.profile import EvidenceInput, ModelReport

    kb = kb or default_knowledge()
    profile = load_profile(path, kb)
    evidence, models = list(profile.evidence), list(profile.models)
    for spec in connects:
        name, result = run_direct(spec, kb, as_of)
        for problem in result.problems:
            if warn is not None:
                warn(f"{name}: {problem}")
        context = {"kb": kb}
        evidence += [
            EvidenceInput.model_validate(
                {**item.model_dump(mode="json", exclude={"origin", "signal"}), "origin": item.origin[:60],
                 "signal": item.signal[:60], "detail": item.detail[:500]},
                context=context,
            )
            for item in result.evidence
        ]  # fmt: skip
        models += [ModelReport.model_validate(m, context=context) for m in result.models]
        demand = result.data.get("demand") if name == "job_postings" else None
        if demand and demand.get("skills"):
            note = f"{demand['postings']} job postings supplied with --connect"
            kb = kb.with_demand(demand["skills"], note, as_of)
    if connects:
        profile = profile.model_copy(update={"evidence": evidence, "models": models})
    return audit_profile(profile, kb, as_of, force)


def save_audit(
    scope: UserScope, report: AuditReport, profile: dict[str, Any], context: dict[str, Any]
) -> AuditRow:
    """Store a scored audit (a draft with its review prompts) and its schedule for one user."""
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
    return audit


def schema_document(name: str) -> dict[str, Any]:
    """JSON Schema of the profile file or of the audit result."""
    if name == "profile":
        from tools.profile import profile_json_schema

        return profile_json_schema()
    return AuditResult.model_json_schema()


def knowledge_table(
    kind: str, kb: KnowledgeBase | None = None
) -> tuple[list[str], list[list[str]]]:
    """Columns and rows listing the known skills, roles or model task types."""
    kb = kb or default_knowledge()
    if kind == "skills":
        return ["id", "name", "pillar", "aliases"], [
            [s.id, s.name, s.pillar.value, ", ".join(s.aliases)] for s in kb.taxonomy.skills
        ]
    if kind == "roles":
        return ["id", "name", "aliases", "skills"], [
            [r.id, r.name, ", ".join(r.aliases), str(len(r.skills))] for r in kb.roles_file.roles
        ]
    return ["id", "name", "metrics"], [
        [t.id, t.name, ", ".join(m.metric for m in t.metrics)] for t in kb.benchmarks_file.tasks
    ]
