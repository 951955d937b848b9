"""Erasure as a flow: ask once, erase everything on yes, keep everything on anything else.

```mermaid
stateDiagram-v2
    [*] --> confirm: /forget
    confirm --> [*]: yes (erased, files removed after commit)
    confirm --> [*]: no, cancel, back, skip (nothing erased)
    confirm --> confirm: unclear, why
```
"""

from __future__ import annotations

from agent.parsing import Unclear, parse_yes_no
from agent.reply import Choice, Reply
from agent.store import FlowSession
from agent.turn import Turn
from agent.usecases.records import forget

KEPT = "Nothing was erased."


def start(turn: Turn) -> Reply:
    return ask(turn, turn.scope.start_flow("forget", "confirm"))


def ask(turn: Turn, row: FlowSession) -> Reply:
    text = (
        "This erases everything stored about you: answers, audits, reviews, consents and schedule. "
        "It cannot be undone (use /export first to keep a copy). Erase everything?"
    )
    return Reply(
        text=text,
        choices=[
            Choice(label="Yes, erase everything", value="yes"),
            Choice(label="No, keep it", value="no"),
        ],
    )


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    try:
        erase = parse_yes_no(text)
    except Unclear:
        return ask(turn, row).prefixed("Please answer yes or no.")
    if not erase:
        turn.scope.end_flow(row, "cancelled")
        return Reply(text=KEPT, follow="resume_or_overview")
    erasure = forget(turn)
    erased = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in erasure.rows.items() if n)
    plural = "s" if erasure.files != 1 else ""
    return Reply(
        text=(
            f"Everything stored about you has been erased: {erased or 'no stored rows'}, your account, "
            f"and {erasure.files} generated file{plural}. If you write again, we start from scratch."
        ),
        expects_text=False,
    )


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    if name == "why":
        return ask(turn, row).prefixed(
            "You asked to erase your data; I confirm first because it cannot be undone."
        )
    turn.scope.end_flow(row, "cancelled")
    return Reply(text=KEPT, follow="resume_or_overview")
