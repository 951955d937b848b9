"""Pydantic models for the knowledge data files under `knowledge/data/`."""

from __future__ import annotations

import itertools
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

SkillId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")]


class Pillar(StrEnum):
    """The four MLSAF pillars; the value is the id used in files and results."""

    TECHNICAL = "technical"
    LIFECYCLE = "lifecycle"
    ETHICS = "ethics"
    CAREER = "career"

    @property
    def label(self) -> str:
        return PILLAR_TITLES[self]


PILLAR_TITLES: dict[Pillar, str] = {
    Pillar.TECHNICAL: "Technical Proficiency",
    Pillar.LIFECYCLE: "Model Lifecycle Management",
    Pillar.ETHICS: "Ethical Governance",
    Pillar.CAREER: "Career Integration",
}


class Category(StrEnum):
    """Finer grouping inside a pillar; `power` and `business` are the soft skills."""

    FOUNDATIONS = "foundations"  # math, statistics, programming
    ML = "ml"  # modelling families and algorithms
    LIBRARIES = "libraries"  # frameworks and tools of the trade
    DATA = "data"  # data engineering, pipelines, storage
    OPERATIONS = "operations"  # deployment, serving, monitoring, infra
    GOVERNANCE = "governance"  # fairness, privacy, documentation, regulation
    POWER = "power"  # communication, negotiation, client management...
    BUSINESS = "business"  # pricing, acquisition, income diversification...
    BACKGROUND = "background"  # transferable work outside ML (teaching, software eng.)


