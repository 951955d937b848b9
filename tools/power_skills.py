"""The power-skills guard: audits that only look at technical skills miss half the job."""

from __future__ import annotations

import math
from collections.abc import Sequence

from knowledge.schema import Category, Pillar
from tools.params import ScoringParams
from tools.results import PowerSkillsCheck, SkillScore, SkillStatus


def check_power_skills(skills: Sequence[SkillScore], params: ScoringParams) -> PowerSkillsCheck:
    """Flag power skills that were not assessed or trail technical skills by a wide margin."""
    direct = [s for s in skills if s.status in (SkillStatus.MEASURED, SkillStatus.SELF_RATED)]
    power = [s for s in direct if s.category == Category.POWER]
    technical = [s for s in direct if s.pillar == Pillar.TECHNICAL]
    power_mean = math.fsum(s.proficiency or 0.0 for s in power) / len(power) if power else None
    tech_mean = (
        math.fsum(s.proficiency or 0.0 for s in technical) / len(technical) if technical else None
    )
    if power_mean is None:
        status = "not_assessed"
    elif tech_mean is not None and tech_mean - power_mean > params.power_gap_points:
        status = "far_below"
    else:
        status = "ok"
    return PowerSkillsCheck(
        status=status,
        assessed=sorted(s.id for s in power),
        power_mean=None if power_mean is None else round(power_mean, 1),
        technical_mean=None if tech_mean is None else round(tech_mean, 1),
    )
