"""Audit a person: from their interview answers or a profile file, with the evidence their
consented sources, finished skill checks and endorsements gave; store it as a draft with its
review prompts; re-score it after an adjustment or when checks and endorsements change.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.interview import build_profile
from agent.review import ReviewPrompt, merge_prompts, render_prompts
from agent.sources import UnknownSource
from agent.store import AuditRow, UserScope
from agent.turn import Turn
from agent.usecases.evidence import (
    income_records_from,
    inputs_from,
    knowledge_for,
    profile_evidence,
    run_spec,
    stored_results,
    with_market_demand,
)
from knowledge.base import KnowledgeBase, default_knowledge
from knowledge.schema import Pillar
from tools.audit import run_audit
from tools.errors import ConnectorError
from tools.params import SourceKind
from tools.profile import (
    EvidenceInput,
    IncomeRecordsSummary,
    ModelReport,
    Profile,
    load_profile,
    validate_profile,
)
from tools.results import AuditResult, Evidence, PreviousAudit, SkillStatus
from tools.skill_check import CheckResult, check_evidence

log = logging.getLogger(__name__)
# Interview answers kept with an audit as its context (for plans and reports), not scored.
CONTEXT_KEYS = ("preferred_formats", "income_streams", "clients", "top_client_share", "consents")
# Evidence origins that come from this person's stored checks and endorsements (replaced
# whole when an audit is re-scored with them).
CHECK_ORIGIN, ENDORSEMENT_ORIGIN = "skill_check", "endorsement"


class AuditReport:
    """An audit result with its review prompts; a draft until every prompt is answered."""

    def __init__(self, result: AuditResult, review: list[ReviewPrompt]) -> None:
        self.result = result
        self.review = review

    @property
    def state(self) -> str:
        return "final" if all(not p.open for p in self.review) else "draft"

    def to_dict(self) -> dict[str, Any]:
        data = self.result.model_dump(mode="json")
        data["review"] = [p.model_dump(mode="json") for p in self.review]
        data["state"] = self.state
        return data

    def to_json(self) -> str:
        """Stable JSON: the same input and as-of date give the same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class AuditOutcome:
    """A stored audit and the report it was made from."""

    row: AuditRow
    report: AuditReport


def score(
    profile: Profile,
    kb: KnowledgeBase,
    as_of: dt.date,
    force: bool = False,
    previous: PreviousAudit | None = None,
) -> AuditReport:
    """Run the deterministic audit and render its review prompts (nothing is stored)."""
    result = run_audit(profile, kb, as_of, force=force, previous=previous)
    return AuditReport(result, render_prompts(result.review))


def latest_before(scope: UserScope, day: dt.date) -> AuditRow | None:
    """The person's latest audit dated on or before `day` (a back-dated audit is compared with
    what came before it, never with a later one)."""
    earlier = [a for a in scope.audits() if a.as_of <= day]
    return earlier[-1] if earlier else None


def previous_of(latest: AuditRow | None) -> PreviousAudit | None:
    if latest is None:
        return None
    audit = latest.audit
    pillars = {key.value: pillar.score for key, pillar in audit.pillars.items()}
    return PreviousAudit(as_of=latest.as_of, overall=latest.overall, pillars=pillars)


def audit_answers(turn: Turn, answers: dict[str, Any], force: bool = False) -> AuditOutcome:
    """Score a person's interview answers with their consented evidence and store the draft.

    Raises a SkillAuditError (AuditRefused within the fatigue window, ProfileError for
    answers that do not validate); nothing is stored then.
    """
    scope = turn.scope
    kb = knowledge_for(scope, turn.kb)
    data = build_profile(answers, scope.external_id, kb, turn.today)
    latest = latest_before(scope, turn.today)
    if latest is not None:
        data["last_full_audit"] = latest.as_of.isoformat()
    results = stored_results(scope)
    evidence, models = inputs_from(results)
    data["evidence"] = [*data.get("evidence", []), *evidence, *stored_evidence(scope, turn.today)]
    if models:
        data["models"] = [*data.get("models", []), *models]
    records = income_records_from(results)
    if records is not None and not data.get("income"):
        data["income_records"] = records
    report = score(validate_profile(data, kb), kb, turn.today, force, previous_of(latest))
    row = store(turn.scope, report, data, {k: answers.get(k) for k in CONTEXT_KEYS})
    return AuditOutcome(row, report)


