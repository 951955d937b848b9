"""Many `skillaudit chat` processes at once, on SQLite and on PostgreSQL: none crashes and every
answer is stored.

Each process is a whole guided audit piped into the real command (the answers of
tests/agent/transcripts/full_audit.yaml), all started before any input is written, on a store
no process has created yet (they race on the schema too). The bench (`bench/bench_processes.py`)
runs 100 processes; the suite runs PROCESSES of them, which checks the same properties in a
fraction of the time. Nothing here depends on the machine's speed: a process that waits longer
than its budget for the store is told so in one line and sends the answer again itself, so
on a slow machine the test only takes longer.

The busy path itself is forced, not hoped for: `test_a_store_that_stays_busy...` holds
SQLite's write lock from the test until a process has said "busy", then lets go.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.postgres import postgres_skip_reason, throwaway_schema

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = [
    s["say"]
    for s in yaml.safe_load(
        (ROOT / "tests" / "agent" / "transcripts" / "full_audit.yaml").read_text()
    )["steps"]
][1:]  # the REPL sends /start itself; the first scripted message ("hi") would be one more
PROCESSES = 8  # the bench runs 100 (bench/bench_processes.py)
HANG_GUARD_S = 1800  # only a process that stopped altogether fails on this


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None for SQLite under the home, or the URL of a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    with throwaway_schema("sa_proc") as url:
        yield url


def home_with_index(tmp_path: Path, index_home: Path) -> Path:
    """A fresh SKILLAUDIT_HOME holding a copy of the built index (no process builds it)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(index_home / "chroma", home / "chroma")
    return home


def chat_env(home: Path, database: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SKILLAUDIT_HOME=str(home), PYTHONPATH=str(ROOT), SKILLAUDIT_BUSY_TIMEOUT="60")
    if database:
        env["DATABASE_URL"] = database
    env.update(extra)
    return env


def start_chat(user: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`skillaudit chat --user USER` with its input, output and errors piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "chat", "--user", user],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def run_chats(users: list[str], env: dict[str, str], cwd: Path) -> dict[str, tuple[int, str, str]]:
    """Start one piped `skillaudit chat` per user, all before any input; (code, out, err) each."""
    script = "".join(line + "\n" for line in SCRIPT)
    processes = {user: start_chat(user, env, cwd) for user in users}
    results: dict[str, tuple[int, str, str]] = {}

    def feed(user: str) -> None:
        out, err = processes[user].communicate(script, timeout=HANG_GUARD_S)
        results[user] = (processes[user].returncode, out, err)

    threads = [threading.Thread(target=feed, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stored(database: str | None, home: Path) -> dict[str, tuple[dict[str, object], int]]:
    """Per user: the answers of their (finished) interview and how many audits they have."""
    query = (
        "select u.external_id, s.answers, (select count(*) from audits a where a.user_id = u.id) "
        "from users u join sessions s on s.user_id = u.id where s.flow = 'interview'"
    )
    if database is None:
        with sqlite3.connect(home / "skillaudit.db") as raw:
            rows = raw.execute(query).fetchall()
        return {u: (json.loads(a), n) for u, a, n in rows}
    engine = create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(text(query)).all()
    engine.dispose()
    return {u: (a if isinstance(a, dict) else json.loads(a), n) for u, a, n in rows}


def assert_every_answer_stored(
    results: dict[str, tuple[int, str, str]], store: dict[str, tuple[dict[str, object], int]]
) -> None:
    for user, (code, out, err) in results.items():
        assert code == 0, (user, code, err[-2000:])
        assert "Traceback" not in out + err, (user, err[-2000:])
        assert "Your audit as Machine Learning Engineer" in out, (user, out[-1500:])
        assert out.count("Noted:") >= 10, user  # every answer was acknowledged...
    reference = store[f"cli:{next(iter(results))}"][0]
    assert len(reference) >= len(SCRIPT) - 2
    for user in results:
        answers, audits = store[f"cli:{user}"]
        assert answers == reference, user  # ...and is stored, the same for everyone
        assert audits == 1, user


@pytest.mark.long(seconds=17)
def test_many_chat_processes_at_once_lose_nothing(
    tmp_path: Path, index_home: Path, retriever: object, database: str | None
) -> None:
    home = home_with_index(tmp_path, index_home)
    users = [f"p{i:02d}" for i in range(PROCESSES)]
    results = run_chats(users, chat_env(home, database), tmp_path)
    store = stored(database, home)
    assert len(store) == PROCESSES
    assert_every_answer_stored(results, store)
    if database is None:
        # Created private, whatever the umask of the shell that started the chats.
        assert (home / "skillaudit.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.long(seconds=8)
def test_a_store_that_stays_busy_is_said_in_one_line_and_nothing_is_lost(
    tmp_path: Path, index_home: Path, retriever: object
) -> None:
    """SQLite's write lock held by another program longer than the budget: the chats say so,
    send the answer again, and finish once it lets go."""
    from agent.store import Store

    home = home_with_index(tmp_path, index_home)
    Store(f"sqlite:///{home / 'skillaudit.db'}").dispose()  # the schema, before the lock
    holder = sqlite3.connect(home / "skillaudit.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    env = chat_env(home, None, SKILLAUDIT_BUSY_TIMEOUT="0.5")
    users = ["b0", "b1", "b2"]
    script = "".join(line + "\n" for line in SCRIPT)
    processes = [start_chat(user, env, tmp_path) for user in users]
    # Wait for the first "busy" line (each process says it while the lock is held), then let go.
    first = processes[0]
    assert first.stdout is not None
    seen = ""
    while "store is busy" not in seen:
        line = first.stdout.readline()
        assert line, "the process ended without saying the store was busy"
        seen += line
    holder.execute("ROLLBACK")
    holder.close()
    results = {}
    for user, process in zip(users, processes, strict=True):
        out, err = process.communicate(script, timeout=HANG_GUARD_S)
        if process is first:
            out = seen + out
        results[user] = (process.returncode, out, err)
    assert "store is busy" in results["b0"][1]
    busy_lines = [line for line in results["b0"][1].splitlines() if "store is busy" in line]
    assert all(line.startswith("error: ") for line in busy_lines)
    assert_every_answer_stored(results, stored(None, home))
