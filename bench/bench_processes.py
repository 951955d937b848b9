"""100 `skillaudit chat` processes at once, on SQLite and on PostgreSQL (target: 0 crashes and
every answer of every audit stored), and how long the final turn holds the store.

Each process is a whole guided audit piped into the real command (the answers of
tests/agent/transcripts/full_audit.yaml), every process started before any input is written,
on a store none of them has created yet. A process that waits for the store longer than its
budget (SKILLAUDIT_BUSY_TIMEOUT, 60 s by default) says so in one line and sends the answer
again: the figures count those lines. PostgreSQL runs in a throwaway schema of the `test`
database at 127.0.0.1:5432 (skipped when it is not reachable); BENCH_PROCESSES changes the
number of processes.

The final turn (score, store, recommend, plan) of a process that has not loaded the course
index yet is also timed in-process: the whole turn, and the time its write transaction holds
the store (SQLite's write lock), which must not include loading the index.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import yaml

from bench._util import child_env, p95, print_table, record

ROOT = Path(__file__).resolve().parents[1]
STEPS = yaml.safe_load((ROOT / "tests" / "agent" / "transcripts" / "full_audit.yaml").read_text())[
    "steps"
]
SCRIPT = "".join(step["say"] + "\n" for step in STEPS[1:])  # the REPL sends /start itself
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "100"))
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HANG_GUARD_S = 3600


def index_template() -> Path:
    """A home with the course index built once (`skillaudit kb build`), to copy into each run."""
    home = Path(tempfile.mkdtemp(prefix="bench-processes-index-"))
    env = child_env()
    env["SKILLAUDIT_HOME"] = str(home)
    subprocess.run(
        [sys.executable, "-m", "bots.cli", "kb", "build"], check=True, capture_output=True, env=env
    )
    return home


def postgres_schema() -> str | None:
    """A throwaway schema's URL, or None when PostgreSQL is not reachable."""
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
        schema = f"sa_bench_{uuid.uuid4().hex[:10]}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, and say why
        print(f"PostgreSQL skipped: {type(exc).__name__}")
        return None
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    schema = url.rsplit("%3D", 1)[1]
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def run_many(home: Path, database: str | None) -> dict[str, Any]:
    """Start PROCESSES chats, then feed them all at once; their outcome and timings."""
    env = child_env()
    env.pop("DATABASE_URL", None)
    env["SKILLAUDIT_HOME"] = str(home)
    if database:
        env["DATABASE_URL"] = database
    users = [f"b{i:03d}" for i in range(PROCESSES)]
    start = time.perf_counter()
    processes = {
        user: subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "chat", "--user", user],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=home,
        )
        for user in users
    }
    outcome: dict[str, tuple[int, str, str, float]] = {}

    def feed(user: str) -> None:
        out, err = processes[user].communicate(SCRIPT, timeout=HANG_GUARD_S)
        outcome[user] = (processes[user].returncode, out, err, time.perf_counter() - start)

    threads = [threading.Thread(target=feed, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    crashed = [
        u for u, (code, out, err, _) in outcome.items() if code != 0 or "Traceback" in out + err
    ]
    busy = sum(out.count("store is busy") for _, out, _, _ in outcome.values())
    stored = stored_answers(home, database)
    reference = stored.get(f"cli:{users[0]}", ({}, 0))[0]
    complete = [
        u
        for u in users
        if stored.get(f"cli:{u}", ({}, 0)) == (reference, 1)
        and "Your audit as Machine Learning Engineer" in outcome[u][1]
    ]
    return {
        "wall_s": wall,
        "per_process_s": sorted(t for *_, t in outcome.values()),
        "crashed": len(crashed),
        "busy_lines": busy,
        "complete": len(complete) if len(reference) >= len(STEPS) - 3 else 0,
    }


def stored_answers(home: Path, database: str | None) -> dict[str, tuple[dict[str, Any], int]]:
    query = (
        "select u.external_id, s.answers, (select count(*) from audits a where a.user_id = u.id) "
        "from users u join sessions s on s.user_id = u.id where s.flow = 'interview'"
    )
    if database is None:
        with sqlite3.connect(home / "skillaudit.db") as raw:
            rows = raw.execute(query).fetchall()
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(database)
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(text(query)).all()]
        engine.dispose()
    return {u: (a if isinstance(a, dict) else json.loads(a), n) for u, a, n in rows}


def final_turn_hold(template: Path) -> tuple[float, float]:
    """(whole final turn, longest write transaction in it), in ms, for a process whose course
    index is not loaded yet (as in a fresh `skillaudit chat`)."""
    from sqlalchemy import event

    from agent.config import Settings
    from agent.engine import Engine
    from agent.store import Store

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        shutil.copytree(template / "chroma", home / "chroma")
        settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=None)
        store = Store(settings.resolved_database_url())
        engine = Engine(store, settings, today=lambda: dt.date(2026, 11, 28))
        holds: list[float] = []
        opened: list[float] = []
        event.listen(store.engine, "begin", lambda conn: opened.append(time.perf_counter()))
        event.listen(
            store.engine, "commit", lambda conn: holds.append(time.perf_counter() - opened[-1])
        )
        event.listen(
            store.engine, "rollback", lambda conn: holds.append(time.perf_counter() - opened[-1])
        )
        steps = ["/start", *(step["say"] for step in STEPS[1:])]
        for message in steps[:-1]:
            engine.handle_sync("bench", message)
        holds.clear()
        start = time.perf_counter()
        reply = engine.handle_sync("bench", steps[-1])
        whole = (time.perf_counter() - start) * 1000
        assert "Your audit as" in reply.text, reply.text[:300]
        store.dispose()
    return whole, max(holds) * 1000


