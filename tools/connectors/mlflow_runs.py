"""Read an MLflow experiment's runs: model reports for the model audit and tracking practice.

Evidence emitted (origin "mlflow"):
- experiment_tracking, source `code` (a practice seen in the person's own tooling), strength
  0.30 + 0.30 * min(runs, 20) / 20 + 0.15 if any run logged parameters + 0.15 if the runs
  logged at least two distinct metrics; so one bare run is about 0.32 and a well-kept
  experiment of 20 runs with parameters and several metrics is 0.90.
- `models`: the best finished run(s) by the task's headline metric become ModelReport entries
  (name = run name, date = run end date); the model audit turns them into `model_metrics`
  evidence later, so this connector emits none itself.

Params, tags and names are data: they are kept (truncated) in `data` and never interpreted.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult, clip_path, now, split_options, validated
from tools.errors import ConnectorError
from tools.numbers import ERROR_PERCENTS
from tools.params import SourceKind
from tools.profile import ModelReport
from tools.results import Evidence

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

NAME = "mlflow"
MAX_RUNS = 200
MAX_PARAMS_KEPT = 50
MAX_TEXT = 200

# Canonical metric (benchmarks.yaml) -> names people log it under, after `_normalize`.
METRIC_ALIASES: dict[str, tuple[str, ...]] = {
    "f1": ("f1", "f1_score", "f1score", "macro_f1", "f1_macro"),
    "roc_auc": ("roc_auc", "auc", "rocauc", "auroc", "roc_auc_score"),
    "pr_auc": ("pr_auc", "prauc", "auprc", "average_precision", "average_precision_score", "ap"),
    "accuracy": ("accuracy", "acc", "accuracy_score"),
    "latency_ms": ("latency_ms", "latency", "inference_latency", "inference_latency_ms"),
    "r2": ("r2", "r2_score", "r_squared"),
    "mape": ("mape", "mean_absolute_percentage_error"),
    "smape": ("smape",),
    "ndcg_at_10": ("ndcg_at_10", "ndcg_10", "ndcg"),
    "map": ("map", "mean_average_precision"),
}
ALIAS_INDEX = {alias: metric for metric, names in METRIC_ALIASES.items() for alias in names}
# Held-out prefixes, most trusted first; training-set metrics (train_*) are ignored on purpose.
SPLIT_PREFIXES = ("test_", "holdout_", "val_", "valid_", "validation_", "eval_", "")
LATENCY_SECONDS = frozenset({"latency_s", "latency_sec", "latency_seconds", "inference_latency_s"})
LOWER_IS_BETTER = frozenset({"latency_ms", "mape", "smape"})
SCORE_METRICS = frozenset({"f1", "roc_auc", "pr_auc", "accuracy", "ndcg_at_10", "map"})
ALLOWED_SCHEMES = frozenset({"", "file", "sqlite", "http", "https"})
BINARY_TASKS = frozenset({"tabular_binary", "text_classification", "image_classification"})


# Names a run logs its class balance under (params, metrics or tags), after `_normalize`;
# a split prefix (test_, train_...) may come first. Their share of positives, 0..1 or a %.
POSITIVE_RATE_NAMES = frozenset(
    {"positive_rate", "pos_rate", "positive_ratio", "pos_ratio", "positive_fraction",
     "pos_frac", "positive_share", "prevalence", "base_rate", "class_balance",
     "minority_rate", "minority_ratio", "minority_fraction", "positive_class_ratio",
     "target_rate", "event_rate", "fraud_rate", "churn_rate", "default_rate"}
)  # fmt: skip
BALANCE_SPLITS = ("test_", "holdout_", "val_", "valid_", "validation_", "eval_", "", "train_")
OPTIONS = {"task": "task", "positive_rate": "positive_rate", "pos_rate": "positive_rate",
           "prevalence": "positive_rate", "best_runs": "best_runs", "max_runs": "max_runs"}  # fmt: skip
USAGE = "mlflow TRACKING_URI EXPERIMENT [task=TASK positive_rate=0.03]"


class MlflowQuery(BaseModel):
    """Which tracking store and experiment to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tracking_uri: str = Field(min_length=1, max_length=2000)
    experiment: str = Field(min_length=1, max_length=500, description="experiment name or id")
    max_runs: int = Field(default=20, ge=1, le=MAX_RUNS, description="most recent first")
    task: str | None = Field(default=None, description="benchmark task id; guessed when absent")
    best_runs: int = Field(default=1, ge=1, le=5, description="how many top runs to report")
    positive_rate: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        description="share of the positive class; else read from each run's params/metrics/tags",
    )

    @field_validator("task")
    @classmethod
    def _task(cls, value: str | None, info: ValidationInfo) -> str | None:
        kb = (info.context or {}).get("kb")
        if value is None or not isinstance(kb, KnowledgeBase):
            return value
        task = kb.resolve_task(value)
        if task is None:
            raise ValueError(
                f"unknown task {_short(value, 60)!r}; allowed: {', '.join(sorted(kb.tasks))}"
            )
        return task.id

    @field_validator("positive_rate", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip().rstrip("%")) / 100
            except ValueError:
                return value
        return value

    @classmethod
    def from_args(cls, args: list[str], kb: KnowledgeBase) -> MlflowQuery:
        """Build the query from `/connect mlflow` words; bad options are a ConnectorError."""
        plain, options = split_options(args, OPTIONS, 2, USAGE)
        if len(plain) < 2:
            raise ConnectorError(f"missing arguments; usage: {USAGE}")
        data = {"tracking_uri": plain[0], "experiment": plain[1], **options}
        return validated(cls, data, {"kb": kb})


