"""The review gate as a flow: confirm, adjust (with a reason) or ask why, prompt by prompt,
over every output that has open prompts: the latest audit, learning plan and model audit.

```mermaid
stateDiagram-v2
    [*] --> choose: /review (open prompts exist)
    choose --> choose: confirm (next prompt) / why (explanation)
    choose --> adjust: adjust
    choose --> choose: the change typed at once ("3 because ...", "legitimate interests")
    adjust --> choose: new value + reason (audit re-scored), a model fact, a plan change, or a note
    adjust --> reason: ratings without a reason
    reason --> choose: the reason
    adjust --> ask: a model fact or plan change that is unclear (the note is kept)
    ask --> choose: the answer, or "just the note"
    choose --> next_output: no open prompts left in this output (final, or sent to the reviewer)
    next_output --> choose: another output has open prompts
    next_output --> [*]: nothing left to review
```

Answers are read with the interview's parsers (`agent.review_answers`, `agent.plan_changes`).
Every decision is stored with who, when and why, and the person's note is kept whole. A new
rating sets the skill's value (the evidence stays beside it) and re-scores the audit; a model
fact is recorded on the model; a plan change rebuilds the plan. Prompts already answered keep
their answers.
"""

from __future__ import annotations

import re
from typing import Any

from agent import history
from agent.parsing import Option, Unclear, normalize, parse_choice
from agent.plan_changes import PlanChange, read_plan_change
from agent.reply import Choice, Reply
from agent.review import ReviewPrompt
from agent.review_answers import (
    ASKS_FOR_FACT,
    MODEL_FACTS,
    RatingChange,
    is_just_a_note,
    note_text,
    read_model_fact,
    read_rating_change,
)
from agent.store import AuditRow, FlowSession, ModelAuditRow, Output, OutputKind, PlanRow
from agent.turn import Turn
from agent.usecases import review
from agent.usecases.plans import RecommendationsUnavailable

ACTIONS = (
    Option("confirm", "Confirm", ("yes", "ok", "okay", "correct", "right", "agree", "fine", "looks right", "looks good", "keep", "keep it", "1")),
    Option("adjust", "Adjust", ("change", "edit", "fix", "wrong", "no", "not right", "update", "2")),
    Option("why", "Why?", ("explain", "how", "why is that", "3")),
)  # fmt: skip
JUST_THE_NOTE = Choice(label="Just the note", value="just the note")
# Prompts whose skills may be re-rated, but whose question asks for context: a note is an answer.
NOTE_FIRST = frozenset({"client_concentration", "large_change", "power_skills_far_below"})
# Prompts whose question only asks for context ("is this dependency deliberate, or something to
# work on?"): either way the point stands, so words that answer it confirm it with the note.
NOTE_ANSWERS = frozenset({"client_concentration"})
NAMES_SHOWN = 8


