"""Run a whole MLSAF audit from a validated profile: the one function the engine calls."""

from __future__ import annotations

import datetime as dt

from knowledge.base import KnowledgeBase
from knowledge.schema import Pillar
from tools.errors import ProfileError
from tools.explain import explain_audit
from tools.income import StatedIncome, income_evidence, income_summary
from tools.model_audit import audit_model, model_evidence
from tools.params import (
    DEFAULT_PARAMS,
    METHODOLOGY_URL,
    METHODOLOGY_VERSION,
    ScoringParams,
    SourceKind,
)
from tools.power_skills import check_power_skills
from tools.profile import Profile
from tools.pulse import career_pulse
from tools.results import AuditResult, Evidence, PreviousAudit
from tools.review import review_findings
from tools.schedule import check_fatigue, plan_schedule, require_allowed, volatile_skills
from tools.scoring import overall_score, pillar_scores, score_skills, top_gaps


def profile_evidence(
    profile: Profile, kb: KnowledgeBase, as_of: dt.date, params: ScoringParams
) -> list[Evidence]:
    """Evidence stated in the profile itself: ratings, certificates, given evidence items."""
    items = [
        Evidence(
            skill=skill,
            source=SourceKind.SELF_RATING,
            strength=rating / 5,
            observed=as_of,
            origin=f"profile.{field}",
            detail=f"self-rated {rating:g}/5",
        )
        for field, ratings in (
            ("self_ratings", profile.self_ratings),
            ("soft_skills", profile.soft_skills),
            # A rating set in review is also the person's word on the skill: it counts as their
            # self-rating when they gave none (the decision itself is applied in scoring).
            ("reviewed", _unrated(profile)),
        )
        for skill, rating in ratings.items()
    ]
    for cert in profile.certificates:
        strength = params.certificate_strength[cert.level or "intermediate"]
        by = f" ({cert.provider})" if cert.provider else ""
        items += [
            Evidence(
                skill=skill,
                source=SourceKind.CERTIFICATE,
                strength=strength,
                observed=cert.date,
                origin="profile.certificates",
                detail=f"certificate: {cert.name}{by}",
            )
            for skill in cert.skills
        ]
    items += [
        Evidence(
            skill=e.skill,
            source=e.source,
            strength=e.strength,
            observed=e.observed,
            origin=e.origin,
            signal=e.signal,
            detail=e.detail,
            link=e.link,
        )
        for e in profile.evidence
    ]
    return items


def _unrated(profile: Profile) -> dict[str, float]:
    """Reviewed ratings of skills the profile does not rate otherwise."""
    rated = {*profile.self_ratings, *profile.soft_skills}
    return {s: r for s, r in profile.reviewed.items() if s not in rated}


def check_dates(profile: Profile, as_of: dt.date) -> list[str]:
    """Dates after the audit date are mistakes (or the wrong --as-of)."""
    problems = []
    dated = [
        *((f"certificates.{i}.date", c.date) for i, c in enumerate(profile.certificates)),
        *((f"models.{i}.date", m.date) for i, m in enumerate(profile.models)),
        *((f"income.{i}.date", e.date) for i, e in enumerate(profile.income)),
        *((f"evidence.{i}.observed", e.observed) for i, e in enumerate(profile.evidence)),
        ("last_full_audit", profile.last_full_audit),
    ]
    for field, day in dated:
        if day is not None and day > as_of:
            problems.append(f"{field}: {day} is after the audit date {as_of}")
    return problems


def run_audit(
    profile: Profile,
    kb: KnowledgeBase,
    as_of: dt.date,
    params: ScoringParams = DEFAULT_PARAMS,
    force: bool = False,
    extra_evidence: list[Evidence] | None = None,
    previous: PreviousAudit | None = None,
) -> AuditResult:
    """Score the profile; raise AuditRefused when the fatigue guard says it is too soon."""
    problems = check_dates(profile, as_of)
    if problems:
        raise ProfileError(problems)
    fatigue = check_fatigue(profile.last_full_audit, as_of, params, force)
    require_allowed(fatigue, params)
    role = kb.roles[profile.target_role]
    weights = profile.weights.normalized() if profile.weights else dict(params.pillar_weights)
    verdicts = [(m, audit_model(m, kb, params)) for m in profile.models]
    stated = StatedIncome(profile.clients, profile.top_client_share, profile.income_streams)
    income = income_summary(profile.income, as_of, params, stated, profile.income_records)
    given = [
        *profile_evidence(profile, kb, as_of, params),
        *income_evidence(income, as_of, params),
        *(extra_evidence or []),
    ]
    named = {e.skill for e in given}
    evidence = [*given, *model_evidence(verdicts, kb, as_of, params, named)]
    skills = score_skills(evidence, kb, role, weights, as_of, params, profile.reviewed)
    pillars = pillar_scores(skills, weights)
    gaps = top_gaps(skills, params.top_gaps)
    power = check_power_skills(skills, params)
    models = [v for _, v in verdicts]
    overall = overall_score(pillars)
    pulse = career_pulse(skills, kb, params)
    explain = explain_audit(
        role=role, overall=overall, pillars=pillars, skills=skills, gaps=gaps, weights=weights,
        pulse=pulse, income=income, models=models, demand_note=_demand_note(kb), params=params,
    )  # fmt: skip
    return AuditResult(
        user=profile.user,
        target_role=role.id,
        target_role_name=role.name,
        career_stage=profile.career_stage.value,
        as_of=as_of,
        methodology_version=METHODOLOGY_VERSION,
        methodology=METHODOLOGY_URL,
        knowledge_version=kb.version,
        weights={p: weights[p] for p in Pillar},
        overall=overall,
        pillars=pillars,
        skills=skills,
        top_gaps=gaps,
        unknown_skills=[s.id for s in skills if s.proficiency is None],
        career_pulse=pulse,
        model_audit=models,
        power_skills=power,
        income=income,
        schedule=plan_schedule(
            as_of,
            profile.high_stakes or role.high_stakes,
            volatile_skills(skills, kb, params),
            fatigue,
            params,
        ),
        review=review_findings(
            skills,
            gaps,
            list(pillars.values()),
            power,
            models,
            overall.score,
            previous,
            income,
            profile.experience_elsewhere,
        ),
        explain=explain,
    )


def _demand_note(kb: KnowledgeBase) -> str:
    """Where the demand figures come from, for the explanation."""
    measured = [s for s in kb.demand_file.sources if s.id == "user_job_postings"]
    if measured:
        return f"here measured from {measured[0].title}."
    return (
        f"these are editorial estimates as of {kb.demand_file.as_of} from public surveys and posting "
        "analyses (about +/-15 points), replaced by your own postings when you connect them."
    )
