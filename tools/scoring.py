"""MLSAF scoring: evidence fusion, transfer, Skill Gap Score, pillar and overall scores.

All functions are pure: the same evidence, knowledge, role, as-of date and parameters
always give the same numbers, whatever order the evidence arrives in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.schema import Pillar, RoleProfile
from tools.params import ScoringParams, SourceKind
from tools.results import (
    Evidence,
    Gap,
    OverallScore,
    PillarScore,
    SkillScore,
    SkillStatus,
    SourceSummary,
)

DIRECT = (SkillStatus.MEASURED, SkillStatus.SELF_RATED)


@dataclass(frozen=True)
class Fused:
    """Proficiency estimate of one skill from its evidence (before rounding)."""

    proficiency: float
    mass: float  # sum of evidence weights
    confidence: float


def evidence_weight(item: Evidence, as_of: dt.date, params: ScoringParams) -> float:
    """Reliability of the item's source kind, halved every `recency_half_life_days`."""
    age_days = max(0, (as_of - item.observed).days)
    decay: float = 0.5 ** (age_days / params.recency_half_life_days)
    return params.reliability[item.source] * decay


def _canonical(items: Iterable[Evidence]) -> list[Evidence]:
    # Sorting first makes the floating-point sums independent of input order.
    return sorted(items, key=lambda e: (e.source, e.observed, e.strength, e.origin, e.detail))


def fuse(items: Sequence[Evidence], as_of: dt.date, params: ScoringParams) -> Fused | None:
    """Weighted mean of evidence strengths (0-100) with confidence W / (W + k)."""
    ordered = _canonical(items)
    weights = [evidence_weight(e, as_of, params) for e in ordered]
    mass = math.fsum(weights)
    if mass <= 0:
        return None
    proficiency = (
        math.fsum(w * e.strength * 100 for w, e in zip(weights, ordered, strict=True)) / mass
    )
    confidence = mass / (mass + params.confidence_k)
    if all(e.source == SourceKind.SELF_RATING for e in ordered):
        confidence = min(confidence, params.self_only_confidence_cap)
    return Fused(proficiency=proficiency, mass=mass, confidence=confidence)


def transfer(
    direct: dict[str, Fused], kb: KnowledgeBase, params: ScoringParams
) -> dict[str, tuple[Fused, list[str]]]:
    """Estimate skills without direct evidence from related skills that have some.

    Only one step of transfer: inferred skills do not transfer further, which keeps the
    result independent of the order skills are visited in.
    """
    contributions: dict[str, list[tuple[float, float, str]]] = {}
    for source_id in sorted(direct):
        fused = direct[source_id]
        for related in kb.skills[source_id].related:
            if related.skill in direct:
                continue
            weight = params.transfer_weight * related.transfer * fused.confidence
            value = related.transfer * fused.proficiency
            contributions.setdefault(related.skill, []).append((weight, value, source_id))
    inferred: dict[str, tuple[Fused, list[str]]] = {}
    for skill_id, parts in contributions.items():
        mass = math.fsum(w for w, _, _ in parts)
        if mass <= 0:
            continue
        proficiency = math.fsum(w * v for w, v, _ in parts) / mass
        confidence = min(mass / (mass + params.confidence_k), params.inferred_confidence_cap)
        inferred[skill_id] = (Fused(proficiency, mass, confidence), sorted(s for _, _, s in parts))
    return inferred


def skill_gap(demand: float, proficiency: float) -> tuple[float, float]:
    """Skill Gap Score (Demand - Proficiency) / Demand clipped to [0, 1], and the surplus."""
    raw = (demand - proficiency) / demand
    return min(1.0, max(0.0, raw)), max(0.0, -raw)


