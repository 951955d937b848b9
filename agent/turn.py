"""The context one message is handled with, passed to every flow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from agent.config import Settings
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

    @property
    def flow(self) -> FlowSession | None:
        """The flow the person is in now (the most recent active one)."""
        flows = self.scope.active_flows()
        return flows[0] if flows else None
