"""Income connector: freelance payments from a CSV, turned into income metrics and evidence.

Reads a plain payments CSV (date, client, amount, optional stream and currency) or a
freelance platform export, recognised by its headers: Upwork's transaction history, classic
(Date, Type, Description, Agency, Freelancer, Team, Account Name, PO, Amount, Amount in local
currency, Currency, Balance; the client is the Team, amounts are USD) or newer (Transaction
type, Client team, Amount $), Upwork's earnings report (Date, Contract, Hours, Amount,
Payment type: it names contracts, not clients, so it gives income totals but no client
metrics) and Fiverr-like exports (Date, Order ID, Buyer, Amount, Status; or Date, Activity,
Order, Amount without buyers). A file with one stream and no clients shows no spread, so it
gives no diversification evidence. Rows whose type is a fee,
withdrawal, transfer, tax or Connects purchase, and rows whose status says cancelled,
failed or pending, are not income and are skipped; refunds
(negative amounts, or a "refund" type) reduce their client's income.

Metrics (in `data["metrics"]`) cover the last 12 months (L) and the 12 before (P):
growth = (total L - total P) / total P; retention = clients paying in both / clients of P;
top client share; diversification = 1 - HHI (sum of squared income shares) over clients and
over streams; months with income in L; new clients = clients of L never paid before L.

Evidence, source `work_record`, observed on the last payment date in L:
- income_diversification: 0.5 * (1 - HHI clients) + 0.5 * (1 - HHI streams), as in
  tools/income.py (streams only when the file names no clients);
- client_acquisition: min(1, new clients / `new_clients_for_full_strength`);
- client_management: (retained + 1) / (clients of P + 2), the retention rate shrunk toward
  0.5 so that one retained client out of one is not a perfect score; only with clients in P.

Amounts and client names are personal: client names are never put in the summary, the
evidence details or `data`, and summary and details give counts and shares only (totals are
in `data["metrics"]` for the person's own view). A problem may quote the bad amount or date
cell of a line, clipped, so that the person can find and fix it.
Rows in another currency than the base one are converted with `fx_rates` when given and
left out (and reported) otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import Counter
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tools.connectors.base import MAX_FILE_BYTES, MAX_ROWS, ConnectorResult, now, read_text
from tools.connectors.text import clip, date_order, parse_date, sniff_delimiter
from tools.errors import ConnectorError
from tools.numbers import percent
from tools.params import DEFAULT_PARAMS, ScoringParams, SourceKind
from tools.results import Evidence

NAME = "income"
K = TypeVar("K")
UNNAMED = "\x00unnamed"  # a client key no real (stripped, case-folded) name can equal

_DATE = ("date", "paymentdate", "paidon", "datepaid", "transactiondate", "invoicedate",
         "createdat", "created", "day")  # fmt: skip
_AMOUNT = ("amount", "netamount", "net", "amountusd", "earnings", "revenue", "income",
           "value", "total", "gross", "paid")  # fmt: skip
_CLIENT = ("client", "customer", "clientname", "customername", "buyer", "payer", "company",
           "team", "from", "contract", "project")  # fmt: skip
_STREAM = ("stream", "incomestream", "category", "service", "source", "channel", "product")
_TYPE = ("type", "transactiontype", "paymenttype", "kind", "activity")
_CURRENCY = ("currency", "currencycode", "ccy")
_STATUS = ("status", "state", "paymentstatus")
_NOT_PAID = re.compile(r"cancel|fail|pending|declin|void|unpaid|dispute")
_NOT_INCOME = re.compile(
    r"fee|withdraw|connects|membership|transfer|tax|vat|\bwht\b|withholding|deposit|payout"
)
_NUMBER = re.compile(r"(\d[\d,.'\u00a0\u202f ]*\d|\d)(?:\s*([kKmM])(?![A-Za-z]))?")
_ALLOWED_REST = re.compile(r"[\sA-Za-z$\u20ac\u00a3\u00a5\u20b9()+\-\u2212]*")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def parse_amount(text: str) -> float | None:
    """Read an amount like "1234.5", "1,234.50", "$1.2k", "-50", "(50)" or "1.234,50 EUR"."""
    value: float | None
    try:
        value = float(text)
    except ValueError:
        value = _lenient_amount(text.strip())
    return value if value is not None and math.isfinite(value) else None


def _lenient_amount(text: str) -> float | None:
    found = _NUMBER.search(text)
    if found is None:
        return None
    rest = text[: found.start()] + text[found.end() :]
    if not _ALLOWED_REST.fullmatch(rest) or sum(c.isalpha() for c in rest) > 3:
        return None
    digits = re.sub(r"['\u00a0\u202f ]", "", found.group(1))
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        digits = digits.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in digits:
        if re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
            digits = digits.replace(",", "")
        elif re.fullmatch(r"\d+,\d{1,2}", digits):
            digits = digits.replace(",", ".")
        else:
            return None
    elif digits.count(".") > 1:
        if not re.fullmatch(r"\d{1,3}(\.\d{3})+", digits):
            return None
        digits = digits.replace(".", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    value *= {"k": 1e3, "m": 1e6}.get((found.group(2) or "").lower(), 1.0)
    before = text[: found.start()]
    negative = ("(" in before and ")" in text[found.end() :]) or bool(
        re.search(r"[-\u2212]", before)
    )
    return -value if negative or text.endswith("-") else value


class IncomeParams(BaseModel):
    """Where the payments CSV is and how to read it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    as_of: dt.date | None = Field(default=None, description="end of the last period; default today")
    window_days: int = Field(default=DEFAULT_PARAMS.income_window_days, gt=0, le=3660)
    currency: str | None = Field(default=None, description="base currency; default the most common")
    fx_rates: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="value of one unit of a currency in the base currency"
    )
    max_bytes: int = Field(default=MAX_FILE_BYTES, gt=0, le=MAX_FILE_BYTES)
    max_rows: int = Field(default=MAX_ROWS, gt=0, le=MAX_ROWS)
    max_problems: int = Field(default=20, gt=0)


