"""The first reply shown before the store opens: the engine's own, never shown twice, and only
where it is certain."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from agent.config import Settings
from agent.engine import Engine
from agent.opening import opening
from agent.reply import Reply
from agent.store import Store
from bots.chat import repl
from knowledge.base import KnowledgeBase


def new_home(tmp_path: Path, **extra: str) -> Settings:
    return Settings(SKILLAUDIT_HOME=tmp_path / "home", DATABASE_URL=None, **extra)


@pytest.mark.parametrize("user", ["cli:ana", "cli:someone else", "tg:1234"])
def test_it_is_the_engines_reply_to_a_new_person_on_a_new_store(
    tmp_path: Path, kb: KnowledgeBase, user: str
) -> None:
    settings = new_home(tmp_path)
    shown = opening(settings, kb)
    assert shown is not None and "automated assistant" in shown.text
    store = Store(settings.resolved_database_url())
    try:
        assert Engine(store, settings, kb).handle_sync(user, "/start") == shown
    finally:
        store.dispose()


def test_it_is_not_guessed_where_the_store_or_a_model_may_change_it(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    settings = new_home(tmp_path)
    store = Store(settings.resolved_database_url())
    store.dispose()
    assert opening(settings, kb) is None  # the store exists: the person may be known
    elsewhere = Settings(SKILLAUDIT_HOME=tmp_path / "other", DATABASE_URL="sqlite:///x.db")
    assert opening(elsewhere, kb) is None  # a configured database may hold anyone
    with_model = new_home(tmp_path / "m", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert opening(with_model, kb) is None  # the model's conversation opens differently


@pytest.fixture
def chat_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SKILLAUDIT_HOME", str(tmp_path))
    return tmp_path


def chat(lines: str, user: str = "dee") -> str:
    out = io.StringIO()
    assert repl(user, stdin=io.StringIO(lines), console=Console(file=out, width=200)) == 0
    return out.getvalue()


def test_the_chat_shows_the_first_question_once_and_records_it(chat_home: Path) -> None:
    first = chat("ml engineer\n")
    assert first.count("automated assistant") == 1 and first.count("Which role") == 1
    assert "Noted: Machine Learning Engineer" in first
    again = chat("senior\n")  # the store exists now: the engine alone answers
    assert "automated assistant" not in again and "Welcome back!" in again
    assert "Noted: Senior" in again


def test_when_the_store_says_otherwise_its_reply_is_shown(
    chat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if another process had made the store between the look and the opening.
    monkeypatch.setattr("agent.opening.opening", lambda settings: Reply(text="stale guess"))
    text = chat("ml engineer\n")
    assert "stale guess" in text and text.count("automated assistant") == 1
    assert text.index("stale guess") < text.index("automated assistant")
    assert "Noted: Machine Learning Engineer" in text