def collect(query: MlflowQuery, kb: KnowledgeBase, as_of: dt.date | None = None) -> ConnectorResult:
    """Read the experiment's recent runs into model reports and tracking evidence."""
    uri = _check_uri(query.tracking_uri)
    problems: list[str] = []
    # MLflow looks up a telemetry host unless told not to; it must be set before the import.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if uri.startswith(("http://", "https://")):
        # MLflow's defaults retry for minutes; a person waiting on an audit needs a quick answer.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    from mlflow.tracking import MlflowClient

    with _mlflow_errors(query.tracking_uri):
        client = MlflowClient(tracking_uri=uri)
        experiment_id, experiment_name = _find_experiment(client, query.experiment)
        runs = client.search_runs(
            [experiment_id], max_results=query.max_runs, order_by=["attributes.start_time DESC"]
        )
    today = as_of or now().date()
    if not runs:
        return ConnectorResult(
            source=NAME,
            fetched_at=now(),
            summary=f"The MLflow experiment {_short(experiment_name)!r} has no runs yet.",
            problems=["the experiment has no runs to read"],
            data={"experiment": {"id": experiment_id, "name": _short(experiment_name)}},
        )
    rows = [_read_run(run, problems) for run in runs]
    later = [r for r in rows if r["start"] and r["start"] > today]
    if later:  # a back-dated audit sees the experiment as it was on its date
        problems.append(f"{len(later)} run(s) started after {today} were left out")
        rows = [r for r in rows if r not in later]
        for row in rows:
            if row["ended"] and row["ended"] > today:
                row["ended"] = today  # still running on the audit date
    if not rows:
        return ConnectorResult(
            source=NAME,
            fetched_at=now(),
            summary=f"The MLflow experiment {_short(experiment_name)!r} had no runs by {today}.",
            problems=problems,
            data={"experiment": {"id": experiment_id, "name": _short(experiment_name)}},
        )
    task, guessed = _pick_task(query.task, rows, kb, problems)
    best = _best_runs(rows, task, kb, query.best_runs, problems)
    models = _model_reports(best, task, kb, problems, query.positive_rate)
    evidence = [_tracking_evidence(rows, experiment_name, query.tracking_uri, experiment_id, today)]
    names = ", ".join(repr(_short(r["name"], 60)) for r in best) or "none"
    summary = (
        f"Read {len(rows)} run(s) of MLflow experiment {_short(experiment_name, 80)!r}; "
        f"best by {_headline(task, kb, best)}: {names} (task {task}{', guessed' if guessed else ''})."
    )
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        models=models,
        problems=problems,
        data={
            "experiment": {"id": experiment_id, "name": _short(experiment_name)},
            "task": task,
            "task_guessed": guessed,
            "best_runs": [r["run_id"] for r in best],
            "runs": [_run_data(r) for r in rows],
        },
    )


def _check_uri(uri: str) -> str:
    """Accept only local stores that exist and HTTP servers; never create a store by reading."""
    uri = uri.strip()
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, e.g. C:\mlruns
        scheme = ""
    if scheme not in ALLOWED_SCHEMES:
        raise ConnectorError(
            f"unsupported MLflow tracking URI {_display(uri)!r}: use a folder path, "
            "sqlite:///path/to/mlflow.db or an http(s):// server"
        )
    if scheme in {"http", "https"}:
        try:
            parsed.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ConnectorError(f"MLflow tracking URI {_display(uri)!r} has a bad port") from exc
        if not parsed.hostname:
            raise ConnectorError(f"MLflow tracking URI {_display(uri)!r} has no host")
        return uri.rstrip("/")
    if scheme == "sqlite":
        path = Path(uri.removeprefix("sqlite:///").removeprefix("sqlite:") or ".")
        _check_sqlite(path)
        return f"sqlite:///{path.expanduser().resolve()}"
    folder = Path(parsed.path if scheme == "file" else uri).expanduser()
    if not folder.is_dir():
        raise ConnectorError(f"{clip_path(folder)}: no MLflow store folder there")
    _check_store_files(folder)
    # The file store is in maintenance mode and refuses to open unless explicitly allowed.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return str(folder.resolve())


