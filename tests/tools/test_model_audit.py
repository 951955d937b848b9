"""Model audit: percentiles against the benchmark tables and the imbalanced-accuracy pitfall."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from knowledge.base import KnowledgeBase
from knowledge.schema import MetricPercentiles
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.errors import ProfileError
from tools.model_audit import audit_model, percentile_of
from tools.params import DEFAULT_PARAMS, SourceKind
from tools.profile import Profile
from tools.results import ModelVerdict

TABLE = MetricPercentiles(metric="roc_auc", points={10: 0.6, 25: 0.7, 50: 0.8, 75: 0.9, 90: 0.95})
LATENCY = MetricPercentiles(
    metric="latency_ms", higher_is_better=False, points={10: 500, 25: 200, 50: 50, 75: 20, 90: 5}
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.8, (50.0, None)), (0.85, (62.5, None)), (0.5, (10.0, "below")), (0.99, (90.0, "above"))],
)
def test_percentile_interpolates_and_clamps(
    value: float, expected: tuple[float, str | None]
) -> None:
    percentile, beyond = percentile_of(value, TABLE)
    assert percentile == pytest.approx(expected[0]) and beyond == expected[1]


def test_lower_is_better_metrics_are_turned_around() -> None:
    assert percentile_of(35, LATENCY)[0] == pytest.approx(62.5)
    assert percentile_of(1000, LATENCY) == (10.0, "below")


def test_accuracy_on_imbalanced_data_is_warned(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    profile = make_profile(
        models=[
            {
                "name": "fraud",
                "task": "fraud detection",
                "metrics": {"accuracy": 0.97},
                "positive_rate": 0.03,
            }
        ]
    )
    verdict = audit_model(profile.models[0], kb, DEFAULT_PARAMS)
    codes = {f.code for f in verdict.findings}
    assert {"accuracy_on_imbalanced", "pr_auc_missing"} <= codes
    message = next(f.message for f in verdict.findings if f.code == "accuracy_on_imbalanced")
    assert "3%" in message and "PR-AUC" in message


def test_balanced_data_raises_no_imbalance_warning(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    profile = make_profile(
        models=[
            {
                "name": "m",
                "task": "tabular_binary",
                "metrics": {"accuracy": 0.9, "pr_auc": 0.9},
                "positive_rate": 0.4,
            }
        ]
    )
    codes = {f.code for f in audit_model(profile.models[0], kb, DEFAULT_PARAMS).findings}
    assert not codes & {"accuracy_on_imbalanced", "pr_auc_missing", "balance_unknown"}


def test_below_p75_is_flagged_and_feeds_skills(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    table = next(m for m in kb.tasks["tabular_binary"].metrics if m.metric == "roc_auc")
    weak, strong = table.points[25], table.points[90]
    # Since methodology 2.0.0 model metrics support only skills the person named.
    result_weak = run_audit(
        make_profile(
            self_ratings={"classical_ml": 3},
            models=[{"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": weak}}],
        ),
        kb,
        AS_OF,
    )
    result_strong = run_audit(
        make_profile(
            self_ratings={"classical_ml": 3},
            models=[{"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": strong}}],
        ),
        kb,
        AS_OF,
    )
    assert (
        result_weak.model_audit[0].flagged
        and result_weak.model_audit[0].metrics[0].percentile == 25.0
    )
    assert not result_strong.model_audit[0].flagged
    assert any(f.kind == "model_below_p75" for f in result_weak.review)
    # Metrics are named as people write them in everything shown, never by their ids.
    shown = [f.message for f in result_weak.model_audit[0].findings]
    assert any("ROC-AUC below the 75th percentile" in m for m in shown), shown
    assert not any("roc_auc" in m for m in shown)

    def classical(result: object) -> float:
        skill = next(s for s in result.skills if s.id == "classical_ml")  # type: ignore[attr-defined]
        assert any(e.source == SourceKind.MODEL_METRICS for e in skill.evidence)
        return float(skill.proficiency)

    assert classical(result_strong) > classical(result_weak)


def _audit(
    make_profile: Callable[..., Profile], kb: KnowledgeBase, **model: object
) -> ModelVerdict:
    profile = make_profile(models=[{"name": "m", "task": "tabular_binary", **model}])
    return audit_model(profile.models[0], kb, DEFAULT_PARAMS)


@pytest.mark.parametrize(
    ("metric", "value", "positive_rate", "baseline"),
    [
        ("accuracy", 0.97, 0.02, 0.98),  # always predicting "not fraud"
        ("accuracy", 0.94, 0.06, 0.94),  # exactly the majority rate is no better
        ("roc_auc", 0.5, 0.3, 0.5),  # a random ranking
        ("pr_auc", 0.04, 0.05, 0.05),  # below the positive rate
        ("f1", 0.3, 0.25, 0.4),  # always predicting positive: 2p / (1 + p)
    ],
)
def test_metric_at_or_below_its_trivial_baseline_is_a_gap_not_quality(
    make_profile: Callable[..., Profile],
    kb: KnowledgeBase,
    metric: str,
    value: float,
    positive_rate: float,
    baseline: float,
) -> None:
    verdict = _audit(make_profile, kb, metrics={metric: value}, positive_rate=positive_rate)
    row = verdict.metrics[0]
    assert row.baseline == pytest.approx(baseline, abs=1e-3)
    assert row.beats_baseline is False and not row.counts and row.percentile is None
    assert verdict.below_baseline and verdict.quality_percentile is None
    assert "at_or_below_baseline" in {f.code for f in verdict.findings}


def test_threshold_metrics_do_not_count_under_fifteen_percent_minority(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    rare = _audit(make_profile, kb, metrics={"f1": 0.6, "roc_auc": 0.85}, positive_rate=0.12)
    assert [m.metric for m in rare.metrics if m.counts] == ["roc_auc"]
    balanced = _audit(make_profile, kb, metrics={"f1": 0.6, "roc_auc": 0.85}, positive_rate=0.3)
    assert [m.metric for m in balanced.metrics if m.counts] == ["f1", "roc_auc"]
    unknown = _audit(make_profile, kb, metrics={"accuracy": 0.9})
    assert unknown.quality_percentile is None
    assert {"balance_unknown", "no_quality_evidence"} <= {f.code for f in unknown.findings}


def test_imbalanced_accuracy_lifts_nothing_and_creates_nothing(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    base = {"self_ratings": {"model_evaluation": 2, "python": 5}}
    fraud = {"name": "fraud", "task": "fraud detection", "metrics": {"accuracy": 0.97}}
    without = run_audit(make_profile(**base), kb, AS_OF)
    with_model = run_audit(
        make_profile(**base, models=[{**fraud, "positive_rate": 0.02}]), kb, AS_OF
    )

    def skill(result: object, sid: str) -> object:
        return next(s for s in result.skills if s.id == sid)  # type: ignore[attr-defined]

    before = skill(without, "model_evaluation").proficiency  # type: ignore[attr-defined]
    after = skill(with_model, "model_evaluation").proficiency  # type: ignore[attr-defined]
    assert after < before
    for sid in ("feature_engineering", "gradient_boosting", "classical_ml"):
        assert skill(with_model, sid).status == "unknown"  # type: ignore[attr-defined]


def test_a_named_public_dataset_ranks_its_winner_at_the_top(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    generic = _audit(make_profile, kb, metrics={"roc_auc": 0.6485}, positive_rate=0.036)
    porto = _audit(make_profile, kb, metrics={"roc_auc": 0.6485}, dataset="Porto Seguro")
    assert generic.quality_percentile is not None and generic.quality_percentile < 25
    assert porto.quality_percentile is not None and porto.quality_percentile >= 95
    assert porto.dataset == "porto_seguro" and "Porto Seguro" in porto.compared_with
    with pytest.raises(ProfileError, match="unknown dataset"):
        make_profile(
            models=[{"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": 0.7},
                     "dataset": "titanic 2"}]
        )  # fmt: skip


def test_a_medal_ranks_a_model_at_least_where_the_medal_rules_put_it(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    """A silver medal in Home Credit (7,176 teams) is the top 5% of its private leaderboard:
    the editorial shape between the table's points does not rank it lower."""
    plain = _audit(make_profile, kb, metrics={"roc_auc": 0.795}, dataset="home credit")
    silver = _audit(make_profile, kb, metrics={"roc_auc": 0.795, "latency_ms": 900},
                    dataset="home credit", medal="silver")  # fmt: skip
    assert plain.quality_percentile is not None and plain.quality_percentile < 95
    assert silver.quality_percentile == 95
    auc = next(v for v in silver.metrics if v.metric == "roc_auc")
    assert "a silver medal ranks in the top 5%" in auc.note and not auc.below_flag
    latency = next(v for v in silver.metrics if v.metric == "latency_ms")
    assert latency.percentile == plain_latency(make_profile, kb)  # speed is no rank
    # Above the floor already: unchanged. Without a known leaderboard a medal ranks nothing.
    gold_high = _audit(make_profile, kb, metrics={"roc_auc": 0.8057}, dataset="home credit", medal="bronze")  # fmt: skip
    assert gold_high.quality_percentile is not None and gold_high.quality_percentile > 95
    no_dataset = _audit(make_profile, kb, metrics={"roc_auc": 0.795}, positive_rate=0.08, medal="gold")  # fmt: skip
    assert (
        no_dataset.quality_percentile
        == _audit(
            make_profile, kb, metrics={"roc_auc": 0.795}, positive_rate=0.08
        ).quality_percentile
    )
    # Accuracy that is no evidence of quality stays unranked, medal or not.
    accuracy = _audit(make_profile, kb, metrics={"accuracy": 0.92}, dataset="home credit", medal="gold")  # fmt: skip
    assert accuracy.metrics[0].percentile is None


