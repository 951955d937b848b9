"""The terminal chat under a fault it did not expect: one line, the traceback in the log
file, and the conversation goes on.

The fault is real: another program renames a table the chat needs between two messages (as a
broken migration or a careless operator would), then puts it back.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def read_until(process: subprocess.Popen[str], text: str) -> str:
    """Lines of output until one holds `text` (the chat prints as it goes)."""
    assert process.stdout is not None
    seen = ""
    while text not in seen:
        line = process.stdout.readline()
        assert line, f"the chat ended before saying {text!r}:\n{seen[-2000:]}"
        seen += line
    return seen


def test_an_unexpected_error_is_one_line_and_the_conversation_goes_on(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SKILLAUDIT_HOME=str(tmp_path), COLUMNS="300", PYTHONPATH=str(ROOT))
    # The store first: on a machine without one the chat asks its first question before
    # making it, and this test changes a table of it.
    subprocess.run([sys.executable, "-m", "bots.cli", "migrate"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "chat", "--user", "ana"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert process.stdin is not None
    read_until(process, "Which role")
    with sqlite3.connect(tmp_path / "skillaudit.db") as raw:
        raw.execute("ALTER TABLE notices RENAME TO notices_away")
    process.stdin.write("ml engineer\n")
    process.stdin.flush()
    failed = read_until(process, "error: ")
    line = next(x for x in failed.splitlines() if x.startswith("error: "))
    assert "something went wrong on my side" in line and "OperationalError" in line
    assert str(tmp_path / "logs" / "skillaudit.log") in line
    with sqlite3.connect(tmp_path / "skillaudit.db") as raw:
        raw.execute("ALTER TABLE notices_away RENAME TO notices")
    out, err = process.communicate("ml engineer\nmid\n", timeout=600)
    assert process.returncode == 0, err
    assert "Noted: Machine Learning Engineer" in out and "Noted: Mid" in out  # it went on
    assert "Traceback" not in failed + out + err and err == ""
    log = tmp_path / "logs" / "skillaudit.log"
    assert log.stat().st_mode & 0o777 == 0o600
    assert "Traceback" in log.read_text() and "no such table: notices" in log.read_text()
