"""History of a user's audits: comparison of two audits and reports written to files."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.review import ReviewPrompt
from agent.store import AuditRow, PlanRow, ReviewDecision
from prompts.loader import render
from tools.errors import StorageError
from tools.numbers import rank
from tools.params import METHODOLOGY_URL
from tools.results import AuditResult, SkillScore

REPORT_FORMATS = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


CLOSED_GAP, OPEN_GAP, NARROWED = 0.10, 0.25, 0.6


@dataclass(frozen=True)
class Delta:
    before: str
    overall: float | None
    pillars: list[tuple[str, float | None]]
    closed: list[str]  # gap was at least 0.25, is now at most 0.10
    narrowed: list[str]  # gap shrank by 40% or more
    new: list[str]  # a gap of at least 0.25 where there was (almost) none
    moved: list[str]  # the largest proficiency changes


def _change(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else round(after - before, 1)


def compare(before: AuditRow, after: AuditRow) -> Delta:
    """Per-pillar and per-skill changes between two audits: gaps closed, narrowed and new."""
    earlier, later = before.audit, after.audit
    pillars = [
        (p.title, _change(p.score, earlier.pillars[key].score if key in earlier.pillars else None))
        for key, p in later.pillars.items()
    ]
    old = {s.id: s for s in earlier.skills}
    closed, narrowed, new, moves = [], [], [], []
    for skill in later.skills:
        prior = old.get(skill.id)
        was = prior.gap if prior is not None else None
        now = skill.gap
        name = skill.name
        if now is not None and was is not None and was >= OPEN_GAP and now <= CLOSED_GAP:
            closed.append(name)
        elif now is not None and was is not None and was > CLOSED_GAP and now <= was * NARROWED:
            narrowed.append(f"{name} ({was:.2f} to {now:.2f})")
        elif (
            now is not None
            and now >= OPEN_GAP
            and (was is None or was <= CLOSED_GAP)
            and skill.relevance > 0
        ):
            new.append(name)
        change = _change(skill.proficiency, prior.proficiency if prior is not None else None)
        if change:
            moves.append((abs(change), skill.id, name, change))
    moves.sort(key=lambda m: (-m[0], m[1]))
    return Delta(
        before=str(before.as_of),
        overall=_change(after.overall, before.overall),
        pillars=pillars,
        closed=sorted(closed),
        narrowed=sorted(narrowed),
        new=sorted(new),
        moved=[f"{name} {change:+.0f}" for _, _, name, change in moves[:5]],
    )


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path` and rename it, so nothing is half-written.

    A full disk or a missing permission raises `StorageError` with a sentence for the person;
    the temporary file is removed and an earlier file at `path` is left as it was.
    """
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        _discard(temporary)
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = "the disk is full" if full else (exc.strerror or type(exc).__name__).lower()
        raise StorageError(
            f"I could not save {path.name}: {reason}. Nothing was written; "
            "free some space (or fix the folder's permissions) and try again."
        ) from exc
    except BaseException:
        _discard(temporary)
        raise


def _discard(temporary: str | None) -> None:
    if temporary is not None:
        # Best effort: the original error is the one to report.
        with contextlib.suppress(OSError):
            Path(temporary).unlink(missing_ok=True)


# The evidence beside a reviewed value, in words ("your model's metrics suggested 4.4/5").
SOURCE_WORDS = {
    "model_metrics": "your model's metrics", "code": "your code", "certificate": "your certificates",
    "competition": "your competition results", "peer_review": "peer reviews",
    "work_record": "your income records", "skill_check": "your skill check",
    "self_rating": "your own rating",
}  # fmt: skip
FACT_WORDS = {
    "legal_basis": "legal basis",
    "positive_rate": "share of positives",
    "metrics": "metrics",
}


