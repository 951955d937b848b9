"""Recommendations that fit the person, and a dated learning plan.

Gap-driven picks (after an audit) are chosen for each gap on its own: the resources that
teach the skill, at a level that suits the person's proficiency, within their budget and
language, in a format they asked for and small enough for their weekly hours. A gap's picks
therefore never change because another skill changed. Prerequisites the person lacks are
added first or rule the item out. A gap with no fitting resource gets a plain statement and
a project idea. Topic questions are matched on the subject of the whole request (see
`knowledge/topics.py`), and the picks follow that subject by meaning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog, load_topics
from knowledge.index import VectorIndex
from knowledge.planning import Plan, PlanItem, build_plan
from knowledge.schema import Format, Level, Resource, ResourceType, TopicsFile, normalize_name
from knowledge.topics import Request, TopicMatch, masked, parse_request, phrase_hits

PREREQUISITE_MIN = 40.0  # below 2/5 a person lacks a prerequisite skill
SKILL_MATCH_THRESHOLD = 0.83  # e5 similarities crowd together: a match must also stand out
MATCH_MARGIN = 0.02
STRONG_MATCH = 0.87
LEXICAL_WEIGHT = 0.10
CANDIDATES = 60
SAME_PROVIDER_PENALTY = 0.12
SAME_SKILL_PENALTY_TOPIC = 0.04
W_CLOSENESS = 0.35  # topic picks: closeness to the request's subject, rescaled over candidates
W_TARGET = 0.15  # topic picks: how central the skill served is to the request
# Topic picks: the request's rarer words found in a resource's title or description
# ("imbalanced" in "evaluate a model on imbalanced data"). The small embedding model ranks
# a general evaluation guide nearly as close as one on imbalanced data; the word settles it.
W_TERMS = 0.2
# Gap picks: the words of what the gap is about for this person (`Target.focus`) found in a
# resource. The reason for the gap is known, so this weighs as much as being mainly about
# the skill: a guide to PR curves beats a general evaluation guide for accuracy on rare fraud.
W_FOCUS = 0.3
FOCUS_MATCH = 0.5
RARE_TERM = 0.08  # a stem in more than this share of the catalog says nothing on its own
DEFAULT_HORIZON_WEEKS = 13.0  # a quarter: the default time to the next full audit
LEVEL_ORDER = [Level.BEGINNER, Level.INTERMEDIATE, Level.ADVANCED]


@dataclass(frozen=True)
class Target:
    """A skill to learn, how much it matters, and where the person stands."""

    skill: str
    weight: float  # relative importance, e.g. audit severity; the largest target gets 1
    proficiency: float | None = None
    demand: float | None = None
    gap: float | None = None
    # What the gap is about in this person's case, in words a resource on it would use
    # ("imbalanced data, precision and recall" for a Model Evaluation gap that comes from
    # accuracy on rare positives): resources that say so rank higher for it.
    focus: str = ""


@dataclass(frozen=True)
class Constraints:
    weekly_hours: float = 5.0
    budget_usd: float | None = None  # None: no budget given
    formats: tuple[str, ...] = ()
    language: str = "en"
    horizon_weeks: float = DEFAULT_HORIZON_WEEKS  # time to the next audit; items should fit
    level: Level | None = None  # a level the person asked for, over the one from proficiency

    @property
    def horizon_hours(self) -> float:
        return max(self.weekly_hours, 0.5) * self.horizon_weeks


@dataclass(frozen=True)
class Recommendation:
    resource: Resource
    score: float
    similarity: float
    skill: str  # the target skill it serves
    reason: str
    over_budget: bool = False  # kept for stored plans; budgets are now never exceeded
    role: str = "gap"  # "gap", "prerequisite" (do first) or "extra" (a second pick)
    alternatives: tuple[Resource, ...] = ()  # shorter fitting resources for the same skill
    also_for: tuple[str, ...] = ()  # further target skills the same resource serves

    def with_resource(self, resource: Resource) -> Recommendation:
        """The same pick with another resource (a shorter plan's swap)."""
        return dataclasses.replace(self, resource=resource, alternatives=())

    def to_dict(self) -> dict[str, Any]:
        r = self.resource
        return {
            "id": r.id, "title": r.title, "provider": r.provider, "url": str(r.url), "type": r.type.value,
            "skills": r.skills, "for_skill": self.skill, "also_for": list(self.also_for), "role": self.role,
            "level": r.level.value, "hours": r.hours, "cost_usd": r.cost_usd, "cost_note": r.cost_note,
            "format": r.format.value, "language": r.language, "year": r.year, "verified": r.verified,
            "last_checked": None if r.last_checked is None else r.last_checked.isoformat(),
            "score": round(self.score, 4), "reason": self.reason, "over_budget": self.over_budget,
        }  # fmt: skip


@dataclass(frozen=True)
class Uncovered:
    """A gap nothing in the catalog fits, said plainly, with a project idea instead."""

    skill: str
    name: str
    reason: str
    project_idea: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Advice:
    """Picks for the targets (prerequisites included) and the targets nothing fits."""

    picks: list[Recommendation]
    uncovered: list[Uncovered] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendations": [p.to_dict() for p in self.picks],
            "uncovered": [u.to_dict() for u in self.uncovered],
            "notes": self.notes,
        }


