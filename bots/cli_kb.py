"""`skillaudit next` and `skillaudit kb ...`: recommendations and the vector index."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bots.progress import ProgressLine

kb_app = typer.Typer(
    help="The learning-resource catalog and its vector index.", no_args_is_help=True
)


def _progress() -> ProgressLine:
    """Progress lines and a bar on stderr, so stdout keeps only the result."""
    from bots.progress import ProgressLine

    return ProgressLine()


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@kb_app.command("build")
def build() -> None:
    """Build the index, or bring it in line with the catalog (only changed entries are embedded)."""
    from agent.api import sync_index

    with _progress() as progress:
        stats = sync_index(progress)
    typer.echo(
        f"index ready: {stats['resources']} resources, {stats['skills']} skills "
        f"({stats['added']} added, {stats['updated']} updated, {stats['removed']} removed; "
        f"{stats['embedded']} embedded by the model, the rest from the shipped vectors)"
    )


@kb_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the catalog by meaning."""
    from agent.api import search_catalog

    with _progress() as progress:
        hits = search_catalog(text, limit, progress)
    if json_out:
        sys.stdout.write(json.dumps(hits, indent=2) + "\n")
        return
    for hit in hits:
        typer.echo(
            f"{hit['similarity']:.3f}  {hit['title']} ({hit['provider']}) [{hit['level']}, {hit['hours']:g} h, {hit['cost']}]"
        )
        typer.echo(f"       {hit['url']}")


@kb_app.command("stats")
def stats() -> None:
    """Counts of the catalog and the index, by type, level and cost."""
    from agent.api import catalog_stats

    with _progress() as progress:
        figures = catalog_stats(progress)
    for key, value in figures.items():
        typer.echo(f"{key}: {value}")
