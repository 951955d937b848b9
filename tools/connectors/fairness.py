"""Run a group-fairness check on a CSV of a model's predictions.

The CSV holds a binary label column, a predicted-class column, optionally a score column, and
one or more sensitive columns (sex, race, age band, ...). Per group of each sensitive column
it reports the selection rate, accuracy, true and false positive rates (and ROC AUC when a
score is given), plus the demographic parity and equalized odds differences between groups,
with fairlearn's definitions (max minus min of the selection rate; the larger of the TPR and
FPR gaps). They are computed with numpy group counts: the same numbers in milliseconds where
fairlearn's MetricFrame took seconds (tests compare the two).

Evidence emitted (origin "fairness"): bias_testing, source `code`, strength 0.60 for having
run the check on one's own model (practice evidence: it says nothing about how fair the model
is). The result itself goes to `data["finding"]` for the model audit: a sentence when a
difference exceeds 0.1, a common rule of thumb for a closer look, not a legal threshold.
`collect` produces no `models` entry: a fairness check alone does not say what the model is.
When the person names the model (`model=NAME`), `model_report` turns the check into one for
the model audit, with only what the predictions measure: accuracy, F1 and the class balance,
ROC AUC and PR AUC when a score column is given, and the fairness gaps. A score that points
at the other class (lower where the positive class is predicted) is reversed, with a note.
Cell values are data: they are counted, never interpreted.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from knowledge.base import KnowledgeBase
from tools.connectors.base import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ConnectorResult,
    now,
    read_text,
    split_options,
    validated,
)
from tools.errors import ConnectorError
from tools.params import SourceKind
from tools.results import Evidence

NAME = "fairness"
STRENGTH = 0.60
MAX_GROUPS = 20
MAX_SENSITIVE = 5
MAX_NAME = 60

LABEL_NAMES = ("label", "ytrue", "target", "actual", "truth", "groundtruth", "truelabel", "y")
PREDICTION_NAMES = ("prediction", "pred", "ypred", "predicted", "predictedlabel", "yhat")
SCORE_NAMES = ("score", "yscore", "proba", "probability", "prob", "yprob", "predictedprobability")
SENSITIVE_NAMES = (
    "sex", "gender", "race", "ethnicity", "agegroup", "ageband", "agebucket", "religion",
    "disability", "nationality", "maritalstatus", "sensitive", "sensitiveattribute", "protected",
)  # fmt: skip
POSITIVE_TOKENS = frozenset({"1", "true", "yes", "y", "t", "pos", "positive"})
NEGATIVE_TOKENS = frozenset({"0", "false", "no", "n", "f", "neg", "negative"})


# Binary-label tasks a fairness check's model can be audited as (ids of benchmarks.yaml).
BINARY_TASKS = ("tabular_binary", "text_classification", "image_classification")
OPTIONS = {
    "label": "label", "prediction": "prediction", "pred": "prediction", "score": "score",
    "sensitive": "sensitive", "positive_label": "positive_label", "positive": "positive_label",
    "model": "model_name", "model_name": "model_name", "task": "task",
    "threshold": "threshold", "min_group_rows": "min_group_rows",
}  # fmt: skip
USAGE = (
    "fairness PREDICTIONS.csv [label=COL prediction=COL score=COL sensitive=COL,COL "
    "positive_label=VALUE model=NAME task=TASK]"
)


class FairnessQuery(BaseModel):
    """Which predictions file to check and how its columns are named."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    label: str | None = Field(default=None, description="true class; detected when absent")
    prediction: str | None = Field(default=None, description="predicted class (0/1), not a score")
    score: str | None = Field(default=None, description="optional predicted probability")
    sensitive: list[str] = Field(default_factory=list, max_length=MAX_SENSITIVE)
    positive_label: str | None = Field(
        default=None, description="needed unless labels are 0/1, yes/no...", max_length=200
    )
    model_name: str | None = Field(
        default=None, max_length=100, description="names the model; only then is it audited"
    )
    task: str = Field(default="tabular_binary", description="one of BINARY_TASKS (or an alias)")
    threshold: float = Field(default=0.1, gt=0, lt=1)
    min_group_rows: int = Field(default=30, ge=1)
    max_rows: int = Field(default=MAX_ROWS, ge=1, le=MAX_ROWS)
    max_bytes: int = Field(default=MAX_FILE_BYTES, ge=1, le=MAX_FILE_BYTES)

    @field_validator("label", "prediction", "score", "positive_label", "model_name")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("task")
    @classmethod
    def _task(cls, value: str, info: ValidationInfo) -> str:
        kb = (info.context or {}).get("kb")
        if not isinstance(kb, KnowledgeBase):
            return value  # checked again, with the knowledge base, by model_report
        return resolve_task(value, kb)

    @property
    def display_name(self) -> str:
        return self.model_name or "the model"

    @classmethod
    def from_args(cls, args: list[str], kb: KnowledgeBase) -> FairnessQuery:
        """Build the query from `/connect fairness` words; bad options are a ConnectorError."""
        plain, options = split_options(args, OPTIONS, 1, USAGE)
        if not plain:
            raise ConnectorError(f"missing arguments; usage: {USAGE}")
        data: dict[str, Any] = {"path": Path(plain[0]), **options}
        if "sensitive" in options:
            data["sensitive"] = [s for s in options["sensitive"].split(",") if s.strip()]
        return validated(cls, data, {"kb": kb})


