"""Which guided question a message asks: the model's own question, mapped to an interview id.

When the model fails on the person's answer, the guided interviewer reads that answer for
the question the person was actually answering. Only an unambiguous match counts: a model
question that matches no open question, or several, is asked afresh instead.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from agent.interview import applies, questions, rated_skills
from agent.store import FlowSession
from knowledge.base import KnowledgeBase
from prompts.loader import load_data

CUES_FILE = "llm/asks.yaml"
_SENTENCES = re.compile(r"(?<=[.!?:])\s+|\n+")


@cache
def cues() -> dict[str, tuple[re.Pattern[str], ...]]:
    """The cue patterns of every question id (prompts/llm/asks.yaml)."""
    raw: dict[str, list[str]] = load_data(CUES_FILE)
    return {
        qid: tuple(re.compile(p, re.IGNORECASE) for p in patterns) for qid, patterns in raw.items()
    }


def question_part(text: str) -> str:
    """The sentences of a reply that ask something: those with a question mark, else the last."""
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()]
    asking = [s for s in sentences if "?" in s]
    return " ".join(asking or sentences[-1:])


def _names(skill: str, kb: KnowledgeBase) -> list[str]:
    item = kb.skills[skill]
    return [n for n in (item.name, skill.replace("_", " "), *item.aliases) if len(n) > 2]


def asked_in(text: str, row: FlowSession | None, kb: KnowledgeBase) -> str | None:
    """The open interview question `text` asks, if exactly one matches; else None."""
    if row is None or row.status != "active" or not text.strip():
        return None
    part = question_part(text)
    answers: dict[str, Any] = row.answers
    table = cues()
    matched = []
    for q in questions():
        if q.id in answers or not applies(q, answers):
            continue
        hit = any(p.search(part) for p in table.get(q.id, ()))
        if not hit and q.kind == "ratings" and answers.get("target_role"):
            lowered = part.lower()
            named = [
                s
                for s in rated_skills(q, answers, kb)
                if any(
                    re.search(rf"(?<!\w){re.escape(n.lower())}(?!\w)", lowered)
                    for n in _names(s, kb)
                )
            ]
            hit = len(named) >= 2
        if hit:
            matched.append(q.id)
    return matched[0] if len(matched) == 1 else None
