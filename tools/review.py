"""Review findings: what a person must confirm or adjust before an audit is final.

Tools only say what to look at and why (kind, skills, facts); the engine renders the
question text from `prompts/review/`.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.numbers import shown
from tools.params import AUTOMATED_SOURCES, SourceKind
from tools.results import (
    Gap,
    IncomeSummary,
    ModelVerdict,
    PillarScore,
    PowerSkillsCheck,
    PreviousAudit,
    ReviewFinding,
    SkillScore,
    SkillStatus,
)

LOW_COVERAGE = 0.5
LARGE_CHANGE_OVERALL = 15.0  # points of overall score between two audits
LARGE_CHANGE_PILLAR = 20.0
# A check whose estimate is this many points from the self-rating contradicts it: more than
# one step of the 0-5 scale (20 points) and beyond a check's usual uncertainty (SD 10-20).
CHECK_CONTRADICTION = 25.0
# An endorsement two steps of the 0-5 scale (40 points) from the self-rating is far from it.
ENDORSEMENT_DISTANCE = 40.0
# Fields outside ML whose years build some of its skills: a self-rating of 2 or less for one of
# them, beside 3 years or more in the field, is asked about in its own words.
EXPERIENCE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "software": ("software development", ("software_engineering", "git", "api_development")),
    "devops": ("DevOps and operations", ("linux_shell", "docker", "ci_cd_ml", "cloud_platforms")),
    "data_engineering": ("data engineering", ("data_pipelines", "sql")),
    "statistics": ("statistics", ("statistics",)),
}
EXPERIENCE_YEARS = 3.0
EXPERIENCE_LOW = 40.0  # a rating of 2/5 or less
MODEL_REVIEW_CODES = frozenset(
    {
        "at_or_below_baseline",
        "accuracy_on_imbalanced",
        "below_p75",
        "balance_unknown",
        "personal_data_no_basis",
        "fairness_gap",
    }
)


def review_findings(
    skills: Sequence[SkillScore],
    gaps: Sequence[Gap],
    pillars: Sequence[PillarScore],
    power: PowerSkillsCheck,
    models: Sequence[ModelVerdict],
    overall: float | None = None,
    previous: PreviousAudit | None = None,
    income: IncomeSummary | None = None,
    experience: dict[str, float] | None = None,
) -> list[ReviewFinding]:
    """Every finding in a stable order: change, gaps, coverage, power skills, income, models.
    `experience`: years in fields outside ML ("software": 8), set against low self-ratings."""
    findings: list[ReviewFinding] = []
    if previous is not None:
        findings += _large_change(overall, pillars, previous)
    by_id = {s.id: s for s in skills}
    for gap in gaps:
        if gap.status == SkillStatus.SELF_RATED:
            skill = by_id[gap.skill]
            facts = {
                "name": skill.name,
                "proficiency": shown(skill.proficiency),
                "demand": shown(skill.demand),
                "gap": shown(skill.gap, 2),
                "confidence": shown(skill.confidence, 2),
            }
            field = _field_behind(skill, experience or {})
            if field is not None:  # "8 years in software", yet Software Engineering 1/5
                label, years = field
                facts |= {"field": label, "years": shown(years, 1)}
            findings.append(
                ReviewFinding(
                    id=f"self_rating_only:{gap.skill}",
                    kind="self_rating_vs_experience" if field else "self_rating_only",
                    skills=[gap.skill],
                    facts=facts,
                )
            )
    in_gaps = {g.skill for g in gaps}
    rest = [
        s.id
        for s in skills
        if s.status == SkillStatus.SELF_RATED and s.relevance > 0 and s.id not in in_gaps
    ]
    if rest:
        findings.append(_group("self_rating_only_rest", rest, by_id))
    unknown = [
        s.id
        for s in sorted(skills, key=lambda s: (-s.relevance, s.id))
        if s.status == SkillStatus.UNKNOWN
    ]
    if unknown:
        findings.append(_group("no_evidence", unknown, by_id))
    inferred = [s.id for s in skills if s.status == SkillStatus.INFERRED and s.relevance > 0]
    if inferred:
        findings.append(_group("inferred_only", inferred, by_id))
    automated = [
        s.id
        for s in skills
        if s.status == SkillStatus.MEASURED
        and s.evidence
        and all(e.source in AUTOMATED_SOURCES for e in s.evidence)
    ]
    if automated:
        findings.append(_group("automated_only", automated, by_id))
    findings += second_opinions(skills)
    for pillar in pillars:
        if pillar.coverage < LOW_COVERAGE and pillar.skills_known + pillar.skills_unknown > 0:
            findings.append(
                ReviewFinding(
                    id=f"low_coverage:{pillar.pillar.value}",
                    kind="low_coverage",
                    skills=[],
                    facts={
                        "pillar": pillar.title,
                        "coverage": pillar.coverage,
                        "unknown": pillar.skills_unknown,
                        "score": shown(pillar.score),
                    },
                )
            )
    if power.status != "ok":
        findings.append(
            ReviewFinding(
                id=f"power_skills:{power.status}",
                kind=f"power_skills_{power.status}",
                skills=power.assessed,
                facts={
                    "power_mean": shown(power.power_mean, 0),
                    "technical_mean": shown(power.technical_mean, 0),
                },
            )
        )
    findings += income_findings(income)
    findings += model_findings(models)
    return findings


def _field_behind(skill: SkillScore, experience: dict[str, float]) -> tuple[str, float] | None:
    """The field outside ML whose years should show in this low self-rated skill, if any."""
    if skill.proficiency is None or skill.proficiency > EXPERIENCE_LOW:
        return None
    for key, years in experience.items():
        label, built = EXPERIENCE_FIELDS.get(key, ("", ()))
        if years >= EXPERIENCE_YEARS and skill.id in built:
            return label, years
    return None


def second_opinions(skills: Sequence[SkillScore]) -> list[ReviewFinding]:
    """Skills whose latest check contradicts the self-rating, or with an endorsement far from it."""
    findings: list[ReviewFinding] = []
    for skill in skills:
        own = [e for e in skill.evidence if e.source == SourceKind.SELF_RATING]
        if not own:
            continue
        rated = 100 * own[-1].strength
        facts = {"name": skill.name, "rating": round(rated / 20, 1), "rated": round(rated),
                 "proficiency": skill.proficiency}  # fmt: skip
        checks = [e for e in skill.evidence if e.source == SourceKind.SKILL_CHECK]
        if checks:
            latest = max(checks, key=lambda e: (e.observed, e.detail))
            estimate = 100 * latest.strength
            if abs(estimate - rated) >= CHECK_CONTRADICTION:
                findings.append(
                    ReviewFinding(
                        id=f"check_contradicts_self_rating:{skill.id}",
                        kind="check_contradicts_self_rating",
                        skills=[skill.id],
                        facts={
                            **facts,
                            "estimate": round(estimate, 1),
                            "detail": latest.detail,
                            "above": estimate > rated,
                        },
                    )
                )
        peers = [
            e
            for e in skill.evidence
            if e.source == SourceKind.PEER_REVIEW
            and abs(100 * e.strength - rated) >= ENDORSEMENT_DISTANCE
        ]
        if peers:
            far = max(peers, key=lambda e: (abs(100 * e.strength - rated), e.detail))
            findings.append(
                ReviewFinding(
                    id=f"endorsement_far_from_self_rating:{skill.id}",
                    kind="endorsement_far_from_self_rating",
                    skills=[skill.id],
                    facts={
                        **facts,
                        "endorsed": round(5 * far.strength, 1),
                        "count": len(peers),
                        "relationship": far.signal or "peer",
                        "detail": far.detail,
                        "above": far.strength * 100 > rated,
                    },
                )
            )
    return findings


# Streams a freelancer can add next to client work, in the interview's words.
OTHER_STREAMS = ("teaching, workshops or mentoring", "products, templates or software sales",
                 "writing, videos or a newsletter", "retainers with a second or third client")  # fmt: skip


def income_findings(income: IncomeSummary | None) -> list[ReviewFinding]:
    """A top client at or above the threshold share: what diversification would mean here."""
    if income is None or not income.concentration_risk or income.top_client_share is None:
        return []
    if income.from_employer:
        return []  # one employer is how a salaried job works, not a risk to review
    share = income.top_client_share
    have = " ".join(income.stream_names)
    ideas = [s for s in OTHER_STREAMS if s.split()[0].rstrip(",") not in have]
    return [
        ReviewFinding(
            id="client_concentration",
            kind="client_concentration",
            skills=["income_diversification", "client_acquisition"],
            facts={
                "share": round(share * 100),
                "clients": income.clients,
                "streams": income.streams,
                "extra": round(max(0.0, 2 * share - 1) * 100),
                "total": income.total,
                "growth": None if income.growth is None else round(income.growth * 100),
                "retention": None if income.retention is None else round(income.retention * 100),
                "ideas": ideas[:3],
            },
        )
    ]


def model_findings(models: Sequence[ModelVerdict]) -> list[ReviewFinding]:
    """Review findings for model pitfalls: imbalance, low rank, unknown balance, personal data."""
    return [
        ReviewFinding(
            id=f"model_{finding.code}:{model.name}",
            kind=f"model_{finding.code}",
            skills=[],
            facts={
                "model": model.name,
                "task": model.task,
                "dataset": model.dataset,
                "detail": finding.message,
                "quality_percentile": model.quality_percentile,
            },
        )
        for model in models
        for finding in model.findings
        if finding.code in MODEL_REVIEW_CODES
    ]


def _large_change(
    overall: float | None, pillars: Sequence[PillarScore], previous: PreviousAudit
) -> list[ReviewFinding]:
    moved = []
    for pillar in pillars:
        before = previous.pillars.get(pillar.pillar.value)
        if (
            before is not None
            and pillar.score is not None
            and abs(pillar.score - before) >= LARGE_CHANGE_PILLAR
        ):
            moved.append(f"{pillar.title} {pillar.score - before:+.0f}")
    change = None if overall is None or previous.overall is None else overall - previous.overall
    if not moved and (change is None or abs(change) < LARGE_CHANGE_OVERALL):
        return []
    return [
        ReviewFinding(
            id="large_change",
            kind="large_change",
            skills=[],
            facts={
                "previous_date": previous.as_of.isoformat(),
                "before": previous.overall,
                "after": None if overall is None else round(overall, 1),
                "change": None if change is None else round(change, 1),
                "moved": moved,
            },
        )
    ]


def _group(kind: str, ids: list[str], by_id: dict[str, SkillScore]) -> ReviewFinding:
    return ReviewFinding(
        id=kind,
        kind=kind,
        skills=ids,
        facts={"names": [by_id[i].name for i in ids], "count": len(ids)},
    )
