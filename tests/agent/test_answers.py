"""The labelled corpus of free-text answers (tests/agent/data/answers.yaml), read by the one
entry point every flow uses (`agent.answers.read`).

Understood: the reading is what the label says (a value, a question back, or a kept part).
Misrecorded: a value was recorded, or kept, that the label does not have. The share
understood must reach 95%; the share misrecorded must be 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.answers import read
from agent.interview import QUICK_FILE, question, questions, rated_skills
from knowledge.base import KnowledgeBase

CORPUS = Path(__file__).parent / "data" / "answers.yaml"
TARGET = 0.95


@dataclass(frozen=True)
class Case:
    question: str
    say: str
    expected: Any
    options: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.question}: {self.say!r}"


def load_cases() -> list[Case]:
    raw = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    cases = []
    for question_id, entries in raw.items():
        for entry in entries:
            say, expected, *rest = entry
            cases.append(Case(question_id, str(say), expected, rest[0] if rest else {}))
    return cases


CASES = load_cases()


def _expand(case: Case, expected: Any, answers: dict[str, Any], kb: KnowledgeBase) -> Any:
    """A ratings label with "rest: N" as the full mapping of the skills the question asks, and a
    list (a positional answer) as the ratings of those skills in the order they are asked
    (null: that one left out); the order follows the role's data, so it is not written down."""
    q = question(case.question)
    if q.kind == "ratings" and isinstance(expected, list):
        order = rated_skills(q, answers, kb)
        return {s: v for s, v in zip(order, expected, strict=True) if v is not None}
    if q.kind == "ratings" and isinstance(expected, dict) and "rest" in expected:
        rest = expected["rest"]
        named = {k: v for k, v in expected.items() if k != "rest"}
        return {**dict.fromkeys(rated_skills(q, answers, kb), rest), **named}
    return expected


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return math.isclose(got, want, rel_tol=1e-3, abs_tol=1e-3)
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return sorted(got) == sorted(want)
    return bool(got == want)


def _part_of(kept: Any, want: Any) -> bool:
    """Whether a kept part agrees with the label (a subset of it)."""
    if isinstance(kept, dict) and isinstance(want, dict):
        return all(k in want and _same(v, want[k]) for k, v in kept.items())
    if isinstance(kept, list) and isinstance(want, list):
        return set(kept) <= set(want)
    return False


def judge(case: Case, kb: KnowledgeBase) -> tuple[str, str]:
    """("understood" | "asked" | "misrecorded", what happened) for one case."""
    answers: dict[str, Any] = {"target_role": case.options.get("role", "ml_engineer")}
    answers.update(case.options.get("answers", {}))
    reading = read(question(case.question), case.say, answers, kb)
    expected = case.expected
    said = reading.note if reading.complete else (reading.ask or "")
    if "note" in case.options and not re.search(case.options["note"], said):
        return "asked", f"reply {said!r} lacks /{case.options['note']}/"
    if isinstance(expected, dict) and set(expected) == {"keeps"}:
        want = _expand(case, expected["keeps"], answers, kb)
        if reading.complete:
            return "misrecorded", f"recorded {reading.value!r}, expected to keep {want!r} and ask"
        kept = (reading.keep or {}).get("value")
        if reading.keep is None:
            return "asked", "asked again without keeping the understood part"
        if _same(kept, want):
            return "understood", ""
        return (
            "asked" if _part_of(kept, want) else "misrecorded"
        ), f"kept {kept!r}, expected {want!r}"
    if expected == "ask":
        if reading.complete:
            return "misrecorded", f"recorded {reading.value!r}, expected a question back"
        kept = (reading.keep or {}).get("value")
        if kept:
            return "misrecorded", f"kept {kept!r}, expected a question back"
        return "understood", ""
    want = _expand(case, expected, answers, kb)
    if reading.complete:
        if _same(reading.value, want):
            return "understood", ""
        return "misrecorded", f"recorded {reading.value!r}, expected {want!r}"
    kept = (reading.keep or {}).get("value")
    if kept and not _part_of(kept, want):
        return "misrecorded", f"kept {kept!r}, expected {want!r}"
    return "asked", f"asked {reading.ask!r}, expected {want!r}"


