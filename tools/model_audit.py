"""Model audit: what a reported model's metrics mean, against trivial baselines and percentile tables."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence

from knowledge.base import KnowledgeBase
from knowledge.schema import DatasetBenchmark, Medal, MetricPercentiles
from tools.numbers import metric_label, percent, rank
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


THRESHOLD_METRICS = frozenset({"accuracy", "f1"})
# Below this minority share (and from `imbalance_minority_threshold` up), accuracy reported
# alone still counts, but is set against always predicting the majority class and the
# minority class is asked about (a finding and a review prompt; no score changes).
ACCURACY_CONTEXT_MINORITY = 0.35


def _is_binary(report: ModelReport, positive_rate: float | None) -> bool:
    """Two classes: said so, or a tabular binary task, or a text or image classifier whose
    positive-class share was given (a multiclass task, or more classes said, is not)."""
    if report.classes is not None:
        return report.classes == 2 and report.task in CLASSIFICATION_TASKS
    return report.task == "tabular_binary" or (
        report.task in CLASSIFICATION_TASKS - {"multiclass"} and positive_rate is not None
    )


def trivial_baseline(
    metric: str,
    task: str,
    positive_rate: float | None,
    binary: bool,
    classes: int | None = None,
) -> tuple[float, str] | None:
    """What a model with no skill scores on `metric` for this data, and what that model is."""
    if metric == "roc_auc" and task in CLASSIFICATION_TASKS:
        return 0.5, "a random ranking"
    if metric == "r2":
        return 0.0, "predicting the mean"
    if not binary and metric == "accuracy" and classes and _balanced(classes, positive_rate):
        return 1 / classes, f"always predicting one of {classes} balanced classes"
    if not binary or positive_rate is None:
        return None
    minority = min(positive_rate, 1 - positive_rate)
    if metric == "accuracy":
        return 1 - minority, "always predicting the majority class"
    if metric == "pr_auc":
        return positive_rate, "random scores (the positive rate)"
    if metric == "f1":
        return 2 * positive_rate / (1 + positive_rate), "always predicting positive"
    return None


def _balanced(classes: int, rarest: float | None) -> bool:
    """Several classes of about equal size: the rarest holds about 1/N of the examples."""
    return rarest is not None and abs(rarest * classes - 1) < 0.1


def _counts(
    metric: str, binary: bool, minority: float | None, params: ScoringParams
) -> tuple[bool, str]:
    """Whether a metric is valid quality evidence for this task and data, and why not."""
    if metric == LATENCY:
        return False, "latency is judged apart, as evidence of serving"
    if binary and metric in THRESHOLD_METRICS:
        if minority is None:
            return False, "a threshold metric means little until the class balance is known"
        if minority < params.imbalance_minority_threshold:
            if metric == "f1":  # F1 of the positive class is not swamped, but not comparable
                return False, (
                    f"F1 depends on how rare the positive class is, and its table is for usual "
                    f"balances; at a {percent(minority)} minority class it is not ranked (from "
                    f"{params.imbalance_minority_threshold:.0%}); PR-AUC is"
                )
            return False, (
                f"a threshold metric on a {percent(minority)} minority class is dominated by the majority "
                f"class (valid from {params.imbalance_minority_threshold:.0%})"
            )
    return True, ""


def audit_model(report: ModelReport, kb: KnowledgeBase, params: ScoringParams) -> ModelVerdict:
    """Rank every metric, compare it with its trivial baseline, and decide what counts as quality."""
    task = kb.tasks[report.task]
    dataset = (
        next((d for d in task.datasets if d.id == report.dataset), None) if report.dataset else None
    )
    tables = {m.metric: m for m in task.metrics}
    if dataset is not None:
        tables.update({m.metric: m for m in dataset.metrics})
    positive_rate = report.positive_rate
    if positive_rate is None and dataset is not None:
        positive_rate = dataset.positive_rate
    binary = _is_binary(report, positive_rate)
    minority = (
        None if positive_rate is None or not binary else min(positive_rate, 1 - positive_rate)
    )
    verdicts: list[MetricVerdict] = []
    findings: list[ModelFinding] = []
    for metric in sorted(report.metrics):
        value = report.metrics[metric]
        counts, note = _counts(metric, binary, minority, params)
        base = trivial_baseline(metric, report.task, positive_rate, binary, report.classes)
        beats = None
        if base is not None:
            beats = value > base[0] + 1e-9
            if not beats:
                counts = False
                note = f"at or below {base[0]:.3g}, what {base[1]} scores"
        table = tables.get(metric)
        if table is None:
            findings.append(
                ModelFinding(
                    code="no_benchmark", message=f"no {metric} table for {task.name}; not ranked"
                )
            )
            verdicts.append(
                MetricVerdict(
                    metric=metric, value=value, percentile=None, beyond_table=None,
                    below_flag=False, baseline=None if base is None else round(base[0], 4),
                    baseline_label="" if base is None else base[1], beats_baseline=beats,
                    counts=False, note=note or "no table to rank it against",
                )
            )  # fmt: skip
            continue
        pct, beyond = percentile_of(value, table)
        # A metric that is no evidence of quality gets no rank: "percentile 95" for an
        # always-majority accuracy would read as praise whatever the note says.
        ranked = counts or metric == LATENCY
        verdicts.append(
            MetricVerdict(
                metric=metric,
                value=value,
                percentile=round(pct, 1) if ranked else None,
                beyond_table=beyond if ranked else None,
                below_flag=ranked and pct < params.model_flag_percentile,
                baseline=None if base is None else round(base[0], 4),
                baseline_label="" if base is None else base[1],
                beats_baseline=beats,
                counts=counts,
                note=note,
            )
        )
    medal = report.medal if dataset is not None and report.medal in dataset.medals else None
    if medal is not None and dataset is not None:
        verdicts = _at_least_the_medal(verdicts, medal, dataset, params)
    findings += _baseline_findings(verdicts, minority)
    findings += _imbalance_findings(report, params, positive_rate)
    findings += _personal_data_findings(report)
    findings += _fairness_findings(report, params)
    quality = [v.percentile for v in verdicts if v.counts and v.percentile is not None]
    quality_pct = round(math.fsum(quality) / len(quality), 1) if quality else None
    if quality_pct is None and any(v.metric != LATENCY for v in verdicts):
        findings.append(
            ModelFinding(
                code="no_quality_evidence",
                message=(
                    "none of the reported metrics counts as evidence of the model's quality, so it adds "
                    "nothing to your skill scores; report ROC-AUC or PR-AUC together with the share of positives"
                ),
            )
        )
    flagged = any(v.below_flag for v in verdicts)
    if flagged:
        names = ", ".join(metric_label(v.metric) for v in verdicts if v.below_flag)
        findings.append(
            ModelFinding(
                code="below_p75",
                message=f"{names} below the {params.model_flag_percentile:g}th percentile of {_compared(dataset)}",
            )
        )
    return ModelVerdict(
        name=report.name,
        task=report.task,
        metrics=verdicts,
        quality_percentile=quality_pct,
        flagged=flagged,
        findings=findings,
        dataset=report.dataset,
        compared_with=_compared(dataset),
        medal=medal,
        below_baseline=any(v.beats_baseline is False for v in verdicts),
        legal_basis=stated_basis(report),
    )


def _at_least_the_medal(
    verdicts: list[MetricVerdict], medal: Medal, dataset: DatasetBenchmark, params: ScoringParams
) -> list[MetricVerdict]:
    """A medal is a documented rank on the leaderboard: a quality metric ranks at least where
    the medal puts it, whatever the editorial shape between the table's points says."""
    floor = dataset.medals[medal]
    raised = []
    for v in verdicts:
        if v.counts and v.percentile is not None and v.metric != LATENCY and v.percentile < floor:
            note = (
                f"a {medal} medal ranks in the top {100 - floor:.2g}% of the leaderboard; the "
                f"table alone says {v.percentile:g}"
            )
            v = v.model_copy(
                update={
                    "percentile": floor,
                    "beyond_table": None,
                    "below_flag": floor < params.model_flag_percentile,
                    "note": f"{v.note}; {note}" if v.note else note,
                }
            )
        raised.append(v)
    return raised