def start(turn: Turn) -> Reply:
    for other in turn.scope.active_flows():
        if other.flow == "review":
            turn.scope.end_flow(other, "cancelled")
    pending = review.pending(turn.scope)
    if pending is None:
        subjects = review.subjects(turn.scope)
        if not subjects:
            auditing = turn.flow is not None and turn.flow.flow == "interview"
            then = "" if auditing else " Type /audit to start an audit."
            # In the middle of an audit, its current question follows (follow="resume").
            return Reply(
                text="There is nothing to review yet: review prompts come with an audit's "
                f"result.{then}",
                follow="resume",
            )
        waiting = [k.label for k, row in subjects if row.state == "awaiting_reviewer"]
        note = f" Waiting for your reviewer: {', '.join(waiting)}." if waiting else ""
        return Reply(
            text=f"Every review prompt has been answered.{note}",
            state="final" if not waiting else "draft",
            follow="resume",
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
    mode = row.answers.get("mode")
    if mode == "adjust":
        return Reply(text=_adjust_instructions(prompt, kind, turn))
    if mode == "reason":
        return Reply(text=_reason_question(row.answers.get("ratings") or {}, turn))
    if mode == "fact":
        return Reply(
            text=str(row.answers.get("question") or "Which is it?"),
            choices=[Choice(label=v, value=v) for v in row.answers.get("options") or []]
            + [JUST_THE_NOTE],
        )
    ids = [p.id for p in subject.prompts]
    number = ids.index(prompt.id) + 1
    label = "Review" if kind == OutputKind.AUDIT else f"Review of the {kind.label}"
    text = f"{label} {number}/{len(ids)}: {prompt.question}"
    # A change can raise new points (a large change, a new gap): say so rather than let the
    # total grow without a word.
    counted = row.answers.get("counted")
    if isinstance(counted, list) and counted[0] == kind.value and len(ids) > counted[1]:
        added = len(ids) - counted[1]
        text = f"Your change raised {added} new point{'s' if added > 1 else ''} to review.\n{text}"
    if counted != [kind.value, len(ids)]:
        row.answers["counted"] = [kind.value, len(ids)]
        turn.scope.save_flow(row)
    return Reply(
        text=text, choices=[Choice(label=o.label, value=o.value) for o in ACTIONS], state="draft"
    )


def _adjust_instructions(prompt: ReviewPrompt, kind: OutputKind, turn: Turn) -> str:
    skills = review.adjustable_skills(prompt, kind)
    if prompt.kind in MODEL_FACTS:
        return {
            "legal_basis": 'What is the legal basis? For example "legitimate interests, fraud prevention"; your note is kept whole and the basis is recorded on the model.',
            "positive_rate": 'What share of the examples is in the positive class? For example "about 2%"; it is recorded on the model.',
        }.get(
            MODEL_FACTS[prompt.kind][1],
            'Give the metrics of the evaluation you trust (for example "PR-AUC 0.41") or write a short note; it is kept with the model audit.',
        )
    if kind == OutputKind.PLAN:
        return (
            'What should change? Drop an item ("drop LLMOps"), swap one ("swap the second for something shorter", '
            '"replace LLMOps with Docker"), start with a skill ("start with Docker") or change the pace '
            '("6 hours a week"), and say why if you like; your words are kept with the plan and shown in the report.'
        )
    if not skills:
        return "What should the record say instead? Write a short note; it is kept whole with this output and shown in the report."
    if len(skills) == 1:
        name = turn.kb.skills[skills[0]].name
        return f'Give the new rating for {name} (0-5) and why, for example "3 because I deploy to it every week".'
    names = [turn.kb.skills[s].name for s in skills]
    listed = ", ".join(names[:NAMES_SHOWN]) + (
        f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    )
    return f'Name the skills to change with new ratings (0-5) and why, for example "{names[0]} 3 because ..." (skills here: {listed}).'


def _reason_question(ratings: dict[str, float], turn: Turn) -> str:
    changed = ", ".join(f"{turn.kb.skills[s].name} {r:g}/5" for s, r in ratings.items())
    return f"{changed}: why? A short reason is kept with the change and shown in the report."


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    subject = _subject(turn, row)
    prompt = _prompt(subject, row.position)
    mode = row.answers.get("mode")
    if mode == "adjust":
        return _adjust(turn, row, subject, prompt, text)
    if mode == "reason":
        return _reason(turn, row, subject, prompt, text)
    if mode == "fact":
        return _fact_again(turn, row, subject, prompt, text)
    direct = _typed_change(turn, row, subject, prompt, text)
    if direct is not None:
        return direct
    kept = str(row.answers.get("note") or "")
    try:
        action = parse_choice(text, ACTIONS)
    except Unclear:
        # Words that are neither an action nor a change: kept as the note of what comes next
        # (after any note already kept, which is not lost).
        note = note_text(f"{kept} {text}" if kept else text)
        if prompt.kind in NOTE_ANSWERS:  # the words answer the prompt's question
            review.decide(turn, subject, prompt, review.Decision.CONFIRM, {}, note)
            return _next(turn, row, subject, "Confirmed, with your note.")
        _mode(turn, row, "choose", note=note)
        return ask(turn, row).prefixed(
            "I keep that as your note. Does the point stand as it is (confirm), or does it need "
            'changing (adjust)? Or ask why. You can also type the change itself, for example "3 because ...".'
        )
    if action == "why":
        return ask(turn, row).prefixed(explain(prompt, subject))
    if action == "adjust":
        if kept and not review.adjustable_skills(prompt, _kind_of(row)):
            return _adjust(turn, row, subject, prompt, kept)  # the note says what changes
        _mode(turn, row, "adjust", note=kept)  # a rating given next takes the note as its reason
        return ask(turn, row)
    if _EVERY.search(normalize(text)):  # "confirm all the rest": every open point, named
        every = subject.open_prompts()
        for each in every:
            review.decide(
                turn,
                subject,
                each,
                review.Decision.CONFIRM,
                {},
                kept if each.id == prompt.id else "",
            )
        named = "; ".join(_about(each, turn) for each in every)
        return _next(turn, row, subject, f"Confirmed all {len(every)} open points: {named}.")
    review.decide(turn, subject, prompt, review.Decision.CONFIRM, {}, kept)
    return _next(turn, row, subject, "Confirmed, with your note." if kept else "Confirmed.")


# "confirm all", "all good", "confirm the rest": the person confirms every open point at once.
_EVERY = re.compile(
    r"(?<!that's )(?<!that is )(?<!thats )\b(?:all(?: of them| the rest)?|everything|the rest|"
    r"every (?:one|point|prompt))\b"
)


def _about(prompt: ReviewPrompt, turn: Turn) -> str:
    """A prompt in a few words: its subject, or the skills it asks about."""
    if prompt.subject:
        return prompt.subject
    names = [turn.kb.skills[s].name for s in prompt.skills if s in turn.kb.skills]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return shown or prompt.kind.replace("_", " ")


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    subject = _subject(turn, row)
    prompt = _prompt(subject, row.position)
    if name == "why":
        return ask(turn, row).prefixed(explain(prompt, subject))
    if row.answers.get("mode", "choose") != "choose":
        _mode(turn, row, "choose")
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


def _mode(turn: Turn, row: FlowSession, mode: str, **kept: Any) -> None:
    """Move to `mode`, keeping what the next message completes (and nothing older)."""
    for key in ("ratings", "note", "question", "options"):
        row.answers.pop(key, None)
    row.answers.update(mode=mode, **kept)
    turn.scope.save_flow(row)


def _typed_change(
    turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str
) -> Reply | None:
    """A change typed instead of choosing an action ("3 because ...", "legitimate interests"),
    or None when the message is not one (then it is read as an action)."""
    if re.fullmatch(r"\s*[123]\s*\.?\s*", text):
        return None  # the number of a button
    skills = review.adjustable_skills(prompt, _kind_of(row))
    if skills and isinstance(subject, AuditRow):
        change = read_rating_change(text, skills, turn.kb, direct=True)
        if change is not None:
            return _ratings(turn, row, subject, prompt, change)
    if prompt.kind in MODEL_FACTS:
        fact = read_model_fact(prompt.kind, text, turn.kb)
        if fact is not None and fact.value is not None:
            return _fact(turn, row, subject, prompt, text)
    if isinstance(subject, PlanRow):
        try:
            plan_change = read_plan_change(text, subject.plan.get("items", []), turn.kb)
        except Unclear:
            plan_change = None
        if plan_change is not None:
            return _plan(turn, row, subject, prompt, plan_change, text)
    return None


def _adjust(
    turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str
) -> Reply:
    skills = review.adjustable_skills(prompt, _kind_of(row))
    if skills and isinstance(subject, AuditRow):
        change = read_rating_change(text, skills, turn.kb)
        if change is None and prompt.kind in NOTE_FIRST:
            return _note(turn, row, subject, prompt, text)
        if change is None:
            names = ", ".join(turn.kb.skills[s].name for s in skills[:3])
            return ask(turn, row).prefixed(
                f"I could not find a new rating (0-5) for {names} in that."
            )
        if not change.reason and row.answers.get("note"):
            change = RatingChange(change.ratings, str(row.answers["note"]), change.named)
        return _ratings(turn, row, subject, prompt, change)
    if prompt.kind in MODEL_FACTS:
        return _fact(turn, row, subject, prompt, text)
    if isinstance(subject, PlanRow):
        try:
            plan_change = read_plan_change(text, subject.plan.get("items", []), turn.kb)
        except Unclear as exc:
            _mode(
                turn,
                row,
                "fact",
                note=note_text(text),
                question=f'{exc} Or say "just the note" to keep your words without changing the plan.',
            )
            return ask(turn, row)
        if plan_change is None:
            _mode(
                turn,
                row,
                "fact",
                note=note_text(text),
                question=(
                    "I could not tell what to change in the plan. Drop, swap or add an item, or give the hours a week "
                    '("drop LLMOps", "start with Docker", "6 hours a week"); or say "just the note" to keep your words '
                    "without changing the plan."
                ),
            )
            return ask(turn, row)
        return _plan(turn, row, subject, prompt, plan_change, text)
    return _note(turn, row, subject, prompt, text)


def _note(turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str) -> Reply:
    note = note_text(text)
    review.decide(turn, subject, prompt, review.Decision.ADJUST, {}, note)
    return _next(
        turn, row, subject, "Noted; your note is kept whole with it and shown in the report."
    )


def _ratings(
    turn: Turn, row: FlowSession, subject: AuditRow, prompt: ReviewPrompt, change: RatingChange
) -> Reply:
    if not change.reason:
        _mode(turn, row, "reason", ratings=change.ratings)
        return ask(turn, row)
    return _rescored(turn, row, subject, prompt, change.ratings, change.reason)


def _reason(
    turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str
) -> Reply:
    kept: dict[str, float] = dict(row.answers.get("ratings") or {})
    skills = review.adjustable_skills(prompt, _kind_of(row))
    again = read_rating_change(text, skills, turn.kb) if skills else None
    if again is not None and again.reason:
        kept, reason = again.ratings, again.reason  # a whole new answer replaces the kept one
    else:
        reason = note_text(text)
    if not isinstance(subject, AuditRow) or not kept:
        _mode(turn, row, "adjust")
        return ask(turn, row)
    return _rescored(turn, row, subject, prompt, kept, reason)


def _rescored(
    turn: Turn,
    row: FlowSession,
    subject: AuditRow,
    prompt: ReviewPrompt,
    ratings: dict[str, float],
    reason: str,
) -> Reply:
    done = review.adjust_ratings(turn, subject, prompt, ratings, reason)
    if done.confirmed:
        said = ", ".join(f"{c.name} {c.rating:g}/5" for c in done.changes)
        return _next(
            turn, row, subject, f"Confirmed: {said}, as it was; your reason is kept with it."
        )
    skills = {s.id: s for s in subject.audit.skills}
    lines = []
    for c in done.changes:
        line = f"{c.name}: {history.rating(c.before)} -> {c.rating:g}/5"
        if c.proficiency is not None:
            line += f" (now {c.proficiency:g}/100)"
        evidence = history.beside(skills[c.skill]) if c.skill in skills else ""
        if evidence:
            line += f"; {evidence}, kept beside it"
        lines.append(line + ".")
    overall = "?" if done.overall is None else f"{done.overall:.1f}"
    was = "" if done.overall_before is None else f" (was {done.overall_before:.1f})"
    note = " ".join(lines) + f" Adjusted and re-scored: overall now {overall}{was}."
    return _next(turn, row, subject, note)


def _fact(turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str) -> Reply:
    """A note about a model: the fact it states is recorded on the model; the note is whole."""
    note = note_text(text)
    fact = read_model_fact(prompt.kind, note, turn.kb)
    assert fact is not None  # only prompts with a model fact come here
    if fact.value is not None:
        return _record_fact(turn, row, subject, prompt, fact.field, fact.value, fact.said, note)
    if fact.ask is not None and prompt.kind in ASKS_FOR_FACT:
        question = f'{fact.ask} Or say "just the note" to keep your note without recording it on the model.'
        _mode(turn, row, "fact", note=note, question=question, options=list(fact.options))
        return ask(turn, row)
    review.decide(turn, subject, prompt, review.Decision.ADJUST, {}, note)
    stays = " Nothing is recorded on the model, so the finding stays." if fact.unknown else ""
    return _next(
        turn,
        row,
        subject,
        f"Noted; your note is kept whole with it and shown in the report.{stays}",
    )


def _fact_again(
    turn: Turn, row: FlowSession, subject: Output, prompt: ReviewPrompt, text: str
) -> Reply:
    """The answer to a question about an unclear model fact or plan change."""
    note = str(row.answers.get("note") or "")
    if is_just_a_note(text):
        review.decide(turn, subject, prompt, review.Decision.ADJUST, {}, note)
        return _next(
            turn, row, subject, "Noted; your note is kept whole with it and shown in the report."
        )
    if isinstance(subject, PlanRow):
        try:
            plan_change = read_plan_change(text, subject.plan.get("items", []), turn.kb)
        except Unclear as exc:
            return ask(turn, row).prefixed(str(exc))
        if plan_change is None:
            return ask(turn, row)
        return _plan(turn, row, subject, prompt, plan_change, f"{note}\n{note_text(text)}".strip())
    fact = read_model_fact(prompt.kind, text, turn.kb)
    if fact is None or fact.value is None:
        return (
            ask(turn, row)
            if fact is None or not fact.unknown
            else _fact(turn, row, subject, prompt, note)
        )
    return _record_fact(turn, row, subject, prompt, fact.field, fact.value, fact.said, note)


def _record_fact(
    turn: Turn,
    row: FlowSession,
    subject: Output,
    prompt: ReviewPrompt,
    field: str,
    value: Any,
    said: str,
    note: str,
) -> Reply:
    review.record_model_fact(turn, subject, prompt, field, value, note)
    words = history.FACT_WORDS.get(field, field)
    again = (
        "The audit is re-scored"
        if isinstance(subject, AuditRow)
        else "The model audit is judged again"
    )
    cleared = ""
    if isinstance(subject, (AuditRow, ModelAuditRow)) and field == "legal_basis":
        cleared = " and no longer says that no legal basis is stated"
    return _next(
        turn, row, subject,
        f"Recorded on the model: {words} {said}. {again} with it{cleared}; your note is kept whole with it.",
    )  # fmt: skip


def _plan(
    turn: Turn,
    row: FlowSession,
    subject: PlanRow,
    prompt: ReviewPrompt,
    change: PlanChange,
    text: str,
) -> Reply:
    note = note_text(text)
    try:
        adjusted = review.change_plan(turn, subject, prompt, change, note)
    except RecommendationsUnavailable as exc:
        return ask(turn, row).prefixed(f"{exc}. Nothing was changed; try again later.")
    lines = [
        f"Changed your learning plan: {'; '.join(adjusted.done) or 'nothing could be changed'}."
    ]
    lines += [f"Not done: {n}." for n in adjusted.not_done]
    plan = subject.plan
    lines.append(f"The plan now, at {plan['weekly_hours']:g} h a week:")
    lines += [
        f"- {i['start']} to {i['end']}: {i['title']} ({i['hours']:g} h)"
        for i in plan.get("items", [])
    ]
    lines.append("Your words are kept with it and shown in the report.")
    return _next(turn, row, subject, "\n".join(lines))


def _next(turn: Turn, row: FlowSession, subject: Output, note: str) -> Reply:
    pending = subject.open_prompts()
    if pending:
        row.position = pending[0].id
        _mode(turn, row, "choose")
        return ask(turn, row).prefixed(note)
    note += "\n\n" + _complete(turn, subject)
    following = review.pending(turn.scope)
    if following is not None:
        kind, other = following
        row.answers.update(subject=kind.value, row_id=other.id)
        row.position = other.open_prompts()[0].id
        _mode(turn, row, "choose")
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