def plain_latency(make_profile: Callable[..., Profile], kb: KnowledgeBase) -> float | None:
    verdict = _audit(make_profile, kb, metrics={"roc_auc": 0.795, "latency_ms": 900}, dataset="home credit")  # fmt: skip
    return next(v.percentile for v in verdict.metrics if v.metric == "latency_ms")


def test_a_classifier_of_many_balanced_classes_is_not_judged_as_binary(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    """A 10-class CIFAR-style model at 91% accuracy, 10% in each class: no "10% minority"
    (that reading set accuracy against a 0.9 majority baseline and did not count it)."""
    ten = _audit(make_profile, kb, task="image_classification", metrics={"accuracy": 0.91},
                 positive_rate=0.1, classes=10)  # fmt: skip
    accuracy = ten.metrics[0]
    assert accuracy.counts and accuracy.baseline == 0.1
    assert accuracy.baseline_label == "always predicting one of 10 balanced classes"
    assert not {"accuracy_on_imbalanced", "pr_auc_missing"} & {f.code for f in ten.findings}
    # Worse than guessing among 10 balanced classes is a Model Evaluation gap.
    guess = _audit(make_profile, kb, task="image_classification", metrics={"accuracy": 0.08},
                   positive_rate=0.1, classes=10)  # fmt: skip
    assert guess.below_baseline and guess.quality_percentile is None
    # A multiclass task is never binary, whatever share is given; two classes said are.
    multi = _audit(make_profile, kb, task="multiclass", metrics={"accuracy": 0.91}, positive_rate=0.1)  # fmt: skip
    assert multi.metrics[0].counts and multi.metrics[0].baseline is None
    binary = _audit(make_profile, kb, task="image_classification", metrics={"accuracy": 0.91},
                    positive_rate=0.1, classes=2)  # fmt: skip
    assert not binary.metrics[0].counts and binary.metrics[0].baseline == 0.9


def test_model_quality_is_weaker_evidence_than_the_percentile_suggests(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    top = kb.tasks["tabular_binary"].metrics[0].points[95]
    result = run_audit(
        make_profile(
            self_ratings={"classical_ml": 1},
            models=[{"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": top}}],
        ),
        kb,
        AS_OF,
    )
    skill = next(s for s in result.skills if s.id == "classical_ml")
    metric_evidence = next(e for e in skill.evidence if e.source == SourceKind.MODEL_METRICS)
    # A 95th-percentile model shows the skill at about 4/5, not 95/100, and weighs less
    # than a certificate or code.
    assert 0.7 < metric_evidence.strength < 0.85
    assert (
        DEFAULT_PARAMS.reliability[SourceKind.MODEL_METRICS]
        < DEFAULT_PARAMS.reliability[SourceKind.CERTIFICATE]
    )


@pytest.mark.parametrize(
    ("metrics", "positive_rate", "said"),
    [
        ({"accuracy": 0.91}, 0.2, "against 0.8 for always predicting the majority class (20% in"),
        (
            {"accuracy": 0.9},
            0.75,
            "(25% in the minority class): it avoids 60%",
        ),  # positives are most
        ({"accuracy": 0.91, "latency_ms": 20}, 0.3, "avoids 70%"),
        ({"accuracy": 0.91, "f1": 0.7}, 0.2, None),  # the minority class is measured
        ({"accuracy": 0.91, "roc_auc": 0.9}, 0.2, None),
        ({"accuracy": 0.91}, 0.4, None),  # near balance: accuracy says enough
        ({"accuracy": 0.78}, 0.2, None),  # below the baseline: that finding instead
    ],
)
def test_accuracy_alone_is_set_against_the_majority_class(
    make_profile: Callable[..., Profile],
    kb: KnowledgeBase,
    metrics: dict[str, float],
    positive_rate: float,
    said: str | None,
) -> None:
    """Accuracy as a binary model's only classification metric, at a class balance where it
    still counts: the audit says what it is worth against the trivial model and asks about
    the minority class, since a table of accuracies ignores class balance."""
    verdict = _audit(make_profile, kb, metrics=metrics, positive_rate=positive_rate)
    found = [f.message for f in verdict.findings if f.code == "accuracy_on_imbalanced"]
    if said is None:
        assert found == []
    else:
        assert len(found) == 1 and said in found[0] and "precision and recall" in found[0]
