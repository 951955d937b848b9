"""What should I learn next: recommendations and a dated plan, stored as a draft to review.

From the latest audit's top gaps, from a topic in the person's words, or from a role and
the skills they are strongest in (when there is no audit yet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from agent.outputs import plan_prompts
from agent.recommend import (
    constraints_from,
    make_plan,
    targets_for_role,
    targets_for_skills,
    targets_from_audit,
)
from agent.store import AuditRow, PlanRow
from agent.turn import Turn
from knowledge.retriever import Constraints, Plan, Recommendation, Target
from tools.errors import KnowledgeError, SkillAuditError


class RecommendationsUnavailable(SkillAuditError):
    """The vector index could not be opened or built."""


class TopicNotUnderstood(SkillAuditError):
    """A topic that names no skill SkillAudit knows."""


@dataclass(frozen=True)
class PlanOutcome:
    """Recommendations for some target skills and the stored draft plan made from them."""

    targets: list[Target]
    picks: list[Recommendation]
    plan: Plan
    row: PlanRow
    audit: AuditRow | None
    topic: str

    @property
    def data(self) -> dict[str, Any]:
        """The JSON payload scripts get (`skillaudit next --json`)."""
        return {
            "skills": [t.skill for t in self.targets],
            "recommendations": self.row.recommendations,
            "plan": self.row.plan,
        }


def plan_for_audit(turn: Turn, audit: AuditRow) -> PlanOutcome | None:
    """Recommendations for an audit's top gaps; None when it found no gap worth closing."""
    targets = targets_from_audit(audit.result)
    if not targets:
        return None
    return _recommend(turn, targets, constraints_from(audit.profile, audit.context), audit, "")


def plan_for_topic(turn: Turn, topic: str) -> PlanOutcome:
    """Recommendations for a topic in the person's words ("deploy models with Docker")."""
    retriever = _retriever(turn)
    skills = retriever.match_skills(topic)
    if not skills:
        raise TopicNotUnderstood(topic)
    latest = turn.scope.latest_audit()
    targets = targets_for_skills(skills, latest.result if latest else None, turn.kb)
    constraints = constraints_from(latest.profile, latest.context) if latest else Constraints()
    return _recommend(turn, targets, constraints, latest, topic)


def plan_for_role(
    turn: Turn, role: str, strongest: list[str], weekly_hours: float | None
) -> PlanOutcome:
    """Recommendations without an audit: the role's needs, minus what the person is strong in."""
    targets = targets_for_role(role, dict.fromkeys(strongest, 4.0), turn.kb)
    constraints = Constraints(weekly_hours=5.0 if weekly_hours is None else float(weekly_hours))
    return _recommend(turn, targets, constraints, None, "")


def _retriever(turn: Turn) -> Any:
    try:
        return turn.recommender.retriever()
    except (KnowledgeError, OSError) as exc:
        raise RecommendationsUnavailable(
            f"recommendations are unavailable right now: {exc}"
        ) from exc


def _recommend(
    turn: Turn, targets: list[Target], constraints: Constraints, audit: AuditRow | None, topic: str
) -> PlanOutcome:
    retriever = _retriever(turn)
    picks = retriever.recommend(targets, constraints, query=topic or None)
    plan = make_plan(retriever, picks, constraints, turn.today, audit.result if audit else None)
    recommendations = [p.to_dict() for p in picks]
    dumped = plan.to_dict()
    next_audit: dt.date | None = audit.audit.schedule.next_audit if audit else None
    review = plan_prompts(recommendations, dumped, constraints.budget_usd, next_audit, turn.today)
    row = turn.scope.add_plan(
        audit_id=audit.id if audit else None,
        query=topic,
        recommendations=recommendations,
        plan=dumped,
        review=review,
    )
    return PlanOutcome(targets, picks, plan, row, audit, topic)
