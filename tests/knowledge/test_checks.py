"""The skill-check banks validate: schema, one right answer of four, sources, no shared ids or stems."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from knowledge.base import KnowledgeBase, KnowledgeError
from knowledge.checks import (
    CHECKS_DIR,
    MIN_PER_LEVEL,
    MIN_QUESTIONS,
    CheckBank,
    CheckQuestion,
    Difficulty,
    load_checks,
    normalize_text,
)

# The technical banks written with this module; other banks are validated by the same loader.
TECHNICAL = (
    "python",
    "model_evaluation",
    "deep_learning",
    "classical_ml",
    "statistics",
    "software_engineering",
    "pytorch",
    "llm_engineering",
)


def question(ident: str = "python-b1", level: str = "basic", stem: str = "") -> dict[str, Any]:
    return {
        "id": ident,
        "level": level,
        "stem": stem or f"A realistic scenario for {ident} that asks one clear question?",
        "options": [
            {"text": "The right answer.", "correct": True, "why": "Because the docs say so."},
            {"text": "A plausible slip.", "why": "Wrong, and here is why it tempts."},
            {"text": "Another plausible slip.", "why": "Wrong for a different reason."},
            {"text": "A third plausible slip.", "why": "Wrong for yet another reason."},
        ],
        "source": {"title": "Python documentation", "url": "https://docs.python.org/3/"},
    }


def bank(skill: str = "python", prefix: str = "") -> dict[str, Any]:
    """A minimal valid bank: four questions per level with distinct stems."""
    return {
        "skill": skill,
        "version": "2026.11",
        "questions": [
            question(
                f"{skill}-{level[0]}{n}",
                level,
                f"{prefix}Scenario {level} number {n} for {skill}: which option holds?",
            )
            for level in ("basic", "intermediate", "advanced")
            for n in range(1, 5)
        ],
    }


def write(folder: Path, name: str, data: dict[str, Any]) -> None:
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_bundled_banks_load_and_meet_the_minimums(kb: KnowledgeBase) -> None:
    library = load_checks(kb)
    files = sorted(p.stem for p in CHECKS_DIR.glob("*.yaml"))
    assert library.skills == files
    assert set(TECHNICAL) <= set(library.banks)
    for skill, checks in library.banks.items():
        assert skill in kb.skills
        assert len(checks.questions) >= MIN_QUESTIONS, skill
        per_level = Counter(q.level for q in checks.questions)
        assert min(per_level[d] for d in Difficulty) >= MIN_PER_LEVEL, skill


def test_every_bundled_question_is_well_formed(kb: KnowledgeBase) -> None:
    library = load_checks(kb)
    ids: Counter[str] = Counter()
    stems: Counter[str] = Counter()
    for checks in library.banks.values():
        for q in checks.questions:
            ids[q.id] += 1
            stems[normalize_text(q.stem)] += 1
            assert q.id.startswith(f"{checks.skill}-")
            assert len(q.options) == 4 and sum(o.correct for o in q.options) == 1
            assert all(o.why.strip() for o in q.options)
            assert q.source.url.scheme == "https"
    assert max(ids.values()) == 1
    assert max(stems.values()) == 1


BANKS = sorted(
    p.stem
    for p in (Path(__file__).resolve().parents[2] / "knowledge" / "data" / "checks").glob("*.yaml")
)


@pytest.mark.parametrize("skill", BANKS)
def test_banks_do_not_give_the_answer_away(kb: KnowledgeBase, skill: str) -> None:
    """Option length is no clue: the right one is rarely the longest or the shortest."""
    checks = load_checks(kb).banks[skill]
    limit = len(checks.questions) // 3
    longest = sum(max(q.options, key=lambda o: len(o.text)).correct for q in checks.questions)
    shortest = sum(min(q.options, key=lambda o: len(o.text)).correct for q in checks.questions)
    assert longest <= limit, f"{skill}: the right option is the longest {longest} times"
    assert shortest <= limit, f"{skill}: the right option is the shortest {shortest} times"


def test_model_evaluation_covers_imbalanced_data(kb: KnowledgeBase) -> None:
    checks = load_checks(kb).banks["model_evaluation"]
    text = " ".join(
        [q.stem for q in checks.questions]
        + [o.text + " " + o.why for q in checks.questions for o in q.options]
    ).lower()
    for topic in ("precision", "recall", "pr-auc", "baseline", "calibrat", "leak", "imbalanced"):
        assert topic in text, f"model_evaluation bank never mentions {topic}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda q: q["options"].pop(), "exactly 4 options"),
        (lambda q: q["options"][1].update(correct=True), "exactly one correct option, has 2"),
        (lambda q: q["options"][0].update(correct=False), "exactly one correct option, has 0"),
        (lambda q: q["options"][2].pop("why"), "why"),
        (lambda q: q["options"][2].update(why=""), "why"),
        (lambda q: q.pop("source"), "source"),
        (lambda q: q["source"].update(url="http://docs.python.org/3/"), "must use https"),
        (lambda q: q["source"].update(url="not a url"), "url"),
        (lambda q: q.update(level="expert"), "level"),
        (lambda q: q.update(id="python-i1"), "does not match level basic"),
        (lambda q: q.update(id="python_b1"), "id"),
        (lambda q: q["options"][3].update(text="the right answer"), "same text"),
    ],
)
def test_malformed_questions_are_refused(change: Any, message: str) -> None:
    data = question()
    change(data)
    with pytest.raises(ValidationError, match=message):
        CheckQuestion.model_validate(data)


def test_a_bank_needs_enough_questions_per_level_and_its_own_prefix() -> None:
    data = bank()
    data["questions"] = [q for q in data["questions"] if q["level"] != "advanced"]
    with pytest.raises(ValidationError, match=r"at least 12 questions.*at least 4 advanced"):
        CheckBank.model_validate(data)
    data = bank()
    data["questions"][0]["id"] = "docker-b1"
    with pytest.raises(ValidationError, match="docker-b1 is not prefixed by the skill python"):
        CheckBank.model_validate(data)


def test_the_loader_refuses_problems_across_files(kb: KnowledgeBase, tmp_path: Path) -> None:
    write(tmp_path, "python.yaml", bank("python"))
    write(tmp_path, "sql.yaml", bank("sql", prefix="SQL: "))
    assert load_checks(kb, tmp_path).skills == ["python", "sql"]

    shared = bank("sql")  # the same stems as the python bank after normalisation...
    for q in shared["questions"]:
        q["stem"] = q["stem"].replace("for sql", "for PYTHON!")
    write(tmp_path, "sql.yaml", shared)
    with pytest.raises(KnowledgeError, match="sql-b1 repeats the stem of python-b1"):
        load_checks(kb, tmp_path)


def test_the_loader_names_unknown_skills_and_misnamed_files(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    write(tmp_path, "pythn.yaml", bank("pythn"))
    with pytest.raises(KnowledgeError) as caught:
        load_checks(kb, tmp_path)
    assert "skill pythn is not in the taxonomy (did you mean python" in str(caught.value)

    (tmp_path / "pythn.yaml").unlink()
    write(tmp_path, "snakes.yaml", bank("python"))
    with pytest.raises(KnowledgeError, match=r"a bank of python must be named python\.yaml"):
        load_checks(kb, tmp_path)


def test_the_loader_refuses_an_id_or_skill_in_two_files(kb: KnowledgeBase, tmp_path: Path) -> None:
    write(tmp_path, "python.yaml", bank("python"))
    write(tmp_path, "copy.yaml", bank("python", prefix="Copied: "))
    with pytest.raises(KnowledgeError) as caught:
        load_checks(kb, tmp_path)
    problems = str(caught.value)
    assert "python.yaml: skill python already has copy.yaml" in problems
    assert "python.yaml: id python-b1 is also in copy.yaml" in problems


def test_the_loader_reports_broken_yaml_by_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    (tmp_path / "python.yaml").write_text("skill: python\nquestions: [a: b: c\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"python\.yaml: not valid YAML"):
        load_checks(kb, tmp_path)