def _compared(dataset: DatasetBenchmark | None) -> str:
    if dataset is None:
        return "similar practitioner projects"
    return f"the {dataset.name} leaderboard"


def _baseline_findings(
    verdicts: Sequence[MetricVerdict], minority: float | None
) -> list[ModelFinding]:
    """A metric at or below its trivial baseline is a Model Evaluation gap, never skill."""
    weak = [v for v in verdicts if v.beats_baseline is False and v.baseline is not None]
    if not weak:
        return []
    balance = "" if minority is None else f" at {percent(minority)} in the minority class"
    listed = "; ".join(
        f"{metric_label(v.metric)} {v.value:g} vs {v.baseline:g} for {v.baseline_label}"
        for v in weak
    )
    return [
        ModelFinding(
            code="at_or_below_baseline",
            message=(
                f"{listed}{balance}: the model does no better than a trivial one on "
                f"{'this metric' if len(weak) == 1 else 'these metrics'}; compare every metric with its baseline "
                "before calling a model good (a Model Evaluation gap)"
            ),
        )
    ]


NO_BASIS = frozenset(
    {"", "none", "no", "unknown", "i don't know", "don't know", "dont know", "not sure", "n/a", "?"}
)
# The person works for the data controller (a client, an employer), whose basis it is to name.
CONTROLLER_DECIDES = "controller_decides"
TEXT_TASKS = frozenset({"text_classification"})


