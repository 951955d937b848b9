"""Connect a source, grant or withdraw consent, and turn what was found into audit input.

What a connector finds is stored per person with its fetch time and reused while fresh
(24 hours), counts in every later audit, and is deleted when consent for that source is
withdrawn or the person is erased.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent.config import Settings
from agent.sources import CONSENT_SOURCES, NOT_HERE, SOURCES, Context, Source, UnknownSource, source
from agent.store import Upload, UserScope
from agent.turn import Turn
from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult, check_upload
from tools.errors import ConnectorError
from tools.results import Evidence

log = logging.getLogger(__name__)
FRESH_FOR = dt.timedelta(hours=24)
SIMILAR_MIN, SIMILAR_MARGIN = 0.885, 0.03  # measured on course titles; below, matches were guesses


class ConnectStatus(StrEnum):
    FOUND = "found"  # the connector ran now
    CACHED = "cached"  # a fresh stored result was reused
    NEEDS_CONSENT = "needs_consent"  # nothing was read: the person has not allowed the source


@dataclass(frozen=True)
class Connection:
    """The outcome of connecting one source for one person."""

    source: Source
    status: ConnectStatus
    result: ConnectorResult | None = None

    @property
    def data(self) -> dict[str, Any] | None:
        return None if self.result is None else self.result.model_dump(mode="json")


def key_of(source_name: str, args: list[str]) -> str:
    return hashlib.sha256(json.dumps([source_name, args]).encode()).hexdigest()[:32]


def connect(turn: Turn, name: str, args: list[str], refresh: bool = False) -> Connection:
    """Check consent, reuse a fresh stored result or run the connector and store what it found.

    Raises UnknownSource for a name not in the registry and ConnectorError when the source
    cannot be read (bad arguments, missing file, bad credentials).
    """
    found = source(name)
    if turn.remote and found.local_only:
        raise ConnectorError(NOT_HERE)
    if found.consent and not turn.scope.consents().get(found.consent):
        return Connection(found, ConnectStatus.NEEDS_CONSENT)
    key = key_of(found.name, args)
    cached = turn.scope.connector_run(found.name, key)
    if cached is not None and not refresh and _now() - _aware(cached.fetched_at) < FRESH_FOR:
        return Connection(
            found, ConnectStatus.CACHED, ConnectorResult.model_validate(cached.result)
        )
    context = Context(
        kb=turn.kb, settings=turn.settings, today=turn.today, similar=_similar(turn),
        asker=turn.asker, uploads=turn.uploads,
    )  # fmt: skip
    if turn.remote:
        try:
            result = _for_remote(found.run(args, context), turn)
        except ConnectorError as exc:
            raise ConnectorError(_no_paths(str(exc), turn)) from None
    else:
        result = found.run(args, context)
    turn.scope.save_connector_run(
        found.name, key, result.fetched_at, result.model_dump(mode="json")
    )
    log.info(
        "connector %s: %d evidence items, %d problems",
        found.name,
        len(result.evidence),
        len(result.problems),
    )
    return Connection(found, ConnectStatus.FOUND, result)


def _no_paths(text: str, turn: Turn) -> str:
    """A message for a remote person, with no path on the server in it."""
    for folder in (turn.uploads, turn.user_dir, turn.settings.home):
        text = text.replace(f"{folder}/", "").replace(str(folder), "")
    return text


def _for_remote(result: ConnectorResult, turn: Turn) -> ConnectorResult:
    """What a connector found, as kept for a remote person: no server paths in its texts,
    and evidence details without raw text from the file beyond the matched skill words."""
    evidence = [
        item.model_copy(update={"detail": _no_paths(_matched_words(item.detail), turn)})
        for item in result.evidence
    ]
    return result.model_copy(
        update={
            "evidence": evidence,
            "summary": _no_paths(result.summary, turn),
            "problems": [_no_paths(p, turn) for p in result.problems],
        }
    )


def _matched_words(detail: str) -> str:
    """Drop the quoted context a text connector keeps around a match ('CV mentions "Docker":
    "...the line..."' keeps 'CV mentions "Docker"'), so no other text of the file is kept."""
    head, separator, _ = detail.partition('": "')
    return f'{head}"' if separator else detail


# Uploads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedUpload:
    name: str  # the name to use with /connect
    kind: str  # pdf, text
    size: int
    sources: list[Source]  # the sources that read files of this kind


def save_upload(turn: Turn, upload: Upload) -> SavedUpload:
    """Keep a file a remote person sent in their own folder, after checking size and content.

    Raises ConnectorError when the file is refused (too large, not PDF or text).
    """
    checked = check_upload(upload.name, upload.data, turn.settings.max_upload_bytes)
    folder = turn.uploads
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / checked.name
    partial = target.with_name(f".{checked.name}.part")
    partial.write_bytes(upload.data)
    partial.replace(target)  # a file being written is never read half-way
    suffix = checked.name.rsplit(".", 1)[-1]
    if checked.kind == "pdf" or suffix in ("md", "markdown", "txt", "text"):
        names = ["cv"]
    elif suffix == "json":
        names = ["job_postings"]
    else:
        names = _csv_sources(upload.data)
    return SavedUpload(checked.name, checked.kind, len(upload.data), [SOURCES[n] for n in names])


# The sources that read CSV files, the likelier first when a header fits several.
CSV_SOURCES = ("income_csv", "certificates", "kaggle", "fairness", "job_postings")


def _csv_sources(data: bytes) -> list[str]:
    """The sources whose files a CSV's header looks like (an Upwork export is income, a
    LinkedIn Learning export certificates); all of them when it looks like none."""
    import csv

    from tools.connectors import certificates, fairness, income_csv, job_postings, kaggle
    from tools.connectors.text import sniff_delimiter

    first = data[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    try:
        header = next(csv.reader(first, delimiter=sniff_delimiter(first[0] if first else "")))
    except (StopIteration, csv.Error):
        return list(CSV_SOURCES)
    looks = {
        "income_csv": income_csv.looks_like, "certificates": certificates.looks_like,
        "kaggle": kaggle.looks_like, "fairness": fairness.looks_like,
        "job_postings": job_postings.looks_like,
    }  # fmt: skip
    fitting = [name for name in CSV_SOURCES if looks[name](header)]
    return fitting or list(CSV_SOURCES)


def run_spec(
    spec: list[str], kb: KnowledgeBase, today: dt.date, settings: Settings
) -> tuple[Source, ConnectorResult]:
    """Run one connector for a command-line audit (`--connect "github octocat"`); the flag
    is the consent, and nothing is stored."""
    if not spec:
        raise UnknownSource("")
    found = source(spec[0])
    return found, found.run(spec[1:], Context(kb=kb, settings=settings, today=today))


def _similar(turn: Turn) -> Callable[[str], list[tuple[str, float]]]:
    """Skill by meaning for titles no alias matches: only a clear winner counts. The index
    is opened only if a connector actually asks (most never do)."""

    def similar(text: str) -> list[tuple[str, float]]:
        try:
            retriever = turn.recommender.retriever()
        except Exception:  # the index is optional here: aliases still work without it
            log.warning("skill matching by meaning is unavailable", exc_info=True)
            return []
        ranked = retriever.skills_by_meaning(text, 3)
        if not ranked or ranked[0][1] < SIMILAR_MIN:
            return []
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < SIMILAR_MARGIN:
            return []
        return [(ranked[0][0], 1.0)]

    return similar


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# Consent ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentChange:
    source: str
    granted: bool
    deleted: int = 0  # stored results deleted because consent was withdrawn


def set_consent(scope: UserScope, names: Iterable[str], granted: bool) -> list[ConsentChange]:
    """Grant or withdraw consent per source; withdrawing deletes what came from it."""
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in CONSENT_SOURCES]
    if unknown or not wanted:
        raise UnknownSource(" ".join(unknown))
    changes = []
    for name in wanted:
        scope.set_consent(name, granted)
        deleted = 0 if granted else scope.delete_source_data(name)
        changes.append(ConsentChange(name, granted, deleted))
    return changes


def replace_consents(scope: UserScope, allowed: Iterable[str]) -> list[ConsentChange]:
    """Record the answer to the consent question: exactly these sources are allowed.

    Returns the withdrawals (sources allowed before and not now), whose data is deleted.
    """
    keep = set(allowed)
    before = scope.consents()
    withdrawn = []
    for name in CONSENT_SOURCES:
        scope.set_consent(name, name in keep)
        if before.get(name) and name not in keep:
            withdrawn.append(ConsentChange(name, False, scope.delete_source_data(name)))
    return withdrawn


def consent_status(scope: UserScope) -> dict[str, bool]:
    """Every consent source and whether the person allows it now."""
    granted = scope.consents()
    return {name: bool(granted.get(name)) for name in CONSENT_SOURCES}


# Evidence for audits ------------------------------------------------------------------


def profile_evidence(item: Evidence) -> dict[str, Any]:
    """A connector's evidence item as a profile `evidence` entry (bounded sizes)."""
    return {
        "skill": item.skill, "source": item.source.value, "strength": item.strength,
        "observed": item.observed.isoformat(), "detail": item.detail[:500], "link": item.link,
        "origin": item.origin[:60], "signal": item.signal[:60],
    }  # fmt: skip


def inputs_from(
    results: Iterable[ConnectorResult],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evidence entries and model reports (profile data) from connector results."""
    evidence: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    for result in results:
        evidence += [profile_evidence(item) for item in result.evidence]
        models += result.models
    return evidence, models


def income_records_from(results: Iterable[ConnectorResult]) -> dict[str, Any] | None:
    """The income summary (counts and shares, no amounts) of the latest income export read,
    as a profile's `income_records`; None when no income export was read.

    Several exports (Upwork and Fiverr, say) cannot be merged from their shares alone; the
    latest one read stands for the person's income until they give records in their profile.
    """
    latest = None
    for result in results:
        summary = result.data.get("summary") if result.source == "income" else None
        if isinstance(summary, dict) and (latest is None or result.fetched_at >= latest[0]):
            latest = (result.fetched_at, result.data)
    if latest is None:
        return None
    data = latest[1]
    metrics = data.get("metrics") or {}
    platform = data.get("platform") or "income"
    return {
        **data["summary"],
        "growth": metrics.get("growth_rate"),
        "retention": metrics.get("client_retention"),
        "source": f"{platform} export"[:60],
    }


def stored_results(scope: UserScope) -> list[ConnectorResult]:
    """Every stored connector result the person (still) consents to."""
    consents = scope.consents()
    results = []
    for run in scope.connector_runs():
        known = SOURCES.get(run.source)
        needs = known.consent if known is not None else run.source
        if needs and not consents.get(needs):
            continue
        results.append(ConnectorResult.model_validate(run.result))
    return results


def with_market_demand(kb: KnowledgeBase, results: Iterable[ConnectorResult]) -> KnowledgeBase:
    """The knowledge an audit uses: bundled, with demand from the latest job postings given."""
    postings = [r for r in results if r.source == "job_postings"]
    if not postings:
        return kb
    demand = postings[-1].data.get("demand")
    if not demand or not demand.get("skills"):
        return kb
    span = demand["date_range"]
    note = f"{demand['postings']} job postings dated {span['from']} to {span['to']} (supplied by the user)"
    return kb.with_demand(demand["skills"], note, dt.date.fromisoformat(demand["as_of"]))


def knowledge_for(scope: UserScope, kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge this person's audits use (job postings they supplied update demand)."""
    runs = [r for r in scope.connector_runs() if r.source == "job_postings"]
    return with_market_demand(kb, [ConnectorResult.model_validate(r.result) for r in runs])
