"""Numbers as people read them: percentages that never read as their neighbour, and
numbers in sentences without float noise."""

from __future__ import annotations

import pytest

from tools.numbers import percent, rank, shown


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        (0.0, "0%"),
        (0.005, "0.5%"),  # a 1-in-200 positive class is not "0%"
        (0.0005, "0.05%"),
        (0.0123, "1.2%"),
        (0.025, "2.5%"),  # a 2.5% minority class is not "2%"
        (0.06, "6%"),
        (0.125, "13%"),
        (0.665, "67%"),
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


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(78.0, 1, "78"), (0.0, 1, "0"), (40.25, 1, "40.2"), (0.259, 2, "0.26"), (1.0, 2, "1"),
     (None, 1, "None"), (99.96, 1, "100")],
)  # fmt: skip
def test_a_number_in_a_sentence_has_no_float_noise(
    value: float | None, digits: int, text: str
) -> None:
    assert str(shown(value, digits)) == text


def test_a_rank_just_short_of_100_never_reads_as_100() -> None:
    assert [rank(p) for p in (84.7, 99.4, 99.6, 99.96, 100)] == ["85", "99", "99.6", "99.9", "100"]
