"""Audit time against the number of rated skills (target: well under 50 ms for 100 skills).

The largest case is the most a profile may rate (tools.profile caps self_ratings at 200).
"""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics

from bench._util import measure, p95, print_table, record, summary
from knowledge.base import KnowledgeBase
from knowledge.schema import BenchmarksFile, DemandFile, Pillar, RolesFile, Taxonomy
from tools.audit import run_audit
from tools.profile import validate_profile

AS_OF = dt.date(2026, 11, 28)
PILLARS = list(Pillar)
CATEGORY = {"technical": "ml", "lifecycle": "operations", "ethics": "governance", "career": "power"}


def synthetic_knowledge(size: int) -> KnowledgeBase:
    """`size` skills with transfers to their neighbours and one role that needs them all."""
    ids = [f"skill_{i:04d}" for i in range(size)]
    skills = [
        {
            "id": ident,
            "name": f"Skill {i}",
            "pillar": PILLARS[i % 4].value,
            "category": CATEGORY[PILLARS[i % 4].value],
            "description": f"Synthetic skill number {i}.",
            "related": [{"skill": ids[(i + 1) % size], "transfer": 0.3}],
        }
        for i, ident in enumerate(ids)
    ]
    demand = [
        {
            "skill": ident,
            "overall": 30 + i % 60,
            "by_role": {"all": 40 + i % 50},
            "trend": 0.05,
            "half_life_years": 2 + i % 10,
            "sources": ["synthetic"],
        }
        for i, ident in enumerate(ids)
    ]
    source = [{"id": "synthetic", "title": "Synthetic", "publisher": "bench", "year": 2026}]
    return KnowledgeBase(
        taxonomy=Taxonomy.model_validate({"version": "bench", "skills": skills}),
        roles_file=RolesFile.model_validate(
            {
                "version": "bench",
                "roles": [
                    {
                        "id": "all",
                        "name": "All",
                        "description": "Every skill.",
                        "skills": {i: 1 + n % 5 for n, i in enumerate(ids)},
                    }
                ],
            }
        ),
        demand_file=DemandFile.model_validate(
            {"as_of": AS_OF, "method": "synthetic", "sources": source, "skills": demand}
        ),
        benchmarks_file=BenchmarksFile.model_validate(
            {"as_of": AS_OF, "method": "none", "sources": source, "tasks": []}
        ),
        version="bench",
    )


def bench_case(rated: int) -> list[str]:
    kb = synthetic_knowledge(max(rated, 120))
    ratings = {f"skill_{i:04d}": 1 + i % 5 for i in range(rated)}
    data = {"user": "bench", "target_role": "all", "self_ratings": ratings}
    profile = validate_profile(data, kb)
    repeat = 30
    audit_ms = measure(lambda: run_audit(profile, kb, AS_OF), repeat)
    full_ms = measure(lambda: run_audit(validate_profile(data, kb), kb, AS_OF), repeat)
    target = "< 50 ms" if rated == 100 else "-"
    record(
        f"audit of {rated} rated skills", target, statistics.median(audit_ms), p95(audit_ms), "ms"
    )
    return [str(rated), *summary(audit_ms), *summary(full_ms)]


def main() -> None:
    print_table(
        f"Audit time vs rated skills ({os.cpu_count()} cores, {dt.date.today()})",
        ["rated skills", "audit median ms", "audit p95 ms", "validate+audit median ms", "p95 ms"],
        [bench_case(rated) for rated in (10, 100, 200)],
    )


if __name__ == "__main__":
    main()