def score_file(
    path: Path,
    as_of: dt.date,
    settings: Settings,
    kb: KnowledgeBase | None = None,
    force: bool = False,
    connects: Sequence[list[str]] = (),
    warn: Callable[[str], None] | None = None,
    latest: AuditRow | None = None,
    extra_evidence: Sequence[dict[str, Any]] = (),
) -> tuple[AuditReport, Profile]:
    """Load, validate and audit a profile file, with evidence from `connects` specs
    (["github", "octocat"]); ProfileError / ConnectorError / AuditRefused on bad input.

    `latest` is the person's stored audit, if any: the fatigue guard and the comparison
    with the previous audit count it. `extra_evidence` are profile evidence entries (the
    person's checks and endorsements). Nothing is stored.
    """
    kb = kb or default_knowledge()
    profile = load_profile(path, kb)
    results = []
    for spec in connects:
        try:
            found, result = run_spec(spec, kb, as_of, settings)
        except UnknownSource:
            raise  # a mistyped source name is a mistake in the command itself
        except ConnectorError as exc:
            # An unreadable source costs only its own evidence: the audit goes on without it.
            if warn is not None:
                warn(f"{spec[0]}: {exc}; the audit goes on without it")
            continue
        for problem in result.problems:
            if warn is not None:
                warn(f"{found.name}: {problem}")
        results.append(result)
    if results:
        evidence, models = inputs_from(results)
        context = {"kb": kb}
        profile = profile.model_copy(
            update={
                "evidence": [
                    *profile.evidence,
                    *(EvidenceInput.model_validate(e, context=context) for e in evidence),
                ],
                "models": [
                    *profile.models,
                    *(ModelReport.model_validate(m, context=context) for m in models),
                ],
            }
        )
        records = income_records_from(results)
        if records is not None and not profile.income and profile.income_records is None:
            profile = profile.model_copy(
                update={"income_records": IncomeRecordsSummary.model_validate(records)}
            )
        kb = with_market_demand(kb, results)
    if extra_evidence:
        context = {"kb": kb}
        given = [EvidenceInput.model_validate(e, context=context) for e in extra_evidence]
        profile = profile.model_copy(update={"evidence": [*profile.evidence, *given]})
    if latest is not None and (
        profile.last_full_audit is None or profile.last_full_audit < latest.as_of
    ):
        profile = profile.model_copy(update={"last_full_audit": latest.as_of})
    return score(profile, kb, as_of, force, previous_of(latest)), profile


def audit_file(
    turn: Turn,
    path: Path,
    force: bool = False,
    connects: Sequence[list[str]] = (),
    warn: Callable[[str], None] | None = None,
) -> AuditOutcome:
    """Audit a profile file as this person's next audit and store it as their draft."""
    report, profile = score_file(
        path,
        turn.today,
        turn.settings,
        turn.kb,
        force,
        connects,
        warn,
        latest=latest_before(turn.scope, turn.today),
        extra_evidence=stored_evidence(turn.scope, turn.today),
    )
    data = profile.model_dump(mode="json", exclude_none=True)
    row = store(turn.scope, report, data, {})
    return AuditOutcome(row, report)


def store(
    scope: UserScope, report: AuditReport, profile: dict[str, Any], context: dict[str, Any]
) -> AuditRow:
    """Store a scored audit (a draft with its review prompts) and its schedule."""
    result = report.result
    audit = scope.add_audit(
        as_of=result.as_of,
        methodology_version=result.methodology_version,
        knowledge_version=result.knowledge_version,
        overall=result.overall.score,
        profile=profile,
        context=context,
        result=result.model_dump(mode="json"),
        review=[p.model_dump(mode="json") for p in report.review],
        state=report.state,
    )
    schedule = result.schedule
    scope.add_schedule(
        audit, schedule.next_audit, schedule.cadence, [d.isoformat() for d in schedule.micro_audits]
    )
    log.info("audit %s stored (%d review prompts)", audit.id, len(report.review))
    return audit


