"""Skill checks as a flow: a few multiple-choice questions per skill, one skill after another.

```mermaid
stateDiagram-v2
    [*] --> offer: /check (no skill named)
    offer --> question: a skill picked (button, /check SKILL, /check least)
    [*] --> question: /check SKILL or /check least
    question --> question: an answer (A-D, with why and the source), then the next question
    question --> result: the stopping rule ends the check
    result --> question: the next skill in the queue
    result --> [*]: the latest audit is re-scored with it; back to where the person was
    question --> [*]: /cancel or "stop" (the check counts for nothing)
```

The flow stores only where the person is (the check's id and the skills still queued); the
check itself, every question shown and every answer with its timing are stored by
`agent/usecases/checks.py`.
"""

from __future__ import annotations

import re

from agent.render import render_chat
from agent.reply import Choice, Reply
from agent.store import FlowSession
from agent.turn import Turn
from agent.usecases import checks
from agent.usecases.checks import Answered
from knowledge.base import KnowledgeBase
from tools.errors import CheckError
from tools.skill_check import ShownQuestion

LETTERS = "ABCD"
LEAST = "least"  # `/check least`: the skills the latest audit rests on least
WHY = (
    "A check turns a self-rating into measured evidence: 4-6 questions, scored the same way for "
    "everyone, counted with reliability 0.45 (a self-rating counts 0.35), so the confidence of "
    "that skill's score rises. Only a finished check counts."
)


