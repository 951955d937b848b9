"""The child of the SIGKILL test: runs scripted audits through the engine on a SQLite store,
reporting each step of its work to the parent and waiting for a go-ahead, so the parent can
kill it at a chosen point however fast or slow the machine is.

Checkpoints, in the order a message passes them (each one sent as `(kind, user, position,
answered)` and answered by the parent with "go", or with SIGKILL):

- "migrate": the schema's first migration is written but not committed (first child only);
- "turn": the next scripted message is about to be handled (nothing written yet);
- "commit": the turn's transaction is written and about to COMMIT;
- "replied": the transaction is committed and the reply returned, not yet acknowledged;
- "acked": the acknowledgement line is in the file.

Imported once by a fork server (so each child starts in milliseconds). Each child continues
where the last one stopped: the next answer is chosen from what the store says was answered.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event
from sqlalchemy.engine import Engine as SQLEngine

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
Step = tuple[str, str, str, int]  # (checkpoint, user, position or "-", answers given before)


class Checkpoints:
    """Report a step to the parent and wait until it says go (or kills this process)."""

    def __init__(self, parent: Connection) -> None:
        self.parent = parent
        self.turn: Step | None = None  # the turn in progress, for its commit checkpoint
        self.migrating = False

    def reach(self, step: Step) -> None:
        self.parent.send(step)
        if self.parent.recv() != "go":
            raise RuntimeError("the parent answered something other than go")

    def on_commit(self, conn: Any) -> None:
        """SQLAlchemy's commit event: it fires after the writes, before the COMMIT."""
        if self.migrating:
            self.reach(("migrate", "-", "-", 0))
        elif self.turn is not None:
            self.reach(("commit", *self.turn[1:]))


def where(store: Store, user: str) -> tuple[bool, str | None, int]:
    """(audited, position of the active interview, answers given so far) of one user."""
    with store.user(user) as scope:
        if scope.audits():
            return True, None, 0
        flow = next((f for f in scope.active_flows() if f.flow == "interview"), None)
        return False, (flow.position if flow else None), len(flow.history) if flow else 0


def run(database: str, home: str, acks: str, parent: Connection) -> None:
    """Audit users c0, c1, ... one after another, forever; acknowledge every reply."""
    checkpoints = Checkpoints(parent)
    event.listen(SQLEngine, "commit", checkpoints.on_commit)
    settings = Settings(SKILLAUDIT_HOME=Path(home), DATABASE_URL=database)
    checkpoints.migrating = not Path(database.removeprefix("sqlite:///")).exists()
    store = Store(database)
    checkpoints.migrating = False
    engine = Engine(store, settings, KB, today=lambda: dt.date(2026, 11, 28))
    out = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for n in itertools.count():
        user = f"c{n}"
        while True:
            audited, position, answered = where(store, user)
            if audited:
                break
            message = SCRIPT[0] if position is None else SCRIPT[1 + answered]
            step = (user, position or "-", answered)
            checkpoints.reach(("turn", *step))
            checkpoints.turn = ("turn", *step)
            engine.handle_sync(user, message)
            checkpoints.turn = None
            checkpoints.reach(("replied", *step))
            # One write of a short line is atomic: the parent never sees half a line.
            os.write(out, f"{user}\t{position or '-'}\t{answered}\n".encode())
            checkpoints.reach(("acked", *step))
