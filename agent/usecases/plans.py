"""What should I learn next: recommendations and a dated plan, stored as a draft to review.

From the latest audit's top gaps, from a topic in the person's words, or from a role and
the skills they are strongest in (when there is no audit yet). Every top gap gets a pick or
is named as one nothing in the catalog fits; prerequisites the person lacks come first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.outputs import plan_prompts
from agent.recommend import (
    Advised,
    advise,
    constraints_from,
    next_audit_of,
    plan_start,
    proficiencies,
    targets_for_role,
    targets_for_skills,
    targets_from_audit,
)
from agent.review import ReviewPrompt, merge_prompts
from agent.store import AuditRow, OutputKind, PlanRow
from agent.turn import Turn
from knowledge.retriever import (
    Constraints,
    Plan,
    Recommendation,
    Retriever,
    Target,
    TopicMatch,
)
from tools.errors import KnowledgeError, SkillAuditError
from tools.results import AuditResult

if TYPE_CHECKING:
    from agent.parsing import Money
    from agent.plan_changes import PlanChange  # its parser is not needed to plan

log = logging.getLogger(__name__)


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
    return constraints_from(audit.profile, audit.context, next_audit_of(audit.audit), turn.today)


def plan_for_audit(turn: Turn, audit: AuditRow) -> PlanOutcome | None:
    """Recommendations for an audit's top gaps; None when it found no gap worth closing."""
    targets = targets_from_audit(audit.audit)
    if not targets:
        return None
    return _recommend(turn, targets, _constraints(turn, audit), audit, "")


def plan_for_topic(turn: Turn, topic: str) -> PlanOutcome:
    """Recommendations for a topic in the person's words ("deploy models with Docker"): the
    meaning of the whole request, and for a subject with no skill, the closest skills."""
    retriever = _retriever(turn)
    try:
        match = retriever.understand(topic)
    except KnowledgeError as exc:  # the index server went away after it was opened
        raise RecommendationsUnavailable(
            f"recommendations are unavailable right now: {exc}"
        ) from exc
    skills = (
        match.skills
        + [s for s in match.closest if s not in match.skills][: max(0, 3 - len(match.skills))]
    )
    if not skills:
        raise TopicNotUnderstood(topic)
    latest = turn.scope.latest_audit()
    targets = targets_for_skills(skills, latest.audit if latest else None, turn.kb)
    constraints = _constraints(turn, latest) if latest else Constraints()
    cap = budget_in(topic)
    if cap is not None:  # "... max 100 euros": this question's budget, over the profile's
        constraints = dataclasses.replace(constraints, budget_usd=cap.usd)
    return _recommend(turn, targets, constraints, latest, topic, match)


# A cap said with the question: "max 100 euros", "under $50", "budget of 200".
_CAP = re.compile(
    r"\b(?:max(?:imum)?|under|up to|at most|below|no more than|less than|budget(?: of| is)?|"
    r"(?:with|for) (?:a budget of )?)\s*(?P<amount>[^\s,;?!]*\d[^,;?!]*?)(?=[,;?!]|$|\s(?:and|or|for|in|on)\b)",
    re.IGNORECASE,
)


def budget_in(text: str) -> Money | None:
    """The budget a learning question states, in US dollars (None when it states none)."""
    said = _CAP.search(text)
    if said is None:
        return None
    # Imported here: planning does not load the answer parser unless a budget is said.
    from agent.parsing import Unclear, parse_budget

    try:
        return parse_budget(said.group("amount"))
    except Unclear:
        return None  # "under 2 hours a week" is no budget


def plan_for_role(
    turn: Turn, role: str, strongest: list[str], weekly_hours: float | None
) -> PlanOutcome:
    """Recommendations without an audit: the role's needs, minus what the person is strong in."""
    targets = targets_for_role(role, dict.fromkeys(strongest, 4.0), turn.kb)
    constraints = Constraints(weekly_hours=5.0 if weekly_hours is None else float(weekly_hours))
    return _recommend(turn, targets, constraints, None, "")


