"""Guided turn latency (target: median under 30 ms) and REPL time to first prompt."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics

import yaml

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from bench._util import p95, print_table, record, summary
from knowledge.base import default_knowledge

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = yaml.safe_load((ROOT / "tests" / "agent" / "transcripts" / "full_audit.yaml").read_text())


def turn_latencies(users: int) -> tuple[list[float], list[float]]:
    """Milliseconds per interview turn, and per final turn (scoring and storing the audit)."""
    turns: list[float] = []
    finals: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(SKILLAUDIT_HOME=Path(home), DATABASE_URL=None)
        store = Store(settings.resolved_database_url())
        recommender = Recommender(settings, default_knowledge())
        recommender.retriever()  # the index is built once per install, not per audit: not timed
        engine = Engine(
            store, settings, today=lambda: dt.date(2026, 11, 28), recommender=recommender
        )
        engine.handle_sync("warm-up", "hi")
        for user in range(users):
            steps = SCRIPT["steps"]
            for index, step in enumerate(steps):
                start = time.perf_counter()
                engine.handle_sync(f"user{user}", step["say"])
                elapsed = (time.perf_counter() - start) * 1000
                (finals if index == len(steps) - 1 else turns).append(elapsed)
        store.dispose()
    return turns, finals


def first_prompt(repeat: int) -> list[float]:
    """Wall time from starting `skillaudit chat` to the first question on screen."""
    times = []
    script = Path(sys.executable).parent / "skillaudit"
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, SKILLAUDIT_HOME=home)
            start = time.perf_counter()
            process = subprocess.Popen(
                [str(script), "chat", "--user", "bench"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, env=env, cwd=home,
            )  # fmt: skip
            assert process.stdout is not None
            for line in process.stdout:
                if "Which role" in line:
                    break
            times.append((time.perf_counter() - start) * 1000)
            process.kill()
            process.wait()
    return times


def main() -> None:
    turns, finals = turn_latencies(users=10)
    prompt = first_prompt(repeat=7)
    record(
        "guided interview turn (answer saved, next question)",
        "< 30 ms",
        statistics.median(turns),
        p95(turns),
        "ms",
    )
    record(
        "final interview turn (score, store, recommend)",
        "-",
        statistics.median(finals),
        p95(finals),
        "ms",
    )
    record("chat: start to first question", "-", statistics.median(prompt), p95(prompt), "ms")
    print_table(
        f"Guided interview ({os.cpu_count()} cores, SQLite, {dt.date.today()})",
        ["measure", "median ms", "p95 ms", "samples"],
        [
            ["interview turn (answer saved, next question)", *summary(turns), str(len(turns))],
            ["final turn (score, store audit, render summary)", *summary(finals), str(len(finals))],
            ["REPL start to first question", *summary(prompt), str(len(prompt))],
        ],
    )


if __name__ == "__main__":
    main()
