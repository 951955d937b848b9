"""Turn the figures the benchmark scripts recorded (JSON lines) into bench/RESULTS.md.

Usage: python bench/report.py [--merge] RECORDS.jsonl [OUTPUT.md]. Every recorded figure is
listed, whichever script wrote it, in the order recorded. With --merge, the rows of OUTPUT.md
written by scripts that recorded nothing this time are kept (each row says its run's date),
so running a few scripts updates only their figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
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


HEADER = "| figure | target | met | median | p95 | unit | script | run |"


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def verdict(met: Any) -> str:
    return "-" if met is None else "yes" if met else "**no**"


def render(records: list[dict[str, Any]], today: dt.date, kept: list[str] | None = None) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Last run on {today.isoformat()}: {os.cpu_count()} cores ({cpu_model()}), "
        f"{memory_gb()} RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}.",
        "Each figure is recorded by the script named beside it (see `bench/`) on the date in",
        "`run`; medians and 95th percentiles are over that script's repetitions, '-' where a",
        "figure is a single count. A target that depends on the machine (a multiple of the",
        "query embedding time, say) was measured in the same run and is written out; `met`",
        "compares the figure (its p95 where the target says p95, else its median) with it.",
        f"The machine's 1-minute load average when this file was written: {load()} (on a",
        "shared machine a wall time can be several times its CPU time; both are given).",
        "",
        HEADER,
        "|---|---|---|---:|---:|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['figure']} | {r.get('target') or '-'} | {verdict(r.get('met'))} | "
            f"{number(r.get('median'))} | {number(r.get('p95'))} | {r.get('unit', '')} | "
            f"`{r.get('script', '')}` | {today.isoformat()} |"
        )
    if kept:
        lines += kept
        lines += [
            "",
            "Rows with an earlier `run` date were kept from that run (possibly another machine);",
            "their scripts did not run this time.",
        ]
    return "\n".join(lines) + "\n"


def kept_rows(output: Path, scripts: set[str]) -> list[str]:
    """Rows of an existing results table whose script recorded nothing in this run."""
    if not output.exists():
        return []
    text = output.read_text(encoding="utf-8")
    dated = re.search(r" on (\d{4}-\d{2}-\d{2})", text)
    before = dated.group(1) if dated else "unknown"
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or line.startswith("| figure") or len(cells) < 6:
            continue
        script = next((c.strip("`") for c in cells if c.startswith("`bench_")), None)
        if script is None or script in scripts:
            continue
        if len(cells) == 6:  # a row from before the met and run columns: the file's run date
            figure, target, median, p95_, unit, _ = cells
            line = (
                f"| {figure} | {target} | - | {median} | {p95_} | {unit} | `{script}` | {before} |"
            )
        rows.append(line)
    return rows


def main() -> None:
    args = sys.argv[1:]
    merge = "--merge" in args
    args = [a for a in args if a != "--merge"]
    if not args:
        sys.exit("usage: python bench/report.py [--merge] RECORDS.jsonl [OUTPUT.md]")
    source = Path(args[0])
    output = Path(args[1]) if len(args) > 1 else ROOT / "bench" / "RESULTS.md"
    records = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    if not records:
        sys.exit(f"{source}: no figures recorded")
    kept = kept_rows(output, {r.get("script", "") for r in records}) if merge else []
    output.write_text(render(records, dt.date.today(), kept), encoding="utf-8")
    print(f"{len(records)} figures written to {output}")


if __name__ == "__main__":
    main()