def _find(keys: list[str], names: tuple[str, ...]) -> int | None:
    return next((keys.index(n) for n in names if n in keys), None)


def _platform(keys: list[str]) -> str:
    if "amountinlocalcurrency" in keys or {"agency", "freelancer", "team"} <= set(keys):
        return "upwork"
    if "clientteam" in keys:  # the newer transaction history (Transaction type, Client team)
        return "upwork"
    if "contract" in keys and "paymenttype" in keys:
        return "upwork_earnings"
    if "orderid" in keys or "buyer" in keys or {"activity", "order"} <= set(keys):
        return "fiverr"
    return "generic"


def _date_and_amount(keys: list[str]) -> tuple[str, int | None, int | None]:
    """The export's platform and its date and amount columns (None when missing)."""
    platform = _platform(keys)
    amount = _find(keys, ("amount",) if platform == "upwork" else _AMOUNT)
    return platform, _find(keys, _DATE), amount


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header is one this connector reads (a date and an amount column)."""
    _, date_col, amount_col = _date_and_amount([_key(h) for h in header])
    return date_col is not None and amount_col is not None


EXPECTED = (
    "no date and amount columns found; expected one of: your own list (date, client, amount, "
    "optional stream and currency), Upwork's transaction history (Date, Type or Transaction "
    "type, Team or Client team, Amount), Upwork's earnings report (Date, Contract, Amount, "
    "Payment type), Fiverr (Date, Order ID, Buyer, Amount, Status)"
)
_CONTRACT_ID = re.compile(r"\s*\(\d+\)\s*$")


def _hhi(totals: dict[str, float]) -> float | None:
    positive = [v for v in totals.values() if v > 0]
    whole = math.fsum(positive)
    return math.fsum((v / whole) ** 2 for v in positive) if whole > 0 else None


def _add(totals: dict[K, float], key: K, amount: float) -> None:
    totals[key] = totals.get(key, 0.0) + amount


def collect(params: IncomeParams, scoring: ScoringParams = DEFAULT_PARAMS) -> ConnectorResult:
    """Read payments; return income metrics and work-record evidence about the last 12 months."""
    label = params.path.name
    text = read_text(params.path, params.max_bytes)
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text))
    problems: list[str] = []
    row_problems: list[tuple[int, str]] = []  # (line, message), sorted before reporting
    try:
        header = next((r for r in reader if any(c.strip() for c in r)), None)
    except csv.Error as exc:
        raise ConnectorError(f"{label}: not a readable CSV ({exc})") from exc
    if header is None:
        raise ConnectorError(f"{label}: the file is empty")
    keys = [_key(h) for h in header]
    platform, date_col, amount_col = _date_and_amount(keys)
    if date_col is None or amount_col is None:
        raise ConnectorError(f"{label}: {EXPECTED}")
    client_names = {
        "upwork": ("clientteam", "team"),
        "fiverr": ("buyer", "client"),
        # An earnings report names contracts, not clients: one client often has several.
        "upwork_earnings": (),
    }
    client_col = _find(keys, client_names.get(platform, _CLIENT))
    contract_col = _find(keys, ("contract",)) if platform == "upwork_earnings" else None
    stream_col = _find(keys, _STREAM) if platform == "generic" else None
    type_col = _find(keys, _TYPE)
    currency_col = _find(keys, _CURRENCY) if platform != "upwork" else None
    status_col = _find(keys, _STATUS)
    fixed_stream = "upwork" if platform.startswith("upwork") else platform
    if platform == "upwork_earnings":
        problems.append(
            f"{label}: an Upwork earnings report names contracts, not clients, so client shares, "
            "retention and new clients are not computed; the transaction history names clients"
        )
    elif client_col is None:
        problems.append(
            f"{label}: no client column, so client shares, retention and new clients are not computed"
        )

    records: list[tuple[str, str, str, float, str, int]] = []
    contracts: set[str] = set()
    skipped_types = unnamed = 0
    last_line = 0
    try:
        for row in reader:
            number = last_line = reader.line_num
            if len(records) >= params.max_rows:
                problems.append(f"{label}: only the first {params.max_rows} rows were read")
                break
            if not any(row):
                continue
            try:
                raw_date, raw_amount = row[date_col], row[amount_col]
                client = row[client_col].strip().casefold() if client_col is not None else ""
                stream = (
                    row[stream_col].strip().casefold() if stream_col is not None else fixed_stream
                )
                kind = row[type_col].strip().lower() if type_col is not None else ""
                currency = row[currency_col].strip().upper() if currency_col is not None else ""
                status = row[status_col].strip().lower() if status_col is not None else ""
            except IndexError:
                row_problems.append((number, "too few columns"))
                continue
            if (kind and _NOT_INCOME.search(kind)) or (status and _NOT_PAID.search(status)):
                skipped_types += 1
                continue
            amount = parse_amount(raw_amount)
            if amount is None:
                row_problems.append((number, f"amount {clip(raw_amount, 30)!r} is not a number"))
                continue
            if "refund" in kind and amount > 0:
                amount = -amount
            if client_col is not None and not client:
                client, unnamed = UNNAMED, unnamed + 1
            if contract_col is not None and contract_col < len(row) and amount > 0:
                contracts.add(_CONTRACT_ID.sub("", row[contract_col]).strip().casefold())
            records.append((raw_date, client, stream or "unspecified", amount, currency, number))
    except csv.Error as exc:
        problems.append(f"{label}: reading stopped after line {last_line} ({exc})")
    if unnamed:
        nameless = (
            "1 payment names no client; it counts"
            if unnamed == 1
            else f"{unnamed} payments name no client; they count"
        )
        problems.append(f"{label}: {nameless} as one client")
    if skipped_types:
        rows = (
            "1 fee, withdrawal, transfer or unpaid row is"
            if skipped_types == 1
            else (f"{skipped_types} fee, withdrawal, transfer or unpaid rows are")
        )
        problems.append(f"{label}: {rows} not income and skipped")

    day_first, unsettled = date_order({r[0] for r in records})
    if unsettled:
        problems.append(f"{label}: dates like 03/04/2024 were read month first (US style)")
    dates = {raw: parse_date(raw, day_first) for raw in {r[0] for r in records}}
    counts = Counter(r[4] for r in records if r[4])
    # Upwork's Amount column is in US dollars whatever the local currency column says.
    default = "USD" if platform == "upwork" else (counts.most_common(1)[0][0] if counts else "")
    base = (params.currency or default).upper()
    rates = {k.upper(): v for k, v in params.fx_rates.items()}
    as_of = params.as_of or now().date()
    payments: list[tuple[dt.date, str, str, float]] = []
    other_currency: Counter[str] = Counter()
    future = 0
    for raw_date, client, stream, amount, currency, number in records:
        day = dates[raw_date]
        if day is None:
            row_problems.append((number, f"date {clip(raw_date, 30)!r} is not readable"))
            continue
        if day > as_of:
            future += 1
            continue
        if currency and base and currency != base:
            if currency not in rates:
                other_currency[currency] += 1
                continue
            amount *= rates[currency]
        payments.append((day, client, stream, amount))
    if other_currency:
        listed = ", ".join(f"{n} in {c}" for c, n in sorted(other_currency.items()))
        problems.append(
            f"{label}: payments in other currencies than {base} were left out ({listed}); pass exchange rates to include them"
        )
    if future:
        problems.append(f"{label}: {future} payments dated after {as_of} were ignored")
    row_problems.sort()
    shown = [f"line {line}: {message}" for line, message in row_problems[: params.max_problems]]
    if len(row_problems) > params.max_problems:
        shown.append(f"and {len(row_problems) - params.max_problems} more lines with problems")
    problems += [f"{label}: {p}" for p in shown]
    if not records:
        first = f" ({shown[0]})" if shown else ""
        raise ConnectorError(f"{label}: no readable payments{first}")
    has_clients = client_col is not None
    result = _result(payments, as_of, params, scoring, problems, platform, base, has_clients)
    if contract_col is None:
        return result
    summary = result.summary.rstrip(".") + f"; {len(contracts)} contracts (not clients)."
    data = {**result.data, "contracts": len(contracts)}
    return result.model_copy(update={"summary": summary, "data": data})


def _result(
    payments: list[tuple[dt.date, str, str, float]],
    as_of: dt.date,
    params: IncomeParams,
    scoring: ScoringParams,
    problems: list[str],
    platform: str,
    currency: str,
    has_clients: bool,
) -> ConnectorResult:
    """Compute the metrics and evidence from clean payments (date, client, stream, amount)."""
    window = dt.timedelta(days=params.window_days)
    start, previous_start = as_of - window, as_of - 2 * window
    clients_l: dict[str, float] = {}
    clients_p: dict[str, float] = {}
    streams_l: dict[str, float] = {}
    months_l: dict[int, float] = {}
    paid_before: dict[str, float] = {}
    last_day: dt.date | None = None
    for day, client, stream, amount in payments:
        if day > start:
            _add(clients_l, client, amount)
            _add(streams_l, stream, amount)
            # Calendar months back from as_of, so a 365-day window counts at most 12 months.
            back = (as_of.year - day.year) * 12 + as_of.month - day.month
            if back < 12:
                _add(months_l, back, amount)
            last_day = day if last_day is None or day > last_day else last_day
        else:
            _add(paid_before, client, amount)
            if day > previous_start:
                _add(clients_p, client, amount)
    total_l = math.fsum(clients_l.values())
    total_p = math.fsum(clients_p.values())
    paying_l = {c for c, v in clients_l.items() if v > 0}
    paying_p = {c for c, v in clients_p.items() if v > 0}
    hhi_c, hhi_s = (_hhi(clients_l) if has_clients else None), _hhi(streams_l)
    retained = len(paying_l & paying_p)
    new = len(paying_l - {c for c, v in paid_before.items() if v > 0})
    top = max(clients_l.values()) / total_l if has_clients and total_l > 0 else None
    metrics = {
        "income_last_period": round(total_l, 2),
        "income_previous_period": round(total_p, 2),
        "growth_rate": round((total_l - total_p) / total_p, 4) if total_p > 0 else None,
        "clients": len(paying_l) if has_clients else None,
        "clients_previous_period": len(paying_p) if has_clients else None,
        "client_retention": round(retained / len(paying_p), 4)
        if has_clients and paying_p
        else None,
        "top_client_share": None if top is None else round(top, 4),
        "client_diversification": None if hhi_c is None else round(1 - hhi_c, 4),
        "stream_diversification": None if hhi_s is None else round(1 - hhi_s, 4),
        "streams": len([s for s, v in streams_l.items() if v > 0]),
        "months_with_income": len([m for m, v in months_l.items() if v > 0]),
        "new_clients": new if has_clients else None,
    }
    evidence: list[Evidence] = []
    if last_day is not None and hhi_s is not None:

        def item(skill: str, strength: float, signal: str, detail: str) -> Evidence:
            return Evidence(
                skill=skill, source=SourceKind.WORK_RECORD, strength=round(min(1.0, strength), 4),
                observed=last_day, origin=NAME, signal=signal, detail=clip(detail),
            )  # fmt: skip

        streams = metrics["streams"]
        if hhi_c is not None and top is not None:
            evidence.append(item(
                "income_diversification", 0.5 * (1 - hhi_c) + 0.5 * (1 - hhi_s), "income_spread",
                f"{len(paying_l)} clients and {streams} income streams in the last 12 months; "
                f"the top client brought {percent(top)} of income",
            ))  # fmt: skip
            evidence.append(item(
                "client_acquisition", new / scoring.new_clients_for_full_strength,
                "new_clients", f"{new} new clients in the last 12 months",
            ))  # fmt: skip
            if paying_p:
                evidence.append(item(
                    "client_management", (retained + 1) / (len(paying_p) + 2), "client_retention",
                    f"{retained} of {len(paying_p)} clients of the previous 12 months paid again "
                    "in the last 12 months",
                ))  # fmt: skip
        elif sum(v > 0 for v in streams_l.values()) > 1:  # one stream, no clients: no spread
            evidence.append(item(
                "income_diversification", 1 - hhi_s, "income_spread",
                f"{streams} income streams in the last 12 months",
            ))  # fmt: skip
    first_day = min((p[0] for p in payments), default=None)
    months = metrics["months_with_income"]
    if last_day is None:
        summary = f"No income in the {params.window_days} days before {as_of}."
    else:
        summary = f"Income in {months} of the last 12 months"
        if metrics["clients"] is not None:
            summary += f" from {metrics['clients']} clients ({new} new)"
        growth = metrics["growth_rate"]
        if growth is not None:
            summary += (
                f", {growth:+.0%} on the 12 months before"
                if abs(growth) >= 0.005
                else ", as much as in the 12 months before"
            )
        if top is not None:
            summary += f"; the top client brought {percent(top)}"
        summary += "."
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        problems=problems,
        data={
            "platform": platform,
            "currency": currency or None,
            "payments": len(payments),
            "date_range": {
                "from": None if first_day is None else first_day.isoformat(),
                "to": None if not payments else max(p[0] for p in payments).isoformat(),
            },
            "period": {"from": (start + dt.timedelta(days=1)).isoformat(), "to": as_of.isoformat()},
            "metrics": metrics,
            # The fields of tools.results.IncomeSummary, for the audit.
            "summary": {
                "months_covered": months,
                "clients": metrics["clients"] or 0,
                "new_clients": metrics["new_clients"] or 0,
                "streams": metrics["streams"],
                "top_client_share": None if top is None else round(top, 3),
                "client_concentration": None if hhi_c is None else round(hhi_c, 3),
                "stream_concentration": None if hhi_s is None else round(hhi_s, 3),
            },
        },
    )
