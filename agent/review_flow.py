"""The review gate as a flow: confirm, adjust (with a reason) or ask why, prompt by prompt,
over every output that has open prompts: the latest audit, learning plan and model audit.

```mermaid
stateDiagram-v2
    [*] --> choose: /review (open prompts exist)
    choose --> choose: confirm (next prompt) / why (explanation)
    choose --> adjust: adjust
    adjust --> choose: new value + reason (audit re-scored) or a note
    choose --> next_output: no open prompts left in this output (final, or sent to the reviewer)
    next_output --> choose: another output has open prompts
    next_output --> [*]: nothing left to review
```

Every decision is stored with who, when and why; an adjustment changes the audit's input
and re-runs the deterministic scoring, and prompts already answered keep their answers.
"""

from __future__ import annotations

import re

from agent.parsing import Option, Unclear, clean, parse_choice, parse_ratings
from agent.reply import Choice, Reply
from agent.review import ReviewPrompt
from agent.store import AuditRow, FlowSession, Output, OutputKind
from agent.turn import Turn
from agent.usecases import review

ACTIONS = (
    Option("confirm", "Confirm", ("yes", "ok", "okay", "correct", "right", "agree", "fine", "looks right", "looks good", "keep", "keep it", "1")),
    Option("adjust", "Adjust", ("change", "edit", "fix", "wrong", "no", "not right", "update", "2")),
    Option("why", "Why?", ("explain", "how", "why is that", "3")),
)  # fmt: skip
REASON_SPLIT = re.compile(
    r"\s+(?:because|since|as)\s+|\s+[-\u2013\u2014]\s+|;\s*|\.\s+", re.IGNORECASE
)


def start(turn: Turn) -> Reply:
    for other in turn.scope.active_flows():
        if other.flow == "review":
            turn.scope.end_flow(other, "cancelled")
    pending = review.pending(turn.scope)
    if pending is None:
        subjects = review.subjects(turn.scope)
        if not subjects:
            return Reply(text="There is nothing to review yet. Type /audit to start an audit.")
        waiting = [k.label for k, row in subjects if row.state == "awaiting_reviewer"]
        note = f" Waiting for your reviewer: {', '.join(waiting)}." if waiting else ""
        return Reply(
            text=f"Every review prompt has been answered.{note}",
            state="final" if not waiting else "draft",
        )
    kind, subject = pending
    row = turn.scope.start_flow(
        "review",
        subject.open_prompts()[0].id,
        answers={"subject": kind.value, "row_id": subject.id, "mode": "choose"},
    )
    return ask(turn, row)


def _kind_of(row: FlowSession) -> OutputKind:
    return OutputKind(row.answers.get("subject", "audit"))


def _subject(turn: Turn, row: FlowSession) -> Output:
    subject = turn.scope.review_subject(_kind_of(row), int(row.answers["row_id"]))
    if subject is None:
        raise LookupError("the output under review is gone")
    return subject


def _prompt(subject: Output, prompt_id: str | None) -> ReviewPrompt:
    found = subject.prompt(prompt_id)
    if found is None:
        raise LookupError(f"no review prompt {prompt_id!r}")
    return found


def ask(turn: Turn, row: FlowSession) -> Reply:
    subject = _subject(turn, row)
    prompt = _prompt(subject, row.position)
    kind = _kind_of(row)
    if row.answers.get("mode") == "adjust":
        return Reply(text=_adjust_instructions(prompt, kind, turn))
    ids = [p.id for p in subject.prompts]
    number = ids.index(prompt.id) + 1
    label = "Review" if kind == OutputKind.AUDIT else f"Review of the {kind.label}"
    text = f"{label} {number}/{len(ids)}: {prompt.question}"
    return Reply(
        text=text, choices=[Choice(label=o.label, value=o.value) for o in ACTIONS], state="draft"
    )