MAX_STORE_ENTRIES = 200_000  # files and folders of a file store checked before MLflow reads it


def _check_store_files(folder: Path) -> None:
    """Refuse a file store holding a FIFO, device or socket: MLflow would block or read forever."""
    seen = 0
    for parent, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            seen += 1
            if seen > MAX_STORE_ENTRIES:
                raise ConnectorError(
                    f"{clip_path(folder)}: more than {MAX_STORE_ENTRIES:,} files; point at one store"
                )
            try:
                mode = os.stat(os.path.join(parent, name)).st_mode  # follows links, as MLflow does
            except OSError:
                continue  # a dangling link: MLflow reports what it cannot find
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                inside = clip_path(Path(parent, name).relative_to(folder), 60)
                raise ConnectorError(
                    f"{clip_path(folder)}: {inside} is not a regular file "
                    "(a pipe, device or socket cannot be read)"
                )


def _check_sqlite(path: Path) -> None:
    """Refuse a missing file or a database that is not an MLflow store (MLflow would migrate it)."""
    full = path.expanduser()
    if full.exists() and not full.is_file() and not full.is_dir():
        raise ConnectorError(
            f"{clip_path(path)}: not a regular file (a pipe, device or socket cannot be read)"
        )
    if not full.is_file():
        raise ConnectorError(f"{clip_path(path)}: MLflow database not found")
    try:
        uri = path.expanduser().resolve().as_uri() + "?mode=ro"
        with sqlite3.connect(uri, uri=True) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        raise ConnectorError(f"{path}: not a readable SQLite database ({exc})") from exc
    if not {"experiments", "runs", "alembic_version"} <= tables:
        raise ConnectorError(f"{path}: a SQLite database but not an MLflow tracking store")


@contextmanager
def _mlflow_errors(uri: str) -> Iterator[None]:
    """Turn the client's errors into one clear ConnectorError (nothing could be read)."""
    import yaml
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    root = logging.getLogger()
    # The file store reports a malformed experiment with the root logger's module-level
    # functions, which install a stderr handler (and print a traceback) when none exists.
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    try:
        yield
    except MlflowException as exc:
        message = str(exc)
        if "failed with exception" in message or "Max retries exceeded" in message:
            raise ConnectorError(f"cannot reach the MLflow server at {_display(uri)}") from exc
        raise ConnectorError(f"MLflow: {_short(message)}") from exc
    except (SQLAlchemyError, OSError) as exc:
        raise ConnectorError(
            f"cannot read the MLflow store {_display(uri)}: {_short(str(exc))}"
        ) from exc
    except (yaml.YAMLError, UnicodeDecodeError, KeyError, TypeError) as exc:
        # A damaged meta.yaml in a file store surfaces as any of these, deep in MLflow.
        raise ConnectorError(
            f"cannot read the MLflow store {_display(uri)}: a meta.yaml file in it is damaged "
            f"({type(exc).__name__})"
        ) from exc
    finally:
        if guard is not None:
            root.removeHandler(guard)


def _find_experiment(client: MlflowClient, wanted: str) -> tuple[str, str]:
    from mlflow.exceptions import MlflowException

    wanted = wanted.strip()
    experiment = client.get_experiment_by_name(wanted)
    if experiment is None and wanted.isdigit():
        try:
            experiment = client.get_experiment(wanted)
        except MlflowException:
            experiment = None
    if experiment is None:
        known = [e.name for e in client.search_experiments(max_results=10)]
        hint = f"; experiments there: {', '.join(_short(n, 60) for n in known)}" if known else ""
        raise ConnectorError(f"no MLflow experiment named or numbered {_short(wanted, 80)!r}{hint}")
    return str(experiment.experiment_id), str(experiment.name)


def _normalize(name: str) -> str:
    name = name.lower().replace("@", "_at_")
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_")


