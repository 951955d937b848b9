"""Where a value the model wants to record came from: the person's own message, or not.

The model names a question and gives an answer; the local parser turns that answer into the
value to store. The value is kept only when some span of the person's message of this turn
(the whole message, a clause of it, or a run of a few of its words) parses, with the same
shared parser, to that same value. Nothing the model wrote (its previous question, its
paraphrase, a tool result) counts as a source: a rating the person did not give, a "yes"
they did not say, a number from a CV are refused however the model words them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from agent.interview import Question, parse_answer
from agent.parsing import NUMBER_WORDS, Unclear, clean, parse_rating
from knowledge.base import KnowledgeBase
from knowledge.schema import normalize_name
from tools.connectors.text import PhraseMatcher

WINDOW = 4  # the longest run of words tried on its own ("about 4 years", "ML engineer")
MAX_SPAN = 600  # characters: longer spans are not parsed as one answer
MAX_WORDS = 200  # a longer message is read in its first words only (an answer is short)
_CLAUSE = re.compile(
    r"[.;!?]+(?=\s|$)|\n+|,(?=\s)|\bbut\b|\band\b|\bthough\b|\bwhile\b", re.IGNORECASE
)
_SENTENCE = re.compile(r"[.;!?]+(?=\s|$)|\n+")  # a decimal point is not a full stop
_EDGE = "\"'()[]{}<>.,;:!?*`"
# Kinds whose answer is one value that a few words can carry on their own.
_WINDOWED = frozenset({"choice", "number", "money", "percent", "multi"})
_QUANTITY = frozenset({"number", "money", "percent"})
# Words between a name and its value that the parsers do not expect ("f1 was 0.62").
_LINKING = frozenset(
    [
        "was",
        "is",
        "are",
        "were",
        "at",
        "of",
        "about",
        "around",
        "roughly",
        "maybe",
        "probably",
        "i'd",
        "i'm",
        "id",
        "say",
        "said",
        "would",
        "be",
        "my",
        "the",
        "on",
        "it",
        "got",
        "reached",
        "with",
        "like",
        "pretty",
        "quite",
        "really",
    ]
)


def fold(text: str) -> str:
    """Lower case, single spaces: how a quote is compared with the message."""
    return re.sub(r"\s+", " ", clean(text).lower()).strip()


def clauses(message: str) -> list[str]:
    """The message's sentences and the clauses inside them, without empty ones."""
    parts = [p.strip() for p in _SENTENCE.split(message)]
    parts += [p.strip() for p in _CLAUSE.split(message)]
    return list(dict.fromkeys(p for p in parts if p))


def _words(text: str) -> list[str]:
    words = [w.strip(_EDGE) for w in text.split()]
    return [w for w in words if w]


def windows(message: str, longest: int = WINDOW) -> Iterator[str]:
    """Every run of 1..`longest` consecutive words of each clause (of the first MAX_WORDS)."""
    seen: set[str] = set()
    budget = MAX_WORDS
    for clause in clauses(message):
        words = _words(clause)[:budget]
        budget -= len(words)
        if not words:
            break
        for size in range(1, longest + 1):
            for start in range(0, len(words) - size + 1):
                span = " ".join(words[start : start + size])
                if span not in seen:
                    seen.add(span)
                    yield span


def _prefixes(message: str) -> Iterator[str]:
    """The first 1..WINDOW words of each clause: where a yes or a no is said."""
    for clause in clauses(message):
        words = _words(clause)
        for size in range(1, min(WINDOW, len(words)) + 1):
            yield " ".join(words[:size])


def _compact(message: str) -> str:
    """Each clause without linking words, one clause a line: "f1 was 0.62" -> "f1 0.62"."""
    return "\n".join(
        " ".join(w for w in _words(c) if w.lower() not in _LINKING) for c in clauses(message)
    )


# Words after a quantity that say what it counts; a count of one thing is not an answer about
# another ("12 clients" is not 12 years).
_UNITS = {
    "years": {"years", "year", "yrs", "yr", "months", "month", "mo", "weeks", "week"},
    "hours": {"hours", "hour", "hrs", "hr", "h", "minutes", "minute", "min", "mins"},
    "clients": {"clients", "client", "customers", "customer", "employers", "employer"},
    "money": {"$", "usd", "dollars", "dollar", "eur", "euros", "euro", "bucks", "k"},
    "percent": {"%", "percent", "per cent"},
}


def _group(q: Question) -> str | None:
    if q.kind in ("money", "percent"):
        return q.kind
    return q.unit if q.unit in _UNITS else None


def _foreign(q: Question, span: str, after: str) -> bool:
    """Whether the span, or the word right after it, counts something else than `q` asks."""
    mine = _group(q)
    words = [w.lower() for w in re.findall(r"[A-Za-z%$]+", f"{span} {after}")]
    return any(group != mine and any(w in units for w in words) for group, units in _UNITS.items())


def _windows_after(message: str, longest: int = WINDOW) -> Iterator[tuple[str, str]]:
    """Like `windows`, with the word that follows each window in its clause."""
    budget = MAX_WORDS
    for clause in clauses(message):
        words = _words(clause)[:budget]
        budget -= len(words)
        if not words:
            break
        for size in range(1, longest + 1):
            for start in range(0, len(words) - size + 1):
                after = words[start + size] if start + size < len(words) else ""
                yield " ".join(words[start : start + size]), after


def _counts(span: str) -> bool:
    """Whether a span holds a quantity of its own: digits, or a number word other than the
    articles and a bare "no" ("a startup" is not one year; "no clients" is none)."""
    if re.search(r"\d", span):
        return True
    words = span.lower().split()
    strong = [w for w in words if w in NUMBER_WORDS and w not in ("a", "an", "no")]
    return bool(strong) or (words[:1] == ["no"] and len(words) > 1)


