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

from typing import Any

from agent.interview import (
    QUICK_FILE,
    choices_for,
    describe_answer,
    question,
    question_text,
    questions,
    understood,
)
from agent.outputs import plan_prompts
from agent.recommend import (
    advise,
    constraints_from,
    next_audit_of,
    targets_for_role,
    targets_for_skills,
    targets_from_audit,
)
from agent.render import render_chat
from agent.reply import Choice, Reply
from agent.store import AuditRow, FlowSession
from agent.turn import Turn
from knowledge.retriever import Constraints, Target
from tools.errors import KnowledgeError

QUICK = tuple(q.id for q in questions(QUICK_FILE))


def command(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Handle /next [topic]; mid-interview without an audit, say when it will be answered."""
    latest = turn.scope.latest_audit()
    topic = argument.strip()
    if topic:
        return _recommend_topic(turn, topic, latest)
    if latest is not None:
        targets = targets_from_audit(latest.result)
        if not targets:
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
        return _recommend(turn, targets, _constraints(turn, latest), latest, "")
    if flow is not None and flow.flow == "interview":
        return Reply(
            text="I will recommend what to learn as soon as the audit is done; it takes a few more answers."
        )
    row = turn.scope.start_flow("next_quick", QUICK[0])
    return ask(turn, row)


def for_audit(turn: Turn, audit: AuditRow) -> Reply:
    """Recommendations and plan for a just-finished audit (the end of the interview)."""
    targets = targets_from_audit(audit.result)
    if not targets:
        return Reply(text="")
    return _recommend(turn, targets, _constraints(turn, audit), audit, "")


def ask(turn: Turn, row: FlowSession) -> Reply:
    q = question(row.position or QUICK[0])
    text, _ = question_text(q, row.answers, turn.kb)
    number = QUICK.index(q.id) + 1
    return Reply(text=f"({number}/{len(QUICK)}) {text}", choices=choices_for(q, turn.kb))


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    q = question(row.position or QUICK[0])
    value, problem = understood(q, text, row.answers, turn.kb)
    if problem is not None:
        return ask(turn, row).prefixed(problem)
    row.answers[q.id] = value
    note = describe_answer(q, value, turn.kb)
    index = QUICK.index(q.id)
    if index + 1 < len(QUICK):
        row.position = QUICK[index + 1]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    turn.scope.end_flow(row, "done")
    strongest = dict.fromkeys(row.answers.get("quick_strongest") or [], 4.0)
    targets = targets_for_role(row.answers["quick_role"], strongest, turn.kb)
    hours = row.answers.get("quick_hours")
    constraints = Constraints(weekly_hours=5.0 if hours is None else float(hours))
    reply = _recommend(turn, targets, constraints, None, "")
    offer = [Choice(label="Start the full audit", value="/audit"), *reply.choices]
    return reply.prefixed(note).model_copy(update={"choices": offer})


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


def _constraints(turn: Turn, audit: AuditRow) -> Constraints:
    """The person's learning constraints, with items sized to fit before their next audit."""
    return constraints_from(audit.profile, audit.context, next_audit_of(audit.result), turn.today)


def _recommend_topic(turn: Turn, topic: str, latest: AuditRow | None) -> Reply:
    retriever = turn.recommender.retriever()
    match = retriever.understand(topic)
    skills = (
        match.skills + [s for s in match.closest if s not in match.skills][: 3 - len(match.skills)]
    )
    if not skills:
        return Reply(
            text='I could not tell which skill that is about. Try naming it, for example "docker" or "bias testing".'
        )
    prefix = ""
    if match.missing is not None:
        closest = ", ".join(turn.kb.skills[s].name for s in match.closest)
        prefix = (
            f'The skills taxonomy has no skill for "{match.missing}"; the closest are {closest}. '
            "Here is what the catalog has for them."
        )
    targets = targets_for_skills(skills, latest.result if latest else None, turn.kb)
    constraints = _constraints(turn, latest) if latest else Constraints()
    reply = _recommend(turn, targets, constraints, latest, topic)
    return reply.prefixed(prefix) if prefix else reply


def _recommend(
    turn: Turn, targets: list[Target], constraints: Constraints, latest: AuditRow | None, topic: str
) -> Reply:
    try:
        retriever = turn.recommender.retriever()
    except (KnowledgeError, OSError) as exc:
        return Reply(text=f"Recommendations are unavailable right now: {exc}")
    result = latest.result if latest else None
    advised = advise(retriever, targets, constraints, turn.today, result, query=topic or None)
    picks, plan = advised.advice.picks, advised.plan
    data: dict[str, Any] = advised.to_dict()
    next_audit = next_audit_of(result)
    review = plan_prompts(
        data["recommendations"], data["plan"], constraints.budget_usd, next_audit, turn.today
    )
    turn.scope.add_plan(
        audit_id=latest.id if latest else None,
        query=topic,
        recommendations=data["recommendations"],
        plan={**data["plan"], "uncovered": data["uncovered"]},  # gaps nothing fits, said plainly
        review=review,
    )
    text = render_chat(
        "next.j2",
        recs=picks,
        plan=plan,
        uncovered=advised.advice.uncovered,
        notes=advised.advice.notes,
        as_of=latest.as_of if latest else None,
        audit=latest is not None,
        topic=topic,
        names=[turn.kb.skills[t.skill].name for t in targets],
    )
    choices = [] if latest is not None else [Choice(label="Start the full audit", value="/audit")]
    return Reply(text=text, choices=choices, data=data, state="draft")
