"""Skill checks for one person: start one, show its questions, record each answer with its
timing, turn a finished check into evidence and re-score the latest audit with it.

A person may stop at any time: an unfinished check is marked abandoned and counts for
nothing, but the questions it showed stay recorded as seen, so the next check of that skill
asks others (`docs/skill-checks.md`, section 3). The adaptive method itself is the pure
`tools/skill_check.py`; this module only stores what it does.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from agent.skill_names import resolve_skill
from agent.store import AuditRow, CheckAnswer, CheckSession, UserScope
from agent.turn import Turn
from agent.usecases import audits
from agent.usecases.audits import Rescored, with_stored_evidence
from knowledge.checks import CheckBank, default_checks
from tools.errors import CheckError
from tools.skill_check import (
    CHECK_METHOD_VERSION,
    Answer,
    CheckResult,
    CheckState,
    Explanation,
    ShownQuestion,
    explain,
    is_finished,
    next_question,
    record,
    result,
    start_check,
)

OFFERED = 3  # skills offered for a check after an audit


@dataclass(frozen=True)
class Started:
    """A new check and its first question."""

    session_id: int
    skill: str
    name: str
    question: ShownQuestion


@dataclass(frozen=True)
class Finished:
    """A finished check, and what it changed in the latest audit (None without one)."""

    result: CheckResult
    name: str
    rescored: Rescored | None


@dataclass(frozen=True)
class Answered:
    """The judged answer with its explanation, then the next question or the result."""

    explanation: Explanation
    following: ShownQuestion | None
    finished: Finished | None


def checkable(turn: Turn) -> list[str]:
    """Ids of the skills that have a check, by name."""
    return sorted(default_checks().skills, key=lambda s: turn.kb.skills[s].name.lower())


def skill_for(turn: Turn, text: str) -> str:
    """The skill a name or id means, if it has a check; CheckError naming the problem."""
    typed = text.strip()
    if not typed:
        raise CheckError("name a skill to check, for example docker")
    skill = typed if typed in turn.kb.skills else resolve_skill(typed, turn.kb)[0]
    if skill is None:
        close = turn.kb.suggest_skills(typed)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CheckError(f"{typed!r} is not a skill I know{hint}")
    if default_checks().bank(skill) is None:
        raise CheckError(
            f"there is no check for {turn.kb.skills[skill].name} yet; checks exist for "
            + ", ".join(turn.kb.skills[s].name for s in checkable(turn))
        )
    return skill


def least_supported(turn: Turn, audit: AuditRow, count: int = OFFERED) -> list[str]:
    """The role's skills with a check that the audit rests on least."""
    return audits.least_supported(audit, count, among=default_checks().skills)


def begin(turn: Turn, skill: str, flow_id: int | None = None) -> Started:
    """Start a check of `skill` (any other unfinished check of the person is abandoned)."""
    bank = _bank(skill)
    scope = turn.scope
    scope.settle_checks()
    for other in scope.check_sessions("active"):
        scope.save_check(other, status="abandoned")
    now = _now()
    state = start_check(bank, secrets.token_hex(8), now, seen_before=scope.seen_questions(skill))
    row = scope.add_check(
        flow_id=flow_id,
        skill=skill,
        bank_version=bank.version,
        method_version=CHECK_METHOD_VERSION,
        started_at=now,
        state=state.model_dump(mode="json"),
    )
    shown = show(turn, row.id)
    if shown is None:  # a check always has a first question; a bank that does not is broken
        raise CheckError(f"the {skill} check has no question to ask")
    return Started(row.id, skill, turn.kb.skills[skill].name, shown)


def show(turn: Turn, session_id: int) -> ShownQuestion | None:
    """The current question (recorded as shown the first time), or None when finished."""
    row = _active(turn.scope, session_id)
    state = CheckState.model_validate(row.state)
    shown = next_question(state, _bank(row.skill))
    if shown is None:
        return None
    if _shown_row(turn.scope, row, shown.question_id) is None:
        turn.scope.add_check_answer(
            session_id=row.id,
            skill=row.skill,
            question_id=shown.question_id,
            level=shown.level.value,
            number=shown.number,
            shown_at=_now(),
        )
    return shown


def answer(turn: Turn, session_id: int, question_id: str, choice: int) -> Answered:
    """Record the answer to the current question (index of the option in the shown order)."""
    scope = turn.scope
    row = _active(scope, session_id)
    bank = _bank(row.skill)
    state = CheckState.model_validate(row.state)
    asked = _shown_row(scope, row, question_id)
    if asked is None:
        raise CheckError(f"question {question_id} was not shown in this check")
    shown_at = _aware(asked.shown_at)
    answered_at = max(_now(), shown_at)
    state = record(
        state,
        bank,
        Answer(question_id=question_id, choice=choice, shown_at=shown_at, answered_at=answered_at),
    )
    judged = state.answers[-1]
    scope.save_check(asked, answered_at=answered_at, choice=choice, correct=judged.correct)
    scope.save_check(row, state=state.model_dump(mode="json"))
    explanation = explain(bank, judged)
    if not is_finished(state):
        return Answered(explanation, show(turn, row.id), None)
    done = result(state)
    scope.save_check(
        row,
        status="finished",
        result=done.model_dump(mode="json"),
        finished_at=done.finished_at,
        finished_on=turn.today,
        proficiency=done.proficiency,
        sd=done.sd,
        right=done.right,
        asked=done.asked,
    )
    rescored = with_stored_evidence(turn, [row.skill])
    return Answered(explanation, None, Finished(done, turn.kb.skills[row.skill].name, rescored))


def abandon(turn: Turn, session_id: int) -> None:
    """Stop a check: nothing of it counts (the questions it showed stay seen)."""
    row = turn.scope.check_session(session_id)
    if row is not None and row.status == "active":
        turn.scope.save_check(row, status="abandoned")


def finished_checks(scope: UserScope) -> list[CheckSession]:
    """The person's finished checks, oldest first."""
    return scope.check_sessions("finished")


def _bank(skill: str) -> CheckBank:
    bank = default_checks().bank(skill)
    if bank is None:
        raise CheckError(f"there is no check for {skill}")
    return bank


def _active(scope: UserScope, session_id: int) -> CheckSession:
    scope.settle_checks()
    row = scope.check_session(session_id)
    if row is None:
        raise CheckError("that check does not exist")
    if row.status != "active":
        raise CheckError(f"that check of {row.skill} is {row.status}; start a new one")
    return row


def _shown_row(scope: UserScope, row: CheckSession, question_id: str) -> CheckAnswer | None:
    """The unanswered showing of a question in this check."""
    return next(
        (
            a
            for a in scope.check_answers(row.id)
            if a.question_id == question_id and a.choice is None
        ),
        None,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
