"""Check a model's reply against what the deterministic tools produced.

Every figure in the reply, in digits or in words ("eighty-seven", "top ten percent"), is tied
to the subject it is stated about (the overall score, a pillar, a skill, a percentile): the
nearest one named before it in the same sentence, else the first one after it. A figure
about a subject must be one of that subject's numbers; a figure about nothing in particular
must be a number some tool produced, or one the person wrote. Rounding to the precision
shown is accepted either way ("about 97" or "96" for 96.5). Every URL must be in the
resource catalog or in a tool result. Dates, years, versions and scales ("0 to 5") are not
claims; small counts ("3 skills") are checked only when they sit right after a subject
("Python 5").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tools.connectors.text import PhraseMatcher

# A figure in digits, with what may follow it: %, /100, /5, "out of 100", an ordinal suffix.
_DIGITS = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})*(?:\.\d+)?)(?:(st|nd|rd|th)\b)?"
    r"(\s*(?:%|percent\b|per cent\b|/\s*100\b|/\s*10\b|/\s*5\b|out of (?:100|a hundred|10|ten|5|five)\b))?"
    r"(?![\w]|\.\d)"
)
_DATE_LIKE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\b(?:19|20)\d{2}\b|\bv?\d+\.\d+\.\d+\b|\b\d{1,2}:\d{2}\b"
    # scales, not claims: "from 0 to 5", "0-100", "on a 1-5 scale"
    r"|\b[01]\s*(?:-|\u2013|to)\s*(?:100|10|5)\b"
)
_URL = re.compile(r"https?://[^\s<>()\"'\]\[]+", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
# Words after a figure that make it a count or an amount, not a score.
_UNIT_AFTER = re.compile(
    r"\s*(?:hours?|hrs?|h\b|weeks?|days?|months?|years?|minutes?|mins?|courses?|skills?|"
    r"questions?|items?|people|clients?|steps?|sessions?|lessons?|modules?|chapters?|books?|"
    r"projects?|times|usd|dollars?|euros?|\$|€|ms\b|seconds?|gb|mb)",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"[$€£]\s*$")
_LINK = r"(?:\s+(?:is|was|at|of|sits at|stands at|scored|scores|rated|now|=|:|-|\u2013|\()?)*\s*$"
# Subjects that are not skills: the overall score, the pillars, percentiles.
_OVERALL = re.compile(r"\b(?:overall|total score|audit score|final score|mlsaf score)\b", re.I)
_PILLARS = {
    "technical": r"technical proficiency|technical pillar|technical score",
    "lifecycle": r"model lifecycle management|model lifecycle|lifecycle(?: management)?(?: pillar| score)?",
    "ethics": r"ethical governance|ethics pillar|ethics score|governance pillar",
    "career": r"career integration|career pillar|career score",
}
_PERCENTILE = re.compile(r"\bpercentile\b|\btop\s*$", re.I)
SMALL = 5.0  # bare figures up to this are counts ("3 skills"), unless tied to a subject

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_NUMBER_WORD = re.compile(
    r"\b(?:(?:a|one)\s+hundred|hundred|" + "|".join([*_TENS, *_UNITS]) + r")"
    r"(?:(?:[\s-]+(?:and\s+)?)(?:" + "|".join([*_TENS, *_UNITS, "hundred", "point"]) + r"))*"
    r"(?:\s+and\s+a\s+half)?\b"
    r"(\s*(?:%|percent\b|per cent\b|out of (?:100|a hundred|ten|10|five|5)\b))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Grounding:
    ok: bool
    unsupported: list[str]


@dataclass(frozen=True)
class Figure:
    value: float
    decimals: int
    scale: str  # "", "%", "/100", "/10", "/5"
    start: int
    end: int
    text: str
    ordinal: bool = False


@dataclass
class Facts:
    """What a reply may state: each subject's numbers, all tool numbers, the person's numbers."""

    subjects: dict[str, set[float]] = field(
        default_factory=dict
    )  # "overall", "pillar:x", "skill:x"
    numbers: set[float] = field(default_factory=set)  # anything a tool produced this session
    spoken: set[float] = field(default_factory=set)  # figures in the person's own message
    urls: set[str] = field(default_factory=set)  # the catalog's and the tool results' URLs


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
            for figure in figures(value):
                found.add(figure.value)

    for result in results:
        walk(result)
    return found


def tool_urls(results: Iterable[Any]) -> set[str]:
    """Every URL in the tool results, normalised."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.update(normal_url(u) for u in _URL.findall(value))

    for result in results:
        walk(result)
    return found


