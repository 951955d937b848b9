"""The audit profile: what a person tells SkillAudit, read from YAML or JSON and validated.

Names of roles, stages, skills and model tasks match leniently (case, spaces, hyphens,
underscores and dots are ignored; aliases work). Validation needs the knowledge base,
passed as pydantic validation context: `Profile.model_validate(data, context={"kb": kb})`.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from knowledge.base import KnowledgeBase
from knowledge.schema import Category, Pillar, normalize_name
from tools.errors import ProfileError
from tools.params import SourceKind

MAX_PROFILE_BYTES = 2_000_000
Rating = Annotated[float, Field(ge=0, le=5)]
Unit = Annotated[float, Field(ge=0, le=1)]


class CareerStage(StrEnum):
    STUDENT = "student"
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"
    PRINCIPAL = "principal"


STAGE_ALIASES = {
    "intern": CareerStage.STUDENT,
    "graduate": CareerStage.STUDENT,
    "entry": CareerStage.JUNIOR,
    "entrylevel": CareerStage.JUNIOR,
    "middle": CareerStage.MID,
    "intermediate": CareerStage.MID,
    "midlevel": CareerStage.MID,
    "lead": CareerStage.SENIOR,
    "staff": CareerStage.PRINCIPAL,
}


def _kb(info: ValidationInfo) -> KnowledgeBase:
    context = info.context or {}
    kb = context.get("kb")
    if not isinstance(kb, KnowledgeBase):
        raise RuntimeError("profile validation needs context={'kb': KnowledgeBase}")
    return kb


def _skill_id(name: str, kb: KnowledgeBase) -> str:
    skill = kb.resolve_skill(name)
    if skill is None:
        close = kb.suggest_skills(name)
        hint = (
            f"; did you mean {', '.join(close)}?" if close else "; see `skillaudit schema skills`"
        )
        raise ValueError(f"unknown skill {name!r}{hint}")
    return skill.id


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Certificate(Model):
    name: str = Field(min_length=1, max_length=300)
    provider: str = Field(default="", max_length=200)
    date: dt.date
    skills: list[str] = Field(min_length=1)
    level: str | None = Field(default=None, description="beginner, intermediate or advanced")

    @field_validator("skills")
    @classmethod
    def _resolve(cls, value: list[str], info: ValidationInfo) -> list[str]:
        kb = _kb(info)
        return sorted({_skill_id(name, kb) for name in value})

    @field_validator("level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is None:
            return None
        folded = normalize_name(value)
        if folded not in {"beginner", "intermediate", "advanced"}:
            raise ValueError("level must be one of beginner, intermediate, advanced")
        return folded


class ModelReport(Model):
    name: str = Field(min_length=1, max_length=200)
    task: str
    metrics: dict[str, float] = Field(min_length=1)
    positive_rate: Unit | None = Field(
        default=None, description="share of the positive (usually minority) class, 0..1"
    )
    date: dt.date | None = None
    personal_data: bool | None = Field(
        default=None, description="the training data holds personal data (names, e-mails, messages)"
    )
    legal_basis: str | None = Field(
        default=None,
        max_length=200,
        description="GDPR basis for that data: consent, contract, legitimate interest...",
    )
    fairness: dict[str, float] | None = Field(
        default=None,
        description="group-fairness differences, e.g. demographic_parity_difference (0..1)",
    )
    dataset: str | None = Field(
        default=None,
        max_length=200,
        description="public dataset or competition it was scored on (e.g. porto seguro), to rank it on that leaderboard",
    )

    @field_validator("task")
    @classmethod
    def _resolve_task(cls, value: str, info: ValidationInfo) -> str:
        kb = _kb(info)
        task = kb.resolve_task(value)
        if task is None:
            allowed = ", ".join(sorted(kb.tasks))
            raise ValueError(f"unknown task {value!r}; allowed: {allowed}")
        return task.id

    @field_validator("dataset")
    @classmethod
    def _resolve_dataset(cls, value: str | None, info: ValidationInfo) -> str | None:
        task = info.data.get("task")
        if value is None or task is None:
            return value
        kb = _kb(info)
        dataset = kb.resolve_dataset(task, value)
        if dataset is None:
            known = ", ".join(d.id for d in kb.tasks[task].datasets) or "none for this task"
            raise ValueError(f"unknown dataset {value!r} for {task}; known: {known}")
        return dataset.id

    @field_validator("metrics")
    @classmethod
    def _check_metrics(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        kb = _kb(info)
        known = {m.metric for t in kb.tasks.values() for m in t.metrics}
        clean: dict[str, float] = {}
        for name, number in value.items():
            key = normalize_name(name).replace("/", "")
            metric = next((m for m in known if normalize_name(m) == key), None)
            if metric is None:
                raise ValueError(f"unknown metric {name!r}; allowed: {', '.join(sorted(known))}")
            if metric in SCORE_METRICS and not 0 <= number <= 1:
                raise ValueError(f"{metric} must be between 0 and 1 (got {number})")
            if number < 0:
                raise ValueError(f"{metric} cannot be negative (got {number})")
            clean[metric] = number
        return clean


SCORE_METRICS = frozenset({"f1", "roc_auc", "pr_auc", "accuracy", "ndcg_at_10", "map"})


class IncomeEntry(Model):
    date: dt.date
    client: str = Field(min_length=1, max_length=200)
    amount: float = Field(ge=0)
    stream: str = Field(default="client work", min_length=1, max_length=100)


class EvidenceInput(Model):
    """An observation given directly (connectors and tests produce these)."""

    skill: str
    source: SourceKind
    strength: Unit
    observed: dt.date
    detail: str = Field(default="", max_length=500)
    link: str | None = None
    origin: str = Field(
        default="profile.evidence", max_length=60, description="where it came from, e.g. github"
    )
    signal: str = Field(default="", max_length=60)

    @field_validator("skill")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        return _skill_id(value, _kb(info))


class PillarWeights(Model):
    technical: float = Field(ge=0)
    lifecycle: float = Field(ge=0)
    ethics: float = Field(ge=0)
    career: float = Field(ge=0)

    @model_validator(mode="after")
    def _positive(self) -> PillarWeights:
        if self.technical + self.lifecycle + self.ethics + self.career <= 0:
            raise ValueError("at least one pillar weight must be positive")
        return self

    def normalized(self) -> dict[Pillar, float]:
        total = self.technical + self.lifecycle + self.ethics + self.career
        return {p: round(getattr(self, p.value) / total, 6) for p in Pillar}


class Profile(Model):
    """Everything an audit needs to know about one person."""

    user: str = Field(min_length=1, max_length=100)
    target_role: str
    career_stage: CareerStage = CareerStage.MID
    years_experience: float = Field(default=0, ge=0, le=60)
    weekly_learning_hours: float = Field(default=5, ge=0, le=80)
    learning_budget_usd: float = Field(default=0, ge=0, le=1_000_000)
    self_ratings: dict[str, Rating] = Field(default_factory=dict)
    soft_skills: dict[str, Rating] = Field(default_factory=dict)
    certificates: list[Certificate] = Field(default_factory=list)
    models: list[ModelReport] = Field(default_factory=list)
    income: list[IncomeEntry] = Field(default_factory=list)
    evidence: list[EvidenceInput] = Field(default_factory=list)
    clients: int | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description="clients or employers paid by in the last 12 months",
    )
    top_client_share: Unit | None = Field(
        default=None,
        description="share of the last 12 months' income from the biggest client, 0..1",
    )
    income_streams: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="kinds of income, e.g. client projects, employment, teaching, products",
    )
    high_stakes: bool = False
    last_full_audit: dt.date | None = None
    weights: PillarWeights | None = None

    @field_validator("target_role")
    @classmethod
    def _resolve_role(cls, value: str, info: ValidationInfo) -> str:
        kb = _kb(info)
        role = kb.resolve_role(value)
        if role is None:
            close = kb.suggest_roles(value)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(
                f"unknown role {value!r}{hint}; allowed: {', '.join(sorted(kb.roles))}"
            )
        return role.id

    @field_validator("career_stage", mode="before")
    @classmethod
    def _stage(cls, value: Any) -> Any:
        if isinstance(value, str):
            folded = normalize_name(value)
            return STAGE_ALIASES.get(folded, folded)
        return value

    @field_validator("self_ratings", "soft_skills")
    @classmethod
    def _resolve_ratings(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        kb = _kb(info)
        resolved: dict[str, float] = {}
        problems: list[str] = []
        for name, rating in value.items():
            try:
                ident = _skill_id(name, kb)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if ident in resolved:
                problems.append(f"{name!r} rates {ident} a second time")
            elif info.field_name == "soft_skills" and kb.skills[ident].pillar != Pillar.CAREER:
                problems.append(f"{ident} is not a soft skill; rate it under self_ratings")
            resolved[ident] = rating
        if problems:
            raise ValueError("; ".join(problems))
        return dict(sorted(resolved.items()))

    @model_validator(mode="after")
    def _no_double_rating(self) -> Profile:
        both = sorted(set(self.self_ratings) & set(self.soft_skills))
        if both:
            raise ValueError(f"rated in both self_ratings and soft_skills: {', '.join(both)}")
        return self

    def power_skill_ids(self, kb: KnowledgeBase) -> list[str]:
        return [s for s in self.soft_skills if kb.skills[s].category == Category.POWER]


def profile_json_schema() -> dict[str, Any]:
    return Profile.model_json_schema()


def parse_profile_text(text: str, source: str = "profile") -> Any:
    """Parse YAML or JSON text (JSON is YAML, but its errors read better from json)."""
    import yaml

    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError([f"line {exc.lineno}: invalid JSON: {exc.msg}"], source) from exc
        except RecursionError as exc:
            raise ProfileError(["the JSON is too deeply nested to be a profile"], source) from exc
    try:
        return yaml.safe_load(text)
    except RecursionError as exc:
        raise ProfileError(["the YAML is too deeply nested to be a profile"], source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ProfileError([f"{where}invalid YAML: {problem}"], source) from exc


def validate_profile(data: Any, kb: KnowledgeBase, source: str = "profile") -> Profile:
    """Validate parsed data into a Profile or raise ProfileError naming each bad field."""
    if not isinstance(data, dict):
        raise ProfileError(["the profile must be a mapping of keys to values"], source)
    try:
        return Profile.model_validate(data, context={"kb": kb})
    except ValidationError as exc:
        raise ProfileError([_describe(err) for err in exc.errors()], source) from exc


def load_profile(path: Path, kb: KnowledgeBase) -> Profile:
    """Read, parse and validate a profile file."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise ProfileError([f"file is larger than {MAX_PROFILE_BYTES // 1_000_000} MB"], source)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProfileError(["file not found"], source) from exc
    except IsADirectoryError as exc:
        raise ProfileError(["is a directory, not a file"], source) from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(["not UTF-8 text"], source) from exc
    except OSError as exc:
        raise ProfileError([f"cannot read: {exc.strerror}"], source) from exc
    return validate_profile(parse_profile_text(text, source), kb, source)


def _describe(err: Any) -> str:
    loc = ".".join(str(part) for part in err["loc"]) or "profile"
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = err["loc"][:-1]
        allowed = ", ".join(_allowed_keys(parent))
        return f"{loc}: unknown key; allowed: {allowed}"
    if kind == "missing":
        return f"{loc}: required"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind.startswith("date"):
        message = f"{message} (use YYYY-MM-DD)"
    return f"{loc}: {message}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed at a location in the profile, for the unknown-key message."""
    model: type[BaseModel] = Profile
    nested: dict[str, type[BaseModel]] = {
        "certificates": Certificate,
        "models": ModelReport,
        "income": IncomeEntry,
        "evidence": EvidenceInput,
        "weights": PillarWeights,
    }
    for part in loc:
        if isinstance(part, str) and part in nested:
            model = nested[part]
    return list(model.model_fields)
