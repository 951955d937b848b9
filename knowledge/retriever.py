"""Hybrid retrieval of learning resources and a dated learning plan.

Candidates come from Chroma (vector similarity to the query, filtered on the gap skills and
on hard constraints such as language and budget); a deterministic ranking then weighs gap
severity, similarity and fit with the person's constraints, and keeps the top picks diverse.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog
from knowledge.index import VectorIndex
from knowledge.schema import Format, Level, Resource, normalize_name

W_GAP, W_SIMILARITY, W_FIT = 0.45, 0.35, 0.20
SAME_PROVIDER_PENALTY = 0.12
SAME_SKILL_PENALTY = 0.25
SAME_SKILL_PENALTY_TOPIC = 0.05
SKILL_MATCH_THRESHOLD = 0.80
CANDIDATES = 60


@dataclass(frozen=True)
class Target:
    """A skill to learn, how much it matters, and where the person stands."""

    skill: str
    weight: float  # relative importance, e.g. audit severity; the largest target gets 1
    proficiency: float | None = None
    demand: float | None = None
    gap: float | None = None


@dataclass(frozen=True)
class Constraints:
    weekly_hours: float = 5.0
    budget_usd: float | None = None  # None: no budget given
    formats: tuple[str, ...] = ()
    language: str = "en"


@dataclass(frozen=True)
class Recommendation:
    resource: Resource
    score: float
    similarity: float
    skill: str  # the target skill it serves
    reason: str
    over_budget: bool = False

    def to_dict(self) -> dict[str, Any]:
        r = self.resource
        return {
            "id": r.id, "title": r.title, "provider": r.provider, "url": str(r.url), "type": r.type.value,
            "skills": r.skills, "for_skill": self.skill, "level": r.level.value, "hours": r.hours,
            "cost_usd": r.cost_usd, "cost_note": r.cost_note, "format": r.format.value,
            "score": round(self.score, 4), "reason": self.reason, "over_budget": self.over_budget,
        }  # fmt: skip


@dataclass(frozen=True)
class PlanItem:
    resource: Resource
    start: dt.date
    end: dt.date
    hours: float
    skill: str


@dataclass(frozen=True)
class Plan:
    items: list[PlanItem]
    weekly_hours: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekly_hours": self.weekly_hours,
            "notes": self.notes,
            "items": [
                {"id": i.resource.id, "title": i.resource.title, "url": str(i.resource.url), "skill": i.skill,
                 "start": i.start.isoformat(), "end": i.end.isoformat(), "hours": i.hours}
                for i in self.items
            ],
        }  # fmt: skip


def wanted_level(proficiency: float | None) -> Level:
    if proficiency is None or proficiency < 35:
        return Level.BEGINNER
    if proficiency < 65:
        return Level.INTERMEDIATE
    return Level.ADVANCED


LEVEL_ORDER = [Level.BEGINNER, Level.INTERMEDIATE, Level.ADVANCED]


def fit(resource: Resource, target: Target, constraints: Constraints) -> float:
    """0..1: level matches where the person stands, format is one they like, size fits their time."""
    distance = abs(
        LEVEL_ORDER.index(resource.level) - LEVEL_ORDER.index(wanted_level(target.proficiency))
    )
    level = 1.0 - 0.5 * distance
    formats = (
        1.0 if not constraints.formats or resource.format.value in constraints.formats else 0.5
    )
    weeks = resource.hours / max(constraints.weekly_hours, 0.5)
    size = 1.0 if weeks <= 4 else max(0.2, 4 / weeks)
    return (level + formats + size) / 3


class Retriever:
    """Everything retrieval needs, passed in: knowledge, catalog and a synced vector index."""

    def __init__(self, kb: KnowledgeBase, catalog: Catalog, index: VectorIndex) -> None:
        self.kb = kb
        self.catalog = catalog
        self.index = index
        self._skill_stems = {
            s.id: (_stems(" ".join([s.name, *s.aliases])), _stems(s.description))
            for s in kb.taxonomy.skills
        }

    # Skills from free text -------------------------------------------------------------------

    def match_skills(self, text: str, limit: int = 3) -> list[str]:
        """Skills a question is about: names and aliases written in it, then nearest by meaning."""
        found: list[str] = []
        words = re.findall(r"[\w+#./-]+", text.lower())
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if len(normalize_name(phrase)) < 2 or phrase in STOP_PHRASES:
                    continue
                skill = self.kb.resolve_skill(phrase)
                if skill is not None and skill.id not in found:
                    found.append(skill.id)
        if len(found) < limit:
            ranked = self.skills_by_meaning(text, limit * 4)
            best = ranked[0][1] if ranked else 0.0
            for skill_id, score in ranked[:limit]:
                if score >= max(SKILL_MATCH_THRESHOLD, best - 0.03) and skill_id not in found:
                    found.append(skill_id)
        return found[:limit]

    def skills_by_meaning(self, text: str, limit: int) -> list[tuple[str, float]]:
        """Vector similarity to each skill's text, nudged by shared word stems (hybrid)."""
        words = _stems(text)
        ranked = []
        for skill_id, similarity in self.index.search_skills(self.index.embed_query(text), limit):
            lexical = 0.0
            if words:
                names, described = self._skill_stems[skill_id]
                lexical = sum(
                    1.0 if w in names else 0.4 if w in described else 0.0 for w in words
                ) / len(words)
            ranked.append((skill_id, similarity + LEXICAL_WEIGHT * lexical))
        return sorted(ranked, key=lambda row: (-row[1], row[0]))

    # Recommendations -------------------------------------------------------------------------

    def recommend(
        self,
        targets: Sequence[Target],
        constraints: Constraints,
        query: str | None = None,
        limit: int = 3,
    ) -> list[Recommendation]:
        """The best `limit` resources for the targets, diverse, each with its reason.

        Gap-driven picks spread over the targets (one gap each first); picks for a question
        (`query`) stay closer to it and only avoid repeating a provider.
        """
        if not targets:
            return []
        top = max(t.weight for t in targets) or 1.0
        by_skill = {t.skill: t for t in targets}
        text = query or "learn " + ", ".join(self.kb.skills[t.skill].name for t in targets[:3])
        embedding = self.index.embed_query(text)
        skill_filter: dict[str, Any] = (
            {f"s_{targets[0].skill}": True}
            if len(targets) == 1
            else {"$or": [{f"s_{t.skill}": True} for t in targets]}
        )
        hard = [skill_filter, {"language": constraints.language}]
        over_budget = False
        candidates = []
        if constraints.budget_usd is not None:
            within = {"$and": [*hard, {"cost_usd": {"$lte": constraints.budget_usd}}]}
            candidates = self.index.search_resources(embedding, CANDIDATES, within)
        if len({rid for rid, _ in candidates}) < limit:
            over_budget = constraints.budget_usd is not None
            seen = {rid for rid, _ in candidates}
            extra = self.index.search_resources(embedding, CANDIDATES, {"$and": hard})
            candidates += [c for c in extra if c[0] not in seen]
        # e5 similarities crowd into a narrow band; rescale them across the candidates.
        low = min((sim for _, sim in candidates), default=0.0)
        high = max((sim for _, sim in candidates), default=1.0)
        spread = (high - low) or 1.0
        scored = []
        for resource_id, similarity in candidates:
            resource = self.catalog.resources.get(resource_id)
            if resource is None:
                continue
            served = [by_skill[s] for s in resource.skills if s in by_skill]
            if not served:
                continue
            target = max(served, key=lambda t: (t.weight, t.skill))
            score = (
                W_GAP * target.weight / top
                + W_SIMILARITY * (similarity - low) / spread
                + W_FIT * fit(resource, target, constraints)
                + 0.02 * (len(served) - 1)
            )
            beyond = (
                constraints.budget_usd is not None and resource.cost_usd > constraints.budget_usd
            )
            scored.append((score, similarity, resource, target, beyond and over_budget))
        scored.sort(key=lambda row: (-row[0], row[2].id))
        skill_penalty = SAME_SKILL_PENALTY if query is None else SAME_SKILL_PENALTY_TOPIC
        return [self._explain(row, constraints) for row in _diverse(scored, limit, skill_penalty)]

    def _explain(
        self, row: tuple[float, float, Resource, Target, bool], constraints: Constraints
    ) -> Recommendation:
        score, similarity, resource, target, beyond = row
        name = self.kb.skills[target.skill].name
        if target.gap is not None and target.proficiency is not None and target.demand is not None:
            why = f"for your {name} gap ({target.proficiency:.0f} now, demand {target.demand:.0f})"
        else:
            why = f"for {name}"
        weeks = max(1, math.ceil(resource.hours / max(constraints.weekly_hours, 0.5)))
        cost = "free" if resource.free else f"about ${resource.cost_usd:,.0f}"
        if resource.cost_note and resource.cost_note.strip(". ").lower() != cost:
            cost += f" ({resource.cost_note})"
        budget = " - over your stated budget" if beyond else ""
        reason = (
            f"{resource.level.value.capitalize()} {resource.type.value} {why}; about {resource.hours:g} h "
            f"(~{weeks} week{'s' if weeks != 1 else ''} at {constraints.weekly_hours:g} h/week); {cost}{budget}."
        )
        return Recommendation(resource, score, similarity, target.skill, reason, beyond)

    def search(self, text: str, limit: int = 5) -> list[tuple[Resource, float]]:
        """Catalog search by meaning, narrowed to the skills the text is about when it names any."""
        skills = self.match_skills(text)
        where: dict[str, Any] | None = None
        if len(skills) == 1:
            where = {f"s_{skills[0]}": True}
        elif skills:
            where = {"$or": [{f"s_{s}": True} for s in skills]}
        hits = self.index.search_resources(self.index.embed_query(text), limit, where)
        return [
            (self.catalog.resources[rid], sim) for rid, sim in hits if rid in self.catalog.resources
        ]

    # Plan --------------------------------------------------------------------------------

    def plan(
        self,
        picks: Sequence[Recommendation],
        constraints: Constraints,
        start: dt.date,
        known: dict[str, float],
    ) -> Plan:
        """Order picks so prerequisites come first, then date them at the weekly hours."""
        notes = []
        weekly = constraints.weekly_hours
        if weekly <= 0:
            weekly = 3.0
            notes.append("No weekly learning time was given; the plan assumes 3 hours a week.")
        ordered = _prerequisite_order(list(picks), known)
        items = []
        day = start
        for pick in ordered:
            days = max(7, math.ceil(pick.resource.hours / weekly * 7))
            end = day + dt.timedelta(days=days - 1)
            items.append(PlanItem(pick.resource, day, end, pick.resource.hours, pick.skill))
            day = end + dt.timedelta(days=1)
        return Plan(items=items, weekly_hours=weekly, notes=notes)