# The person states that no one in the EU, EEA or UK is in the data: no GDPR basis is needed.
OUTSIDE_GDPR = "outside_gdpr"


def stated_basis(report: ModelReport) -> str | None:
    """The legal basis the report states, in words ("legitimate interests"); None when none is."""
    basis = (report.legal_basis or "").strip()
    if basis.lower() in NO_BASIS or basis == CONTROLLER_DECIDES:
        return None
    if basis == OUTSIDE_GDPR:
        return "none needed under the GDPR (no one in the EU, EEA or UK in the data, as stated)"
    return basis.replace("_", " ")


def _personal_data_findings(report: ModelReport) -> list[ModelFinding]:
    """Personal data in (NLP) training data needs a stated legal basis under the GDPR."""
    if not report.personal_data or stated_basis(report) is not None:
        return []
    where = "text training data" if report.task in TEXT_TASKS else "training data"
    if (report.legal_basis or "").strip() == CONTROLLER_DECIDES:
        message = (
            f"the {where} holds personal data and its legal basis is for your client or employer "
            "(the data controller) to name; ask them which basis under the GDPR (Art. 6) they "
            "rely on and record it with the model"
        )
    else:
        message = (
            f"the {where} holds personal data but no legal basis is stated; under the GDPR "
            "(Art. 6) name one (consent, contract, legitimate interest...) and record it"
        )
    return [ModelFinding(code="personal_data_no_basis", message=message)]


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