def levels_for(proficiency: float | None, asked: Level | None = None) -> tuple[Level, ...]:
    """Levels that suit a proficiency (0-100), best first: 0-1/5 beginner only, 2/5 beginner
    or intermediate, 3/5 intermediate or advanced, 4-5/5 advanced or intermediate."""
    if asked is Level.BEGINNER:
        return (Level.BEGINNER,)
    if asked is Level.INTERMEDIATE:
        return (Level.INTERMEDIATE, Level.ADVANCED)
    if asked is Level.ADVANCED:
        return (Level.ADVANCED, Level.INTERMEDIATE)
    if proficiency is None:
        return (Level.BEGINNER, Level.INTERMEDIATE)
    if proficiency < 30:
        return (Level.BEGINNER,)
    if proficiency < 50:
        return (Level.BEGINNER, Level.INTERMEDIATE)
    if proficiency < 70:
        return (Level.INTERMEDIATE, Level.ADVANCED)
    return (Level.ADVANCED, Level.INTERMEDIATE)


def wanted_level(proficiency: float | None) -> Level:
    return levels_for(proficiency)[0]


def format_ok(resource: Resource, formats: Sequence[str]) -> bool:
    """True when no format was stated, or the resource is in one of them."""
    if not formats:
        return True
    if resource.format.value in formats:
        return True
    # "Hands-on" covers project ideas and interactive exercises alike.
    hands_on = resource.type is ResourceType.PROJECT or resource.format is Format.INTERACTIVE
    return "project" in formats and hands_on


def fit(resource: Resource, target: Target, constraints: Constraints) -> float:
    """0..1: level matches where the person stands, format is one they like, size fits their time."""
    levels = levels_for(target.proficiency, constraints.level)
    level = 1.0 if resource.level == levels[0] else 0.6 if resource.level in levels else 0.0
    formats = 1.0 if format_ok(resource, constraints.formats) else 0.0
    weeks = resource.hours / max(constraints.weekly_hours, 0.5)
    size = 1.0 / (1.0 + weeks / 6)
    return (level + formats + size) / 3


Row = tuple[float, Resource]  # (score, resource)
# The bundled model's similarities between one skill and the resources teaching it differ by
# 0.003 to 0.1 (median 0.05, 2026-12-01): rescaled to 0..1 over that difference alone, the
# closest of two near-equal resources would gain the whole similarity term. Differences
# smaller than this count as what they are.
SPREAD_MIN = 0.06
# A preferred format or the time before the next audit chooses among resources that fit
# about as well; it does not make a resource on another subject, far behind the best fit,
# the way to learn the skill (a carbon calculator for model documentation).
TIER_MARGIN = 0.1


