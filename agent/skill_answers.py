"""Skill names and ratings in free text: "python 5, pytorch 4, sw engineering 3",
"all zero except git 1", "experiment tracking idk", "excel 5, power bi 3".

`read_ratings` keeps everything it understood and lists, as `OpenItem`s, what it must ask
about: a name it does not know, a skill named without a rating, two ratings for one skill.
Nothing is guessed: a skill said "don't know" is left out (unknown is not zero).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from agent.skill_names import clean_name, display, is_broad, resolve_skill
from agent.text_values import (
    UNKNOWN_PHRASES,
    Unclear,
    is_none,
    is_unknown,
    normalize,
    strip_hedges,
    to_float,
    words_to_numbers,
)
from knowledge.base import KnowledgeBase

RATING_WORDS: tuple[tuple[str, float], ...] = (
    ("not at all", 0), ("never used", 0), ("never touched", 0), ("haven't used", 0), ("have not used", 0),
    ("not used", 0), ("no experience", 0), ("none", 0), ("never", 0), ("nothing", 0), ("zero", 0),
    ("nope", 0), ("nada", 0), ("no", 0), ("keine", 0), ("aucune", 0), ("ninguna", 0), ("nil", 0),
    ("heard of it", 1), ("heard of", 1), ("aware", 1), ("a little", 1), ("a bit", 1), ("a tad", 1),
    ("little", 1), ("minimal", 1), ("barely", 1), ("dabbled", 1), ("tried it", 1), ("wenig", 1),
    ("weak", 1), ("poor", 1), ("bad", 1), ("shaky", 2), ("not great", 2), ("not bad", 3),
    ("un peu", 1), ("un poco", 1), ("beginner", 2), ("basics", 2), ("basic", 2), ("novice", 2),
    ("some", 2), ("junior", 2), ("rusty", 2), ("so-so", 2), ("meh", 2), ("anfänger", 2),
    ("débutant", 2), ("debutant", 2), ("principiante", 2), ("básico", 2), ("basico", 2),
    ("grundkenntnisse", 2), ("intermediate", 3), ("working", 3), ("okay", 3), ("ok", 3),
    ("decent", 3), ("fair", 3), ("comfortable", 3), ("moderate", 3), ("average", 3), ("mid", 3),
    ("medium", 3), ("fine", 3), ("alright", 3), ("competent", 3), ("mittel", 3), ("moyen", 3),
    ("intermedio", 3), ("intermédiaire", 3), ("very good", 4), ("really good", 4), ("pretty good", 4),
    ("advanced", 4), ("proficient", 4), ("strong", 4), ("solid", 4), ("good", 4), ("senior", 4),
    ("confident", 4), ("fluent", 4), ("sehr gut", 4), ("gut", 4), ("bon", 4), ("bien", 4),
    ("bueno", 4), ("avanzado", 4), ("avancé", 4), ("fortgeschritten", 4), ("expert", 5),
    ("master", 5), ("excellent", 5), ("guru", 5), ("ninja", 5), ("world class", 5), ("experte", 5),
    ("experto", 5),
)  # fmt: skip
SKIP_TOKENS = {"-", "?", "x", "skip", "n/a", "na", "??"}
_N = r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])"
_UNKNOWN_ITEM = (
    r"(?:"
    + "|".join(re.escape(p) for p in sorted(UNKNOWN_PHRASES, key=len, reverse=True))
    + r")(?![\w'])|(?<!\w)\?+(?!\w)|\bn/a\b"
)
_NEGATED = (
    r"\b(?:not|n't|never been|hardly)\s+(?:very |that |really |so |too |super |an? )?"
    r"(?:good|great|strong|bad|expert|advanced|confident|comfortable|solid|proficient|familiar|fluent)\b"
)
_WORDS = "|".join(
    rf"(?<![\w-]){re.escape(w)}(?![\w-])" for w, _ in sorted(RATING_WORDS, key=lambda x: -len(x[0]))
)
# Strong tokens (amounts, "don't know", a negated word) beat rating words in one part:
# "solid python 4" is Python 4.
_STRONG = re.compile(
    rf"(?P<unknown>{_UNKNOWN_ITEM})|(?P<negated>{_NEGATED})|"
    rf"(?P<scale>{_N}\s*(?:/|out of|of|von|sur|su)\s*{_N})|(?P<range>{_N}\s*(?:-|to|or)\s*{_N}(?!\s*%))|"
    rf"(?P<num>{_N}(?:\s*%)?)"
)
_WEAK = re.compile(_WORDS)
_TEN_SCALE = re.compile(
    r"[(\[]?\s*(?:all\s+)?(?:(?:on\s+)?(?:a\s+)?scale\s+(?:of\s+)?(?:1\s*-\s*|0\s*-\s*)?10|out of 10|"
    r"(?:on\s+)?(?:a\s+)?(?:1|0)\s*-\s*10(?:\s+scale)?|/\s*10\s+(?:for\s+)?(?:all|each|scale))\s*[)\]]?"
    r"(?=\s*(?:[,.;]|$))"
)
_IDIOMS = frozenset(
    {"all good", "all fine", "all ok", "all okay", "all right", "alright", "all set"}
)
_FIVE_SCALE = re.compile(
    r"[(\[]\s*(?:out of 5|(?:on\s+)?(?:a\s+)?(?:0|1)\s*-\s*5(?:\s+scale)?|/\s*5)\s*[)\]]|\bout of 5 (?:for )?(?:all|each)\b"
)


@dataclass(frozen=True)
class Ratings:
    values: dict[str, float]


@dataclass(frozen=True)
class OpenItem:
    """Something in a ratings answer to ask about; the rest of the answer is kept."""

    kind: str  # unknown_name | no_rating | conflict | bad_rating
    typed: str
    problem: str  # what to tell the person, with display names
    skill: str | None = None
    rating: float | None = None  # the rating given with an unknown name
    suggestions: tuple[str, ...] = ()  # skill ids
    ratings: tuple[float, ...] = ()  # the different ratings of a conflict


@dataclass(frozen=True)
class RatingsRead:
    """What a ratings answer said: ratings, skills the person does not know, what is open."""

    values: dict[str, float] = field(default_factory=dict)
    not_known: tuple[str, ...] = ()
    open: tuple[OpenItem, ...] = ()
    all_unknown: bool = False
    note: str = ""


def parse_rating(text: str) -> float:
    """One rating on 0-5: "4", "4/5", "8/10", "8 out of 10", "7" (read as 1-10), "expert"."""
    folded = words_to_numbers(normalize(text))
    if re.search(_NEGATED, folded):
        raise Unclear(f"How would you rate {folded[:40]!r} from 0 to 5?")
    strong = _STRONG.search(folded)
    if strong and strong.lastgroup != "unknown":
        return _value(strong, ten=False)
    weak = _WEAK.search(folded)
    if weak:
        return _word_value(weak.group())
    raise Unclear(f"I could not read a rating in {folded[:60]!r}.")


def is_bare_rating(text: str) -> bool:
    """Whether a normalized text is one rating and nothing else ("4", "8/10", "expert", "3 i guess")."""
    core = strip_hedges(words_to_numbers(text)).strip(" ,.")
    strong = _STRONG.fullmatch(core)
    return bool(strong and strong.lastgroup != "unknown") or bool(_WEAK.fullmatch(core))


def _word_value(word: str) -> float:
    return float(next(v for w, v in RATING_WORDS if w == word))


def _value(match: re.Match[str], ten: bool) -> float:
    """The 0-5 value of a strong token; `ten` when the answer said it uses a 1-10 scale."""
    token = match.group().strip()
    kind = match.lastgroup
    if kind == "negated":
        raise Unclear(f"how would you rate {token!r} from 0 to 5?")
    if kind == "scale":
        found = re.findall(r"\d+(?:[.,]\d+)?", token)
        value, top = to_float(found[0]), to_float(found[1])
        if top <= 0 or value > top:
            raise Unclear(f"{token} is not a rating.")
        return round(5 * value / top, 2)
    if kind == "range":
        low, high = (to_float(x) for x in re.findall(r"\d+(?:[.,]\d+)?", token))
        if high < low:
            raise Unclear(f"{token} is not a rating.")
        value = (low + high) / 2
    else:
        value = to_float(token.rstrip("% ").strip())
        if token.endswith("%"):
            if value > 100:
                raise Unclear(f"{token} is not a rating.")
            return round(value / 20, 2)
    if ten:
        if value > 10:
            raise Unclear(f"{token} is outside the 1-10 scale.")
        return round(value / 2, 2)
    if value <= 5:
        return value
    if value <= 10:
        return round(value / 2, 2)
    raise Unclear(f"{token} is outside the 0-5 scale (1-10 works too).")


# Ratings ---------------------------------------------------------------------------------

_REST = (
    r"(?:all(?: of them| others| the others| the rest| else)?|everything(?: else)?|each|every skill|"
    r"the rest|rest|others|the others|other ones|remaining(?: ones)?|everything other|"
    # German, French, Spanish, Italian
    r"der rest|den rest|alle anderen|le reste|les autres|el resto|los dem[aá]s|il resto|gli altri)"
)
# Words that name exceptions to a rating for all ("all 3 except git 1").
EXCEPT_WORDS = r"(?:except(?: for)?|but(?: for)?|apart from|other than|besides|excluding|save for|aside from|minus|bar)"
_ONE = rf"(?:{_N}\s*(?:/|out of)\s*{_N}|{_N}\s*%?|{_WORDS})"
_LINK = r"\s*(?:at|are|is|=|:|get|gets|get a|would be|as|to)?\s*"


@cache
def _blanket_patterns() -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    """Ratings for all the skills, (with exceptions, without): compiled on first use, since
    their long alternations take about 10 ms to compile and most starts never rate skills."""
    exceptions = (
        re.compile(rf"^{_REST}{_LINK}(?P<r>{_ONE})\s*,?\s*{EXCEPT_WORDS}\s+(?P<named>.+)$"),
        re.compile(
            rf"^(?P<r>{_ONE})\s+(?:for|across|on|to)?\s*(?:all|everything|the board|each)\s*,?\s*{EXCEPT_WORDS}\s+(?P<named>.+)$"
        ),
        re.compile(rf"^(?P<r>{_NONE_SAID})\s*,?\s*{EXCEPT_WORDS}\s+(?P<named>.+)$"),
        # "\b": a word of its own ("recall 0.41" is not "rec" and "all 0.41").
        re.compile(
            rf"^(?P<named>.+?)\s*[,;]?\s*(?:and\s+|but\s+)?\b{_REST}\b{_LINK}(?P<r>{_ONE})$"
        ),
    )
    blanket = (
        re.compile(rf"^{_REST}{_LINK}(?P<r>{_ONE})$"),
        re.compile(
            rf"^(?P<r>{_ONE})\s+(?:for all|for everything|for each|across the board|each|all round|all around|for all of them|on all)$"
        ),
    )
    return exceptions, blanket


_THOSE = r"(?:these|them|those|that|this|it|the above)"
# Saying that none of the skills was ever done: every rating is 0 ("but" names exceptions).
_NONE_SAID = (
    r"(?:all (?:zeros?|0s?|none)|(?:zeros?|0s?)(?: across the board| for all| everywhere| all round)?|"
    r"none of (?:them|these|those|that|this|it|the above)|"
    r"nothing(?: yet)?|0 for all|none(?: for now| yet)?|not at all|zero|nada|"
    # "never did any of that", "I've never touched any of these", "never touched ethics stuff"
    rf"(?:i(?: have|'ve|ve)? )?never (?:\w+ ){{1,2}}?(?:any(?:thing)?(?: of {_THOSE}"
    rf"(?: tools| things| skills| topics)?)?|(?:\w+ )?stuff|{_THOSE})|"
    # "no idea what most of these are", "never heard of most of them", "don't know any of these"
    rf"(?:i(?: have|'ve|ve)? )?no (?:idea|clue) what (?:(?:most|any|all) of )?{_THOSE} (?:are|is|mean)|"
    rf"(?:i(?: have|'ve|ve)? )?never heard of (?:(?:most|any) of )?{_THOSE}|"
    rf"(?:i )?(?:do ?n'?t|do not) (?:really )?know (?:(?:most|any) of )?{_THOSE}|"
    # "no experience", "no experience with any of these", "I have no experience in this"
    rf"(?:i(?: have|'ve|ve)? )?no experience(?: (?:with|in|of) (?:any(?: of)? )?{_THOSE}| with any)?)"
)
_ALL_NONE = re.compile(rf"^{_NONE_SAID}$")
_REASON_SPLIT = re.compile(r"\s*(?:[,;:]|\s-+\s|\s\u2013\s|\.\s)\s*")


def _after_none(text: str) -> tuple[str, str] | None:
    """A leading "none" (or 0) and what follows it after a comma, colon or dash ("none,
    compliance handles it"); None when the answer does not start so."""
    head, *rest = _REASON_SPLIT.split(text, maxsplit=1)
    if not rest or not (is_none(head) or head == "0" or _ALL_NONE.match(head)):
        return None
    return head, rest[0]


def _none_then_some(text: str) -> str:
    """ "none, explainability 2" or "none; only shap a bit" as "none except ..."."""
    split = _after_none(text)
    if split is None or re.match(rf"{EXCEPT_WORDS}\b", split[1]):
        return text  # the exception patterns read "none, except ..." as they are
    some = re.sub(r"^(?:only|just|apart from that|but)\s+", "", split[1])
    if not (re.search(r"\d", some) or _WEAK.search(some)):
        return text
    return f"{split[0]} except {some}"


def _none_with_a_reason(text: str) -> bool:
    """ "none, compliance handles it", "never did any of that - not my job": none of them,
    then why, with no rating or exception after it."""
    split = _after_none(text)
    if split is not None and _ALL_NONE.match(re.sub(r"^(?:so|just|basically)\s+", "", split[1])):
        return True  # "never did any of this, 0 across the board": said twice
    return split is not None and not (
        re.search(r"\d", split[1])
        or _WEAK.search(split[1])
        or re.match(rf"{EXCEPT_WORDS}\b|and\b|apart\b|only\b", split[1])
    )


# Why, said beside the ratings: "bias testing 1 because we had one lecture", "we had one
# lecture on fairness, so bias testing 1". The reason goes; its numbers are no ratings.
_BECAUSE = re.compile(r"\s*\b(?:because|cause|coz|cuz|since)\b[^,;]*")
_SO = re.compile(r"^(?P<why>[^,;]*?)[,;]?\s+(?:so|thus|hence)\s+(?=[^,;]*\d)")
_RATED = re.compile(r"^[^\d]+\s\d+(?:[.,]\d+)?(?:\s*/\s*\d+)?$")  # "docker 3", "sql 7/10"


# "not my area": of a whole list, or said beside its ratings.
NOT_MINE = r"(?:that'?s |this is |it'?s )?not (?:really )?(?:my|for my) (?:thing|area|strength|forte|field|job)"
# A remark about the whole list: "honestly not my thing, git 3, rest 1".
_REMARK = re.compile(
    r"^(?:(?:honestly|tbh|well|so|ok|okay|hmm+|yeah|ugh)\s*)*"
    rf"(?:{NOT_MINE}"
    r"|(?:i'?m|i am) (?:weak|bad|not great|not good|rusty) (?:here|at (?:this|these|that|them))"
    r"|(?:this is |that'?s )?(?:where i struggle|my weak (?:spot|point|side|area))"
    r"|(?:i )?(?:rarely|barely|hardly) (?:use|do|touch) (?:this|these|that|them|any of (?:this|these|that|them)))$"
)


def _without_reasons(text: str) -> str:
    for clause in reversed(list(re.finditer(r"[^,;]+", text))):  # a remark goes, with its comma
        if _REMARK.match(clause.group().strip()):
            after = re.match(r"\s*[,;]\s*", text[clause.end() :])
            text = text[: clause.start()] + text[clause.end() + (after.end() if after else 0) :]
    text = _BECAUSE.sub("", text)
    so = _SO.match(text)
    if so is not None and not _RATED.match(so.group("why").strip()):
        text = text[so.end() :]
    return text.strip(" ,;")


# The rest said to be never used: "git 2, never used the others", "haven't touched the rest".
_REST_NEVER = re.compile(
    r"\b(?:(?:i(?:'ve| have)? )?never (?:used|touched|tried|done|worked with)|(?:i )?(?:have ?n'?t|"
    r"did ?n'?t|do ?n'?t|not) (?:used|use|touched|tried|done|worked with)|no experience (?:with|in)|"
    r"zero experience (?:with|in))\s+(?:the |any of the |all the |any )?(?:others|rest|other ones|"
    r"remaining ones|other (?:tools|skills))\b"
)
_SPLIT = re.compile(r"([,;\n|]|\s+(?:and|&|plus|also|as well as|und|et|y)\s+)")


def parse_ratings(
    text: str, expected: Sequence[str], kb: KnowledgeBase, allow_positional: bool = True
) -> Ratings:
    """Ratings of skills: in order ("4 3 2"), by name ("pytorch 4, k8s 2"), "all 3", "none",
    or with exceptions ("all 0 except git 1"); `Unclear` if anything is left to ask."""
    read = read_ratings(text, expected, kb, allow_positional)
    if read.open:
        raise Unclear(_sentence([item.problem for item in read.open]))
    if not read.values and not read.not_known:
        raise Unclear("I could not find any skill with a rating.")
    return Ratings(read.values)


def read_ratings(
    text: str, expected: Sequence[str], kb: KnowledgeBase, allow_positional: bool = True
) -> RatingsRead:
    """Everything a ratings answer says (see the module docstring); `Unclear` when the answer
    as a whole cannot be read (wrong count of ratings in order, nothing recognisable)."""
    folded = normalize(text)
    if not folded:
        raise Unclear("I did not get any ratings.")
    folded = words_to_numbers(folded)
    if is_unknown(folded):
        return RatingsRead(all_unknown=True)
    said = strip_hedges(folded)
    hedged = re.sub(r"\s+(?:really|at all|honestly|tbh|lol)$", "", said)
    if expected and (is_none(folded) or _ALL_NONE.match(said) or _ALL_NONE.match(hedged)):
        return RatingsRead(values=dict.fromkeys(expected, 0.0))
    if expected and _none_with_a_reason(hedged):  # "none, compliance handles it"
        return RatingsRead(values=dict.fromkeys(expected, 0.0))
    hedged = _none_then_some(hedged)  # "none, explainability 2": the rest are 0
    hedged = _REST_NEVER.sub("rest 0", hedged)  # "git 2, never used the others"
    hedged = _without_reasons(hedged)
    hedged = _FIVE_SCALE.sub(" ", hedged).strip(" ,.;")
    hedged = re.sub(r"\s*\([^()\d]*\)", " ", hedged).strip()  # "(I did a DPIA last year)"
    if hedged in _IDIOMS:
        raise Unclear(
            f"How would you rate each of them from 0 to 5? {hedged!r} could mean several things."
        )
    ten = False
    if _TEN_SCALE.search(hedged):
        ten = True
        hedged = _TEN_SCALE.sub(" ", hedged).strip(" ,.;")
    if expected:
        exceptions, blanket = _blanket_patterns()
        for pattern in exceptions:
            found = pattern.match(hedged)
            if found:
                return _with_exceptions(found.group("r"), found.group("named"), expected, kb, ten)
        for pattern in blanket:
            found = pattern.match(hedged)
            if found:
                value = _check(_one(found.group("r"), ten))
                return RatingsRead(values=dict.fromkeys(expected, value))
    positional = _positional(hedged, expected) if allow_positional else None
    if positional is not None:
        return _in_order(positional, expected, ten)
    if re.fullmatch(r"[\d\s.,/%-]+", hedged) and not expected:
        raise Unclear('Name each skill with its rating, for example "spark 3".')
    return _named(hedged, kb, expected, ten)


def _one(token: str, ten: bool) -> float:
    strong = _STRONG.fullmatch(token.strip())
    if strong and strong.lastgroup != "unknown":
        return _value(strong, ten)
    return parse_rating(token)


def _check(value: float) -> float:
    if not 0 <= value <= 5:
        raise Unclear(f"{value:g} is outside 0-5.")
    return value


def _with_exceptions(
    rest: str, named: str, expected: Sequence[str], kb: KnowledgeBase, ten: bool
) -> RatingsRead:
    base = 0.0 if _ALL_NONE.match(rest) else _check(_one(rest, ten))
    inner = _named(named, kb, expected, ten)
    if not inner.values and not inner.not_known and not inner.open:
        raise Unclear(f"I could not tell which skills are the exceptions in {named[:60]!r}.")
    asked = {i.skill for i in inner.open if i.skill}
    values = {s: base for s in expected if s not in inner.not_known and s not in asked}
    values.update(inner.values)
    return RatingsRead(values=values, not_known=inner.not_known, open=inner.open, note=inner.note)


def _positional(text: str, expected: Sequence[str]) -> list[str] | None:
    """The ratings of an in-order answer ("4 3 2", "4,3,2", "4 - 2", "4 idk 2"), or None."""
    marked = re.sub(_UNKNOWN_ITEM, " ? ", text)
    if re.fullmatch(r"\d+(?:,\d+)+", marked.replace(" ", "")) and len(
        marked.replace(" ", "").split(",")
    ) == len(expected):
        return marked.replace(" ", "").split(",")
    if len(expected) == 1 and re.fullmatch(r"\d+,\d+", marked.strip()):
        return [marked.strip().replace(",", ".")]
    parts = [p for p in re.split(r"[\s,;]+", marked) if p]
    if parts and all(
        p in SKIP_TOKENS or re.fullmatch(r"\d+(?:\.\d+)?(?:/\d+)?%?", p) for p in parts
    ):
        return parts
    return None


def _in_order(parts: list[str], expected: Sequence[str], ten: bool) -> RatingsRead:
    if len(parts) > len(expected):
        raise Unclear(f"I got {len(parts)} ratings for {len(expected)} skills.")
    if len(parts) < len(expected) and len(parts) > 1:
        raise Unclear(
            f"I got {len(parts)} ratings for {len(expected)} skills; use '-' for any you want to leave out."
        )
    if len(parts) == 1 and len(expected) > 1:
        single = re.fullmatch(r"\d+(?:\.\d+)?", parts[0])
        if single is not None and to_float(parts[0]) > 5:
            raise Unclear(f"{parts[0]} is not a rating: each skill gets 0 to 5.")
        raise Unclear(
            f"That is one rating for {len(expected)} skills; say 'all {parts[0]}' if you mean all of them."
        )
    numbers = [
        to_float(p.rstrip("%").split("/")[0]) for p in parts if re.fullmatch(r"\d+(?:\.\d+)?", p)
    ]
    ten = ten or _out_of_ten(numbers)
    values: dict[str, float] = {}
    not_known: list[str] = []
    for skill, part in zip(expected, parts, strict=False):
        if part in SKIP_TOKENS:
            if part in ("?", "??"):
                not_known.append(skill)
            continue
        strong = _STRONG.fullmatch(part)
        if strong is None:
            raise Unclear(f"I could not read {part!r} as a rating.")
        values[skill] = _check(_value(strong, ten))
    note = "read as ratings out of 10" if ten and not any("/" in p for p in parts) else ""
    return RatingsRead(values=values, not_known=tuple(not_known), note=note)


def _out_of_ten(numbers: list[float]) -> bool:
    """Plain ratings above 5 mean a 1-10 scale; mixed with ratings of 1-5 they are a question."""
    high = [n for n in numbers if 5 < n <= 10]
    if not high:
        return False
    low = [n for n in numbers if 0 < n <= 5]
    if len(high) <= len(low):
        raise Unclear(
            "Some ratings are above 5 and some are not: please use one scale, 0-5, "
            'or 1-10 for all of them (for example "python 8/10").'
        )
    return True


def _named(text: str, kb: KnowledgeBase, expected: Sequence[str], ten: bool) -> RatingsRead:
    entries: list[
        tuple[str, str | None, float | None, str | None]
    ] = []  # typed, skill, rating, problem
    open_items: list[OpenItem] = []
    pieces = _pieces(text, kb, expected)
    plain = [
        to_float(m.group().strip())
        for piece in pieces
        for m in [_STRONG.search(piece)]
        if m is not None and m.lastgroup == "num" and not m.group().strip().endswith("%")
    ]
    ten = ten or _out_of_ten(plain)
    for piece in pieces:
        token, kind = _rating_token(piece)
        name = piece if token is None else (piece[: token.start()] + " " + piece[token.end() :])
        skill, close = resolve_skill(name, kb, expected)
        if skill is None and kind == "strong" and _WEAK.search(name):
            # A word for a level beside the number says the same ("monitoring barely 1").
            bare, _ = resolve_skill(_WEAK.sub(" ", name), kb, expected)
            if bare is not None:
                skill, close, name = bare, [], _WEAK.sub(" ", name)
        if skill is None and token is not None and kind == "weak":
            # A rating word may belong to the name ("contracts and legal basics").
            whole, _ = resolve_skill(piece, kb, expected)
            if whole is not None:
                skill, token = whole, None
        cleaned = clean_name(name)
        if token is None:
            if skill is None:
                open_items.append(_unknown_name(cleaned or piece.strip(), None, close, kb))
            else:
                open_items.append(
                    OpenItem(
                        "no_rating",
                        cleaned,
                        f"No rating for {kb.skills[skill].name!r}",
                        skill=skill,
                    )
                )
            continue
        if kind == "unknown":
            if skill is None:
                if cleaned:
                    open_items.append(_unknown_name(cleaned, None, close, kb))
                continue
            entries.append((cleaned, skill, None, None))
            continue
        try:
            value: float | None = _check(
                _value(token, ten) if kind == "strong" else _word_value(token.group())
            )
            problem = None
        except Unclear as exc:
            value, problem = None, str(exc)
        if skill is None:
            if not cleaned:
                open_items.append(
                    OpenItem(
                        "bad_rating",
                        piece.strip(),
                        f"a rating without a skill in {piece.strip()!r}",
                    )
                )
            else:
                open_items.append(_unknown_name(cleaned, value, close, kb))
            continue
        if problem is not None:
            label = kb.skills[skill].name
            open_items.append(OpenItem("bad_rating", cleaned, f"{label}: {problem}", skill=skill))
            continue
        entries.append((cleaned, skill, value, None))
    values, not_known, conflicts = _merge(entries, kb)
    open_items = conflicts + [i for i in open_items if i.skill is None or i.skill not in values]
    note = "read as ratings out of 10" if ten else ""
    if not values and not not_known and not open_items:
        raise Unclear("I could not find any skill with a rating.")
    return RatingsRead(values=values, not_known=tuple(not_known), open=tuple(open_items), note=note)


def _unknown_name(
    typed: str, rating: float | None, close: list[str], kb: KnowledgeBase
) -> OpenItem:
    from agent.sources import named

    platform = named(typed)
    if platform is not None and _names_a_skill(typed, close, kb):
        platform = None  # "fairness 2": the skill (bias testing or mitigation), not the check
    if platform is not None:  # "kaggle 5": results there are evidence, not a skill
        return OpenItem(
            "unknown_name",
            typed,
            f"{typed!r} is a source of evidence rather than a skill (after the interview, "
            f"/connect {platform.name} reads what it shows of you)",
            rating=rating,
        )
    hint = f" (did you mean {display(kb, close)}?)" if close else ""
    # A name two skills could have, or a field several make up ("math").
    known = close and (kb.resolve_skill(typed) is not None or is_broad(typed))
    return OpenItem(
        "unknown_name",
        typed,
        f"{typed!r} could mean {display(kb, close)}" if known else f"Unknown skill {typed!r}{hint}",
        rating=rating,
        suggestions=tuple(close),
    )


def _names_a_skill(typed: str, close: list[str], kb: KnowledgeBase) -> bool:
    """Whether a close skill's name or alias holds the typed word as a word of its own."""
    word = re.compile(rf"(?<!\w){re.escape(typed.casefold())}(?!\w)")
    return any(
        word.search(name.casefold())
        for skill in close
        for name in (kb.skills[skill].name, *kb.skills[skill].aliases)
    )


def _merge(
    entries: list[tuple[str, str | None, float | None, str | None]], kb: KnowledgeBase
) -> tuple[dict[str, float], list[str], list[OpenItem]]:
    """Ratings per skill; two names of one skill with different ratings become a question."""
    said: dict[str, list[tuple[str, float | None]]] = {}
    for typed, skill, value, _ in entries:
        if skill is not None:
            said.setdefault(skill, []).append((typed, value))
    values: dict[str, float] = {}
    not_known: list[str] = []
    conflicts: list[OpenItem] = []
    for skill, given in said.items():
        distinct = {v for _, v in given}
        if len(distinct) == 1:
            only = next(iter(distinct))
            if only is None:
                not_known.append(skill)
            else:
                values[skill] = only
            continue
        name = kb.skills[skill].name
        parts = [f"{'?' if v is None else f'{v:g}'} ({t})" for t, v in given]
        listed = ", ".join(parts[:-1]) + f" and {parts[-1]}"
        conflicts.append(
            OpenItem(
                "conflict",
                name,
                f"{name}: you gave {listed}; which rating should it have?",
                skill=skill,
                ratings=tuple(dict.fromkeys(v for _, v in given if v is not None)),
            )
        )
    return values, not_known, conflicts


def _rating_token(piece: str) -> tuple[re.Match[str] | None, str]:
    strong = list(_STRONG.finditer(piece))
    if strong:
        last = strong[-1]
        return last, "unknown" if last.lastgroup == "unknown" else "strong"
    weak = list(_WEAK.finditer(piece))
    if weak:
        return weak[-1], "weak"
    return None, ""


def _pieces(text: str, kb: KnowledgeBase, expected: Sequence[str]) -> list[str]:
    """One piece per skill: split at commas and "and", mend names that hold an "and"
    ("git and version control 4"), and split runs like "python 4 sql 3"."""
    text = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", text)  # "docker 2,5" is two and a half
    raw = _SPLIT.split(text)
    parts, seps = raw[0::2], [*raw[1::2], ""]
    pieces: list[str] = []
    i = 0
    while i < len(parts):
        piece = parts[i]
        if (
            i + 1 < len(parts)
            and seps[i].strip() in ("and", "&")
            and _rating_token(piece)[0] is None
        ):
            following = parts[i + 1]
            token, _ = _rating_token(following)
            head = following if token is None else following[: token.start()]
            if kb.resolve_skill(clean_name(f"{piece} {seps[i].strip()} {head}")) is not None:
                pieces.append(f"{piece} {seps[i].strip()} {following}")
                i += 2
                continue
        if piece.strip():
            pieces.extend(_runs(piece))
        if (
            len(pieces) >= 2
            and _rating_token(pieces[-2])[1] in ("", "weak")
            and is_bare_rating(pieces[-1].strip())
            and seps[i - 1].strip() in (",", ";")
        ):
            # "communication is my strength, 5": the rating after a comma belongs to the name;
            # after a word for one ("negotiation: bad, 1") the number says it exactly.
            pieces[-2:] = [f"{pieces[-2]} {pieces[-1]}"]
        i += 1
    return [p.strip() for p in pieces if p.strip(" .:-")]


def _runs(piece: str) -> list[str]:
    """Split "python 4 sql 3" (several ratings, names between them) into one piece each."""
    strong = list(_STRONG.finditer(piece))
    marks = strong or list(_WEAK.finditer(piece))
    if len(marks) < 2:
        return [piece]
    out: list[str] = []
    start = 0
    for mark in marks[:-1]:
        after = piece[mark.end() :]
        following = marks[marks.index(mark) + 1]
        between = piece[mark.end() : following.start()]
        if re.search(r"[^\W\d_]", between) and after.strip():
            out.append(piece[start : mark.end()])
            start = mark.end()
    out.append(piece[start:])
    return out


def _sentence(problems: list[str]) -> str:
    text = "; ".join(p.rstrip(".") for p in problems)
    return text[:1].upper() + text[1:] + "."


# Skill lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SkillsRead:
    found: list[str]
    unknown: list[tuple[str, list[str]]]  # typed name, closest skill ids


_LIST_LEAD = re.compile(
    r"^(?:i'?m (?:good|strong|best) (?:at|in|with)|i know|mostly|probably|my (?:strongest|best|main|top) "
    r"(?:skills? )?(?:are|is|would be)|strong (?:in|at)|good (?:at|with)|i'?d say|definitely|i do|i use)\s+"
)


def read_skill_list(text: str, kb: KnowledgeBase) -> SkillsRead:
    """Skill names without ratings ("python, k8s and dokcer"); "none" gives an empty list."""
    folded = normalize(text)
    if not folded:
        raise Unclear("I could not find any skill names.")
    if is_none(folded):
        return SkillsRead([], [])
    found: list[str] = []
    unknown: list[tuple[str, list[str]]] = []
    for part in re.split(r"[,;\n/]|\s+(?:and|&|plus|also|as well as)\s+", strip_hedges(folded)):
        name = _LIST_LEAD.sub("", part.strip(" .:"))
        if not clean_name(name):
            continue
        skill, close = resolve_skill(name, kb)
        if skill is None:
            unknown.append((clean_name(name), close))
        elif skill not in found:
            found.append(skill)
    if not found and not unknown:
        raise Unclear("I could not find any skill names.")
    return SkillsRead(found, unknown)


def parse_skill_list(text: str, kb: KnowledgeBase) -> list[str]:
    """Skill names without ratings, or `Unclear` naming the ones not known (display names)."""
    read = read_skill_list(text, kb)
    if read.unknown:
        hints = [
            f"{name!r}" + (f" (did you mean {display(kb, close)}?)" if close else "")
            for name, close in read.unknown
        ]
        raise Unclear("I do not know the skill " + ", ".join(hints) + ".")
    return read.found
