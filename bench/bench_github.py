"""GitHub connector against the fake GitHub API: API calls and wall time for 10 and 100 repositories."""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics

from bench._util import measure, p95, print_table, record, summary
from knowledge.base import default_knowledge
from tests.fakes.github_server import FakeGitHub, generate_dataset
from tools.connectors.github import GitHubInput, collect

AS_OF = dt.date(2026, 11, 28)
TOKEN = "ghp_bench"


def run(repos: int, repeat: int) -> list[str]:
    """One table row: repositories read, API calls and timings for a user with `repos` repositories."""
    kb = default_knowledge()
    # A huge rate limit so that repeated runs never hit the fake's limit.
    with FakeGitHub(generate_dataset("bench", repos), token=TOKEN, rate_limit=10_000_000) as fake:
        params = GitHubInput(
            username="bench", base_url=fake.url, token=TOKEN, max_repos=500, as_of=AS_OF
        )
        result = collect(params, kb)
        assert not result.problems, result.problems
        fake.log.clear()
        times = measure(lambda: collect(params, kb), repeat=repeat, warmup=1)
        # The server's own count agrees with the connector's (nothing cached across runs).
        assert len(fake.log) == result.data["api_calls"] * (repeat + 1), len(fake.log)
    record(
        f"GitHub connector, {repos} repositories (fake API)",
        "-",
        statistics.median(times),
        p95(times),
        "ms",
    )
    record(f"GitHub API calls, {repos} repositories", "-", result.data["api_calls"], None, "calls")
    return [
        str(repos),
        str(len(result.data["repos"])),
        str(result.data["api_calls"]),
        str(len(result.evidence)),
        *summary(times),
        str(len(times)),
    ]


def main() -> None:
    rows = [run(10, repeat=9), run(100, repeat=5)]
    print_table(
        f"GitHub connector against the fake API on 127.0.0.1 ({os.cpu_count()} cores, {dt.date.today()})",
        ["repos", "read (no forks)", "api_calls", "evidence", "median ms", "p95 ms", "runs"],
        rows,
    )


if __name__ == "__main__":
    main()
