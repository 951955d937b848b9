"""Income metrics for freelancers: concentration, growth, retention, new clients."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import NamedTuple

from tools.params import ScoringParams, SourceKind
from tools.profile import IncomeEntry, IncomeRecordsSummary
from tools.results import Evidence, IncomeSummary


def _herfindahl(totals: dict[str, float]) -> float | None:
    whole = math.fsum(totals.values())
    if whole <= 0:
        return None
    return math.fsum((v / whole) ** 2 for v in totals.values())


def income_summary(
    entries: Sequence[IncomeEntry],
    as_of: dt.date,
    params: ScoringParams,
    stated: StatedIncome | None = None,
    records: IncomeRecordsSummary | None = None,
) -> IncomeSummary | None:
    """Summarize the last `income_window_days` of income records; else what a connector read
    from the person's income export; else what was stated."""
    start = as_of - dt.timedelta(days=params.income_window_days)
    window = [e for e in entries if start < e.date <= as_of]
    if not window and records is not None:
        return _records_summary(records, params)
    if not window:
        return _stated_summary(stated, params)
    by_client = _totals(window, "client")
    by_stream = _totals(window, "stream")
    before = start - dt.timedelta(days=params.income_window_days)
    previous = [e for e in entries if before < e.date <= start]
    earlier = {_key(e.client) for e in entries if e.date <= start}
    previous_clients = set(_totals(previous, "client"))
    whole = math.fsum(by_client.values())
    previous_total = math.fsum(e.amount for e in previous) if previous else None
    hhi_clients = _herfindahl(by_client)
    hhi_streams = _herfindahl(by_stream)
    top = max(by_client.values()) / whole if whole > 0 else None
    return IncomeSummary(
        months_covered=len({(e.date.year, e.date.month) for e in window}),
        clients=len(by_client),
        new_clients=len(set(by_client) - earlier),
        streams=len(by_stream),
        top_client_share=None if top is None else round(top, 3),
        client_concentration=None if hhi_clients is None else round(hhi_clients, 3),
        stream_concentration=None if hhi_streams is None else round(hhi_streams, 3),
        basis="records",
        total=round(whole, 2),
        previous_total=None if previous_total is None else round(previous_total, 2),
        growth=(
            round(whole / previous_total - 1, 3) if previous_total and previous_total > 0 else None
        ),
        retention=(
            round(len(previous_clients & set(by_client)) / len(previous_clients), 3)
            if previous_clients
            else None
        ),
        concentration_risk=top is not None and top >= params.client_concentration_threshold,
        stream_names=sorted(by_stream),
    )


def _records_summary(records: IncomeRecordsSummary, params: ScoringParams) -> IncomeSummary:
    top = records.top_client_share
    return IncomeSummary(
        months_covered=records.months_covered,
        clients=records.clients,
        new_clients=records.new_clients,
        streams=records.streams,
        top_client_share=top,
        client_concentration=records.client_concentration,
        stream_concentration=records.stream_concentration,
        basis="records",
        growth=records.growth,
        retention=records.retention,
        concentration_risk=top is not None and top >= params.client_concentration_threshold,
    )


class StatedIncome(NamedTuple):
    """What a person said about their income when they gave no records."""

    clients: int | None
    top_client_share: float | None
    streams: Sequence[str]


def _stated_summary(stated: StatedIncome | None, params: ScoringParams) -> IncomeSummary | None:
    if stated is None or (not stated.clients and stated.top_client_share is None):
        return None
    clients = stated.clients or 0
    top = stated.top_client_share
    if top is None and clients == 1:
        top = 1.0
    hhi = None
    if top is not None and clients >= 1:
        # The rest spread evenly over the other clients: the least concentrated reading.
        rest = (1 - top) ** 2 / (clients - 1) if clients > 1 else 0.0
        hhi = round(top**2 + rest, 3)
    streams = len(stated.streams)
    return IncomeSummary(
        months_covered=0,
        clients=clients,
        new_clients=0,
        streams=streams,
        top_client_share=None if top is None else round(top, 3),
        client_concentration=hhi,
        stream_concentration=round(1 / streams, 3) if streams else None,
        basis="stated",
        concentration_risk=top is not None and top >= params.client_concentration_threshold,
        stream_names=sorted(_key(s) for s in stated.streams),
    )


def _key(text: str) -> str:
    return text.strip().casefold()


def _totals(entries: Sequence[IncomeEntry], field: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for entry in sorted(entries, key=lambda e: (e.date, e.client, e.stream, e.amount)):
        key = _key(getattr(entry, field))
        totals[key] = totals.get(key, 0.0) + entry.amount
    return totals


def income_evidence(
    summary: IncomeSummary | None, as_of: dt.date, params: ScoringParams
) -> list[Evidence]:
    """Evidence for income diversification and client acquisition from the work record."""
    if (
        summary is None
        or summary.basis != "records"
        or summary.client_concentration is None
        or summary.stream_concentration is None
    ):
        # Stated figures already reach the audit as the interview's self-rated evidence.
        return []
    diversification = 0.5 * (1 - summary.client_concentration) + 0.5 * (
        1 - summary.stream_concentration
    )
    acquisition = min(1.0, summary.new_clients / params.new_clients_for_full_strength)
    detail = f"{summary.clients} clients, {summary.streams} income streams over the last 12 months"
    return [
        Evidence(
            skill="income_diversification",
            source=SourceKind.WORK_RECORD,
            strength=round(diversification, 4),
            observed=as_of,
            origin="profile.income",
            detail=detail,
        ),
        Evidence(
            skill="client_acquisition",
            source=SourceKind.WORK_RECORD,
            strength=round(acquisition, 4),
            observed=as_of,
            origin="profile.income",
            detail=f"{summary.new_clients} new clients in the last 12 months",
        ),
    ]