def resolve_task(value: str, kb: KnowledgeBase) -> str:
    """A binary-label task id from an id or alias; ConnectorError-worthy ValueError otherwise."""
    task = kb.resolve_task(value)
    if task is None or task.id not in BINARY_TASKS:
        allowed = ", ".join(BINARY_TASKS)
        raise ValueError(
            f"unknown task {_name(value)!r} for a check of binary predictions; allowed: {allowed}"
        )
    return task.id


def collect(query: FairnessQuery, as_of: dt.date | None = None) -> ConnectorResult:
    """Compute per-group rates and parity differences; emit bias_testing practice evidence."""
    problems: list[str] = []
    header, rows = _read_csv(query, problems)
    label = _column(header, query.label, LABEL_NAMES, "label")
    prediction = _column(header, query.prediction, PREDICTION_NAMES, "prediction")
    if label == prediction:
        raise ConnectorError(f"the label and prediction columns are both {_name(label)!r}")
    score = _score_column(header, query.score, {label, prediction}, problems)
    sensitive = _sensitive_columns(header, query.sensitive, {label, prediction, score})
    at = {name: i for i, name in enumerate(header)}

    kept = [r for r in rows if r[at[label]].strip() and r[at[prediction]].strip()]
    if len(kept) < len(rows):
        problems.append(
            f"{len(rows) - len(kept)} row(s) without a label or prediction were left out"
        )
    if not kept:
        raise ConnectorError("no row has both a label and a prediction")
    y_true, y_pred, positive = _binarize(
        [r[at[label]] for r in kept],
        [r[at[prediction]] for r in kept],
        label,
        prediction,
        query.positive_label,
    )
    scores = _scores([r[at[score]] for r in kept], score, problems) if score else None
    if scores is not None and score is not None:
        scores = _oriented(scores, y_pred, score, positive, problems)

    tables: dict[str, Any] = {}
    findings: list[str] = []
    for column in sensitive:
        groups = [r[at[column]].strip() for r in kept]
        table = _check_column(column, groups, y_true, y_pred, scores, query, problems)
        if table is None:
            continue
        tables[_unique(column, tables)] = table
        if table["finding"]:
            findings.append(table["finding"])
    if not tables:
        raise ConnectorError("no sensitive column could be checked: " + "; ".join(problems[-3:]))

    today = as_of or now().date()
    checked = ", ".join(tables)
    evidence = Evidence(
        skill="bias_testing",
        source=SourceKind.CODE,
        strength=STRENGTH,
        observed=today,
        origin=NAME,
        signal="fairness_check",
        detail=_short(f"group-fairness check of {len(kept):,} predictions across {checked}"),
    )
    worst = max(tables.items(), key=lambda kv: kv[1]["demographic_parity_difference"])
    summary = (
        f"Checked {len(kept):,} predictions of {query.display_name} across {checked}; the largest "
        f"demographic parity difference is {worst[1]['demographic_parity_difference']:.2f} ({worst[0]})"
        + (f"; {_exceeding(len(findings))} {query.threshold:g}." if findings else ".")
    )
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary,
        evidence=[evidence],
        problems=problems,
        data={
            "rows": len(kept),
            "label": _name(label),
            "prediction": _name(prediction),
            "score": _name(score) if score else None,
            "positive_label": positive,
            "threshold": query.threshold,
            "sensitive": tables,
            "finding": " ".join(findings) or None,
            # Overall figures, so the model audit can place the model and flag the gaps.
            **_overall(y_true, y_pred, scores),
            "max_demographic_parity_difference": max(
                t["demographic_parity_difference"] for t in tables.values()
            ),
            "max_equalized_odds_difference": max(
                (
                    t["equalized_odds_difference"]
                    for t in tables.values()
                    if t["equalized_odds_difference"] is not None
                ),
                default=None,
            ),
        },
    )