def normalize_name(text: str) -> str:
    """Fold a name for lenient matching: case, spaces, hyphens, underscores, dots ignored."""
    return re.sub(r"[\s_\-.]+", "", text.strip().lower())


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where an outside figure came from."""

    id: SkillId
    title: str
    publisher: str
    year: int = Field(ge=2000, le=2030)
    url: HttpUrl | None = None
    note: str = ""


class RelatedSkill(Strict):
    """Proficiency in the owning skill counts toward `skill` at factor `transfer`."""

    skill: SkillId
    transfer: float = Field(gt=0.0, le=0.8)


class Skill(Strict):
    id: SkillId
    name: str = Field(min_length=2)
    pillar: Pillar
    category: Category
    description: str = Field(min_length=10)
    aliases: list[str] = Field(default_factory=list)
    # Names that resolve the skill when given on their own (a rating, a profile key, a course
    # title) but mostly mean something else in running text: "excel at", "react quickly",
    # "shipping containers". The free-text matcher reads only `aliases`.
    exact_names: list[str] = Field(default_factory=list)
    related: list[RelatedSkill] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_self_transfer(self) -> Skill:
        if any(r.skill == self.id for r in self.related):
            raise ValueError(f"skill {self.id} lists itself as related")
        return self


class Taxonomy(Strict):
    version: str
    skills: list[Skill]


class RoleProfile(Strict):
    """A target role and the level (1 aware .. 5 expert) it needs in each skill."""

    id: SkillId
    name: str
    description: str
    aliases: list[str] = Field(default_factory=list)
    high_stakes: bool = False
    skills: dict[SkillId, int]

    @field_validator("skills")
    @classmethod
    def _levels_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if not 1 <= v <= 5}
        if bad:
            raise ValueError(f"role levels must be 1..5, got {bad}")
        return value


class RolesFile(Strict):
    version: str
    roles: list[RoleProfile]


class DemandEntry(Strict):
    """Market demand for one skill (0-100), its annual trend and knowledge half-life."""

    skill: SkillId
    overall: float = Field(ge=1.0, le=100.0)
    by_role: dict[SkillId, float] = Field(default_factory=dict)
    trend: float = Field(ge=-0.6, le=1.0, description="annual relative change in demand")
    half_life_years: float = Field(ge=0.5, le=40.0)
    sources: list[SkillId] = Field(min_length=1)
    estimate: bool = True
    note: str = ""

    @field_validator("by_role")
    @classmethod
    def _role_demand_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not 1.0 <= v <= 100.0}
        if bad:
            raise ValueError(f"role demand must be 1..100, got {bad}")
        return value


class DemandFile(Strict):
    as_of: date
    method: str
    sources: list[Source]
    skills: list[DemandEntry]


class ReferenceKind(StrEnum):
    """What a documented reference point is."""

    WINNER = "winner"  # the best public result on the data
    MEDIAN = "median"  # the middle of a public leaderboard
    SIMPLE_BASELINE = "simple_baseline"  # a simple, sensible model (naive forecast, few features)
    TRIVIAL_BASELINE = "trivial_baseline"  # no model at all: random, majority class, mean


class ReferencePoint(Strict):
    """A documented score and the percentile range the table must give it."""

    label: str = Field(min_length=3)
    kind: ReferenceKind
    value: float
    at_least: float | None = Field(default=None, ge=0, le=100)
    below: float | None = Field(default=None, ge=0, le=100)
    source: SkillId
    date: date
    how: str = Field(min_length=20, description="how the figure was obtained and placed")

    @model_validator(mode="after")
    def _placed(self) -> ReferencePoint:
        if self.at_least is None and self.below is None:
            raise ValueError(f"{self.label}: give at_least or below")
        if self.kind == ReferenceKind.WINNER and (self.at_least or 0) < 95:
            raise ValueError(f"{self.label}: a winner must be placed at_least 95")
        if self.kind == ReferenceKind.TRIVIAL_BASELINE and (self.below is None or self.below > 25):
            raise ValueError(f"{self.label}: a trivial baseline must be placed below 25 or lower")
        return self


class MetricPercentiles(Strict):
    """Values of one metric at fixed percentiles among similar projects."""

    metric: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    higher_is_better: bool = True
    points: dict[int, float]
    references: list[ReferencePoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _monotonic(self) -> MetricPercentiles:
        required = {10, 25, 50, 75, 90}
        if not required <= set(self.points):
            raise ValueError(f"{self.metric}: percentiles {sorted(required)} are required")
        ordered = [self.points[p] for p in sorted(self.points)]
        pairs = list(itertools.pairwise(ordered))
        ok = all(a < b for a, b in pairs) if self.higher_is_better else all(a > b for a, b in pairs)
        if not ok:
            direction = "increase" if self.higher_is_better else "decrease"
            raise ValueError(f"{self.metric}: values must {direction} with the percentile")
        return self


# A competition medal: a rank on the private leaderboard (see `DatasetBenchmark.medals`).
Medal = Literal["bronze", "silver", "gold"]


class DatasetBenchmark(Strict):
    """A public dataset with a documented leaderboard: models on it rank against its own scores."""

    id: SkillId
    name: str
    aliases: list[str] = Field(default_factory=list)
    positive_rate: float | None = Field(default=None, gt=0, lt=1)
    basis: str = Field(min_length=20)
    sources: list[SkillId] = Field(min_length=1)
    metrics: list[MetricPercentiles] = Field(min_length=1)
    medals: dict[Medal, float] = Field(
        default_factory=dict,
        description=(
            "the percentile each competition medal guarantees at least, from the medal rules "
            "and the number of teams (a medal is a rank on the private leaderboard)"
        ),
    )


class TaskBenchmark(Strict):
    id: SkillId
    name: str
    aliases: list[str] = Field(default_factory=list)
    skills: list[SkillId] = Field(
        min_length=1,
        description="skills a model of this task evidences: its task family and model evaluation",
    )
    basis: str = Field(min_length=20)
    sources: list[SkillId] = Field(min_length=1)
    metrics: list[MetricPercentiles] = Field(min_length=2)
    datasets: list[DatasetBenchmark] = Field(default_factory=list)


class BenchmarksFile(Strict):
    as_of: date
    method: str
    sources: list[Source]
    tasks: list[TaskBenchmark]


ResourceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{2,80}$")]


class ResourceType(StrEnum):
    COURSE = "course"
    BOOK = "book"
    DOCS = "docs"  # official documentation or guide
    TUTORIAL = "tutorial"
    FRAMEWORK = "framework"  # maturity models, checklists, standards, regulations
    TOOLKIT = "toolkit"  # open-source libraries used to learn by doing (fairlearn, SHAP...)
    PAPER = "paper"
    PROJECT = "project"  # a project idea that builds evidence


class Level(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Format(StrEnum):
    """Matches the interview's preferred formats."""

    VIDEO = "video"
    BOOK = "book"
    DOCS = "docs"
    PROJECT = "project"
    INTERACTIVE = "interactive"