class Retriever:
    """Everything retrieval needs, passed in: knowledge, catalog, topics and a synced index."""

    def __init__(
        self,
        kb: KnowledgeBase,
        catalog: Catalog,
        index: VectorIndex,
        topics: TopicsFile | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.kb = kb
        self.catalog = catalog
        self.index = index
        self.topics = topics if topics is not None else load_topics(kb)
        self.today = today or dt.date.today()
        self._skill_stems = {
            s.id: (_stems(" ".join([s.name, *s.aliases])), _stems(s.description))
            for s in kb.taxonomy.skills
        }
        self._pools: dict[str, list[tuple[Resource, float]]] = {}
        # Skills some beginner resource is mainly about: for the others, a beginner may be
        # offered an intermediate one mainly about the skill (see `levels_offered`).
        self._beginner_subjects = {
            r.skills[0] for r in catalog.resources.values() if r.level is Level.BEGINNER
        }
        self._resource_stems = {
            r.id: _stems(f"{r.title} {r.description}") for r in catalog.resources.values()
        }
        counts: dict[str, int] = {}
        for stems in self._resource_stems.values():
            for stem in stems:
                counts[stem] = counts.get(stem, 0) + 1
        common = RARE_TERM * max(1, len(catalog.resources))
        self._common_stems = frozenset(s for s, n in counts.items() if n > common)

    def levels_offered(self, target: Target, c: Constraints) -> tuple[Level, ...]:
        """The levels offered for a target. A beginner (0-1/5) gets beginner material; when
        none is mainly about the skill (model documentation, gradient boosting: only
        resources on other subjects touch it at that level), intermediate material on the
        skill itself is offered second rather than a side mention of it."""
        levels = levels_for(target.proficiency, c.level)
        if (
            levels == (Level.BEGINNER,)
            and c.level is None
            and target.skill not in self._beginner_subjects
        ):
            return (Level.BEGINNER, Level.INTERMEDIATE)
        return levels

    def _step_up(self, resource: Resource, target: Target, c: Constraints) -> bool:
        """Offered above the person's level because nothing at it is about the skill."""
        return (
            resource.level is Level.INTERMEDIATE
            and levels_for(target.proficiency, c.level) == (Level.BEGINNER,)
            and target.skill not in self._beginner_subjects
        )

    # Skills from free text -------------------------------------------------------------------

    def understand(self, text: str, limit: int = 3) -> TopicMatch:
        """The skills a request is about, by topic phrases, skill names and then by meaning;
        a topic the taxonomy lacks is named with the closest skills."""
        request = parse_request(text)
        spans = phrase_hits(request.text, tuple(self.topics.topics))
        skills: list[str] = []
        names: list[str] = []
        missing: str | None = None
        closest: list[str] = []
        for _, _, topic in spans:
            names.append(topic.name)
            if topic.skills:
                skills += [s for s in topic.skills if s not in skills]
            elif topic.expected_skill in self.kb.skills:
                assert topic.expected_skill is not None
                skills += [s for s in [topic.expected_skill] if s not in skills]
            elif missing is None:
                missing, closest = topic.name, list(topic.closest)
        # A skill named outright ("... with Docker") leads; the topic's skills follow.
        named = self._named_skills(masked(request.text, spans))
        skills = [*named, *(s for s in skills if s not in named)]
        if missing is None and not skills:
            # Only a request that names no skill is matched by meaning: a weak neighbour
            # added to a named skill would pull the picks off the subject.
            ranked = self.skills_by_meaning(request.subject, max(5, limit * 2))
            skills = _close_by_meaning(ranked)
            if not skills:
                missing, closest = request.subject, [s for s, _ in ranked[:3]]
        return TopicMatch(request, skills[:limit], missing, closest, names)

    def match_skills(self, text: str, limit: int = 3) -> list[str]:
        """Skills a question is about (none for a topic the taxonomy lacks: see `understand`)."""
        return self.understand(text, limit).skills

    def _named_skills(self, text: str) -> list[str]:
        """Skills whose names or aliases are written in the text, longest phrases first."""
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
        return found

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
        known: Mapping[str, float] | None = None,
    ) -> list[Recommendation]:
        """The picks of `advise` (gap-driven: every target covered; topic: `limit` picks)."""
        return self.advise(targets, constraints, query, limit, known).picks

    def advise(
        self,
        targets: Sequence[Target],
        constraints: Constraints,
        query: str | None = None,
        limit: int = 3,
        known: Mapping[str, float] | None = None,
    ) -> Advice:
        """Picks that fit the person, prerequisites they lack included, and the gaps nothing fits.

        Without `query` every target gets its own best pick (then second picks up to `limit`);
        with one, `limit` picks follow the request's subject and stated preferences.
        `known` holds the person's proficiencies (0-100) for the prerequisite check.
        """
        if not targets:
            return Advice(picks=[])
        have = dict(known or {})
        have.update({t.skill: t.proficiency for t in targets if t.proficiency is not None})
        # Skills the person has at 2/5 or more, whether or not they are targets now, so that
        # which other gaps are on the list never changes a gap's pick.
        strengths = frozenset(s for s, v in have.items() if v >= PREREQUISITE_MIN)
        if query:
            return self._advise_topic(
                targets, constraints, parse_request(query), limit, have, strengths
            )
        return self._advise_gaps(targets, constraints, limit, have, strengths)

    def _advise_gaps(
        self,
        targets: Sequence[Target],
        constraints: Constraints,
        limit: int,
        known: Mapping[str, float],
        strengths: frozenset[str],
    ) -> Advice:
        ranked: dict[str, tuple[Target, list[Row], list[Row], str]] = {}
        uncovered = []
        gaps = frozenset(t.skill for t in targets)
        for target in targets:
            best, rest, note = self._ranked_for(target, constraints, known, strengths, gaps)
            if best:
                ranked[target.skill] = (target, best, rest, note)
            else:
                uncovered.append(self._uncovered(target, constraints))
        picks: list[Recommendation] = []
        for target, best, rest, note in ranked.values():
            picks += self._with_prerequisites(
                target, best[0], [*best, *rest], note, constraints, known, ranked
            )
        extra_rounds = 1
        while len(picks) < limit and extra_rounds <= 2:
            for skill, (target, best, _, note) in ranked.items():
                taken = {p.resource.id for p in picks}
                providers = {p.resource.provider for p in picks if p.skill == skill}
                options = [row for row in best if row[1].id not in taken]
                options.sort(key=lambda row: (row[1].provider in providers, -row[0], row[1].id))
                if options and len(picks) < limit:
                    resource = options[0][1]
                    if self._lacking(resource, known):
                        continue
                    picks.append(
                        self._recommendation(options[0], target, constraints, note, "extra")
                    )
            extra_rounds += 1
        merged = _merged(picks)
        return Advice(
            picks=merged, uncovered=uncovered, notes=self._budget_notes(merged, constraints)
        )

    def _advise_topic(
        self,
        targets: Sequence[Target],
        constraints: Constraints,
        request: Request,
        limit: int,
        known: Mapping[str, float],
        strengths: frozenset[str],
    ) -> Advice:
        asked = dataclasses.replace(
            constraints,
            formats=request.formats or constraints.formats,
            level=request.level or constraints.level,
            budget_usd=0.0 if request.free_only else constraints.budget_usd,
        )
        top = max(t.weight for t in targets) or 1.0
        by_skill = {t.skill: t for t in targets}
        where: dict[str, Any] = (
            {f"s_{targets[0].skill}": True}
            if len(targets) == 1
            else {"$or": [{f"s_{t.skill}": True} for t in targets]}
        )
        hits = self.index.search_resources(
            self.index.embed_query(request.subject or request.text),
            CANDIDATES,
            {"$and": [where, {"language": asked.language}]},
        )
        low = min((sim for _, sim in hits), default=0.0)
        spread = (max((sim for _, sim in hits), default=1.0) - low) or 1.0
        named = set().union(*(self._skill_stems[t.skill][0] for t in targets))
        terms = _stems(request.subject or request.text) - named - self._common_stems
        rows: list[tuple[float, Resource, Target]] = []
        for resource_id, similarity in hits:
            resource = self.catalog.resources.get(resource_id)
            served = [by_skill[s] for s in resource.skills if s in by_skill] if resource else []
            if resource is None or not served:
                continue
            target = max(served, key=lambda t: (t.weight, t.skill))
            score = self._fitting_score(resource, target, asked, known, strengths)
            if score is None:
                continue
            closeness = (similarity - low) / spread
            found = len(terms & self._resource_stems[resource.id]) / len(terms) if terms else 0.0
            rows.append(
                (
                    score
                    + W_CLOSENESS * closeness
                    + W_TARGET * target.weight / top
                    + W_TERMS * found,
                    resource,
                    target,
                )
            )
        rows.sort(key=lambda row: (-row[0], row[1].id))
        chosen: list[tuple[float, Resource, Target, str]] = []
        for test, note in _tiers(asked, format_first=bool(request.formats)):
            # Fill from the strictest tier first, then say what had to give for the rest.
            taken = {c[1].id for c in chosen}
            tier = [row for row in rows if test(row[1]) and row[1].id not in taken]
            chosen += [(*row, note) for row in _diverse(tier, limit - len(chosen), chosen)]
            if len(chosen) >= limit:
                break
        if not chosen:
            return Advice(picks=[], uncovered=[self._uncovered(targets[0], asked)])
        picks: list[Recommendation] = []
        for score, resource, target, note in chosen:
            pool = [(s, r) for s, r, t in rows if t.skill == target.skill]
            picks += self._with_prerequisites(
                target, (score, resource), pool, note, asked, known, {}
            )
        return Advice(picks=_merged(picks))

    # Ranking of one target -------------------------------------------------------------------

    def _ranked_for(
        self,
        target: Target,
        constraints: Constraints,
        known: Mapping[str, float],
        strengths: frozenset[str],
        gaps: frozenset[str] = frozenset(),
    ) -> tuple[list[Row], list[Row], str]:
        """The target's fitting resources, best first, in the first tier that has any (format
        and time both met, then time only, then format only, then neither), the others, and
        a note on what had to give."""
        rows: list[Row] = []
        terms = _stems(target.focus) - self._common_stems if target.focus else set()
        on_focus: set[str] = set()  # resources about the gap's reason (half its words or more)
        for resource, similarity in self._pool(target.skill):
            score = self._fitting_score(resource, target, constraints, known, strengths, gaps)
            if score is not None:
                found = len(terms & self._resource_stems[resource.id]) / len(terms) if terms else 0
                if found >= FOCUS_MATCH:
                    on_focus.add(resource.id)
                rows.append((score + 0.25 * similarity + W_FOCUS * found, resource))
        rows.sort(key=lambda row: (-row[0], row[1].id))
        in_formats = any(
            format_ok(r, constraints.formats) and r.hours <= constraints.horizon_hours
            for _, r in rows
        )
        # When something fits the gap's reason, a pick off it is passed over first, even in
        # the person's formats: the format gives way, and the note says so.
        for need_focus in (True, False) if on_focus else (False,):
            for test, note in _tiers(constraints, in_formats=in_formats):
                best = [row for row in rows if test(row[1])]
                if need_focus and best and best[0][1].id not in on_focus:
                    continue
                if best and rows[0][0] - best[0][0] <= TIER_MARGIN:
                    return best, [row for row in rows if not test(row[1])], note
        return [], [], ""

    def _fitting_score(
        self,
        resource: Resource,
        target: Target,
        c: Constraints,
        known: Mapping[str, float],
        strengths: frozenset[str],
        gaps: frozenset[str] = frozenset(),
    ) -> float | None:
        """The resource's score for the target, or None when it cannot be offered: wrong
        language, over budget, wrong level, or a prerequisite that cannot be scheduled first.
        `gaps`: the person's other gaps being advised on."""
        levels = self.levels_offered(target, c)
        if not self._affordable(resource, c) or resource.level not in levels:
            return None
        if self._step_up(resource, target, c) and resource.skills[0] != target.skill:
            return None  # a step up only for material mainly about the skill
        lacking = self._lacking(resource, known)
        for entry, skill in lacking:
            if skill == target.skill or self._prerequisite_for(entry, skill, c, known) is None:
                return None
        position = resource.skills.index(target.skill)
        relevance = 1.0 if position == 0 else max(0.3, 0.75 - 0.15 * (position - 1))
        level = 1.0 if resource.level == levels[0] else 0.6
        formats = 1.0 if format_ok(resource, c.formats) else 0.0
        size = 1.0 / (1.0 + resource.hours / max(c.weekly_hours, 0.5) / 6)
        if resource.free:
            cost = 0.0
        elif c.budget_usd:
            cost = min(1.0, resource.cost_usd / c.budget_usd)
        else:
            cost = 0.5
        dated = 1.0 if resource.dated(self.today) else 0.0
        # Resources that connect the gap to what the person already does fit them better, and
        # so do those mainly about the gap that also teach another of their gaps (one
        # resource, two gaps closed).
        others = [s for s in resource.skills if s != target.skill]
        affinity = sum(s in strengths for s in others) / max(1, len(others))
        also = sum(s in gaps for s in others) / max(1, len(others)) if position == 0 else 0.0
        return (
            0.30 * relevance
            + 0.06 * affinity
            + 0.06 * also
            + 0.15 * level
            + 0.10 * formats
            + 0.15 * size
            - 0.05 * cost
            - 0.08 * len(lacking)
            - 0.10 * dated
        )

    def _pool(self, skill: str) -> list[tuple[Resource, float]]:
        """Every resource that teaches `skill`, with its similarity to the skill rescaled to
        0..1 within the pool; cached, as it depends on the skill alone."""
        if skill not in self._pools:
            covering = self.catalog.covering(skill)
            similarity: dict[str, float] = {}
            if covering:
                name = self.kb.skills[skill].name
                vector = self.index.embed_query(
                    f"learn {name}: {self.kb.skills[skill].description}"
                )
                similarity = dict(
                    self.index.search_resources(vector, len(covering), {f"s_{skill}": True})
                )
            low = min(similarity.values(), default=0.0)
            spread = max(max(similarity.values(), default=1.0) - low, SPREAD_MIN)
            self._pools[skill] = sorted(
                ((r, (similarity[r.id] - low) / spread if r.id in similarity else 0.0) for r in covering),
                key=lambda row: row[0].id,
            )  # fmt: skip
        return self._pools[skill]

    def pools_missing(
        self, skills: Iterable[str], known: Mapping[str, float] | None = None
    ) -> list[str]:
        """Of the pools advice for `skills` may read (theirs, and those of the prerequisites
        the person lacks of every resource teaching them), the ones not computed yet: each
        costs a query embedding. `known` as for `advise`."""
        have = dict(known or {})
        wanted = dict.fromkeys(s for s in skills if s in self.kb.skills)
        for skill in list(wanted):
            for resource in self.catalog.covering(skill):
                for _, lacking in self._lacking(resource, have):
                    wanted.setdefault(lacking)
        return [skill for skill in wanted if skill not in self._pools]

    def warm_pools(self, skills: Iterable[str]) -> None:
        """Compute these skills' pools now (before a caller that must not wait holds a lock)."""
        for skill in skills:
            self._pool(skill)

    def _affordable(self, resource: Resource, c: Constraints) -> bool:
        if resource.language != c.language:
            return False
        return c.budget_usd is None or resource.cost_usd <= c.budget_usd

    # Prerequisites ---------------------------------------------------------------------------

    def _lacking(self, resource: Resource, known: Mapping[str, float]) -> list[tuple[str, str]]:
        """(prerequisite as written, its skill) for each prerequisite the person is known to
        lack: a proficiency below 2/5. An unknown skill is not assumed missing."""
        lacking = []
        for entry in resource.prerequisites:
            named = self.catalog.resources.get(entry)
            skill = entry if entry in self.kb.skills else named.skills[0] if named else None
            if skill is None:  # a catalog built apart from the files (benchmarks) may lack it
                continue
            level = known.get(skill)
            if level is not None and level < PREREQUISITE_MIN:
                lacking.append((entry, skill))
        return lacking

    def lacks(self, resource: Resource, known: Mapping[str, float]) -> list[str]:
        """Skills the resource builds on that the person lacks."""
        return [skill for _, skill in self._lacking(resource, known)]

    def _prerequisite_for(
        self, entry: str, skill: str, c: Constraints, known: Mapping[str, float]
    ) -> Resource | None:
        """What to do first for a missing prerequisite: the named resource when it fits, else
        the best short beginner resource of that skill with no missing prerequisite itself."""
        named = self.catalog.resources.get(entry)
        if named is not None and self._affordable(named, c) and not self._lacking(named, known):
            return named
        options = [
            r
            for r, _ in self._pool(skill)
            if r.level is Level.BEGINNER and self._affordable(r, c) and not self._lacking(r, known)
        ]
        if not options:
            return None
        return min(
            options,
            key=lambda r: (
                r.skills.index(skill) > 0,
                not format_ok(r, c.formats),
                r.hours > c.horizon_hours,
                r.dated(self.today),
                r.hours,
                r.id,
            ),
        )

    def _with_prerequisites(
        self,
        target: Target,
        row: Row,
        pool: list[Row],
        note: str,
        c: Constraints,
        known: Mapping[str, float],
        covered: Mapping[str, Any],
    ) -> list[Recommendation]:
        """The pick, preceded by what to do first for each prerequisite the person lacks
        (unless another target's own pick already teaches it)."""
        resource = row[1]
        first = []
        for entry, skill in self._lacking(resource, known):
            if skill in covered and entry not in self.catalog.resources:
                continue  # that gap's own beginner pick comes first in the plan
            before = self._prerequisite_for(entry, skill, c, known)
            if before is None:  # ruled out in _fitting_score; kept for safety
                continue
            why = f'to do first: "{resource.title}" builds on {self.kb.skills[skill].name}'
            first.append(
                self._recommendation((row[0], before), target, c, "", "prerequisite", why, skill)
            )
        shorter = tuple(
            r for _, r in sorted(pool, key=lambda x: (x[1].hours, x[1].id))
            if r.hours < resource.hours and r.id != resource.id and not self._lacking(r, known)
        )  # fmt: skip
        main = self._recommendation(row, target, c, note, "gap")
        return [*first, dataclasses.replace(main, alternatives=shorter[:6])]

    # Budget ----------------------------------------------------------------------------------

    def _budget_notes(self, picks: list[Recommendation], c: Constraints) -> list[str]:
        """A note when the picks together cost more than the budget; each pick alone fits it.

        Picks are not swapped to fit a total, so that one gap's pick never depends on another's.
        """
        if c.budget_usd is None:
            return []
        total = sum(p.resource.cost_usd for p in picks)
        if total <= c.budget_usd:
            return []
        return [
            f"Each pick fits your budget of ${c.budget_usd:,.0f}, but together they cost about "
            f"${total:,.0f}; take the paid ones one at a time, or ask for free alternatives."
        ]

    # Explanations ----------------------------------------------------------------------------

    def _recommendation(
        self,
        row: Row,
        target: Target,
        c: Constraints,
        note: str,
        role: str,
        why: str | None = None,
        skill: str | None = None,
    ) -> Recommendation:
        score, resource = row
        name = self.kb.skills[target.skill].name
        if why is None:
            if (
                target.gap is not None
                and target.proficiency is not None
                and target.demand is not None
            ):
                why = f"for your {name} gap ({target.proficiency:.0f} now, demand {target.demand:.0f})"
            else:
                why = f"for {name}"
        weekly = max(c.weekly_hours, 0.5)
        weeks = max(1, math.ceil(resource.hours / weekly))
        cost = "free" if resource.free else f"about ${resource.cost_usd:,.0f}"
        if resource.cost_note and resource.cost_note.strip(". ").lower() != cost:
            cost += f" ({resource.cost_note})"
        extra = f" {note}" if note else ""
        if self._step_up(resource, target, c):
            extra += (
                f" A step up from where you are: no beginner material in the catalog is about "
                f"{name} itself."
            )
        if resource.dated(self.today):
            extra += f" This run dates from {resource.year}; tools may have moved on since."
        reason = (
            f"{resource.level.value.capitalize()} {resource.type.value} {why}; about {resource.hours:g} h "
            f"(~{weeks} week{'s' if weeks != 1 else ''} at {c.weekly_hours:g} h/week); {cost}.{extra}"
        )
        return Recommendation(resource, score, 0.0, skill or target.skill, reason, role=role)

    def _uncovered(self, target: Target, c: Constraints) -> Uncovered:
        skill = self.kb.skills[target.skill]
        levels = " or ".join(lv.value for lv in self.levels_offered(target, c))
        limits = [f"{levels} level"]
        if c.budget_usd is not None:
            limits.append("free" if c.budget_usd == 0 else f"within ${c.budget_usd:,.0f}")
        if c.language != "en":
            limits.append(f"in language '{c.language}'")
        reason = (
            f"Nothing in the catalog fits {skill.name} ({', '.join(limits)}, with any "
            "prerequisites you lack taught first); here is a project idea instead."
        )
        idea = self.topics.project_ideas[skill.category].format(skill=skill.name.lower())
        return Uncovered(skill.id, skill.name, reason, idea)

    # Search and plan -------------------------------------------------------------------------

    def search(self, text: str, limit: int = 5) -> list[tuple[Resource, float]]:
        """Catalog search by meaning, narrowed to the skills the text is about when it names any."""
        match = self.understand(text)
        skills = match.skills or match.closest
        where: dict[str, Any] | None = None
        if len(skills) == 1:
            where = {f"s_{skills[0]}": True}
        elif skills:
            where = {"$or": [{f"s_{s}": True} for s in skills]}
        query = match.request.subject or text
        hits = self.index.search_resources(self.index.embed_query(query), limit, where)
        return [
            (self.catalog.resources[rid], sim) for rid, sim in hits if rid in self.catalog.resources
        ]

    def plan(
        self,
        picks: Sequence[Recommendation],
        constraints: Constraints,
        start: dt.date,
        known: Mapping[str, float],
        next_audit: dt.date | None = None,
    ) -> Plan:
        """Order picks (prerequisites first, short beginner items early), date them at the
        weekly hours, and offer a shorter plan when it would run past `next_audit`."""
        return build_plan(
            picks,
            constraints.weekly_hours,
            start,
            lambda resource: self.lacks(resource, known),
            next_audit,
        )