def when(moment: dt.datetime) -> str:
    """A decision's time to the minute, in UTC: "30 Nov 2026 10:11"."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment  # SQLite keeps UTC, naive
    return f"{utc.day} {utc:%b %Y %H:%M}"


def rating(value: float | None) -> str:
    return "not known" if value is None else f"{value:g}"


def beside(skill: SkillScore) -> str:
    """What the evidence alone says, when it differs from the value the person set."""
    if skill.reviewed is None or skill.evidence_proficiency is None:
        return ""
    estimate = round(skill.evidence_proficiency / 20, 1)
    if estimate == skill.reviewed:
        return ""
    others = [s.source for s in skill.sources if s.source != "self_rating"]
    who = " and ".join(SOURCE_WORDS.get(s, s.replace("_", " ")) for s in others)
    return f"{who or 'the evidence'} suggested {estimate:g}/5"


def skill_notes(result: AuditResult) -> dict[str, str]:
    """For each skill whose value a person set: "you set 3/5; your model's metrics suggested 4.4/5"."""
    notes = {}
    for skill in result.skills:
        if skill.reviewed is not None:
            evidence = beside(skill)
            notes[skill.id] = f"you set {skill.reviewed:g}/5" + (
                f"; {evidence}" if evidence else ""
            )
    return notes


def decision_line(
    decision: ReviewDecision,
    prompts: dict[str, ReviewPrompt],
    result: AuditResult | None,
    owner: str | None,
) -> str:
    """One review decision in words, with display names and the time to the minute."""
    value = dict(decision.value or {})
    reason = f", because '{decision.reason}'" if decision.reason else ""
    by = "" if owner is None or decision.decided_by == owner else " by your reviewer"
    stamp = f" ({when(decision.decided_at)}{by})"
    if decision.decision in ("approve", "return"):
        verb = "Approved" if decision.decision == "approve" else "Returned"
        comment = f": '{decision.reason}'" if decision.reason else ""
        return f"{verb} by your reviewer{comment} ({when(decision.decided_at)})"
    skills = {s.id: s for s in (result.skills if result else [])}
    ratings = value.get("ratings")
    before = value.get("before") or {}
    if ratings is None and value and all(isinstance(v, int | float) for v in value.values()):
        ratings = value  # recorded before "before" was kept
    if ratings:
        parts = []
        for sid, new in ratings.items():
            found = skills.get(sid)
            name = found.name if found else sid.replace("_", " ").capitalize()
            if decision.decision == "confirm":
                parts.append(f"{name}: {rating(new)}/5, confirmed")
                continue
            extra = beside(found) if found is not None and found.reviewed == new else ""
            moved = f"{rating(before.get(sid))} -> " if sid in before else ""
            parts.append(f"{name}: {moved}{rating(new)}/5" + (f" ({extra})" if extra else ""))
        return "; ".join(parts) + reason + stamp
    if "model" in value:
        model = value["model"] or "your model"
        facts = [
            f"{FACT_WORDS.get(k, k)} recorded as {_fact(k, v)}"
            for k, v in value.items()
            if k != "model"
        ]
        return f"{model[:1].upper()}{model[1:]}: {', '.join(facts)}{reason}{stamp}"
    if "done" in value:
        done = "; ".join(value["done"]) or "nothing could be changed"
        left = f" ({'; '.join(value['not_done'])})" if value.get("not_done") else ""
        return f"Learning plan: {done}{left}{reason}{stamp}"
    subject = _subject(prompts.get(decision.prompt_id), skills)
    if decision.decision == "confirm":
        return f"{subject}: confirmed{reason}{stamp}"
    note = f", note: '{decision.reason}'" if decision.reason else ""
    return f"{subject}{note}{stamp}"


def _fact(field: str, value: Any) -> str:
    if field == "positive_rate" and isinstance(value, int | float):
        return f"{value:.1%}"
    if field == "metrics" and isinstance(value, dict):
        return ", ".join(f"{k.replace('_', '-').upper()} {v:g}" for k, v in value.items())
    return str(value).replace("_", " ")


def _subject(prompt: ReviewPrompt | None, skills: dict[str, SkillScore]) -> str:
    """What a prompt was about, in a few words: its skills by name, or its first sentence."""
    if prompt is None:
        return "Review"
    if prompt.subject:
        return prompt.subject[:1].upper() + prompt.subject[1:]
    if prompt.skills:
        names = [skills[s].name if s in skills else s.replace("_", " ") for s in prompt.skills]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        return shown
    first = prompt.question.split(". ")[0].rstrip(".")
    return first


def report_data(
    audit: AuditRow,
    decisions: list[ReviewDecision],
    plan: PlanRow | None,
    plan_decisions: list[ReviewDecision] | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    result = audit.audit
    prompts = {p.id: p for p in audit.prompts}
    if plan is not None:
        prompts.update({p.id: p for p in plan.prompts})
    trail = [(d, "audit") for d in decisions] + [(d, "plan") for d in plan_decisions or []]
    trail.sort(key=lambda pair: (_utc(pair[0].decided_at), pair[0].id or 0))
    lines = [decision_line(d, prompts, result, owner) for d, _ in trail]
    return {
        "recommendations": plan.recommendations if plan else [],
        "plan": plan.plan if plan else None,
        "plan_state": plan.state if plan else None,
        "audit_id": audit.id,
        "state": audit.state,
        "methodology": METHODOLOGY_URL,
        "result": audit.result,
        "review": audit.review,
        "skill_notes": skill_notes(result),
        "review_lines": lines,
        "decisions": [
            {"subject": subject, "prompt": d.prompt_id, "decision": d.decision, "value": d.value,
             "reason": d.reason, "by": d.decided_by, "at": _utc(d.decided_at).isoformat(timespec="seconds"),
             "text": line}
            for (d, subject), line in zip(trail, lines, strict=True)
        ],
    }  # fmt: skip


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def render_report(
    audit: AuditRow,
    decisions: list[ReviewDecision],
    plan: PlanRow | None,
    fmt: str,
    plan_decisions: list[ReviewDecision] | None = None,
    owner: str | None = None,
) -> str:
    data = report_data(audit, decisions, plan, plan_decisions, owner)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    return render(f"report/report.{fmt}.j2", rank=rank, **data)


def write_report(
    audit: AuditRow,
    decisions: list[ReviewDecision],
    plan: PlanRow | None,
    fmt: str,
    folder: Path,
    plan_decisions: list[ReviewDecision] | None = None,
    owner: str | None = None,
) -> Path:
    path = folder / f"audit-{audit.id}-{audit.as_of}.{fmt}"
    write_atomically(path, render_report(audit, decisions, plan, fmt, plan_decisions, owner))
    return path
