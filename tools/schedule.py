"""When to audit next: quarterly by default, monthly micro-audits when stakes or volatility are high."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from knowledge.base import KnowledgeBase
from tools.errors import AuditRefused
from tools.params import ScoringParams
from tools.results import FatigueCheck, Schedule, SkillScore

TRIGGERS = (
    "a project finished or shipped",
    "a new certificate or course completed",
    "a new role, client or contract",
    "a model in production degraded or was retrained",
)


def check_fatigue(
    last_full_audit: dt.date | None, as_of: dt.date, params: ScoringParams, force: bool = False
) -> FatigueCheck:
    """Refuse a full audit within `fatigue_days` of the last one unless forced."""
    if last_full_audit is None:
        return FatigueCheck(last_full_audit=None, days_since=None, allowed=True, forced=force)
    days = (as_of - last_full_audit).days
    allowed = force or days >= params.fatigue_days
    return FatigueCheck(
        last_full_audit=last_full_audit, days_since=days, allowed=allowed, forced=force
    )


def require_allowed(check: FatigueCheck, params: ScoringParams) -> None:
    if not check.allowed:
        raise AuditRefused(
            f"the last full audit was {check.days_since} days ago (on {check.last_full_audit}); "
            f"skills rarely change within {params.fatigue_days} days, so a new full audit would "
            "mostly measure noise. Run a micro-audit of one skill, or force it with --force."
        )


def volatile_skills(
    skills: Sequence[SkillScore], kb: KnowledgeBase, params: ScoringParams
) -> list[str]:
    """Role skills whose knowledge half-life is short enough to need monthly checks."""
    return sorted(
        s.id
        for s in skills
        if s.role_level >= 3 and kb.demand[s.id].half_life_years < params.volatile_half_life_years
    )


def plan_schedule(
    as_of: dt.date,
    high_stakes: bool,
    volatile: Sequence[str],
    fatigue: FatigueCheck,
    params: ScoringParams,
) -> Schedule:
    """Next full audit date, micro-audit dates before it, and the reasons for the cadence."""
    next_audit = as_of + dt.timedelta(days=params.full_audit_interval_days)
    reasons = [f"quarterly full audit (every {params.full_audit_interval_days} days)"]
    micro: list[dt.date] = []
    if high_stakes or volatile:
        step = dt.timedelta(days=params.micro_audit_interval_days)
        day = as_of + step
        while day < next_audit:
            micro.append(day)
            day += step
        if high_stakes:
            reasons.append("monthly micro-audits: the role is marked high-stakes")
        if volatile:
            reasons.append(
                "monthly micro-audits: fast-changing skills (" + ", ".join(volatile) + ")"
            )
    return Schedule(
        next_audit=next_audit,
        cadence="quarterly+monthly" if micro else "quarterly",
        micro_audits=micro,
        reasons=reasons,
        triggers=list(TRIGGERS),
        fatigue=fatigue,
    )
