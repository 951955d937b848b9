"""Who is talking at this terminal, and one unit of work for the CLI's subcommands."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.turn import Turn


def user_id(name: str | None) -> str:
    """`--user ana` is the terminal user cli:ana; an id with a prefix (tg:123) is used as is.

    No name means the login name; an empty or blank name is refused (it must never fall back
    to the login name: `forget --user ''` would erase someone else).
    """
    if name is not None and not name.strip():
        raise ValueError("--user must not be empty")
    if name and ":" in name:
        return name.strip()
    return f"cli:{(name or getpass.getuser()).strip()}"


@contextmanager
def work(who: str, create: bool = True, today: dt.date | None = None) -> Iterator[Turn | None]:
    """The engine's unit of work for one person (None for someone unknown with create=False).

    Slow steps (preparing the course index) are announced on stderr, so `--json` output on
    stdout stays one JSON object.
    """
    from rich.console import Console

    from agent.wiring import build_engine
    from bots.progress import ProgressLine

    engine = build_engine()
    try:
        with ProgressLine(Console(stderr=True)) as waiting:
            engine.recommender.progress = waiting
            with engine.work(who, create=create, today=today) as turn:
                yield turn
    finally:
        engine.store.dispose()
