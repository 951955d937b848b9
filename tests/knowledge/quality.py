"""Measures of recommendation quality on the hand-labelled queries and person profiles.

Shared by tests/knowledge/test_fit.py (which asserts floors) and bench/bench_retrieval.py
(which reports the figures in bench/RESULTS.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.retriever import Constraints, Recommendation, Retriever, Target
from knowledge.schema import Level

HERE = Path(__file__).parent
QUERIES: list[dict[str, Any]] = yaml.safe_load((HERE / "queries.yaml").read_text())
PROFILES: list[dict[str, Any]] = yaml.safe_load((HERE / "profiles.yaml").read_text())
START = dt.date(2026, 11, 30)  # a Monday


@dataclass(frozen=True)
class Quality:
    skill_hit_at_3: float  # queries whose expected skills (or, for a missing topic, the
    # closest offered) meet the matched ones
    recall_at_3: float  # share of a query's expected skills taught by its top three picks
    level_fit: float  # picks at a level that suits the person (or the level they asked for)
    prerequisite_violations: int  # plan items whose missing prerequisite is not scheduled first
    stability: float  # gaps whose pick stays the same when another gap changes or goes
    # (a pick that also teaches the gap that went may change)
    coverage: float  # top-five gaps with a pick or a plain "nothing fits"
    expert_agreement: float  # gaps whose pick is one the hand-written expert list accepts
    queries: int
    profiles: int

    def rows(self) -> list[tuple[str, float]]:
        return [
            ("skill hit@3", self.skill_hit_at_3),
            ("recall@3", self.recall_at_3),
            ("level fit", self.level_fit),
            ("prerequisite violations", float(self.prerequisite_violations)),
            ("stability under unrelated changes", self.stability),
            ("top-five gap coverage", self.coverage),
            ("expert agreement", self.expert_agreement),
        ]


def profile_inputs(profile: dict[str, Any]) -> tuple[list[Target], Constraints, dict[str, float]]:
    """The targets (most severe first), constraints and known proficiencies of a profile."""
    targets = []
    for rank, gap in enumerate(profile["gaps"]):
        demand = float(gap["demand"])
        proficiency = float(gap["proficiency"])
        targets.append(
            Target(
                skill=gap["skill"],
                weight=round(1.0 - 0.1 * rank, 2),
                proficiency=proficiency,
                demand=demand,
                gap=round((demand - proficiency) / demand, 4),
            )
        )
    constraints = Constraints(
        weekly_hours=float(profile["weekly_hours"]),
        budget_usd=None if profile["budget_usd"] is None else float(profile["budget_usd"]),
        formats=tuple(profile["formats"]),
        horizon_weeks=float(profile["next_audit_weeks"]),
    )
    known = {k: float(v) for k, v in profile["known"].items()}
    known.update({t.skill: float(t.proficiency or 0.0) for t in targets})
    return targets, constraints, known


def primary_picks(picks: list[Recommendation]) -> dict[str, str]:
    """Each gap's own pick (not prerequisites or second picks): gap skill -> resource id."""
    found: dict[str, str] = {}
    for pick in picks:
        if pick.role == "gap":
            for skill in (pick.skill, *pick.also_for):
                found.setdefault(skill, pick.resource.id)
    return found


def prerequisite_violations(retriever: Retriever, profile: dict[str, Any]) -> int:
    """Plan items (of the plan and of its shorter alternative) that build on a skill the
    person lacks with nothing earlier in the plan teaching it."""
    targets, constraints, known = profile_inputs(profile)
    advice = retriever.advise(targets, constraints, known=known)
    next_audit = START + dt.timedelta(weeks=constraints.horizon_weeks)
    plan = retriever.plan(advice.picks, constraints, START, known, next_audit)
    violations = 0
    for items in [plan.items, plan.shorter.items if plan.shorter else []]:
        for index, item in enumerate(items):
            earlier = items[:index]
            for entry in item.resource.prerequisites:
                skill = (
                    entry
                    if entry in retriever.kb.skills
                    else retriever.catalog.resources[entry].skills[0]
                )
                if known.get(skill, 100.0) >= 40:
                    continue
                taught = any(
                    e.resource.id == entry or skill in (e.skill, *e.resource.skills[:2])
                    for e in earlier
                )
                violations += not taught
    return violations


