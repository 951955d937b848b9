"""Render review findings into the questions a person answers before a result is final."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from prompts.loader import PromptError, load_data, render_string
from tools.results import ReviewFinding

REVIEW_OPTIONS = ("confirm", "adjust", "why")


class PromptStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    ADJUSTED = "adjusted"


class ReviewPrompt(BaseModel):
    """One question of the review gate; `status` is open until the person answers it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    skills: list[str]
    question: str
    why: str
    facts: dict[str, Any]
    options: list[str]
    status: PromptStatus = PromptStatus.OPEN
    subject: str = ""  # what it is about, in a few words, for the report's review section

    @property
    def open(self) -> bool:
        return self.status == PromptStatus.OPEN


def render_prompts(
    findings: list[ReviewFinding],
    texts_file: str = "review/audit.yaml",
    fallback: str | None = None,
) -> list[ReviewPrompt]:
    """Turn findings into prompts using the texts in `prompts/review/` (`fallback` for other kinds)."""
    texts = dict(load_data(fallback)) if fallback else {}
    texts.update(load_data(texts_file))
    prompts = []
    for finding in findings:
        text = texts.get(finding.kind)
        if text is None:
            raise PromptError(f"{texts_file}: no text for review kind {finding.kind!r}")
        prompts.append(
            ReviewPrompt(
                id=finding.id,
                kind=finding.kind,
                skills=finding.skills,
                question=render_string(text["question"], **finding.facts),
                why=render_string(text["why"], **finding.facts),
                facts=finding.facts,
                options=list(REVIEW_OPTIONS),
                subject=render_string(text.get("subject", ""), **finding.facts),
            )
        )
    return prompts


def merge_prompts(answered: list[ReviewPrompt], fresh: list[ReviewPrompt]) -> list[ReviewPrompt]:
    """The prompts of an output judged again: answered ones stay as they were answered (an
    answer is never lost, even when the new result would no longer raise its prompt), open
    ones take their new wording or go, and new ones are added at the end."""
    by_id = {p.id: p.model_copy(update={"status": PromptStatus.OPEN}) for p in fresh}
    merged = [p if not p.open else by_id[p.id] for p in answered if not p.open or p.id in by_id]
    known = {p.id for p in merged}
    return merged + [p for pid, p in by_id.items() if pid not in known]
