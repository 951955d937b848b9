"""A person's records: history of audits, reports, the export of everything, and erasure."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from agent import history
from agent.store import AuditRow, ErasedPerson, OutputKind
from agent.turn import Turn
from agent.usecases.endorsements import erase_all_given
from tools.results import AuditResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    audits: list[AuditRow]  # oldest first
    delta: history.Delta | None  # the latest two compared
    chart: Path | None  # overall and pillar scores over time (PNG, drawn once the turn commits)


def progress(turn: Turn, chart: bool = True) -> Progress:
    """Every audit, what changed between the latest two, and a progress chart."""
    audits = turn.scope.audits()
    delta = history.compare(audits[-2], audits[-1]) if len(audits) >= 2 else None
    path = None
    if audits and chart:
        path = turn.user_dir / "charts" / f"progress-{audits[-1].id}.png"
        results = [a.audit for a in audits]
        turn.after_commit.append(lambda: _progress_chart(results, path))
    return Progress(audits, delta, path)


def _progress_chart(results: list[AuditResult], path: Path) -> None:
    # Drawn after the commit: importing matplotlib and rendering take most of a second,
    # which must not be spent holding the store's write lock.
    from agent.charts import progress_chart

    progress_chart(results, path)


def _radar_chart(result: AuditResult, path: Path) -> None:
    from agent.charts import radar_chart

    radar_chart(result, path)


@dataclass(frozen=True)
class ReportFiles:
    audit: AuditRow
    report: Path
    radar: Path  # the pillar chart (drawn once the turn commits)
    media_type: str


def report(turn: Turn, fmt: str = "md") -> ReportFiles | None:
    """Write the latest audit's report (md, html or json) and its pillar chart; None without one."""
    latest = turn.scope.latest_audit()
    if latest is None:
        return None
    if fmt not in history.REPORT_FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    folder = turn.user_dir / "reports"
    plan = turn.scope.latest_plan(latest)
    decisions = turn.scope.decisions(OutputKind.AUDIT.value, latest.id)
    plan_decisions = turn.scope.decisions(OutputKind.PLAN.value, plan.id) if plan else []
    path = history.write_report(
        latest, decisions, plan, fmt, folder, plan_decisions, turn.scope.external_id
    )
    radar = folder / f"audit-{latest.id}-pillars.png"
    result = latest.audit
    turn.after_commit.append(lambda: _radar_chart(result, radar))  # after the commit, as above
    return ReportFiles(latest, path, radar, history.REPORT_FORMATS[fmt])


@dataclass(frozen=True)
class ExportFile:
    path: Path
    audits: int
    conversations: int


def export(turn: Turn) -> ExportFile:
    """Write everything stored about the person to one JSON file."""
    data = turn.scope.export()
    folder = turn.user_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"skillaudit-export-{turn.today.isoformat()}.json"
    history.write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return ExportFile(path, len(data["audits"]), len(data["sessions"]))


@dataclass(frozen=True)
class Erasure:
    rows: dict[str, int]  # rows deleted per table
    files: int  # generated files removed


def forget(turn: Turn) -> Erasure:
    """Erase every row about the person; their files and the store's free space are cleaned,
    and the store searched for their id and texts, once the transaction has committed
    (`turn.scrubbed` then says what the search found). Endorsements they gave others go too,
    and the audits of the people endorsed are re-scored without them."""
    markers = turn.scope.given_texts()
    key = turn.scope.user.id
    given = erase_all_given(turn)
    counts = turn.scope.erase()
    counts["endorsements_given"] = counts.get("endorsements_given", 0) + given
    folder = turn.user_dir
    files = sum(1 for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0
    turn.after_commit.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    turn.scrub = True
    turn.erased = ErasedPerson(key, [table for table, n in counts.items() if n], markers)
    log.info("erased all data of one user")
    return Erasure(counts, files)
