"""What the engine returns for one message; front ends only render it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Choice(BaseModel):
    """A button: `label` is shown, `value` is sent back as the next message."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["file", "image"]
    path: Path
    filename: str
    mime_type: str
    caption: str = ""


class Reply(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    choices: list[Choice] = Field(default_factory=list)
    multiple: bool = Field(default=False, description="several choices may be picked at once")
    attachments: list[Attachment] = Field(default_factory=list)
    expects_text: bool = True
    state: Literal["draft", "final"] | None = None
    data: dict[str, Any] | None = Field(
        default=None, description="structured payload for scripts (--json)"
    )
    follow: Literal["", "resume", "resume_or_overview"] = Field(
        default="",
        description=(
            "for the engine, never rendered: after this text, repeat the question of the flow the "
            "person is in (resume), or that or the overview when no flow is active"
        ),
    )

    def prefixed(self, text: str) -> Reply:
        """The same reply with `text` put before its own text."""
        return self.model_copy(update={"text": f"{text}\n\n{self.text}" if self.text else text})
