"""Free-text answers: numbers, scales, words, skill lists with aliases and typos, yes/no."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.intents import detect
from agent.parsing import (
    UNKNOWN,
    Option,
    Unclear,
    numbers_in,
    parse_choice,
    parse_metrics,
    parse_money,
    parse_multi,
    parse_number,
    parse_percent,
    parse_rating,
    parse_ratings,
    parse_yes_no,
)
from knowledge.base import KnowledgeBase

EXPECTED = ["python", "sql", "pytorch"]


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [("3", None, 3), ("2 years", "years", 2), ("18 months", "years", 1.5), ("a couple", "years", 2),
     ("none", "years", 0), ("3-5 hours", "hours", 4), ("about 10", "hours", 10), ("1 hour a day", "hours", 7),
     ("one and a half years", "years", 1.5), ("2,5", None, 2.5)],
)  # fmt: skip
def test_numbers(text: str, unit: str | None, value: float) -> None:
    assert parse_number(text, unit) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("4", 4), ("4/5", 4), ("8/10", 4), ("8 out of 10", 4), ("7", 3.5), ("none", 0), ("a bit", 1),
     ("beginner", 2), ("intermediate", 3), ("advanced", 4), ("expert", 5), ("Expert!", 5), ("90%", 4.5)],
)  # fmt: skip
def test_single_ratings_on_0_5_and_1_10_scales(text: str, value: float) -> None:
    assert parse_rating(text) == pytest.approx(value)


def test_ratings_in_order_by_name_and_for_all(kb: KnowledgeBase) -> None:
    assert parse_ratings("4 3 2", EXPECTED, kb).values == {"python": 4, "sql": 3, "pytorch": 2}
    assert parse_ratings("4, -, 2", EXPECTED, kb).values == {"python": 4, "pytorch": 2}
    named = parse_ratings("pytorch 4, k8s 2, dokcer 3", EXPECTED, kb).values
    assert named == {"pytorch": 4, "kubernetes": 2, "docker": 3}
    assert parse_ratings("python expert and sql a bit", EXPECTED, kb).values == {
        "python": 5,
        "sql": 1,
    }
    assert parse_ratings("all 3", EXPECTED, kb).values == dict.fromkeys(EXPECTED, 3)
    assert parse_ratings("none", EXPECTED, kb).values == dict.fromkeys(EXPECTED, 0)
    assert parse_ratings("privacy 2", ["privacy_gdpr", "bias_testing"], kb).values == {
        "privacy_gdpr": 2
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [("4 3", "2 ratings for 3 skills"), ("4 3 2 1", "4 ratings for 3 skills"), ("quantum 3", "Unknown skill 'quantum'"),
     ("python", "No rating for 'Python'"), ("python 11", "outside the 0-5 scale"), ("3", "one rating for 3 skills")],
)  # fmt: skip
def test_unclear_ratings_say_what_is_wrong(kb: KnowledgeBase, text: str, message: str) -> None:
    with pytest.raises(Unclear, match=message):
        parse_ratings(text, EXPECTED, kb)


def test_yes_no_money_percent_metrics() -> None:
    assert parse_yes_no("Yeah, sure") is True and parse_yes_no("nope") is False
    with pytest.raises(Unclear, match="yes or no"):
        parse_yes_no("perhaps")
    assert (
        parse_money("$1.5k") == 1500
        and parse_money("free only") == 0
        and parse_money("200 USD") == 200
    )
    # A comma before three digits groups thousands; before one or two it is a decimal comma.
    assert parse_money("$12,345") == 12345 and parse_money("1,500.50 usd") == 1500.5
    assert parse_number("2,5 years", "years") == 2.5
    assert parse_percent("6%") == pytest.approx(0.06) and parse_percent("0.2") == 0.2
    assert parse_percent("balanced") == 0.5 and parse_percent("not sure") == UNKNOWN
    assert parse_metrics("F1-score: 62%; AUC=0.8; p50 latency 0.2 s") == {
        "f1": 0.62,
        "roc_auc": 0.8,
        "latency_ms": 200,
    }
    with pytest.raises(Unclear, match="Unknown metric"):
        parse_metrics("bleu 30")


def test_choices_by_number_name_alias_and_typo() -> None:
    options = [
        Option("github", "my GitHub repositories", ("gh",)),
        Option("mlflow", "MLflow runs"),
        Option("kaggle", "Kaggle"),
    ]
    assert parse_choice("2", options) == "mlflow"
    assert (
        parse_choice("GitHub", options) == "github" and parse_choice("kagle", options) == "kaggle"
    )
    assert parse_multi("github and mlflow", options) == ["github", "mlflow"]
    assert parse_multi("3 1", options) == ["github", "kaggle"]
    assert parse_multi("none", options) == [] and parse_multi("all", options) == [
        "github",
        "mlflow",
        "kaggle",
    ]
    with pytest.raises(Unclear, match="1 to 3"):
        parse_choice("7", options)


@pytest.mark.parametrize(
    ("text", "intent"),
    [("/help", "help"), ("/next@SkillAuditBot", "next"), ("What should I learn next?", "next"), ("why do you ask?", "why"),
     ("why?", "why"), ("help", "help"), ("go back", "back"), ("skip", "skip"), ("I'd rather not say", "skip"),
     ("delete my data", "forget"), ("/audit force", "audit"), ("stop", "cancel")],
)  # fmt: skip
def test_intents(text: str, intent: str) -> None:
    found = detect(text)
    assert found is not None and found[0] == intent


@pytest.mark.parametrize("text", ["python 4", "none", "3 years", "yes", "data scientist", "60%"])
def test_answers_are_not_mistaken_for_commands(text: str) -> None:
    assert detect(text) is None


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_parsers_return_or_explain(kb: KnowledgeBase, text: str) -> None:
    for parse in (
        parse_number,
        parse_money,
        parse_percent,
        parse_yes_no,
        parse_rating,
        parse_metrics,
    ):
        try:
            parse(text)
        except Unclear as exc:
            assert str(exc)
    try:
        parse_ratings(text, EXPECTED, kb)
    except Unclear as exc:
        assert str(exc)


@pytest.mark.parametrize("digits", ["9" * 5000, "\u0663" * 8000, "0" * 7])
def test_a_number_too_long_to_be_an_option_is_unclear_not_a_crash(digits: str) -> None:
    options = [Option("a", "A"), Option("b", "B")]
    with pytest.raises(Unclear, match="Pick a number from 1 to 2"):
        parse_choice(digits, options)


def test_numbers_in_reads_digits_groupings_and_words() -> None:
    assert numbers_in("three clients, $12,345 and 2,5 years") == {3.0, 12345.0, 2.5}
    assert numbers_in("version 1.5.3 of it") >= {1.5}  # a version string is not an error
    assert numbers_in("no idea") == {0.0}
