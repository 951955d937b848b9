"""`skillaudit kb build`, the index a first recommendation needs: in a new home with the
release's catalog (target: at most 2 s; the vectors are shipped, nothing is embedded), again
in a built home (same target), and with ten catalog entries edited after the release (target:
at most 10 s; those ten are embedded). Python's own start-up and one passage embedding are
measured in the same run, for scale."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._util import child_env, p95, print_table, record, run_timed, summary

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "bots.cli"]
EDITED = 10
EDIT = f"""
import sys
from pathlib import Path
from knowledge.base import default_knowledge
from knowledge.catalog import Catalog, default_catalog
from knowledge.index import IndexConfig, make_index
kb, catalog = default_knowledge(), default_catalog()
resources = dict(catalog.resources)
for ident in sorted(resources)[:{EDITED}]:
    r = resources[ident]
    resources[ident] = r.model_copy(update={{"description": r.description + " Edited."}})
stats = make_index(IndexConfig(path=Path(sys.argv[1]))).sync(Catalog(resources, "edited"), kb)
assert stats.embedded == {EDITED}, stats
"""


def main() -> None:
    env = child_env()
    repeat = 5
    fresh, again, edited, bare = [], [], [], []
    run_timed([sys.executable, "-c", "pass"], env, ROOT)  # warm the file cache
    run_timed([*CLI, "--help"], env, ROOT)  # and compile the project's bytecode once
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as home:
            env_home = dict(env, SKILLAUDIT_HOME=home)
            fresh.append(run_timed([*CLI, "kb", "build"], env_home, ROOT))
            again.append(run_timed([*CLI, "kb", "build"], env_home, ROOT))
        with tempfile.TemporaryDirectory() as home:
            edited.append(
                run_timed([sys.executable, "-c", EDIT, str(Path(home) / "chroma")], env, ROOT)
            )
        bare.append(run_timed([sys.executable, "-c", "pass"], env, ROOT))
    from knowledge.base import default_knowledge
    from knowledge.bundled import bundled_model
    from knowledge.catalog import default_catalog
    from knowledge.vectors import entries

    texts = [e.text for e in entries(default_catalog(), default_knowledge())]
    model = bundled_model()
    model.passage(texts[0])
    passage = []
    for text in texts[:: max(1, len(texts) // 20)]:
        start = time.perf_counter()
        model.passage(text)
        passage.append((time.perf_counter() - start) * 1000)

    rows = []
    for name, runs, limit in (
        ("kb build, new home, release catalog (nothing embedded)", fresh, 2000.0),
        ("kb build, home already built", again, 2000.0),
        (f"kb build, new home, {EDITED} entries edited after the release", edited, 10000.0),
        ("Python start-up alone (python -c pass), for scale", bare, None),
    ):
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        target = "-" if limit is None else f"median <= {limit / 1000:g} s"
        met = None if limit is None else statistics.median(walls) <= limit
        record(f"{name}, wall", target, statistics.median(walls), p95(walls), "ms", met=met)
        record(f"{name}, CPU", "-", statistics.median(cpus), p95(cpus), "ms")
        rows.append([name, *summary(walls), *summary(cpus)])
    record("one catalog passage embedded (the cost of each changed entry)", "-",
           statistics.median(passage), p95(passage), "ms")  # fmt: skip
    rows.append(["one passage embedded", *summary(passage), "-", "-"])
    print_table(
        f"Index build ({os.cpu_count()} cores, {dt.date.today()}, {len(texts)} passages)",
        ["measure", "wall median ms", "wall p95 ms", "CPU median ms", "CPU p95 ms"],
        rows,
    )


if __name__ == "__main__":
    main()
