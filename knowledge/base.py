"""Load the validated knowledge files and look things up in them by lenient names."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from knowledge.parsed import read_yaml
from knowledge.schema import (
    BenchmarksFile,
    DatasetBenchmark,
    DemandEntry,
    DemandFile,
    Pillar,
    RoleProfile,
    RolesFile,
    Skill,
    Source,
    TaskBenchmark,
    Taxonomy,
    normalize_name,
)
from prompts.parsed import NotYaml

DATA_DIR = Path(__file__).parent / "data"
DATA_FILES = ("skills.yaml", "roles.yaml", "demand.yaml", "benchmarks.yaml")


class KnowledgeError(ValueError):
    """A knowledge file is missing, malformed, or refers to an unknown id."""


def _read_yaml(path: Path, raw: bytes | None = None) -> Any:
    """A bundled data file's content (stored parsed while unchanged: knowledge/parsed.py)."""
    try:
        return read_yaml(path, raw)
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror}") from exc
    except NotYaml as exc:
        raise KnowledgeError(f"{path.name}: not valid YAML: {exc}") from exc


def _index(names: Iterable[tuple[str, str]], what: str) -> dict[str, str]:
    """Map each normalized name to its id, refusing a name claimed by two ids."""
    index: dict[str, str] = {}
    for name, ident in names:
        key = normalize_name(name)
        if index.get(key, ident) != ident:
            raise KnowledgeError(f"{what} name {name!r} is used by {index[key]} and {ident}")
        index[key] = ident
    return index


@dataclass(frozen=True)
class KnowledgeBase:
    """Skills, roles, demand and benchmarks with indices for lookup by id or alias."""

    taxonomy: Taxonomy
    roles_file: RolesFile
    demand_file: DemandFile
    benchmarks_file: BenchmarksFile
    version: str
    skills: dict[str, Skill] = field(init=False)
    roles: dict[str, RoleProfile] = field(init=False)
    demand: dict[str, DemandEntry] = field(init=False)
    tasks: dict[str, TaskBenchmark] = field(init=False)
    _skill_names: dict[str, str] = field(init=False, repr=False)
    _role_names: dict[str, str] = field(init=False, repr=False)
    _task_names: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "skills", {s.id: s for s in self.taxonomy.skills})
        put(self, "roles", {r.id: r for r in self.roles_file.roles})
        put(self, "demand", {d.skill: d for d in self.demand_file.skills})
        put(self, "tasks", {t.id: t for t in self.benchmarks_file.tasks})
        put(self, "_skill_names", _index(_names(self.taxonomy.skills), "skill"))
        put(self, "_role_names", _index(_names(self.roles_file.roles), "role"))
        put(self, "_task_names", _index(_names(self.benchmarks_file.tasks), "task"))
        self._check_references()

    def _check_references(self) -> None:
        problems: list[str] = []
        for skill in self.taxonomy.skills:
            problems += [
                f"skill {skill.id}: related skill {r.skill} is unknown"
                for r in skill.related
                if r.skill not in self.skills
            ]
            if skill.id not in self.demand:
                problems.append(f"skill {skill.id} has no demand entry")
        for role in self.roles_file.roles:
            problems += [
                f"role {role.id}: unknown skill {s}" for s in role.skills if s not in self.skills
            ]
        for entry in self.demand_file.skills:
            if entry.skill not in self.skills:
                problems.append(f"demand for unknown skill {entry.skill}")
            problems += [
                f"demand {entry.skill}: unknown role {r}"
                for r in entry.by_role
                if r not in self.roles
            ]
        for task in self.benchmarks_file.tasks:
            problems += [
                f"task {task.id}: unknown skill {s}" for s in task.skills if s not in self.skills
            ]
        for what, sources, used in (
            (
                "demand",
                self.demand_file.sources,
                (s for d in self.demand_file.skills for s in d.sources),
            ),
            (
                "benchmark",
                self.benchmarks_file.sources,
                (
                    s
                    for t in self.benchmarks_file.tasks
                    for s in [
                        *t.sources,
                        *(d_s for d in t.datasets for d_s in d.sources),
                        *(r.source for m in t.metrics for r in m.references),
                        *(r.source for d in t.datasets for m in d.metrics for r in m.references),
                    ]
                ),
            ),
        ):
            known = {s.id for s in sources}
            problems += [f"{what} source {s} is not listed" for s in set(used) - known]
        if problems:
            raise KnowledgeError("; ".join(sorted(problems)))

    # Lookups -------------------------------------------------------------------------------

    def resolve_skill(self, name: str) -> Skill | None:
        ident = self._skill_names.get(normalize_name(name))
        return self.skills[ident] if ident else None

    def resolve_role(self, name: str) -> RoleProfile | None:
        ident = self._role_names.get(normalize_name(name))
        return self.roles[ident] if ident else None

    def resolve_task(self, name: str) -> TaskBenchmark | None:
        ident = self._task_names.get(normalize_name(name))
        return self.tasks[ident] if ident else None

    def resolve_dataset(self, task_id: str, name: str) -> DatasetBenchmark | None:
        """A public dataset of the task by id, name or alias."""
        key = normalize_name(name)
        for dataset in self.tasks[task_id].datasets:
            if key in {normalize_name(n) for n in (dataset.id, dataset.name, *dataset.aliases)}:
                return dataset
        return None

    def dataset_named_in(self, text: str) -> tuple[str, DatasetBenchmark] | None:
        """The public dataset (and its task) a sentence names by name or alias, the longest
        name found ("my gold medal solution for Home Credit"); None when it names none."""

        def words(value: str) -> str:  # word boundaries kept, punctuation and case not
            return " " + " ".join(re.findall(r"[a-z0-9]+", value.lower())) + " "

        folded = words(text)
        found: list[tuple[int, str, DatasetBenchmark]] = []
        for task in self.tasks.values():
            for dataset in task.datasets:
                for name in (dataset.name, *dataset.aliases):
                    key = words(name)
                    if key.strip() and key in folded:
                        found.append((len(key), task.id, dataset))
        if not found:
            return None
        _, task_id, dataset = max(found, key=lambda item: (item[0], item[2].id))
        return task_id, dataset

    def fuzzy_skill(self, name: str, cutoff: float = 0.8) -> Skill | None:
        """Resolve a name, forgiving a typo when one known name is clearly closest."""
        exact = self.resolve_skill(name)
        if exact is not None:
            return exact
        key = normalize_name(name)
        if len(key) < 4:
            return None
        close = difflib.get_close_matches(key, list(self._skill_names), n=2, cutoff=cutoff)
        if not close:
            return None
        ids = {self._skill_names[c] for c in close}
        best = self._skill_names[close[0]]
        if len(ids) > 1:
            first, second = (difflib.SequenceMatcher(None, key, c).ratio() for c in close)
            if first - second < 0.05:
                return None
        return self.skills[best]

    def suggest_skills(self, name: str, limit: int = 3) -> list[str]:
        """Return the ids of the known skills whose names are closest to `name`."""
        return _suggest(name, self._skill_names, limit)

    def suggest_roles(self, name: str, limit: int = 3) -> list[str]:
        return _suggest(name, self._role_names, limit)

    def suggest_tasks(self, name: str, limit: int = 3) -> list[str]:
        return _suggest(name, self._task_names, limit)

    def skills_in(self, pillar: Pillar) -> list[Skill]:
        return [s for s in self.taxonomy.skills if s.pillar == pillar]

    def with_demand(
        self, skills: dict[str, dict[str, Any]], note: str, as_of: date
    ) -> KnowledgeBase:
        """A copy whose demand for the given skills comes from job postings the person supplied.

        `skills` maps a skill id to {"overall": 0-100, "by_role": {role id: 0-100}}; other
        skills keep the bundled estimates. The version says the demand was replaced.
        """
        source = Source(
            id="user_job_postings",
            title=note[:200],
            publisher="job postings supplied by the user",
            year=as_of.year,
        )
        entries = []
        for entry in self.demand_file.skills:
            update = skills.get(entry.skill)
            if update is None:
                entries.append(entry)
                continue
            # The postings replace the estimates: a role they say nothing about uses their overall figure.
            by_role = {
                role: _clamp(value)
                for role, value in update.get("by_role", {}).items()
                if role in self.roles
            }
            entries.append(
                entry.model_copy(
                    update={
                        "overall": _clamp(update["overall"]),
                        "by_role": by_role,
                        "sources": [*entry.sources, source.id],
                        "estimate": False,
                        "note": note[:200],
                    }
                )
            )
        demand_file = self.demand_file.model_copy(
            update={"skills": entries, "sources": [*self.demand_file.sources, source]}
        )
        digest = hashlib.sha256(json.dumps(skills, sort_keys=True).encode()).hexdigest()[:8]
        return KnowledgeBase(
            taxonomy=self.taxonomy,
            roles_file=self.roles_file,
            demand_file=demand_file,
            benchmarks_file=self.benchmarks_file,
            version=f"{self.version}+postings-{digest}",
        )

    def demand_for(self, skill_id: str, role_id: str | None) -> float:
        """Market demand (0-100) for a skill, in postings for the role when known."""
        entry = self.demand[skill_id]
        if role_id is not None and role_id in entry.by_role:
            return entry.by_role[role_id]
        return entry.overall


