"""Income metrics for freelancers: client and stream concentration, new clients."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from tools.params import ScoringParams, SourceKind
from tools.profile import IncomeEntry
from tools.results import Evidence, IncomeSummary


def _herfindahl(totals: dict[str, float]) -> float | None:
    whole = math.fsum(totals.values())
    if whole <= 0:
        return None
    return math.fsum((v / whole) ** 2 for v in totals.values())


def income_summary(
    entries: Sequence[IncomeEntry], as_of: dt.date, params: ScoringParams
) -> IncomeSummary | None:
    """Summarize the last `income_window_days` of income; None when there is none."""
    start = as_of - dt.timedelta(days=params.income_window_days)
    window = [e for e in entries if start < e.date <= as_of]
    if not window:
        return None
    by_client: dict[str, float] = {}
    by_stream: dict[str, float] = {}
    for entry in sorted(window, key=lambda e: (e.date, e.client, e.stream, e.amount)):
        client = entry.client.strip().casefold()
        stream = entry.stream.strip().casefold()
        by_client[client] = by_client.get(client, 0.0) + entry.amount
        by_stream[stream] = by_stream.get(stream, 0.0) + entry.amount
    earlier = {e.client.strip().casefold() for e in entries if e.date <= start}
    whole = math.fsum(by_client.values())
    hhi_clients = _herfindahl(by_client)
    hhi_streams = _herfindahl(by_stream)
    return IncomeSummary(
        months_covered=len({(e.date.year, e.date.month) for e in window}),
        clients=len(by_client),
        new_clients=len(set(by_client) - earlier),
        streams=len(by_stream),
        top_client_share=round(max(by_client.values()) / whole, 3) if whole > 0 else None,
        client_concentration=None if hhi_clients is None else round(hhi_clients, 3),
        stream_concentration=None if hhi_streams is None else round(hhi_streams, 3),
    )


def income_evidence(
    summary: IncomeSummary | None, as_of: dt.date, params: ScoringParams
) -> list[Evidence]:
    """Evidence for income diversification and client acquisition from the work record."""
    if (
        summary is None
        or summary.client_concentration is None
        or summary.stream_concentration is None
    ):
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
