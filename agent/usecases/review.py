"""The human review gate: every output is a draft until each of its prompts is confirmed or
adjusted (with a reason); then it is final, or goes to the configured second reviewer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent.interview import question
from agent.outputs import returned_prompt
from agent.review import PromptStatus, ReviewPrompt
from agent.store import AuditRow, Output, OutputKind, ReviewerDesk, UserScope
from agent.turn import Turn
from agent.usecases.audits import rescore


class Decision(StrEnum):
    CONFIRM = "confirm"
    ADJUST = "adjust"


def subjects(scope: UserScope) -> list[tuple[OutputKind, Output]]:
    """The latest output of each kind, in the order they are reviewed."""
    found: list[tuple[OutputKind, Output | None]] = [
        (OutputKind.AUDIT, scope.latest_audit()),
        (OutputKind.PLAN, scope.latest_plan()),
        (OutputKind.MODEL, scope.latest_model_audit()),
    ]
    return [(kind, row) for kind, row in found if row is not None]


def pending(scope: UserScope) -> tuple[OutputKind, Output] | None:
    """The first output with open prompts, if any."""
    return next(((kind, row) for kind, row in subjects(scope) if row.open_prompts()), None)


def adjustable_skills(prompt: ReviewPrompt, kind: OutputKind) -> list[str]:
    """The skills an adjustment of this prompt may re-rate (none: the adjustment is a note)."""
    if kind != OutputKind.AUDIT:
        return []
    if prompt.kind == "power_skills_not_assessed":
        return list(question("power_ratings").skills)
    return list(prompt.skills)


def decide(
    turn: Turn,
    subject: Output,
    prompt: ReviewPrompt,
    decision: Decision,
    value: dict[str, Any],
    reason: str,
) -> None:
    """Record who decided what and why, and mark the prompt answered."""
    kind = OutputKind.of(subject)
    turn.scope.add_decision(
        audit_id=subject.id if kind == OutputKind.AUDIT else None,
        subject=kind.value,
        subject_id=subject.id,
        prompt_id=prompt.id,
        decision=decision.value,
        value=value,
        reason=reason,
        decided_by=turn.scope.external_id,
    )
    status = PromptStatus.CONFIRMED if decision == Decision.CONFIRM else PromptStatus.ADJUSTED
    prompts = [
        p.model_copy(update={"status": status}) if p.id == prompt.id else p for p in subject.prompts
    ]
    turn.scope.update_row(subject, review=[p.model_dump(mode="json") for p in prompts])


def adjust_ratings(
    turn: Turn, audit: AuditRow, prompt: ReviewPrompt, ratings: dict[str, float], reason: str
) -> None:
    """Record an adjustment of ratings and re-score the audit with them."""
    decide(turn, audit, prompt, Decision.ADJUST, ratings, reason)
    rescore(turn, audit, ratings)


class Completion(StrEnum):
    FINAL = "final"
    AWAITING_REVIEWER = "awaiting_reviewer"


def complete(turn: Turn, subject: Output) -> Completion:
    """Every prompt answered: final, or on to the configured reviewer first."""
    reviewer = turn.settings.reviewer
    if reviewer and reviewer != turn.scope.external_id:
        turn.scope.update_row(subject, state=Completion.AWAITING_REVIEWER.value)
        return Completion.AWAITING_REVIEWER
    turn.scope.update_row(subject, state=Completion.FINAL.value)
    return Completion.FINAL


# The second reviewer ------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """An output waiting for the reviewer's approval."""

    kind: OutputKind
    row: Output
    owner: str

    @property
    def ident(self) -> str:
        return f"{self.kind.prefix}{self.row.id}"


class NotReviewer(Exception):
    """The person is not the configured second reviewer."""


def desk(turn: Turn) -> ReviewerDesk:
    """The reviewer's desk; NotReviewer for anyone but the configured reviewer."""
    reviewer = turn.settings.reviewer
    if not reviewer or reviewer != turn.scope.external_id:
        raise NotReviewer
    return ReviewerDesk(turn.scope.session, reviewer)


def waiting(turn: Turn) -> list[Waiting]:
    return [Waiting(kind, row, owner) for kind, row, owner in desk(turn).waiting()]


IDENT = re.compile(r"^\s*([apm])(\d{1,9})\b\s*(.*)$", re.IGNORECASE | re.S)


def locate(turn: Turn, argument: str) -> tuple[Waiting, str] | None:
    """The waiting output an argument names ("a12 please check SQL") and the rest as comment."""
    found_desk = desk(turn)
    match = IDENT.match(argument)
    if match is None:
        return None
    kind = OutputKind.from_prefix(match.group(1))
    if kind is None:
        return None
    found = found_desk.get(kind, int(match.group(2)))
    if found is None:
        return None
    row, owner = found
    return Waiting(kind, row, owner), match.group(3).strip()


def approve(turn: Turn, item: Waiting, comment: str) -> None:
    notice = f"Your reviewer approved your {item.kind.label}: it is now final."
    desk(turn).decide(item.row, item.kind, "approve", comment, notice)


def send_back(turn: Turn, item: Waiting, comment: str) -> None:
    review = [*item.row.review, returned_prompt(turn.scope.external_id, comment)]
    notice = (
        f'Your reviewer returned your {item.kind.label} with a comment: "{comment}". '
        "Type /review to answer it."
    )
    desk(turn).decide(item.row, item.kind, "return", comment, notice, review)