def main() -> None:
    template = index_template()
    rows = []
    try:
        whole, hold = final_turn_hold(template)
        rows.append(["final turn, cold process: whole turn", f"{whole:.0f} ms"])
        rows.append(["final turn, cold process: longest write transaction", f"{hold:.0f} ms"])
        record(
            "final turn of a fresh chat process (loads the index), whole turn",
            "-",
            whole,
            unit="ms",
        )
        record(
            "final turn of a fresh chat process: longest write transaction (the index loads outside it)",
            "<= 25% of the whole turn",
            hold,
            unit="ms",
            met=hold <= 0.25 * whole,
        )
        for backend in ("sqlite", "postgresql"):
            database = postgres_schema() if backend == "postgresql" else None
            if backend == "postgresql" and database is None:
                continue
            home = Path(tempfile.mkdtemp(prefix=f"bench-processes-{backend}-"))
            shutil.copytree(template / "chroma", home / "chroma")
            try:
                result = run_many(home, database)
            finally:
                if database:
                    drop_schema(database)
                shutil.rmtree(home, ignore_errors=True)
            name = "SQLite" if backend == "sqlite" else "PostgreSQL"
            each = [t * 1000 for t in result["per_process_s"]]
            rows += [
                [f"{name}: crashed processes", str(result["crashed"])],
                [f"{name}: audits with every answer stored", f"{result['complete']}/{PROCESSES}"],
                [f"{name}: answers sent again after a busy store", str(result["busy_lines"])],
                [f"{name}: wall time, all {PROCESSES}", f"{result['wall_s']:.1f} s"],
                [
                    f"{name}: one process, start to done (median / p95)",
                    f"{statistics.median(each) / 1000:.1f} / {p95(each) / 1000:.1f} s",
                ],
            ]
            prefix = f"{PROCESSES} chat processes at once, {name}"
            record(
                f"{prefix}: crashed processes",
                "0",
                result["crashed"],
                unit="processes",
                met=result["crashed"] == 0,
            )
            record(
                f"{prefix}: audits with every answer stored",
                f"= {PROCESSES}",
                result["complete"],
                unit="audits",
                met=result["complete"] == PROCESSES,
            )
            record(
                f"{prefix}: answers sent again after a busy store",
                "-",
                result["busy_lines"],
                unit="messages",
            )
            record(
                f"{prefix}: wall time until the last audit", "-", result["wall_s"] * 1000, unit="ms"
            )
            record(
                f"{prefix}: one process, start to its audit",
                "-",
                statistics.median(each),
                p95(each),
                unit="ms",
            )
    finally:
        shutil.rmtree(template, ignore_errors=True)
    print_table(f"{PROCESSES} chat processes at once", ["figure", "value"], rows)


if __name__ == "__main__":
    main()
