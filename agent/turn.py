"""One unit of work for one person: their scope in the store and what use cases need.

A chat message, a CLI subcommand and a model's tool call each get one `Turn` from
`Workbench.work` (the engine is a workbench); use cases and flows take it as their first
argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.recommend import Recommender
from agent.sources import Asker
from agent.store import ErasedPerson, FlowSession, ScrubReport, UserScope
from knowledge.base import KnowledgeBase


@dataclass
class Turn:
    scope: UserScope
    kb: KnowledgeBase
    settings: Settings
    today: dt.date
    recommender: Recommender
    # The configured agent.llm.model.LanguageModel, if any. Typed loosely on purpose: the
    # model's tools take a Turn, so naming the class here would make agent/ import itself in
    # a circle (and LangChain resolves these annotations at run time).
    llm: Any = None
    # Work that must wait until the message's transaction has committed (erasing files, scrubbing).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    scrub: bool = False  # scrub the store after commit (an erasure happened)
    erased: ErasedPerson | None = None  # what the scrub checks for (set with `scrub`)
    scrubbed: ScrubReport | None = None  # what the scrub did and found (set after commit)
    # Who is asking: the person at their own terminal, or a remote person (agent/sources.py),
    # which decides what connectors may read and whether replies may show server paths.
    asker: Asker = Asker.LOCAL

    @property
    def remote(self) -> bool:
        return self.asker is Asker.REMOTE

    @property
    def user_dir(self) -> Path:
        return self.settings.user_dir(self.scope.external_id)

    @property
    def uploads(self) -> Path:
        """Files a remote person sent, kept in their own folder (erased with it)."""
        return self.user_dir / "uploads"

    @property
    def flow(self) -> FlowSession | None:
        """The flow the person is in now (the most recent active one)."""
        flows = self.scope.active_flows()
        return flows[0] if flows else None
