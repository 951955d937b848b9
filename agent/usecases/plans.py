"""What should I learn next: recommendations and a dated plan, stored as a draft to review.

From the latest audit's top gaps, from a topic in the person's words, or from a role and
the skills they are strongest in (when there is no audit yet). Every top gap gets a pick or
is named as one nothing in the catalog fits; prerequisites the person lacks come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.outputs import plan_prompts
from agent.recommend import (
    Advised,
    advise,
    constraints_from,
    next_audit_of,
    targets_for_role,
    targets_for_skills,
    targets_from_audit,
)
from agent.store import AuditRow, PlanRow
from agent.turn import Turn
from knowledge.retriever import Constraints, Retriever, Target, TopicMatch
from tools.errors import KnowledgeError, SkillAuditError


class RecommendationsUnavailable(SkillAuditError):
    """The vector index could not be opened or built."""


class TopicNotUnderstood(SkillAuditError):
    """A topic that names no skill SkillAudit knows, and is close to none."""


@dataclass(frozen=True)
class PlanOutcome:
    """Recommendations for some target skills and the stored draft plan made from them."""

    advised: Advised
    row: PlanRow
    audit: AuditRow | None
    topic: str  # the person's words, for a topic question

    @property
    def targets(self) -> list[Target]:
        return self.advised.targets

    @property
    def missing(self) -> str | None:
        """A subject the taxonomy has no skill for (the picks are for the closest skills)."""
        match = self.advised.topic
        return None if match is None else match.missing

    @property
    def data(self) -> dict[str, Any]:
        """The JSON payload scripts get (`skillaudit next --json`)."""
        return self.advised.to_dict()


def _constraints(turn: Turn, audit: AuditRow) -> Constraints:
    """The person's learning constraints, with items sized to fit before their next audit."""
    return constraints_from(audit.profile, audit.context, next_audit_of(audit.result), turn.today)


def plan_for_audit(turn: Turn, audit: AuditRow) -> PlanOutcome | None:
    """Recommendations for an audit's top gaps; None when it found no gap worth closing."""
    targets = targets_from_audit(audit.result)
    if not targets:
        return None
    return _recommend(turn, targets, _constraints(turn, audit), audit, "")


def plan_for_topic(turn: Turn, topic: str) -> PlanOutcome:
    """Recommendations for a topic in the person's words ("deploy models with Docker"): the
    meaning of the whole request, and for a subject with no skill, the closest skills."""
    retriever = _retriever(turn)
    match = retriever.understand(topic)
    skills = match.skills + [s for s in match.closest if s not in match.skills][
        : max(0, 3 - len(match.skills))
    ]
    if not skills:
        raise TopicNotUnderstood(topic)
    latest = turn.scope.latest_audit()
    targets = targets_for_skills(skills, latest.result if latest else None, turn.kb)
    constraints = _constraints(turn, latest) if latest else Constraints()
    return _recommend(turn, targets, constraints, latest, topic, match)


def plan_for_role(
    turn: Turn, role: str, strongest: list[str], weekly_hours: float | None
) -> PlanOutcome:
    """Recommendations without an audit: the role's needs, minus what the person is strong in."""
    targets = targets_for_role(role, dict.fromkeys(strongest, 4.0), turn.kb)
    constraints = Constraints(weekly_hours=5.0 if weekly_hours is None else float(weekly_hours))
    return _recommend(turn, targets, constraints, None, "")


def _retriever(
    turn: Turn, targets: list[Target] | None = None, result: dict[str, Any] | None = None
) -> Retriever:
    """The retriever; with `targets`, ready to advise on them without embedding a query
    (the embeddings are made outside the transaction: see `Recommender.ready_for`)."""
    try:
        if targets is None:
            return turn.recommender.retriever()
        return turn.recommender.ready_for(targets, result)
    except (KnowledgeError, OSError) as exc:
        raise RecommendationsUnavailable(f"recommendations are unavailable right now: {exc}") from exc


def _recommend(
    turn: Turn,
    targets: list[Target],
    constraints: Constraints,
    audit: AuditRow | None,
    topic: str,
    match: TopicMatch | None = None,
) -> PlanOutcome:
    result = audit.result if audit else None
    retriever = _retriever(turn, targets, result)
    advised = advise(
        retriever, targets, constraints, turn.today, result, query=topic or None, topic=match
    )
    data = advised.to_dict()
    next_audit = next_audit_of(result)
    review = plan_prompts(
        data["recommendations"], data["plan"], constraints.budget_usd, next_audit, turn.today
    )
    row = turn.scope.add_plan(
        audit_id=audit.id if audit else None,
        query=topic,
        recommendations=data["recommendations"],
        plan={**data["plan"], "uncovered": data["uncovered"]},  # gaps nothing fits, said plainly
        review=review,
    )
    return PlanOutcome(advised, row, audit, topic)
