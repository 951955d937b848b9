"""Read a review answer in a person's words, with the interview's parsers (`agent.answers`,
`agent.skill_answers`): new ratings and the reason after them ("3 coz i deployed a few
sagemaker endpoints"), a fact about a model ("legitimate interests, fraud prevention"), and
the note itself, kept whole.

Nothing here cuts a person's note: a reason is everything after the ratings, and a note is
the whole message. Where the words do not say what to record, the caller asks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.answers import read
from agent.interview import describe_answer, question
from agent.parsing import Unclear, normalize
from agent.skill_answers import read_ratings
from knowledge.base import KnowledgeBase

# Words before a new rating that answer "is that rating right?" ("no, more like 3").
_LEAD = re.compile(
    r"^(?:(?:no|nope|nah|not quite|not really|wrong|incorrect|actually|well|hmm+|honestly|tbh|"
    r"i think|i'd say|id say|i would say|rather|more like|it'?s|it is|it should be|should be|"
    r"make it|change it to|set it to|put it at|lower it to|raise it to|change to|set to|to|"
    r"closer to|about|around|roughly|maybe|probably|a|an)\b[\s,.:;!-]*)+",
    re.IGNORECASE,
)
# What joins a reason to the ratings before it; dropped from the front of the reason.
_CONNECTOR = re.compile(
    r"^(?:[\s,;:.!?)\]\u2013\u2014-]+|(?:because of|because|becuase|bcause|coz|cuz|cos|'cause|cause|bc|"
    r"b/c|since|as|given that|given|due to|reason:?|why:?|so)\b)+",
    re.IGNORECASE,
)
_CUT = re.compile(r"[\s,;:.!?()\[\]]+")
# A reason starts at the first of these at the latest: ratings never come after them.
_REASON_START = re.compile(
    r"\b(?:because|becuase|bcause|coz|cuz|cos|'cause|bc|b/c|since|given that|due to)\b|;|\s[-\u2013\u2014]\s",
    re.IGNORECASE,
)
MAX_RATING_WORDS = 20  # ratings come first; a cut further in would be inside the reason
_STRONG_HINT = re.compile(r"\d|\b(?:zero|one|two|three|four|five)\b", re.IGNORECASE)


def note_text(text: str) -> str:
    """A person's note as they wrote it: control characters dropped, lines and words kept."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in kept.splitlines()]
    return "\n".join(line for line in lines if line).strip()


@dataclass(frozen=True)
class RatingChange:
    """New ratings (0-5) for some of a prompt's skills and the reason given with them."""

    ratings: dict[str, float]
    reason: str = ""
    named: bool = False  # the message named the skills (not only a bare rating)


def read_rating_change(
    text: str, skills: Sequence[str], kb: KnowledgeBase, direct: bool = False
) -> RatingChange | None:
    """The ratings a message gives for `skills` (or for other skills it names) and the reason
    after them, or None; see `_read_change`."""
    last = _rating_last(text, skills, kb, direct)
    found = (
        last if last is not None and last.reason else _read_change(text, skills, kb, direct, skills)
    )
    if found is None and skills:
        # "experiment tracking 2 because..." at a prompt about other skills: a person may
        # correct any skill they name (never a bare rating, which belongs to the prompt).
        found = _read_change(text, skills, kb, direct, None)
        if found is not None and not found.named:
            return None
    return found


# The new rating said last, after why: "that's too low, I use SQL daily, more like 4".
_LAST = re.compile(
    r"[,;.!]\s*(?:so\s+|and\s+)?(?P<said>(?:(?:more like|rather|closer to|i'?d say|i would say|"
    r"call it|make it|should be|it'?s|it is|about|around|probably|maybe|so)\s+)*"
    r"[^,;.!]{0,40}?\b[0-5](?:\.5)?(?:\s*/\s*5)?)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def _rating_last(
    text: str, skills: Sequence[str], kb: KnowledgeBase, direct: bool
) -> RatingChange | None:
    """A rating said after the reason for it; the reason is what came before."""
    whole = note_text(text).replace("\n", " ")
    last = _LAST.search(whole)
    if last is None:
        return None
    found = _read_change(last.group("said"), skills, kb, direct, skills)
    if found is None or found.reason:
        return None
    reason = whole[: last.start()].strip(" ,;.!")
    if not _LEAD.sub("", f"{reason} ").strip(" ,;.!"):
        reason = ""  # "no, more like 4": no reason said (one is asked for)
    return RatingChange(found.ratings, reason, found.named)


