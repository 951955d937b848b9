"""`skillaudit audit` and `skillaudit schema` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "freelancer.yaml"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_audit_json_has_the_documented_keys() -> None:
    code, out, _ = invoke(
        "audit", "--profile", str(EXAMPLE), "--json", "--as-of", "2026-11-28", "--dry-run"
    )
    assert code == 0
    data = json.loads(out)
    for key in (
        "overall",
        "pillars",
        "skills",
        "top_gaps",
        "career_pulse",
        "model_audit",
        "power_skills",
        "schedule",
        "review",
        "methodology_version",
    ):
        assert key in data, key
    assert set(data["pillars"]) == {"technical", "lifecycle", "ethics", "career"}
    assert {p["weight"] for p in data["pillars"].values()} == {0.4, 0.3, 0.2, 0.1}
    skill = data["skills"][0]
    assert {"id", "pillar", "proficiency", "demand", "gap", "confidence", "sources"} <= set(skill)
    assert data["schedule"]["next_audit"] == "2027-02-27"
    assert data["state"] == "draft"
    kinds = {p["kind"] for p in data["review"]}
    assert "model_accuracy_on_imbalanced" in kinds
    assert all(
        p["question"] and p["options"] == ["confirm", "adjust", "why"] for p in data["review"]
    )


def test_same_input_and_date_give_identical_bytes() -> None:
    args = ("audit", "--profile", str(EXAMPLE), "--json", "--as-of", "2026-11-28", "--dry-run")
    assert invoke(*args)[1] == invoke(*args)[1]


def test_readable_summary_without_json() -> None:
    code, out, _ = invoke("audit", "--profile", str(EXAMPLE), "--as-of", "2026-11-28", "--dry-run")
    assert code == 0 and "Stored as" not in out
    assert "Overall score" in out and "Top gaps" in out and "Review before this is final" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("user: a\ntarget_role: ml engineer\nsalary: 3\n", "salary: unknown key"),
        ("user: a\ntarget_role: ml engineer\nself_ratings: {pytorh: 3}\n", "did you mean pytorch"),
        ("user: a\ntarget_role: ml engineer\nself_ratings: {python: 9}\n", "self_ratings.python"),
        ("user: a\ntarget_role: chef\n", "unknown role 'chef'"),
        ("user: a\ntarget_role: ml engineer\nlast_full_audit: 2026-11-20\n", "--force"),
    ],
)
def test_bad_profiles_exit_2_with_one_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(content)
    code, out, err = invoke("audit", "--dry-run", "--profile", str(path), "--as-of", "2026-11-28")
    assert code == 2 and out == ""
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_as_of_and_missing_file(tmp_path: Path) -> None:
    code, _, err = invoke("audit", "--profile", str(EXAMPLE), "--as-of", "28.11.2026")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = invoke("audit", "--profile", str(tmp_path / "missing.yaml"))
    assert code == 2 and "file not found" in err


def test_schema_profile_is_a_json_schema() -> None:
    code, out, _ = invoke("schema", "profile")
    schema = json.loads(out)
    assert code == 0 and schema["type"] == "object"
    assert {"user", "target_role", "self_ratings", "models", "income"} <= set(schema["properties"])
    assert "target_role" in schema["required"]


def test_schema_lists_skills_with_aliases() -> None:
    code, out, _ = invoke("schema", "skills")
    assert code == 0 and "kubernetes" in out and "k8s" in out


def test_console_script_help_loads_no_heavy_module() -> None:
    probe = (
        "import sys, bots.cli; heavy = {'pydantic', 'yaml', 'jinja2', 'chromadb', 'langchain', 'matplotlib', "
        "'mlflow', 'telegram'} & {m.split('.')[0] for m in sys.modules}; print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    help_run = subprocess.run(
        [sys.executable, "-m", "bots.cli", "--help"], capture_output=True, text=True
    )
    assert help_run.returncode == 0 and "audit" in help_run.stdout


def test_next_loads_no_part_of_the_conversation(index_home: Path, retriever: object) -> None:
    """A subcommand runs use cases on a Workbench: the engine, flows, interviewer and
    language model are not imported (their import time was most of `next --json`); nor are
    PyYAML (the review texts are stored parsed) and rich (nothing slow to show)."""
    probe = (
        "import sys\n"
        "from bots.cli import main\n"
        "sys.argv = ['skillaudit', 'next', 'deploy models with Docker', '--user', 'lean', '--json']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "conversation = {'agent.engine', 'agent.interview', 'agent.answers', 'agent.next_flow',"
        " 'agent.llm', 'langchain_core', 'chromadb', 'matplotlib', 'yaml', 'rich'}\n"
        "print('LOADED', sorted(conversation & set(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "SKILLAUDIT_HOME": str(index_home)},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["recommendations"]
    assert "LOADED []" in done.stderr, done.stderr


def test_audit_with_connectors(tmp_path: Path) -> None:
    files = Path(__file__).resolve().parents[1] / "fakes" / "files"
    args = ["audit", "--profile", str(EXAMPLE), "--json", "--as-of", "2026-11-28", "--dry-run"]
    code, out, err = invoke(
        *args,
        "--connect",
        f"cv {files / 'cv_jane_doe.md'}",
        "--connect",
        f"job_postings {files / 'postings'}",
    )
    assert code == 0, err
    data = json.loads(out)
    origins = {e["origin"] for s in data["skills"] for e in s["evidence"]}
    assert "cv" in origins and "+postings-" in data["knowledge_version"]
    # An unreadable source is one warning and the audit goes on; a mistyped source is an error.
    code, out, err = invoke(*args, "--connect", "cv /no/such/file.md")
    assert code == 0 and json.loads(out)["overall"]
    assert "file not found" in err and "goes on without it" in err and "Traceback" not in err
    code, _, err = invoke(*args, "--connect", "cvv /no/such/file.md")
    assert code == 2 and "unknown source 'cvv'" in err and err.count("\n") == 1
    code, _, err = invoke("audit", "--profile", str(EXAMPLE), "--as-of", "9999-12-31", "--dry-run")
    assert code == 2 and "outside 2000-2100" in err and "Traceback" not in err


def test_an_audit_from_a_file_is_the_persons_draft(
    index_home: Path, retriever: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`audit --profile` stores a draft; report, history, next and /review then work on it."""
    from agent.engine import Engine
    from agent.store import Store
    from agent.wiring import load_settings

    monkeypatch.setenv("SKILLAUDIT_HOME", str(index_home))  # the index the session built
    args = ["audit", "--profile", str(EXAMPLE), "--as-of", "2026-11-28", "--user", "fern"]
    code, out, err = invoke(*args, "--json")
    assert code == 0, err
    assert json.loads(out)["state"] == "draft"  # stdout is the JSON object alone
    assert "Stored as the draft audit of cli:fern" in err
    code, out, err = invoke(*args)
    assert code == 2 and "--force" in err and err.count("\n") == 1  # the fatigue guard holds
    code, out, err = invoke(*args, "--dry-run")
    assert code == 0 and "Stored as" not in out
    code, out, _ = invoke("history", "--user", "fern")
    assert code == 0 and "2026-11-28: overall" in out and out.count("overall") == 1
    code, out, err = invoke("report", "--user", "fern", "--format", "json")
    assert code == 0, err
    report = json.loads(Path(out.splitlines()[0]).read_text())
    assert report["state"] == "draft" and report["result"]["user"] == "ana"
    code, out, err = invoke("next", "--user", "fern", "--json")
    assert code == 0, err
    assert json.loads(out)["recommendations"]
    settings = load_settings()
    store = Store(settings.resolved_database_url())
    try:
        reply = Engine(store, settings).handle_sync("cli:fern", "/review")
    finally:
        store.dispose()
    assert reply.text.startswith("Review 1/") and reply.choices


