"""The child of the SIGKILL test: runs scripted audits through the engine on a SQLite store
and appends one acknowledgement line to a file after each reply has returned.

Imported once by a fork server (so each child starts in milliseconds), then killed at a
random moment by `test_durability.py`. Each child continues where the last one stopped: the
next scripted answer is chosen from what the store says has been answered.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path

import yaml

from agent.config import Settings
from agent.engine import Engine
from agent.interview import questions
from agent.store import Store
from knowledge.base import default_knowledge

SCRIPT = [
    s["say"]
    for s in yaml.safe_load(
        (Path(__file__).parent / "transcripts" / "full_audit.yaml").read_text()
    )["steps"]
]
KB = default_knowledge()  # loaded in the fork server, shared by every child
questions()


def where(store: Store, user: str) -> tuple[bool, str | None, int]:
    """(audited, position of the active interview, answers given so far) of one user."""
    with store.user(user) as scope:
        if scope.audits():
            return True, None, 0
        flow = next((f for f in scope.active_flows() if f.flow == "interview"), None)
        return False, (flow.position if flow else None), len(flow.history) if flow else 0


def run(database: str, home: str, acks: str) -> None:
    """Audit users c0, c1, ... one after another, forever; acknowledge every reply."""
    settings = Settings(SKILLAUDIT_HOME=Path(home), DATABASE_URL=database)
    store = Store(database)
    engine = Engine(store, settings, KB, today=lambda: dt.date(2026, 11, 28))
    out = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for n in itertools.count():
        user = f"c{n}"
        while True:
            audited, position, answered = where(store, user)
            if audited:
                break
            message = SCRIPT[0] if position is None else SCRIPT[1 + answered]
            engine.handle_sync(user, message)
            # One write of a short line is atomic: the parent never sees half a line.
            os.write(out, f"{user}\t{position or '-'}\t{answered}\n".encode())