def normal_url(url: str) -> str:
    """A URL as compared: lower-case scheme and host, no trailing slash or punctuation."""
    url = url.rstrip(".,;:!?)'\"]")
    match = re.match(r"(?i)(https?)://([^/?#]+)(.*)", url)
    if not match:
        return url
    return f"{match.group(1).lower()}://{match.group(2).lower()}{match.group(3)}".rstrip("/")


def _words_value(words: str) -> float | None:
    """The value of a run of number words: "eighty-seven", "ninety six point five"."""
    tokens = [t for t in re.split(r"[\s-]+", words.lower()) if t and t != "and"]
    half = tokens[-2:] == ["a", "half"]
    if half:
        tokens = tokens[:-2]
    total, current, decimals = 0.0, 0.0, ""
    after_point = False
    for token in tokens:
        if token == "point":
            after_point = True
        elif after_point and token in _UNITS and _UNITS[token] < 10:
            decimals += str(_UNITS[token])
        elif token in ("a", "one") and not after_point and current == 0:
            current = 1
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _TENS:
            current += _TENS[token]
        elif token in _UNITS:
            current += _UNITS[token]
        else:
            return None
    total += current
    value = float(f"{int(total)}.{decimals}") if decimals else total
    return value + 0.5 if half else value


def _scale(suffix: str | None) -> str:
    if not suffix:
        return ""
    s = suffix.strip().lower().replace(" ", "")
    if s in ("%", "percent", "percent") or s.startswith("per"):
        return "%"
    if s.endswith(("100", "hundred")):
        return "/100"
    if s.endswith(("10", "ten")):
        return "/10"
    return "/5"


def figures(text: str) -> list[Figure]:
    """The figures in `text` (digits or words) that could be claims: not dates, years,
    versions, scales or parts of URLs."""
    masked = _URL.sub(lambda m: " " * len(m.group()), text)
    masked = _DATE_LIKE.sub(lambda m: " " * len(m.group()), masked)
    found: list[Figure] = []
    for m in _DIGITS.finditer(masked):
        raw = m.group(1).replace(",", "")
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        found.append(
            Figure(float(raw), decimals, _scale(m.group(3)), m.start(), m.end(),
                   m.group(0).strip(), ordinal=bool(m.group(2)))
        )  # fmt: skip
    for m in _NUMBER_WORD.finditer(masked):
        words = m.group(0)[: m.start(1) - m.start()] if m.group(1) else m.group(0)
        value = _words_value(words)
        if value is None:
            continue
        decimals = 1 if value != int(value) else 0
        found.append(
            Figure(value, decimals, _scale(m.group(1)), m.start(), m.end(), m.group(0).strip())
        )
    return sorted(found, key=lambda f: f.start)


def _near(stated: float, decimals: int, true: float, unit: float = 1.0) -> bool:
    """Whether `stated` (shown with `decimals`) is `true` rounded either way; `unit` scales."""
    return abs(true - stated * unit) <= 0.5 * unit * 10.0**-decimals + 1e-9


def supported(figure: Figure, known: Iterable[float]) -> bool:
    """Whether the figure states one of the `known` numbers, at the precision shown."""
    for true in known:
        if figure.scale == "%":
            if _near(figure.value, figure.decimals, true * 100) or _near(
                figure.value, figure.decimals, true
            ):
                return True
        elif figure.scale == "/5":
            if _near(figure.value, figure.decimals, true) or _near(
                figure.value, figure.decimals, true, 20.0
            ):
                return True
        elif figure.scale == "/10":
            if _near(figure.value, figure.decimals, true, 10.0) or _near(
                figure.value, figure.decimals, true * 2
            ):
                return True
        elif _near(figure.value, figure.decimals, true):
            return True
    return False


@dataclass(frozen=True)
class _Mention:
    subject: str
    start: int
    end: int


def _mentions(sentence: str, skills: PhraseMatcher) -> list[_Mention]:
    found = [_Mention("overall", m.start(), m.end()) for m in _OVERALL.finditer(sentence)]
    for pillar, pattern in _PILLARS.items():
        found += [_Mention(f"pillar:{pillar}", m.start(), m.end())
                  for m in re.finditer(rf"\b(?:{pattern})\b", sentence, re.I)]  # fmt: skip
    taken = [(m.start, m.end) for m in found]
    for m in skills.find(sentence):
        if not any(a <= m.start < b for a, b in taken):  # "MLOps" inside a pillar's name
            found.append(_Mention(f"skill:{m.ident}", m.start, m.end))
    return sorted(found, key=lambda m: m.start)


