"""Skill-check question banks: one file per skill under `knowledge/data/checks/`, validated together.

A bank holds multiple-choice scenario questions at three difficulty levels. Each question has
exactly four options, one of them correct, a reason for every option and a public source. The
adaptive check that asks them lives in `tools/skill_check.py`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import Field, HttpUrl, ValidationError, field_validator, model_validator

from knowledge.base import KnowledgeBase, KnowledgeError, _read_yaml, default_knowledge
from knowledge.schema import SkillId, Strict

CHECKS_DIR = Path(__file__).parent / "data" / "checks"
OPTIONS_PER_QUESTION = 4
MIN_QUESTIONS = 12
MIN_PER_LEVEL = 4


class Difficulty(StrEnum):
    """How hard a question is; the id letter after the skill names it (b, i or a)."""

    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"

    @property
    def letter(self) -> str:
        return self.value[0]

    @property
    def rank(self) -> int:
        """Position on the ladder: 0 basic, 1 intermediate, 2 advanced."""
        return list(Difficulty).index(self)


class CheckSource(Strict):
    """The public page a question's facts were checked against."""

    title: str = Field(min_length=5, max_length=300)
    url: HttpUrl
    checked: date | None = Field(
        default=None, description="set only when the page's content was confirmed on that day"
    )

    @field_validator("url")
    @classmethod
    def _https(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            raise ValueError(f"source URL must use https, got {value}")
        return value


class CheckOption(Strict):
    """One answer option with the reason it is right or wrong."""

    text: str = Field(min_length=1, max_length=400)
    correct: bool = False
    why: str = Field(min_length=10, max_length=700)


class CheckQuestion(Strict):
    """A scenario question with four options, exactly one of them correct."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}-[bia][1-9][0-9]*$")
    level: Difficulty
    stem: str = Field(min_length=20, max_length=1200)
    options: list[CheckOption]
    source: CheckSource

    @model_validator(mode="after")
    def _well_formed(self) -> CheckQuestion:
        if len(self.options) != OPTIONS_PER_QUESTION:
            raise ValueError(
                f"{self.id}: needs exactly {OPTIONS_PER_QUESTION} options, has {len(self.options)}"
            )
        right = sum(o.correct for o in self.options)
        if right != 1:
            raise ValueError(f"{self.id}: needs exactly one correct option, has {right}")
        texts = Counter(normalize_text(o.text) for o in self.options)
        if max(texts.values()) > 1:
            raise ValueError(f"{self.id}: two options have the same text")
        letter = self.id.rsplit("-", 1)[1][0]
        if letter != self.level.letter:
            raise ValueError(
                f"{self.id}: the id letter {letter!r} does not match level {self.level.value}"
            )
        return self

    @property
    def skill(self) -> str:
        """The skill id the question id starts with."""
        return self.id.rsplit("-", 1)[0]

    @property
    def answer(self) -> int:
        """Index of the correct option in file order."""
        return next(i for i, o in enumerate(self.options) if o.correct)


class CheckBank(Strict):
    """Every question of one skill (the content of `knowledge/data/checks/<skill>.yaml`)."""

    skill: SkillId
    version: str = Field(min_length=1)
    questions: list[CheckQuestion]

    @model_validator(mode="after")
    def _enough_and_owned(self) -> CheckBank:
        problems = [
            f"question {q.id} is not prefixed by the skill {self.skill}"
            for q in self.questions
            if q.skill != self.skill
        ]
        ids = Counter(q.id for q in self.questions)
        problems += [f"question id {i} appears {n} times" for i, n in sorted(ids.items()) if n > 1]
        if len(self.questions) < MIN_QUESTIONS:
            problems.append(f"needs at least {MIN_QUESTIONS} questions, has {len(self.questions)}")
        per_level = Counter(q.level for q in self.questions)
        problems += [
            f"needs at least {MIN_PER_LEVEL} {level.value} questions, has {per_level[level]}"
            for level in Difficulty
            if per_level[level] < MIN_PER_LEVEL
        ]
        if problems:
            raise ValueError(f"bank {self.skill}: " + "; ".join(problems))
        return self

    def at(self, level: Difficulty) -> list[CheckQuestion]:
        """Questions of one level, in file order."""
        return [q for q in self.questions if q.level == level]

    def get(self, question_id: str) -> CheckQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)


def normalize_text(text: str) -> str:
    """Fold text for duplicate detection: case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@dataclass(frozen=True)
class CheckLibrary:
    """The validated banks by skill id, and a digest of their files."""

    banks: dict[str, CheckBank]
    version: str

    def bank(self, skill_id: str) -> CheckBank | None:
        return self.banks.get(skill_id)

    @property
    def skills(self) -> list[str]:
        return sorted(self.banks)


def library_problems(banks: Iterable[tuple[str, CheckBank]], kb: KnowledgeBase) -> list[str]:
    """Problems that span files: unknown skills, misnamed files, shared ids or stems."""
    problems: list[str] = []
    owners: dict[str, str] = {}
    stems: dict[str, str] = {}
    skills: dict[str, str] = {}
    for file_name, bank in banks:
        if bank.skill not in kb.skills:
            close = kb.suggest_skills(bank.skill)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"{file_name}: skill {bank.skill} is not in the taxonomy{hint}")
        if file_name != f"{bank.skill}.yaml":
            problems.append(f"{file_name}: a bank of {bank.skill} must be named {bank.skill}.yaml")
        if bank.skill in skills:
            problems.append(f"{file_name}: skill {bank.skill} already has {skills[bank.skill]}")
        skills.setdefault(bank.skill, file_name)
        for question in bank.questions:
            if question.id in owners:
                problems.append(f"{file_name}: id {question.id} is also in {owners[question.id]}")
            owners.setdefault(question.id, file_name)
            key = normalize_text(question.stem)
            if key in stems:
                problems.append(f"{file_name}: {question.id} repeats the stem of {stems[key]}")
            stems.setdefault(key, question.id)
    return problems


def load_checks(kb: KnowledgeBase, folder: Path = CHECKS_DIR) -> CheckLibrary:
    """Read and validate every bank in `folder`; raise KnowledgeError listing every problem."""
    digest = hashlib.sha256()
    loaded: list[tuple[str, CheckBank]] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode())
        content = path.read_bytes()
        digest.update(content)
        try:
            loaded.append((path.name, CheckBank.model_validate(_read_yaml(path, content))))
        except KnowledgeError as exc:  # not valid YAML
            problems.append(str(exc))
        except ValidationError as exc:
            problems.append(f"{path.name}: {exc}")
    problems += library_problems(loaded, kb)
    if problems:
        raise KnowledgeError("; ".join(problems))
    return CheckLibrary(
        banks={bank.skill: bank for _, bank in loaded}, version=digest.hexdigest()[:12]
    )


@cache
def default_checks() -> CheckLibrary:
    """The bundled banks, read once per process (they are immutable)."""
    return load_checks(default_knowledge())