def rescore(
    turn: Turn,
    audit: AuditRow,
    ratings: Mapping[str, float] | None = None,
    model_facts: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Apply a person's review decisions to the audit's input and score it again on its date.

    A rating sets the skill's value (`reviewed`, a decision; it also replaces their own
    earlier rating); a model fact (model name -> fields such as legal_basis, positive_rate,
    metrics) is recorded on the model it names, metrics added to the ones it had. Answered
    prompts stay as they were answered (an adjustment is never lost, even when the re-scored
    audit would no longer raise it); open ones take their new wording.
    """
    kb = turn.kb
    profile = copy.deepcopy(audit.profile)
    for key in ("self_ratings", "soft_skills", "reviewed"):
        profile.setdefault(key, {})
    for skill, rating in (ratings or {}).items():
        target = "soft_skills" if kb.skills[skill].pillar == Pillar.CAREER else "self_ratings"
        other = "self_ratings" if target == "soft_skills" else "soft_skills"
        profile[other].pop(skill, None)
        profile[target][skill] = rating
        profile["reviewed"][skill] = rating
    if model_facts:
        profile["models"] = [
            revised_model(m, model_facts[m["name"]]) if m.get("name") in model_facts else m
            for m in profile.get("models", [])
        ]
    _score_again(turn, audit, profile)


def _score_again(turn: Turn, audit: AuditRow, profile: dict[str, Any]) -> None:
    """Score a changed input on the audit's date and store it, merging the review prompts."""
    kb = knowledge_for(turn.scope, turn.kb)
    report = score(validate_profile(profile, kb), kb, audit.as_of, force=True)
    review = merge_prompts(audit.prompts, report.review)
    turn.scope.update_row(
        audit,
        profile=profile,
        result=report.result.model_dump(mode="json"),
        review=[p.model_dump(mode="json") for p in review],
        overall=report.result.overall.score,
    )


def revised_model(report: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """A model report with facts stated in review; new metrics join the ones it had."""
    revised = {**report, **facts}
    if "metrics" in facts:
        revised["metrics"] = {**(report.get("metrics") or {}), **facts["metrics"]}
    return revised


# Checks and endorsements as evidence -----------------------------------------------------


def stored_evidence(scope: UserScope, as_of: dt.date, clamp: bool = False) -> list[dict[str, Any]]:
    """Profile evidence from the person's finished skill checks and received endorsements.

    Every finished check is one item (retaking never picks a lucky run); an endorser counts
    once per skill, with their latest rating. An item dated after `as_of` is left out of an
    audit of that date, or, with `clamp` (a re-score of the latest audit), dated `as_of`.
    """
    items: list[Evidence] = []
    for row in scope.check_sessions("finished"):
        if row.result is None:
            continue
        item = check_evidence(CheckResult.model_validate(row.result))
        day = row.finished_on or item.observed
        items.append(item.model_copy(update={"observed": day}))
    latest: dict[tuple[int, str], tuple[Any, float]] = {}
    for given in scope.endorsements_received():  # oldest first: a later rating replaces
        for skill, rating in given.ratings.items():
            latest[(given.endorser_id, skill)] = (given, float(rating))
    for (_, skill), (given, rating) in sorted(
        latest.items(), key=lambda kv: (kv[1][0].id, kv[0][1])
    ):
        items.append(
            Evidence(
                skill=skill,
                source=SourceKind.PEER_REVIEW,
                strength=rating / 5,
                observed=given.given_on,
                origin=ENDORSEMENT_ORIGIN,
                signal=given.relationship,
                # No name: the detail reaches reports and, redacted, a remote model.
                detail=f"endorsement {given.id} by a {given.relationship}: {rating:g}/5",
            )
        )
    kept = []
    for item in items:
        if item.observed > as_of:
            if not clamp:
                continue
            item = item.model_copy(update={"observed": as_of})
        kept.append(profile_evidence(item))
    return kept


@dataclass(frozen=True)
class SkillChange:
    """One skill before and after a re-score."""

    skill: str
    name: str
    before: float | None
    after: float | None
    confidence_before: float
    confidence_after: float


@dataclass(frozen=True)
class Rescored:
    """What re-scoring the latest audit with the stored checks and endorsements changed."""

    audit: AuditRow
    overall_before: float | None
    overall_after: float | None
    confidence_before: float
    confidence_after: float
    skills: list[SkillChange]
    new_prompts: int


def with_stored_evidence(turn: Turn, skills: Sequence[str] = ()) -> Rescored | None:
    """Re-score the latest audit on its date with the person's checks and endorsements now.

    Called whenever those change (a check finished, an endorsement given, withdrawn or
    erased), so the latest audit always counts exactly what is stored. `skills` are the
    ones to report on. An audit with new open prompts is a draft again. None without an audit.
    """
    audit = turn.scope.latest_audit()
    if audit is None:
        return None
    before = audit.audit
    open_before = {p.id for p in audit.open_prompts()}
    profile = copy.deepcopy(audit.profile)
    kept = [
        e
        for e in profile.get("evidence", [])
        if e.get("origin") not in (CHECK_ORIGIN, ENDORSEMENT_ORIGIN)
    ]
    profile["evidence"] = [*kept, *stored_evidence(turn.scope, audit.as_of, clamp=True)]
    _score_again(turn, audit, profile)
    after = audit.audit
    new_prompts = [p for p in audit.open_prompts() if p.id not in open_before]
    if new_prompts and audit.state != "draft":
        turn.scope.update_row(audit, state="draft")
    _realign_review(turn.scope, audit)
    old = {s.id: s for s in before.skills}
    changes = []
    for skill in after.skills:
        if skill.id in skills:
            was = old.get(skill.id)
            changes.append(
                SkillChange(
                    skill=skill.id, name=skill.name,
                    before=None if was is None else was.proficiency, after=skill.proficiency,
                    confidence_before=0.0 if was is None else was.confidence,
                    confidence_after=skill.confidence,
                )
            )  # fmt: skip
    return Rescored(
        audit=audit,
        overall_before=before.overall.score,
        overall_after=after.overall.score,
        confidence_before=before.overall.confidence,
        confidence_after=after.overall.confidence,
        skills=changes,
        new_prompts=len(new_prompts),
    )


def least_supported(audit: AuditRow, count: int, among: Sequence[str] | None = None) -> list[str]:
    """The role's skills (optionally only those `among`) the audit rests on least.

    First the estimated skills by confidence (lowest first; the heavier in the role first on
    a tie), then, if that is not enough, the heaviest skills with no estimate at all.
    """
    allowed = None if among is None else set(among)
    needed = [
        s for s in audit.audit.skills if s.relevance > 0 and (allowed is None or s.id in allowed)
    ]
    known = sorted(
        (s for s in needed if s.status != SkillStatus.UNKNOWN),
        key=lambda s: (s.confidence, -s.relevance * s.demand, s.id),
    )
    unknown = sorted(
        (s for s in needed if s.status == SkillStatus.UNKNOWN),
        key=lambda s: (-s.relevance * s.demand, s.id),
    )
    return [s.id for s in [*known, *unknown][:count]]


def _realign_review(scope: UserScope, audit: AuditRow) -> None:
    """Keep an active review of this audit on a prompt that still exists and is open."""
    for flow in scope.active_flows():
        if flow.flow != "review" or flow.answers.get("subject", "audit") != "audit":
            continue
        if int(flow.answers.get("row_id", -1)) != audit.id:
            continue
        current = audit.prompt(flow.position)
        if current is not None and current.open:
            continue
        waiting = audit.open_prompts()
        if waiting:
            flow.position = waiting[0].id
            flow.answers["mode"] = "choose"
            scope.save_flow(flow)
        else:
            scope.end_flow(flow, "done")
