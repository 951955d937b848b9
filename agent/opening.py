"""The first reply on a machine with no store yet, known without opening the store.

Opening the store means importing SQLAlchemy and the store's models: about a third of the
terminal chat's start-up. When the store does not exist yet, everyone is new and the answer
to "/start" is fixed (the welcome and the first question), so the chat shows it first and
opens the store while it is read; the engine then handles "/start" for real, and the chat
shows the engine's reply only if it differs (tests/agent/test_opening.py checks that it
does not).
"""

from __future__ import annotations

from agent.config import Settings
from agent.interview import question_reply, questions
from agent.render import welcome
from agent.reply import Reply
from knowledge.base import KnowledgeBase, default_knowledge


def opening(settings: Settings, kb: KnowledgeBase | None = None) -> Reply | None:
    """The engine's reply to "/start" from anyone while the store does not exist, or None
    where it cannot be known before the store opens: a DATABASE_URL (the database may hold
    the person), an existing store, a language model (its conversation opens differently)."""
    store = settings.home_store
    if store is None or store.exists() or settings.llm_enabled:
        return None
    first = questions()[0]
    knowledge = kb or default_knowledge()
    return question_reply(first, {"_force": False}, [], knowledge).prefixed(welcome(settings))
