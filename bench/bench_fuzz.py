"""10,000 random and adversarial messages spread over every conversation state (the long
run of tests/agent/test_engine_properties.py): each gets a non-empty reply, no exception,
only valid stored answers, and a message over the length limit is never stored.

BENCH_FUZZ_INPUTS sets the number of inputs (default 10,000).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.recommend import build_retriever
from bench._util import p95, print_table, record
from knowledge.base import default_knowledge
from tests.agent.fuzzing import MESSAGES, build_states

INPUTS = int(os.environ.get("BENCH_FUZZ_INPUTS", "10000"))


def main() -> None:
    kb = default_knowledge()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        retriever = build_retriever(Settings(SKILLAUDIT_HOME=home / "index", DATABASE_URL=None), kb)
        parked = build_states(home / "states", kb, retriever)
        names = sorted(parked.states)
        work = home / "work"
        work.mkdir()
        times: list[float] = []
        per_state: dict[str, int] = dict.fromkeys(names, 0)

        @settings(
            max_examples=INPUTS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(name=st.sampled_from(names), text=MESSAGES)
        def check(name: str, text: str) -> None:
            start = time.perf_counter()
            parked.send(parked.states[name], text, work)
            times.append((time.perf_counter() - start) * 1000)
            per_state[name] += 1

        started = time.perf_counter()
        check()  # raises, with the shrunk failing input, on the first broken invariant
        wall = time.perf_counter() - started
    record(
        f"fuzz: {len(times):,} hostile messages over {len(names)} states, failures",
        "0",
        0,
        None,
        "failures",
    )
    record("fuzz: one hostile message (fresh copy of the state, reply, checks)", "-",
           statistics.median(times), p95(times), "ms")  # fmt: skip
    print_table(
        f"Fuzzing every conversation state ({os.cpu_count()} cores, {dt.date.today()})",
        ["measure", "value"],
        [
            ["inputs checked", f"{len(times):,}"],
            ["states", str(len(names))],
            ["fewest inputs at one state", str(min(per_state.values()))],
            ["failures", "0"],
            ["wall time (s)", f"{wall:.0f}"],
            ["median / p95 ms per input", f"{statistics.median(times):.1f} / {p95(times):.1f}"],
        ],
    )


if __name__ == "__main__":
    main()
