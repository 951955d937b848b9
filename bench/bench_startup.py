"""Start-up of the command line, wall and CPU: `skillaudit --help`, a whole `audit --json`, and
`skillaudit next "TOPIC" --json` with the index built (target: at most 0.8 s). Python's own
start-up is measured in the same run, for scale."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._util import child_env, p95, print_table, record, run_timed, summary

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "bots.cli"]


def main() -> None:
    example = str(ROOT / "docs" / "examples" / "freelancer.yaml")
    rows = []
    with tempfile.TemporaryDirectory() as home:
        env = dict(child_env(), SKILLAUDIT_HOME=home)
        subprocess.run([*CLI, "kb", "build"], check=True, capture_output=True, env=env, cwd=ROOT)
        cases = [
            ("python -c pass (for scale)", [sys.executable, "-c", "pass"], 15, None),
            ("skillaudit --help", [*CLI, "--help"], 15, None),
            ("skillaudit audit --json --dry-run (example)",
             [*CLI, "audit", "-p", example, "--json", "--dry-run"], 10, None),
            ('skillaudit next "TOPIC" --json, index built',
             [*CLI, "next", "I want to deploy models with Docker", "--json"], 10, 800.0),
        ]  # fmt: skip
        for name, args, repeat, limit in cases:
            run_timed(args, env, ROOT)  # bytecode compiled, files cached: as after install
            runs = [run_timed(args, env, ROOT) for _ in range(repeat)]
            walls = [w for w, _ in runs]
            cpus = [c for _, c in runs]
            target = "-" if limit is None else f"median <= {limit:g} ms"
            met = None if limit is None else statistics.median(walls) <= limit
            record(f"start-up: {name}, wall", target, statistics.median(walls), p95(walls), "ms", met=met)  # fmt: skip
            record(f"start-up: {name}, CPU", "-", statistics.median(cpus), p95(cpus), "ms")
            rows.append([name, *summary(walls), *summary(cpus)])
    print_table(
        f"Command start-up ({os.cpu_count()} cores, {dt.date.today()})",
        ["command", "wall median ms", "wall p95 ms", "CPU median ms", "CPU p95 ms"],
        rows,
    )


if __name__ == "__main__":
    main()
