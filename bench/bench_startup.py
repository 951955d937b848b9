"""Start-up time of the command line: `skillaudit --help` and a whole `audit --json`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics

from bench._util import p95, print_table, record, summary

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "skillaudit"


def wall_ms(args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=ROOT)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    example = str(ROOT / "docs" / "examples" / "freelancer.yaml")
    cases = [
        ("skillaudit --help", [str(SCRIPT), "--help"], 15),
        ("skillaudit audit --json (example)", [str(SCRIPT), "audit", "-p", example, "--json"], 10),
    ]
    rows = []
    for name, args, repeat in cases:
        times = wall_ms(args, repeat)
        record(f"start-up: {name}", "-", statistics.median(times), p95(times), "ms")
        rows.append([name, *summary(times)])
    print_table(
        f"Command start-up, wall time ({os.cpu_count()} cores, {dt.date.today()})",
        ["command", "median ms", "p95 ms"],
        rows,
    )


if __name__ == "__main__":
    main()
