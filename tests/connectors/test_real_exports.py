"""Connectors on files in the formats the services really export (tests/fakes/files/exports).

The expected evidence below was written by hand from what each file holds (see the README
there for the source of every header): every signal present is found, nothing is invented.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from tests.conftest import AS_OF
from tools.connectors.base import ConnectorResult
from tools.connectors.certificates import CertificatesParams
from tools.connectors.certificates import collect as certificates
from tools.connectors.income_csv import IncomeParams
from tools.connectors.income_csv import collect as income
from tools.connectors.kaggle import collect as kaggle
from tools.errors import ConnectorError

EXPORTS = Path(__file__).resolve().parents[1] / "fakes" / "files" / "exports"


def evidence(result: ConnectorResult) -> set[tuple[str, float, str]]:
    return {(e.skill, e.strength, e.observed.isoformat()) for e in result.evidence}


def read_certificates(name: str, kb: KnowledgeBase) -> ConnectorResult:
    return certificates(CertificatesParams(path=EXPORTS / name, as_of=AS_OF), kb)


def test_linkedin_learning_with_na_cells(kb: KnowledgeBase) -> None:
    result = read_certificates("linkedin_Learning.csv", kb)
    assert evidence(result) == {
        ("scikit_learn", 0.55, "2026-05-10"), ("classical_ml", 0.55, "2026-05-10"),
        ("docker", 0.55, "2026-02-01"), ("negotiation", 0.55, "2026-07-07"),
    }  # fmt: skip
    # N/A is an empty cell: the watched, unfinished course is in progress, the saved one nothing.
    assert result.data["in_progress_titles"] == ["Learning Kubernetes"]
    assert result.data["completed"] == 3 and result.data["videos_completed"] == 1
    assert result.problems == []
    assert "1 started but unfinished courses were not counted" in result.summary


def test_linkedin_certifications(kb: KnowledgeBase) -> None:
    result = read_certificates("linkedin_Certifications.csv", kb)
    assert evidence(result) == {
        ("classical_ml", 0.55, "2026-03-01"), ("cloud_platforms", 0.55, "2026-03-01"),
        ("kubernetes", 0.55, "2025-09-01"),
    }  # fmt: skip
    assert result.problems == []


def test_coursera_for_business_course_activity(kb: KnowledgeBase) -> None:
    result = read_certificates("coursera_business_course_activity.csv", kb)
    assert evidence(result) == {("classical_ml", 0.55, "2026-04-02"), ("git", 0.40, "2025-12-01")}
    assert result.data["format"] == "coursera"
    # 40 % done is in progress; enrolled with 0 % is neither done nor started.
    assert result.data["in_progress_titles"] == ["Structuring Machine Learning Projects"]
    links = {e.link for e in result.evidence}
    assert links == {
        "https://coursera.org/verify/AAAA0000BBBB",
        "https://coursera.org/verify/CCCC1111DDDD",
    }
    assert all(
        "DeepLearning.AI on Coursera" in e.detail
        for e in result.evidence
        if e.skill == "classical_ml"
    )


def test_coursera_for_business_older_layout(kb: KnowledgeBase) -> None:
    result = read_certificates("coursera_business_2024.csv", kb)
    assert evidence(result) == {("sql", 0.55, "2024-10-28")}
    assert result.data["unmapped_titles"] == ["Sequence Models"]  # no alias; nothing guessed


def test_coursera_list_kept_by_hand(kb: KnowledgeBase) -> None:
    result = read_certificates("coursera_list.csv", kb)
    assert evidence(result) == {
        ("classical_ml", 0.55, "2025-10-12"),
        ("deep_learning", 0.55, "2026-01-30"),
    }


def test_an_organisation_report_of_many_learners_is_refused(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    lines = (
        (EXPORTS / "coursera_business_course_activity.csv").read_text(encoding="utf-8").splitlines()
    )
    lines.append(lines[1].replace("jane.probe@example.com", "someone.else@example.com"))
    path = tmp_path / "org.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match="2 learners; keep only your own rows") as caught:
        certificates(CertificatesParams(path=path, as_of=AS_OF), kb)
    assert "example.com" not in str(caught.value)  # no cell is echoed


def test_unknown_certificate_format_names_the_expected_columns(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Student,Score\nJane,90\n", encoding="utf-8")
    with pytest.raises(ConnectorError) as caught:
        certificates(CertificatesParams(path=path, as_of=AS_OF), kb)
    message = str(caught.value)
    assert "Content Completed At (if completed)" in message and "Completion Time" in message
    assert "Jane" not in message


def test_upwork_transaction_history_newer_layout() -> None:
    result = income(IncomeParams(path=EXPORTS / "upwork_transactions_new.csv", as_of=AS_OF))
    m = result.data["metrics"]
    assert result.data["platform"] == "upwork"
    # By hand: last 12 months Acme 1200 + 300, Borealis 2500 - 500, Cobalt 1500 = 5000;
    # before: Acme 1000, Borealis 1700 = 2700. Fees, the withdrawal, Connects and WHT skipped.
    assert m["income_last_period"] == 5000.0 and m["income_previous_period"] == 2700.0
    assert (m["clients"], m["new_clients"], m["client_retention"]) == (3, 1, 1.0)
    assert m["top_client_share"] == 0.4
    assert {e.skill for e in result.evidence} == {
        "income_diversification", "client_acquisition", "client_management",
    }  # fmt: skip
    assert any("5 fee, withdrawal" in p for p in result.problems)


def test_upwork_earnings_report_counts_contracts_not_clients() -> None:
    result = income(IncomeParams(path=EXPORTS / "upwork_earnings_report.csv", as_of=AS_OF))
    m = result.data["metrics"]
    assert m["income_last_period"] == 2610.0 and m["income_previous_period"] == 800.0
    assert m["clients"] is None and m["new_clients"] is None and result.data["contracts"] == 3
    assert result.evidence == []  # one stream and no clients: no client or spread evidence
    assert any("names contracts, not clients" in p for p in result.problems)


def test_fiverr_earnings_page_layout(tmp_path: Path) -> None:
    path = tmp_path / "fiverr.csv"
    path.write_text(
        "Date,Activity,Description,Order,Amount\n"
        "2026-11-01,Earning,Order completed,FO111,$400.00\n"
        "2026-10-01,Withdrawal,Withdrawal to PayPal,,-$350.00\n"
        "2026-09-01,Earning,Order completed,FO222,$250.00\n",
        encoding="utf-8",
    )
    result = income(IncomeParams(path=path, as_of=AS_OF))
    assert result.data["platform"] == "fiverr"
    assert result.data["metrics"]["income_last_period"] == 650.0  # the withdrawal is not income
    assert result.data["metrics"]["clients"] is None and result.evidence == []


def test_unknown_income_format_names_the_expected_columns(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("Booking,Value\nx,1\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match="Upwork's earnings report \\(Date, Contract"):
        income(IncomeParams(path=path, as_of=AS_OF))


def test_kaggle_cli_competition_list(kb: KnowledgeBase) -> None:
    result = kaggle(kb, export=EXPORTS / "kaggle_competitions_list.csv", as_of=AS_OF)
    names = [c["name"] for c in result.data["competitions"]]
    assert names == ["titanic", "home-credit-default-risk"]  # M5 was not entered
    assert result.evidence == []  # a list of competitions holds no rank and no tags


def test_kaggle_results_titanic_is_a_learning_competition(kb: KnowledgeBase) -> None:
    result = kaggle(kb, export=EXPORTS / "kaggle_my_results.csv", as_of=AS_OF)
    by_competition = {(e.skill, e.detail.split(":")[0]): e.strength for e in result.evidence}
    assert by_competition == {
        ("classical_ml", "Titanic - Machine Learning from Disaster"): 0.55,
        ("gradient_boosting", "Titanic - Machine Learning from Disaster"): 0.55,
        ("feature_engineering", "Titanic - Machine Learning from Disaster"): 0.55,
        ("classical_ml", "Home Credit Default Risk"): 0.80,
        ("gradient_boosting", "Home Credit Default Risk"): 0.80,
        ("feature_engineering", "Home Credit Default Risk"): 0.80,
        ("nlp", "Jigsaw Unintended Bias in Toxicity Classification"): 0.80,
    }


def test_kaggle_submissions_file_and_unknown_format(kb: KnowledgeBase, tmp_path: Path) -> None:
    submissions = tmp_path / "subs.csv"
    submissions.write_text(
        "fileName,date,description,status,publicScore,privateScore\n"
        "sub.csv,2026-01-01 10:00:00,first,complete,0.77,0.76\n",
        encoding="utf-8",
    )
    with pytest.raises(ConnectorError, match="submissions list of one competition"):
        kaggle(kb, export=submissions, as_of=AS_OF)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match="kaggle competitions list --csv"):
        kaggle(kb, export=other, as_of=dt.date(2026, 11, 28))


# The same from the command line: `skillaudit audit --connect` --------------------------------


def cli_audit(tmp_path: Path, *connects: str, as_of: str = "2026-11-28") -> dict[str, object]:
    import json

    from typer.testing import CliRunner

    from bots.cli import app

    profile = tmp_path / "p.yaml"
    profile.write_text("user: p\ntarget_role: ml engineer\n", encoding="utf-8")
    args = ["audit", "--profile", str(profile), "--json", "--as-of", as_of, "--force", "--dry-run"]
    for spec in connects:
        args += ["--connect", spec]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def origins(audit: dict[str, object], skill: str) -> list[tuple[str, str]]:
    skills = {s["id"]: s for s in audit["skills"]}  # type: ignore[attr-defined,index]
    return [(e["origin"], e["observed"]) for e in skills[skill]["evidence"]]


def test_exports_count_in_a_file_audit(tmp_path: Path) -> None:
    audit = cli_audit(
        tmp_path,
        f"certificates {EXPORTS / 'linkedin_Learning.csv'}",
        f"income_csv {EXPORTS / 'upwork_transactions_new.csv'}",
    )
    assert ("certificates", "2026-02-01") in origins(audit, "docker")
    assert any(origin == "income" for origin, _ in origins(audit, "income_diversification"))


def test_a_back_dated_file_audit_of_a_real_repository(tmp_path: Path) -> None:
    import subprocess

    bundle = EXPORTS.parents[1] / "git" / "mlflow-example.bundle"
    clone = tmp_path / "mlflow-example"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True, capture_output=True)
    spec = f"local_git {clone} matei.zaharia@gmail.com mateiz@users.noreply.github.com"
    audit = cli_audit(tmp_path, spec, as_of="2018-06-03")
    assert ("local_git", "2018-06-02") in origins(audit, "experiment_tracking")


def test_mlflow_class_balance_reaches_the_model_audit_from_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="majority"):
        mlflow.log_metric("test_accuracy", 0.9647)
    spec = f"mlflow {uri} churn task=tabular_binary positive_rate=0.035"
    audit = cli_audit(tmp_path, spec, as_of=dt.date.today().isoformat())
    [model] = audit["model_audit"]  # type: ignore[misc]
    assert "accuracy_on_imbalanced" in {f["code"] for f in model["findings"]}
    # A back-dated audit does not see runs made after its date.
    before = cli_audit(tmp_path, spec, as_of="2020-01-01")
    assert before["model_audit"] == []
