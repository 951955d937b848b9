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
from typing import Any

from agent.audit import audit_profile
from agent.connect import audit_knowledge
from agent.parsing import Option, Unclear, clean, parse_choice, parse_ratings
from agent.reply import Choice, Reply
from agent.store import AuditRow, FlowSession, ModelAuditRow, PlanRow
from agent.turn import Turn
from knowledge.schema import Pillar
from tools.profile import validate_profile

ACTIONS = (
    Option("confirm", "Confirm", ("yes", "ok", "okay", "correct", "right", "agree", "fine", "looks right", "looks good", "keep", "keep it", "1")),
    Option("adjust", "Adjust", ("change", "edit", "fix", "wrong", "no", "not right", "update", "2")),
    Option("why", "Why?", ("explain", "how", "why is that", "3")),
)  # fmt: skip
POWER_SKILLS = (
    "communication",
    "negotiation",
    "client_management",
    "technical_writing",
    "presentation",
)
REASON_SPLIT = re.compile(
    r"\s+(?:because|since|as)\s+|\s+[-\u2013\u2014]\s+|;\s*|\.\s+", re.IGNORECASE
)
Subject = AuditRow | PlanRow | ModelAuditRow
NAMES = {"audit": "audit", "plan": "learning plan", "model": "model audit"}


def open_prompts(subject: Subject) -> list[dict[str, Any]]:
    return [p for p in subject.review if p.get("status") == "open"]


def _subjects(turn: Turn) -> list[tuple[str, Subject]]:
    """The latest output of each kind, in the order they are reviewed."""
    found: list[tuple[str, Subject | None]] = [
        ("audit", turn.scope.latest_audit()),
        ("plan", turn.scope.latest_plan()),
        ("model", turn.scope.latest_model_audit()),
    ]
    return [(kind, row) for kind, row in found if row is not None]


def _pending(turn: Turn) -> tuple[str, Subject] | None:
    return next(((kind, row) for kind, row in _subjects(turn) if open_prompts(row)), None)


def start(turn: Turn) -> Reply:
    for other in turn.scope.active_flows():
        if other.flow == "review":
            turn.scope.end_flow(other, "cancelled")
    pending = _pending(turn)
    if pending is None:
        if not _subjects(turn):
            return Reply(text="There is nothing to review yet. Type /audit to start an audit.")
        waiting = [NAMES[k] for k, row in _subjects(turn) if row.state == "awaiting_reviewer"]
        note = f" Waiting for your reviewer: {', '.join(waiting)}." if waiting else ""
        return Reply(
            text=f"Every review prompt has been answered.{note}",
            state="final" if not waiting else "draft",
        )
    kind, subject = pending
    row = turn.scope.start_flow(
        "review",
        open_prompts(subject)[0]["id"],
        answers={"subject": kind, "row_id": subject.id, "mode": "choose"},
    )
    return ask(turn, row)


def _subject(turn: Turn, row: FlowSession) -> Subject:
    kind = row.answers.get("subject", "audit")
    subject = turn.scope.review_subject(kind, int(row.answers["row_id"]))
    if subject is None:
        raise LookupError("the output under review is gone")
    return subject


def _prompt(subject: Subject, prompt_id: str | None) -> dict[str, Any]:
    return next(p for p in subject.review if p["id"] == prompt_id)


def ask(turn: Turn, row: FlowSession) -> Reply:
    subject = _subject(turn, row)
    prompt = _prompt(subject, row.position)
    if row.answers.get("mode") == "adjust":
        return Reply(text=_adjust_instructions(prompt, turn))
    number = [p["id"] for p in subject.review].index(prompt["id"]) + 1
    name = NAMES[row.answers.get("subject", "audit")]
    label = "Review" if name == "audit" else f"Review of the {name}"
    text = f"{label} {number}/{len(subject.review)}: {prompt['question']}"
    return Reply(
        text=text, choices=[Choice(label=o.label, value=o.value) for o in ACTIONS], state="draft"
    )


def _adjust_skills(prompt: dict[str, Any], kind: str) -> list[str]:
    if kind != "audit":
        return []
    if prompt["kind"] == "power_skills_not_assessed":
        return list(POWER_SKILLS)
    return list(prompt["skills"])


def _adjust_instructions(prompt: dict[str, Any], turn: Turn) -> str:
    skills = _adjust_skills(prompt, _kind(turn))
    if not skills:
        return "What should the record say instead? Write a short note; it is kept with this output and shown in the report."
    if len(skills) == 1:
        name = turn.kb.skills[skills[0]].name
        return f'Give the new rating for {name} (0-5) and why, for example "3 because I deploy to it every week".'
    names = ", ".join(turn.kb.skills[s].name for s in skills[:6])
    first = names.split(", ")[0]
    return f'Name the skills to change with new ratings (0-5) and why, for example "{first} 3 because ..." (skills here: {names}).'


def _kind(turn: Turn) -> str:
    flow = turn.flow
    return (
        flow.answers.get("subject", "audit")
        if flow is not None and flow.flow == "review"
        else "audit"
    )


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
    _decide(turn, subject, prompt, "confirm", {}, "")
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
    pending = [p["id"] for p in open_prompts(subject) if p["id"] != prompt["id"]]
    if name == "skip" and pending:
        row.position = pending[0]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(
            "Left open for later; this stays a draft until it is answered."
        )
    return ask(turn, row).prefixed(
        "That is the only open prompt here." if name == "skip" else "Nothing before this prompt."
    )


