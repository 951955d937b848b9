"""Render chat texts from the templates in `prompts/chat/`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prompts.loader import render
from tools.numbers import rank

if TYPE_CHECKING:
    from agent.config import Settings


def fmt(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def signed(value: float | None) -> str:
    return "?" if value is None else f"{value:+.1f}"


def render_chat(name: str, **variables: Any) -> str:
    """Render `prompts/chat/<name>` with the number helpers available."""
    return render(f"chat/{name}", fmt=fmt, signed=signed, rank=rank, **variables).strip()


def welcome(settings: Settings, model: str = "", remote: bool = False) -> str:
    """The first words to a new person: what this is, where their data goes, how to steer.

    `model` describes the language model when one is configured (agent.llm.conversation).
    """
    storage = settings.describe_storage(remote=remote)
    return render_chat("welcome.j2", storage=storage, model=model, remote=remote)
