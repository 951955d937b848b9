"""The audit profile: what a person tells SkillAudit, read from YAML or JSON and validated.

Names of roles, stages, skills and model tasks match leniently (case, spaces, hyphens,
underscores and dots are ignored; aliases work). Validation needs the knowledge base,
passed as pydantic validation context: `Profile.model_validate(data, context={"kb": kb})`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
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
from knowledge.schema import Category, Medal, Pillar, normalize_name
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
    "jr": CareerStage.JUNIOR,
    "jnr": CareerStage.JUNIOR,
    "fresher": CareerStage.JUNIOR,
    "sr": CareerStage.SENIOR,
    "snr": CareerStage.SENIOR,
    "middle": CareerStage.MID,
    "intermediate": CareerStage.MID,
    "midlevel": CareerStage.MID,
    "lead": CareerStage.SENIOR,
    "staff": CareerStage.PRINCIPAL,
    "newgrad": CareerStage.JUNIOR,
    "recentgraduate": CareerStage.JUNIOR,
    "freshgraduate": CareerStage.JUNIOR,
    "director": CareerStage.PRINCIPAL,
    "cto": CareerStage.PRINCIPAL,
    "headofdata": CareerStage.PRINCIPAL,
    "headofml": CareerStage.PRINCIPAL,
    "headofai": CareerStage.PRINCIPAL,
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
    # Infinity and NaN are no plausible profile values and break sums and percentiles downstream.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    classes: int | None = Field(
        default=None,
        ge=2,
        le=100_000,
        description="how many classes a classifier tells apart (2: binary), when said",
    )
    medal: Medal | None = Field(
        default=None,
        description="the competition medal it won on that dataset: a rank on its leaderboard",
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


class IncomeRecordsSummary(Model):
    """What a connector read from the person's own income records (counts and shares only, no
    amounts or client names): used when the profile itself lists no income entries."""

    months_covered: int = Field(ge=0, le=24)
    clients: int = Field(ge=0, le=100_000)
    new_clients: int = Field(ge=0, le=100_000)
    streams: int = Field(ge=0, le=1_000)
    top_client_share: Unit | None = None
    client_concentration: Unit | None = None
    stream_concentration: Unit | None = None
    growth: float | None = Field(default=None, ge=-1, le=1_000)
    retention: Unit | None = None
    source: str = Field(default="income records", max_length=60)


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
    experience_elsewhere: dict[str, Annotated[float, Field(ge=0, le=60)]] = Field(
        default_factory=dict,
        description="years in fields outside ML that build some of its skills "
        '("software", "devops", "data_engineering", "statistics"), as said',
    )
    weekly_learning_hours: float = Field(default=5, ge=0, le=80)
    learning_budget_usd: float = Field(default=0, ge=0, le=1_000_000)
    self_ratings: dict[str, Rating] = Field(default_factory=dict)
    soft_skills: dict[str, Rating] = Field(default_factory=dict)
    reviewed: dict[str, Rating] = Field(
        default_factory=dict,
        description=(
            "ratings (0-5) a person set in review; each sets its skill's proficiency "
            "(a decision, not evidence: docs/methodology.md, section 9)"
        ),
    )
    certificates: list[Certificate] = Field(default_factory=list)
    models: list[ModelReport] = Field(default_factory=list)
    income: list[IncomeEntry] = Field(default_factory=list)
    income_records: IncomeRecordsSummary | None = Field(
        default=None,
        description="a summary of income records read by a connector (used when `income` is empty)",
    )
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

    @field_validator("self_ratings", "soft_skills", "reviewed")
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


# Hostile files: a profile may come from anywhere (a template, a coach, a script). Every bound
# below keeps a file under MAX_PROFILE_BYTES to well under a second and a few dozen MB, and
# every error to one short line.
MAX_VALUES = 100_000  # values in a parsed profile, counting each use of a YAML alias
# Lines and flow separators bound the number of YAML or JSON nodes; counted before parsing,
# because building 380,000 empty items takes PyYAML seconds even with libyaml.
MAX_TOKENS = 60_000
MAX_ITEMS = {"self_ratings": 200, "soft_skills": 200, "reviewed": 200, "certificates": 1_000, "models": 200,
             "income": 10_000, "evidence": 10_000}  # fmt: skip
MAX_NUMBER = 1e12  # no profile field needs more; larger values overflow sums downstream
MAX_PROBLEMS = 10
MAX_PROBLEM_CHARS = 300


class _Refused(ValueError):
    """A value the profile parsers refuse (a duplicate key, a non-finite number)."""


def parse_profile_text(text: str, source: str = "profile") -> Any:
    """Parse YAML or JSON text (JSON is YAML, but its errors read better from json).

    Duplicate keys, non-finite numbers, impossible dates and over-long integers are refused
    with the line they are on, instead of being silently resolved or raising deep inside.
    """
    import yaml

    tokens = text.count("\n") + text.count(",") + text.count("{") + text.count("[")
    if tokens > MAX_TOKENS:
        raise ProfileError(
            [
                f"the file holds about {tokens:,} lines and items; a profile has at most {MAX_TOKENS:,}"
            ],
            source,
        )
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant)
        except json.JSONDecodeError as exc:
            raise ProfileError([f"line {exc.lineno}: invalid JSON: {exc.msg}"], source) from exc
        except RecursionError as exc:
            raise ProfileError(["the JSON is too deeply nested to be a profile"], source) from exc
        except _Refused as exc:
            raise ProfileError([f"invalid JSON: {exc}"], source) from exc
        except ValueError as exc:  # Python refuses integers of more than 4,300 digits
            raise ProfileError(["invalid JSON: a number is too long"], source) from exc
    try:
        return yaml.load(text, Loader=_strict_loader())  # a SafeLoader subclass: no tags run code
    except RecursionError as exc:
        raise ProfileError(["the YAML is too deeply nested to be a profile"], source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        if "nesting depth" in str(problem):  # libyaml's own limit, before Python recursion
            raise ProfileError(["the YAML is too deeply nested to be a profile"], source) from exc
        raise ProfileError([f"{where}invalid YAML: {_clip(str(problem))}"], source) from exc
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # Constructors are guarded below; this is the backstop for any PyYAML path they miss.
        raise ProfileError(
            [f"invalid YAML: a value cannot be read ({type(exc).__name__})"], source
        ) from exc


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Refused(f"the key {_clip(key, 40)!r} appears twice in one object")
        found[key] = value
    return found


def _json_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a finite number")


@functools.cache  # built once, lazily: PyYAML is imported only when a profile is read
def _strict_loader() -> type:
    """A SafeLoader that refuses duplicate keys and reports unreadable values with their line."""
    import yaml
    from yaml.constructor import ConstructorError, SafeConstructor

    # libyaml's parser when PyYAML was built with it (several times faster); same constructors.
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue  # merged keys may be overridden on purpose
                    key = self.construct_object(key_node, deep=True)
                    try:
                        duplicate = key in seen
                    except TypeError:
                        continue  # unhashable: the base class reports it
                    if duplicate:
                        raise ConstructorError(
                            None, None, f"the key {_clip(str(key), 40)!r} appears twice",
                            key_node.start_mark,
                        )  # fmt: skip
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

    def guarded(construct: Any, what: str) -> Any:
        def run(loader: Any, node: Any) -> Any:
            try:
                value = construct(loader, node)
            except (ValueError, TypeError, AttributeError, OverflowError) as exc:
                text = _clip(str(node.value), 30)
                raise ConstructorError(
                    None, None, f"{text!r} is not {what}", node.start_mark
                ) from exc
            if isinstance(value, float) and not math.isfinite(value):
                raise ConstructorError(
                    None, None, f"{_clip(str(node.value), 30)!r} is not a finite number",
                    node.start_mark,
                )  # fmt: skip
            return value

        return run

    for tag, construct, what in (
        ("int", SafeConstructor.construct_yaml_int, "a usable integer"),
        ("float", SafeConstructor.construct_yaml_float, "a number"),
        ("timestamp", SafeConstructor.construct_yaml_timestamp, "a real date (use YYYY-MM-DD)"),
        ("binary", SafeConstructor.construct_yaml_binary, "valid base64"),
    ):
        StrictLoader.add_constructor(f"tag:yaml.org,2002:{tag}", guarded(construct, what))
    return StrictLoader


def _check_shape(data: dict[str, Any], source: str) -> None:
    """Refuse, before validation, what would make validation slow or the numbers overflow."""
    problems: list[str] = []
    budget = MAX_VALUES
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        budget -= 1
        if budget < 0:
            raise ProfileError(
                [f"the profile holds more than {MAX_VALUES:,} values; that is not a profile"],
                source,
            )
        if isinstance(value, dict | list):
            limit = MAX_ITEMS.get(where)
            if limit is not None and len(value) > limit:
                problems.append(f"{where}: at most {limit:,} entries (got {len(value):,})")
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append(
                    (item, f"{where}.{_clip(str(key), 40)}" if where else _clip(str(key), 40))
                )
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{where}: not a finite number")
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and abs(value) > MAX_NUMBER
        ):
            problems.append(f"{where}: {float(value):.3g} is too large")
    if problems:
        raise ProfileError(_bounded(sorted(problems)), source)


def validate_profile(data: Any, kb: KnowledgeBase, source: str = "profile") -> Profile:
    """Validate parsed data into a Profile or raise ProfileError naming each bad field."""
    if not isinstance(data, dict):
        raise ProfileError(["the profile must be a mapping of keys to values"], source)
    _check_shape(data, source)
    try:
        return Profile.model_validate(data, context={"kb": kb})
    except ValidationError as exc:
        raise ProfileError(_bounded(_describe_all(exc.errors())), source) from exc


def load_profile(path: Path, kb: KnowledgeBase) -> Profile:
    """Read, parse and validate a profile file (regular files only, at most 2 MB)."""
    from tools.connectors.base import UnreadableFile, clip_path, read_regular

    source = clip_path(path)
    try:
        data = read_regular(path, MAX_PROFILE_BYTES)
    except UnreadableFile as exc:
        reason = {
            "folder": "is a directory, not a file",
            "too_large": f"file is larger than {MAX_PROFILE_BYTES // 1_000_000} MB",
        }.get(exc.kind, exc.reason)
        raise ProfileError([reason], source) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(["not UTF-8 text"], source) from exc
    return validate_profile(parse_profile_text(text, source), kb, source)


def _bounded(problems: list[str]) -> list[str]:
    """At most MAX_PROBLEMS problems of at most MAX_PROBLEM_CHARS each: one readable line."""
    shown = [_clip(p, MAX_PROBLEM_CHARS) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"and {len(problems) - MAX_PROBLEMS:,} more problems")
    return shown


def _clip(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _describe_all(errors: list[Any]) -> list[str]:
    """One message per error, with the unknown keys of one place listed together."""
    unknown: dict[tuple[Any, ...], list[str]] = {}
    described: list[str] = []
    for err in errors:
        if err["type"] == "extra_forbidden":
            unknown.setdefault(tuple(err["loc"][:-1]), []).append(_clip(str(err["loc"][-1]), 40))
        else:
            described.append(_describe(err))
    for parent, keys in unknown.items():
        where = ".".join(str(part) for part in parent)
        prefix = f"{where}." if where else ""
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        allowed = ", ".join(_allowed_keys(parent))
        kind = "unknown key" if len(keys) == 1 else "unknown keys"
        described.insert(0, f"{prefix}{shown}: {kind}; allowed: {allowed}")
    return described


def _describe(err: Any) -> str:
    loc = ".".join(_clip(str(part), 40) for part in err["loc"]) or "profile"
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
