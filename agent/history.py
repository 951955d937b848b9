"""History of a user's audits: comparison of two audits and reports written to files."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.store import AuditRow, PlanRow, ReviewDecision
from prompts.loader import render
from tools.errors import StorageError
from tools.params import METHODOLOGY_URL

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


def report_data(
    audit: AuditRow, decisions: list[ReviewDecision], plan: PlanRow | None
) -> dict[str, Any]:
    return {
        "recommendations": plan.recommendations if plan else [],
        "plan": plan.plan if plan else None,
        "audit_id": audit.id,
        "state": audit.state,
        "methodology": METHODOLOGY_URL,
        "result": audit.result,
        "review": audit.review,
        "decisions": [
            {"prompt": d.prompt_id, "decision": d.decision, "value": d.value, "reason": d.reason,
             "by": d.decided_by, "at": d.decided_at.isoformat()}
            for d in decisions
        ],
    }  # fmt: skip


def render_report(
    audit: AuditRow, decisions: list[ReviewDecision], plan: PlanRow | None, fmt: str
) -> str:
    data = report_data(audit, decisions, plan)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    return render(f"report/report.{fmt}.j2", **data)


def write_report(
    audit: AuditRow, decisions: list[ReviewDecision], plan: PlanRow | None, fmt: str, folder: Path
) -> Path:
    path = folder / f"audit-{audit.id}-{audit.as_of}.{fmt}"
    write_atomically(path, render_report(audit, decisions, plan, fmt))
    return path