def _adjust_instructions(prompt: ReviewPrompt, kind: OutputKind, turn: Turn) -> str:
    skills = review.adjustable_skills(prompt, kind)
    if not skills:
        return "What should the record say instead? Write a short note; it is kept with this output and shown in the report."
    if len(skills) == 1:
        name = turn.kb.skills[skills[0]].name
        return f'Give the new rating for {name} (0-5) and why, for example "3 because I deploy to it every week".'
    names = ", ".join(turn.kb.skills[s].name for s in skills[:6])
    first = names.split(", ")[0]
    return f'Name the skills to change with new ratings (0-5) and why, for example "{first} 3 because ..." (skills here: {names}).'


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    subject = _subject(turn, row)
    prompt = _prompt(subject, row.position)
    if row.answers.get("mode") == "adjust":
        return _adjust(turn, row, subject, prompt, text)
    try:
        action = parse_choice(text, ACTIONS)
    except Unclear:
        return ask(turn, row).prefixed("Please choose confirm, adjust or why.")
    if action == "why":
        return ask(turn, row).prefixed(explain(prompt, subject))
    if action == "adjust":
        row.answers["mode"] = "adjust"
        turn.scope.save_flow(row)
        return ask(turn, row)
    review.decide(turn, subject, prompt, review.Decision.CONFIRM, {}, "")
    return _next(turn, row, subject, "Confirmed.")


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    subject = _subject(turn, row)
    prompt = _prompt(subject, row.position)
    if name == "why":
        return ask(turn, row).prefixed(explain(prompt, subject))
    if row.answers.get("mode") == "adjust":
        row.answers["mode"] = "choose"
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed("No change made.")
    pending = [p.id for p in subject.open_prompts() if p.id != prompt.id]
    if name == "skip" and pending:
        row.position = pending[0]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(
            "Left open for later; this stays a draft until it is answered."
        )
    return ask(turn, row).prefixed(
        "That is the only open prompt here." if name == "skip" else "Nothing before this prompt."
    )


def _adjust(
    turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str
) -> Reply:
    value_part, reason = _split_reason(text)
    skills = review.adjustable_skills(prompt, _kind_of(row))
    if not reason:
        return ask(turn, row).prefixed(
            'Please add a short reason (after "because"), so the change is explained in the report.'
        )
    if not skills or not isinstance(subject, AuditRow):
        review.decide(turn, subject, prompt, review.Decision.ADJUST, {}, reason)
        return _next(turn, row, subject, "Noted; the note is kept with it and shown in the report.")
    try:
        ratings = parse_ratings(
            value_part, skills, turn.kb, allow_positional=len(skills) == 1
        ).values
    except Unclear as exc:
        return ask(turn, row).prefixed(str(exc))
    review.adjust_ratings(turn, subject, prompt, ratings, reason)
    changed = ", ".join(f"{turn.kb.skills[s].name} {r:g}" for s, r in ratings.items())
    overall = "?" if subject.overall is None else f"{subject.overall:.1f}"
    return _next(turn, row, subject, f"Adjusted {changed} and re-scored: overall now {overall}.")


def _split_reason(text: str) -> tuple[str, str]:
    cleaned = clean(text)
    parts = REASON_SPLIT.split(cleaned, maxsplit=1)
    if len(parts) == 2:
        return parts[0].strip(), parts[1].strip()
    if re.fullmatch(r"[\d.,/\s]+", cleaned):
        return cleaned, ""
    return cleaned, cleaned


def _next(turn: Turn, row: FlowSession, subject: Output, note: str) -> Reply:
    pending = subject.open_prompts()
    if pending:
        row.position = pending[0].id
        row.answers["mode"] = "choose"
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    note += "\n\n" + _complete(turn, subject)
    following = review.pending(turn.scope)
    if following is not None:
        kind, other = following
        row.answers.update(subject=kind.value, row_id=other.id, mode="choose")
        row.position = other.open_prompts()[0].id
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    turn.scope.end_flow(row, "done")
    state = "final" if subject.state == "final" else "draft"
    return Reply(text=note, state=state, follow="resume_or_overview")


def _complete(turn: Turn, subject: Output) -> str:
    """Every prompt answered: final, or on to the configured reviewer first."""
    name = OutputKind.of(subject).label
    if review.complete(turn, subject) == review.Completion.AWAITING_REVIEWER:
        return f"Every prompt of your {name} is answered; it now goes to your reviewer ({turn.settings.reviewer}) for approval."
    return f"Every review prompt of your {name} is answered: it is now final."


def explain(prompt: ReviewPrompt, subject: Output) -> str:
    """The prompt's reason plus the formula, inputs and evidence behind each number it names."""
    lines = [prompt.why]
    if not isinstance(subject, AuditRow):
        return "\n".join(lines)
    from tools.explain import explain_skill

    skills = {s.id: s for s in subject.audit.skills}
    lines += [explain_skill(skills[sid]) for sid in prompt.skills[:3] if sid in skills]
    return "\n".join(lines)
