"""Percentages that never read as their neighbour."""

from __future__ import annotations

import pytest

from tools.numbers import percent


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        (0.0, "0%"),
        (0.005, "0.5%"),  # a 1-in-200 positive class is not "0%"
        (0.0005, "0.05%"),
        (0.0123, "1%"),
        (0.25, "25%"),
        (1 / 3, "33%"),
        (0.994, "99.4%"),  # one client with 99.4% of the income is not "100%"
        (0.9996, "99.96%"),
        (0.999999, "over 99.99%"),
        (1.0, "100%"),
    ],
)
def test_a_share_is_shown_without_becoming_its_neighbour(share: float, shown: str) -> None:
    assert percent(share) == shown