def score_skills(
    evidence: Sequence[Evidence],
    kb: KnowledgeBase,
    role: RoleProfile,
    weights: dict[Pillar, float],
    as_of: dt.date,
    params: ScoringParams,
    reviewed: Mapping[str, float] | None = None,
) -> list[SkillScore]:
    """Score every skill the role needs, the evidence mentions or the person reviewed, sorted
    by pillar then id. A reviewed rating (0-5) sets its skill's proficiency: it is the person's
    decision, not evidence, so it adds no confidence and never transfers to related skills."""
    decided = dict(reviewed or {})
    by_skill: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_skill.setdefault(item.skill, []).append(item)
    direct = {
        sid: fused
        for sid, items in by_skill.items()
        if (fused := fuse(items, as_of, params)) is not None
    }
    inferred = transfer(direct, kb, params)
    pillar_order = list(Pillar)
    wanted = sorted(
        set(role.skills) | set(by_skill) | set(decided),
        key=lambda sid: (pillar_order.index(kb.skills[sid].pillar), sid),
    )
    scores = [
        _skill_score(sid, by_skill.get(sid, []), direct, inferred, kb, role, weights, as_of, params)
        for sid in wanted
    ]
    return [_decided(s, decided[s.id], weights, params) if s.id in decided else s for s in scores]


def _decided(
    score: SkillScore, rating: float, weights: dict[Pillar, float], params: ScoringParams
) -> SkillScore:
    """A skill whose value the person set in review: proficiency = 20 x rating.

    Confidence stays what the evidence gives (a decision is not evidence); the interval is
    centred on the decided value and stretches to the evidence's own estimate when they
    disagree, so the disagreement stays visible wherever the interval is shown.
    """
    proficiency = 20.0 * rating
    estimate = score.proficiency
    confidence = score.confidence if score.status in DIRECT else 0.0
    half = params.interval_half_width * (1 - confidence)
    low, high = proficiency - half, proficiency + half
    if estimate is not None:
        low, high = min(low, estimate), max(high, estimate)
    gap, surplus = skill_gap(score.demand, proficiency)
    severity = gap * (score.demand / 100) * score.relevance * weights[score.pillar]
    status = score.status
    if status in (SkillStatus.UNKNOWN, SkillStatus.INFERRED):
        status = SkillStatus.SELF_RATED  # the person's own word is the only direct statement
    return score.model_copy(
        update={
            "proficiency": round(proficiency, 1),
            "interval": (round(max(0.0, low), 1), round(min(100.0, high), 1)),
            "confidence": round(confidence, 3),
            "gap": round(gap, 4),
            "surplus": round(surplus, 4),
            "severity": round(severity, 5),
            "status": status,
            "reviewed": rating,
            "evidence_proficiency": estimate,
        }
    )


def _skill_score(
    sid: str,
    items: list[Evidence],
    direct: dict[str, Fused],
    inferred: dict[str, tuple[Fused, list[str]]],
    kb: KnowledgeBase,
    role: RoleProfile,
    weights: dict[Pillar, float],
    as_of: dt.date,
    params: ScoringParams,
) -> SkillScore:
    skill = kb.skills[sid]
    level = role.skills.get(sid, 0)
    relevance = level / 5
    demand = kb.demand_for(sid, role.id)
    identity: dict[str, Any] = {
        "id": sid,
        "name": skill.name,
        "pillar": skill.pillar,
        "category": skill.category,
        "role_level": level,
        "relevance": round(relevance, 2),
        "demand": round(demand, 1),
    }
    sources_used: list[str] = []
    if sid in direct:
        fused = direct[sid]
        only_self = all(e.source == SourceKind.SELF_RATING for e in items)
        status = SkillStatus.SELF_RATED if only_self else SkillStatus.MEASURED
    elif sid in inferred:
        fused, sources_used = inferred[sid]
        status = SkillStatus.INFERRED
    else:
        return SkillScore(
            **identity, proficiency=None, interval=None, confidence=0.0, gap=None, surplus=None,
            severity=None, status=SkillStatus.UNKNOWN, sources=[], evidence=[],
        )  # fmt: skip
    gap, surplus = skill_gap(demand, fused.proficiency)
    severity = gap * (demand / 100) * relevance * weights[skill.pillar]
    half = params.interval_half_width * (1 - fused.confidence)
    interval = (
        round(max(0.0, fused.proficiency - half), 1),
        round(min(100.0, fused.proficiency + half), 1),
    )
    return SkillScore(
        **identity,
        proficiency=round(fused.proficiency, 1),
        interval=interval,
        confidence=round(fused.confidence, 3),
        gap=round(gap, 4),
        surplus=round(surplus, 4),
        severity=round(severity, 5),
        status=status,
        sources=_summarize_sources(items, as_of, params),
        evidence=_canonical(items),
        inferred_from=sources_used,
    )


