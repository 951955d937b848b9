"""The fairness check, run from the command line on a credit model's decisions for real applicants.

The fixture (tests/fakes/files/fairness, see its README) holds 300 applicants of the Statlog
German Credit data with their true risk (good/bad) and a logistic regression's decision and
probability of good. Every expected number is computed here from the CSV with pandas and
numpy, independently of the connector: every rate the data supports is reported, and nothing
the data does not hold (a model nobody named, skills beyond bias testing) is invented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from bots.cli import app

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fakes"
    / "files"
    / "fairness"
    / "german_credit_predictions.csv"
)
COLUMNS = ["label=risk", "prediction=predicted_risk", "score=probability_good"]
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKILLAUDIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert runner.invoke(app, ["consent", "grant", "fairness", "--user", "g"]).exit_code == 0
    return tmp_path


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


def connect(*options: str) -> Result:
    return runner.invoke(app, ["connect", "fairness", str(FIXTURE), *options, "--user", "g"])


def connect_json(*options: str) -> dict[str, Any]:
    result = connect(*options, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def auc(truth: pd.Series, score: pd.Series) -> float:
    """ROC AUC by its definition: the share of (positive, negative) pairs ranked right."""
    positive = score[truth].to_numpy()[:, None]
    negative = score[~truth].to_numpy()[None, :]
    return float(((positive > negative) + 0.5 * (positive == negative)).mean())


def average_precision(truth: pd.Series, score: pd.Series) -> float:
    """Precision at each distinct score, weighted by the recall it adds (sklearn's AP)."""
    ranked = pd.DataFrame({"hit": truth.astype(int), "score": score}).sort_values(
        "score", ascending=False
    )
    at = ranked.groupby("score", sort=False)["hit"].agg(["sum", "size"]).cumsum()
    precision = at["sum"] / at["size"]
    recall = at["sum"] / truth.sum()
    return float((recall.diff().fillna(recall.iloc[0]) * precision).sum())


def hand(frame: pd.DataFrame, column: str, positive: str) -> dict[str, Any]:
    """Per-group rates and both differences, with the score pointing at `positive`."""
    truth = frame.risk == positive
    pred = frame.predicted_risk == positive
    score = frame.probability_good if positive == "good" else 1 - frame.probability_good
    groups = {}
    for group, members in frame.groupby(column).groups.items():
        t, p, s = truth[members], pred[members], score[members]
        groups[str(group)] = {
            "count": len(members),
            "selection_rate": p.mean(),
            "accuracy": (t == p).mean(),
            "tpr": p[t].mean(),
            "fpr": p[~t].mean(),
            "roc_auc": auc(t, s),
        }
    table = pd.DataFrame(groups).T
    return {
        "groups": groups,
        "dp": table.selection_rate.max() - table.selection_rate.min(),
        "eo": max(table.tpr.max() - table.tpr.min(), table.fpr.max() - table.fpr.min()),
    }


def assert_groups(reported: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(reported["groups"]) == set(expected["groups"])
    for group, rates in expected["groups"].items():
        row = reported["groups"][group]
        assert row["count"] == rates["count"], group
        for rate in ("selection_rate", "accuracy", "tpr", "fpr", "roc_auc"):
            assert row[rate] == pytest.approx(rates[rate], abs=1e-4), (group, rate)
    assert reported["demographic_parity_difference"] == pytest.approx(expected["dp"], abs=1e-4)
    assert reported["equalized_odds_difference"] == pytest.approx(expected["eo"], abs=1e-4)


def test_the_fixture_is_what_its_readme_says(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == [
        "applicant", "sex", "age", "age_group", "risk", "predicted_risk", "probability_good",
    ]  # fmt: skip
    assert len(frame) == 300 and frame.applicant.is_unique
    assert frame.applicant.between(1, 1000).all()
    assert set(frame.risk) == set(frame.predicted_risk) == {"good", "bad"}
    assert set(frame.sex) == {"female", "male"}
    bands = pd.cut(frame.age, [18, 25, 40, 120], labels=["19-25", "26-40", "41+"])
    assert (frame.age_group == bands.astype(str)).all()
    decided = np.where(frame.probability_good >= 0.5, "good", "bad")
    assert (frame.predicted_risk == decided).all()


def test_check_from_the_command_line_matches_a_hand_computation(
    home: Path, frame: pd.DataFrame
) -> None:
    result = connect_json(*COLUMNS, "positive_label=good")

    data = result["data"]
    assert (data["label"], data["prediction"], data["score"]) == (
        "risk", "predicted_risk", "probability_good",
    )  # fmt: skip
    assert data["rows"] == 300 and data["positive_label"] == "good"
    # Detected by name: sex and the age band. Raw age (49 values) is not a sensitive name.
    assert list(data["sensitive"]) == ["sex", "age_group"]
    by_sex, by_age = hand(frame, "sex", "good"), hand(frame, "age_group", "good")
    assert_groups(data["sensitive"]["sex"], by_sex)
    assert_groups(data["sensitive"]["age_group"], by_age)

    # What the data holds: the model treats women and men alike (both gaps under 0.1) but
    # approves the over-40s far more often than the under-26s (0.88 vs 0.66).
    assert by_sex["dp"] < 0.1 and by_sex["eo"] < 0.1
    assert by_age["dp"] > 0.2 and by_age["eo"] > 0.1
    assert data["sensitive"]["sex"]["finding"] is None
    finding = data["sensitive"]["age_group"]["finding"]
    assert finding == data["finding"]
    assert "'41+' 0.88 vs '19-25' 0.66" in finding and "equalized odds" in finding
    assert data["max_demographic_parity_difference"] == pytest.approx(by_age["dp"], abs=1e-4)
    assert data["max_equalized_odds_difference"] == pytest.approx(by_age["eo"], abs=1e-4)

    truth, pred = frame.risk == "good", frame.predicted_risk == "good"
    tp = int((truth & pred).sum())
    assert data["accuracy"] == pytest.approx((truth == pred).mean(), abs=1e-4)
    assert data["f1"] == pytest.approx(2 * tp / (truth.sum() + pred.sum()), abs=1e-4)
    assert data["positive_rate"] == pytest.approx(truth.mean(), abs=1e-4)
    assert data["roc_auc"] == pytest.approx(auc(truth, frame.probability_good), abs=1e-4)
    assert data["pr_auc"] == pytest.approx(
        average_precision(truth, frame.probability_good), abs=1e-4
    )

    # Nothing invented: one piece of practice evidence, no model, nothing to complain about.
    [evidence] = result["evidence"]
    assert (evidence["skill"], evidence["source"], evidence["strength"]) == (
        "bias_testing", "code", 0.6,
    )  # fmt: skip
    assert evidence["origin"] == "fairness"
    assert result["models"] == [] and result["problems"] == []

    text = connect(*COLUMNS, "positive_label=good", "--refresh")
    assert text.exit_code == 0
    assert text.stdout.startswith(
        "fairness: Checked 300 predictions of the model across sex, age_group; the largest "
        "demographic parity difference is 0.23 (age_group); 1 difference exceeds 0.1.\n"
    )


def test_text_labels_and_unnamed_columns_are_one_clear_line(home: Path) -> None:
    unnamed = connect()
    assert unnamed.exit_code == 2 and unnamed.stdout == ""
    assert unnamed.stderr == (
        "error: name the label column (label=COLUMN); columns: applicant, sex, age, age_group, risk, "
        "predicted_risk, probability_good\n"
    )
    asked = connect(*COLUMNS)
    assert asked.exit_code == 2
    assert (
        asked.stderr == "error: which class is positive among bad, good? pass the positive label\n"
    )


def test_bad_as_the_positive_class_reverses_the_probability_of_good(
    home: Path, frame: pd.DataFrame
) -> None:
    """A lender checking defaults names 'bad' positive; the score is still P(good).

    Read as it is, the score ranks the model worse than chance (ROC AUC 0.22); it is the other
    class's score, and reversed it ranks 'bad' as well as it ranks 'good' (0.78).
    """
    result = connect_json(*COLUMNS, "positive_label=bad")

    data = result["data"]
    assert data["positive_label"] == "bad"
    by_age = hand(frame, "age_group", "bad")
    assert_groups(data["sensitive"]["age_group"], by_age)
    assert_groups(data["sensitive"]["sex"], hand(frame, "sex", "bad"))
    assert "'19-25' 0.34 vs '41+' 0.12" in data["finding"]  # now the share refused

    bad = frame.risk == "bad"
    assert data["positive_rate"] == pytest.approx(bad.mean(), abs=1e-4)
    reversed_score = 1 - frame.probability_good
    assert data["roc_auc"] == pytest.approx(auc(bad, reversed_score), abs=1e-4)
    assert data["roc_auc"] == pytest.approx(
        auc(frame.risk == "good", frame.probability_good), abs=1e-4
    )
    assert data["pr_auc"] == pytest.approx(average_precision(bad, reversed_score), abs=1e-4)
    assert data["roc_auc"] > 0.7
    assert result["problems"] == [
        "the score column 'probability_good' is lower where 'bad' is predicted: it is read as "
        "the other class's score, reversed for ROC AUC and PR AUC"
    ]


def test_raw_age_is_refused_and_the_other_column_checked(home: Path, frame: pd.DataFrame) -> None:
    result = connect_json(*COLUMNS, "positive_label=good", "sensitive=age,sex")

    ages = frame.age.nunique()
    assert ages == 49
    assert result["problems"] == [
        f"sensitive column 'age': {ages} groups (over 20); bin it into bands first"
    ]
    assert list(result["data"]["sensitive"]) == ["sex"]
    assert_groups(result["data"]["sensitive"]["sex"], hand(frame, "sex", "good"))
    assert result["data"]["finding"] is None  # the age-band gap is not in a check without it
    assert [e["skill"] for e in result["evidence"]] == ["bias_testing"]


def audit(home: Path, connect: str) -> tuple[dict[str, Any], str]:
    profile = home / "p.yaml"
    profile.write_text("user: g\ntarget_role: ml engineer\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["audit", "--dry-run", "--json", "--profile", str(profile), "--as-of", "2026-11-28",
         "--connect", connect],
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    return data, result.stderr


def from_fairness(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        skill["id"]: [(e["source"], e["observed"]) for e in skill["evidence"]]
        for skill in report["skills"]
        if any(e["origin"] == "fairness" for e in skill["evidence"])
    }


@pytest.mark.parametrize("positive", ["good", "bad"])
def test_audit_gets_the_model_only_when_it_is_named(
    home: Path, frame: pd.DataFrame, positive: str
) -> None:
    source = " ".join(["fairness", str(FIXTURE), *COLUMNS, f"positive_label={positive}"])

    unnamed, warned = audit(home, source)
    if positive == "good":
        assert warned == ""
    else:  # the one problem of the check, said once; the audit goes on
        assert warned == (
            "warning: fairness: the score column 'probability_good' is lower where 'bad' is "
            "predicted: it is read as the other class's score, reversed for ROC AUC and PR AUC\n"
        )
    assert unnamed["model_audit"] == []
    assert from_fairness(unnamed) == {"bias_testing": [("code", "2026-11-28")]}

    named, _ = audit(home, source + " model=german-credit-lr")
    [model] = named["model_audit"]
    assert (model["name"], model["task"]) == ("german-credit-lr", "tabular_binary")
    truth = frame.risk == positive
    score = frame.probability_good if positive == "good" else 1 - frame.probability_good
    pred = frame.predicted_risk == positive
    tp = int((truth & pred).sum())
    expected = {
        "accuracy": (truth == pred).mean(),
        "f1": 2 * tp / (truth.sum() + pred.sum()),
        "roc_auc": auc(truth, score),
        "pr_auc": average_precision(truth, score),
    }
    metrics = {m["metric"]: m for m in model["metrics"]}
    assert set(metrics) == set(expected)  # only what the predictions measure
    for name, value in expected.items():
        assert metrics[name]["value"] == pytest.approx(value, abs=1e-4), name
        assert metrics[name]["beats_baseline"], name  # a real, better-than-chance model
    codes = {f["code"] for f in model["findings"]}
    assert "fairness_gap" in codes and "at_or_below_baseline" not in codes
    assert "model_fairness_gap" in {p["kind"] for p in named["review"]}
    assert from_fairness(named)["bias_testing"] == [("code", "2026-11-28")]
