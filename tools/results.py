"""Typed results of the deterministic tools; `AuditResult` is what `audit --json` prints."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from knowledge.schema import Category, Pillar
from tools.params import SourceKind


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(Out):
    """One observation about one skill."""

    skill: str
    source: SourceKind
    strength: float = Field(ge=0, le=1)
    observed: dt.date
    origin: str = Field(description="where it came from, e.g. profile.self_ratings or github")
    signal: str = Field(
        default="", description="what was seen, e.g. dockerfile, ci_workflow, commit_activity"
    )
    detail: str = ""
    link: str | None = None


class SkillStatus(StrEnum):
    MEASURED = "measured"  # at least one source other than self-rating
    SELF_RATED = "self_rated"  # only the person's own rating
    INFERRED = "inferred"  # no direct evidence; transferred from related skills
    UNKNOWN = "unknown"  # nothing known; not counted as zero


class SourceSummary(Out):
    source: str
    count: int
    weight: float


class SkillScore(Out):
    id: str
    name: str
    pillar: Pillar
    category: Category
    role_level: int = Field(ge=0, le=5, description="level the target role needs; 0 = not required")
    relevance: float
    demand: float
    proficiency: float | None
    interval: tuple[float, float] | None
    confidence: float
    gap: float | None
    surplus: float | None
    severity: float | None
    status: SkillStatus
    sources: list[SourceSummary]
    evidence: list[Evidence]
    inferred_from: list[str] = Field(default_factory=list)
    reviewed: float | None = Field(
        default=None,
        ge=0,
        le=5,
        description="the rating (0-5) the person set in review; it sets proficiency (a decision, not evidence)",
    )
    evidence_proficiency: float | None = Field(
        default=None,
        description="what the evidence alone gives (0-100), shown beside a reviewed value",
    )


class PillarScore(Out):
    pillar: Pillar
    title: str
    score: float | None
    weight: float
    confidence: float
    coverage: float = Field(
        description="share of the role's demand-weighted skills with any estimate"
    )
    skills_known: int
    skills_unknown: int
    transferred_only: bool = Field(
        default=False,
        description="the score rests only on estimates transferred from related skills "
        "(nothing of the pillar rated, measured or checked)",
    )


class Gap(Out):
    skill: str
    name: str
    pillar: Pillar
    proficiency: float
    demand: float
    gap: float
    severity: float
    confidence: float
    status: SkillStatus


class OverallScore(Out):
    score: float | None
    confidence: float


class PulseSkill(Out):
    skill: str
    name: str
    proficiency: float
    trend: float
    half_life_years: float
    future_factor: float


class CareerPulse(Out):
    score: float | None
    horizon_years: float
    at_risk: list[PulseSkill]
    rising_gaps: list[PulseSkill]
    falling: list[PulseSkill] = Field(
        default_factory=list, description="skills you have whose demand is expected to fall"
    )


class MetricVerdict(Out):
    metric: str
    value: float
    percentile: float | None
    beyond_table: str | None = Field(description="'below' or 'above' the tabulated range")
    below_flag: bool
    baseline: float | None = Field(
        default=None, description="what a trivial model scores on this metric for the stated data"
    )
    baseline_label: str = ""
    beats_baseline: bool | None = None
    counts: bool = Field(default=False, description="counted as evidence of the model's quality")
    note: str = Field(default="", description="why the metric does or does not count")


class ModelFinding(Out):
    code: str
    message: str


class ModelVerdict(Out):
    name: str
    task: str
    metrics: list[MetricVerdict]
    quality_percentile: float | None
    flagged: bool
    findings: list[ModelFinding]
    dataset: str | None = Field(
        default=None, description="public dataset whose leaderboard ranked it"
    )
    compared_with: str = Field(default="", description="what the percentiles compare with")
    medal: str | None = Field(
        default=None, description="the competition medal that ranks it at least so high there"
    )
    below_baseline: bool = Field(
        default=False, description="some metric is at or below what a trivial model scores"
    )
    legal_basis: str | None = Field(
        default=None, description="the GDPR basis stated for personal training data, if any"
    )


class PowerSkillsCheck(Out):
    status: str = Field(description="ok, not_assessed or far_below")
    assessed: list[str]
    power_mean: float | None
    technical_mean: float | None


class IncomeSummary(Out):
    months_covered: int
    clients: int
    new_clients: int
    streams: int
    top_client_share: float | None
    client_concentration: float | None = Field(description="Herfindahl index of client shares")
    stream_concentration: float | None
    basis: str = Field(
        default="records",
        description="records (dated income entries) or stated (interview answers)",
    )
    total: float | None = Field(default=None, description="income over the last 12 months")
    previous_total: float | None = Field(
        default=None, description="income over the 12 months before"
    )
    growth: float | None = Field(
        default=None, description="relative change of income against the 12 months before"
    )
    retention: float | None = Field(
        default=None, description="share of the earlier 12 months' clients who paid again"
    )
    concentration_risk: bool = Field(
        default=False, description="top-client share at or above the concentration threshold"
    )
    stream_names: list[str] = Field(default_factory=list, description="the income streams seen")

    @property
    def from_employer(self) -> bool:
        """Whether the biggest payer is an employer: a salaried job with no client work
        beside it, or with one client at most (the employer itself)."""
        names = {n.replace(" ", "_") for n in self.stream_names}  # values or labels
        return "employment" in names and ("client_projects" not in names or self.clients <= 1)


class FatigueCheck(Out):
    last_full_audit: dt.date | None
    days_since: int | None
    allowed: bool
    forced: bool


class Schedule(Out):
    next_audit: dt.date
    cadence: str
    micro_audits: list[dt.date]
    reasons: list[str]
    triggers: list[str]
    fatigue: FatigueCheck


class PreviousAudit(Out):
    """What the last audit said, to notice a large change."""

    as_of: dt.date
    overall: float | None
    pillars: dict[str, float | None]


class ReviewFinding(Out):
    """Something a person must look at before the result is final (rendered by the engine)."""

    id: str
    kind: str
    skills: list[str]
    facts: dict[str, Any]


class GapReason(Out):
    """Why one top gap ranks where it does."""

    skill: str
    rank: int
    why: str


class Explanations(Out):
    """A short plain-words meaning for every figure a person sees."""

    overall: str
    confidence: str
    pillar: str = Field(description="what a pillar score means")
    pillars: dict[Pillar, str]
    gap: str
    demand: str
    ranking: str
    top_gaps: list[GapReason]
    pulse: str
    pulse_changes: list[str] = Field(description="rising and falling skills, in words")
    income: list[str] = Field(description="concentration, growth and retention, where known")
    models: list[str]


class AuditResult(Out):
    user: str
    target_role: str
    target_role_name: str
    career_stage: str
    as_of: dt.date
    methodology_version: str
    methodology: str
    knowledge_version: str
    weights: dict[Pillar, float]
    overall: OverallScore
    pillars: dict[Pillar, PillarScore]
    skills: list[SkillScore]
    top_gaps: list[Gap]
    unknown_skills: list[str]
    career_pulse: CareerPulse
    model_audit: list[ModelVerdict]
    power_skills: PowerSkillsCheck
    income: IncomeSummary | None
    schedule: Schedule
    review: list[ReviewFinding]
    # None for audits stored before methodology 2.0.0 (they are still read and shown).
    explain: Explanations | None = None
