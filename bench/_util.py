"""Small helpers shared by the benchmark scripts: timing statistics, a table printer, and
`record`, which `make bench` uses to collect every script's headline figures.

Protocol: when the environment variable BENCH_RECORD names a file, `record` appends one
JSON object per figure to it (`figure`, `target`, `median`, `p95`, `unit`, `script`, and
`met` when the figure has a limit); `bench/report.py` turns those lines into
`bench/RESULTS.md`. Without BENCH_RECORD it does nothing, so every script still runs on its
own and just prints its tables.

A limit that depends on the machine (a multiple of the query embedding time, say) is
measured in the same run and written into `target`, so a result holds on a noisy machine.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def record(
    figure: str,
    target: str,
    median: float | None,
    p95: float | None = None,
    unit: str = "",
    met: bool | None = None,
) -> None:
    """Append one headline figure to the file named by BENCH_RECORD (when it is set)."""
    path = os.environ.get("BENCH_RECORD")
    if not path:
        return
    line = {
        "figure": figure,
        "target": target,
        "median": median,
        "p95": p95,
        "unit": unit,
        "script": Path(sys.argv[0]).name,
        "met": met,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def measure(fn: Callable[[], object], repeat: int, warmup: int = 2) -> list[float]:
    """Run `fn` `repeat` times after `warmup` runs; return each duration in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def summary(values: list[float]) -> tuple[str, str]:
    return f"{statistics.median(values):.2f}", f"{p95(values):.2f}"


def child_env() -> dict[str, str]:
    """The environment for timed subprocesses: compiled bytecode allowed (as installed)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def run_timed(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str = ""
) -> tuple[float, float]:
    """Run a command to its end; return (wall ms, CPU ms of the process: user + system)."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, input=stdin, check=True, capture_output=True, text=True, env=env, cwd=cwd)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu
