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
from agent.plan_changes import PlanChange
from agent.review import PromptStatus, ReviewPrompt
from agent.store import (
    AuditRow,
    ModelAuditRow,
    Output,
    OutputKind,
    PlanRow,
    ReviewDecision,
    ReviewerDesk,
    UserScope,
)
from agent.turn import Turn
from agent.usecases.audits import rescore
from agent.usecases.models import revise_model
from agent.usecases.plans import PlanAdjusted, adjust_plan, refresh_for_audit
from tools.params import SourceKind
from tools.results import SkillScore, SkillStatus


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
    settles: bool = True,
) -> ReviewDecision:
    """Record who decided what and why, and mark the prompt answered (unless the decision
    does not settle it: a change to other skills than the prompt asked about)."""
    kind = OutputKind.of(subject)
    row = turn.scope.add_decision(
        audit_id=subject.id if kind == OutputKind.AUDIT else None,
        subject=kind.value,
        subject_id=subject.id,
        prompt_id=prompt.id,
        decision=decision.value,
        value=value,
        reason=reason,
        decided_by=turn.scope.external_id,
    )
    if not settles:
        return row
    status = PromptStatus.CONFIRMED if decision == Decision.CONFIRM else PromptStatus.ADJUSTED
    prompts = [
        p.model_copy(update={"status": status}) if p.id == prompt.id else p for p in subject.prompts
    ]
    turn.scope.update_row(subject, review=[p.model_dump(mode="json") for p in prompts])
    return row


@dataclass(frozen=True)
class SkillChange:
    """One skill's value before and after a person's decision, with the evidence beside it."""

    skill: str
    name: str
    before: float | None  # 0-5: what it was (None: not known)
    rating: float  # 0-5: what the person set
    proficiency: float | None  # 0-100 now
    evidence: float | None  # 0-100: what the evidence alone gives
    sources: list[str]  # the evidence's source kinds, other than the person's own rating


@dataclass(frozen=True)
class Rescored:
    """What an adjustment changed: the skills, and the overall score before and after."""

    changes: list[SkillChange]
    overall_before: float | None
    overall: float | None
    confirmed: bool = False  # every rating equalled the value already there: a confirmation


def as_rating(skill: SkillScore | None) -> float | None:
    """A skill's value on the 0-5 scale people rate on (None when nothing is known)."""
    if skill is None or skill.proficiency is None:
        return None
    return round(skill.proficiency / 20, 1)


def adjust_ratings(
    turn: Turn, audit: AuditRow, prompt: ReviewPrompt, ratings: dict[str, float], reason: str
) -> Rescored:
    """Record a person's new ratings and re-score the audit: each sets its skill's value (a
    decision, with the evidence kept beside it). Ratings that only repeat a self-rated value
    are recorded as a confirmation."""
    skills = {s.id: s for s in audit.audit.skills}
    before = {sid: as_rating(skills.get(sid)) for sid in ratings}
    overall_before = audit.overall
    same = all(
        before[sid] == rating
        and skills[sid].status == SkillStatus.SELF_RATED
        and skills[sid].reviewed in (None, rating)
        for sid, rating in ratings.items()
    )
    value = {"ratings": dict(ratings), "before": before}
    # "docker 5" given at the question about Deep Learning alone re-rates Docker, but leaves
    # that question open: the person has not answered it. (A group's "rate the ones you
    # have used" is answered by any ratings.)
    asked = adjustable_skills(prompt, OutputKind.AUDIT)
    settles = len(asked) != 1 or asked[0] in ratings
    if same:
        decide(turn, audit, prompt, Decision.CONFIRM, value, reason, settles)
    else:
        decide(turn, audit, prompt, Decision.ADJUST, value, reason, settles)
        rescore(turn, audit, ratings)
        refresh_for_audit(turn, audit)  # its reasons quote the values, so they follow
    now = {s.id: s for s in audit.audit.skills}
    changes = [
        SkillChange(
            skill=sid,
            name=turn.kb.skills[sid].name,
            before=before[sid],
            rating=rating,
            proficiency=now[sid].proficiency,
            evidence=now[sid].evidence_proficiency,
            sources=[s.source for s in now[sid].sources if s.source != SourceKind.SELF_RATING],
        )
        for sid, rating in ratings.items()
    ]
    return Rescored(changes, overall_before, audit.overall, confirmed=same)


def record_model_fact(
    turn: Turn, subject: Output, prompt: ReviewPrompt, field: str, value: Any, note: str
) -> None:
    """Record a fact about a model stated in review (a legal basis, the class balance, more
    metrics) on the model, with the person's whole note, and judge it again."""
    model = str(prompt.facts.get("model", ""))
    decide(turn, subject, prompt, Decision.ADJUST, {"model": model, field: value}, note)
    if isinstance(subject, AuditRow):
        rescore(turn, subject, model_facts={model: {field: value}})
        refresh_for_audit(turn, subject)
    elif isinstance(subject, ModelAuditRow):
        revise_model(turn, subject, {field: value})


def change_plan(
    turn: Turn, plan: PlanRow, prompt: ReviewPrompt, change: PlanChange, note: str
) -> PlanAdjusted:
    """Record a person's change to a learning plan, with their whole note, and rebuild it."""
    value = {
        "drop": list(change.drop),
        "swap": list(change.swap),
        "add": list(change.add),
        "first": list(change.first),
        "weekly_hours": change.weekly_hours,
    }
    decision = decide(
        turn, plan, prompt, Decision.ADJUST, {k: v for k, v in value.items() if v}, note
    )
    adjusted = adjust_plan(turn, plan, change)
    # The record says what was done in words, for the report.
    decision.value = {**decision.value, "done": adjusted.done, "not_done": adjusted.not_done}
    return adjusted


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
