""" "What should I learn next?": from the latest audit, from a free-text topic, or after three
quick questions when there is no audit yet.

```mermaid
stateDiagram-v2
    [*] --> recommend: an audit exists, or the question names skills
    [*] --> quick_role: no audit and no topic
    quick_role --> quick_strongest --> quick_hours --> recommend
    recommend --> [*]: top three + dated plan (draft), full audit offered when none exists
```
"""

from __future__ import annotations

from agent.answers import OFFERED, offered_choices, understood_reading
from agent.interview import (
    QUICK_FILE,
    choices_for,
    describe_answer,
    question,
    question_text,
    questions,
)
from agent.render import render_chat
from agent.reply import Choice, Reply
from agent.store import AuditRow, FlowSession
from agent.turn import Turn
from agent.usecases.plans import (
    PlanOutcome,
    RecommendationsUnavailable,
    TopicNotUnderstood,
    plan_for_audit,
    plan_for_role,
    plan_for_topic,
)

QUICK = tuple(q.id for q in questions(QUICK_FILE))


def command(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Handle /next [topic]; mid-interview without an audit, say when it will be answered."""
    latest = turn.scope.latest_audit()
    topic = argument.strip()
    if topic:
        try:
            return render(turn, plan_for_topic(turn, topic))
        except TopicNotUnderstood:
            return Reply(
                text='I could not tell which skill that is about. Try naming it, for example "docker" or "bias testing".'
            )
        except RecommendationsUnavailable as exc:
            return unavailable(exc)
    if latest is not None:
        reply = for_audit(turn, latest)
        if not reply.text:
            return Reply(
                text=render_chat(
                    "next.j2",
                    recs=[],
                    uncovered=[],
                    notes=[],
                    plan=None,
                    as_of=latest.as_of,
                    audit=True,
                    topic="",
                )
            )
        return reply
    if flow is not None and flow.flow == "interview":
        return Reply(
            text="I will recommend what to learn as soon as the audit is done; it takes a few more answers."
        )
    row = turn.scope.start_flow("next_quick", QUICK[0])
    return ask(turn, row)


def for_audit(turn: Turn, audit: AuditRow) -> Reply:
    """Recommendations and plan for an audit (empty text when it found no gap to close)."""
    try:
        outcome = plan_for_audit(turn, audit)
    except RecommendationsUnavailable as exc:
        return unavailable(exc)
    return Reply(text="") if outcome is None else render(turn, outcome)


def ask(turn: Turn, row: FlowSession) -> Reply:
    q = question(row.position or QUICK[0])
    text, _ = question_text(q, row.answers, turn.kb)
    number = QUICK.index(q.id) + 1
    return Reply(text=f"({number}/{len(QUICK)}) {text}", choices=choices_for(q, turn.kb))


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    q = question(row.position or QUICK[0])
    offered = row.answers.get(OFFERED)
    reading, problem = understood_reading(q, text, row.answers, turn.kb, remember=True)
    if problem is not None:
        if row.answers.get(OFFERED) != offered:  # "the second one" next picks among them
            turn.scope.save_flow(row)
        again = ask(turn, row).prefixed(problem)
        narrowed = offered_choices(q, row.answers, turn.kb)
        return again.model_copy(update={"choices": narrowed}) if narrowed else again
    row.answers[q.id] = reading.value
    note = reading.note or describe_answer(q, reading.value, turn.kb)
    index = QUICK.index(q.id)
    if index + 1 < len(QUICK):
        row.position = QUICK[index + 1]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    turn.scope.end_flow(row, "done")
    try:
        outcome = plan_for_role(
            turn,
            row.answers["quick_role"],
            list(row.answers.get("quick_strongest") or []),
            row.answers.get("quick_hours"),
        )
    except RecommendationsUnavailable as exc:
        return unavailable(exc).prefixed(note)
    return render(turn, outcome).prefixed(note)  # its choices offer the full audit


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    step = row.position or QUICK[0]
    if name == "why":
        return ask(turn, row).prefixed(question(step).why)
    index = QUICK.index(step)
    if name == "skip":
        if step == "quick_role":
            return ask(turn, row).prefixed("I need the role to know what to recommend.")
        return answer_skipped(turn, row, step)
    if index == 0:
        return ask(turn, row).prefixed("This is the first question.")
    row.position = QUICK[index - 1]
    turn.scope.save_flow(row)
    return ask(turn, row).prefixed("Back one question.")


def answer_skipped(turn: Turn, row: FlowSession, step: str) -> Reply:
    row.answers[step] = None
    index = QUICK.index(step)
    if index + 1 < len(QUICK):
        row.position = QUICK[index + 1]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed("Skipped.")
    turn.scope.save_flow(row)
    return answer(turn, row, "5")


def unavailable(exc: RecommendationsUnavailable) -> Reply:
    cause = exc.__cause__ or exc
    return Reply(text=f"Recommendations are unavailable right now: {cause}")


def render(turn: Turn, outcome: PlanOutcome) -> Reply:
    """Recommendations and the draft plan as a reply (with its data for scripts)."""
    audit: AuditRow | None = outcome.audit
    advice = outcome.advised.advice
    skills = [t.skill for t in outcome.targets]
    if outcome.topic:  # a topic's header names what the picks are for, not every skill matched
        served = {r.skill for r in advice.picks}
        skills = [s for s in skills if s in served] or skills
    text = render_chat(
        "next.j2",
        recs=advice.picks,
        plan=outcome.advised.plan,
        uncovered=advice.uncovered,
        notes=advice.notes,
        as_of=audit.as_of if audit else None,
        audit=audit is not None,
        topic=outcome.topic,
        names=[turn.kb.skills[s].name for s in skills],
    )
    choices = [] if audit is not None else [Choice(label="Start the full audit", value="/audit")]
    reply = Reply(text=text, choices=choices, data=outcome.data, state="draft")
    match = outcome.advised.topic
    if match is not None and match.missing is not None:
        closest = ", ".join(turn.kb.skills[s].name for s in match.closest)
        reply = reply.prefixed(
            f'The skills taxonomy has no skill for "{match.missing}"; the closest are {closest}. '
            "Here is what the catalog has for them."
        )
    return reply
