"""Text helpers shared by the connectors: clipping, link masking, skill phrases in running
text, lenient dates and CSV delimiters. Everything here treats its input as inert data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.schema import normalize_name

DETAIL_CHARS = 200

# Names (normalized) that in running text mostly mean something else than the skill:
# "the rest of", "docs" as documents, "programming" as a section heading, "research" as a
# verb, "instruction tuning", "parameter estimation", "hyperparameter optimization",
# "computer networking", "a presentation", and abbreviations that collide with words.
AMBIGUOUS = frozenset(
    {
        "rest", "docs", "cli", "aia", "sow", "sme", "programming", "coding", "research",
        "instruction", "discovery", "estimation", "optimization", "networking", "presentation",
    }
)  # fmt: skip

_WORD = re.compile(r"[^\W_]+(?:[+#]+|&[^\W_]+)*|&")  # words; "c++", "w&b" and "&" kept whole
_GAP = re.compile(r"[\s_\-/]{1,3}|\.")  # what may separate the words of one phrase
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"
    r"|\b[\w-]{1,63}\.(?:com|org|net|io|dev|ai|co)\b(?:/\S*)?"
)


def clip(text: str, limit: int = DETAIL_CHARS) -> str:
    """Collapse whitespace and cut `text` to `limit` characters, marking the cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def mask_links(text: str) -> str:
    """Blank out web and e-mail addresses, keeping every other character where it was."""
    return _LINK.sub(lambda m: " " * len(m.group()), text)


@dataclass(frozen=True)
class Mention:
    """One place a text names a known item."""

    ident: str
    phrase: str
    start: int
    end: int


class PhraseMatcher:
    """Find whole-word, case-insensitive mentions of known phrases in free text.

    Text is cut into words; runs of up to `longest` words separated only by spaces, hyphens,
    underscores, dots or slashes are looked up by their folded form (case, separators
    ignored, as `normalize_name` does), longest run first. A dictionary lookup per run keeps
    this linear in the text (one big regex alternation was about 1 MB/s).
    """

    def __init__(self, phrases: dict[str, str]) -> None:
        self._ids: dict[str, str] = {}
        self._starts: set[str] = set()
        self.longest = 1
        for phrase, ident in phrases.items():
            words = [w.lower() for w in _WORD.findall(phrase)]
            if words:
                self._ids.setdefault("".join(words), ident)
                self._starts.add(words[0])
                self.longest = max(self.longest, len(words))

    def find(self, text: str) -> list[Mention]:
        # Addresses are not claims: "github.com/jane" must not count as Git.
        text = mask_links(text)
        words = list(_WORD.finditer(text))
        keys = [w.group().lower() for w in words]
        found: list[Mention] = []
        i = 0
        while i < len(words):
            if keys[i] not in self._starts:
                i += 1
                continue
            span = 1
            while (
                span < self.longest
                and i + span < len(words)
                and _GAP.fullmatch(text, words[i + span - 1].end(), words[i + span].start())
            ):
                span += 1
            for n in range(span, 0, -1):
                ident = self._ids.get("".join(keys[i : i + n]))
                if ident is not None:
                    start, end = words[i].start(), words[i + n - 1].end()
                    found.append(Mention(ident, text[start:end], start, end))
                    i += n
                    break
            else:
                i += 1
        return found

    @classmethod
    def for_skills(cls, kb: KnowledgeBase) -> PhraseMatcher:
        """Match skill names, ids and aliases, leaving out the ambiguous ones."""
        phrases: dict[str, str] = {}
        for skill in kb.skills.values():
            for phrase in (skill.id.replace("_", " "), skill.name, *skill.aliases):
                key = normalize_name(phrase)
                if len(key) > 2 and key not in AMBIGUOUS:
                    phrases[phrase] = skill.id
        return cls(phrases)

    @classmethod
    def for_roles(cls, kb: KnowledgeBase) -> PhraseMatcher:
        """Match role names, ids and aliases (for job titles)."""
        phrases: dict[str, str] = {}
        for role in kb.roles.values():
            for phrase in (role.id.replace("_", " "), role.name, *role.aliases):
                if len(normalize_name(phrase)) > 2:
                    phrases[phrase] = role.id
        return cls(phrases)


_MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?![\d])")
_MONTH_DAY_YEAR = re.compile(r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})")
_MONTH_YEAR = re.compile(r"([a-z]{3,9})\.?,?\s+(\d{4})")


def _make(year: int, month: int, day: int) -> dt.date | None:
    if not 1970 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str, day_first: bool = False) -> dt.date | None:
    """Read a date written in any common way; `day_first` settles "03/04/2024"."""
    value = text.strip().lower()[:40]
    if not value:
        return None
    if found := _ISO.match(value):
        return _make(int(found[1]), int(found[2]), int(found[3]))
    if found := _NUMERIC.match(value):
        a, b, year = int(found[1]), int(found[2]), int(found[3])
        year += 2000 if year < 100 else 0
        if a > 12 or (day_first and b <= 12):
            return _make(year, b, a)
        return _make(year, a, b)
    for pattern, order in ((_MONTH_DAY_YEAR, "mdy"), (_DAY_MONTH_YEAR, "dmy"), (_MONTH_YEAR, "my")):
        if found := pattern.match(value):
            parts = dict(zip(order, found.groups(), strict=True))
            month = _MONTHS.get(parts["m"])
            if month is None:
                continue
            return _make(int(parts["y"]), month, int(parts.get("d", "1")))
    return None


def date_order(values: Iterable[str]) -> tuple[bool, bool]:
    """Infer from a column whether numeric dates are day-first; also say if it stayed unsettled."""
    day_first = month_first = ambiguous = False
    for value in values:
        found = _NUMERIC.match(value.strip())
        if found is None:
            continue
        a, b = int(found[1]), int(found[2])
        day_first |= a > 12
        month_first |= b > 12
        ambiguous |= a <= 12 and b <= 12 and a != b
    settled = day_first != month_first
    return (day_first and not month_first), ambiguous and not settled


# Columns -------------------------------------------------------------------------------------


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first line most: comma, semicolon or tab."""
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)
