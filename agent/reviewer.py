"""The optional second reviewer (SKILLAUDIT_REVIEWER, e.g. a coach): approve or return drafts.

A person's output that has all its review prompts answered goes to the reviewer before it is
final. The reviewer talks to the same engine under their own id and uses /pending,
/approve ID and /return ID COMMENT; the owner is told at their next message.
"""

from __future__ import annotations

import re

from agent.outputs import returned_prompt
from agent.reply import Choice, Reply
from agent.store import FlowSession, Output, ReviewerDesk
from agent.turn import Turn

NAMES = {"audit": "audit", "plan": "learning plan", "model": "model audit"}
PREFIX = {"audit": "a", "plan": "p", "model": "m"}
KINDS = {v: k for k, v in PREFIX.items()}


def _desk(turn: Turn) -> ReviewerDesk | None:
    reviewer = turn.settings.reviewer
    if not reviewer or reviewer != turn.scope.external_id:
        return None
    return ReviewerDesk(turn.scope.session, reviewer)


NOT_REVIEWER = "Only the configured reviewer can do that (SKILLAUDIT_REVIEWER)."


def pending(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    desk = _desk(turn)
    if desk is None:
        return Reply(text=NOT_REVIEWER)
    waiting = desk.waiting()
    if not waiting:
        return Reply(text="Nothing is waiting for your approval.")
    lines = ["Waiting for your approval:"]
    choices = []
    for kind, row, owner in waiting:
        ident = f"{PREFIX[kind]}{row.id}"
        summary = ""
        if kind == "audit":
            gaps = ", ".join(g["name"] for g in row.result["top_gaps"][:3])  # type: ignore[union-attr]
            summary = f": overall {row.overall}, top gaps {gaps}"  # type: ignore[union-attr]
        lines.append(f"- {ident}: {NAMES[kind]} of {owner}{summary}")
        choices.append(Choice(label=f"Approve {ident}", value=f"/approve {ident}"))
    lines.append("Approve with /approve ID, or send back with /return ID and your comment.")
    return Reply(text="\n".join(lines), choices=choices)


Target = tuple[str, Output, str, str]  # kind, row, owner, comment


def _target(desk: ReviewerDesk, argument: str) -> Target | None:
    match = re.match(r"^\s*([apm])(\d{1,9})\b\s*(.*)$", argument, re.IGNORECASE | re.S)
    if match is None:
        return None
    kind = KINDS[match.group(1).lower()]
    found = desk.get(kind, int(match.group(2)))
    if found is None:
        return None
    row, owner = found
    return kind, row, owner, match.group(3).strip()


def _locate(turn: Turn, argument: str, example: str) -> tuple[ReviewerDesk, Target] | Reply:
    """The reviewer's desk and the waiting output the argument names, or the reply saying why not."""
    desk = _desk(turn)
    if desk is None:
        return Reply(text=NOT_REVIEWER)
    target = _target(desk, argument)
    if target is None:
        return Reply(text=f"Give the id of a waiting output, for example {example} (see /pending).")
    return desk, target


def approve(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    found = _locate(turn, argument, "/approve a12")
    if isinstance(found, Reply):
        return found
    desk, (kind, row, owner, comment) = found
    notice = f"Your reviewer approved your {NAMES[kind]}: it is now final."
    desk.decide(row, kind, "approve", comment, notice)
    return Reply(text=f"Approved the {NAMES[kind]} of {owner}; they will be told.")


def send_back(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    found = _locate(turn, argument, "/return a12 please check SQL")
    if isinstance(found, Reply):
        return found
    desk, (kind, row, owner, comment) = found
    if not comment:
        return Reply(text="Please add a comment saying what to look at, after the id.")
    review = [*row.review, returned_prompt(turn.scope.external_id, comment)]
    notice = f'Your reviewer returned your {NAMES[kind]} with a comment: "{comment}". Type /review to answer it.'
    desk.decide(row, kind, "return", comment, notice, review)
    return Reply(text=f"Returned the {NAMES[kind]} of {owner} with your comment.")