def test_the_corpus_covers_every_question_with_400_answers() -> None:
    ids = {q.id for q in (*questions(), *questions(QUICK_FILE))}
    assert ids <= {c.question for c in CASES}, ids - {c.question for c in CASES}
    assert len(CASES) >= 400
    kinds = {question(c.question).kind for c in CASES}
    assert kinds == {q.kind for q in (*questions(), *questions(QUICK_FILE))}


def test_answers_are_understood_as_meant_and_never_misrecorded(
    kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = [(case, *judge(case, kb)) for case in CASES]
    understood = sum(1 for _, verdict, _ in verdicts if verdict == "understood")
    wrong = [f"{case}: {why}" for case, verdict, why in verdicts if verdict == "misrecorded"]
    missed = [f"{case}: {why}" for case, verdict, why in verdicts if verdict == "asked"]
    share = understood / len(CASES)
    with capsys.disabled():
        print(
            f"\nanswer corpus: {len(CASES)} answers, {share:.1%} understood as meant, "
            f"{len(missed)} asked again when a value was expected, "
            f"{len(wrong) / len(CASES):.1%} misrecorded ({len(wrong)})"
        )
    assert not wrong, "misrecorded:\n" + "\n".join(wrong)
    assert share >= TARGET, f"{share:.1%} understood; not understood:\n" + "\n".join(missed)


LIST_QUESTIONS = [
    q for q in (*questions(), *questions(QUICK_FILE)) if q.kind in ("multi", "skills")
]


@pytest.mark.parametrize("q", LIST_QUESTIONS, ids=lambda q: q.id)
@pytest.mark.parametrize("done", ["no", "that's all", "Done.", "none", "leave it out", "ok"])
def test_a_list_partly_understood_ends_with_what_was_understood(
    q: Any, done: str, kb: KnowledgeBase
) -> None:
    """One known option and one unknown name keep the known one; then "no" or "that's all"
    records the kept part (a list question once crashed on it: its kept part is a list)."""
    from agent.answers import record
    from agent.interview import choices_for

    options = choices_for(q, kb)
    known = options[0].label if options else "python"
    answers: dict[str, Any] = {}
    first = read(q, f"{known}, zorblax frobnication", answers, kb)
    assert first.keep is not None and not first.complete, (q.id, first)
    record(answers, q, first)
    second = read(q, done, answers, kb)
    assert second.complete, (q.id, done, second)
    record(answers, q, second)
    assert isinstance(answers[q.id], list) and len(answers[q.id]) == 1, answers


@pytest.mark.parametrize(
    ("said", "source", "kept"),
    [
        ("kaggle 5, xgboost 5", "kaggle", {"gradient_boosting": 5}),
        ("upwork 5", "income_csv", None),
        ("coursera 4, spark 2", "certificates", {"spark": 2}),
        ("python 4, fiverr 3", "income_csv", {"python": 4}),
    ],
)
def test_a_platform_named_as_a_skill_points_to_its_connector(
    said: str, source: str, kept: dict[str, float] | None, kb: KnowledgeBase
) -> None:
    """ "kaggle 5" was answered with "did you mean Project Management?": a platform is where
    evidence comes from, so the reply names its connector and guesses no skill for it."""
    for q in (question("other_skills"), question("technical_ratings")):
        reading = read(q, said, {"target_role": "ml_engineer"}, kb)
        assert not reading.complete
        assert f"/connect {source}" in (reading.ask or ""), reading.ask
        assert "did you mean" not in (reading.ask or "")
        assert (reading.keep or {}).get("value") == kept, (q.id, reading.keep)
        assert [c.label for c in reading.choices] in ([], ["Leave it out"])
