"""Any text at any point of any flow gets a non-empty reply and never a crash."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import default_knowledge
from knowledge.retriever import Retriever


def make_engine(store: Store, config: Settings, retriever: Retriever) -> Engine:
    kb = default_knowledge()
    recommender = Recommender(config, kb, retriever)
    return Engine(store, config, kb, today=lambda: dt.date(2026, 11, 28), recommender=recommender)


MESSAGES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "/start",
            "/audit",
            "/audit force",
            "/next",
            "/progress",
            "/report",
            "/review",
            "/model",
            "/schedule",
            "/export",
            "/forget",
            "/cancel",
            "back",
            "skip",
            "why?",
            "help",
            "yes",
            "no",
            "none",
            "all 3",
            "ml engineer",
            "3",
            "4 3 2 3 4 3 2 1",
            "'; DROP TABLE users; --",
            "$(rm -rf /)",
            "<b>bold</b>",
            "\x00\x1b[31m",
            "🙂" * 50,
            "confirm",
            "adjust",
            "3 because reasons",
            "binary classification",
            "f1 0.5, accuracy 0.9",
        ]
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(messages=st.lists(MESSAGES, min_size=1, max_size=25))
def test_random_conversations_never_crash(retriever: Retriever, messages: list[str]) -> None:
    with tempfile.TemporaryDirectory() as home:
        config = Settings(SKILLAUDIT_HOME=Path(home), DATABASE_URL=None)
        store = Store(config.resolved_database_url())
        engine = make_engine(store, config, retriever)
        try:
            for message in messages:
                reply = engine.handle_sync("fuzz", message)
                assert reply.text.strip()
        finally:
            store.dispose()


def test_oversized_and_empty_messages(tmp_path: Path, retriever: Retriever) -> None:
    config = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(config.resolved_database_url())
    engine = make_engine(store, config, retriever)
    engine.handle_sync("big", "hi")
    reply = engine.handle_sync("big", "x" * 100_000)
    assert "too long" in reply.text and "Which role" in reply.text
    reply = engine.handle_sync("big", "   \x00  ")
    assert "did not catch" in reply.text and "Which role" in reply.text
    store.dispose()


HOSTILE = [
    "",
    "??!!",
    "<script>alert(1)</script>",
    "'; DROP TABLE audits; --",
    "\u202e\u0000",
    "9" * 400,
    "🙂🙂🙂",
]


def test_hostile_input_at_every_interview_state(tmp_path: Path, retriever: Retriever) -> None:
    """Before each real answer of a full audit, hostile text never crashes or moves the interview."""
    import yaml

    config = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(config.resolved_database_url())
    engine = make_engine(store, config, retriever)
    script = yaml.safe_load((Path(__file__).parent / "transcripts" / "full_audit.yaml").read_text())
    engine.handle_sync("h", script["steps"][0]["say"])
    for step in script["steps"][1:]:
        with store.user("h") as scope:
            position = scope.active_flows()[0].position
        for text in HOSTILE:
            reply = engine.handle_sync("h", text)
            assert reply.text.strip()
            with store.user("h") as scope:
                assert scope.active_flows()[0].position == position, (position, text)
        engine.handle_sync("h", step["say"])
    engine.handle_sync("h", "/review")
    for text in HOSTILE:
        assert engine.handle_sync("h", text).text.strip()
    with store.user("h") as scope:
        assert len(scope.audits()) == 1 and scope.active_flows()[0].flow == "review"
    store.dispose()