def _decide(
    turn: Turn,
    subject: Subject,
    prompt: dict[str, Any],
    decision: str,
    value: dict[str, Any],
    reason: str,
) -> None:
    """Record who decided what and why, and mark the prompt answered."""
    audit_id = subject.id if isinstance(subject, AuditRow) else None
    turn.scope.add_decision(
        audit_id=audit_id,
        subject=_subject_kind(subject),
        subject_id=subject.id,
        prompt_id=prompt["id"],
        decision=decision,
        value=value,
        reason=reason,
        decided_by=turn.scope.external_id,
    )
    status = "confirmed" if decision == "confirm" else "adjusted"
    review = [dict(p, status=status) if p["id"] == prompt["id"] else p for p in subject.review]
    turn.scope.update_row(subject, review=review)


def _subject_kind(subject: Subject) -> str:
    return (
        "audit"
        if isinstance(subject, AuditRow)
        else "plan"
        if isinstance(subject, PlanRow)
        else "model"
    )


def _adjust(
    turn: Turn, row: FlowSession, subject: Subject, prompt: dict[str, Any], text: str
) -> Reply:
    value_part, reason = _split_reason(text)
    skills = _adjust_skills(prompt, row.answers.get("subject", "audit"))
    if not reason:
        return ask(turn, row).prefixed(
            'Please add a short reason (after "because"), so the change is explained in the report.'
        )
    if not skills or not isinstance(subject, AuditRow):
        _decide(turn, subject, prompt, "adjust", {}, reason)
        return _next(turn, row, subject, "Noted; the note is kept with it and shown in the report.")
    try:
        ratings = parse_ratings(
            value_part, skills, turn.kb, allow_positional=len(skills) == 1
        ).values
    except Unclear as exc:
        return ask(turn, row).prefixed(str(exc))
    _decide(turn, subject, prompt, "adjust", ratings, reason)
    _rescore(turn, subject, ratings)
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


def _rescore(turn: Turn, audit: AuditRow, ratings: dict[str, float]) -> None:
    """Apply new ratings to the audit's input and score it again on the same date."""
    profile = {k: (dict(v) if isinstance(v, dict) else v) for k, v in audit.profile.items()}
    profile.setdefault("self_ratings", {})
    profile.setdefault("soft_skills", {})
    for skill, rating in ratings.items():
        target = "soft_skills" if turn.kb.skills[skill].pillar == Pillar.CAREER else "self_ratings"
        other = "self_ratings" if target == "soft_skills" else "soft_skills"
        profile[other].pop(skill, None)
        profile[target][skill] = rating
    kb = audit_knowledge(turn.scope, turn.kb)
    report = audit_profile(validate_profile(profile, kb), kb, audit.as_of, force=True)
    fresh = {p.id: dict(p.model_dump(mode="json"), status="open") for p in report.review}
    # Answered prompts stay as they were answered (an adjustment is never lost, even when
    # the re-scored audit would no longer raise it); open ones take their new wording.
    review = [
        p if p.get("status") != "open" else fresh[p["id"]]
        for p in audit.review
        if p.get("status") != "open" or p["id"] in fresh
    ]
    known = {p["id"] for p in review}
    review += [p for pid, p in fresh.items() if pid not in known]
    turn.scope.update_row(
        audit,
        profile=profile,
        result=report.result.model_dump(mode="json"),
        review=review,
        overall=report.result.overall.score,
    )


def _next(turn: Turn, row: FlowSession, subject: Subject, note: str) -> Reply:
    pending = open_prompts(subject)
    if pending:
        row.position = pending[0]["id"]
        row.answers["mode"] = "choose"
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    note += "\n\n" + _complete(turn, subject)
    following = _pending(turn)
    if following is not None:
        kind, other = following
        row.answers.update(subject=kind, row_id=other.id, mode="choose")
        row.position = open_prompts(other)[0]["id"]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    turn.scope.end_flow(row, "done")
    from agent.engine import resume

    state = "final" if subject.state == "final" else "draft"
    return resume(turn, turn.flow).prefixed(note).model_copy(update={"state": state})


def _complete(turn: Turn, subject: Subject) -> str:
    """Every prompt answered: final, or on to the configured reviewer first."""
    name = NAMES[_subject_kind(subject)]
    reviewer = turn.settings.reviewer
    if reviewer and reviewer != turn.scope.external_id:
        turn.scope.update_row(subject, state="awaiting_reviewer")
        return f"Every prompt of your {name} is answered; it now goes to your reviewer ({reviewer}) for approval."
    turn.scope.update_row(subject, state="final")
    return f"Every review prompt of your {name} is answered: it is now final."


def explain(prompt: dict[str, Any], subject: Subject) -> str:
    """The prompt's reason plus the formula, inputs and evidence behind each number it names."""
    lines = [prompt["why"]]
    if not isinstance(subject, AuditRow):
        return "\n".join(lines)
    from tools.explain import explain_skill
    from tools.results import SkillScore

    skills = {s["id"]: s for s in subject.result["skills"]}
    lines += [
        explain_skill(SkillScore.model_validate(skills[sid]))
        for sid in prompt["skills"][:3]
        if sid in skills
    ]
    return "\n".join(lines)