def _summarize_sources(
    items: list[Evidence], as_of: dt.date, params: ScoringParams
) -> list[SourceSummary]:
    totals: dict[str, tuple[int, float]] = {}
    for item in _canonical(items):
        count, weight = totals.get(item.source, (0, 0.0))
        totals[item.source] = (count + 1, weight + evidence_weight(item, as_of, params))
    return [
        SourceSummary(source=k, count=c, weight=round(w, 3)) for k, (c, w) in sorted(totals.items())
    ]


def pillar_scores(
    skills: Sequence[SkillScore], weights: dict[Pillar, float]
) -> dict[Pillar, PillarScore]:
    """Pillar score = 100 x (1 - weighted mean gap) over known role skills.

    Each skill weighs relevance x demand x confidence, so a well-evidenced skill counts
    more than a guess, and weights never depend on the strength of the evidence.
    """
    result: dict[Pillar, PillarScore] = {}
    for pillar in Pillar:
        members = [s for s in skills if s.pillar == pillar and s.relevance > 0]
        total = math.fsum(s.relevance * s.demand for s in members)
        known = [s for s in members if s.gap is not None]
        known_weight = math.fsum(s.relevance * s.demand for s in known)
        evidence_weight = math.fsum(s.relevance * s.demand * s.confidence for s in known)
        score = None
        if evidence_weight > 0:
            weighted_gap = math.fsum(
                s.relevance * s.demand * s.confidence * (s.gap or 0.0) for s in known
            )
            score = 100 * (1 - weighted_gap / evidence_weight)
        confidence = (
            math.fsum(s.relevance * s.demand * s.confidence for s in members) / total
            if total
            else 0.0
        )
        result[pillar] = PillarScore(
            pillar=pillar,
            title=pillar.label,
            score=None if score is None else round(score, 1),
            weight=weights[pillar],
            confidence=round(confidence, 3),
            coverage=round(known_weight / total, 3) if total else 0.0,
            skills_known=len(known),
            skills_unknown=len(members) - len(known),
            transferred_only=score is not None
            and all(s.status == SkillStatus.INFERRED for s in known),
        )
    return result


def overall_score(pillars: dict[Pillar, PillarScore]) -> OverallScore:
    """Weighted mean of the pillar scores that exist; confidence weighs every pillar."""
    scored = [p for p in pillars.values() if p.score is not None]
    weight = math.fsum(p.weight for p in scored)
    score = math.fsum(p.weight * (p.score or 0.0) for p in scored) / weight if weight > 0 else None
    all_weight = math.fsum(p.weight for p in pillars.values())
    confidence = (
        math.fsum(p.weight * p.confidence for p in pillars.values()) / all_weight
        if all_weight
        else 0.0
    )
    return OverallScore(
        score=None if score is None else round(score, 1), confidence=round(confidence, 3)
    )


def top_gaps(skills: Sequence[SkillScore], limit: int) -> list[Gap]:
    """Role skills with direct evidence and a gap, most severe first (ties broken by skill id).

    Inferred skills are left out: a transferred estimate is a hint to verify, not a gap to act on.
    """
    ranked = sorted(
        (s for s in skills if s.severity and s.gap and s.status in DIRECT),
        key=lambda s: (-(s.severity or 0.0), s.id),
    )
    return [
        Gap(
            skill=s.id,
            name=s.name,
            pillar=s.pillar,
            proficiency=s.proficiency or 0.0,
            demand=s.demand,
            gap=s.gap or 0.0,
            severity=s.severity or 0.0,
            confidence=s.confidence,
            status=s.status,
        )
        for s in ranked[:limit]
    ]
