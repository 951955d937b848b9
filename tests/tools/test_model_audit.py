"""Model audit: percentiles against the benchmark tables and the imbalanced-accuracy pitfall."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from knowledge.base import KnowledgeBase
from knowledge.schema import MetricPercentiles
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.model_audit import audit_model, percentile_of
from tools.params import DEFAULT_PARAMS, SourceKind
from tools.profile import Profile

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
    assert "3.0%" in message and "PR-AUC" in message


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
    result_weak = run_audit(
        make_profile(
            models=[{"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": weak}}]
        ),
        kb,
        AS_OF,
    )
    result_strong = run_audit(
        make_profile(
            models=[{"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": strong}}]
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

    def classical(result: object) -> float:
        skill = next(s for s in result.skills if s.id == "classical_ml")  # type: ignore[attr-defined]
        assert any(e.source == SourceKind.MODEL_METRICS for e in skill.evidence)
        return float(skill.proficiency)

    assert classical(result_strong) > classical(result_weak)
