"""The review gate as a flow: confirm, adjust (with a reason) or ask why, prompt by prompt.

```mermaid
stateDiagram-v2
    [*] --> choose: /review (open prompts exist)
    choose --> choose: confirm (next prompt) / why (explanation)
    choose --> adjust: adjust
    adjust --> choose: new value + reason (audit re-scored)
    choose --> [*]: no open prompts left (audit final)
```

Every decision is stored with who, when and why; an adjustment changes the audit's input
and re-runs the deterministic scoring, and prompts already answered keep their answers.
"""

from __future__ import annotations

import re
from typing import Any

from agent.audit import audit_profile
from agent.parsing import Option, Unclear, clean, parse_choice, parse_ratings
from agent.reply import Choice, Reply
from agent.store import AuditRow, FlowSession
from agent.turn import Turn
from knowledge.schema import Pillar
from tools.profile import validate_profile

ACTIONS = (
    Option(
        "confirm",
        "Confirm",
        (
            "yes",
            "ok",
            "okay",
            "correct",
            "right",
            "agree",
            "fine",
            "looks right",
            "looks good",
            "1",
        ),
    ),
    Option(
        "adjust", "Adjust", ("change", "edit", "fix", "wrong", "no", "not right", "update", "2")
    ),
    Option("why", "Why?", ("explain", "how", "why is that", "3")),
)
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


def open_prompts(audit: AuditRow) -> list[dict[str, Any]]:
    return [p for p in audit.review if p.get("status") == "open"]


def start(turn: Turn) -> Reply:
    audit = turn.scope.latest_audit()
    if audit is None:
        return Reply(text="There is no audit to review yet. Type /audit to start one.")
    pending = open_prompts(audit)
    if not pending:
        return Reply(
            text=f"Your audit of {audit.as_of} is final: every review prompt has been answered.",
            state="final",
        )
    for other in turn.scope.active_flows():
        if other.flow == "review":
            turn.scope.end_flow(other, "cancelled")
    row = turn.scope.start_flow(
        "review", pending[0]["id"], answers={"audit_id": audit.id, "mode": "choose"}
    )
    return ask(turn, row)


def _audit(turn: Turn, row: FlowSession) -> AuditRow:
    audit = next((a for a in turn.scope.audits() if a.id == row.answers["audit_id"]), None)
    if audit is None:
        raise LookupError("the audit under review is gone")
    return audit


def _prompt(audit: AuditRow, prompt_id: str | None) -> dict[str, Any]:
    return next(p for p in audit.review if p["id"] == prompt_id)


def ask(turn: Turn, row: FlowSession) -> Reply:
    audit = _audit(turn, row)
    prompt = _prompt(audit, row.position)
    if row.answers.get("mode") == "adjust":
        return Reply(text=_adjust_instructions(prompt, turn))
    number = [p["id"] for p in audit.review].index(prompt["id"]) + 1
    text = f"Review {number}/{len(audit.review)}: {prompt['question']}"
    return Reply(
        text=text, choices=[Choice(label=o.label, value=o.value) for o in ACTIONS], state="draft"
    )


def _adjust_skills(prompt: dict[str, Any]) -> list[str]:
    if prompt["kind"] == "power_skills_not_assessed":
        return list(POWER_SKILLS)
    return list(prompt["skills"])


def _adjust_instructions(prompt: dict[str, Any], turn: Turn) -> str:
    skills = _adjust_skills(prompt)
    if not skills:
        return "What should the record say instead? Write a short note; it is kept with the audit and shown in the report."
    if len(skills) == 1:
        name = turn.kb.skills[skills[0]].name
        return f'Give the new rating for {name} (0-5) and why, for example "3 because I deploy to it every week".'
    names = ", ".join(turn.kb.skills[s].name for s in skills[:6])
    return f'Name the skills to change with new ratings (0-5) and why, for example "{names.split(", ")[0]} 3 because ..." (skills here: {names}).'


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    audit = _audit(turn, row)
    prompt = _prompt(audit, row.position)
    if row.answers.get("mode") == "adjust":
        return _adjust(turn, row, audit, prompt, text)
    try:
        action = parse_choice(text, ACTIONS)
    except Unclear:
        return ask(turn, row).prefixed("Please choose confirm, adjust or why.")
    if action == "why":
        return ask(turn, row).prefixed(explain(prompt, audit))
    if action == "adjust":
        row.answers["mode"] = "adjust"
        turn.scope.save_flow(row)
        return ask(turn, row)
    turn.scope.add_decision(
        audit, prompt_id=prompt["id"], decision="confirm", decided_by=turn.scope.external_id
    )
    _set_status(turn, audit, {prompt["id"]: "confirmed"})
    return _next(turn, row, audit, "Confirmed.")


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    audit = _audit(turn, row)
    prompt = _prompt(audit, row.position)
    if name == "why":
        return ask(turn, row).prefixed(explain(prompt, audit))
    if row.answers.get("mode") == "adjust":
        row.answers["mode"] = "choose"
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed("No change made.")
    pending = [p["id"] for p in open_prompts(audit) if p["id"] != prompt["id"]]
    if name == "skip" and pending:
        row.position = pending[0]
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(
            "Left open for later; the audit stays a draft until it is answered."
        )
    return ask(turn, row).prefixed(
        "That is the only open prompt." if name == "skip" else "Nothing before this prompt."
    )


