"""A dated learning plan: prerequisites first, short beginner items early, paced at the
person's weekly hours, with a shorter alternative when it would run past the next audit."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from knowledge.schema import Level, Resource

if TYPE_CHECKING:
    from knowledge.retriever import Recommendation

LEVEL_ORDER = [Level.BEGINNER, Level.INTERMEDIATE, Level.ADVANCED]
DEFAULT_WEEKLY_HOURS = 3.0


@dataclass(frozen=True)
class PlanItem:
    resource: Resource
    start: dt.date
    end: dt.date
    hours: float
    skill: str
    role: str = "gap"  # "gap", "prerequisite" or "extra" (see Recommendation.role)


@dataclass(frozen=True)
class Plan:
    items: list[PlanItem]
    weekly_hours: float
    notes: list[str] = field(default_factory=list)
    next_audit: dt.date | None = None
    shorter: Plan | None = None  # offered when this plan runs past the next audit
    left_out: list[str] = field(default_factory=list)  # titles a shorter plan leaves for later

    @property
    def end(self) -> dt.date | None:
        return self.items[-1].end if self.items else None

    @property
    def runs_past_next_audit(self) -> bool:
        return self.next_audit is not None and self.end is not None and self.end > self.next_audit

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekly_hours": self.weekly_hours,
            "notes": self.notes,
            "items": [
                {"id": i.resource.id, "title": i.resource.title, "url": str(i.resource.url), "skill": i.skill,
                 "start": i.start.isoformat(), "end": i.end.isoformat(), "hours": i.hours,
                 "level": i.resource.level.value, "role": i.role}
                for i in self.items
            ],
            "end": None if self.end is None else self.end.isoformat(),
            "next_audit": None if self.next_audit is None else self.next_audit.isoformat(),
            "runs_past_next_audit": self.runs_past_next_audit,
            "left_out": self.left_out,
            "shorter": None if self.shorter is None else self.shorter.to_dict(),
        }  # fmt: skip


def build_plan(
    picks: Sequence[Recommendation],
    weekly_hours: float,
    start: dt.date,
    lacks: Callable[[Resource], list[str]],
    next_audit: dt.date | None = None,
) -> Plan:
    """Order the picks (prerequisites first, then short beginner items, then by gap) and date
    them at `weekly_hours`; offer a shorter plan when this one ends after `next_audit`."""
    notes = []
    weekly = weekly_hours
    if weekly <= 0:
        weekly = DEFAULT_WEEKLY_HOURS
        notes.append(
            f"No weekly learning time was given; the plan assumes {weekly:g} hours a week."
        )
    ordered = order_picks(list(picks), weekly, lacks)
    items = _dated(ordered, weekly, start)
    plan = Plan(items=items, weekly_hours=weekly, notes=notes, next_audit=next_audit)
    if not plan.runs_past_next_audit or next_audit is None:
        return plan
    shorter = _shorter(ordered, weekly, start, next_audit, lacks)
    assert plan.end is not None  # a plan that runs past a date has items
    notes.append(
        f"At {weekly:g} h a week this plan ends on {plan.end.isoformat()}, after your next audit on "
        f"{next_audit.isoformat()}."
    )
    if shorter.items:
        notes.append(
            f"A shorter plan that ends by {next_audit.isoformat()} is offered below; it leaves "
            f"{len(shorter.left_out)} item{'s' if len(shorter.left_out) != 1 else ''} for after the audit."
        )
    else:
        notes.append(
            "Even the first item takes longer than the time left before that audit; more hours a "
            "week, or a later audit, would let you finish it."
        )
    return Plan(
        items=items,
        weekly_hours=weekly,
        notes=notes,
        next_audit=next_audit,
        shorter=shorter if shorter.items else None,
    )


def order_picks(
    picks: list[Recommendation], weekly: float, lacks: Callable[[Resource], list[str]]
) -> list[Recommendation]:
    """Topological order: a pick another one builds on comes first; among the ready ones,
    short beginner items, then by the rank of their gap, then shorter first."""
    rank: dict[str, int] = {}
    for pick in picks:
        rank.setdefault(pick.skill, len(rank))

    def key(pick: Recommendation) -> tuple[int, int, int, float, str]:
        short = 0 if pick.resource.hours <= 2 * weekly else 1
        level = LEVEL_ORDER.index(pick.resource.level)
        return (level, short, rank[pick.skill], pick.resource.hours, pick.resource.id)

    ordered: list[Recommendation] = []
    remaining = list(picks)
    while remaining:
        ready = [
            p for p in remaining if not any(builds_on(p, q, lacks) for q in remaining if q is not p)
        ]
        step = min(ready or remaining, key=key)  # a cycle: fall back to the key order
        ordered.append(step)
        remaining.remove(step)
    return ordered


def builds_on(
    later: Recommendation, earlier: Recommendation, lacks: Callable[[Resource], list[str]]
) -> bool:
    """True when `later` names `earlier` as a prerequisite, or needs a skill the person lacks
    that `earlier` teaches."""
    if earlier.resource.id in later.resource.prerequisites:
        return True
    needed = set(lacks(later.resource))
    return bool(needed & ({earlier.skill} | set(earlier.resource.skills[:2])))


def _dated(ordered: Sequence[Recommendation], weekly: float, start: dt.date) -> list[PlanItem]:
    items = []
    day = start
    for pick in ordered:
        days = max(1, math.ceil(pick.resource.hours / weekly * 7))
        end = day + dt.timedelta(days=days - 1)
        items.append(PlanItem(pick.resource, day, end, pick.resource.hours, pick.skill, pick.role))
        day = end + dt.timedelta(days=1)
    return items


def _shorter(
    ordered: list[Recommendation],
    weekly: float,
    start: dt.date,
    next_audit: dt.date,
    lacks: Callable[[Resource], list[str]],
) -> Plan:
    """Keep what fits before the audit; swap a long item for a shorter alternative of the same
    skill, or leave it (and what builds on it) for after the audit."""
    left = ((next_audit - start).days + 1) * weekly / 7
    kept: list[Recommendation] = []
    dropped: list[Recommendation] = []
    swapped: Mapping[str, str] = {}
    replaced: set[str] = set()
    notes: list[str] = []
    for pick in ordered:
        needs_replaced = bool(replaced & set(pick.resource.prerequisites))
        if needs_replaced or any(builds_on(pick, d, lacks) for d in dropped):
            dropped.append(pick)
            continue
        if _hours_in_days(pick.resource.hours, weekly) <= left:
            kept.append(pick)
            left -= _hours_in_days(pick.resource.hours, weekly)
            continue
        shorter = next(
            (
                alt
                for alt in pick.alternatives
                if _hours_in_days(alt.hours, weekly) <= left and not lacks(alt)
            ),
            None,
        )
        if shorter is None:
            dropped.append(pick)
            continue
        replacement = pick.with_resource(shorter)
        kept.append(replacement)
        left -= _hours_in_days(shorter.hours, weekly)
        swapped = {**swapped, pick.resource.title: shorter.title}
        replaced.add(pick.resource.id)
    for long, short in swapped.items():
        notes.append(f'"{short}" replaces "{long}", which needs more time than is left.')
    left_out = [f"{p.resource.title} ({p.resource.hours:g} h)" for p in dropped]
    if left_out:
        notes.append("Left for after the audit: " + "; ".join(left_out) + ".")
    return Plan(
        items=_dated(kept, weekly, start),
        weekly_hours=weekly,
        notes=notes,
        next_audit=next_audit,
        left_out=left_out,
    )


def _hours_in_days(hours: float, weekly: float) -> float:
    """Hours an item takes on the calendar, counted in whole days as `_dated` schedules it."""
    return max(1, math.ceil(hours / weekly * 7)) * weekly / 7