def map_metrics(raw: dict[str, float]) -> tuple[dict[str, float], list[str]]:
    """Map logged metric names to benchmark metrics, preferring test over validation over bare."""
    found: dict[str, tuple[int, float]] = {}
    notes: list[str] = []
    for name, value in raw.items():
        key = _normalize(name)
        for rank, prefix in enumerate(SPLIT_PREFIXES):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            scale = 1.0
            metric = ALIAS_INDEX.get(rest)
            if metric is None and rest in LATENCY_SECONDS:
                metric, scale = "latency_ms", 1000.0
            if metric is None:
                continue
            if not math.isfinite(value):
                notes.append(f"metric {_short(name, 60)!r} is not a finite number")
                break
            value = value * scale
            if metric in SCORE_METRICS and 1 < value <= 100:
                # Logged as a percentage (e.g. accuracy 87.5); the benchmarks use 0..1.
                value = value / 100
            elif metric in ERROR_PERCENTS and 0 < value < 1:
                # The benchmarks table percentage errors in percent; scikit-learn's
                # mean_absolute_percentage_error (what runs usually log) is a fraction.
                notes.append(
                    f"metric {_short(name, 60)!r} = {value:g} read as {value * 100:g}% (a "
                    "fraction, as scikit-learn computes it)"
                )
                value = value * 100
            if value < 0 or (metric in SCORE_METRICS and value > 1):
                notes.append(f"metric {_short(name, 60)!r} = {value:g} is out of range")
                break
            if metric not in found or rank < found[metric][0]:
                found[metric] = (rank, value)
            break
    return {m: v for m, (_, v) in sorted(found.items())}, notes


def _read_run(run: Run, problems: list[str]) -> dict[str, Any]:
    info, data = run.info, run.data
    metrics, notes = map_metrics(dict(data.metrics))
    name = info.run_name or info.run_id
    problems += [f"run {_short(name, 60)!r}: {n}" for n in notes]
    ended = _date(info.end_time) or _date(info.start_time)
    params = dict(sorted(data.params.items())[:MAX_PARAMS_KEPT])
    balance, where = logged_positive_rate(dict(data.metrics), dict(data.params), dict(data.tags))
    return {
        "run_id": info.run_id,
        "name": _short(name),
        "status": info.status,
        "start": _date(info.start_time),
        "end": _date(info.end_time),
        "ended": ended,
        "metrics": metrics,
        "metric_names": len(data.metrics),
        "params": {_short(k, 100): _short(str(v)) for k, v in params.items()},
        "param_count": len(data.params),
        "tag_count": len([t for t in data.tags if not t.startswith("mlflow.")]),
        "positive_rate": balance,
        "positive_rate_from": where,
    }


def logged_positive_rate(
    metrics: dict[str, float], params: dict[str, str], tags: dict[str, str]
) -> tuple[float | None, str | None]:
    """The class balance a run logged under a common name, held-out splits first, and where."""
    found: list[tuple[int, int, float, str]] = []
    sources: list[tuple[str, dict[str, Any]]] = [
        ("metric", dict(metrics)), ("param", dict(params)), ("tag", dict(tags))
    ]  # fmt: skip
    for rank_kind, (kind, values) in enumerate(sources):
        for name, raw in values.items():
            key = _normalize(str(name))
            for rank, prefix in enumerate(BALANCE_SPLITS):
                if key.startswith(prefix) and key[len(prefix) :] in POSITIVE_RATE_NAMES:
                    value = _share(raw)
                    if value is not None:
                        found.append((rank, rank_kind, value, f"{kind} {_short(str(name), 60)}"))
                    break
    if not found:
        return None, None
    _, _, value, where = min(found)
    return value, where


def _share(raw: object) -> float | None:
    """A share in (0, 1) from 0.035, "0.035", "3.5%" or 3.5 (a percentage); else None."""
    text = str(raw).strip()
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if percent or 1 < value < 100:
        value /= 100
    return value if 0 < value < 1 else None


def _run_data(row: dict[str, Any]) -> dict[str, Any]:
    """A run as plain JSON values (the engine stores results as JSON)."""
    data = {k: v for k, v in row.items() if k != "ended"}
    for key in ("start", "end"):
        data[key] = row[key].isoformat() if row[key] else None
    return data


def _date(millis: int | None) -> dt.date | None:
    if not millis:
        return None
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC).date()


def guess_task(metrics: set[str]) -> str | None:
    """Guess the benchmark task from the metric names alone (None when nothing hints)."""
    if metrics & {"ndcg_at_10", "map"}:
        return "ranking"
    if "smape" in metrics:
        return "time_series_forecasting"
    if metrics & {"r2", "mape"}:
        return "regression"
    if metrics & {"roc_auc", "pr_auc", "f1", "accuracy"}:
        return "tabular_binary"
    return None


