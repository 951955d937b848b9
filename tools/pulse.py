"""Career Pulse: how future-proof a person's skill mix is over the next two years."""

from __future__ import annotations

import math
from collections.abc import Sequence

from knowledge.base import KnowledgeBase
from tools.params import ScoringParams
from tools.results import CareerPulse, PulseSkill, SkillScore, SkillStatus


def future_factor(trend: float, half_life_years: float, horizon_years: float) -> float:
    """Relative value of a skill after the horizon: demand growth times knowledge decay."""
    growth: float = (1 + trend) ** horizon_years
    decay: float = 0.5 ** (horizon_years / half_life_years)
    return growth * decay


def career_pulse(
    skills: Sequence[SkillScore], kb: KnowledgeBase, params: ScoringParams
) -> CareerPulse:
    """Score 0-100: the value-weighted share of the skill mix that keeps its value.

    Each skill with direct evidence counts with weight proficiency x overall demand; its
    future factor is capped at `pulse_growth_cap` and scaled to 0..1.
    """
    horizon = params.pulse_horizon_years
    rows: list[tuple[SkillScore, float, float]] = []  # skill, weight, factor
    for skill in skills:
        if (
            skill.proficiency is None
            or skill.status == SkillStatus.INFERRED
            or skill.proficiency <= 0
        ):
            continue
        entry = kb.demand[skill.id]
        weight = skill.proficiency * entry.overall
        rows.append((skill, weight, future_factor(entry.trend, entry.half_life_years, horizon)))
    total = math.fsum(w for _, w, _ in rows)
    score = None
    if total > 0:
        kept = math.fsum(
            w * min(f, params.pulse_growth_cap) / params.pulse_growth_cap for _, w, f in rows
        )
        score = round(100 * kept / total, 1)
    at_risk = sorted(
        (
            (s, w, f)
            for s, w, f in rows
            if f < params.pulse_at_risk_factor
            and (s.proficiency or 0) >= params.pulse_at_risk_min_proficiency
        ),
        key=lambda row: (-row[1] * (1 - row[2]), row[0].id),
    )
    rising = sorted(
        (
            s
            for s in skills
            if s.relevance > 0
            and kb.demand[s.id].trend >= 0.15
            and (s.proficiency is None or s.proficiency < s.demand)
        ),
        key=lambda s: (-kb.demand[s.id].trend * s.demand, s.id),
    )
    falling = sorted(
        (s for s, _, _ in rows if kb.demand[s.id].trend < 0),
        key=lambda s: (kb.demand[s.id].trend, -(s.proficiency or 0.0), s.id),
    )
    limit = params.pulse_list_size
    return CareerPulse(
        score=score,
        horizon_years=horizon,
        at_risk=[_pulse_skill(s, kb, horizon) for s, _, _ in at_risk[:limit]],
        rising_gaps=[_pulse_skill(s, kb, horizon) for s in rising[:limit]],
        falling=[_pulse_skill(s, kb, horizon) for s in falling[:limit]],
    )


def _pulse_skill(skill: SkillScore, kb: KnowledgeBase, horizon: float) -> PulseSkill:
    entry = kb.demand[skill.id]
    return PulseSkill(
        skill=skill.id,
        name=skill.name,
        proficiency=skill.proficiency or 0.0,
        trend=entry.trend,
        half_life_years=entry.half_life_years,
        future_factor=round(future_factor(entry.trend, entry.half_life_years, horizon), 3),
    )
