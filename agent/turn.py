"""The context one message is handled with, passed to every flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import Settings
from agent.llm.model import LanguageModel
from agent.recommend import Recommender
from agent.store import FlowSession, UserScope
from knowledge.base import KnowledgeBase


@dataclass
class Turn:
    scope: UserScope
    kb: KnowledgeBase
    settings: Settings
    today: dt.date
    recommender: Recommender
    llm: LanguageModel | None = None  # the configured language model, if any
    # Work that must wait until the message's transaction has committed (erasing files, scrubbing).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    scrub: bool = False  # scrub the store after commit (an erasure happened)

    @property
    def user_dir(self) -> Path:
        return self.settings.user_dir(self.scope.external_id)

    @property
    def flow(self) -> FlowSession | None:
        """The flow the person is in now (the most recent active one)."""
        flows = self.scope.active_flows()
        return flows[0] if flows else None
