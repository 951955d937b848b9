"""An engine on a fresh SQLite store in a temporary SKILLAUDIT_HOME, with a fixed date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(SKILLAUDIT_HOME=tmp_path / "home", DATABASE_URL=None)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store(settings.resolved_database_url())
    yield store
    store.dispose()


@pytest.fixture
def engine(store: Store, settings: Settings, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    recommender = Recommender(settings, kb, retriever)
    return Engine(store, settings, kb, today=lambda: TODAY, recommender=recommender)
