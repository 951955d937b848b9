"""Detect skills from a repository's file list and a few of its files, wherever it lives.

`detect()` looks at paths (Dockerfile, CI workflows, tests, terraform, ...) and reads a bounded
number of files in priority order: dependency files first, then Python sources and notebooks,
then candidate Kubernetes manifests. Everything read is data: files are parsed with `tomllib`,
`json` and regular expressions, never imported, executed or templated.

Base weights of the signals (a rough level of proficiency the signal alone suggests):

- language: 0.30 + 0.30 x share of the repository's code (by bytes or by file count)
- dependency (library declared in a dependency file): 0.40; import (used in code): 0.50
- dockerfile, ci_workflow, gitlab_ci, mlflow_project, dvc, k8s_manifest, helm_chart,
  terraform: 0.55; docker_compose, model_card, ci_config: 0.50; mlruns: 0.45;
  prometheus_config: 0.40; tests: 0.45 + 0.10 x min(1, test files / 20)

`evidence_strength()` turns the weights seen for one skill in one repository into a strength:

    base     = min(0.9, max(weights) + 0.05 x (number of distinct signals - 1))
    recency  = 0.5 + 0.5 x 0.5 ** (days since last activity / 365)   (0.5 when unknown)
    activity = 0.7 + 0.3 x min(1, the person's commits there in the last 12 months / 10)
    strength = min(0.9, base x recency x activity)

so a signal seen today in a repository the person committed to 10+ times this year keeps its
base weight, and an old, untouched or unattributed repository keeps at least 0.35 of it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from knowledge.base import KnowledgeBase
from tools.connectors.code_signals import (
    CODE_PATTERNS,
    CONFIG_DIRS,
    CONFIG_FILES,
    ENTRY_NAMES,
    ENTRY_PATTERNS,
    ENTRY_SUFFIXES,
    IMPLIED,
    IMPLIED_WEIGHT,
    JS_PACKAGES,
    LANGUAGE_SKILLS,
    LIBRARIES,
    MODEL_USE,
    MODULES,
    PACKAGE_IMPORTS,
    SCHEDULE,
    TRAINING,
    WEB_APP,
)
from tools.connectors.text import clip
from tools.params import SourceKind
from tools.results import Evidence

MAX_TEXT_CHARS = 500_000  # of one file; more adds nothing a detector needs
MAX_NOTEBOOK_CHARS = 5_000_000  # notebooks carry outputs; only their code cells are read
EXAMPLE_FACTOR = 0.7  # a library used only in examples, tutorials or docs counts for less
EXAMPLE_DIRS = frozenset({"examples", "example", "tutorial", "tutorials", "docs", "doc", "demo",
                          "demos", "samples", "sample"})  # fmt: skip
MAX_LINE_CHARS = 2_000  # regexes only ever see lines this long

# Directories whose contents are not the person's work (vendored, generated, environments).
SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "env", ".env", "virtualenv", "site-packages",
     "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".ipynb_checkpoints", ".eggs", "vendor", "third_party", "dist", "build"}
)  # fmt: skip

EXTENSION_LANGUAGES = {
    ".py": "Python", ".ipynb": "Jupyter Notebook", ".sql": "SQL", ".r": "R", ".jl": "Julia",
    ".js": "JavaScript", ".jsx": "JavaScript", ".mjs": "JavaScript", ".ts": "TypeScript",
    ".tsx": "TypeScript", ".html": "HTML", ".css": "CSS", ".vue": "Vue", ".svelte": "Svelte",
    ".sh": "Shell", ".bash": "Shell", ".zsh": "Shell", ".tf": "HCL", ".cu": "Cuda",
    ".scala": "Scala", ".java": "Java", ".go": "Go", ".rs": "Rust", ".c": "C", ".cpp": "C++",
    ".cc": "C++", ".h": "C", ".hpp": "C++", ".f90": "Fortran",
}  # fmt: skip

MIN_LANGUAGE_SHARE = 0.05

WEIGHTS = {
    "dependency": 0.40, "import": 0.50, "dockerfile": 0.55, "docker_compose": 0.50,
    "ci_workflow": 0.55, "gitlab_ci": 0.55, "ci_config": 0.50, "mlflow_project": 0.55,
    "mlruns": 0.45, "dvc": 0.55, "model_card": 0.50, "prometheus_config": 0.40,
    "k8s_manifest": 0.55, "helm_chart": 0.55, "terraform": 0.55,
    # what code does, and tools' configuration files
    "model_registry_call": 0.55, "distributed_call": 0.55, "cuda_call": 0.45, "serve_call": 0.55,
    "quantize_call": 0.50, "search_call": 0.50, "model_endpoint": 0.55, "serve_entry": 0.55, "web_entry": 0.45,
    "launch_entry": 0.55, "tracking_entry": 0.45, "dbt_project": 0.55,
    "feature_store_config": 0.55, "expectations_config": 0.55, "bento_config": 0.55,
    "serverless_config": 0.50, "sagemaker_config": 0.50, "grafana_config": 0.45,
    "dags_folder": 0.40, "implied": IMPLIED_WEIGHT, "scheduled_training": 0.55,
}  # fmt: skip

DEPENDENCY_NAMES = frozenset(
    {"pyproject.toml", "setup.py", "setup.cfg", "environment.yml", "environment.yaml",
     "conda.yaml", "conda.yml", "package.json", "pipfile"}
)  # fmt: skip
CI_FILES = frozenset(
    {".gitlab-ci.yml", "jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml"}
)
COMPOSE_FILES = frozenset(
    {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}
)
K8S_DIRS = frozenset({"k8s", "kubernetes", "kustomize"})
MANIFEST_DIRS = frozenset({"deploy", "deployment", "deployments", "manifests", "infra", "ops"})
K8S_KINDS = re.compile(
    r"^kind:\s*(Deployment|Service|StatefulSet|DaemonSet|Job|CronJob|Ingress|ConfigMap|Pod)\s*$",
    re.MULTILINE,
)
CODE_EXTENSIONS = frozenset(EXTENSION_LANGUAGES) - {".html", ".css"}

_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_QUOTED_REQUIREMENT = re.compile(
    r"""["']([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]"']*\])?\s*(?:[<>=!~;][^"']*)?["']"""
)
_CFG_REQUIREMENT = re.compile(
    r"^\s+([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;].*)?$"
)
_CONDA_ITEM = re.compile(r"^\s*-\s*(?:[\w.-]+::)?([A-Za-z0-9][A-Za-z0-9._-]*)")
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([^\n#;]+))")

Reader = Callable[[str], str | None]


class Signal(BaseModel):
    """One thing seen in a repository that points at one skill."""

    model_config = ConfigDict(frozen=True)

    skill: str
    signal: str
    detail: str
    path: str
    weight: float
    paths: tuple[str, ...] = ()  # every file behind the signal, for attribution by commits


def normalise_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def skipped(path: str) -> bool:
    """Tell whether a path lies in a vendored, generated or environment directory."""
    return any(part in SKIP_DIRS for part in PurePosixPath(path).parts[:-1])


def is_test_path(path: str) -> bool:
    pure = PurePosixPath(path)
    name = pure.name.lower()
    if name == "conftest.py" or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    ):
        return True
    return (
        any(part.lower() in {"tests", "test"} for part in pure.parts[:-1])
        and pure.suffix in CODE_EXTENSIONS
    )


def is_ci_path(path: str) -> bool:
    lower = path.lower()
    if lower.startswith(".github/workflows/") and lower.endswith((".yml", ".yaml")):
        return True
    return lower in CI_FILES or lower == ".circleci/config.yml"


def is_docker_path(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return (
        name == "dockerfile"
        or name.startswith("dockerfile.")
        or name.endswith(".dockerfile")
        or is_compose_path(path)
    )


def is_compose_path(path: str) -> bool:
    """docker-compose.yml, compose.yaml and variants such as docker-compose-homework.yml."""
    name = PurePosixPath(path).name.lower()
    return name in COMPOSE_FILES or (
        name.startswith("docker-compose") and name.endswith((".yml", ".yaml"))
    )


def is_entry_path(path: str) -> bool:
    """Files that start things: Dockerfiles, compose files, Makefiles, Procfiles, scripts."""
    name = PurePosixPath(path).name.lower()
    return is_docker_path(path) or name in ENTRY_NAMES or name.endswith(ENTRY_SUFFIXES)


def in_examples(path: str) -> bool:
    return any(part.lower() in EXAMPLE_DIRS for part in PurePosixPath(path).parts[:-1])


def area(path: str) -> str:
    """Classify a path touched by a commit: ci, docker, tests, code or other."""
    if is_ci_path(path):
        return "ci"
    if is_docker_path(path):
        return "docker"
    if is_test_path(path):
        return "tests"
    if is_dependency_file(path):
        return "code"
    return "code" if PurePosixPath(path).suffix.lower() in CODE_EXTENSIONS else "other"


def is_dependency_file(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    if name in DEPENDENCY_NAMES:
        return True
    in_requirements_dir = "requirements" in PurePosixPath(path.lower()).parts[:-1]
    return name.endswith(".txt") and ("requirements" in name or in_requirements_dir)


def languages_from_paths(paths: Iterable[str]) -> dict[str, int]:
    """Count files per language by extension."""
    counts: dict[str, int] = {}
    for path in paths:
        language = EXTENSION_LANGUAGES.get(PurePosixPath(path).suffix.lower())
        if language:
            counts[language] = counts.get(language, 0) + 1
    return counts


# Dependency and import parsing ----------------------------------------------------------------


def _lines(text: str) -> Iterable[str]:
    for line in text[:MAX_TEXT_CHARS].splitlines():
        yield line[:MAX_LINE_CHARS]


def _requirement_name(spec: object) -> str | None:
    if not isinstance(spec, str):
        return None
    match = _REQUIREMENT.match(spec[:MAX_LINE_CHARS])
    return match.group(1) if match else None


def _requirements_txt(text: str) -> set[str]:
    names: set[str] = set()
    for line in _lines(text):
        stripped = line.split("#", 1)[0].strip()
        if stripped and not stripped.startswith("-"):
            name = _requirement_name(stripped)
            if name:
                names.add(name)
    return names


def _strings(value: object) -> list[str]:
    """Requirement strings from a TOML list, or the keys of a TOML table (Poetry style)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [k for k in value if isinstance(k, str)]
    return []


def _table(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _pyproject(text: str) -> set[str]:
    try:
        data = tomllib.loads(text[:MAX_TEXT_CHARS])
    except (tomllib.TOMLDecodeError, RecursionError):
        return {m.group(1) for line in _lines(text) for m in _QUOTED_REQUIREMENT.finditer(line)}
    specs = _strings(_table(data, "project", "dependencies"))
    for groups in (
        _table(data, "project", "optional-dependencies"),
        _table(data, "dependency-groups"),
    ):
        if isinstance(groups, dict):
            specs += [s for group in groups.values() for s in _strings(group)]
    specs += _strings(_table(data, "tool", "poetry", "dependencies"))
    specs += _strings(_table(data, "tool", "poetry", "dev-dependencies"))
    poetry_groups = _table(data, "tool", "poetry", "group")
    if isinstance(poetry_groups, dict):
        specs += [s for g in poetry_groups.values() for s in _strings(_table(g, "dependencies"))]
    specs += _strings(_table(data, "packages")) + _strings(_table(data, "dev-packages"))  # Pipfile
    return {name for spec in specs if (name := _requirement_name(spec))}


def _package_json(text: str) -> set[str]:
    try:
        data = json.loads(text[:MAX_TEXT_CHARS])
    except (ValueError, RecursionError):
        return set()
    if not isinstance(data, dict):
        return set()
    keys = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
    return {name for key in keys for name in _strings(data.get(key))}


def dependency_names(path: str, text: str) -> set[str]:
    """Names of the packages a dependency file declares (never executing it)."""
    name = PurePosixPath(path).name.lower()
    if name == "package.json":
        return _package_json(text)
    if name in {"pyproject.toml", "pipfile"}:
        return _pyproject(text)
    if name == "setup.py":
        return {m.group(1) for line in _lines(text) for m in _QUOTED_REQUIREMENT.finditer(line)}
    if name == "setup.cfg":
        return {m.group(1) for line in _lines(text) if (m := _CFG_REQUIREMENT.match(line))}
    if name in {"environment.yml", "environment.yaml", "conda.yaml", "conda.yml"}:
        return {m.group(1) for line in _lines(text) if (m := _CONDA_ITEM.match(line))}
    return _requirements_txt(text)


_PINNED = re.compile(
    r"^\s*(?:-\s*)?[A-Za-z0-9][\w.-]*(?:\[[^\]]*\])?\s*(?:==|=)\s*\d[\w.+!-]*(?:=\S+)?\s*$"
)
_ENTRY = re.compile(r"^\s*(?:-\s*)?[A-Za-z0-9][\w.-]*")


def is_environment_dump(text: str) -> bool:
    """Whether a requirements or conda file is a frozen environment (every package pinned).

    Such a file lists every transitive dependency (Flask because MLflow needs it), so a name
    in it says nothing about what the project uses; its libraries count only when imported.
    """
    entries = pinned = 0
    for line in _lines(text):
        stripped = line.split("#", 1)[0]
        if not _ENTRY.match(stripped) or stripped.strip().endswith(":"):
            continue
        entries += 1
        pinned += bool(_PINNED.match(stripped))
    return entries >= 20 and pinned >= 0.8 * entries


def _python_imports(text: str) -> set[str]:
    """Modules imported, each as its full dotted name ("torch.distributed", "sklearn")."""
    modules: set[str] = set()
    for line in _lines(text):
        match = _IMPORT.match(line)
        if not match:
            continue
        if match.group(1):
            modules.add(match.group(1))
            continue
        for part in match.group(2).split(","):
            words = part.strip().split()
            if words and re.fullmatch(r"[A-Za-z_][\w.]*", words[0]):
                modules.add(words[0])
    return modules


def notebook_code(text: str) -> str:
    """The code cells of a notebook, joined; outputs and markdown are never read."""
    try:
        notebook = json.loads(text[:MAX_NOTEBOOK_CHARS])
    except (ValueError, RecursionError):
        return ""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return ""
    sources: list[str] = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source")
            sources.append(
                "".join(_strings(source)) if isinstance(source, list) else str(source or "")
            )
    return "\n".join(sources)[:MAX_TEXT_CHARS]


def imports_in(path: str, text: str) -> set[str]:
    """Modules imported by a Python file or notebook (full dotted names)."""
    return _python_imports(notebook_code(text) if path.lower().endswith(".ipynb") else text)


def library_key(package: str) -> str:
    """Fold a distribution or import name onto the key used in `LIBRARIES`."""
    key = re.sub(r"[-.]+", "_", package.strip().lower())
    return PACKAGE_IMPORTS.get(key, key)


def module_skills(module: str) -> list[tuple[str, tuple[str, ...]]]:
    """(matched name, skill names) for an imported module: its package and dotted submodules."""
    found: list[tuple[str, tuple[str, ...]]] = []
    top = library_key(module.split(".")[0])
    if top in LIBRARIES:
        found.append((top, LIBRARIES[top]))
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        dotted = ".".join(parts[:end])
        if dotted in MODULES:
            found.append((dotted, MODULES[dotted]))
            break
    return found


# Detection ------------------------------------------------------------------------------------


class _Collector:
    """Gather signals, keeping one per (skill, signal) with every path and library behind it."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.found: dict[tuple[str, str], tuple[float, list[str], list[str]]] = {}

    def add(
        self,
        names: Iterable[str],
        signal: str,
        path: str,
        what: str = "",
        weight: float | None = None,
    ) -> None:
        for name in names:
            skill = self.kb.resolve_skill(name)
            if skill is None:
                continue  # the taxonomy changed; an unknown name is simply not evidence
            key = (skill.id, signal)
            old_weight, paths, items = self.found.get(key, (0.0, [], []))
            if path and path not in paths:
                paths.append(path)
            if what and what not in items:
                items.append(what)
            self.found[key] = (
                max(old_weight, weight if weight is not None else WEIGHTS[signal]),
                paths,
                items,
            )

    def signals(self) -> list[Signal]:
        result = []
        for (skill, signal), (weight, paths, items) in sorted(self.found.items()):
            ordered = sorted(paths)
            detail = f"{signal} {', '.join(sorted(items))}" if items else signal
            if ordered:
                where = (
                    ordered[0] if len(ordered) == 1 else f"{len(ordered)} files, e.g. {ordered[0]}"
                )
                detail += f" in {where}" if items else f": {where}"
            path = ordered[0] if ordered else ""
            result.append(
                Signal(
                    skill=skill, signal=signal, detail=clip(detail), path=path, weight=weight,
                    paths=tuple(ordered),
                )
            )  # fmt: skip
        return result


def _path_signals(paths: Sequence[str], found: _Collector) -> None:
    tests = [p for p in paths if is_test_path(p)]
    if tests:
        found.add(["ml_testing"], "tests", tests[0], weight=0.45 + 0.10 * min(1.0, len(tests) / 20))
        for path in tests[1:]:
            found.add(["ml_testing"], "tests", path, weight=0.0)
    for path in paths:
        pure = PurePosixPath(path)
        name = pure.name.lower()
        dirs = {part.lower() for part in pure.parts[:-1]}
        if is_docker_path(path):
            found.add(["docker"], "docker_compose" if is_compose_path(path) else "dockerfile", path)
        if path.lower().startswith(".github/workflows/") and is_ci_path(path):
            found.add(["ci_cd_ml"], "ci_workflow", path)
        elif path.lower() == ".gitlab-ci.yml":
            found.add(["ci_cd_ml"], "gitlab_ci", path)
        elif is_ci_path(path):
            found.add(["ci_cd_ml"], "ci_config", path)
        if name in CONFIG_FILES:
            skills, signal = CONFIG_FILES[name]
            found.add(skills, signal, path)
        for folder in dirs & set(CONFIG_DIRS):
            skills, signal = CONFIG_DIRS[folder]
            if folder != "dags" or pure.suffix == ".py":  # Airflow DAGs are Python files
                found.add(skills, signal, path)
        if "mlruns" in dirs:
            found.add(["experiment_tracking"], "mlruns", path)
        if name in {"dvc.yaml", "dvc.lock"} or pure.suffix == ".dvc" or ".dvc" in dirs:
            found.add(["data_versioning"], "dvc", path)
        if re.match(r"model[-_]?card", name):
            found.add(["model_documentation"], "model_card", path)
        if name in {"prometheus.yml", "prometheus.yaml"}:
            found.add(["model_monitoring"], "prometheus_config", path)
        if name == "chart.yaml":
            found.add(["kubernetes"], "helm_chart", path)
        elif name in {"kustomization.yaml", "kustomization.yml"} or (
            dirs & K8S_DIRS and pure.suffix in {".yml", ".yaml"}
        ):
            found.add(["kubernetes"], "k8s_manifest", path)
        if pure.suffix == ".tf":
            found.add(["infrastructure_as_code"], "terraform", path)


def _language_signals(languages: Mapping[str, int], unit: str, found: _Collector) -> None:
    total = sum(v for v in languages.values() if v > 0)
    for language, amount in sorted(languages.items()):
        skill = LANGUAGE_SKILLS.get(language)
        share = amount / total if total else 0.0
        if skill and share >= MIN_LANGUAGE_SHARE:
            found.add(
                [skill],
                "language",
                "",
                f"{language} {share:.0%} of {unit}",
                round(0.30 + 0.30 * share, 4),
            )


def _read_order(paths: Sequence[str]) -> list[str]:
    """Files worth reading, most telling first: dependency files, code, tests, manifests and
    entry points (Dockerfiles, Makefiles, scripts)."""

    def depth(p: str) -> tuple[int, str]:
        return (p.count("/"), p)

    deps = sorted((p for p in paths if is_dependency_file(p)), key=depth)
    python = [p for p in paths if p.lower().endswith((".py", ".ipynb"))]
    code = sorted((p for p in python if not is_test_path(p) and not in_examples(p)), key=depth)
    examples = sorted((p for p in python if not is_test_path(p) and in_examples(p)), key=depth)
    tests = sorted((p for p in python if is_test_path(p)), key=depth)
    manifests = sorted(
        (p for p in paths if p.lower().endswith((".yml", ".yaml"))
         and {d.lower() for d in PurePosixPath(p).parts[:-1]} & MANIFEST_DIRS),
        key=depth,
    )  # fmt: skip
    entries = sorted((p for p in paths if is_entry_path(p) or is_ci_path(p)), key=depth)
    return deps + code + tests + entries + manifests + examples


def local_modules(paths: Sequence[str]) -> frozenset[str]:
    """Names the repository itself defines (a `datasets/` folder, a `utils.py`): an import
    of them is the project's own code, not the library of the same name."""
    names: set[str] = set()
    for path in paths:
        pure = PurePosixPath(path)
        if pure.suffix == ".py":
            names.add(pure.stem.lower())
            names.update(part.lower() for part in pure.parts[:-1])
            for root in ("src", "lib"):
                if len(pure.parts) > 2 and pure.parts[0] == root:
                    names.add(pure.parts[1].lower())
    return frozenset(names)


def _code_signals(path: str, text: str, own: frozenset[str], found: _Collector) -> None:
    """Imports and calls in one Python file or notebook."""
    code = notebook_code(text) if path.lower().endswith(".ipynb") else text
    factor = EXAMPLE_FACTOR if in_examples(path) else 1.0
    for module in sorted(_python_imports(code)):
        top = module.split(".")[0].lower()
        if top in own:
            continue  # the project's own module, not a library of that name
        for name, skills in module_skills(module):
            found.add(skills, "import", path, name, WEIGHTS["import"] * factor)
            implied = IMPLIED.get(name)
            if implied:
                found.add(implied, "implied", path, name, IMPLIED_WEIGHT * factor)
    for skills, signal, pattern in CODE_PATTERNS:
        if pattern.search(code):
            found.add(skills, signal, path, weight=WEIGHTS[signal] * factor)
    if WEB_APP.search(code) and MODEL_USE.search(code):
        found.add(
            ["model_serving"], "model_endpoint", path, weight=WEIGHTS["model_endpoint"] * factor
        )


def detect(
    paths: Sequence[str],
    contents: Mapping[str, str] | Reader,
    kb: KnowledgeBase,
    *,
    languages: Mapping[str, int] | None = None,
    max_reads: int = 40,
) -> list[Signal]:
    """Detect skill signals from a repository's paths and at most `max_reads` of its files.

    `contents` maps a path to its text or fetches it lazily (returning None when it cannot);
    `languages` gives bytes per language when the host knows them, else files are counted.
    """
    kept = [p for p in (normalise_path(p) for p in paths) if p and not skipped(p)]
    found = _Collector(kb)
    if languages is not None:
        _language_signals(languages, "code", found)
    else:
        _language_signals(languages_from_paths(kept), "code files", found)
    _path_signals(kept, found)
    own = local_modules(kept)
    read: Reader = contents.get if isinstance(contents, Mapping) else contents
    for path in _read_order(kept)[:max_reads]:
        text = read(path)
        if text is None:
            continue
        notebook = path.lower().endswith(".ipynb")
        text = text[: MAX_NOTEBOOK_CHARS if notebook else MAX_TEXT_CHARS]
        if is_dependency_file(path):
            if PurePosixPath(path).name.lower() == "package.json":
                for package in sorted(dependency_names(path, text)):
                    found.add(JS_PACKAGES.get(package.lower(), ()), "dependency", path, package)
            elif is_environment_dump(text):
                continue  # `pip freeze` / `conda env export`: every transitive package, pinned
            else:
                for package in sorted(dependency_names(path, text)):
                    key = library_key(package)
                    for name, skills in module_skills(key):
                        found.add(skills, "dependency", path, name)
                        if name in IMPLIED:  # declared, maybe not used: below an import's
                            found.add(IMPLIED[name], "implied", path, name, IMPLIED_WEIGHT - 0.05)
        elif path.lower().endswith((".py", ".ipynb")):
            _code_signals(path, text, own, found)
        elif is_entry_path(path) or is_ci_path(path):
            for skills, signal, pattern in ENTRY_PATTERNS:
                if pattern.search(text):
                    found.add(skills, signal, path)
            if is_ci_path(path) and SCHEDULE.search(text) and TRAINING.search(text):
                found.add(["model_retraining"], "scheduled_training", path)
        elif K8S_KINDS.search(text) and re.search(r"^apiVersion:", text, re.MULTILINE):
            found.add(["kubernetes"], "k8s_manifest", path)
    return found.signals()


# From signals to evidence ---------------------------------------------------------------------


def evidence_strength(
    weights: Sequence[float], days_since_active: int | None, commits: int | None
) -> float:
    """Strength of one skill's evidence in one repository (the formula is in the module docstring)."""
    positive = [w for w in weights if w > 0]
    if not positive:
        return 0.0
    base = min(0.9, max(positive) + 0.05 * (len(positive) - 1))
    recency = (
        0.5 if days_since_active is None else 0.5 + 0.5 * 0.5 ** (max(0, days_since_active) / 365)
    )
    activity = 0.7 + 0.3 * min(1.0, max(0, commits or 0) / 10)
    return round(min(0.9, base * recency * activity), 4)


def signals_to_evidence(
    signals: Sequence[Signal],
    *,
    origin: str,
    repo: str,
    observed: dt.date,
    as_of: dt.date,
    commits: int | None,
    link: Callable[[str], str | None] | None = None,
    commits_by_skill: Mapping[str, int] | None = None,
    undated: bool = False,
) -> list[Evidence]:
    """One evidence item per skill seen in one repository, strongest signal first in the detail.

    `commits_by_skill` overrides the activity count for a skill (local checkouts know which
    files the person's commits touched, e.g. none of them touched the Dockerfile means the
    practice is not theirs). `undated`: nothing says when the work was done (a folder that is
    not a git checkout), so recency counts as unknown.
    """
    by_skill: dict[str, list[Signal]] = {}
    for signal in signals:
        by_skill.setdefault(signal.skill, []).append(signal)
    days = None if undated else max(0, (as_of - observed).days)
    items = []
    for skill, found in sorted(by_skill.items()):
        found.sort(key=lambda s: (-s.weight, s.signal))
        count = commits_by_skill.get(skill, commits) if commits_by_skill else commits
        strength = evidence_strength([s.weight for s in found], days, count)
        detail = f"{repo}: " + "; ".join(s.detail for s in found)
        items.append(
            Evidence(
                skill=skill,
                source=SourceKind.CODE,
                strength=strength,
                observed=min(observed, as_of),
                origin=origin,
                signal=found[0].signal,
                detail=clip(detail),
                link=link(found[0].path) if link else None,
            )
        )
    return items


def commit_evidence(
    commits: int,
    last: dt.date,
    as_of: dt.date,
    *,
    origin: str,
    detail: str,
    link: str | None = None,
) -> Evidence:
    """Evidence for Git from the person's own commits over the last 12 months.

    strength = min(0.8, 0.3 + 0.5 x min(1, commits / 200)) x recency of the latest commit.
    """
    recency = 0.5 + 0.5 * 0.5 ** (max(0, (as_of - last).days) / 365)
    strength = round(min(0.8, 0.3 + 0.5 * min(1.0, commits / 200)) * recency, 4)
    return Evidence(
        skill="git",
        source=SourceKind.CODE,
        strength=strength,
        observed=min(last, as_of),
        origin=origin,
        signal="commit_activity",
        detail=clip(detail),
        link=link,
    )