def _spans(q: Question, message: str) -> Iterator[str]:
    for whole in [message, *clauses(message)]:
        if q.kind not in _QUANTITY or not _foreign(q, whole, ""):
            yield whole
    if q.kind in _QUANTITY:
        for span, after in _windows_after(message):
            if _counts(span) and not _foreign(q, span, after):
                yield span
    elif q.kind in _WINDOWED:
        yield from windows(message)
    elif q.kind in ("yesno", "extra_ratings"):
        yield from _prefixes(message)
    if q.kind in ("ratings", "extra_ratings", "metrics"):
        compact = _compact(message)
        yield from clauses(compact)
        if q.kind == "metrics":  # metric names are specific; "all ... expert" is not a rating
            yield from windows(compact)


def _parsed(q: Question, message: str, answers: dict[str, Any], kb: KnowledgeBase) -> list[Any]:
    """Every value the question's parser reads in some span of the message."""
    found: list[Any] = []
    for span in _spans(q, message):
        if len(span) > MAX_SPAN:  # an essay is not an answer; its clauses are tried instead
            continue
        try:
            value = parse_answer(q, span, answers, kb)
        except (Unclear, KeyError, ValueError):
            continue
        if value is not None and value not in found:
            found.append(value)
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def from_message(
    q: Question, value: Any, message: str, answers: dict[str, Any], kb: KnowledgeBase
) -> bool:
    """Whether the person's `message` states `value` as the answer to `q`."""
    if not message.strip():
        return False
    if q.kind == "text":  # free text is kept only as a quote of the message
        return isinstance(value, str) and fold(value) in fold(message)
    found = _parsed(q, message, answers, kb)
    if isinstance(value, dict):  # ratings, metrics: every pair must have been said
        if not value:
            return any(isinstance(f, dict) and not f for f in found)
        return all(
            any(isinstance(f, dict) and k in f and _same(f[k], v) for f in found)
            or (q.kind in ("ratings", "extra_ratings") and _named_pair(k, v, message, kb))
            for k, v in value.items()
        )
    if isinstance(value, list):  # several options: each must have been named
        if not value:
            return any(isinstance(f, list) and not f for f in found)
        return all(any(isinstance(f, list) and v in f for f in found) for v in value)
    if q.kind == "yesno":  # "yes ... no wait" says both: not an answer
        said = {f for f in found if isinstance(f, bool)}
        return said == {bool(value)}
    return any(_same(f, value) for f in found)


_SCALE = re.compile(r"\d+(?:[.,]\d+)?(?:\s*(?:/|out of)\s*\d+(?:[.,]\d+)?)?\s*%?")


def _named_pair(skill: str, rating: float, message: str, kb: KnowledgeBase) -> bool:
    """Whether a clause of the message gives `rating` to a name that is part of the skill's
    name ("documentation 3" for Model Documentation), where the shared parser chose another
    skill with that exact alias (Technical Writing)."""
    item = kb.skills.get(skill)
    if item is None:
        return False
    names = [normalize_name(n) for n in (skill, item.name, *item.aliases)]
    for clause in clauses(message):
        try:
            if not _same(parse_rating(clause), rating):
                continue
        except Unclear:
            continue
        words = re.findall(r"[A-Za-z][\w+#.-]*", _SCALE.sub(" ", clause))
        key = normalize_name(" ".join(w for w in words if w.lower() not in _LINKING))
        if len(key) >= 3 and any(key in name for name in names):
            return True
    return False


_MATCHERS: dict[int, tuple[KnowledgeBase, PhraseMatcher]] = {}


def skill_matcher(kb: KnowledgeBase) -> PhraseMatcher:
    """The connectors' skill finder for `kb`, built once (about 3 ms) per knowledge base."""
    cached = _MATCHERS.get(id(kb))
    if cached is None or cached[0] is not kb:
        if len(_MATCHERS) > 8:  # knowledge bases are few; tests make some
            _MATCHERS.clear()
        cached = _MATCHERS[id(kb)] = (kb, PhraseMatcher.for_skills(kb))
    return cached[1]


def skills_named(message: str, kb: KnowledgeBase) -> set[str]:
    """The skills the message names (names, ids and aliases; exact words, no guessing)."""
    named = {m.ident for m in skill_matcher(kb).find(message)}
    for span in windows(message, 3):
        found = kb.resolve_skill(span)
        if found is not None:
            named.add(found.id)
    return named


def skill_rating_from_message(skill: str, rating: float, message: str, kb: KnowledgeBase) -> bool:
    """Whether the message names `skill` and gives it `rating` (0-5, or a scale like 8/10).

    The rating must come from a clause naming the skill, or from any clause when the
    message names no other skill ("Kubernetes for two years at work; I'd say 4 out of 5").
    """
    if skill not in skills_named(message, kb):
        return False
    alone = skills_named(message, kb) == {skill}
    for clause in clauses(message):
        if not alone and skill not in skills_named(clause, kb):
            continue
        try:
            said = parse_rating(clause)
        except Unclear:
            continue
        if _same(said, rating):
            return True
    return False


def evidence_from_message(skill: str, evidence: str, message: str, kb: KnowledgeBase) -> str:
    """The evidence to store: the model's text when it quotes the message, else the
    message's own clauses about the skill (the person's words, never the model's)."""
    if evidence.strip() and fold(evidence) in fold(message):
        return clean(evidence)
    about = [c for c in _SENTENCE.split(message) if skill in skills_named(c, kb)]
    return clean("; ".join(c.strip() for c in about) or message)
