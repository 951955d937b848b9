"""The optional second reviewer (SKILLAUDIT_REVIEWER, e.g. a coach): approve or return drafts.

A person's output that has all its review prompts answered goes to the reviewer before it is
final. The reviewer talks to the same engine under their own id and uses /pending,
/approve ID and /return ID COMMENT; the owner is told at their next message.

```mermaid
stateDiagram-v2
    [*] --> waiting: the owner answered every prompt (SKILLAUDIT_REVIEWER is set)
    waiting --> final: /approve ID
    waiting --> draft: /return ID COMMENT (the comment becomes a new prompt)
    draft --> waiting: the owner answers it in /review
```
"""

from __future__ import annotations

from agent.reply import Choice, Reply
from agent.store import AuditRow, FlowSession
from agent.turn import Turn
from agent.usecases import review

NOT_REVIEWER = "Only the configured reviewer can do that (SKILLAUDIT_REVIEWER)."


def pending(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    try:
        waiting = review.waiting(turn)
    except review.NotReviewer:
        return Reply(text=NOT_REVIEWER)
    if not waiting:
        return Reply(text="Nothing is waiting for your approval.")
    lines = ["Waiting for your approval:"]
    choices = []
    for item in waiting:
        summary = ""
        if isinstance(item.row, AuditRow):
            gaps = ", ".join(g.name for g in item.row.audit.top_gaps[:3])
            summary = f": overall {item.row.overall}, top gaps {gaps}"
        lines.append(f"- {item.ident}: {item.kind.label} of {item.owner}{summary}")
        choices.append(Choice(label=f"Approve {item.ident}", value=f"/approve {item.ident}"))
    lines.append("Approve with /approve ID, or send back with /return ID and your comment.")
    return Reply(text="\n".join(lines), choices=choices)


def _locate(turn: Turn, argument: str, example: str) -> tuple[review.Waiting, str] | Reply:
    """The waiting output the argument names and the comment, or the reply saying why not."""
    try:
        found = review.locate(turn, argument)
    except review.NotReviewer:
        return Reply(text=NOT_REVIEWER)
    if found is None:
        return Reply(text=f"Give the id of a waiting output, for example {example} (see /pending).")
    return found


def approve(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    found = _locate(turn, argument, "/approve a12")
    if isinstance(found, Reply):
        return found
    item, comment = found
    review.approve(turn, item, comment)
    return Reply(text=f"Approved the {item.kind.label} of {item.owner}; they will be told.")


def send_back(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    found = _locate(turn, argument, "/return a12 please check SQL")
    if isinstance(found, Reply):
        return found
    item, comment = found
    if not comment:
        return Reply(text="Please add a comment saying what to look at, after the id.")
    review.send_back(turn, item, comment)
    return Reply(text=f"Returned the {item.kind.label} of {item.owner} with your comment.")
