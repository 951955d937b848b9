"""A replica for the race tests: one engine with its own store (its own connections), handling
the messages its parent sends, each one when both replicas are at the barrier (or at once).

Imported once by a fork server, so each replica starts in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.engine import Engine
from agent.store import Store
from knowledge.base import default_knowledge

KB = default_knowledge()  # loaded in the fork server, shared by every replica


def serve(url: str, home: str, barrier: Any, parent: Connection) -> None:
    """Answer (user, text, together) with the reply's text, or "CRASH ..." for any exception."""
    settings = Settings(SKILLAUDIT_HOME=Path(home), DATABASE_URL=url)
    engine = Engine(Store(url), settings, KB, today=lambda: dt.date(2026, 11, 28))
    try:
        while True:
            message = parent.recv()
            if message is None:
                return
            user, text, together = message
            if together:
                barrier.wait()
            try:
                parent.send(engine.handle_sync(user, text).text)
            except BaseException as exc:  # reported to the parent, which fails the test
                parent.send(f"CRASH {type(exc).__name__}: {exc}")
    finally:
        engine.store.dispose()