def _retriever(
    turn: Turn, targets: list[Target] | None = None, result: AuditResult | None = None
) -> Retriever:
    """The retriever; with `targets`, ready to advise on them without embedding a query
    (the embeddings are made outside the transaction: see `Recommender.ready_for`)."""
    try:
        if targets is None:
            return turn.recommender.retriever()
        return turn.recommender.ready_for(targets, result)
    except (KnowledgeError, OSError) as exc:
        raise RecommendationsUnavailable(
            f"recommendations are unavailable right now: {exc}"
        ) from exc


def _recommend(
    turn: Turn,
    targets: list[Target],
    constraints: Constraints,
    audit: AuditRow | None,
    topic: str,
    match: TopicMatch | None = None,
) -> PlanOutcome:
    result = audit.audit if audit else None
    retriever = _retriever(turn, targets, result)
    try:
        advised = advise(
            retriever, targets, constraints, turn.today, result, query=topic or None, topic=match
        )
    except KnowledgeError as exc:  # the index server went away after it was opened
        raise RecommendationsUnavailable(
            f"recommendations are unavailable right now: {exc}"
        ) from exc
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


# Changes after review ------------------------------------------------------------------------


def refresh_for_audit(turn: Turn, audit: AuditRow) -> bool:
    """Rebuild the audit's plan from its re-scored gaps, in place, while nobody has answered
    any of its prompts (a plan the person already reviewed is theirs and stays); True when
    rebuilt. The recommendations' reasons then quote the adjusted values."""
    row = turn.scope.latest_plan(audit)
    if row is None or any(not p.open for p in row.prompts):
        return False
    targets = targets_from_audit(audit.audit)
    if not targets:
        return False
    try:
        retriever = _retriever(turn)
    except RecommendationsUnavailable:
        log.warning("the plan of audit %s was not rebuilt: no index", audit.id)
        return False
    constraints = _constraints(turn, audit)
    data = advise(retriever, targets, constraints, turn.today, audit.audit).to_dict()
    fresh = plan_prompts(
        data["recommendations"],
        data["plan"],
        constraints.budget_usd,
        next_audit_of(audit.audit),
        turn.today,
    )
    turn.scope.update_row(
        row,
        recommendations=data["recommendations"],
        plan={**data["plan"], "uncovered": data["uncovered"]},
        review=_merged_prompts(row, fresh),
    )
    return True


@dataclass(frozen=True)
class PlanAdjusted:
    """A plan rebuilt after a person's change: what was done, in words, and the new plan."""

    row: PlanRow
    done: list[str]  # "dropped LLMOps", "added Docker Deep Dive (Docker), first", "6 h a week"
    not_done: list[str]  # what could not be done, and why


def adjust_plan(turn: Turn, row: PlanRow, change: PlanChange) -> PlanAdjusted:
    """Drop, swap or add items, put skills first or re-pace the plan, and rebuild it with the
    recommender (what the person took out never comes back in a later rebuild)."""
    retriever = _retriever(turn)
    audit = turn.scope.review_subject(OutputKind.AUDIT, row.audit_id) if row.audit_id else None
    result = audit.audit if isinstance(audit, AuditRow) else None
    stored = dict(row.plan)
    weekly = change.weekly_hours or float(stored.get("weekly_hours") or 5.0)
    base = _constraints(turn, audit) if isinstance(audit, AuditRow) else Constraints()
    constraints = dataclasses.replace(base, weekly_hours=weekly)
    titles = {r["id"]: r["title"] for r in row.recommendations}
    removed = {*stored.get("removed", []), *change.drop, *change.swap}
    done: list[str] = []
    not_done: list[str] = []
    picks: list[Recommendation] = []
    for rec in row.recommendations:
        if rec["id"] in removed:
            continue
        pick = _stored_pick(retriever, rec, weekly)
        if pick is None:
            not_done.append(f"{rec['title']} is no longer in the catalog, so it is left out")
            continue
        picks.append(pick)
    done += [f"dropped {titles[r]}" for r in change.drop if r in titles]
    wanted = [
        (next(r["for_skill"] for r in row.recommendations if r["id"] == rid), titles[rid])
        for rid in change.swap
        if rid in titles
    ] + [(skill, None) for skill in change.add]
    for skill, replaced in wanted:
        if replaced is None and any(p.skill == skill for p in picks):
            continue  # the plan already has an item for it
        taken = removed | {p.resource.id for p in picks}
        found = _another_pick(retriever, skill, constraints, result, taken, turn)
        name = turn.kb.skills[skill].name
        if found is None:
            not_done.append(
                f"nothing else in the catalog fits {name} within your constraints"
                + (f", so {replaced} stays out" if replaced else "")
            )
            continue
        picks.append(found)
        done.append(
            f"swapped {replaced} for {found.resource.title}"
            if replaced
            else f"added {found.resource.title} ({name})"
        )
    first = [s for s in change.first if any(p.skill == s for p in picks)]
    if first:
        done.append("put " + ", ".join(turn.kb.skills[s].name for s in first) + " first")
    if change.weekly_hours is not None:
        done.append(
            f"paced at {weekly:g} h a week (was {float(stored.get('weekly_hours') or 0):g})"
        )
    next_audit = next_audit_of(result)
    plan = _dated(retriever, picks, constraints, turn.today, result, first)
    recommendations = [p.to_dict() for p in picks]
    data = plan.to_dict()
    fresh = plan_prompts(recommendations, data, constraints.budget_usd, next_audit, turn.today)
    turn.scope.update_row(
        row,
        recommendations=recommendations,
        plan={
            **data,
            "uncovered": stored.get("uncovered", []),
            "removed": sorted(removed),
            "changes": [*stored.get("changes", []), *done],
        },
        review=_merged_prompts(row, fresh),
    )
    return PlanAdjusted(row, done, not_done)


