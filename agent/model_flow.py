"""Audit one model's metrics against similar projects (task, metrics, class balance).

```mermaid
stateDiagram-v2
    [*] --> model_task: /model
    model_task --> model_metrics --> model_positive_rate --> model_personal_data
    model_personal_data --> model_legal_basis: yes
    model_personal_data --> verdict: no
    model_legal_basis --> verdict
    model_metrics --> model_metrics: metrics that do not fit the task
    verdict --> [*]: stored as a draft with review prompts, then back to where the person was
```
"""

from __future__ import annotations

from typing import Any

from agent.answers import OFFERED, apply_side_answers, offered_choices, understood_reading
from agent.interview import (
    applies,
    choices_for,
    describe_answer,
    model_report,
    question,
    question_text,
)
from agent.reply import Reply
from agent.store import FlowSession
from agent.turn import Turn
from agent.usecases.models import audit_one_model
from tools.errors import SkillAuditError
from tools.numbers import metric_shown

STEPS = (
    "model_task",
    "model_metrics",
    "model_positive_rate",
    "model_personal_data",
    "model_legal_basis",
)


def start(turn: Turn) -> Reply:
    for other in turn.scope.active_flows():
        if other.flow == "model":
            turn.scope.end_flow(other, "cancelled")
    row = turn.scope.start_flow("model", STEPS[0])
    return ask(turn, row).prefixed("Let's audit a model against similar projects.")


def ask(turn: Turn, row: FlowSession) -> Reply:
    q = question(row.position or STEPS[0])
    text, _ = question_text(q, row.answers, turn.kb)
    return Reply(text=text, choices=choices_for(q, turn.kb))


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    q = question(row.position or STEPS[0])
    offered = row.answers.get(OFFERED)
    reading, problem = understood_reading(q, text, row.answers, turn.kb, remember=True)
    if problem is not None:
        if row.answers.get(OFFERED) != offered:  # "the second one" next picks among them
            turn.scope.save_flow(row)
        again = ask(turn, row).prefixed(problem)
        narrowed = offered_choices(q, row.answers, turn.kb)
        return again.model_copy(update={"choices": narrowed}) if narrowed else again
    apply_side_answers(row.answers, reading.also)  # a public dataset named in passing
    note = reading.note or describe_answer(q, reading.value, turn.kb)
    return _advance(turn, row, q.id, reading.value, note)


def _next_step(step: str, answers: dict[str, Any], back: bool = False) -> str | None:
    """The step after (or, `back`, before) `step` that applies: no class balance for a
    regression, no legal basis without personal data."""
    index = STEPS.index(step)
    steps = reversed(STEPS[:index]) if back else STEPS[index + 1 :]
    known = {**answers, "has_model": True}  # the questions' conditions, in a flow about a model
    return next((s for s in steps if applies(question(s), known)), None)


def _advance(turn: Turn, row: FlowSession, step: str, value: Any, note: str) -> Reply:
    row.answers[step] = value
    following = _next_step(step, row.answers)
    if following is not None:
        row.position = following
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    turn.scope.save_flow(row)
    return finish(turn, row).prefixed(note)


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    step = row.position or STEPS[0]
    q = question(step)
    if name == "why":
        return ask(turn, row).prefixed(q.why)
    if name == "skip":
        if step in ("model_task", "model_metrics"):
            return ask(turn, row).prefixed("A model audit needs this one.")
        return _advance(turn, row, step, None, "Skipped.")
    earlier = _next_step(step, row.answers, back=True)
    if earlier is None:
        return ask(turn, row).prefixed("This is the first question of the model audit.")
    row.position = earlier
    turn.scope.save_flow(row)
    return ask(turn, row).prefixed("Back one question.")


def finish(turn: Turn, row: FlowSession) -> Reply:
    data = model_report(row.answers, turn.kb)
    try:
        outcome = audit_one_model(turn, data)
    except (ValueError, SkillAuditError) as exc:
        row.position = "model_metrics"
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(f"Those metrics do not fit this task: {exc}")
    verdict, review = outcome.verdict, outcome.row.review
    turn.scope.end_flow(row, "done")
    task = turn.kb.tasks[verdict.task].name
    lines = [f"Model audit ({task}), a draft until you review it:"]
    for metric in verdict.metrics:
        where = "no table" if metric.percentile is None else f"percentile {metric.percentile:g}"
        if metric.beyond_table:
            where = f"{metric.beyond_table} the tabulated range ({where})"
        flag = " - below the 75th" if metric.below_flag else ""
        why = f" ({metric.note})" if metric.counts and metric.note else ""  # a medal's rank
        lines.append(f"- {metric_shown(metric.metric, metric.value)}: {where}{flag}{why}")
    lines += [f"- {f.message}" for f in verdict.findings if f.code != "below_p75"]
    if verdict.dataset is None:
        lines.append(
            "Percentiles compare with typical practitioner projects of the same task (editorial "
            "estimates, see the benchmarks file), not with your data set."
        )
    else:
        lines.append(
            f"Percentiles compare with {verdict.compared_with}: the scores of the people who "
            "worked on the same data (documented points and an editorial shape between them, see "
            "the benchmarks file)."
        )
    lines.append(
        f"Type /review to answer its {len(review)} review prompt{'s' if len(review) != 1 else ''}."
    )
    return Reply(text="\n".join(lines), state="draft", follow="resume")