def _close_by_meaning(ranked: list[tuple[str, float]]) -> list[str]:
    """The skills a text is clearly about by meaning: a strong best match that stands out
    from the fifth, and those within a hair of it; none for an unrelated text."""
    if len(ranked) < 2:
        return []
    best = ranked[0][1]
    runner = ranked[min(4, len(ranked) - 1)][1]
    if best < STRONG_MATCH and (best < SKILL_MATCH_THRESHOLD or best - runner < MATCH_MARGIN):
        return []
    return [s for s, score in ranked[:3] if score >= best - 0.03]


Test = Callable[[Resource], bool]


def _tiers(
    c: Constraints, format_first: bool = False, in_formats: bool = False
) -> list[tuple[Test, str]]:
    """Filters from strict to lenient, each with the note a pick from it carries; a format
    asked for in the request itself outranks the time before the next audit."""

    def fits(r: Resource) -> bool:
        return r.hours <= c.horizon_hours

    def formats(r: Resource) -> bool:
        return format_ok(r, c.formats)

    def both(r: Resource) -> bool:
        return fits(r) and formats(r)

    def anything(r: Resource) -> bool:
        return True

    long = "It is longer than your time before the next audit allows; start with its first parts."
    formats_named = " or ".join(c.formats)
    other = (
        f"What your formats ({formats_named}) offer for this gap is mainly about other "
        "subjects, so this is another format."
        if in_formats
        else f"Nothing in your formats ({formats_named}) fits this gap, so this is another format."
    )
    if format_first:
        return [(both, ""), (formats, long), (fits, other), (anything, f"{other} {long}")]
    return [(both, ""), (fits, other), (formats, long), (anything, f"{other} {long}")]