def _read_change(
    text: str,
    skills: Sequence[str],
    kb: KnowledgeBase,
    direct: bool,
    allowed: Sequence[str] | None,
) -> RatingChange | None:
    """The ratings a message gives for `skills` and the reason after them, or None.

    The cut between ratings and reason is where the most of the prompt's skills are rated
    with nothing left over ("3 coz i deployed...", "cloud 3, docker 2 because..."); the
    earliest such cut wins. `direct` is for a message typed instead of choosing confirm /
    adjust / why: a bare rating word ("ok", "fine") there is an answer to the choice, so
    only a named skill or a number counts as a rating.
    """
    whole = note_text(text).replace("\n", " ")
    body = _LEAD.sub("", whole, count=1) if _LEAD.match(whole) else whole
    best: tuple[int, int, dict[str, float], bool] | None = None  # (count, -cut, ratings, named)
    for cut in _cuts(body):
        left = body[:cut].strip(" ,;:.!?-")
        if not left:
            continue
        found = _full_reading(left, skills, kb, direct, allowed)
        if found is None:
            continue
        ratings, named = found
        if best is None or len(ratings) > best[0]:
            best = (len(ratings), -cut, ratings, named)
    if best is None:
        return None
    _, negative_cut, ratings, named = best
    rest = body[-negative_cut:]
    reason = _CONNECTOR.sub("", rest, count=1).strip()
    if reason.startswith("(") and reason.endswith(")"):
        reason = reason[1:-1].strip()  # "3 (I deploy weekly)"
    elif reason.endswith(")") and "(" not in reason:
        reason = reason[:-1].rstrip()
    return RatingChange(ratings, reason, named)


def _cuts(body: str) -> list[int]:
    """Where the ratings may end: every gap between words up to where a reason starts (or the
    end), first words first."""
    reason = _REASON_START.search(body)
    limit = reason.start() if reason else len(body)
    cuts = [m.start() for m in _CUT.finditer(body) if m.start() <= limit][:MAX_RATING_WORDS]
    return [*cuts, limit] if limit not in cuts else cuts


def _full_reading(
    left: str,
    skills: Sequence[str],
    kb: KnowledgeBase,
    direct: bool,
    allowed: Sequence[str] | None,
) -> tuple[dict[str, float], bool] | None:
    """Ratings that `left` gives with nothing left over, all of `allowed` skills (any skill
    when None, by name only), or None."""
    single = len(skills) == 1 and allowed is not None
    for positional in (False, True) if single else (False,):
        if positional and direct and not _STRONG_HINT.search(left):
            return None  # "ok" is the answer "confirm", not a rating of 3
        try:
            got = read_ratings(left, skills, kb, allow_positional=positional)
        except Unclear:
            continue
        if got.open or got.all_unknown or not got.values or got.not_known:
            continue
        if allowed is not None and not set(got.values) <= set(allowed):
            continue
        return dict(got.values), not positional
    return None


# Facts about a model ------------------------------------------------------------------------

# Review prompts whose answer is a fact about the model: the interview question that reads it
# and the model report's field it sets.
MODEL_FACTS: dict[str, tuple[str, str]] = {
    "model_personal_data_no_basis": ("model_legal_basis", "legal_basis"),
    "model_balance_unknown": ("model_positive_rate", "positive_rate"),
    "model_accuracy_on_imbalanced": ("model_metrics", "metrics"),
    "model_at_or_below_baseline": ("model_metrics", "metrics"),
}
# Prompts that ask for the fact itself: an answer that does not give it is asked about.
ASKS_FOR_FACT = frozenset({"model_personal_data_no_basis", "model_balance_unknown"})


@dataclass(frozen=True)
class ModelFact:
    """What a review answer says about a model: the field to set and how it was understood."""

    field: str
    value: Any
    said: str  # "legal basis: legitimate interests"
    unknown: bool = False  # the person does not know (nothing is recorded on the model)
    ask: str | None = None  # unclear: ask this
    options: tuple[str, ...] = ()  # the values to offer as buttons


def read_model_fact(kind: str, text: str, kb: KnowledgeBase) -> ModelFact | None:
    """The model fact a note gives for a prompt of `kind` (None for other prompts)."""
    if kind not in MODEL_FACTS:
        return None
    qid, field_name = MODEL_FACTS[kind]
    q = question(qid)
    note = note_text(text).replace("\n", " ")
    reading = read(q, note, {}, kb)
    if not reading.complete and field_name == "metrics":
        # "pr auc 0.41 from the last evaluation": the metrics, then words about them.
        for cut in reversed(_cuts(note)):
            prefix = read(q, note[:cut].strip(" ,;:.!?-"), {}, kb)
            if prefix.complete and prefix.value:
                reading = prefix
                break
    if not reading.complete:
        return ModelFact(
            field_name,
            None,
            "",
            ask=reading.ask,
            options=tuple(c.value for c in reading.choices),
        )
    value = reading.value
    if value is None or value == "unknown" or (isinstance(value, float) and value < 0):
        return ModelFact(field_name, None, "", unknown=True)
    said = describe_answer(q, value, kb).removeprefix("Noted: ").rstrip(".")
    return ModelFact(field_name, value, said)


def is_just_a_note(text: str) -> bool:
    """Whether a message says to keep the note as it is ("just the note", "none of these")."""
    return bool(
        re.fullmatch(
            r"(?:just|only|keep)? ?(?:the|my)? ?note(?: only| as it is)?|none of (?:these|those|them)|"
            r"no change|leave it|keep it as (?:a )?note|neither|nothing to change",
            normalize(text).strip(" .!"),
        )
    )