def _merged_prompts(row: PlanRow, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prompts = merge_prompts(row.prompts, [ReviewPrompt.model_validate(p) for p in fresh])
    return [p.model_dump(mode="json") for p in prompts]


_PACE = re.compile(r"\(~\d+ weeks? at [\d.]+ h/week\)")


def _stored_pick(retriever: Retriever, rec: dict[str, Any], weekly: float) -> Recommendation | None:
    """A stored recommendation as a pick again, its reason re-paced; None when the catalog
    no longer has it."""
    resource = retriever.catalog.resources.get(rec["id"])
    if resource is None:
        return None
    weeks = max(1, math.ceil(resource.hours / max(weekly, 0.5)))
    pace = f"(~{weeks} week{'s' if weeks != 1 else ''} at {weekly:g} h/week)"
    return Recommendation(
        resource=resource,
        score=float(rec.get("score") or 0.0),
        similarity=0.0,
        skill=rec["for_skill"],
        reason=_PACE.sub(pace, rec.get("reason") or ""),
        over_budget=bool(rec.get("over_budget")),
        role=rec.get("role") or "gap",
        also_for=tuple(rec.get("also_for") or ()),
    )


def _another_pick(
    retriever: Retriever,
    skill: str,
    constraints: Constraints,
    result: AuditResult | None,
    taken: set[str],
    turn: Turn,
) -> Recommendation | None:
    """The recommender's best pick for `skill` that is not in `taken`."""
    [target] = targets_for_skills([skill], result, turn.kb)
    advice = retriever.advise(
        [target], constraints, limit=len(taken) + 3, known=proficiencies(result)
    )
    return next(
        (
            dataclasses.replace(p, role="gap")
            for p in advice.picks
            if p.resource.id not in taken and p.role != "prerequisite"
        ),
        None,
    )


def _dated(
    retriever: Retriever,
    picks: list[Recommendation],
    constraints: Constraints,
    today: dt.date,
    result: AuditResult | None,
    first: list[str],
) -> Plan:
    """The dated plan; items for the `first` skills come before the rest."""
    known = proficiencies(result)
    next_audit = next_audit_of(result)
    start = plan_start(today)
    head = [p for p in picks if p.skill in first]
    rest = [p for p in picks if p.skill not in first]
    if not head or not rest:
        return retriever.plan(picks, constraints, start, known, next_audit)
    early = retriever.plan(head, constraints, start, known, None)
    assert early.end is not None  # a plan of picks has items
    late = retriever.plan(rest, constraints, early.end + dt.timedelta(days=1), known, next_audit)
    # The shorter alternative of the later part alone would mislead; its notes go with it.
    notes = [n for n in late.notes if "shorter" not in n and "first item" not in n]
    return Plan(
        items=[*early.items, *late.items],
        weekly_hours=late.weekly_hours,
        notes=[*early.notes, *notes],
        next_audit=next_audit,
    )