def _diverse(
    rows: list[tuple[float, Resource, Target]],
    limit: int,
    before: Sequence[tuple[float, Resource, Target, str]] = (),
) -> list[tuple[float, Resource, Target]]:
    """Greedy pick: the next best after penalties for a provider or a skill already chosen
    (here or `before`)."""
    chosen: list[tuple[float, Resource, Target]] = []
    pool = list(rows)
    while pool and len(chosen) < limit:
        providers = {row[1].provider for row in chosen} | {row[1].provider for row in before}
        skills = {row[2].skill for row in chosen} | {row[2].skill for row in before}
        best = min(pool, key=lambda row: _adjusted(row, providers, skills))
        chosen.append(best)
        pool.remove(best)
    return chosen


def _adjusted(
    row: tuple[float, Resource, Target], providers: set[str], skills: set[str]
) -> tuple[float, str]:
    penalty = SAME_PROVIDER_PENALTY if row[1].provider in providers else 0.0
    penalty += SAME_SKILL_PENALTY_TOPIC if row[2].skill in skills else 0.0
    return (-(row[0] - penalty), row[1].id)


def _merged(picks: list[Recommendation]) -> list[Recommendation]:
    """One entry per resource: a resource picked for several targets names them all."""
    merged: dict[str, Recommendation] = {}
    for pick in picks:
        first = merged.get(pick.resource.id)
        if first is None:
            merged[pick.resource.id] = pick
        elif first.role == "prerequisite" and pick.role == "gap":
            # A gap's own pick that another pick also needs first stays that gap's pick.
            merged[pick.resource.id] = dataclasses.replace(pick, also_for=first.also_for)
        elif pick.skill != first.skill and pick.skill not in first.also_for:
            merged[pick.resource.id] = dataclasses.replace(
                first, also_for=(*first.also_for, pick.skill)
            )
    return list(merged.values())


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
    [
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
        "docs",
        "documentation",
    ]
)


__all__ = [
    "Advice",
    "Constraints",
    "Format",
    "Plan",
    "PlanItem",
    "Recommendation",
    "Retriever",
    "Target",
    "TopicMatch",
    "Uncovered",
]
