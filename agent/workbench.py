"""Units of work over the store: what use cases need, without the conversation.

A `Workbench` opens one `Turn` per person, in order and in one transaction. The CLI's
subcommands (`next`, `history`, `consent`, ...) call use cases on it directly; the
conversation `Engine` (agent/engine.py) is a workbench that also routes messages to the
flows. Keeping the two apart means a subcommand never imports the flows, the interviewer or
the language model it does not use (issue 20: `next --json` start-up).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from agent.config import Settings
from agent.recommend import Recommender
from agent.sources import Asker
from agent.store import ScrubReport, Store, UserScope, local_date, utcnow
from agent.turn import Turn
from knowledge.base import KnowledgeBase, default_knowledge

log = logging.getLogger(__name__)


class Workbench:
    """One person's turns, serialised; any number of people at once."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        kb: KnowledgeBase | None = None,
        today: Callable[[], dt.date] | None = None,
        recommender: Recommender | None = None,
        llm: Any = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.kb = kb or default_knowledge()
        self.today = today  # None: each person's own calendar day (see `_today`)
        self.recommender = recommender or Recommender(settings, self.kb)
        # The language model a turn hands to the flows (agent.llm.model.LanguageModel).
        self.llm = llm if llm is not None else self._configured_llm(settings)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _configured_llm(self, settings: Settings) -> Any:
        """The language model the settings configure for this front end's turns: none for
        use cases (the Engine, which talks, builds one)."""
        return None

    @contextmanager
    def work(
        self,
        user: str,
        create: bool = True,
        today: dt.date | None = None,
        asker: Asker = Asker.LOCAL,
    ) -> Iterator[Turn | None]:
        """One unit of work for one person: their turn, in order and in one transaction.

        With `create=False` an unknown person yields None and nothing is stored. One
        person's turns are serialised by a lock in this process and, across processes, by
        the store (SQLite's write lock, a PostgreSQL advisory lock on the person).
        """
        with self._lock(user):
            turn: Turn | None = None
            opened = self.store.user(user) if create else self.store.known_user(user)
            with opened as scope:
                if scope is not None:
                    turn = Turn(
                        scope=scope,
                        kb=self.kb,
                        settings=self.settings,
                        today=today or self._today(scope),
                        recommender=self.recommender,
                        llm=self.llm,
                        asker=asker,
                    )
                yield turn
            # The transaction has committed: now it is safe to remove files, draw charts and
            # scrub the store.
            if turn is not None:
                for task in turn.after_commit:
                    task()
                if turn.scrub:
                    turn.scrubbed = self._scrub(turn)
        self.store.finish_pending_scrub()

    def _today(self, scope: UserScope) -> dt.date:
        """The day it is for this person: in the time zone they gave for reminders
        (/schedule), else this machine's. A remote person may live a day ahead of the server:
        "due in 3 days" and an audit's date are theirs."""
        if self.today is not None:
            return self.today()
        zone = scope.user.time_zone
        return local_date(utcnow(), zone) if zone else dt.date.today()

    def _scrub(self, turn: Turn) -> ScrubReport:
        """Scrub and check the store after an erasure; a failure is said, never hidden."""
        try:
            return self.store.scrub(turn.erased)
        except Exception as exc:
            log.warning("erasure: scrubbing the store failed", exc_info=True)
            return ScrubReport(self.store.dialect, error=type(exc).__name__)

    def _lock(self, user: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(user, threading.Lock())
