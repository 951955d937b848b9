"""Endorsements as two flows: the person asks for one (`/endorse`), an endorser gives it
(`/start CODE`, the Telegram deep link `t.me/<bot>?start=CODE`).

```mermaid
stateDiagram-v2
    state "the person: /endorse" as ask {
        [*] --> skills: /endorse (or /endorse SKILLS: skills given)
        skills --> name: up to five skills (the audit's least supported offered)
        name --> [*]: a one-time code, shown once (14 days)
    }
    state "the endorser: /start CODE" as give {
        [*] --> consent: code valid (what is shared, with whom)
        consent --> [*]: no (nothing shared, the code is free again)
        consent --> endorser_name: yes
        endorser_name --> relationship: client, peer or manager
        relationship --> rate: one skill at a time, 0-5 or can't say
        rate --> rate: the next skill
        rate --> sentence: one optional sentence
        sentence --> confirm: what will be shared, shown whole
        confirm --> [*]: yes (stored as the person's evidence, their audit re-scored) / no
    }
```

An endorser sees only the name the person chose and the skills' names; everything the
endorser gives is shown to them before it is shared, and stays theirs to see and erase.
"""

from __future__ import annotations

from typing import Any

from agent.interview import RATING_SCALE
from agent.parsing import (
    Option,
    Unclear,
    is_unknown,
    normalize,
    parse_choice,
    parse_rating,
    parse_skill_list,
    parse_yes_no,
)
from agent.render import render_chat
from agent.reply import Choice, Reply
from agent.store import FlowSession
from agent.turn import Turn
from agent.usecases import endorsements
from agent.usecases.audits import least_supported
from agent.usecases.endorsements import Invitation
from tools.errors import EndorsementError

REQUEST, GIVE = "endorse_request", "endorse"
SCALE = RATING_SCALE
RELATIONSHIPS = tuple(Option(r, r.capitalize()) for r in endorsements.RELATIONSHIPS)
CANT_SAY = ("can't say", "cant say", "cannot say", "can not say", "no idea", "n/a", "na")
YES_NO = [Choice(label="Yes", value="yes"), Choice(label="No", value="no")]


# The person asks ---------------------------------------------------------------------------


