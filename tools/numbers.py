"""Numbers as people read them."""

from __future__ import annotations

import math


def rank(percentile: float) -> str:
    """A percentile as shown: whole, except just short of 100 ("99.6", never "100", which
    would read as above everyone)."""
    if 99.5 <= percentile < 100:
        return f"{math.floor(percentile * 10) / 10:.1f}"
    return f"{percentile:.0f}"


def percent(share: float) -> str:
    """A share (0.25) as a percentage ("25%") that never reads as its neighbour: a small share
    keeps two significant digits (0.005 is "0.5%", not "0%") and one just short of all keeps
    decimals (0.996 is "99.6%", not "100%")."""
    if share <= 0 or share >= 1:
        return f"{share:.0%}"
    if share < 0.01:
        return f"{share * 100:.2g}%"
    if share < 0.1:  # a 2.5% minority class is not "2%"
        return f"{share * 100:.1f}".removesuffix(".0") + "%"
    if share > 0.99:
        for digits in (1, 2):
            text = f"{share:.{digits}%}"
            if not text.startswith("100"):
                return text
        return "over 99.99%"
    # Halves round up, as people round ("12.5%" is 13%, not Python's even 12%).
    return f"{math.floor(share * 100 + 0.5)}%"


def shown(value: float | None, digits: int = 1) -> float | int | None:
    """A number as a sentence shows it: rounded to `digits` places and whole when it is whole
    (78.0 is "78", 0.259 with two digits "0.26", not "78.0" and "0.259")."""
    if value is None:
        return None
    rounded = round(value, digits)
    return int(rounded) if rounded == int(rounded) else rounded


# The names of the benchmarked metrics as people write them (ids are for files and code).
METRIC_LABELS = {"f1": "F1", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "accuracy": "accuracy",
                 "latency_ms": "latency (ms)", "r2": "R²", "mape": "MAPE", "smape": "sMAPE",
                 "ndcg_at_10": "NDCG@10", "map": "MAP"}  # fmt: skip


def metric_label(metric: str) -> str:
    """The display name of a metric id ("roc_auc" -> "ROC-AUC")."""
    return METRIC_LABELS.get(metric, metric)


# Errors given as percentages ("MAPE 8%"): the benchmark tables hold them in percent.
ERROR_PERCENTS = frozenset({"mape", "smape"})


def metric_shown(metric: str, value: float) -> str:
    """A metric with its value as people write it ("ROC-AUC 0.81", "MAPE 8%")."""
    unit = "%" if metric in ERROR_PERCENTS else ""
    return f"{metric_label(metric)} {value:g}{unit}"
