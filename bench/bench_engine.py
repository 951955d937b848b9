"""Guided turn latency (target: median under 30 ms), the final turn that scores, stores,
recommends and plans (target: median at most 60 ms), the REPL's start to its first question
on a new machine (target: at most 0.4 s of CPU; a returning person's start is measured too),
and a first audit on a new machine: the silence after the last answer (target: at most 1 s
before a line says what is happening) and the result (target: in under 3 s)."""

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
from bench._util import child_env, p95, print_table, record, summary
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


def first_prompt(repeat: int, returning: bool = False) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds from starting `skillaudit chat` to the first question: on a new
    machine (no store yet), or for a person `returning` to a question left open."""
    import resource

    walls, cpus = [], []
    for attempt in range(repeat + 1):  # the first run compiles bytecode: not counted
        with tempfile.TemporaryDirectory() as home:
            env = dict(child_env(), SKILLAUDIT_HOME=home, PYTHONUNBUFFERED="1")
            command = [sys.executable, "-m", "bots.cli", "chat", "--user", "bench"]
            if returning:  # the person answered the first question and left
                subprocess.run(command, input="ml engineer\n", capture_output=True, text=True,
                               env=env, cwd=home, check=True)  # fmt: skip
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=home
            )
            assert process.stdout is not None
            for line in process.stdout:
                if ("Which career stage" if returning else "Which role") in line:
                    break
            wall = (time.perf_counter() - start) * 1000
            process.kill()
            process.wait()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if attempt:
                walls.append(wall)
                cpus.append(
                    (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
                )
    return walls, cpus


# With the collector threshold the CLI sets. On a new machine the first question comes before
# the store opens; a returning person's needs the store, hence SQLAlchemy.
LIBRARIES = "pydantic, pydantic_settings, typer, rich.console, jinja2, yaml"
FLOOR = f"import gc; gc.set_threshold(50_000, 20, 100); import {LIBRARIES}"


def import_floor(repeat: int, store: bool = False) -> list[float]:
    """CPU ms to import the libraries the path to the first question needs, for scale."""
    from bench._util import run_timed

    code = FLOOR + (", sqlalchemy.orm" if store else "")
    return [run_timed([sys.executable, "-c", code], child_env(), ROOT)[1] for _ in range(repeat)]


def cpu_ms(pid: int) -> float:
    """CPU time used so far by a running process (user + system), from /proc on Linux."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def first_audit(repeat: int) -> tuple[list[float], list[float], list[float]]:
    """A whole piped interview in a new home: ms from the last answer being read to the first
    output line after it (silence), and to the result on screen, wall and CPU."""
    answers = [step["say"] for step in SCRIPT["steps"][1:]]
    silences, results, cpus = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as home:
            env = dict(child_env(), SKILLAUDIT_HOME=home, PYTHONUNBUFFERED="1", COLUMNS="200")
            process = subprocess.Popen(
                [sys.executable, "-m", "bots.cli", "chat", "--user", "new"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, env=env, cwd=home,
            )  # fmt: skip
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("\n".join(answers) + "\n")
            process.stdin.close()
            echoed = 0
            last = first = None
            for line in process.stdout:
                now = time.perf_counter()
                if line.startswith("> "):  # the REPL echoes each piped line as it reads it
                    echoed += 1
                    if echoed == len(answers):
                        last, spent = now, cpu_ms(process.pid)
                elif last is not None and first is None and line.strip():
                    first = now
                if last is not None and "Your audit as" in line:
                    assert first is not None
                    silences.append((first - last) * 1000)
                    results.append((now - last) * 1000)
                    cpus.append(cpu_ms(process.pid) - spent)
                    break
            process.kill()
            process.wait()
    return silences, results, cpus


def main() -> None:
    turns, finals = turn_latencies(users=10)
    walls, cpus = first_prompt(repeat=7)
    floor = import_floor(repeat=7)
    back_walls, back_cpus = first_prompt(repeat=7, returning=True)
    back_floor = import_floor(repeat=7, store=True)
    silences, results, final_cpus = first_audit(repeat=3)
    record("guided interview turn (answer saved, next question)", "< 30 ms",
           statistics.median(turns), p95(turns), "ms", met=statistics.median(turns) < 30)  # fmt: skip
    record("final interview turn (score, store, recommend, plan)", "median <= 60 ms",
           statistics.median(finals), p95(finals), "ms", met=statistics.median(finals) <= 60)  # fmt: skip
    record("chat: start to first question, wall", "-", statistics.median(walls), p95(walls), "ms")
    record("chat: start to first question, CPU", "median <= 400 ms", statistics.median(cpus),
           p95(cpus), "ms", met=statistics.median(cpus) <= 400)  # fmt: skip
    record(f"chat: its libraries' imports alone ({LIBRARIES}), CPU",
           "-", statistics.median(floor), p95(floor), "ms")  # fmt: skip
    record("chat: start to the question a returning person left open, CPU", "-",
           statistics.median(back_cpus), p95(back_cpus), "ms")  # fmt: skip
    record("chat: its libraries' imports alone (the same and SQLAlchemy ORM), CPU",
           "-", statistics.median(back_floor), p95(back_floor), "ms")  # fmt: skip
    record("first audit on a new machine: silence after the last answer", "max <= 1,000 ms",
           statistics.median(silences), max(silences), "ms", met=max(silences) <= 1000)  # fmt: skip
    record("first audit on a new machine: last answer to the result", "max < 3,000 ms",
           statistics.median(results), max(results), "ms", met=max(results) < 3000)  # fmt: skip
    record("first audit on a new machine: last answer to the result, CPU", "-",
           statistics.median(final_cpus), max(final_cpus), "ms")  # fmt: skip
    print_table(
        f"Guided interview ({os.cpu_count()} cores, SQLite, {dt.date.today()})",
        ["measure", "median ms", "p95 ms", "samples"],
        [
            ["interview turn (answer saved, next question)", *summary(turns), str(len(turns))],
            [
                "final turn (score, store audit, recommend, plan)",
                *summary(finals),
                str(len(finals)),
            ],
            ["REPL start to first question, wall", *summary(walls), str(len(walls))],
            ["REPL start to first question, CPU", *summary(cpus), str(len(cpus))],
            [
                "  of which could be its libraries' imports alone, CPU",
                *summary(floor),
                str(len(floor)),
            ],
            [
                "REPL start to a returning person's question, wall",
                *summary(back_walls),
                str(len(back_walls)),
            ],
            [
                "REPL start to a returning person's question, CPU",
                *summary(back_cpus),
                str(len(back_cpus)),
            ],
            [
                "  of which could be its libraries' imports alone, CPU",
                *summary(back_floor),
                str(len(back_floor)),
            ],
            ["new machine: silence after the last answer", *summary(silences), str(len(silences))],
            ["new machine: last answer to the result", *summary(results), str(len(results))],
            [
                "new machine: last answer to the result, CPU",
                *summary(final_cpus),
                str(len(final_cpus)),
            ],
        ],
    )


if __name__ == "__main__":
    main()
