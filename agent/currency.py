"""Amounts in other currencies, in US dollars.

The rates are the European Central Bank's euro reference rates of one day, as bundled with
the CurrencyConverter package (its `eurofxref.csv`; pinned in pyproject.toml, so the day is
known and nothing is downloaded). Every conversion says which day's rate it used: a budget
is a rough figure, and the person can give dollars instead.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

SOURCE = "the European Central Bank's reference rate"


@dataclass(frozen=True)
class Converted:
    """An amount in another currency and what it comes to in US dollars."""

    amount: float
    code: str  # ISO 4217, "EUR"
    usd: float
    day: dt.date  # the day of the rate

    def given(self) -> str:
        """'1,500 EUR'."""
        return f"{self.amount:,.12g} {self.code}"

    def rate(self) -> str:
        """'the European Central Bank's reference rate of 30 October 2026'."""
        return f"{SOURCE} of {self.day:%-d %B %Y}"

    def said(self) -> str:
        """'1,500 EUR at the European Central Bank's reference rate of 30 October 2026'."""
        return f"{self.given()} at {self.rate()}"


@functools.cache
def _rates() -> Any:
    from currency_converter import SINGLE_DAY_CURRENCY_FILE, CurrencyConverter

    return CurrencyConverter(SINGLE_DAY_CURRENCY_FILE)


def has_rate(code: str) -> bool:
    """Whether `code` can be converted (the ECB publishes about 30 currencies)."""
    return code in _rates().currencies


def to_usd(amount: float, code: str) -> Converted:
    """`amount` of `code` in US dollars, rounded to whole dollars (to cents below $10, so
    that a small amount is not read as nothing); KeyError without a rate."""
    rates = _rates()
    if code not in rates.currencies:
        raise KeyError(code)
    day = rates.bounds["USD"].last_date
    usd = float(rates.convert(amount, code, "USD", date=day))
    return Converted(amount=amount, code=code, usd=round(usd, 0 if usd >= 10 else 2), day=day)