def _pick_task(
    wanted: str | None, rows: list[dict[str, Any]], kb: KnowledgeBase, problems: list[str]
) -> tuple[str, bool]:
    if wanted:
        task = kb.resolve_task(wanted)
        if task is not None:
            return task.id, False
        problems.append(f"unknown task {_short(wanted, 60)!r}; guessing it from the metric names")
    seen = {m for r in rows for m in r["metrics"]}
    guess = guess_task(seen)
    if guess is None:
        problems.append("no run logged a metric the benchmarks know; assuming tabular_binary")
        return "tabular_binary", True
    if not seen & {"roc_auc", "pr_auc", "ndcg_at_10", "map", "r2", "mape", "smape"}:
        problems.append(
            f"only f1/accuracy were logged, so the task was guessed as {guess}; pass the task to be sure"
        )
    return guess, True


def _task_metrics(task: str, kb: KnowledgeBase) -> list[str]:
    return [m.metric for m in kb.tasks[task].metrics]


def _best_runs(
    rows: list[dict[str, Any]], task: str, kb: KnowledgeBase, count: int, problems: list[str]
) -> list[dict[str, Any]]:
    """Rank finished runs by the task's first quality metric that any run logged."""
    pool = [r for r in rows if r["status"] == "FINISHED"]
    if not pool:
        problems.append("no run has finished; choosing among unfinished runs")
        pool = rows
    for metric in _task_metrics(task, kb):
        if metric == "latency_ms":
            continue  # speed alone does not make a run the best model
        scored = [r for r in pool if metric in r["metrics"]]
        if scored:
            sign = 1 if metric in LOWER_IS_BETTER else -1
            return sorted(scored, key=lambda r: sign * r["metrics"][metric])[:count]
    return []


def _headline(task: str, kb: KnowledgeBase, best: list[dict[str, Any]]) -> str:
    for metric in _task_metrics(task, kb):
        if metric != "latency_ms" and best and metric in best[0]["metrics"]:
            return metric
    return "no comparable metric"


def _model_reports(
    best: list[dict[str, Any]],
    task: str,
    kb: KnowledgeBase,
    problems: list[str],
    positive_rate: float | None = None,
) -> list[dict[str, Any]]:
    """Model reports for the model audit, with the class balance (stated, else logged)."""
    allowed = set(_task_metrics(task, kb))
    models: list[dict[str, Any]] = []
    for row in best:
        metrics = {m: v for m, v in row["metrics"].items() if m in allowed}
        balance = positive_rate if positive_rate is not None else row["positive_rate"]
        if balance is None and task in BINARY_TASKS and "accuracy" in metrics:
            problems.append(
                f"run {_short(row['name'], 60)!r} logged no class balance (e.g. a positive_rate "
                "param); pass positive_rate= so accuracy on imbalanced data can be judged"
            )
        try:
            report = ModelReport.model_validate(
                {
                    "name": row["name"] or row["run_id"],
                    "task": task,
                    "metrics": metrics,
                    "date": row["ended"],
                    "positive_rate": balance,
                },
                context={"kb": kb},
            )
        except ValidationError as exc:
            problems.append(f"run {row['name']!r} cannot be audited: {exc.errors()[0]['msg']}")
            continue
        models.append(report.model_dump(mode="json"))
    return models


def _tracking_evidence(
    rows: list[dict[str, Any]], experiment: str, uri: str, experiment_id: str, today: dt.date
) -> Evidence:
    metric_names = max(r["metric_names"] for r in rows)
    with_params = any(r["param_count"] for r in rows)
    strength = 0.30 + 0.30 * min(len(rows), 20) / 20
    strength += 0.15 if with_params else 0.0
    strength += 0.15 if metric_names >= 2 else 0.0
    latest = max((r["ended"] for r in rows if r["ended"]), default=today)
    link = f"{_display(uri)}/#/experiments/{experiment_id}" if uri.startswith("http") else None
    return Evidence(
        skill="experiment_tracking",
        source=SourceKind.CODE,
        strength=round(min(strength, 1.0), 4),
        observed=min(latest, today),
        origin=NAME,
        signal="mlflow_runs",
        detail=_short(
            f"{len(rows)} run(s) in experiment {experiment!r}, "
            f"{'with' if with_params else 'without'} parameters, up to {metric_names} metric(s) per run"
        ),
        link=link,
    )


def _short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _display(uri: str) -> str:
    """Show a URI without any user:password part (never echo credentials)."""
    parsed = urlparse(uri.strip())
    if "@" in parsed.netloc:
        parsed = parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[1])
    return _short(parsed.geturl().rstrip("/"), 100)
