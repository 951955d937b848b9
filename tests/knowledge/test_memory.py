"""The in-memory copy of the index answers like Chroma, and its snapshot spares a process
from opening Chroma only while it matches the catalog."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog, default_catalog
from knowledge.index import SNAPSHOT, IndexConfig, VectorIndex, _query, make_index
from knowledge.memory import FilterError, MemoryCollection
from knowledge.retriever import Constraints, Retriever, Target

ROOT = Path(__file__).resolve().parents[2]
FILTERS: list[dict[str, Any] | None] = [
    None,
    {"s_docker": True},
    {"$or": [{"s_docker": True}, {"s_kubernetes": True}, {"s_python": True}]},
    {"$and": [{"s_python": True}, {"language": "en"}, {"cost_usd": {"$lte": 0}}]},
    {"$and": [{"$or": [{"s_statistics": True}, {"s_pandas": True}]}, {"hours": {"$gt": 10}}]},
    {"level": {"$in": ["beginner", "advanced"]}},
    {"$and": [{"type": {"$ne": "book"}}, {"s_fairness": True}]},
    {"$and": [{"format": {"$nin": ["video", "docs"]}}, {"cost_usd": {"$gte": 50}}]},
    {"s_no_such_skill": True},
]
QUERIES = ["deploy models with docker", "statistics for data science", "fairness audit"]


def index_of(retriever: Retriever) -> VectorIndex:
    index = retriever.index
    assert index.memory is not None, "the session index answers from memory"
    return index


def _exact(
    collection: Any, vector: list[float], limit: int, where: dict[str, Any] | None
) -> list[tuple[str, float]]:
    """Every entry Chroma's filter keeps (its `get` is exact), ranked by cosine similarity."""
    kept = collection.get(where=where, include=["embeddings"])
    if not kept["ids"]:
        return []
    matrix = np.asarray(kept["embeddings"], dtype=np.float64)
    query = np.asarray(vector, dtype=np.float64)
    similarity = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    order = np.argsort(-similarity, kind="stable")[:limit]
    return [(kept["ids"][i], float(similarity[i])) for i in order]


@pytest.mark.parametrize("where", FILTERS)
def test_memory_search_is_exact_and_agrees_with_chroma(
    retriever: Retriever, where: dict[str, Any] | None
) -> None:
    """The same ids in the same order as an exact search, the same similarities, for the
    filters the ranking uses; and what Chroma answers, where its search is exact.

    Chroma's HNSW search is approximate, and its graph depends on how the insert threads
    ran: deep in a long list it can miss an entry (under load, rank 50 of 60 once differed).
    The copy in memory searches exhaustively, so it is held to the exact answer and to
    Chroma's only at the top and on the whole set.
    """
    index = index_of(retriever)
    for text in QUERIES:
        vector = index.embed_query(text)
        for limit in (1, 5, 60):
            mine = index.memory["resources"].query(vector, limit, where)  # type: ignore[index]
            exact = _exact(index.resources, vector, limit, where)
            assert [i for i, _ in mine] == [i for i, _ in exact], (text, limit, where)
            assert np.allclose([s for _, s in mine], [s for _, s in exact], atol=1e-5)
            chroma = dict(_query(index.resources, vector, limit, where))
            assert [i for i, _ in mine[:5]] == list(chroma)[:5], (text, limit, where)
            shared = [i for i, _ in mine if i in chroma]
            assert len(shared) >= 0.9 * len(mine), (text, limit, where)
            assert np.allclose(
                [dict(mine)[i] for i in shared], [chroma[i] for i in shared], atol=1e-5
            )


def test_a_filter_chroma_refuses_is_refused() -> None:
    collection = MemoryCollection.build(["a", "b"], np.eye(2), [{"n": 1}, {"n": "x"}])
    assert collection.query([1.0, 0.0], 5, {"n": {"$lte": 1}}) == [("a", 1.0)]
    for where in ({"$and": []}, {"n": {"$near": 1}}, {"$xor": [{"n": 1}]}, {"n": {"$in": 1}}):
        with pytest.raises(FilterError):
            collection.query([1.0, 0.0], 5, where)


def test_the_snapshot_opens_only_for_the_catalog_it_holds(
    retriever: Retriever, index_home: Path, kb: KnowledgeBase
) -> None:
    config = IndexConfig(path=index_home / "chroma")
    assert (index_home / "chroma" / SNAPSHOT).exists()
    reopened = make_index(config)
    assert reopened.open_current(default_catalog(), kb)
    assert reopened._client is None  # Chroma was never opened
    assert reopened.stats() == index_of(retriever).stats()
    resources = dict(default_catalog().resources)
    first = next(iter(resources))
    resources[first] = resources[first].model_copy(update={"hours": resources[first].hours + 1})
    assert not make_index(config).open_current(Catalog(resources, "changed"), kb)


def test_a_process_with_a_current_snapshot_never_imports_chroma(
    retriever: Retriever, index_home: Path
) -> None:
    """What makes `skillaudit next` quick: recommendations without loading Chroma at all."""
    probe = (
        "import sys\n"
        "from agent.config import Settings\n"
        "from agent.recommend import build_retriever\n"
        "from knowledge.base import default_knowledge\n"
        "from knowledge.retriever import Constraints, Target\n"
        "r = build_retriever(Settings(), default_knowledge())\n"
        "picks = r.recommend([Target('docker', 1.0)], Constraints(), query='docker')\n"
        "print(picks[0].resource.id, 'chromadb' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), SKILLAUDIT_HOME=str(index_home))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first, imported = done.stdout.split()
    expected = retriever.recommend([Target("docker", 1.0)], Constraints(), query="docker")
    assert (first, imported) == (expected[0].resource.id, "False")
