"""Who is talking at this terminal, and one unit of work for the CLI's subcommands."""

from __future__ import annotations

import datetime as dt
import getpass
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.turn import Turn
    from agent.workbench import Workbench


MAX_USER_ID = 96  # an audit's profile names its person in at most 100 characters


def user_id(name: str | None) -> str:
    """`--user ana` is the terminal user cli:ana; an id with a prefix (tg:123) is used as is.

    No name means the login name; an empty or blank name is refused (it must never fall back
    to the login name: `forget --user ''` would erase someone else), and so is a name too
    long to be stored and scored.
    """
    if name is not None and not name.strip():
        raise ValueError("--user must not be empty")
    found = name.strip() if name and ":" in name else f"cli:{(name or getpass.getuser()).strip()}"
    if len(found) > MAX_USER_ID:
        raise ValueError(
            f"--user is {len(found.removeprefix('cli:')):,} characters long; use at most "
            f"{MAX_USER_ID - len('cli:')}"
        )
    return found


@contextmanager
def work(
    who: str, create: bool = True, today: dt.date | None = None, index: bool = False
) -> Iterator[Turn | None]:
    """One unit of work for one person (None for someone unknown with create=False).

    `index`: the command needs the course index, which is then loaded before the unit of
    work begins (never while it holds the store). Slow steps are announced on stderr, so
    `--json` output on stdout stays one JSON object.
    """
    from agent.wiring import build_workbench
    from bots.progress import ProgressLine

    bench = build_workbench()
    try:
        with ProgressLine() as waiting:
            bench.recommender.progress = waiting
            if index:
                _prepare(bench)
            with bench.work(who, create=create, today=today) as turn:
                yield turn
    finally:
        bench.store.dispose()


def _prepare(bench: Workbench) -> None:
    try:
        bench.recommender.prepare()
    except Exception:  # the use case that needs the index reports it in its own words
        logging.getLogger(__name__).warning("the course index could not be prepared", exc_info=True)