def _imbalance_findings(
    report: ModelReport, params: ScoringParams, positive_rate: float | None
) -> list[ModelFinding]:
    if report.task not in CLASSIFICATION_TASKS:
        return []
    if positive_rate is not None and not _is_binary(report, positive_rate):
        return []  # several classes: no positive class whose share makes accuracy misleading
    threshold = sorted(THRESHOLD_METRICS & set(report.metrics))
    if positive_rate is None:
        if threshold and _is_binary(report, positive_rate):
            return [
                ModelFinding(
                    code="balance_unknown",
                    message=(
                        f"{' and '.join(threshold)} {'is' if len(threshold) == 1 else 'are'} reported but the class "
                        "balance is not, so they are not counted as quality evidence; give positive_rate"
                    ),
                )
            ]
        return []
    minority = min(positive_rate, 1 - positive_rate)
    if minority >= params.imbalance_minority_threshold:
        return _accuracy_alone(report, minority)
    findings = []
    if "accuracy" in report.metrics:
        findings.append(
            ModelFinding(
                code="accuracy_on_imbalanced",
                message=(
                    f"accuracy is reported on data whose minority class is {percent(minority)}: a model that "
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


def _accuracy_alone(report: ModelReport, minority: float) -> list[ModelFinding]:
    """Accuracy as the only classification metric of a binary model on data balanced enough
    to rank it: what it is worth against always predicting the majority class, and what it
    cannot show (how much of the minority class the model finds)."""
    accuracy = report.metrics.get("accuracy")
    if accuracy is None or {"f1", "pr_auc", "roc_auc"} & set(report.metrics):
        return []
    baseline = 1 - minority
    if accuracy <= baseline or minority >= ACCURACY_CONTEXT_MINORITY:
        return []  # at or below the baseline: said by _baseline_findings; near balance: fine
    avoided = (accuracy - baseline) / (1 - baseline)
    return [
        ModelFinding(
            code="accuracy_on_imbalanced",
            message=(
                f"accuracy {accuracy:g} against {baseline:.2g} for always predicting the majority "
                f"class ({percent(minority)} in the minority class): it avoids {avoided:.0%} of that "
                "model's errors, and shows nothing of how much of the minority class it finds; "
                "report precision and recall on that class, or PR-AUC"
            ),
        )
    ]


def model_evidence(
    verdicts: Sequence[tuple[ModelReport, ModelVerdict]],
    kb: KnowledgeBase,
    as_of: dt.date,
    params: ScoringParams,
    named: Collection[str],
) -> list[Evidence]:
    """Evidence from reported models for the skills they show, never for skills nobody named.

    Quality counts only toward the task family and model evaluation, and only where the
    person named the skill by other evidence. A metric at or below its trivial baseline is
    recorded as a Model Evaluation gap instead, named or not: it is a finding about how the
    model was judged, not a claim of skill.
    """
    items: list[Evidence] = []
    for report, verdict in verdicts:
        observed = report.date or as_of
        skills = [s for s in kb.tasks[report.task].skills if s in named]
        if verdict.below_baseline:
            weak = ", ".join(
                metric_label(m.metric) for m in verdict.metrics if m.beats_baseline is False
            )
            items.append(
                Evidence(
                    skill="model_evaluation",
                    source=SourceKind.MODEL_METRICS,
                    strength=params.baseline_gap_strength,
                    observed=observed,
                    origin="profile.models",
                    signal="below_trivial_baseline",
                    detail=f"{report.name}: {weak} at or below a trivial model's score",
                )
            )
            skills = [s for s in skills if s != "model_evaluation"]
        if verdict.quality_percentile is not None:
            strength = params.model_strength_floor + params.model_strength_span * (
                verdict.quality_percentile / 100
            )
            items += [
                Evidence(
                    skill=skill,
                    source=SourceKind.MODEL_METRICS,
                    strength=round(strength, 4),
                    observed=observed,
                    origin="profile.models",
                    signal="model_quality",
                    detail=(
                        f"{report.name}: quality at percentile {rank(verdict.quality_percentile)} of "
                        f"{verdict.compared_with}"
                    ),
                )
                for skill in skills
            ]
        latency = next(
            (m for m in verdict.metrics if m.metric == LATENCY and m.percentile is not None), None
        )
        if latency is not None and latency.percentile is not None and "model_serving" in named:
            items.append(
                Evidence(
                    skill="model_serving",
                    source=SourceKind.MODEL_METRICS,
                    strength=round(
                        params.model_strength_floor
                        + params.model_strength_span * latency.percentile / 100,
                        4,
                    ),
                    observed=observed,
                    origin="profile.models",
                    signal="latency",
                    detail=f"{report.name}: latency at percentile {latency.percentile:.0f}",
                )
            )
    return items
