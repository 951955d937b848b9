"""Minimise and redact what is sent to a remote model: no income figures, client names,
e-mail addresses or secrets. Scores and skill names may go; money and people may not."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MONEY = re.compile(
    r"(?:[$€£¥]\s?\d[\d,.\s]*(?:k|m)?\b|\b\d[\d,.]*\s?(?:k|m)?\s?(?:usd|eur|gbp|dollars?|euros?|pounds?)\b)",
    re.IGNORECASE,
)
SECRET = re.compile(
    r"\b(?:sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|\d{6,}:[A-Za-z0-9_-]{30,})\b"
)
# "my client Acme Corp", "customers such as Globex and Initech": the capitalised names after.
_NAME = r"[A-Z](?!\b)[\w&.'-]*"  # a capitalised word of two letters or more (not "I")
CLIENT_MENTION = re.compile(
    r"(\b(?:[Cc]lient|[Cc]ustomer)s?(?:'s)?(?:\s+(?:is|are|was|were|called|named|like|such as|including|include))?[\s:,]+)"
    rf"({_NAME}(?:(?:\s*,\s*|\s+and\s+|\s*&\s*|\s+){_NAME})*)"
)
# Profile keys whose values never leave the machine.
PRIVATE_KEYS = frozenset(
    {"income", "amount", "client", "clients", "client_names", "email", "token", "key", "link"}
)


def redact_text(text: str, names: Iterable[str] = (), mentions: bool = True) -> str:
    """Mask e-mail addresses, amounts of money, secrets and the given names (clients);
    with `mentions`, also capitalised names after "client(s)"/"customer(s)" (people's words,
    not our own texts, where "Client Management" is a skill)."""
    text = SECRET.sub("[secret]", text)
    text = EMAIL.sub("[e-mail]", text)
    text = MONEY.sub("[amount]", text)
    if mentions:
        text = CLIENT_MENTION.sub(lambda m: f"{m.group(1)}[client]", text)
    for name in sorted(
        {n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True
    ):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[client]", text, flags=re.IGNORECASE)
    return text


def minimise(data: Any, names: Iterable[str] = (), mentions: bool = True) -> Any:
    """A copy of JSON-like data without private keys and with every string redacted."""
    names = list(names)
    if isinstance(data, dict):
        return {
            k: minimise(v, names, mentions)
            for k, v in data.items()
            if k.lower() not in PRIVATE_KEYS
        }
    if isinstance(data, list):
        return [minimise(v, names, mentions) for v in data]
    if isinstance(data, str):
        return redact_text(data, names, mentions)
    return data


# What the masks above leave in a text; a tool seeing one reads the person's own message.
PLACEHOLDERS = ("[secret]", "[e-mail]", "[amount]", "[client]")


def restore(answer: str, message: str) -> str:
    """Put back, for a local parser, the amounts and client names the model saw masked.

    The n-th "[amount]" in the model's `answer` becomes the n-th amount in the person's own
    `message`; secrets and e-mail addresses are never restored.
    """
    for placeholder, found in (
        ("[amount]", [m.group(0) for m in MONEY.finditer(message)]),
        ("[client]", [m.group(2) for m in CLIENT_MENTION.finditer(message)]),
    ):
        for value in found:
            if placeholder not in answer:
                break
            answer = answer.replace(placeholder, value.strip(), 1)
    return answer
