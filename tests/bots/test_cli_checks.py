"""`skillaudit check` and `skillaudit endorse` as people run them in a terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "freelancer.yaml"
runner = CliRunner()


def invoke(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKILLAUDIT_HOME", str(tmp_path))
    return tmp_path


def test_a_check_in_the_terminal_rescores_the_stored_audit(home: Path) -> None:
    code, _, err = invoke("audit", "--profile", str(EXAMPLE), "--user", "zoe")
    assert code == 0, err
    code, out, err = invoke("check", "docker", "--user", "zoe", stdin="Z\nA\nA\nA\nA\nA\nA\n")
    assert code == 0, err
    assert (
        "Skill check: Docker" in out and "Docker, question 1 (of at most 6, intermediate):" in out
    )
    assert "Please answer A, B, C or D" in out
    assert "Docker check finished:" in out and "is re-scored with it:\n- Docker:" in out
    assert "Stopped" not in out
    # Stopping midway: nothing counts, and it says so.
    code, out, _ = invoke("check", "docker", "--user", "zoe", stdin="A\nstop\n")
    assert code == 0 and "Stopped: this check counts for nothing" in out
    code, out, _ = invoke("check", "git", "--user", "zoe", stdin="")  # end of input
    assert code == 0 and "Stopped: this check counts for nothing" in out
    code, out, err = invoke("export", "--user", "zoe")
    assert code == 0, err
    exported = Path(out.strip().splitlines()[-1].split()[-1]).read_text()
    assert (
        exported.count('"status": "finished"') == 1 and exported.count('"status": "abandoned"') == 2
    )


def test_bad_checks_exit_2_with_one_line(home: Path) -> None:
    for skill, message in (
        ("kubernetes", "no check for Kubernetes yet"),
        ("frobnicate", "not a skill I know"),
    ):
        code, _, err = invoke("check", skill, "--user", "zoe")
        assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_endorse_create_give_list_withdraw(home: Path) -> None:
    code, _, err = invoke("endorse", "create", "--name", "Zoe", "--user", "zoe")
    assert code == 2 and "no audit yet to suggest skills from" in err
    code, out, err = invoke(
        "endorse", "create", "--name", "Zoe", "--skills", "docker, python", "--user", "zoe"
    )
    assert code == 0, err
    found = re.search(r"\n\n([A-Za-z0-9_-]{22})\n", out)
    assert found is not None and 'They will see only your name as "Zoe"' in out
    secret = found.group(1)
    # The endorser, in their own terminal: told what is shared, answers, shares.
    code, out, err = invoke(
        "endorse", "give", secret, "--user", "max", stdin="1\nMax Weber\n1\n4\nidk\nskip\n1\n"
    )
    assert code == 0, err
    assert "Zoe asked you to rate 2 of their skills: Docker, Python." in out
    assert "This is what Zoe will see:" in out and "your endorsement is shared with Zoe" in out
    code, out, _ = invoke("endorse", "list", "--user", "zoe")
    assert "#1 " in out and "Max Weber (client): Docker 4/5." in out
    code, out, _ = invoke("endorse", "list", "--user", "max")
    assert "to Zoe as their client: Docker 4/5" in out
    code, out, err = invoke("endorse", "give", secret, "--user", "una", stdin="")
    assert code == 2 and "already been used" in err and err.count("\n") == 1
    code, out, err = invoke("endorse", "give", "not-a-code", "--user", "una")
    assert code == 2 and "that code is not valid" in err
    code, out, err = invoke("endorse", "withdraw", "1", "--user", "zoe")
    assert code == 0 and "Endorsement 1 is withdrawn and deleted." in out
    code, _, err = invoke("endorse", "withdraw", "1", "--user", "zoe")
    assert code == 2 and "you have no endorsement 1" in err and err.count("\n") == 1
    code, _, err = invoke("endorse", "erase", "3", "--user", "nobody-here")
    assert code == 2 and "nothing is stored for cli:nobody-here" in err
    # Declining shares nothing and leaves the code usable.
    code, out, _ = invoke("endorse", "create", "--name", "Zoe", "--skills", "git", "--user", "zoe")
    again = re.search(r"\n\n([A-Za-z0-9_-]{22})\n", out)
    assert again is not None
    code, out, _ = invoke("endorse", "give", again.group(1), "--user", "max", stdin="no\n")
    assert code == 0 and "Nothing was shared with Zoe" in out
