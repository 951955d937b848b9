"""`skillaudit chat` as a person or a script drives it: piped answers, Ctrl-D, a killed process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.cli_process import run_cli

SCRIPT = [sys.executable, "-m", "bots.cli", "chat"]
ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 600  # only a command that never ends fails on this, however loaded the machine


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SKILLAUDIT_HOME=str(home), COLUMNS="200", PYTHONPATH=str(ROOT))
    return env


def chat(home: Path, lines: list[str], user: str = "ana") -> subprocess.CompletedProcess[str]:
    return run_cli(
        ["chat", "--user", user], env_for(home), home, "\n".join(lines) + "\n", HANG_GUARD_S
    )


def test_piped_answers_and_end_of_input(tmp_path: Path) -> None:
    done = chat(tmp_path, ["ml engineer", "2", "3 years"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "automated assistant" in out and "1. Machine Learning Engineer" in out
    assert (
        "Noted: Machine Learning Engineer" in out
        and "Noted: Junior" in out
        and "Noted: 3 years" in out
    )
    assert "Resume any time with: skillaudit chat --user ana" in out
    assert done.stderr == ""
    again = chat(tmp_path, ["/help"])
    assert (
        "Welcome back! Here is where we were:" in again.stdout
        and "Technical skills" in again.stdout
    )
    assert "automated assistant" not in again.stdout


def test_numbers_pick_choices_and_quit_word(tmp_path: Path) -> None:
    done = chat(tmp_path, ["3", "quit", "never read"], user="ben")
    assert "Noted: Data Scientist" in done.stdout and "never read" not in done.stdout


def test_killed_process_resumes_at_the_next_question(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*SCRIPT, "--user", "kim"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env_for(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    for answer in ("mlops engineer", "senior"):
        process.stdin.write(answer + "\n")
        process.stdin.flush()
    seen = ""
    for line in process.stdout:  # up to the question, or to the end if it never comes
        seen += line
        if "How many years" in line:
            break
    assert "Noted: Senior" in seen and "How many years" in seen
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = chat(tmp_path, ["4 years"], user="kim")
    assert "Here is where we were" in resumed.stdout and "How many years" in resumed.stdout
    assert "Noted: 4 years" in resumed.stdout and "Technical skills" in resumed.stdout


def cli(home: Path, *args: str, stdin: str = "") -> Result:
    """A subcommand run in this process (the same code as the console script, without a new
    interpreter's start-up); `chat` itself runs as a real process in the tests above."""
    from bots.cli import app

    env = {"SKILLAUDIT_HOME": str(home), "DATABASE_URL": None}
    return CliRunner().invoke(app, list(args), input=stdin, env=env)


def test_history_report_export_forget_commands(tmp_path: Path) -> None:
    empty = cli(tmp_path, "report", "--user", "zed")
    assert empty.exit_code == 2 and "no audit for cli:zed yet" in empty.stderr
    assert "No audits yet" in cli(tmp_path, "history", "--user", "zed").stdout
    nothing = cli(tmp_path, "export", "--user", "zed", "--output", str(tmp_path / "mine.json"))
    assert nothing.exit_code == 2 and "nothing is stored about cli:zed" in nothing.stderr
    assert "Nothing was erased" in cli(tmp_path, "forget", "--user", "zed", stdin="n\n").stdout
    assert (
        "Nothing is stored about cli:zed"
        in cli(tmp_path, "forget", "--user", "zed", "--yes").stdout
    )
    chat(tmp_path, ["ml engineer"], user="zed")  # now something is stored
    exported = cli(tmp_path, "export", "--user", "zed", "--output", str(tmp_path / "mine.json"))
    assert (
        exported.exit_code == 0
        and '"external_id": "cli:zed"' in (tmp_path / "mine.json").read_text()
    )
    assert "has been erased" in cli(tmp_path, "forget", "--user", "zed", "--yes").stdout


@pytest.mark.long(seconds=6)
def test_a_whole_audit_through_the_repl_then_report(tmp_path: Path) -> None:
    """A first audit on a new machine: the course index is prepared at the last answer (from
    the shipped vectors, nothing embedded), and the wait is announced, never silent."""
    import yaml

    script = yaml.safe_load(
        (ROOT / "tests" / "agent" / "transcripts" / "full_audit.yaml").read_text()
    )
    lines = [step["say"] for step in script["steps"][1:]]
    done = chat(tmp_path, lines, user="lee")
    assert done.returncode == 0, done.stderr
    assert "Your audit as Machine Learning Engineer" in done.stdout and "DRAFT" in done.stdout
    assert "I recommend:" in done.stdout and "Learning plan at" in done.stdout
    said = done.stdout.index("Opening the course index...")
    assert said < done.stdout.index("Adding the catalog to the search index...")
    assert said < done.stdout.index("Your audit as Machine Learning Engineer")
    command = ["report", "--user", "lee", "--format", "html"]
    report = run_cli(command, env_for(tmp_path), tmp_path, timeout=HANG_GUARD_S)
    assert report.returncode == 0, report.stderr
    html = Path(report.stdout.splitlines()[0]).read_text()
    assert (
        html.startswith("<!doctype html>")
        and "<h1>SkillAudit report: cli:lee" in html
        and "Draft" in html
    )


def test_consent_and_connect_commands(tmp_path: Path) -> None:
    payments = ROOT / "tests" / "fakes" / "files" / "payments.csv"

    def run(*args: str) -> Result:
        return cli(tmp_path, *args, "--user", "uma")

    refused = run("connect", "income_csv", str(payments))
    assert refused.exit_code == 2 and "consent" in refused.stderr
    assert "Consent for income_csv recorded" in run("consent", "grant", "income_csv").stdout
    found = run("connect", "income_csv", str(payments), "--json")
    assert found.exit_code == 0, found.stderr
    data = json.loads(found.stdout)
    assert data["source"] == "income" and data["evidence"]
    assert "1 stored result from it deleted" in run("consent", "withdraw", "income_csv").stdout
    assert run("consent", "grant", "myspace").exit_code == 2


def test_the_first_question_is_shown_before_the_heavy_libraries_load(tmp_path: Path) -> None:
    """On a new machine the first question needs neither the store's libraries nor a YAML
    parser (the question texts are stored parsed) nor the index or a language model."""
    probe = (
        "import sys\n"
        "import bots.chat\n"
        "heavy = {'sqlalchemy', 'yaml', 'chromadb', 'langchain_core', 'numpy', 'matplotlib'}\n"
        "shown = bots.chat.render\n"
        "def render(reply, console):\n"
        "    shown(reply, console)\n"
        "    print('LOADED', sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
        "    raise SystemExit(0)\n"
        "bots.chat.render = render\n"
        "sys.argv = ['skillaudit', 'chat']\n"
        "from bots.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "SKILLAUDIT_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "Which role are you aiming for" in done.stdout
    assert "LOADED []" in done.stdout, done.stdout
