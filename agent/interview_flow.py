"""The interview as a flow of the engine: ask, parse, save, move on, and finish with the audit.

The questions and their order are in prompts/interview/questions.yaml (the state diagram of
the questions is in agent/interview.py); this module is the loop around them:

```mermaid
stateDiagram-v2
    [*] --> ask: /audit (unless the last full audit is too recent)
    ask --> ask: unclear answer (asked again, nothing recorded)
    ask --> item: a list partly understood (kept; one item asked about)
    item --> ask: the item answered or left out
    ask --> ask: answer recorded, next open question
    ask --> finish: no open question left
    finish --> ask: refused (every answer kept; "back" to change one)
    finish --> [*]: audit stored as a draft, recommendations and plan shown
```
"""

from __future__ import annotations

import logging
from typing import Any

from agent.answers import OFFERED, PENDING, leave_rest_out, read, remember_offer
from agent.answers import record as apply_reading
from agent.interview import (
    RATING_SCALE,
    REQUIRED,
    Question,
    describe_answer,
    question,
    question_reply,
    question_text,
    questions,
    record,
)
from agent.render import render_chat
from agent.reply import Choice, Reply
from agent.sources import SOURCES
from agent.store import FlowSession
from agent.turn import Turn
from agent.usecases.audits import AuditOutcome, audit_answers
from agent.usecases.evidence import replace_consents
from tools.errors import SkillAuditError
from tools.params import DEFAULT_PARAMS

log = logging.getLogger(__name__)


def start(turn: Turn, force: bool) -> Reply:
    """Begin a new interview, unless the last full audit is too recent (the fatigue guard)."""
    latest = turn.scope.latest_audit()
    if latest is not None and not force:
        days = (turn.today - latest.as_of).days
        if days < DEFAULT_PARAMS.fatigue_days:
            text = (
                f"Your last full audit was {days} days ago ({latest.as_of}). Skills rarely change that fast, "
                'so a new full audit would mostly measure noise. Say "/audit force" to run one anyway, '
                "/review to refine the last one, or /model to audit a model."
            )
            return Reply(
                text=text,
                choices=[
                    Choice(label="Run it anyway", value="/audit force"),
                    Choice(label="Review the last audit", value="/review"),
                ],
            )
    first = questions()[0]
    row = turn.scope.start_flow("interview", first.id, answers={"_force": force})
    return ask(turn, row)


def ask(turn: Turn, row: FlowSession) -> Reply:
    """The current question, numbered, with its choices."""
    q = question(row.position or questions()[0].id)
    granted = (
        sorted(k for k, v in turn.scope.consents().items() if v) if q.id == "consents" else None
    )
    return question_reply(q, row.answers, row.history, turn.kb, granted)


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    q = question(row.position or questions()[0].id)
    reading = read(q, text, row.answers, turn.kb)
    if reading.keep is not None:
        # Part understood: keep it and ask only about the rest, one item at a time.
        apply_reading(row.answers, q, reading)
        turn.scope.save_flow(row)
        return Reply(text=reading.ask or "", choices=list(reading.choices))
    if not reading.complete:
        if remember_offer(row.answers, q, reading):
            turn.scope.save_flow(row)
        reply = ask(turn, row).prefixed(reading.ask or "")
        return (
            reply.model_copy(update={"choices": list(reading.choices)})
            if reading.choices
            else reply
        )
    apply_reading(row.answers, q, reading)
    return _advance(turn, row, q, reading.value, reading.note)


def _advance(turn: Turn, row: FlowSession, q: Question, value: Any, note: str) -> Reply:
    row.answers.pop(PENDING, None)
    row.answers.pop(OFFERED, None)
    following = record(row.answers, row.history, q, value)
    if q.id == "consents":
        withdrawn = [
            SOURCES[change.source].label for change in replace_consents(turn.scope, value or [])
        ]
        if withdrawn:
            note += f" Consent withdrawn for {', '.join(withdrawn)}; what came from it is deleted."
        usages = [SOURCES[s].usage_for(turn.asker) for s in value or [] if s in SOURCES]
        if usages:  # how to connect what was allowed, not an example of something else
            note += (
                f" Connect {'it' if len(usages) == 1 else 'them'} any time: {'; '.join(usages)}."
            )
    if following is None:
        turn.scope.save_flow(row)
        return finish(turn, row).prefixed(note)
    row.position = following.id
    turn.scope.save_flow(row)
    return ask(turn, row).prefixed(note)


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    """back, skip and why inside the interview."""
    q = question(row.position or questions()[0].id)
    if name == "why":
        return ask(turn, row).prefixed(q.why)
    if name == "explain":
        _, hint = question_text(q, row.answers, turn.kb)
        scale = f"The scale: {', '.join(RATING_SCALE)}. " if q.kind == "ratings" else ""
        return ask(turn, row).prefixed(f"{scale}{hint} {q.why}".strip())
    if name == "skip":
        if q.id in REQUIRED:
            return ask(turn, row).prefixed(
                "This one cannot be skipped: every score is measured against the role."
            )
        kept = leave_rest_out(q, row.answers, turn.kb)  # what was understood before the item
        if kept is not None:
            apply_reading(row.answers, q, kept)
            return _advance(turn, row, q, kept.value, kept.note)
        return _advance(turn, row, q, None, "Skipped.")
    if not row.history:
        return ask(turn, row).prefixed("This is the first question; there is nothing before it.")
    row.answers.pop(PENDING, None)
    row.answers.pop(OFFERED, None)
    previous = question(row.history.pop())
    row.position = previous.id
    turn.scope.save_flow(row)
    earlier = describe_answer(previous, row.answers.get(previous.id), turn.kb).removeprefix(
        "Noted: "
    )
    return ask(turn, row).prefixed(f"Back one question (you had answered: {earlier})")


def finish(turn: Turn, row: FlowSession) -> Reply:
    """Score the answers, store the audit as a draft with its review prompts, and show it."""
    try:
        outcome = audit_answers(turn, row.answers, force=bool(row.answers.get("_force")))
    except SkillAuditError as exc:
        # Keep the interview (and every answer) so the person can fix what was refused.
        log.warning("audit refused: %s", type(exc).__name__)
        return ask(turn, row).prefixed(
            f'I could not score this audit yet: {exc}. Type "back" to change an answer.'
        )
    turn.scope.end_flow(row, "done")
    return finished(turn, outcome)


def finished(turn: Turn, outcome: AuditOutcome) -> Reply:
    """The summary of a stored audit, with its first recommendations and plan."""
    from agent import check_flow, next_flow

    learn = next_flow.for_audit(turn, outcome.row)
    report = outcome.report
    text = render_chat("audit_summary.j2", r=report.result, review=report.review, learn=learn.text)
    choices = [
        Choice(label="Review now", value="/review"),
        Choice(label="What should I learn next?", value="/next"),
        Choice(label="Full report", value="/report"),
    ]
    checks = check_flow.offer(turn)  # the skills the audit rests on least, to check now
    if checks is not None:
        text += "\n\n" + checks.text
        choices.append(checks.choices[0])
    return Reply(text=text, choices=choices, state=report.state, data=learn.data)
