"""What a learning request asks for: its topic, and the level, formats and cost it states.

The words that frame a request ("I want to learn", "explain ... to me", "preferably with
videos") are taken out before the topic is matched, so that a request is matched on its
subject rather than on one of those words; they become preferences instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.schema import Level, Topic

# Framing words, longest first; removed before the subject is matched.
_FRAMING = [
    r"\b(i('d| would)? (really )?(want|like|need|wish|hope)( to)?|i'm (trying|looking) to|i am (trying|looking) to)\b",
    r"\b(can|could|would) you\b",
    r"\b(please|pls|thanks|thank you)\b",
    r"\bexplain\b(?=.*\bto me\b)",
    r"^\s*explain\b(?!.*\b(predictions?|decisions?|outputs?|results?|my|our|their)\b)",
    r"\bto me\b",
    r"\b(teach|show|help) me( about| with| to)?\b",
    r"\b(learn|study|studying|understand|get (better|good|started) (at|with|in)|improve( my)?|pick up)\b",
    r"\b(what (is|are)|how (do|does|can|should) (i|you|one)|how to|where (do|should) i start( with)?)\b",
    r"\b(preferably|ideally|mostly|only)\b",
    r"\b(with|through|via|using|from) (some |a |an )?(videos?|video courses?|lectures?|books?|hands[- ]on projects?|projects?|exercises|docs|tutorials?)\b",
    r"\b(videos?|video courses?|youtube|books?|textbooks?|courses?|tutorials?|resources?|materials?|hands[- ]on|interactive)\b",
    r"\b(for (complete |absolute )?(beginners|dummies|newbies)|as a beginner|beginner|beginners|intro(duction)? to|the basics of|basics|basic|from scratch|in depth|in-depth|deep dive|advanced|intermediate)\b",
    r"\b(free|for free|no budget|cheap|without paying)\b",
    r"\b(some|good|best|great|recommend(ations)?|suggest(ions)?|me|i|a|an|the|about|on|for|and|or|with|to|of|in|my|please|next|should|more)\b",
]
_FRAMING_RE = [re.compile(p, re.IGNORECASE) for p in _FRAMING]

_BEGINNER = re.compile(
    r"\b(beginners?|newbies?|novice|basics|basic|introduct\w*|intro|getting started|get started|"
    r"new to|first steps|from zero|for dummies|eli5|never (used|done|tried))\b|"
    r"\bexplain\b.*\bto me\b|\blearn\b.*\bfrom scratch\b",
    re.IGNORECASE,
)
_ADVANCED = re.compile(r"\b(advanced|in[- ]depth|deep dive|expert level|mastery)\b", re.IGNORECASE)
_INTERMEDIATE = re.compile(r"\bintermediate\b", re.IGNORECASE)
_FORMATS = {
    "video": re.compile(r"\b(videos?|video courses?|lectures?|youtube|watch)\b", re.IGNORECASE),
    "book": re.compile(r"\b(books?|textbooks?)\b", re.IGNORECASE),
    "project": re.compile(
        r"\b(hands[- ]on|by doing|projects?\b(?! (management|manager|scoping|planning)))",
        re.IGNORECASE,
    ),
    "interactive": re.compile(r"\b(interactive|exercises|hands[- ]on)\b", re.IGNORECASE),
    "docs": re.compile(r"\b(docs|documentation|written tutorials?)\b", re.IGNORECASE),
}
_FREE = re.compile(r"\b(free|for free|no budget|without paying|no money)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """The subject of a learning request and the preferences it states."""

    text: str
    subject: str  # the request without its framing words
    level: Level | None = None
    formats: tuple[str, ...] = ()
    free_only: bool = False


@dataclass(frozen=True)
class TopicMatch:
    """Skills a request is about; `missing` names a topic the taxonomy has no skill for."""

    request: Request
    skills: list[str]
    missing: str | None = None
    closest: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)  # topic names matched by phrase


def parse_request(text: str) -> Request:
    """Split a request into its subject and its stated level, formats and cost."""
    clean = " ".join(text.replace("\u2019", "'").split())
    level = None
    if _ADVANCED.search(clean):
        level = Level.ADVANCED
    elif _INTERMEDIATE.search(clean):
        level = Level.INTERMEDIATE
    elif _BEGINNER.search(clean):
        level = Level.BEGINNER
    formats = tuple(name for name, pattern in _FORMATS.items() if pattern.search(clean))
    subject = clean.lower()
    for pattern in _FRAMING_RE:
        subject = pattern.sub(" ", subject)
    subject = " ".join(re.sub(r"[?!,;:]+", " ", subject).split()).strip(" .")
    return Request(
        text=clean,
        subject=subject or clean.lower(),
        level=level,
        formats=formats,
        free_only=bool(_FREE.search(clean)),
    )


def phrase_hits(text: str, topics: tuple[Topic, ...]) -> list[tuple[int, int, Topic]]:
    """Topics whose phrases occur in `text` as whole words: (start, end, topic), longest first,
    without overlaps."""
    lowered = text.lower()
    found: list[tuple[int, int, Topic]] = []
    candidates = sorted(
        ((phrase.lower(), topic) for topic in topics for phrase in topic.phrases),
        key=lambda row: (-len(row[0]), row[0]),
    )
    for phrase, topic in candidates:
        if phrase not in lowered:  # most phrases are absent: no pattern is compiled for them
            continue
        pattern = r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])"
        for match in re.finditer(pattern, lowered):
            start, end = match.span()
            if all(end <= s or start >= e for s, e, _ in found):
                found.append((start, end, topic))
    return sorted(found, key=lambda row: row[0])


def masked(text: str, spans: list[tuple[int, int, Topic]]) -> str:
    """`text` with the matched phrase spans blanked out, so aliases inside them are not matched."""
    chars = list(text.lower())
    for start, end, _ in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