def command(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """`/check [SKILL ... | least]`: start checks, or offer which skills to check."""
    wanted = argument.strip()
    latest = turn.scope.latest_audit()
    # Anything but a started check is a side answer: the current question follows it.
    if not wanted:
        return (offer(turn) or Reply(text=_listing(turn))).model_copy(update={"follow": "resume"})
    if wanted.lower() == LEAST:
        queue = [] if latest is None else checks.least_supported(turn, latest)
    else:
        try:
            queue = _skills(turn, wanted)
        except CheckError as exc:
            text = f"{_sentence(str(exc))} Type /check to see the skills with a check."
            return Reply(text=text, follow="resume")
    if not queue:
        return Reply(text=_listing(turn), follow="resume")
    for other in turn.scope.active_flows():
        if other.flow == "check":
            turn.scope.end_flow(other, "cancelled")
    row = turn.scope.start_flow("check", None, answers={"queue": queue})
    return _begin_next(turn, row)


def offer(turn: Turn) -> Reply | None:
    """Offer to check the three skills the audit rests on least, with buttons (None without one)."""
    latest = turn.scope.latest_audit()
    if latest is None:
        return None
    least = checks.least_supported(turn, latest)
    if not least:
        return None
    names = [turn.kb.skills[s].name for s in least]
    label = f"Check {_join(names)}"
    if len(label) > 60:  # Telegram cuts button labels at 64 characters
        label = f"Check these {len(names)}" if len(names) > 1 else "Check it"
    choices = [Choice(label=label, value=f"/check {LEAST}")]
    choices += [
        Choice(label=f"Only {name}", value=f"/check {s}")
        for s, name in zip(least, names, strict=True)
    ]
    return Reply(text=render_chat("check_offer.j2", names=names, all=[]), choices=choices)


def ask(turn: Turn, row: FlowSession) -> Reply:
    """The current question again (where the person is)."""
    try:
        shown = checks.show(turn, int(row.answers["session"]))
    except CheckError as exc:
        turn.scope.end_flow(row, "cancelled")
        return Reply(text=f"{_sentence(str(exc))}", follow="resume_or_overview")
    if shown is None:  # finished elsewhere (the terminal) in the meantime
        turn.scope.end_flow(row, "done")
        return Reply(text="That check is finished.", follow="resume_or_overview")
    return _question(turn, row, shown)


def answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    session = int(row.answers["session"])
    try:
        shown = checks.show(turn, session)
    except CheckError:
        return ask(turn, row)
    if shown is None:
        return ask(turn, row)
    choice = pick(text, shown)
    if choice is None:
        return _question(turn, row, shown).prefixed(
            "Please answer A, B, C or D (or /cancel to stop; an unfinished check counts for nothing)."
        )
    try:
        answered = checks.answer(turn, session, shown.question_id, choice)
    except CheckError as exc:
        turn.scope.end_flow(row, "cancelled")
        return Reply(text=_sentence(str(exc)), follow="resume_or_overview")
    said = outcome(answered, shown, choice)
    if answered.following is not None:
        row.position = answered.following.question_id
        turn.scope.save_flow(row)
        return _question(turn, row, answered.following).prefixed(said)
    if row.answers.get("queue"):
        return _begin_next(turn, row).prefixed(said)
    turn.scope.end_flow(row, "done")
    return Reply(text=said, follow="resume_or_overview")


def control(turn: Turn, row: FlowSession, name: str) -> Reply:
    """why explains the check; skip and back are refused (both would bias the estimate)."""
    if name == "why":
        return ask(turn, row).prefixed(WHY)
    if name == "skip":
        note = "A check cannot leave a question out (that would bias the estimate): answer it, or stop with /cancel."
    else:
        note = "An answer cannot be changed once given: the next question was chosen from it."
    return ask(turn, row).prefixed(note)


def pick(text: str, shown: ShownQuestion) -> int | None:
    """The option an answer names: a letter (A-D, "b)", "option c"), its number or its text."""
    folded = " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    letter = re.fullmatch(r"(?:(?:option|answer)\s+)?([a-d1-4])", folded)
    if letter is not None:
        key = letter.group(1)
        return int(key) - 1 if key.isdigit() else LETTERS.lower().index(key)
    for index, option in enumerate(shown.options):
        if folded and folded == " ".join(re.sub(r"[^\w\s]", " ", option.lower()).split()):
            return index
    return None


def _begin_next(turn: Turn, row: FlowSession) -> Reply:
    queue = list(row.answers.get("queue") or [])
    skill = queue.pop(0)
    started = checks.begin(turn, skill, flow_id=row.id)
    row.answers.update(queue=queue, session=started.session_id, skill=skill)
    row.position = started.question.question_id
    turn.scope.save_flow(row)
    return _question(turn, row, started.question, intro=True)


def _question(turn: Turn, row: FlowSession, shown: ShownQuestion, intro: bool = False) -> Reply:
    return question(turn.kb, shown, intro)


def question(kb: KnowledgeBase, shown: ShownQuestion, intro: bool = False) -> Reply:
    """A question with its lettered options, and a button per option (the letters)."""
    text = render_chat(
        "check_question.j2",
        q=shown,
        skill_name=kb.skills[shown.skill].name,
        letters=LETTERS,
        intro=intro,
    )
    choices = [Choice(label=LETTERS[i], value=LETTERS[i]) for i in range(len(shown.options))]
    return Reply(text=text, choices=choices)


def outcome(answered: Answered, shown: ShownQuestion, choice: int) -> str:
    """The verdict on an answer and, when the check is over, its result."""
    text = verdict(answered, shown, choice)
    done = answered.finished
    if done is not None:
        text += "\n\n" + render_chat(
            "check_result.j2", r=done.result, skill_name=done.name, rescored=done.rescored
        )
    return text


def verdict(answered: Answered, shown: ShownQuestion, choice: int) -> str:
    """Right or not, why, and the source."""
    x = answered.explanation
    right = next((i for i, o in enumerate(shown.options) if o == x.answer_text), choice)
    return render_chat("check_answer.j2", x=x, chosen=LETTERS[choice], right=LETTERS[right])


def _skills(turn: Turn, text: str) -> list[str]:
    """Skills named in `/check docker, python` (ids or names), each with a check."""
    try:
        return [checks.skill_for(turn, text)]
    except CheckError:
        pass
    parts = [p for p in re.split(r"[,;]|\s+and\s+", text) if p.strip()]
    if len(parts) == 1:
        parts = parts[0].split()
    found: list[str] = []
    for part in parts:
        skill = checks.skill_for(turn, part)
        if skill not in found:
            found.append(skill)
    return found


def _listing(turn: Turn) -> str:
    names = [turn.kb.skills[s].name for s in checks.checkable(turn)]
    return render_chat("check_offer.j2", names=[], all=names)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
