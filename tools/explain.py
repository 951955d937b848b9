"""Plain-words meanings of every figure an audit shows, and why top gaps rank where they do.

The same sentences appear in the chat summary, the `why` answers, the readable audit and
the "How to read this" section of every report, so they are computed once, here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from knowledge.schema import Pillar, RoleProfile
from tools.numbers import metric_label, percent
from tools.params import ScoringParams, SourceKind
from tools.results import (
    CareerPulse,
    Explanations,
    Gap,
    GapReason,
    IncomeSummary,
    ModelVerdict,
    OverallScore,
    PillarScore,
    SkillScore,
    SkillStatus,
)

LOW_CONFIDENCE = 0.30
HIGH_CONFIDENCE = 0.60


def confidence_band(confidence: float) -> str:
    """Low, moderate or high, with the cut-offs used everywhere."""
    if confidence < LOW_CONFIDENCE:
        return "low"
    return "moderate" if confidence < HIGH_CONFIDENCE else "high"


def _score_band(score: float) -> str:
    if score >= 85:
        return "few gaps"
    if score >= 70:
        return "some gaps"
    return "clear gaps" if score >= 50 else "large gaps"


def explain_overall(overall: OverallScore, role: RoleProfile) -> str:
    """What the overall score is and is not."""
    if overall.score is None:
        return "No overall score yet: none of the role's skills is known. Rate a few to get one."
    return (
        f"{overall.score:.0f}/100 ({_score_band(overall.score)}) says how far your known skills meet what "
        f"the market asks of a {role.name}, averaged over the four pillars with their weights; 100 would "
        "mean no gap among the skills known. It is not a ranking against other people, and skills "
        "nobody knows yet are left out rather than counted as zero."
    )


def explain_confidence(
    overall: OverallScore, skills: Sequence[SkillScore], params: ScoringParams
) -> str:
    """What the confidence figure says and how to raise it."""
    needed = [s for s in skills if s.relevance > 0]
    unknown = sum(1 for s in needed if s.status == SkillStatus.UNKNOWN)
    weights: dict[str, float] = {}
    for skill in needed:
        for source in skill.sources:
            weights[source.source] = weights.get(source.source, 0.0) + source.weight
    total = math.fsum(weights.values())
    own = weights.get(SourceKind.SELF_RATING, 0.0) / total if total else 0.0
    band = confidence_band(overall.confidence)
    if total == 0:
        basis = "nothing is known yet about the role's skills"
    elif own >= 0.6:
        basis = (
            f"{own:.0%} of the evidence is your own ratings, which count "
            f"{params.reliability[SourceKind.SELF_RATING]:.2f} each and never pass "
            f"{params.self_only_confidence_cap:.2f} on their own"
        )
    else:
        basis = f"{1 - own:.0%} of the evidence comes from records other than your own ratings"
    gaps = f"; {unknown} of the role's {len(needed)} skills are still unknown" if unknown else ""
    return (
        f"Confidence {overall.confidence:.2f} on a 0-1 scale is {band}: {basis}{gaps}. It rises with "
        "outside evidence (code, certificates, model metrics with their class balance, income records) "
        "and with ratings for the unknown skills."
    )


def explain_pillar(pillar: PillarScore) -> str:
    """What one pillar score means."""
    if pillar.score is None:
        return f"{pillar.title}: no skill of this pillar is known yet, so it has no score."
    return (
        f"{pillar.title} {pillar.score:.0f}: the demand-weighted share of market demand your known skills "
        f"in this pillar meet ({pillar.coverage:.0%} of the pillar's required skills are known; it weighs "
        f"{pillar.weight:.0%} of the overall score)."
    )


PILLAR_MEANING = (
    "A pillar score (0-100) is the share of market demand your known skills in that pillar meet, "
    "weighted by demand, by how much the role needs each skill and by how sure the audit is; "
    '"% known" is how much of the pillar\'s required skills has any estimate at all.'
)

GAP_MEANING = (
    "Gap = (demand - proficiency) / demand, from 0 to 1: 0 means you meet what the market asks for the "
    "skill, 0.5 that you are halfway, 1 that nothing of it is shown yet. Being above demand counts as 0 "
    "(a surplus), never as a negative gap."
)


def explain_demand(role: RoleProfile, demand_note: str) -> str:
    """What the demand figures are."""
    return (
        f"Demand (0-100) estimates how often {role.name} job postings ask for a skill, relative to the "
        f"most requested skills; {demand_note} It describes the market, not what the role requires: "
        "the role's required level is used once, to rank the gaps."
    )


def explain_ranking(params: ScoringParams) -> str:
    """How top gaps are ordered."""
    return (
        "Top gaps are ordered by impact on your role, not by the gap alone: severity = gap x demand/100 x "
        "the level the role needs (out of 5) x the pillar's weight. A half-closed gap in a skill the role "
        "leans on can outrank a wide gap in a minor one. Skills known only by transfer from related "
        f"skills are not listed; the top {params.top_gaps} are shown."
    )


def _factors(gap: Gap, skill: SkillScore, weights: dict[Pillar, float]) -> str:
    return (
        f"gap {gap.gap:.2f} x demand {gap.demand:.0f}/100 x role level {skill.role_level}/5 x "
        f"{skill.pillar.label} weight {weights[skill.pillar]:.0%}"
    )


def explain_top_gaps(
    gaps: Sequence[Gap], skills: Sequence[SkillScore], weights: dict[Pillar, float]
) -> list[GapReason]:
    """Why each top gap ranks where it does, naming a wider gap it outranks when there is one."""
    by_id = {s.id: s for s in skills}
    reasons = []
    for rank, gap in enumerate(gaps, 1):
        skill = by_id[gap.skill]
        why = f"#{rank}, severity {gap.severity:.3f} = {_factors(gap, skill, weights)}"
        below = [g for g in gaps[rank:] if g.gap > gap.gap]
        if below:
            other = below[0]
            o_skill = by_id[other.skill]
            because = []
            if skill.role_level > o_skill.role_level:
                because.append(
                    f"the role needs it at level {skill.role_level} against {o_skill.role_level}"
                )
            if gap.demand > other.demand:
                because.append(f"demand is {gap.demand:.0f} against {other.demand:.0f}")
            if weights[skill.pillar] > weights[o_skill.pillar]:
                because.append(f"its pillar weighs {weights[skill.pillar]:.0%}")
            if because:
                why += f"; it ranks above {other.name} (gap {other.gap:.2f}) because {' and '.join(because)}"
        if gap.status == SkillStatus.SELF_RATED:
            why += "; it rests on your own rating alone, so check it before acting on it"
        reasons.append(GapReason(skill=gap.skill, rank=rank, why=why))
    return reasons


def explain_pulse(pulse: CareerPulse) -> tuple[str, list[str]]:
    """What the career pulse means, and the rising and falling skills in words."""
    if pulse.score is None:
        text = "No career pulse yet: it needs at least one skill you have shown."
    else:
        text = (
            f"Career pulse {pulse.score:.0f}/100: the share of the value of your current skills (proficiency x "
            f"market demand) expected to hold over the next {pulse.horizon_years:g} years, given each skill's "
            "demand trend and how fast its know-how goes stale; 100 would mean everything you know is "
            "growing in demand. It is a deterministic estimate from the demand file, not a prediction."
        )
    changes = []
    if pulse.rising_gaps:
        changes.append(
            "Rising in demand where you are below it: "
            + ", ".join(f"{s.name} ({s.trend:+.0%}/yr)" for s in pulse.rising_gaps)
        )
    if pulse.falling:
        changes.append(
            "Falling in demand among your skills: "
            + ", ".join(f"{s.name} ({s.trend:+.0%}/yr)" for s in pulse.falling)
        )
    if pulse.at_risk:
        changes.append(
            "Likely to go stale within the horizon: " + ", ".join(s.name for s in pulse.at_risk)
        )
    return text, changes


def explain_income(income: IncomeSummary | None, params: ScoringParams) -> list[str]:
    """Client concentration, income growth and retention in plain words."""
    if income is None:
        return []
    lines = []
    share = income.top_client_share
    employed = income.from_employer
    if share is not None and income.concentration_risk:
        if employed:
            lines.append(
                f"{percent(share)} of your income comes from one employer: normal for a salaried job, but a "
                "single point of failure if you freelance."
            )
        else:
            extra = 2 * share - 1
            lines.append(
                f"{percent(share)} of your income comes from one client: a concentration risk (at or above "
                f"{params.client_concentration_threshold:.0%}). Losing that client would cut your income by "
                f"{percent(share)}; to bring it below half you would need about {percent(extra)} of today's income "
                "more from other clients or streams."
            )
    elif share is not None:
        lines.append(
            f"Your biggest client brings {percent(share)} of your income: below the risk line."
        )
    if income.growth is not None:
        lines.append(
            f"Income over the last 12 months is {income.growth:+.0%} against the 12 months before."
        )
    if income.retention is not None:
        lines.append(
            f"{income.retention:.0%} of the clients who paid you in the 12 months before paid you again."
        )
    return lines


def explain_model(model: ModelVerdict) -> str:
    """What a model's quality percentile and baseline comparison mean."""
    counted = [metric_label(m.metric) for m in model.metrics if m.counts]
    if model.quality_percentile is None:
        head = (
            f"{model.name}: no quality percentile, none of its metrics counts as quality evidence"
        )
    else:
        head = (
            f"{model.name}: quality percentile {model.quality_percentile:.0f} means it scores better than about "
            f"{model.quality_percentile:.0f}% of {model.compared_with} (from {', '.join(counted)})"
        )
    skipped = [
        f"{metric_label(m.metric)}: {m.note}"
        for m in model.metrics
        if not m.counts and m.note and m.metric != "latency_ms"
    ]
    tail = f"; not counted: {'; '.join(skipped)}" if skipped else ""
    return head + tail + "."