class Resource(Strict):
    """One learning resource; the description is our own words, never the provider's."""

    id: ResourceId
    title: str = Field(min_length=3, max_length=200)
    provider: str = Field(min_length=2, max_length=100)
    url: HttpUrl
    type: ResourceType
    level: Level
    hours: float = Field(gt=0, le=400, description="estimated hours to complete")
    cost_usd: float = Field(
        ge=0, le=5000, description="0 = free; otherwise the typical price to complete"
    )
    cost_note: str = Field(default="", max_length=200)
    format: Format
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    skills: list[SkillId] = Field(min_length=1, max_length=8)
    prerequisites: list[str] = Field(default_factory=list, description="skill ids or resource ids")
    description: str = Field(min_length=30, max_length=500)
    year: int | None = Field(
        default=None,
        ge=1990,
        le=2030,
        description="year of the edition or course run when the content is tied to one",
    )
    verified: bool = Field(
        description="address, title and provider confirmed against a stored copy of the page"
    )
    last_checked: date | None = Field(
        default=None, description="day of that confirmation; null while unverified"
    )

    @model_validator(mode="after")
    def _checked_when_verified(self) -> Resource:
        if self.verified != (self.last_checked is not None):
            raise ValueError(
                f"{self.id}: a verified entry needs last_checked, an unverified one must leave it null"
            )
        if self.id in self.prerequisites:
            raise ValueError(f"{self.id} lists itself as a prerequisite")
        return self

    @property
    def free(self) -> bool:
        return self.cost_usd == 0

    def dated(self, today: date) -> bool:
        """True when the edition or course run is more than two years old."""
        return self.year is not None and today.year - self.year > 2


class Topic(Strict):
    """Words people use for a subject, and the taxonomy skills that teach it.

    A topic with no skill of its own (`skills` empty) names the `closest` ones instead;
    `expected_skill` is the id it would have, so a taxonomy that gains it is used at once.
    """

    phrases: list[str] = Field(min_length=1)
    skills: list[SkillId] = Field(default_factory=list)
    closest: list[SkillId] = Field(default_factory=list)
    expected_skill: SkillId | None = None
    name: str = Field(min_length=2, description="how the topic is named in a reply")

    @model_validator(mode="after")
    def _skills_or_closest(self) -> Topic:
        if not self.skills and not self.closest:
            raise ValueError(f"topic {self.name}: give its skills or the closest ones")
        return self


class TopicsFile(Strict):
    version: str
    method: str = Field(min_length=40)
    topics: list[Topic]
    project_ideas: dict[Category, str] = Field(
        description="a project idea per skill category; {skill} is replaced by the skill's name"
    )

    @field_validator("project_ideas")
    @classmethod
    def _every_category(cls, value: dict[Category, str]) -> dict[Category, str]:
        missing = sorted(c.value for c in Category if c not in value)
        if missing:
            raise ValueError(f"project ideas are missing for {missing}")
        bad = sorted(c.value for c, text in value.items() if "{skill}" not in text)
        if bad:
            raise ValueError(f"project ideas must name the skill with {{skill}}: {bad}")
        return value


class CatalogFile(Strict):
    version: str
    method: str = Field(min_length=40, description="how entries were chosen and checked")
    resources: list[Resource]
