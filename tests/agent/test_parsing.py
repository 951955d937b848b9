"""Free-text answers: numbers, scales, words, skill lists with aliases and typos, yes/no."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.answers import PENDING, read, record, understood
from agent.intents import detect
from agent.interview import question, questions
from agent.parsing import (
    UNKNOWN,
    Option,
    Unclear,
    experience_elsewhere,
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
    with pytest.raises(Unclear, match="BLEU: no benchmark I hold has it"):
        parse_metrics("bleu 30")  # a real metric, but none of the benchmarks holds it
    with pytest.raises(Unclear, match="Unknown metric 'zorb'"):
        parse_metrics("zorb 30")


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
    with pytest.raises(
        Unclear, match=r"There is no option( with that number| 0): the options are 1 to 2"
    ):
        parse_choice(digits, options)


def test_numbers_in_reads_digits_groupings_and_words() -> None:
    assert numbers_in("three clients, $12,345 and 2,5 years") == {3.0, 12345.0, 2.5}
    assert numbers_in("version 1.5.3 of it") >= {1.5}  # a version string is not an error
    assert numbers_in("no idea") == {0.0}


# Answers in people's words: one reading (agent.answers.read) for every flow --------------


def _answers(**extra: object) -> dict[str, object]:
    return {"target_role": "ml_engineer", **extra}


def test_a_partial_list_keeps_what_it_understood_and_asks_one_item_at_a_time(
    kb: KnowledgeBase,
) -> None:
    q = question("technical_ratings")
    answers = _answers()
    first = read(q, "python 5, coding stuff 3, quantum 3", answers, kb)
    assert not first.complete and first.keep is not None
    assert first.keep["value"] == {"python": 5.0}
    assert first.ask is not None and first.ask.startswith("Noted so far: Python 5.")
    assert "Unknown skill 'coding stuff' (then 1 more)" in first.ask
    assert "Software Engineering" in [c.label for c in first.choices]
    record(answers, q, first)
    # A name alone settles the item with the rating given before; then the next item.
    second = read(q, "software engineering", answers, kb)
    assert second.keep is not None and second.keep["value"] == {
        "python": 5.0,
        "software_engineering": 3.0,
    }
    assert second.ask is not None and "Unknown skill 'quantum'" in second.ask
    record(answers, q, second)
    # Text that answers nothing changes nothing and asks the same item again.
    before = dict(answers)
    again = read(q, "<script>alert(1)</script>", answers, kb)
    record(answers, q, again)
    assert answers == before and again.ask is not None and "'quantum'" in again.ask
    done = read(q, "leave it out", answers, kb)
    assert done.complete and done.value == {"python": 5.0, "software_engineering": 3.0}
    record(answers, q, done)
    assert PENDING not in answers and answers["technical_ratings"] == done.value


def test_two_names_of_one_skill_are_asked_about_and_a_new_rating_says_what_it_replaces(
    kb: KnowledgeBase,
) -> None:
    q = question("other_skills")
    answers = _answers(
        target_role="data_scientist", technical_ratings={"data_analysis": 4.0, "sql": 3.0}
    )
    conflict = read(q, "excel 5, power bi 3, tableau 2, spark 2", answers, kb)
    assert conflict.keep is not None and conflict.keep["value"] == {"spark": 2.0}
    assert conflict.ask is not None
    assert (
        "Data Analysis and Business Intelligence: you gave 5 (excel), 3 (power bi) and 2 (tableau)"
        in conflict.ask
    )
    assert [c.value for c in conflict.choices][:3] == ["5", "3", "2"]
    record(answers, q, conflict)
    settled = read(q, "3", answers, kb)
    assert settled.complete and settled.value == {"spark": 2.0, "data_analysis": 3.0}
    assert (
        "Data Analysis and Business Intelligence: 4 -> 3 (this replaces your earlier rating)."
        in settled.note
    )
    record(answers, q, settled)
    # One rating stands: the earlier answer no longer holds the replaced one.
    assert answers["technical_ratings"] == {"sql": 3.0}
    assert answers["other_skills"] == {"spark": 2.0, "data_analysis": 3.0}


@pytest.mark.parametrize(
    ("text", "named", "rest"),
    [("all zero except git 1", {"git": 1.0}, 0.0), ("everything 3 but docker 1", {"docker": 1.0}, 3.0),
     ("git 1, everything else 0", {"git": 1.0}, 0.0), ("none except git 1", {"git": 1.0}, 0.0),
     ("all 2 apart from docker 4 and git 5", {"docker": 4.0, "git": 5.0}, 2.0)],
)  # fmt: skip
def test_exceptions_rate_the_rest_and_only_the_named_skills_differently(
    kb: KnowledgeBase, text: str, named: dict[str, float], rest: float
) -> None:
    asked = ["cloud_platforms", "docker", "git", "api_development", "model_serving"]
    expected = {**dict.fromkeys(asked, rest), **named}
    assert parse_ratings(text, asked, kb).values == expected


@pytest.mark.parametrize(
    "phrase",
    ["idk", "dunno", "don't know", "dont know", "not sure", "no idea", "🤷", "keine Ahnung"],
)
def test_dont_know_is_unknown_never_zero(kb: KnowledgeBase, phrase: str) -> None:
    for qid in (
        "clients",
        "years_experience",
        "top_client_share",
        "learning_budget_usd",
        "has_model",
        "high_stakes",
    ):
        reading = read(question(qid), phrase, _answers(), kb)
        assert reading.complete and reading.value is None, (qid, reading)
        assert "not counted as zero" in reading.note
    item = read(
        question("lifecycle_ratings"),
        f"docker 2, git 4, experiment tracking {phrase}",
        _answers(),
        kb,
    )
    assert item.complete and item.value == {"docker": 2.0, "git": 4.0}
    assert "Not known: Experiment Tracking" in item.note
    assert read(question("model_legal_basis"), phrase, _answers(), kb).value == "unknown"
    whole = read(question("ethics_ratings"), phrase, _answers(), kb)
    assert whole.complete and whole.value is None


def test_a_choice_can_be_typed_as_its_words_and_unsure_matches_offer_display_names(
    kb: KnowledgeBase,
) -> None:
    role = question("target_role")
    for text in ("im a freelance ml engineer", "freelance ml engineer", "I'm a freelancer"):
        assert read(role, text, {}, kb).value == "freelance_ml_consultant"
    assert read(question("career_stage"), "mid level i guess", {}, kb).value == "mid"
    unsure = read(role, "ml engineer, mostly nlp", {}, kb)
    assert unsure.ask is not None and unsure.ask.startswith(
        "Did you mean Machine Learning Engineer or NLP Engineer?"
    )
    assert [c.label for c in unsure.choices] == ["Machine Learning Engineer", "NLP Engineer"]


@pytest.mark.parametrize(
    "text",
    ["accounting 5", "python 4, quantum 3", "sw eng 3", "bias 2, blorp 1", "excel 5, power bi 3"],
)
def test_messages_and_suggestions_use_display_names_never_ids(kb: KnowledgeBase, text: str) -> None:
    for qid in ("technical_ratings", "other_skills", "ethics_ratings"):
        reading = read(question(qid), text, _answers(), kb)
        said = " ".join([reading.note, reading.ask or "", *(c.label for c in reading.choices)])
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", said), said


def test_sentences_give_their_number_and_ambiguity_is_a_question(kb: KnowledgeBase) -> None:
    assert parse_number("two, but one big one", "clients") == 2
    assert parse_number("5 in total, 2 of them recurring", "clients") == 5
    assert parse_number("3 years, no wait, 4", "years") == 4
    assert parse_number("an hour a day", "hours") == 7
    # None first, then only why: none. A quantity in the why is read as before.
    for text, unit in (("none really, I'm an accountant", "years"), ("None, I'm an accountant", "years"),
                       ("no clients - I'm employed", "clients"), ("nothing yet because of exams", "hours"),
                       ("zero (I just started)", "years")):  # fmt: skip
        assert parse_number(text, unit) == 0, text
    assert parse_number("none, but 2 years of Excel modelling", "years") == 2
    # A remark in brackets is prose; a call is code, whatever number it holds.
    assert parse_number("3 (part-time)", "years") == 3
    with pytest.raises(Unclear):
        parse_number("range(3)", "years")
    assert parse_number("no, three", "clients") == 3
    assert parse_percent("actually more like 85%") == pytest.approx(0.85)
    assert parse_percent("about 2% are fraud") == pytest.approx(0.02)
    assert parse_percent("1 in 50") == pytest.approx(0.02)
    for text, unit in (("2 clients and 1 employer", "clients"), ("I'm 34", "years"), ("less than a year", "years"),
                       ("2 kids", "clients"), ("3 or 4 per month", "clients")):  # fmt: skip
        with pytest.raises(Unclear):
            parse_number(text, unit)
    for share in ("most of it", "1"):
        with pytest.raises(Unclear):
            parse_percent(share)
    with pytest.raises(Unclear, match="rare one"):  # asked for the rare class, given the common
        parse_percent("98% legit", rare=True)
    with pytest.raises(Unclear, match=r"no exchange rate for NGN.*US dollars"):
        parse_money("50000 naira")
    with pytest.raises(Unclear, match="yes or no"):
        parse_yes_no("no idea")


def test_the_same_reading_serves_the_tools_and_quick_questions(kb: KnowledgeBase) -> None:
    """`understood` (the model's record tools, /next, the model audit) reads like the guided
    interviewer; a part-understood list is not recorded there, and the message says why."""
    answers = _answers()
    for qid, text in (("clients", "two, but one big one"), ("target_role", "freelance ml engineer"),
                      ("quick_strongest", "python, sql and dokcer"), ("top_client_share", "idk")):  # fmt: skip
        q = question(qid)
        reading = read(q, text, answers, kb)
        assert understood(q, text, answers, kb) == (reading.value, None)
    value, problem = understood(question("quick_strongest"), "python, accounting", answers, kb)
    assert (
        value is None and problem is not None and problem.startswith("Unknown skill 'accounting'")
    )
    value, problem = understood(question("technical_ratings"), "python 5, quantum 3", answers, kb)
    assert value is None and problem is not None and "Noted so far" not in problem


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=120), qid=st.sampled_from(sorted({q.id for q in questions()})))
def test_every_question_reads_any_text_without_crashing(
    kb: KnowledgeBase, text: str, qid: str
) -> None:
    reading = read(question(qid), text, _answers(has_model=True, model_personal_data=True), kb)
    assert reading.complete or (reading.ask or "").strip()


def test_a_rating_without_a_skill_is_asked_about(kb: KnowledgeBase) -> None:
    """Found by the fuzzer: "communication 4, 5" left an item with no skill, and asking about
    it failed; now the rest is kept and the person is asked which skill the 5 is for."""
    from agent.answers import read, record

    q = question("power_ratings")
    answers: dict[str, Any] = {"target_role": "ml_engineer"}
    reading = read(q, "communication 4, 5", answers, kb)
    assert not reading.complete and reading.ask is not None
    assert "Communication 4" in reading.ask and "which skill is it for" in reading.ask
    record(answers, q, reading)
    done = read(q, "negotiation 2", answers, kb)
    assert done.complete and done.value == {"communication": 4.0, "negotiation": 2.0}
    left = read(q, "leave it out", answers, kb)
    assert left.complete and left.value == {"communication": 4.0}


def test_years_said_as_the_year_they_began_count_to_this_year() -> None:
    """ "since 2019" is the years since then (the corpus cannot hold a label that moves with
    the calendar, so it is computed here)."""
    import datetime as dt

    from agent.parsing import Unclear, parse_number

    year = dt.date.today().year
    assert parse_number("since 2019", "years") == year - 2019
    assert parse_number(f"since mid {year - 3}", "years") == 3
    assert parse_number(f"since {year}", "years") == 0.5
    assert parse_number("3 years, since 2010", "years") == 3  # the years said count
    with pytest.raises(Unclear, match="has not come yet"):
        parse_number(f"since {year + 2}", "years")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("about 1 in ML, 8 in software", {"software": 8}),
        ("backend dev (8 yrs) pivoting to LLM engineering", {"software": 8}),
        ("5 years as a data engineer", {"data_engineering": 5}),
        ("6 years in devops and 1 in mlops", {"devops": 6}),
        ("2 years in ml", {}),
        ("I have 2 kids and 4 years in ml", {}),
    ],
)
def test_years_in_a_field_outside_ml_are_kept_for_the_review(
    text: str, found: dict[str, float]
) -> None:
    assert experience_elsewhere(text) == found
