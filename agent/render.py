"""Render chat texts from the templates in `prompts/chat/`."""

from __future__ import annotations

from typing import Any

from prompts.loader import render


def fmt(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def signed(value: float | None) -> str:
    return "?" if value is None else f"{value:+.1f}"


def render_chat(name: str, **variables: Any) -> str:
    """Render `prompts/chat/<name>` with the number helpers available."""
    return render(f"chat/{name}", fmt=fmt, signed=signed, **variables).strip()
