"""An engine whose language model is the fake OpenAI-compatible server, for tests and bench/."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.engine import Engine
from agent.llm.model import CircuitBreaker, LanguageModel
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.fakes.openai_server import Call, FakeOpenAI, Say

TODAY = dt.date(2026, 11, 28)


def llm_settings(home: Path, fake: FakeOpenAI, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "SKILLAUDIT_HOME": home,
        "DATABASE_URL": None,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "SKILLAUDIT_MODEL": "fake-coach",
        # A hang guard, not a test of speed: a loaded machine may take seconds to answer.
        # Tests of a hanging model set a short timeout and a much longer hang.
        "SKILLAUDIT_LLM_TIMEOUT": 30.0,
        "SKILLAUDIT_LLM_RETRIES": 0,
    }
    values.update(extra)
    return Settings(**values)


def llm_engine(
    store: Store,
    settings: Settings,
    kb: KnowledgeBase,
    retriever: Retriever | None = None,
    breaker: CircuitBreaker | None = None,
) -> Engine:
    recommender = Recommender(settings, kb, retriever)
    llm = LanguageModel(settings, breaker)
    return Engine(store, settings, kb, today=lambda: TODAY, recommender=recommender, llm=llm)


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON payloads of the tool results in a request, unwrapped."""
    found = []
    for message in body["messages"]:
        if message.get("role") == "tool":
            text = message["content"] if isinstance(message["content"], str) else ""
            inner = re.search(r"\n(.*)\n</tool_result>", text, re.S)
            if inner:
                found.append(json.loads(inner.group(1)))
    return found


def last_is_tool_result(body: dict[str, Any]) -> bool:
    return body["messages"][-1].get("role") == "tool"


# The turns of a complete audit: what the person says, and what a good model does with it.
AUDIT_SCRIPT: list[tuple[str, list[tuple[str, dict[str, Any]]], str]] = [
    (
        "Hi! I'm a freelance ML engineer, mid-level, about 4 years in the field.",
        [
            ("record_answer", {"question_id": "target_role", "answer": "ML engineer"}),
            ("record_answer", {"question_id": "career_stage", "answer": "mid"}),
            ("record_answer", {"question_id": "years_experience", "answer": "4"}),
        ],
        "Thanks! How would you rate yourself from 1 to 5 in Python, classical ML, deep learning, pandas, software engineering, PyTorch, model evaluation and scikit-learn?",
    ),
    (
        "Python 4, classical ML 3, deep learning 3, pandas 4, software engineering 3, PyTorch 2, model evaluation 3, scikit-learn 4",
        [
            ("record_answer", {"question_id": "technical_ratings", "answer": "python 4, classical ml 3, deep learning 3, pandas 4, software engineering 3, pytorch 2, model evaluation 3, scikit-learn 4"}),
        ],
        "Good spread. What about deployment: have you run models in production?",
    ),
    (
        "Yes, I have run Kubernetes in production for two years at my last contract; I'd say 4 out of 5.",
        [
            ("record_skill", {"skill": "Kubernetes", "rating": 4, "evidence": "two years of Kubernetes in production at a contract"}),
        ],
        "That is solid evidence. How many clients did you work for in the last year?",
    ),
    (
        "Three clients, and I do about 5 hours of learning a week.",
        [
            ("record_answer", {"question_id": "clients", "answer": "3"}),
            ("record_answer", {"question_id": "weekly_learning_hours", "answer": "5"}),
        ],
        "Noted. Shall I score the audit with what we have?",
    ),
    ("Yes please, score it.", [("run_audit", {})], ""),
]  # fmt: skip


def coach(
    script: list[tuple[str, list[tuple[str, dict[str, Any]]], str]], reply_with_calls: bool = False
) -> Any:
    """A responder that plays a good model for `script`: for the person's n-th message it
    calls that turn's tools, then says that turn's text; after run_audit it explains the
    overall score using the number the tool returned. With `reply_with_calls` it also writes
    the turn's text alongside the calls, as the prompt asks."""

    def respond(body: dict[str, Any]) -> Any:
        said = [
            m["content"] for m in body["messages"] if m.get("role") == "user"
        ]  # bounded history: find the turn by the last message's text
        last_user = said[-1]
        turn = next((i for i, (text, _, _) in enumerate(script) if _same(text, last_user)), None)
        if turn is None:
            return Say("Could you tell me a bit more?")
        _, calls, reply = script[turn]
        if not last_is_tool_result(body):
            if not calls:
                return Say(reply)
            return Call(calls, content=reply if reply_with_calls else "")
        results = tool_results(body)
        audit = next((r for r in results if "overall" in r), None)
        if audit is not None:
            overall = audit["overall"]["score"]
            return Say(
                f"Your overall score is {overall} out of 100. Please review the draft before it is final."
            )
        return Say(reply)

    return respond


def _same(script_text: str, sent: str) -> bool:
    return script_text[:40] == sent[:40]
