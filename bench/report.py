"""Turn the figures the benchmark scripts recorded (JSON lines) into bench/RESULTS.md.

Usage: python bench/report.py RECORDS.jsonl [OUTPUT.md]. Every recorded figure is listed,
whichever script wrote it, in the order recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 100):
        return f"{value:,.0f}"
    magnitude = abs(float(value))
    digits = 3 if magnitude < 1 else 2 if magnitude < 10 else 1 if magnitude < 1000 else 0
    return f"{value:,.{digits}f}"


def render(records: list[dict[str, Any]], today: dt.date) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Run with `make bench` on {today.isoformat()}: {os.cpu_count()} cores ({cpu_model()}), "
        f"{memory_gb()} RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}.",
        "Each figure is recorded by the script named beside it (see `bench/`); medians and 95th",
        "percentiles are over that script's repetitions, '-' where a figure is a single count.",
        "",
        "| figure | target | median | p95 | unit | script |",
        "|---|---|---:|---:|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['figure']} | {r.get('target') or '-'} | {number(r.get('median'))} | "
            f"{number(r.get('p95'))} | {r.get('unit', '')} | `{r.get('script', '')}` |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python bench/report.py RECORDS.jsonl [OUTPUT.md]")
    source = Path(sys.argv[1])
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "bench" / "RESULTS.md"
    records = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    if not records:
        sys.exit(f"{source}: no figures recorded")
    output.write_text(render(records, dt.date.today()), encoding="utf-8")
    print(f"{len(records)} figures written to {output}")


if __name__ == "__main__":
    main()