def _clamp(value: float) -> float:
    return max(1.0, min(100.0, float(value)))


def _names(items: Iterable[Skill | RoleProfile | TaskBenchmark]) -> Iterable[tuple[str, str]]:
    for item in items:
        yield item.id, item.id
        yield item.name, item.id
        for alias in item.aliases:
            yield alias, item.id
        if isinstance(item, Skill):
            for name in item.exact_names:
                yield name, item.id


def _suggest(name: str, index: dict[str, str], limit: int) -> list[str]:
    # 0.7: below it the closest names share only a few letters ("employer" and "ml
    # deployment", "salary" and "sklearn") and "did you mean" reads as a random guess.
    close = difflib.get_close_matches(normalize_name(name), list(index), n=limit * 3, cutoff=0.7)
    seen: list[str] = []
    for key in close:
        if index[key] not in seen:
            seen.append(index[key])
    return seen[:limit]


def load_knowledge(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Read and validate every knowledge file in `data_dir`."""
    from pydantic import ValidationError

    digest = hashlib.sha256()
    raw: dict[str, Any] = {}
    for name in DATA_FILES:
        path = data_dir / name
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise KnowledgeError(f"cannot read {path}: {exc.strerror}") from exc
        digest.update(content)
        raw[name] = _read_yaml(path, content)
    try:
        return KnowledgeBase(
            taxonomy=Taxonomy.model_validate(raw["skills.yaml"]),
            roles_file=RolesFile.model_validate(raw["roles.yaml"]),
            demand_file=DemandFile.model_validate(raw["demand.yaml"]),
            benchmarks_file=BenchmarksFile.model_validate(raw["benchmarks.yaml"]),
            version=digest.hexdigest()[:12],
        )
    except ValidationError as exc:
        raise KnowledgeError(str(exc)) from exc


@cache
def default_knowledge() -> KnowledgeBase:
    """The bundled knowledge, read once per process (it is immutable)."""
    return load_knowledge()
