"""Small entry points for command-line subcommands that are not conversations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from agent.recommend import build_retriever
from agent.wiring import load_settings
from knowledge.base import default_knowledge
from knowledge.index import Progress
from knowledge.retriever import Retriever


def build_retriever_for_cli(progress: Progress | None) -> Retriever:
    return build_retriever(load_settings(), default_knowledge(), progress)


def sync_index(progress: Progress | None = None) -> dict[str, int]:
    """Bring the index in line with the catalog, reporting each step; return counts."""
    from knowledge.catalog import default_catalog
    from knowledge.index import make_index

    config = load_settings().index_config()
    if progress is not None:
        progress("Opening the course index", 0, 0)
    index = make_index(config)
    stats = index.sync(default_catalog(), default_knowledge(), progress)
    return {
        **index.stats(),
        "added": stats.added,
        "updated": stats.updated,
        "removed": stats.removed,
        "embedded": stats.embedded,
    }


def search_catalog(text: str, limit: int, progress: Progress | None = None) -> list[dict[str, Any]]:
    retriever = build_retriever_for_cli(progress)
    return [
        {"id": r.id, "title": r.title, "provider": r.provider, "url": str(r.url), "level": r.level.value,
         "hours": r.hours, "cost": "free" if r.free else f"${r.cost_usd:,.0f}", "skills": r.skills,
         "similarity": round(similarity, 4)}
        for r, similarity in retriever.search(text, limit)
    ]  # fmt: skip


def catalog_stats(progress: Progress | None = None) -> dict[str, Any]:
    from knowledge.catalog import default_catalog

    catalog = default_catalog()
    resources = list(catalog.resources.values())
    retriever = build_retriever_for_cli(progress)
    return {
        "resources": len(resources),
        "free": sum(r.free for r in resources),
        "types": dict(sorted(Counter(r.type.value for r in resources).items())),
        "levels": dict(sorted(Counter(r.level.value for r in resources).items())),
        "skills covered": len({s for r in resources for s in r.skills}),
        "catalog version": catalog.version,
        "index": retriever.index.stats(),
        "index location": str(load_settings().index_config().path),
    }