# Reading and columns -----------------------------------------------------------------------


def _read_csv(query: FairnessQuery, problems: list[str]) -> tuple[list[str], list[list[str]]]:
    text = read_text(query.path, query.max_bytes)
    if not text.strip():
        raise ConnectorError(f"{query.path.name}: the file is empty")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [cell.strip() for cell in next(reader, [])]
        rows: list[list[str]] = []
        short = 0
        for row in reader:
            if len(rows) >= query.max_rows:
                raise ConnectorError(
                    f"{query.path.name}: more than {query.max_rows:,} rows; check a sample"
                )
            if len(row) != len(header):
                short += bool(row)  # blank lines are not malformed rows
                continue
            rows.append(row)
    except csv.Error as exc:
        raise ConnectorError(f"{query.path.name}: not a readable CSV file ({exc})") from exc
    if not header or not any(header):
        raise ConnectorError(f"{query.path.name}: no header row")
    if len(set(header)) < len(header) or "" in header:
        raise ConnectorError(f"{query.path.name}: the header has empty or repeated column names")
    if short:
        problems.append(f"{short} row(s) without exactly {len(header)} fields were left out")
    return header, rows


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header holds predictions to check: a label and a prediction column."""
    keys = {_key(h) for h in header}
    return bool(keys & set(LABEL_NAMES)) and bool(keys & set(PREDICTION_NAMES))


def _exceeding(count: int) -> str:
    return "1 difference exceeds" if count == 1 else f"{count} differences exceed"


def _column(header: list[str], wanted: str | None, names: tuple[str, ...], role: str) -> str:
    """Find a named column (case-insensitively) or detect it from common names; refuse guesses."""
    if wanted is not None:
        exact = [h for h in header if h == wanted] or [h for h in header if _key(h) == _key(wanted)]
        if len(exact) != 1:
            raise ConnectorError(f"no {role} column {_name(wanted)!r}; columns: {_listing(header)}")
        return exact[0]
    found = [h for h in header if _key(h) in names]
    if len(found) == 1:
        return found[0]
    if found:
        raise ConnectorError(f"which is the {role} column: {_listing(found)}? name it explicitly")
    raise ConnectorError(f"name the {role} column ({role}=COLUMN); columns: {_listing(header)}")


def _score_column(
    header: list[str], wanted: str | None, taken: set[str], problems: list[str]
) -> str | None:
    if wanted is not None:
        column = _column(header, wanted, SCORE_NAMES, "score")
        if column in taken:
            raise ConnectorError(
                f"{_name(column)!r} cannot be both the score and the label or prediction"
            )
        return column
    found = [h for h in header if _key(h) in SCORE_NAMES and h not in taken]
    if len(found) > 1:
        problems.append(f"several score-like columns ({_listing(found)}); none used, name one")
    return found[0] if len(found) == 1 else None


def _sensitive_columns(header: list[str], wanted: list[str], taken: set[str | None]) -> list[str]:
    if wanted:
        columns = [_column(header, name, (), "sensitive") for name in wanted]
    else:
        columns = [h for h in header if _key(h) in SENSITIVE_NAMES]
        if not columns:
            raise ConnectorError(
                f"name the sensitive column(s) (sensitive=COLUMN,COLUMN); columns: {_listing(header)}"
            )
    clash = [c for c in columns if c in taken]
    if clash:
        raise ConnectorError(
            f"{_listing(clash)} cannot be both sensitive and label, prediction or score"
        )
    return list(dict.fromkeys(columns))[:MAX_SENSITIVE]


@functools.lru_cache(maxsize=4096)  # a label column holds a handful of distinct values
def _token(value: str) -> str:
    text = value.strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number in (0.0, 1.0) else text


def _binarize(
    labels: list[str], predictions: list[str], label: str, prediction: str, positive: str | None
) -> tuple[list[int], list[int], str]:
    """Map both columns to 0/1 with one shared positive class; refuse anything not binary."""
    label_values = {_token(v) for v in labels}
    predicted_values = {_token(v) for v in predictions}
    values = label_values | predicted_values
    if positive is None and values <= POSITIVE_TOKENS | NEGATIVE_TOKENS:
        is_positive = {v: v in POSITIVE_TOKENS for v in values}
    else:
        if len(label_values) > 2:
            raise ConnectorError(
                f"the label column {_name(label)!r} has {len(label_values)} distinct values "
                f"({_listing(sorted(label_values))}); the check needs a binary label"
            )
        if len(predicted_values) > 2:
            raise ConnectorError(
                f"the prediction column {_name(prediction)!r} has {len(predicted_values)} distinct "
                "values; it must hold the predicted class (pass probabilities as the score column)"
            )
        if positive is None:
            raise ConnectorError(
                f"which class is positive among {_listing(sorted(values))}? pass the positive label"
            )
        wanted = _token(positive)
        if wanted not in values or len(values - {wanted}) > 1:
            raise ConnectorError(
                f"with positive class {_name(positive)!r} the labels and predictions "
                f"({_listing(sorted(values))}) are not binary"
            )
        is_positive = {v: v == wanted for v in values}
    y_true = [int(is_positive[_token(v)]) for v in labels]
    y_pred = [int(is_positive[_token(v)]) for v in predictions]
    if len(set(y_true)) < 2:
        raise ConnectorError("the label column holds only one class; the check needs both")
    name = next((v for v, pos in sorted(is_positive.items()) if pos), "1")
    return y_true, y_pred, _name(name)


def _scores(values: list[str], column: str, problems: list[str]) -> list[float] | None:
    numbers: list[float] = []
    for value in values:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            problems.append(
                f"the score column {_name(column)!r} is not all numbers; ROC AUC left out"
            )
            return None
        numbers.append(number)
    return numbers


def _oriented(
    scores: list[float], y_pred: list[int], column: str, positive: str, problems: list[str]
) -> list[float]:
    """The score as one of the positive class: reversed when it is plainly the other class's.

    A score column is often the probability of one fixed class ("probability_good") while the
    person names the other as positive (a lender checking defaults). Read as it is, such a
    score gives a ROC AUC of 1 - the true one, and a good model enters the model audit as one
    worse than chance. The predictions tell which way the score points: a score that is lower
    where the positive class is predicted is the other class's, and ranking by its negation is
    exactly ranking by the positive class's score (both AUCs depend on the order only).
    """
    import numpy as np

    predicted = np.array(y_pred)
    if predicted.min() == predicted.max():
        return scores  # one predicted class: nothing to tell the direction by
    if roc_auc(predicted, np.array(scores, dtype=float)) >= 0.5:
        return scores
    problems.append(
        f"the score column {_name(column)!r} is lower where {positive!r} is predicted: it is "
        "read as the other class's score, reversed for ROC AUC and PR AUC"
    )
    return [-value for value in scores]


# The check ---------------------------------------------------------------------------------


def _check_column(
    column: str,
    groups: list[str],
    y_true: list[int],
    y_pred: list[int],
    scores: list[float] | None,
    query: FairnessQuery,
    problems: list[str],
) -> dict[str, Any] | None:
    """Per-group rates and the two differences for one sensitive column (None: not checkable)."""
    import numpy as np

    where = f"sensitive column {_name(column)!r}"
    keep = np.array([g != "" for g in groups])
    if not keep.all():
        problems.append(f"{where}: {int((~keep).sum())} row(s) without a value were left out")
    sens = np.array(groups, dtype=object)[keep]
    truth, pred = np.array(y_true)[keep], np.array(y_pred)[keep]
    score = np.array(scores)[keep] if scores is not None else None
    names = sorted(set(sens.tolist()))
    if len(names) < 2:
        problems.append(f"{where}: fewer than two groups, nothing to compare")
        return None
    if len(names) > MAX_GROUPS:
        problems.append(
            f"{where}: {len(names)} groups (over {MAX_GROUPS}); bin it into bands first"
        )
        return None
    table: dict[str, dict[str, Any]] = {}
    selection: list[float] = []
    tprs: list[float] = []
    fprs: list[float] = []
    for group in names:
        members = sens == group
        t, p = truth[members], pred[members]
        size, positives = int(members.sum()), int(t.sum())
        if size < query.min_group_rows:
            problems.append(
                f"{where}: group {_name(group)!r} has only {size} row(s) "
                f"(under {query.min_group_rows}); its rates are unreliable"
            )
        rate = float(p.mean())
        tpr = float(p[t == 1].mean()) if positives else None
        fpr = float(p[t == 0].mean()) if positives < size else None
        selection.append(rate)
        # Equalized odds only over groups that have both classes: an undefined rate counted
        # as 0 (as fairlearn does) would overstate the difference.
        if tpr is not None and fpr is not None:
            tprs.append(tpr)
            fprs.append(fpr)
        auc = None
        if score is not None and 0 < positives < size:
            auc = round(roc_auc(t, score[members]), 4)
        table[_unique(group, table)] = {
            "count": size,
            "selection_rate": round(rate, 4),
            "accuracy": round(float((t == p).mean()), 4),
            "tpr": round(tpr, 4) if tpr is not None else None,
            "fpr": round(fpr, 4) if fpr is not None else None,
            "roc_auc": auc,
        }
    dp = max(selection) - min(selection)
    both = len(tprs)
    eo = max(max(tprs) - min(tprs), max(fprs) - min(fprs)) if both >= 2 else None
    if both < len(names):
        problems.append(
            f"{where}: {len(names) - both} group(s) lack positive or negative labels; "
            "their rates are undefined and left out of the equalized odds difference"
        )
    return {
        "groups": table,
        "demographic_parity_difference": round(dp, 4),
        "equalized_odds_difference": round(eo, 4) if eo is not None else None,
        "finding": _finding(column, table, dp, eo, query),
    }


def roc_auc(truth: Any, score: Any) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic, ties counted half (as sklearn)."""
    import numpy as np

    order = np.argsort(score, kind="mergesort")
    _, inverse, counts = np.unique(score[order], return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    average = (upper - counts + 1 + upper) / 2.0  # mean 1-based rank of each tied run
    ranks = np.empty(len(score))
    ranks[order] = average[inverse]
    positive = truth == 1
    n_pos = int(positive.sum())
    n_neg = len(truth) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(truth: Any, score: Any) -> float:
    """PR AUC as average precision over distinct score thresholds (sklearn's definition)."""
    import numpy as np

    order = np.argsort(-score, kind="mergesort")
    ranked, hits = score[order], truth[order]
    last = np.r_[np.nonzero(np.diff(ranked))[0], len(ranked) - 1]
    tps = np.cumsum(hits)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _overall(y_true: list[int], y_pred: list[int], scores: list[float] | None) -> dict[str, Any]:
    """Whole-file figures the model audit can rank: accuracy, F1, and AUCs with a score."""
    import numpy as np

    truth, pred = np.array(y_true), np.array(y_pred)
    tp = int(((truth == 1) & (pred == 1)).sum())
    wrong = int((truth != pred).sum())
    figures: dict[str, Any] = {
        "accuracy": round(float((truth == pred).mean()), 4),
        "f1": round(2 * tp / (2 * tp + wrong), 4) if tp + wrong else 0.0,
        "positive_rate": round(float(truth.mean()), 4),
        "roc_auc": None,
        "pr_auc": None,
    }
    if scores is not None:
        score = np.array(scores, dtype=float)
        figures["roc_auc"] = round(roc_auc(truth, score), 4)
        figures["pr_auc"] = round(average_precision(truth, score), 4)
    return figures


def model_report(
    result: ConnectorResult, query: FairnessQuery, kb: KnowledgeBase
) -> dict[str, Any] | None:
    """The checked model for the model audit, or None when the person did not name it.

    Only what the predictions measure goes in; a check of unnamed predictions invents no model.
    """
    if query.model_name is None:
        return None
    try:
        task = resolve_task(query.task, kb)
    except ValueError as exc:
        raise ConnectorError(str(exc)) from exc
    data = result.data
    allowed = {m.metric for m in kb.tasks[task].metrics}
    metrics = {
        m: data[m]
        for m in ("roc_auc", "pr_auc", "f1", "accuracy")
        if m in allowed and data.get(m) is not None
    }
    fairness = {"demographic_parity_difference": data["max_demographic_parity_difference"]}
    if data.get("max_equalized_odds_difference") is not None:
        fairness["equalized_odds_difference"] = data["max_equalized_odds_difference"]
    return {
        "name": query.model_name,
        "task": task,
        "metrics": metrics,
        "positive_rate": data["positive_rate"],
        "fairness": fairness,
    }


def _finding(
    column: str, table: dict[str, dict[str, Any]], dp: float, eo: float | None, query: FairnessQuery
) -> str | None:
    parts = []
    if dp > query.threshold:
        rates = sorted(table.items(), key=lambda kv: kv[1]["selection_rate"])
        (low, low_stats), (high, high_stats) = rates[0], rates[-1]
        parts.append(
            f"selection rates differ by {dp:.2f} (demographic parity difference; "
            f"{high!r} {high_stats['selection_rate']:.2f} vs {low!r} {low_stats['selection_rate']:.2f})"
        )
    if eo is not None and eo > query.threshold:
        parts.append(f"true or false positive rates differ by {eo:.2f} (equalized odds difference)")
    if not parts:
        return None
    return (
        f"{query.display_name}, by {_name(column)!r}: " + " and ".join(parts) + f". Above "
        f"{query.threshold:g} is a common rule of thumb for a closer look, not a legal threshold."
    )


def _name(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1] + "…"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unique(name: str, taken: dict[str, Any]) -> str:
    """A display name not yet used: shortening can make two distinct names collide."""
    key, number = _name(name), 2
    while key in taken:
        key, number = f"{_name(name)} ({number})", number + 1
    return key


def _listing(names: list[str]) -> str:
    shown = ", ".join(_name(n) for n in names[:8])
    return shown + (f" and {len(names) - 8} more" if len(names) > 8 else "")