def explain_audit(
    *,
    role: RoleProfile,
    overall: OverallScore,
    pillars: dict[Pillar, PillarScore],
    skills: Sequence[SkillScore],
    gaps: Sequence[Gap],
    weights: dict[Pillar, float],
    pulse: CareerPulse,
    income: IncomeSummary | None,
    models: Sequence[ModelVerdict],
    demand_note: str,
    params: ScoringParams,
) -> Explanations:
    """Every meaning of one audit."""
    pulse_text, changes = explain_pulse(pulse)
    return Explanations(
        overall=explain_overall(overall, role),
        confidence=explain_confidence(overall, skills, params),
        pillar=PILLAR_MEANING,
        pillars={p: explain_pillar(score) for p, score in pillars.items()},
        gap=GAP_MEANING,
        demand=explain_demand(role, demand_note),
        ranking=explain_ranking(params),
        top_gaps=explain_top_gaps(gaps, skills, weights),
        pulse=pulse_text,
        pulse_changes=changes,
        income=explain_income(income, params),
        models=[explain_model(m) for m in models],
    )


def explain_skill(skill: SkillScore) -> str:
    """One skill's numbers in plain words, for a `why` answer."""
    if skill.proficiency is None:
        return f"{skill.name}: nothing is known yet, so it is left out (not counted as zero)."
    parts = [f"{s.source.replace('_', ' ')} x{s.count}" for s in skill.sources]
    if skill.status == SkillStatus.INFERRED:
        basis = f"estimated only from related skills you have ({', '.join(skill.inferred_from)})"
    else:
        basis = "from " + ", ".join(parts)
    mean = "the weighted mean of its evidence"
    if skill.reviewed is not None:
        basis = f"as you set it in review ({skill.reviewed:g}/5)"
        if skill.evidence_proficiency is not None and round(skill.evidence_proficiency) != round(
            skill.proficiency
        ):
            basis += f"; the evidence ({', '.join(parts)}) gives {skill.evidence_proficiency:.0f}"
        mean = "the value you set: a decision, not evidence, so confidence is the evidence's"
    band = confidence_band(skill.confidence)
    text = (
        f"{skill.name}: {skill.proficiency:.0f}/100 {basis}; confidence {skill.confidence:.2f} is {band}. "
        f"Demand {skill.demand:.0f} is the market estimate for the role."
    )
    if skill.gap is None:
        return text
    formula = (
        f" (Proficiency is {mean}; gap = ({skill.demand:g} - "
        f"{skill.proficiency:g}) / {skill.demand:g}, clipped to 0-1.)"
    )
    if skill.surplus:
        return (
            text
            + " You are above demand, so the gap counts as 0 (a surplus, not a negative gap)."
            + formula
        )
    points = skill.demand - skill.proficiency
    return (
        text
        + f" Gap {skill.gap:.2f}: {points:.0f} points below demand, out of {skill.demand:.0f}."
        + formula
    )