def _adjust(
    turn: Turn, row: FlowSession, audit: AuditRow, prompt: dict[str, Any], text: str
) -> Reply:
    value_part, reason = _split_reason(text)
    skills = _adjust_skills(prompt)
    if not reason:
        return ask(turn, row).prefixed(
            'Please add a short reason (after "because"), so the change is explained in the report.'
        )
    if not skills:
        turn.scope.add_decision(
            audit,
            prompt_id=prompt["id"],
            decision="adjust",
            reason=reason,
            decided_by=turn.scope.external_id,
        )
        _set_status(turn, audit, {prompt["id"]: "adjusted"})
        return _next(turn, row, audit, "Noted; the note is kept with the audit.")
    try:
        ratings = parse_ratings(
            value_part, skills, turn.kb, allow_positional=len(skills) == 1
        ).values
    except Unclear as exc:
        return ask(turn, row).prefixed(str(exc))
    if len(skills) == 1 and not ratings:
        return ask(turn, row).prefixed("I did not find a rating.")
    turn.scope.add_decision(
        audit,
        prompt_id=prompt["id"],
        decision="adjust",
        value=ratings,
        reason=reason,
        decided_by=turn.scope.external_id,
    )
    _set_status(turn, audit, {prompt["id"]: "adjusted"})
    _rescore(turn, audit, ratings)
    changed = ", ".join(f"{turn.kb.skills[s].name} {r:g}" for s, r in ratings.items())
    overall = "?" if audit.overall is None else f"{audit.overall:.1f}"
    return _next(turn, row, audit, f"Adjusted {changed} and re-scored: overall now {overall}.")


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
    report = audit_profile(validate_profile(profile, turn.kb), turn.kb, audit.as_of, force=True)
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
    state = "final" if all(p["status"] != "open" for p in review) else "draft"
    turn.scope.update_audit(
        audit,
        profile=profile,
        result=report.result.model_dump(mode="json"),
        review=review,
        overall=report.result.overall.score,
        state=state,
    )


def _set_status(turn: Turn, audit: AuditRow, statuses: dict[str, str]) -> None:
    review = [dict(p, status=statuses.get(p["id"], p.get("status", "open"))) for p in audit.review]
    state = "final" if all(p["status"] != "open" for p in review) else "draft"
    turn.scope.update_audit(audit, review=review, state=state)


def _next(turn: Turn, row: FlowSession, audit: AuditRow, note: str) -> Reply:
    pending = open_prompts(audit)
    if pending:
        row.position = pending[0]["id"]
        row.answers["mode"] = "choose"
        turn.scope.save_flow(row)
        return ask(turn, row).prefixed(note)
    turn.scope.end_flow(row, "done")
    from agent.engine import resume

    done = f"{note}\n\nEvery review prompt is answered: your audit of {audit.as_of} is now final."
    return resume(turn, turn.flow).prefixed(done).model_copy(update={"state": "final"})


def explain(prompt: dict[str, Any], audit: AuditRow) -> str:
    """The prompt's reason plus the formula, inputs and evidence behind each number it names."""
    lines = [prompt["why"]]
    skills = {s["id"]: s for s in audit.result["skills"]}
    for skill_id in prompt["skills"][:3]:
        s = skills.get(skill_id)
        if s is None or s["proficiency"] is None:
            continue
        sources = (
            ", ".join(f"{x['source']} x{x['count']} (weight {x['weight']})" for x in s["sources"])
            or "transfer from related skills"
        )
        lines.append(
            f"{s['name']}: proficiency {s['proficiency']} is the weighted mean of its evidence [{sources}]; "
            f"confidence {s['confidence']} = W / (W + 1); gap = ({s['demand']} - {s['proficiency']}) / {s['demand']} = {s['gap']}."
        )
    return "\n".join(lines)
