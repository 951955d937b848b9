"""Any text at any point of any flow gets a non-empty reply and never a crash."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.engine import MAX_MESSAGE_CHARS, Engine
from agent.interview import QUICK_FILE, questions
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import KnowledgeBase, default_knowledge
from knowledge.retriever import Retriever
from tests.agent.fuzzing import (
    MESSAGES as HOSTILE_TEXT,
)
from tests.agent.fuzzing import (
    QUESTION_FLOWS,
    TODAY,
    Parked,
    build_states,
    copy_of,
    every_question_id,
    snapshot,
)


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


@pytest.fixture(scope="module")
def parked(
    tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase, retriever: Retriever
) -> Parked:
    """One template database with a user parked at every state of every flow."""
    return build_states(tmp_path_factory.mktemp("states"), kb, retriever)


def test_the_states_cover_every_question_and_flow(parked: Parked) -> None:
    positions = {s.position for s in parked.states.values() if s.flow in QUESTION_FLOWS}
    assert positions == every_question_id()
    flows = {s.flow for s in parked.states.values()}
    assert flows == {None, "interview", "review", "model", "forget", "next_quick"}
    assert set(STATE_NAMES) == set(parked.states)


MODEL_STEPS = ["model_task", "model_metrics", "model_positive_rate", "model_personal_data",
               "model_legal_basis"]  # fmt: skip
STATE_NAMES = [
    "new", "idle", "review:choose", "review:adjust", "forget:confirm",
    *(f"interview:{q.id}" for q in questions()),
    *(f"model:{step}" for step in MODEL_STEPS),
    *(f"next_quick:{q.id}" for q in questions(QUICK_FILE)),
]  # fmt: skip


@pytest.mark.parametrize("name", STATE_NAMES)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(text=HOSTILE_TEXT)
def test_hostile_text_at_every_state(parked: Parked, tmp_path: Path, name: str, text: str) -> None:
    """Random and adversarial text at each state: a reply, valid stored answers, nothing long stored."""
    parked.send(parked.states[name], text, tmp_path)


def test_hostile_text_does_not_move_the_interview(parked: Parked, tmp_path: Path) -> None:
    """Text that is no answer at all leaves every question where it was and stores nothing."""
    hostile = ["??!!", "<script>alert(1)</script>", "'; DROP TABLE audits; --", "\u202e\u0000",
               "9" * 400, "🙂🙂🙂", "\ud800", "$(rm -rf /)", "x" * (MAX_MESSAGE_CHARS + 1)]  # fmt: skip
    for state in parked.states.values():
        if state.flow != "interview":
            continue
        for text in hostile:
            with copy_of(state.template, tmp_path) as store:
                before = snapshot(store)
                engine = Engine(store, parked.settings, parked.kb, today=lambda: TODAY,
                                recommender=Recommender(parked.settings, parked.kb, parked.retriever))  # fmt: skip
                reply = engine.handle_sync(state.user, text)
                assert reply.text.strip()
                assert snapshot(store)["sessions"] == before["sessions"], (state.name, text)


def test_a_valid_answer_padded_to_the_limit_is_read(parked: Parked, tmp_path: Path) -> None:
    state = parked.states["interview:clients"]
    exact = "3" + " " * (MAX_MESSAGE_CHARS - 1)
    assert "Noted: 3 clients" in parked.send(state, exact, tmp_path).text
    reply = parked.send(state, exact + " ", tmp_path)
    assert "too long" in reply.text and "How many clients" in reply.text