def test_read_only_commands_store_nothing_for_someone_unknown() -> None:
    from sqlalchemy import text

    from agent.store import Store
    from agent.wiring import load_settings

    for command in ("history", "report", "export", "next"):
        code, _, _ = invoke(command, "--user", "nobody-here")
        assert code in (0, 2), command
    code, out, _ = invoke("forget", "--user", "nobody-here", "--yes")
    assert code == 0 and "Nothing is stored" in out
    store = Store(load_settings().resolved_database_url())
    try:
        with store.engine.connect() as conn:
            found = conn.execute(
                text("select count(*) from users where external_id = 'cli:nobody-here'")
            ).scalar()
    finally:
        store.dispose()
    assert found == 0


def test_a_blank_user_is_refused() -> None:
    for command in ("history", "forget", "report", "export"):
        code, _, err = invoke(command, "--user", " ", *(["--yes"] if command == "forget" else []))
        assert code == 2 and "--user must not be empty" in err, command


def test_a_connected_income_export_is_the_audits_income(tmp_path: Path) -> None:
    files = Path(__file__).resolve().parents[1] / "fakes" / "files"
    profile = tmp_path / "p.yaml"
    profile.write_text("user: zoe\ntarget_role: freelance ml consultant\n", encoding="utf-8")
    code, out, err = invoke(
        "audit", "--dry-run", "--json", "--profile", str(profile), "--as-of", "2026-11-28",
        "--connect", f"income_csv {files / 'payments.csv'}",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["income"] is not None and data["income"]["top_client_share"] > 0.5
    assert "client_concentration" in {p["kind"] for p in data["review"]}
