"""Model audit: where a reported model stands against percentile tables of similar projects."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from knowledge.base import KnowledgeBase
from knowledge.schema import MetricPercentiles
from tools.params import ScoringParams, SourceKind
from tools.profile import ModelReport
from tools.results import Evidence, MetricVerdict, ModelFinding, ModelVerdict

LATENCY = "latency_ms"
CLASSIFICATION_TASKS = frozenset(
    {"tabular_binary", "multiclass", "text_classification", "image_classification"}
)


def percentile_of(value: float, table: MetricPercentiles) -> tuple[float, str | None]:
    """Interpolate the percentile of `value`; outside the table, clamp and say which side."""
    points = sorted(table.points.items())
    # Turn lower-is-better metrics around so that larger always means better.
    sign = 1.0 if table.higher_is_better else -1.0
    xs = [sign * v for _, v in points]
    x = sign * value
    if x < xs[0]:
        return float(points[0][0]), "below"
    if x > xs[-1]:
        return float(points[-1][0]), "above"
    for (p_lo, _), (p_hi, _), x_lo, x_hi in zip(points, points[1:], xs, xs[1:], strict=False):
        if x_lo <= x <= x_hi:
            return p_lo + (p_hi - p_lo) * (x - x_lo) / (x_hi - x_lo), None
    raise AssertionError("unreachable: value lies inside the table")


def audit_model(report: ModelReport, kb: KnowledgeBase, params: ScoringParams) -> ModelVerdict:
    """Percentile of every reported metric, flags below the threshold, and pitfall findings."""
    task = kb.tasks[report.task]
    tables = {m.metric: m for m in task.metrics}
    verdicts: list[MetricVerdict] = []
    findings: list[ModelFinding] = []
    for metric in sorted(report.metrics):
        value = report.metrics[metric]
        table = tables.get(metric)
        if table is None:
            findings.append(
                ModelFinding(
                    code="no_benchmark", message=f"no {metric} table for {task.name}; not ranked"
                )
            )
            verdicts.append(
                MetricVerdict(
                    metric=metric, value=value, percentile=None, beyond_table=None, below_flag=False
                )
            )
            continue
        pct, beyond = percentile_of(value, table)
        below = pct < params.model_flag_percentile
        verdicts.append(
            MetricVerdict(
                metric=metric,
                value=value,
                percentile=round(pct, 1),
                beyond_table=beyond,
                below_flag=below,
            )
        )
    findings += _imbalance_findings(report, params)
    findings += _personal_data_findings(report)
    findings += _fairness_findings(report, params)
    quality = [v.percentile for v in verdicts if v.percentile is not None and v.metric != LATENCY]
    quality_pct = round(math.fsum(quality) / len(quality), 1) if quality else None
    flagged = any(v.below_flag for v in verdicts)
    if flagged:
        names = ", ".join(v.metric for v in verdicts if v.below_flag)
        findings.append(
            ModelFinding(
                code="below_p75",
                message=f"{names} below the {params.model_flag_percentile:g}th percentile of similar projects",
            )
        )
    return ModelVerdict(
        name=report.name,
        task=report.task,
        metrics=verdicts,
        quality_percentile=quality_pct,
        flagged=flagged,
        findings=findings,
    )


NO_BASIS = frozenset(
    {"", "none", "no", "unknown", "i don't know", "don't know", "dont know", "not sure", "n/a", "?"}
)
TEXT_TASKS = frozenset({"text_classification"})


def _personal_data_findings(report: ModelReport) -> list[ModelFinding]:
    """Personal data in (NLP) training data needs a stated legal basis under the GDPR."""
    if not report.personal_data:
        return []
    basis = (report.legal_basis or "").strip().lower()
    if basis not in NO_BASIS:
        return []
    where = "text training data" if report.task in TEXT_TASKS else "training data"
    return [
        ModelFinding(
            code="personal_data_no_basis",
            message=(
                f"the {where} holds personal data but no legal basis is stated; under the GDPR "
                "(Art. 6) name one (consent, contract, legitimate interest...) and record it"
            ),
        )
    ]


def _fairness_findings(report: ModelReport, params: ScoringParams) -> list[ModelFinding]:
    """Group-fairness differences above the rule-of-thumb threshold (not a legal one)."""
    gaps = {
        k: v
        for k, v in (report.fairness or {}).items()
        if v is not None and v > params.fairness_threshold
    }
    if not gaps:
        return []
    listed = ", ".join(
        f"{name.replace('_', ' ')} {value:.2f}" for name, value in sorted(gaps.items())
    )
    return [
        ModelFinding(
            code="fairness_gap",
            message=(
                f"group-fairness differences above {params.fairness_threshold:g} ({listed}); a common rule of "
                "thumb, not a legal threshold: check the groups and consider mitigation"
            ),
        )
    ]


def _imbalance_findings(report: ModelReport, params: ScoringParams) -> list[ModelFinding]:
    if report.task not in CLASSIFICATION_TASKS:
        return []
    if report.positive_rate is None:
        if "accuracy" in report.metrics:
            return [
                ModelFinding(
                    code="balance_unknown",
                    message="accuracy is reported but the class balance is not; give positive_rate",
                )
            ]
        return []
    minority = min(report.positive_rate, 1 - report.positive_rate)
    if minority >= params.imbalance_minority_threshold:
        return []
    findings = []
    if "accuracy" in report.metrics:
        findings.append(
            ModelFinding(
                code="accuracy_on_imbalanced",
                message=(
                    f"accuracy is reported on data whose minority class is {minority:.1%}: a model that "
                    "always predicts the majority scores high; judge it by PR-AUC and precision-recall curves"
                ),
            )
        )
    if "pr_auc" not in report.metrics:
        findings.append(
            ModelFinding(
                code="pr_auc_missing",
                message="imbalanced data: report PR-AUC (average precision) and the precision-recall curve",
            )
        )
    return findings


def model_evidence(
    verdicts: Sequence[tuple[ModelReport, ModelVerdict]], kb: KnowledgeBase, as_of: dt.date
) -> list[Evidence]:
    """Turn model quality percentiles into evidence for the skills the task exercises."""
    items: list[Evidence] = []
    for report, verdict in verdicts:
        observed = report.date or as_of
        if verdict.quality_percentile is not None:
            for skill in kb.tasks[report.task].skills:
                items.append(
                    Evidence(
                        skill=skill,
                        source=SourceKind.MODEL_METRICS,
                        strength=round(verdict.quality_percentile / 100, 4),
                        observed=observed,
                        origin="profile.models",
                        detail=f"{report.name}: quality at the {verdict.quality_percentile:g}th percentile",
                    )
                )
        latency = next(
            (m for m in verdict.metrics if m.metric == LATENCY and m.percentile is not None), None
        )
        if latency is not None and latency.percentile is not None:
            items.append(
                Evidence(
                    skill="model_serving",
                    source=SourceKind.MODEL_METRICS,
                    strength=round(latency.percentile / 100, 4),
                    observed=observed,
                    origin="profile.models",
                    detail=f"{report.name}: latency at the {latency.percentile:g}th percentile",
                )
            )
    return items
