"""The language-model interviewer against a fake OpenAI-compatible server, through the real
`langchain-openai` client: a full audit through tool calls, bounded history, grounding,
failures answered by the guided interviewer, switching modes, caps and privacy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import Settings
from agent.engine import Engine
from agent.llm.tools import ALLOWED
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent.llm_setup import AUDIT_SCRIPT, coach, llm_engine, llm_settings
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeOpenAI) -> Settings:
    return llm_settings(tmp_path / "home", fake)


@pytest.fixture
def engine(store: Store, settings: Settings, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    return llm_engine(store, settings, kb, retriever)


def test_a_full_audit_through_tool_calls(engine: Engine, fake: FakeOpenAI, store: Store) -> None:
    fake.responder = coach(AUDIT_SCRIPT)
    replies = [engine.handle_sync("ana", text) for text, _, _ in AUDIT_SCRIPT]
    first, last = replies[0], replies[-1]
    assert "automated assistant" in first.text and "fake-coach at 127.0.0.1" in first.text
    assert "How would you rate yourself" in first.text
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "draft"
        overall = audit.result["overall"]["score"]
        assert audit.profile["target_role"] == "ml_engineer"
        assert audit.profile["self_ratings"]["python"] == 4
        stated = [e for e in audit.profile["evidence"] if e["skill"] == "kubernetes"]
        assert stated and "two years of Kubernetes" in stated[0]["detail"]
        assert scope.active_flows() == []
        assert scope.llm_tokens(audit.as_of) > 0
    assert f"Your overall score is {overall} out of 100" in last.text
    assert any(c.value == "/review" for c in last.choices) and last.state == "draft"
    # Every request offered exactly the session's tools, no more.
    offered = {t["function"]["name"] for t in fake.chat_requests[0].body["tools"]}
    assert offered == set(ALLOWED)
