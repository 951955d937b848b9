"""Small entry points for command-line subcommands that are not conversations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from agent.recommend import build_retriever
from agent.wiring import load_settings
from knowledge.base import default_knowledge
from knowledge.retriever import Retriever


def build_retriever_for_cli(progress: Callable[[int, int], None] | None) -> Retriever:
    return build_retriever(load_settings(), default_knowledge(), progress)


def sync_index(progress: bool) -> dict[str, int]:
    """Sync the index with a progress bar on stderr; return counts."""
    from rich.console import Console
    from rich.progress import Progress

    from knowledge.catalog import default_catalog
    from knowledge.index import VectorIndex, make_client, make_embedder

    config = load_settings().index_config()
    index = VectorIndex(make_client(config), make_embedder(config))
    with Progress(console=Console(stderr=True), transient=True, disable=not progress) as bar:
        task = bar.add_task("Embedding changed catalog entries", total=None)
        stats = index.sync(
            default_catalog(),
            default_knowledge(),
            lambda d, t: bar.update(task, completed=d, total=t),
        )
    return {
        **index.stats(),
        "added": stats.added,
        "updated": stats.updated,
        "removed": stats.removed,
    }


def search_catalog(text: str, limit: int) -> list[dict[str, Any]]:
    retriever = build_retriever_for_cli(None)
    return [
        {"id": r.id, "title": r.title, "provider": r.provider, "url": str(r.url), "level": r.level.value,
         "hours": r.hours, "cost": "free" if r.free else f"${r.cost_usd:,.0f}", "skills": r.skills,
         "similarity": round(similarity, 4)}
        for r, similarity in retriever.search(text, limit)
    ]  # fmt: skip


def catalog_stats() -> dict[str, Any]:
    from knowledge.catalog import default_catalog

    catalog = default_catalog()
    resources = list(catalog.resources.values())
    retriever = build_retriever_for_cli(None)
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
