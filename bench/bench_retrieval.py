"""Recommendation quality on the hand-labelled queries and person profiles (skill hit@3, level
fit, prerequisite violations, stability under unrelated changes, top-five gap coverage, expert
agreement; see tests/knowledge/quality.py), nDCG@5, and the latency of a recommendation at the
catalog's size, 1,000 and 10,000 resources beside the time of the one query embedding it
contains, measured in the same run (target at 1,000: p95 at most 1.5 times the embedding's
p95). The index build is measured by bench_index.py."""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics

import numpy as np
import yaml

from bench._util import p95, print_table, record, summary
from knowledge.base import default_knowledge
from knowledge.catalog import Catalog, default_catalog
from knowledge.index import IndexConfig, VectorIndex, make_client, make_embedder, make_index
from knowledge.retriever import Constraints, Retriever, Target

ROOT = Path(__file__).resolve().parents[1]
QUERIES = yaml.safe_load((ROOT / "tests" / "knowledge" / "queries.yaml").read_text())
PROFILES = yaml.safe_load((ROOT / "tests" / "knowledge" / "profiles.yaml").read_text())
# Targets the floors in tests/knowledge/test_fit.py hold the code to.
TARGETS = {
    "prerequisite violations": "= 0",
    "stability under unrelated changes": "= 1.0",
    "top-five gap coverage": "= 1.0",
    "skill hit@3": ">= 0.90",
    "level fit": ">= 0.95",
}


def quality(retriever: Retriever) -> dict[str, float]:
    from tests.knowledge.quality import measure

    measured = measure(retriever)
    answered = [row for row in QUERIES if not row.get("missing")]
    ndcg = 0.0
    for row in answered:
        expected = set(row["skills"])
        skills = retriever.match_skills(row["q"])
        targets = [Target(skill=s, weight=1.0 - 0.1 * i) for i, s in enumerate(skills)]
        picks = (
            retriever.recommend(targets, Constraints(), query=row["q"], limit=5) if targets else []
        )
        gains = [1.0 if expected & set(p.resource.skills) else 0.0 for p in picks]
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(5, len(gains)) or 1))
        ndcg += dcg / ideal
    return {**dict(measured.rows()), "nDCG@5": ndcg / max(1, len(answered))}


def synthetic(catalog: Catalog, size: int) -> Catalog:
    """`size` resources made by repeating the catalog with distinct ids (for latency only)."""
    base = list(catalog.resources.values())
    resources = {}
    for i in range(size):
        source = base[i % len(base)]
        copy = source.model_copy(
            update={"id": f"{source.id}-{i}", "title": f"{source.title} ({i})"}
        )
        resources[copy.id] = copy
    return Catalog(resources=resources, version=f"synthetic-{size}")


def fill_fast(index: VectorIndex, catalog: Catalog, kb: object) -> None:
    """Insert synthetic resources with cheap random vectors: latency depends on size, not on meaning."""
    from knowledge.index import resource_metadata

    rng = np.random.default_rng(7)
    items = list(catalog.resources.values())
    for start in range(0, len(items), 1000):
        batch = items[start : start + 1000]
        vectors = rng.normal(size=(len(batch), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index.resources.upsert(
            ids=[r.id for r in batch], embeddings=vectors, metadatas=[resource_metadata(r) for r in batch],
            documents=[r.title for r in batch],
        )  # fmt: skip


def latency(retriever: Retriever, repeat: int = 60) -> tuple[list[float], list[float]]:
    """Milliseconds per recommendation and per query embedding, interleaved in one loop.

    Every text is new (a numbered variant), so each recommendation embeds its query exactly
    once, as a person's question would, and no vector comes from the cache."""
    targets = [Target("docker", 1.0, 30, 70, 0.57), Target("kubernetes", 0.8, 10, 60, 0.8)]
    queries = ["deploy models with docker", "kubernetes for serving", "containers in production"]
    # Warm-up: each skill's candidate pool is embedded and cached on first use, once per process.
    retriever.recommend(targets, Constraints(budget_usd=100))
    for query in queries:
        retriever.recommend(targets, Constraints(budget_usd=100), query=query)
    topics = queries
    recommend, embed = [], []
    for i in range(repeat):
        start = time.perf_counter()
        retriever.index.embed_query(f"{topics[i % 3]}, variant {i}")
        embed.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        retriever.recommend(
            targets, Constraints(budget_usd=100), query=f"{topics[i % 3]}, case {i}"
        )
        recommend.append((time.perf_counter() - start) * 1000)
    return recommend, embed


def main() -> None:
    kb = default_knowledge()
    catalog = default_catalog()
    rows = []
    with tempfile.TemporaryDirectory() as home:
        index = make_index(IndexConfig(path=Path(home) / "chroma"))
        index.sync(catalog, kb)  # from the shipped vectors; queries answered from memory
        retriever = Retriever(kb, catalog, index)
        scores = quality(retriever)
        sizes: list[tuple[int, Retriever]] = [(len(catalog), retriever)]
        for size in (1000, 10000):
            big = synthetic(catalog, size)
            cfg = IndexConfig(path=Path(home) / f"chroma-{size}")
            big_index = VectorIndex(make_client(cfg), make_embedder(cfg))
            big_index.sync(Catalog(resources={}, version="skills-only"), kb)
            fill_fast(big_index, big, kb)
            big_index.load_memory()  # as a process with a current snapshot answers
            sizes.append((size, Retriever(kb, big, big_index)))
        for size, each in sizes:
            times, embeds = latency(each)
            limit = 1.5 * p95(embeds)
            label = f"{size:,} resources"
            record(f"query embedding (in the recommendation runs), {label}", "-",
                   statistics.median(embeds), p95(embeds), "ms")  # fmt: skip
            if size == 1000:
                record(f"recommendation latency, {label}",
                       f"p95 <= 1.5 x query embedding p95 = {limit:.1f} ms", statistics.median(times),
                       p95(times), "ms", met=p95(times) <= limit)  # fmt: skip
            else:
                record(f"recommendation latency, {label}", "-", statistics.median(times), p95(times), "ms")  # fmt: skip
            rows.append(
                [label, *summary(embeds), *summary(times), f"{p95(times) / p95(embeds):.2f}"]
            )
    for name, value in scores.items():
        record(
            f"recommendations: {name} ({len(QUERIES)} queries, {len(PROFILES)} profiles)",
            TARGETS.get(name, "-"),
            value,
            None,
            "",
        )
    print_table(
        f"Recommendation quality on {len(QUERIES)} labelled queries and {len(PROFILES)} profiles ({dt.date.today()})",
        ["measure", "value"],
        [[k, f"{v:.3f}"] for k, v in scores.items()],
    )
    print_table(
        "Recommendation latency (one query embedding + filtered search + ranking), beside the "
        f"query embedding alone, same run ({os.cpu_count()} cores)",
        [
            "resources",
            "embed median ms",
            "embed p95 ms",
            "recommend median ms",
            "recommend p95 ms",
            "p95 ratio",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