LEXICAL_WEIGHT = 0.10
STOP_WORDS = frozenset(
    [
        "about",
        "after",
        "also",
        "been",
        "before",
        "being",
        "could",
        "does",
        "doing",
        "from",
        "have",
        "into",
        "just",
        "like",
        "made",
        "make",
        "more",
        "most",
        "much",
        "must",
        "need",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "very",
        "want",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "without",
        "would",
        "your",
        "yours",
        "my",
        "mine",
        "how",
        "work",
        "works",
        "working",
    ]
)


def _stems(text: str) -> set[str]:
    """Crude stems (first five letters) of the content words, for lexical overlap."""
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOP_WORDS}


STOP_PHRASES = frozenset(
    {
        "a",
        "i",
        "in",
        "to",
        "the",
        "my",
        "me",
        "how",
        "do",
        "is",
        "it",
        "on",
        "for",
        "and",
        "with",
        "what",
    }
)


def _diverse(
    scored: list[tuple[float, float, Resource, Target, bool]], limit: int, skill_penalty: float
) -> list[tuple[float, float, Resource, Target, bool]]:
    """Greedy pick: the next best after penalties for a provider or a skill already chosen."""
    chosen: list[tuple[float, float, Resource, Target, bool]] = []
    pool = list(scored)
    while pool and len(chosen) < limit:
        providers = {c[2].provider for c in chosen}
        skills = {c[3].skill for c in chosen}
        best = min(
            pool, key=lambda row: (-_adjusted(row, providers, skills, skill_penalty), row[2].id)
        )
        chosen.append(best)
        pool.remove(best)
    return chosen