def measure(retriever: Retriever) -> Quality:
    """Every measure over the labelled queries and profiles."""
    hits = recall = 0.0
    level_ok = level_total = 0
    for row in QUERIES:
        expected = set(row["skills"])
        match = retriever.understand(row["q"])
        if row.get("missing"):
            offered = set(match.closest) | set(match.skills)
            hits += match.missing is not None and (not expected or bool(expected & offered))
            continue
        hits += bool(expected & set(match.skills))
        targets = [Target(skill=s, weight=1.0 - 0.1 * i) for i, s in enumerate(match.skills)]
        picks = retriever.recommend(targets, Constraints(), query=row["q"]) if targets else []
        taught = {s for p in picks[:3] for s in p.resource.skills}
        recall += len(expected & taught) / len(expected)
        if row.get("level"):
            level_total += len(picks)
            level_ok += sum(p.resource.level.value == row["level"] for p in picks)
    answered = sum(not row.get("missing") for row in QUERIES)
    violations = 0
    stable = stable_total = covered = gaps_total = agree = 0
    for profile in PROFILES:
        targets, constraints, known = profile_inputs(profile)
        advice = retriever.advise(targets, constraints, known=known)
        by_skill = {t.skill: t for t in targets}
        for pick in advice.picks:
            target = by_skill.get(pick.skill)
            # The levels offered (a beginner may get intermediate material mainly about a
            # skill no beginner resource is about; the pick says so).
            wanted = (
                (Level.BEGINNER,)
                if target is None
                else retriever.levels_offered(target, constraints)
            )
            level_total += 1
            level_ok += pick.resource.level in wanted or pick.role == "prerequisite"
        primary = primary_picks(advice.picks)
        nothing = {u.skill for u in advice.uncovered}
        experts = {g["skill"]: set(g["expert"]) for g in profile["gaps"]}
        for target in targets[:5]:
            gaps_total += 1
            covered += target.skill in primary or target.skill in nothing
            agree += primary.get(target.skill) in experts[target.skill]
        violations += prerequisite_violations(retriever, profile)
        for changed in targets:
            others = [t for t in targets if t is not changed]
            # The gap adjusted away (only a pick that also teaches it may change: it no longer
            # closes two gaps at once), and a new order.
            variants = [others, [*others, changed][::-1]]
            if not _related(retriever, changed.skill, others):
                moved = dataclasses.replace(
                    changed, proficiency=min(100.0, (changed.proficiency or 0) + 40)
                )
                variants.append([moved if t is changed else t for t in targets])
            for variant in variants:
                after = primary_picks(retriever.advise(variant, constraints, known=known).picks)
                stable_total += 1
                stable += all(
                    after.get(t.skill) == primary.get(t.skill)
                    or (variant is others and _teaches(retriever, primary.get(t.skill), changed))
                    for t in others
                )
    return Quality(
        skill_hit_at_3=hits / len(QUERIES),
        recall_at_3=recall / max(1, answered),
        level_fit=level_ok / max(1, level_total),
        prerequisite_violations=violations,
        stability=stable / max(1, stable_total),
        coverage=covered / max(1, gaps_total),
        expert_agreement=agree / max(1, gaps_total),
        queries=len(QUERIES),
        profiles=len(PROFILES),
    )


def _teaches(retriever: Retriever, resource_id: str | None, target: Target) -> bool:
    resource = retriever.catalog.resources.get(resource_id or "")
    return resource is not None and target.skill in resource.skills


def _related(retriever: Retriever, skill: str, targets: list[Target]) -> bool:
    """True when `skill` is a prerequisite of, or taught alongside the target by, some resource
    teaching one of the targets: a change to it may rightly change their picks, so it is not
    an unrelated change."""
    for target in targets:
        for resource in retriever.catalog.covering(target.skill):
            if skill in resource.skills:
                return True
            for entry in resource.prerequisites:
                named = retriever.catalog.resources.get(entry)
                if entry == skill or (named is not None and named.skills[0] == skill):
                    return True
    return False
