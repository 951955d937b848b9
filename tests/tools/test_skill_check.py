"""The adaptive skill check: ladder, stopping rule, fresh questions, estimate, evidence, audit."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from knowledge.base import KnowledgeBase
from knowledge.checks import CheckBank, Difficulty, default_checks
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.errors import CheckError
from tools.params import DEFAULT_PARAMS, SourceKind
from tools.profile import Profile
from tools.results import SkillStatus
from tools.skill_check import (
    CHECK_METHOD_VERSION,
    CHECK_VERSION_FINGERPRINTS,
    DEFAULT_CHECK_PARAMS,
    Answer,
    AnsweredQuestion,
    CheckParams,
    CheckResult,
    CheckState,
    check_evidence,
    check_params_fingerprint,
    estimate,
    explain,
    is_finished,
    level_band,
    next_question,
    record,
    result,
    start_check,
    target_level,
)

START = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def bank() -> CheckBank:
    checks = default_checks().bank("python")
    assert checks is not None
    return checks


def begin(bank: CheckBank, seed: str = "seed-1", seen: Sequence[str] = ()) -> CheckState:
    return start_check(bank, seed, START, seen)


def answer(state: CheckState, bank: CheckBank, right: bool, seconds: int = 20) -> CheckState:
    """Answer the current question right or wrong by choosing among the shown options."""
    shown = next_question(state, bank)
    assert shown is not None
    question = bank.get(shown.question_id)
    assert question is not None
    correct_text = question.options[question.answer].text
    choice = next(i for i, text in enumerate(shown.options) if (text == correct_text) == right)
    shown_at = START + dt.timedelta(minutes=len(state.answers))
    return record(
        state,
        bank,
        Answer(
            question_id=shown.question_id,
            choice=choice,
            shown_at=shown_at,
            answered_at=shown_at + dt.timedelta(seconds=seconds),
        ),
    )


def run(bank: CheckBank, pattern: Callable[[int], bool], **kwargs: object) -> CheckState:
    """Answer until the check ends; pattern(i) says whether answer i is right."""
    state = begin(bank, **kwargs)  # type: ignore[arg-type]
    while next_question(state, bank) is not None:
        state = answer(state, bank, pattern(len(state.answers)))
    return state


def test_the_ladder_starts_at_intermediate_and_steps_one_level(bank: CheckBank) -> None:
    state = begin(bank)
    shown = next_question(state, bank)
    assert shown is not None and shown.level == Difficulty.INTERMEDIATE
    assert (shown.number, shown.at_most) == (1, 6)
    up = answer(state, bank, right=True)
    assert (shown := next_question(up, bank)) is not None and shown.level == Difficulty.ADVANCED
    top = answer(up, bank, right=True)
    assert (shown := next_question(top, bank)) is not None and shown.level == Difficulty.ADVANCED
    down = answer(state, bank, right=False)
    assert (shown := next_question(down, bank)) is not None and shown.level == Difficulty.BASIC
    bottom = answer(down, bank, right=False)
    assert (shown := next_question(bottom, bank)) is not None and shown.level == Difficulty.BASIC
    back = answer(down, bank, right=True)
    assert (shown := next_question(back, bank)) is not None
    assert shown.level == Difficulty.INTERMEDIATE


def test_consistent_answers_settle_after_four_questions(bank: CheckBank) -> None:
    best = result(run(bank, lambda i: True))
    worst = result(run(bank, lambda i: False))
    assert best.asked == worst.asked == 4
    assert best.right == 4 and worst.right == 0
    assert best.proficiency > DEFAULT_CHECK_PARAMS.anchors[Difficulty.ADVANCED]
    assert worst.proficiency < DEFAULT_CHECK_PARAMS.anchors[Difficulty.BASIC]
    assert (best.level, worst.level) == ("advanced", "below basic")
    assert best.sd <= DEFAULT_CHECK_PARAMS.settled_sd and worst.sd <= best.sd


def test_inconsistent_answers_use_more_questions_but_never_more_than_six(bank: CheckBank) -> None:
    alternating = run(bank, lambda i: i % 2 == 0)
    assert len(alternating.answers) == 6
    assert is_finished(alternating) and next_question(alternating, bank) is None
    finished = result(alternating)
    assert finished.right == 3 and finished.level in {"basic", "intermediate"}


@settings(max_examples=40, deadline=None)
@given(pattern=st.lists(st.booleans(), min_size=6, max_size=6))
def test_every_check_asks_four_to_six_distinct_questions(
    bank: CheckBank, pattern: list[bool]
) -> None:
    state = run(bank, lambda i: pattern[i])
    ids = [a.question_id for a in state.answers]
    assert 4 <= len(ids) <= 6 and len(set(ids)) == len(ids)
    finished = result(state)
    assert 0 <= finished.proficiency <= 100 and finished.asked == len(ids)


def test_nothing_half_answered_counts(bank: CheckBank) -> None:
    state = begin(bank)
    for _ in range(3):
        state = answer(state, bank, right=True)
    assert not is_finished(state)
    with pytest.raises(CheckError, match="not finished: 3 answered, at least 1 more needed"):
        result(state)


def test_the_same_seed_gives_the_same_check_and_seeds_vary_it(bank: CheckBank) -> None:
    def questions(seed: str) -> list[str]:
        return [a.question_id for a in run(bank, lambda i: i != 1, seed=seed).answers]

    assert questions("alpha") == questions("alpha")
    assert len({tuple(questions(f"seed-{n}")) for n in range(8)}) > 1


def test_options_are_shuffled_by_seed_and_still_judged_right(bank: CheckBank) -> None:
    orders = set()
    for n in range(8):
        state = begin(bank, seed=f"shuffle-{n}")
        shown = next_question(state, bank)
        assert shown is not None
        question = bank.get(shown.question_id)
        assert question is not None
        assert sorted(shown.options) == sorted(o.text for o in question.options)
        orders.add(shown.options.index(question.options[question.answer].text))
        assert answer(state, bank, right=True).answers[-1].correct
        assert not answer(state, bank, right=False).answers[-1].correct
    assert len(orders) > 1, "the right option sat in the same place for every seed"


@pytest.mark.parametrize(
    ("first", "second"),
    list(itertools.product([True, False, None], repeat=2)),
)
def test_a_repeated_check_shows_questions_not_seen_before(
    bank: CheckBank, first: bool | None, second: bool | None
) -> None:
    """Two checks in a row share no question, whatever the answers (None = alternate)."""

    def pattern(kind: bool | None) -> Callable[[int], bool]:
        return (lambda i: i % 2 == 0) if kind is None else (lambda i: kind)

    one = [a.question_id for a in run(bank, pattern(first), seed="same").answers]
    two = [a.question_id for a in run(bank, pattern(second), seed="same", seen=one).answers]
    assert not set(one) & set(two)


def test_when_everything_was_seen_the_oldest_questions_come_back_first(bank: CheckBank) -> None:
    everything = [q.id for q in bank.questions]
    state = begin(bank, seen=everything)
    shown = next_question(state, bank)
    assert shown is not None
    oldest_intermediate = next(i for i in everything if i.startswith("python-i"))
    assert shown.question_id == oldest_intermediate


def test_wrong_steps_are_refused_with_a_clear_message(bank: CheckBank) -> None:
    state = begin(bank)
    shown = next_question(state, bank)
    assert shown is not None
    other = next(q.id for q in bank.questions if q.id != shown.question_id)
    later = START + dt.timedelta(seconds=5)
    with pytest.raises(CheckError, match=f"current question is {shown.question_id}"):
        record(state, bank, Answer(question_id=other, choice=0, shown_at=START, answered_at=later))
    with pytest.raises(CheckError, match="choice 4 is not an option; choose 0 to 3"):
        record(
            state,
            bank,
            Answer(question_id=shown.question_id, choice=4, shown_at=START, answered_at=later),
        )
    with pytest.raises(ValidationError, match="answered_at is before shown_at"):
        Answer(question_id=shown.question_id, choice=0, shown_at=later, answered_at=START)
    sql = bank.model_copy(update={"skill": "sql"})
    with pytest.raises(CheckError, match="this check is of python, not sql"):
        next_question(state, sql)
    changed = bank.model_copy(update={"version": "2027.01"})
    with pytest.raises(CheckError, match="questions changed"):
        next_question(state, changed)
    done = run(bank, lambda i: True)
    with pytest.raises(CheckError, match="already finished"):
        record(
            done,
            bank,
            Answer(question_id=shown.question_id, choice=0, shown_at=START, answered_at=later),
        )


def test_state_survives_a_round_trip_through_json(bank: CheckBank) -> None:
    state = answer(answer(begin(bank), bank, right=True, seconds=42), bank, right=False)
    again = CheckState.model_validate_json(state.model_dump_json())
    assert again == state
    assert again.answers[0].seconds == 42.0
    assert next_question(again, bank) == next_question(state, bank)


@settings(max_examples=60, deadline=None)
@given(
    answers=st.lists(
        st.tuples(st.sampled_from(list(Difficulty)), st.booleans()), min_size=0, max_size=6
    ),
    level=st.sampled_from(list(Difficulty)),
)
def test_a_right_answer_never_lowers_the_estimate(
    answers: list[tuple[Difficulty, bool]], level: Difficulty
) -> None:
    def judged(level: Difficulty, correct: bool) -> AnsweredQuestion:
        return AnsweredQuestion(
            question_id="python-b1", level=level, choice=0, chosen=0, correct=correct,
            shown_at=START, answered_at=START,
        )  # fmt: skip

    base = [judged(lv, ok) for lv, ok in answers]
    before = estimate(base, DEFAULT_CHECK_PARAMS).proficiency
    after_right = estimate([*base, judged(level, True)], DEFAULT_CHECK_PARAMS).proficiency
    after_wrong = estimate([*base, judged(level, False)], DEFAULT_CHECK_PARAMS).proficiency
    assert after_wrong - 1e-9 <= before <= after_right + 1e-9
    assert 0 <= after_wrong <= after_right <= 100


def test_explanations_name_both_options_and_the_source(bank: CheckBank) -> None:
    state = answer(begin(bank), bank, right=False)
    wrong = state.answers[0]
    why = explain(bank, wrong)
    question = bank.get(wrong.question_id)
    assert question is not None
    assert not why.correct and why.chosen_text != why.answer_text
    assert why.answer_text == question.options[question.answer].text
    assert why.source_url.startswith("https://")


def finished(bank: CheckBank, right: bool) -> CheckResult:
    return result(run(bank, lambda i: right))


def test_a_finished_check_becomes_skill_check_evidence(bank: CheckBank) -> None:
    best = finished(bank, right=True)
    item = check_evidence(best)
    assert item.source == SourceKind.SKILL_CHECK
    assert item.skill == "python"
    assert item.strength == round(best.proficiency / 100, 4)
    assert item.observed == best.finished_at.date() == START.date()
    assert "4 of 4 right" in item.detail and "advanced 3/3" in item.detail


def test_skill_checks_are_trusted_between_self_ratings_and_code() -> None:
    reliability = DEFAULT_PARAMS.reliability
    assert (
        reliability[SourceKind.SELF_RATING]
        < reliability[SourceKind.SKILL_CHECK]
        < reliability[SourceKind.CODE]
    )


def test_the_audit_moves_a_self_rating_toward_the_check(
    bank: CheckBank, kb: KnowledgeBase, make_profile: Callable[..., Profile]
) -> None:
    """All wrong ends below the self-rating, all right above it; confidence rises either way."""
    profile = make_profile(self_ratings={"python": 3})
    self_rated = 3 / 5 * 100

    def python_score(extra: list[CheckResult]) -> tuple[float, float, SkillStatus]:
        audit = run_audit(profile, kb, AS_OF, extra_evidence=[check_evidence(r) for r in extra])
        skill = next(s for s in audit.skills if s.id == "python")
        assert skill.proficiency is not None
        return skill.proficiency, skill.confidence, skill.status

    alone, alone_confidence, alone_status = python_score([])
    assert alone == self_rated and alone_status == SkillStatus.SELF_RATED
    low, low_confidence, low_status = python_score([finished(bank, right=False)])
    high, high_confidence, _ = python_score([finished(bank, right=True)])
    assert low < self_rated < high
    assert low_status == SkillStatus.MEASURED
    assert low_confidence == high_confidence > alone_confidence
    weights = DEFAULT_PARAMS.reliability
    mass = weights[SourceKind.SELF_RATING] + weights[SourceKind.SKILL_CHECK]
    assert low_confidence == round(mass / (mass + DEFAULT_PARAMS.confidence_k), 3)


def test_check_parameters_change_only_with_a_new_version() -> None:
    assert CHECK_VERSION_FINGERPRINTS.get(CHECK_METHOD_VERSION) == check_params_fingerprint(), (
        "a check parameter changed: bump CHECK_METHOD_VERSION and record its fingerprint"
    )


def test_check_parameters_are_validated() -> None:
    with pytest.raises(ValidationError, match="min_questions must not exceed max_questions"):
        CheckParams(min_questions=7)
    with pytest.raises(ValidationError, match="anchors must rise"):
        CheckParams(
            anchors={Difficulty.BASIC: 60, Difficulty.INTERMEDIATE: 50, Difficulty.ADVANCED: 70}
        )
    with pytest.raises(ValidationError, match="guess \\+ slip must be below 1"):
        CheckParams(guess=0.6, slip=0.5)


@pytest.mark.parametrize(
    ("value", "band"),
    [(10, "below basic"), (35, "basic"), (60, "intermediate"), (75, "advanced"), (99, "advanced")],
)
def test_level_bands_follow_the_anchors(value: float, band: str) -> None:
    assert level_band(value) == band


DOC = Path(__file__).resolve().parents[2] / "docs" / "skill-checks.md"


def test_the_documented_examples_are_what_the_code_computes() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- check-examples:start -->")[1].split("<!-- check-examples:end -->")[0]
    rows = re.findall(r"\| `([-+bia]+)` \| ([\d.]+) \| ([\d.]+) \| ([a-z ]+) \|", table)
    assert len(rows) >= 5
    letters = {d.value[0]: d for d in Difficulty}
    for sequence, proficiency, sd, band in rows:
        state = CheckState(skill="python", bank_version="v", seed="doc", started_at=START)
        steps = re.findall(r"([-+])([bia])", sequence)
        for n, (sign, letter) in enumerate(steps, start=1):
            assert not is_finished(state), f"{sequence}: the check ends before answer {n}"
            assert target_level(state) == letters[letter], f"{sequence}: answer {n} level"
            judged = AnsweredQuestion(
                question_id=f"python-{letter}1", level=letters[letter], choice=0, chosen=0,
                correct=sign == "+", shown_at=START, answered_at=START,
            )  # fmt: skip
            state = state.model_copy(update={"answers": (*state.answers, judged)})
        assert is_finished(state), f"{sequence}: the check goes on after the last answer"
        finished = result(state)
        assert (finished.proficiency, finished.sd, finished.level) == (
            float(proficiency),
            float(sd),
            band,
        ), sequence