def _adjusted(
    row: tuple[float, float, Resource, Target, bool],
    providers: set[str],
    skills: set[str],
    skill_penalty: float,
) -> float:
    penalty = SAME_PROVIDER_PENALTY if row[2].provider in providers else 0.0
    penalty += skill_penalty if row[3].skill in skills else 0.0
    return row[0] - penalty


def _prerequisite_order(
    picks: list[Recommendation], known: dict[str, float]
) -> list[Recommendation]:
    """Stable topological order: a pick whose main skill another pick needs (and the person
    lacks) goes first; resource-id prerequisites likewise."""

    def needs(a: Recommendation, b: Recommendation) -> bool:
        for prerequisite in a.resource.prerequisites:
            if prerequisite == b.resource.id:
                return True
            if prerequisite in b.resource.skills[:1] and known.get(prerequisite, 0.0) < 50:
                return True
        return False

    ordered: list[Recommendation] = []
    remaining = list(picks)
    while remaining:
        ready = [p for p in remaining if not any(needs(p, q) for q in remaining if q is not p)]
        step = ready[0] if ready else remaining[0]  # a cycle: keep the ranking order
        ordered.append(step)
        remaining.remove(step)
    return ordered


__all__ = ["Constraints", "Format", "Plan", "Recommendation", "Retriever", "Target"]
