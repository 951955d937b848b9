"""Check a model's reply against the numbers the deterministic tools produced in the session.

A score, gap, percentile or confidence stated in the reply must equal (after the rounding a
person would use) a number in the tool results; otherwise the reply is not shown as is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.connectors.text import PhraseMatcher

# A number with an optional % or "/100"; dates, years and versions are told apart below.
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s*(%|/\s*100|/\s*5)?(?!\w|\.\d)")
_DATE_LIKE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\b(19|20)\d{2}\b|\bv?\d+\.\d+\.\d+\b"
    # scales, not claims: "out of 100", "0-100", "from 1 to 5"
    r"|\b(?:out )?of (?:100|10|5)\b|\b[01]\s*(?:-|\u2013|to)\s*(?:100|10|5)\b"
)
# Numbers that people write without them being claims about scores.
SMALL_WORDS = frozenset({0.0, 1.0, 2.0, 3.0, 4.0, 5.0})


@dataclass(frozen=True)
class Grounding:
    ok: bool
    unsupported: list[str]


def tool_numbers(results: Iterable[Any]) -> set[float]:
    """Every number found anywhere in the tool results (nested dicts and lists)."""
    found: set[float] = set()

    def walk(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | float) and math.isfinite(value):
            found.add(float(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            for match in _NUMBER.finditer(value):
                found.add(float(match.group(1)))

    for result in results:
        walk(result)
    return found


def _supported(value: float, suffix: str | None, known: set[float]) -> bool:
    candidates = {value}
    if suffix == "%":
        candidates.add(value / 100)  # 26% may be a 0.26 gap or confidence
    if suffix and suffix.replace(" ", "") == "/5":
        candidates.add(value * 20)  # 3/5 is proficiency 60
    for number in known:
        for candidate in candidates:
            # Accept the roundings a person would use: 0, 1 or 2 decimals.
            if abs(number - candidate) < 1e-9 or any(
                abs(round(number, d) - candidate) < 1e-9 for d in (0, 1, 2)
            ):
                return True
            if suffix == "%" and any(abs(round(number * 100, d) - value) < 1e-9 for d in (0, 1)):
                return True
    return False


def check_reply(text: str, results: Iterable[Any]) -> Grounding:
    """Find numbers in `text` that no tool produced (dates, years and small counts aside)."""
    known = tool_numbers(results)
    masked = _DATE_LIKE.sub(" ", text)
    unsupported = []
    for match in _NUMBER.finditer(masked):
        value, suffix = float(match.group(1)), match.group(2)
        if suffix is None and value in SMALL_WORDS:
            continue
        if not _supported(value, suffix, known):
            unsupported.append(match.group(0).strip())
    return Grounding(ok=not unsupported, unsupported=unsupported)


_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def check_claims(text: str, records: dict[str, Any], known: Iterable[Any], kb: Any) -> Grounding:
    """Numbers stated about one skill must belong to that skill.

    `records` maps a skill id to what the tools produced about it (its score record, the
    person's rating); a sentence naming one skill with a number must match one of that
    skill's numbers, or the person's own words (`known`). Sentences naming several skills
    are left to `check_reply`, which checks every number against all results.
    """
    spoken = tool_numbers(known)
    unsupported = []
    skills = PhraseMatcher.for_skills(kb)  # the connectors' skill finder: names and aliases
    for sentence in _SENTENCE.split(text):
        named = {mention.ident for mention in skills.find(sentence)}
        if len(named) != 1:
            continue
        (skill,) = named
        own = tool_numbers([records.get(skill, {})]) | spoken
        masked = _DATE_LIKE.sub(" ", sentence)
        for match in _NUMBER.finditer(masked):
            value, suffix = float(match.group(1)), match.group(2)
            if suffix is None and value in SMALL_WORDS:
                continue
            if not _supported(value, suffix, own):
                unsupported.append(f"{kb.skills[skill].name}: {match.group(0).strip()}")
    return Grounding(ok=not unsupported, unsupported=unsupported)


def leaks(text: str, private: str, canary: str, words: int = 8) -> bool:
    """Whether `text` contains the canary or any run of `words` words of the private text."""
    if canary.lower() in text.lower():
        return True

    def tokens(value: str) -> list[str]:
        return re.findall(r"\w+", value.lower())

    secret = tokens(private)
    shingles = {" ".join(secret[i : i + words]) for i in range(max(0, len(secret) - words + 1))}
    said = tokens(text)
    return any(" ".join(said[i : i + words]) in shingles for i in range(len(said) - words + 1))
