"""Running connectors for a person: consent first, cached results, evidence into audits.

`/connect SOURCE ARGS` (and `skillaudit connect SOURCE ARGS`) runs one connector; what it
finds is stored per user with its fetch time and reused while fresh, counts in every later
audit, and is deleted when consent for that source is withdrawn or the user is erased.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.reply import Choice, Reply
from agent.store import FlowSession, UserScope
from agent.turn import Turn
from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult
from tools.errors import ConnectorError
from tools.results import Evidence

log = logging.getLogger(__name__)
FRESH_FOR = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Context:
    """What a connector run may use: knowledge, the environment (tokens, URLs), today."""

    kb: KnowledgeBase
    env: Mapping[str, str]
    today: dt.date
    # text -> [(skill id, score)] by meaning (the vector index), when one is available
    similar: Callable[[str], list[tuple[str, float]]] | None = None


@dataclass(frozen=True)
class Source:
    name: str
    consent: str | None  # the consent it needs; None for market data (job postings)
    usage: str
    run: Callable[[list[str], Context], ConnectorResult]


SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    SOURCES[source.name] = source


def key_of(source: str, args: list[str]) -> str:
    return hashlib.sha256(json.dumps([source, args]).encode()).hexdigest()[:32]


def connect(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Handle `/connect SOURCE ARGS`, then repeat the question the person was at (if any)."""
    reply = _connect(turn, argument)
    if flow is None:
        return reply
    from agent.engine import resume

    back = resume(turn, flow).prefixed(reply.text + "\n\nBack to where we were:")
    return back.model_copy(update={"data": reply.data})


def _connect(turn: Turn, argument: str) -> Reply:
    """Check consent, reuse a fresh result or run the connector."""
    from agent import sources  # noqa: F401  (registers the connectors)

    try:
        words = shlex.split(argument)
    except ValueError as exc:
        return Reply(text=f"I could not read that: {exc}.")
    if not words or words[0] not in SOURCES:
        listing = "\n".join(f"- {s.usage}" for s in SOURCES.values())
        unknown = f"Unknown source {words[0]!r}; connect" if words else "Connect"
        return Reply(text=f"{unknown} one of these sources:\n{listing}")
    source = SOURCES[words[0]]
    refresh = "--refresh" in words
    args = [w for w in words[1:] if w != "--refresh"]
    if source.consent and not turn.scope.consents().get(source.consent):
        grant = f"/consent grant {source.consent}"
        text = f"I need your consent before reading {source.name}. Allow it with {grant}, then try again."
        return Reply(text=text, choices=[Choice(label=f"Allow {source.name}", value=grant)])
    key = key_of(source.name, args)
    cached = turn.scope.connector_run(source.name, key)
    if cached is not None and not refresh and _now() - _aware(cached.fetched_at) < FRESH_FOR:
        result = ConnectorResult.model_validate(cached.result)
        return Reply(text=_describe(source, result, cached=True), data=cached.result)
    context = Context(kb=turn.kb, env=dict(os.environ), today=turn.today, similar=_similar(turn))
    try:
        result = source.run(args, context)
    except ConnectorError as exc:
        return Reply(text=f"{source.name}: {exc}\nUsage: {source.usage}")
    stored = result.model_dump(mode="json")
    turn.scope.save_connector_run(source.name, key, result.fetched_at, stored)
    log.info(
        "connector %s: %d evidence items, %d problems",
        source.name,
        len(result.evidence),
        len(result.problems),
    )
    return Reply(text=_describe(source, result, cached=False), data=stored)


SIMILAR_MIN, SIMILAR_MARGIN = 0.885, 0.03  # measured on course titles; below, matches were guesses


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


def _describe(source: Source, result: ConnectorResult, cached: bool) -> str:
    when = (
        f" (from {result.fetched_at:%Y-%m-%d %H:%M} UTC; add --refresh to fetch again)"
        if cached
        else ""
    )
    lines = [f"{source.name}{when}: {result.summary}"]
    lines += [f"- could not read: {p}" for p in result.problems[:5]]
    if len(result.problems) > 5:
        lines.append(f"- and {len(result.problems) - 5} more problems")
    if result.evidence or result.models:
        lines.append("This counts in your next audit (/audit force to run one now).")
    return "\n".join(lines)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def audit_inputs(scope: UserScope) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evidence (as profile `evidence` items) and model reports from every stored connector
    result the person consented to, so the audit's input is complete and re-scorable."""
    from agent import sources  # noqa: F401  (registers the connectors)

    consents = scope.consents()
    evidence: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    for run in scope.connector_runs():
        source = SOURCES.get(run.source)
        needs = source.consent if source else run.source
        if needs and not consents.get(needs):
            continue
        result = ConnectorResult.model_validate(run.result)
        evidence += [_as_input(item) for item in result.evidence]
        models += result.models
    return evidence, models


def _as_input(item: Evidence) -> dict[str, Any]:
    return {
        "skill": item.skill, "source": item.source.value, "strength": item.strength,
        "observed": item.observed.isoformat(), "detail": item.detail[:500], "link": item.link,
        "origin": item.origin[:60], "signal": item.signal[:60],
    }  # fmt: skip


def audit_knowledge(scope: UserScope, kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge an audit uses: bundled, with demand from the person's job postings if any."""
    runs = [run for run in scope.connector_runs() if run.source == "job_postings"]
    if not runs:
        return kb
    demand = runs[-1].result.get("data", {}).get("demand")
    if not demand or not demand.get("skills"):
        return kb
    span = demand["date_range"]
    note = f"{demand['postings']} job postings dated {span['from']} to {span['to']} (supplied by the user)"
    return kb.with_demand(demand["skills"], note, dt.date.fromisoformat(demand["as_of"]))


def run_direct(spec: str, kb: KnowledgeBase, today: dt.date) -> tuple[str, ConnectorResult]:
    """Run one connector from a command-line spec ("github octocat"); the flag is the consent."""
    from agent import sources  # noqa: F401  (registers the connectors)

    try:
        words = shlex.split(spec)
    except ValueError as exc:
        raise ConnectorError(f"--connect {spec!r}: {exc}") from exc
    if not words or words[0] not in SOURCES:
        raise ConnectorError(f"--connect {spec!r}: unknown source; one of {', '.join(SOURCES)}")
    source = SOURCES[words[0]]
    return source.name, source.run(words[1:], Context(kb=kb, env=dict(os.environ), today=today))
