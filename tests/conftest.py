"""Shared fixtures: the bundled knowledge base and a profile factory."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from typing import Any

import pytest

from knowledge.base import KnowledgeBase, default_knowledge
from tools.profile import Profile, validate_profile

AS_OF = dt.date(2026, 11, 28)


def pytest_configure(config: pytest.Config) -> None:
    """Keep every test away from the developer's own data directory and database."""
    home = tempfile.mkdtemp(prefix="skillaudit-test-home-")
    os.environ["SKILLAUDIT_HOME"] = home
    os.environ.pop("DATABASE_URL", None)


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