def request(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """`/endorse [SKILLS]`: make a one-time code for a client, peer or manager."""
    for other in turn.scope.active_flows():
        if other.flow == REQUEST:
            turn.scope.end_flow(other, "cancelled")
    latest = turn.scope.latest_audit()
    suggested = [] if latest is None else least_supported(latest, endorsements.MAX_SKILLS)
    row = turn.scope.start_flow(REQUEST, "skills", answers={"suggested": suggested})
    if argument.strip():
        return answer_request(turn, row, argument)
    return ask_request(turn, row)


def ask_request(turn: Turn, row: FlowSession) -> Reply:
    if row.position == "name":
        known = endorsements.last_name(turn)
        return Reply(
            text='How should they know you? Write your name as they will see it, for example "Ana Lopez".',
            choices=[Choice(label=known, value=known)] if known else [],
        )
    text = (
        "Which skills should they rate? Name up to five, for example "
        '"docker, python, client management".'
    )
    suggested = row.answers.get("suggested") or []
    if not suggested:
        return Reply(text=text)
    names = ", ".join(turn.kb.skills[s].name for s in suggested)
    return Reply(
        text=f"{text} The {len(suggested)} your audit rests on least are {names}.",
        choices=[Choice(label=f"These {len(suggested)}", value="these")],
    )


def answer_request(turn: Turn, row: FlowSession, text: str) -> Reply:
    if row.position == "name":
        try:
            made = endorsements.create_code(turn, row.answers["skills"], text)
        except EndorsementError as exc:
            return ask_request(turn, row).prefixed(_sentence(str(exc)))
        turn.scope.end_flow(row, "done")
        return Reply(text=code_text(turn, made), follow="resume_or_overview")
    suggested = row.answers.get("suggested") or []
    if suggested and normalize(text) in ("these", "yes", "ok", "those", "these ones", "all"):
        skills = list(suggested)
    else:
        try:
            skills = parse_skill_list(text, turn.kb)
        except Unclear as exc:
            return ask_request(turn, row).prefixed(str(exc))
    if not skills or len(skills) > endorsements.MAX_SKILLS:
        return ask_request(turn, row).prefixed(
            f"Please name one to {endorsements.MAX_SKILLS} skills (you named {len(skills)})."
        )
    row.answers["skills"] = skills
    row.position = "name"
    turn.scope.save_flow(row)
    names = ", ".join(turn.kb.skills[s].name for s in skills)
    return ask_request(turn, row).prefixed(f"Noted: {names}.")


def control_request(turn: Turn, row: FlowSession, name: str) -> Reply:
    if name == "why":
        return ask_request(turn, row).prefixed(
            "A rating from someone who has seen your work counts as a peer review (reliability "
            "0.60, against 0.35 for your own rating), so it raises the confidence of those skills."
        )
    if name == "back" and row.position == "name":
        row.position = "skills"
        turn.scope.save_flow(row)
        return ask_request(turn, row).prefixed("Back one question.")
    return ask_request(turn, row).prefixed("This one is needed to make the code.")


def code_text(turn: Turn, made: endorsements.NewCode) -> str:
    """The new code, how to send it, and exactly what the endorser will see."""
    bot = turn.settings.telegram_bot_username
    link = f"https://t.me/{bot.lstrip('@')}?start={made.code}" if bot else ""
    names = [turn.kb.skills[s].name for s in made.skills]
    return render_chat("endorse_code.j2", c=made, names=names, link=link)


# The endorser gives ------------------------------------------------------------------------


def open_code(turn: Turn, code: str) -> Reply:
    """`/start CODE`: check the code and tell the endorser exactly what would be shared."""
    try:
        invitation = endorsements.open_code(turn, code)
    except EndorsementError as exc:
        return Reply(text=f"{_sentence(str(exc))}", follow="resume_or_overview")
    for other in turn.scope.active_flows():
        if other.flow == GIVE:
            turn.scope.end_flow(other, "cancelled")
    # Only the code's id is kept: the person's name and skills are read from the code each
    # time, so nothing of theirs stays in the endorser's records once they are erased.
    answers: dict[str, Any] = {"code_id": invitation.code_id, "ratings": {}, "skipped": []}
    return _ask(turn, turn.scope.start_flow(GIVE, "consent", answers=answers), invitation)


def _invited(turn: Turn, row: FlowSession) -> Invitation | Reply:
    """The code this endorser holds, or the reply that ends the flow when it no longer works."""
    try:
        return endorsements.invitation(turn, int(row.answers["code_id"]))
    except EndorsementError as exc:
        turn.scope.end_flow(row, "cancelled")
        return Reply(text=f"{_sentence(str(exc))} Nothing was shared.", follow="resume_or_overview")


def ask(turn: Turn, row: FlowSession) -> Reply:
    inv = _invited(turn, row)
    return inv if isinstance(inv, Reply) else _ask(turn, row, inv)


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    inv = _invited(turn, row)
    return inv if isinstance(inv, Reply) else _answer(turn, row, inv, text)


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    inv = _invited(turn, row)
    return inv if isinstance(inv, Reply) else _control(turn, row, inv, name)


def _steps(inv: Invitation) -> list[str]:
    rates = [f"rate:{s}" for s in inv.skills]
    return ["consent", "endorser", "relationship", *rates, "sentence", "confirm"]


def _ask(turn: Turn, row: FlowSession, inv: Invitation) -> Reply:
    step, who = row.position or "consent", inv.name
    skills = [turn.kb.skills[s].name for s in inv.skills]
    if step == "consent":
        text = render_chat(
            "endorse_intro.j2", person=who, skills=skills, until=inv.expires_on.isoformat()
        )
        return Reply(text=text, choices=YES_NO)
    if step == "endorser":
        return Reply(
            text=f'Your name, as {who} will see it (for example "Maria Rossi, Acme Analytics"):'
        )
    if step == "relationship":
        choices = [Choice(label=o.label, value=o.value) for o in RELATIONSHIPS]
        return Reply(text=f"Are you {who}'s client, peer or manager?", choices=choices)
    if step.startswith("rate:"):
        skill = step.removeprefix("rate:")
        number = inv.skills.index(skill) + 1
        text = (
            f"({number}/{len(skills)}) How good is {who} at {turn.kb.skills[skill].name}? "
            f'{", ".join(SCALE)}; or "can\'t say" to leave it out.'
        )
        # 1-5 first, so a number typed in the terminal (where choices are numbered) means itself.
        order = [*SCALE[1:], SCALE[0]]
        choices = [Choice(label=label, value=label[0]) for label in order]
        return Reply(text=text, choices=[*choices, Choice(label="Can't say", value="can't say")])
    if step == "sentence":
        return Reply(
            text=f"One sentence about {who}'s work, if you like (at most "
            f"{endorsements.SENTENCE_CHARS} characters), or skip.",
            choices=[Choice(label="No sentence", value="skip")],
        )
    kb = turn.kb
    ratings = [(kb.skills[s].name, r) for s, r in row.answers["ratings"].items()]
    skipped = [kb.skills[s].name for s in row.answers["skipped"]]
    text = render_chat(
        "endorse_confirm.j2", person=who, endorser=row.answers["endorser"],
        relationship=row.answers["relationship"], ratings=ratings,
        sentence=row.answers.get("sentence", ""), skipped=skipped,
    )  # fmt: skip
    return Reply(text=text, choices=YES_NO)


def _answer(turn: Turn, row: FlowSession, inv: Invitation, text: str) -> Reply:
    step = row.position or "consent"
    if step in ("consent", "confirm"):
        try:
            yes = parse_yes_no(text)
        except Unclear:
            return _ask(turn, row, inv).prefixed("Please answer yes or no.")
        if not yes:
            return _decline(turn, row, inv)
        if step == "consent":
            return _advance(turn, row, inv, None)
        return _give(turn, row)
    if step == "endorser":
        try:
            row.answers["endorser"] = endorsements.clean_name(text)
        except EndorsementError as exc:
            return _ask(turn, row, inv).prefixed(_sentence(str(exc)))
        return _advance(turn, row, inv, f"Noted: {row.answers['endorser']}.")
    if step == "relationship":
        try:
            row.answers["relationship"] = parse_choice(text, RELATIONSHIPS)
        except Unclear as exc:
            return _ask(turn, row, inv).prefixed(str(exc))
        return _advance(turn, row, inv, f"Noted: {row.answers['relationship']}.")
    if step.startswith("rate:"):
        return _rate(turn, row, inv, step.removeprefix("rate:"), text)
    sentence = " ".join(text.split())
    if len(sentence) > endorsements.SENTENCE_CHARS:
        return _ask(turn, row, inv).prefixed(
            f"That is {len(sentence)} characters; please keep it to {endorsements.SENTENCE_CHARS}."
        )
    row.answers["sentence"] = sentence
    return _advance(turn, row, inv, None)


def _rate(turn: Turn, row: FlowSession, inv: Invitation, skill: str, text: str) -> Reply:
    folded = normalize(text)
    name = turn.kb.skills[skill].name
    if folded in CANT_SAY or is_unknown(folded):
        return _skip_rating(turn, row, inv, skill)
    try:
        value = parse_rating(text)
    except Unclear:
        return _ask(turn, row, inv).prefixed(
            'Please give a whole number from 0 to 5, or "can\'t say".'
        )
    if value != int(value) or not 0 <= value <= 5:
        return _ask(turn, row, inv).prefixed(f"Please give {name} a whole number from 0 to 5.")
    row.answers["ratings"][skill] = int(value)
    row.answers["skipped"] = [s for s in row.answers["skipped"] if s != skill]
    return _advance(turn, row, inv, f"Noted: {name} {int(value)}/5.")


def _skip_rating(turn: Turn, row: FlowSession, inv: Invitation, skill: str) -> Reply:
    row.answers["ratings"].pop(skill, None)
    if skill not in row.answers["skipped"]:
        row.answers["skipped"].append(skill)
    return _advance(turn, row, inv, f"Left out: {turn.kb.skills[skill].name}.")


def _advance(turn: Turn, row: FlowSession, inv: Invitation, note: str | None) -> Reply:
    steps = _steps(inv)
    following = steps[steps.index(row.position or "consent") + 1]
    if following == "confirm" and not row.answers["ratings"]:
        turn.scope.end_flow(row, "cancelled")
        endorsements.release(turn, inv.code_id)
        return Reply(
            text="You left every skill out, so there is nothing to share; nothing was stored.",
            follow="resume_or_overview",
        )
    row.position = following
    turn.scope.save_flow(row)
    reply = _ask(turn, row, inv)
    return reply.prefixed(note) if note else reply


def _give(turn: Turn, row: FlowSession) -> Reply:
    a = row.answers
    try:
        given = endorsements.give(
            turn, int(a["code_id"]), a["endorser"], a["relationship"], a["ratings"],
            a.get("sentence", ""),
        )  # fmt: skip
    except EndorsementError as exc:
        turn.scope.end_flow(row, "cancelled")
        return Reply(text=f"{_sentence(str(exc))} Nothing was shared.", follow="resume_or_overview")
    turn.scope.end_flow(row, "done")
    text = (
        f"Thank you: your endorsement is shared with {given.to}. /endorsements shows what you "
        "gave and erases it if you change your mind."
    )
    return Reply(text=text, follow="resume_or_overview")


def _decline(turn: Turn, row: FlowSession, inv: Invitation) -> Reply:
    turn.scope.end_flow(row, "cancelled")
    endorsements.release(turn, inv.code_id)
    text = f"Nothing was shared with {inv.name}, and the code can still be used."
    return Reply(text=text, follow="resume_or_overview")


def _control(turn: Turn, row: FlowSession, inv: Invitation, name: str) -> Reply:
    step = row.position or "consent"
    if name == "why":
        return _ask(turn, row, inv).prefixed(
            f"{inv.name} asked for your view of their work: a rating from someone who has seen "
            "it counts more in their audit than their own rating. Only what you give here is "
            "shared, and only with them."
        )
    if name == "skip":
        if step.startswith("rate:"):
            return _skip_rating(turn, row, inv, step.removeprefix("rate:"))
        if step == "sentence":
            row.answers["sentence"] = ""
            return _advance(turn, row, inv, None)
        return _ask(turn, row, inv).prefixed(
            "This one is needed; /cancel stops without sharing anything."
        )
    steps = _steps(inv)
    index = steps.index(step)
    if index == 0:
        return _ask(turn, row, inv).prefixed("This is the first question.")
    row.position = steps[index - 1]
    turn.scope.save_flow(row)
    return _ask(turn, row, inv).prefixed("Back one question.")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