def _subject(figure: Figure, sentence: str, mentions: list[_Mention]) -> str | None:
    before = sentence[: figure.start]
    if figure.ordinal or re.match(r"\s*(?:th\s+)?percentile", sentence[figure.end :], re.I):
        return "percentile"
    if _PERCENTILE.search(before) and figure.scale == "%":
        return "percentile"
    preceding = [m for m in mentions if m.end <= figure.start]
    if preceding:
        return preceding[-1].subject
    following = [m for m in mentions if m.start >= figure.end]
    return following[0].subject if following else None


def check(text: str, facts: Facts, kb: Any) -> Grounding:
    """Figures and URLs in `text` that the tools did not produce for what they are said of."""
    unsupported: list[str] = []
    for url in _URL.findall(text):
        if normal_url(url) not in facts.urls:
            unsupported.append(url.rstrip(".,;:!?)"))
    matcher = _skill_matcher(kb)
    for sentence in _SENTENCE.split(text):
        mentions = _mentions(sentence, matcher)
        for figure in figures(sentence):
            after = sentence[figure.end :]
            small = not figure.scale and figure.value <= SMALL and figure.value == int(figure.value)
            if _MONEY_BEFORE.search(sentence[: figure.start]) or (
                not figure.scale and _UNIT_AFTER.match(after)
            ):
                # A count or an amount ("5 hours", "$20"): a number from a tool or the person.
                if not small and not supported(figure, facts.numbers | facts.spoken):
                    unsupported.append(figure.text)
                continue
            subject = _subject(figure, sentence, mentions)
            if small and not _adjacent(figure, sentence, mentions):
                continue
            if subject is None:
                if not supported(figure, facts.numbers | facts.spoken):
                    unsupported.append(figure.text)
            elif not supported(figure, facts.subjects.get(subject, set())):
                label = subject.split(":", 1)[-1]
                if subject.startswith("skill:") and label in kb.skills:
                    label = kb.skills[label].name
                unsupported.append(f"{label}: {figure.text}")
    return Grounding(ok=not unsupported, unsupported=unsupported)


def _adjacent(figure: Figure, sentence: str, mentions: list[_Mention]) -> bool:
    """Whether a small figure sits right after a subject ("Python 5", "Docker: 4")."""
    return any(
        m.end <= figure.start
        and re.fullmatch(_LINK, sentence[m.end : figure.start], re.I) is not None
        for m in mentions
    )


def _skill_matcher(kb: Any) -> PhraseMatcher:
    from agent.llm.provenance import skill_matcher

    return skill_matcher(kb)


def check_reply(text: str, results: Iterable[Any]) -> Grounding:
    """Find figures in `text` that no tool produced, whatever they are said of."""
    known = tool_numbers(results)
    unsupported = []
    for figure in figures(text):
        small = not figure.scale and figure.value <= SMALL and figure.value == int(figure.value)
        if not small and not supported(figure, known):
            unsupported.append(figure.text)
    return Grounding(ok=not unsupported, unsupported=unsupported)


def facts_from(
    audit: dict[str, Any] | None,
    records: dict[str, dict[str, Any]],
    results: Iterable[Any],
    spoken: Iterable[float],
    catalog_urls: Iterable[str],
) -> Facts:
    """The facts of one turn: the latest audit's figures by subject, each skill's records,
    every number and URL of the tool results and the state, the person's own figures."""
    results = list(results)
    facts = Facts(numbers=tool_numbers(results), spoken=set(spoken))
    facts.urls = {normal_url(u) for u in catalog_urls} | tool_urls(results)
    subjects = facts.subjects
    for result in [audit, *[r for r in results if isinstance(r, dict)]]:
        if not result:
            continue
        overall = result.get("overall")
        if isinstance(overall, dict):
            subjects.setdefault("overall", set()).update(tool_numbers([overall]))
        pillars = result.get("pillars")
        if isinstance(pillars, dict):
            for key, pillar in pillars.items():
                if not isinstance(pillar, dict):
                    continue
                ident = pillar.get("pillar") or _pillar_id(str(pillar.get("title") or key))
                if ident:
                    subjects.setdefault(f"pillar:{ident}", set()).update(tool_numbers([pillar]))
        for verdict in result.get("model_audit") or []:
            subjects.setdefault("percentile", set()).update(
                tool_numbers([[m.get("percentile") for m in verdict.get("metrics", [])], verdict.get("quality_percentile")])
            )  # fmt: skip
    for skill, record in records.items():
        subjects.setdefault(f"skill:{skill}", set()).update(tool_numbers([record]))
    return facts


def _pillar_id(title: str) -> str | None:
    for pillar, pattern in _PILLARS.items():
        if re.fullmatch(rf"(?:{pattern})|{pillar}", title.strip(), re.I):
            return pillar
    return None


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
