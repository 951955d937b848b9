"""Choices in free text: one option ("im a freelance ml engineer" is Freelance ML Consultant,
"option 2", "the second one", "data sceintist") or several ("videos and hands on", "all but
kaggle", "none for now"). Names and aliases count whole or by their rarer words; a typo is
forgiven only when it is one slip; two equally good options are a question back.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from agent.text_values import (
    Unclear,
    clean,
    is_none,
    is_typo,
    normalize,
    prepared,
    stem,
    strip_hedges,
    tokens,
    word_set,
)
from knowledge.schema import normalize_name

ALL_WORDS = frozenset({"all", "all of them", "everything", "all of the above", "every one", "all of these", "all please", "yes all", "yes to all", "yes to everything", "yes to all of them", "all of it", "sure, all", "alle", "tous", "todos", "tutti"})  # fmt: skip


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.value.replace("_", " "), self.label, *self.aliases)


ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8}  # fmt: skip
_CHOICE_FILLER = word_set(
    """option options number nr no # the one please pls i guess think pick choose take go with for it's its
    is that maybe probably i'm im a an am my role stage level currently now right say would id i'd ok okay
    hmm um well answer let's lets be it me this thats that's like just only"""
)  # fmt: skip
_LEAD_IN = re.compile(
    r"^(?:(?:i'?m|i am|im|i work as|i'?m working as|working as|i want to (?:be(?:come)?|move into|get into|"
    r"switch to|work as)|aiming (?:for|at)|my (?:role|goal|target|stage) is|currently|targeting|target|going for|"
    r"definitely|i'?d like to be(?:come)?|looking to become|moving (?:in)?to|switching (?:in)?to|"
    r"transitioning (?:in)?to|it'?s|it is|we (?:use|rely on)|probably|the|an?)\s+)+"
)
_STOP = word_set(
    """a an the of and or in on for to my i im i'm with at as be is am are it its it's that this some
    something like kind sort type mostly really very just also want become work working job role
    level currently now than from into by once twice before already recently last year did done
    tried ago time times had no not sure idea know don't dont do gdpr eu eea uk"""
)  # fmt: skip
# Words after which comes where a person is going (or is now, after what they were).
_MOVE = re.compile(
    r"\b(?:(?:move|moving|moved|switch|switching|transition|transitioning|pivot|pivoting|go|"
    r"going|get|getting|break|breaking|change|changing|career change)\s+(?:in)?to|towards?|"
    r"become|becoming|aiming (?:for|at)|aim to be|want to be|wanna be|hoping to be|now)\b"
)
_FROM_TO = re.compile(r"\bfrom\b.+?\b(?:to|into)\b(.+)$")
_AGENT_NOUNS = {
    "engineering": "engineer", "science": "scientist", "research": "researcher",
    "consulting": "consultant", "consultancy": "consultant", "development": "developer",
}  # fmt: skip
_AGENT_NOUN = re.compile(r"\b(" + "|".join(_AGENT_NOUNS) + r")\b")
_EXCLUDED_BEFORE = re.compile(
    r"(?:\bfrom|\bnot(?: an?)?|\binstead of|\brather than|\bno longer(?: an?)?|\bused to be(?: an?)?|"
    r"\bformerly(?: an?)?|\bformer|\bex-?|\bwas(?: an?)?|\bused to do)\s*$"
)


def parse_choice(text: str, options: Sequence[Option]) -> str:
    """One option: its number, name or alias, in a sentence ("im a freelance ml engineer"),
    with typos forgiven; two equally good matches are a question back."""
    value, close = match_choice(text, options)
    if value is not None:
        return value
    folded = normalize(text)
    if close:
        names = [o.label for o in close]
        listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        raise Unclear(f"Did you mean {listed}?")
    raise Unclear(
        f"{clean(text)[:60]!r} is not one of the options."
        if folded
        else "Please pick one of the options."
    )


def match_choice(
    text: str, options: Sequence[Option], toward: bool = False
) -> tuple[str | None, list[Option]]:
    """The option `text` names (or None) and, when unsure, the closest options to offer.
    `toward`: the question asks where the person is going (a role they aim for), so in
    "a data analyst moving into ML engineering" what follows the move is the answer."""
    folded = normalize(text)
    # A remark in brackets ("Senior (staff soon)") does not change the answer before it.
    bare = re.sub(r"\s*\([^()]*\)", " ", folded).strip()
    if bare and bare != folded and not re.fullmatch(r"\d+", bare):
        value = _definite(bare, options)
        if value is not None:
            return value, []
    # "I'm a data analyst moving into ML engineering": what follows the move is the answer.
    target = _target(folded) if toward else None
    if target is not None:
        value = _definite(target, options)
        if value is not None:
            return value, []
    value, close = _matched(folded, options)
    if value is None:
        # A field for the person doing it: "ML engineering", "data science", "consulting".
        as_agent = _AGENT_NOUN.sub(lambda m: _AGENT_NOUNS[m.group(1)], folded)
        if as_agent != folded:
            target = _target(as_agent) if toward else None
            value = _definite(target, options) if target is not None else None
            value = value or _definite(as_agent, options)
            if value is not None:
                return value, []
    return value, close


def _target(folded: str) -> str | None:
    """What follows a move ("moving into X", "from A to X", "A, now X"), if anything does."""
    going = _FROM_TO.search(folded)
    if going:
        return going.group(1)
    moved = _MOVE.split(folded)
    if len(moved) < 2 or not moved[-1].strip():
        return None
    # "moving into MLOps from data science": where they come from follows the aim.
    return re.split(r"\b(?:from|after)\b", moved[-1])[0].strip() or None


def _definite(text: str, options: Sequence[Option]) -> str | None:
    """The option `text` names for sure, else None (never a question back)."""
    try:
        return _matched(text.strip(" ,.;:!?-"), options)[0]
    except Unclear:
        return None


def _matched(folded: str, options: Sequence[Option]) -> tuple[str | None, list[Option]]:
    if re.fullmatch(r"\d+", folded):
        # Any digits count (Arabic-Indic ones too); one too long to be an option number is not
        # converted at all (int() refuses more than 4,300 digits).
        index = int(folded) if len(folded) <= 6 else 0
        if 1 <= index <= len(options):
            return options[index - 1].value, []
        which = f"option {index}" if len(folded) <= 6 else "option with that number"
        raise Unclear(f"There is no {which}: the options are 1 to {len(options)}.")
    key = normalize_name(folded)
    if not key:
        raise Unclear("Please pick one of the options.")
    names = {normalize_name(n): o for o in options for n in o.names()}
    if key in names:
        return names[key].value, []
    stripped = _LEAD_IN.sub("", strip_hedges(folded)).strip(" ,.;:!?-")
    if normalize_name(stripped) in names:
        return names[normalize_name(stripped)].value, []
    position = _index_in(stripped, len(options))
    if position is not None:
        return options[position - 1].value, []
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.8)
    if close and is_typo(key, close[0]):  # "data sceintist", "kagle"
        return names[close[0]].value, []
    contained = _contained(folded, options)
    scored = _scored(folded, options)
    if len(contained) == 1 and not _points_elsewhere(folded, contained[0], options):
        return contained[0].value, []
    clear = bool(scored) and (len(scored) == 1 or scored[0][1] >= 1.6 * scored[1][1])
    clear = clear and _covered(folded, scored[0][0], options)
    if clear and (len(contained) <= 1 or scored[0][0] in contained):
        return scored[0][0].value, []
    if contained:
        # "data scientist, mostly NLP": the named option or the one the rest points at.
        pointed = [o for o in [_elsewhere(folded, contained[0], options)] if o is not None]
        # Two named ("data scientist or ml engineer"): those two, not a third that scores as well.
        best = [] if len(contained) > 1 else [o for o, _ in scored[:1]]
        return None, list(dict.fromkeys([*contained, *pointed, *best]))[:3]
    prefix = _word_prefix(normalize_name(stripped) or key, options)
    if len(prefix) == 1:
        return prefix[0].value, []
    offer = [o for o, _ in scored[:3]] or prefix[:3]
    return None, offer


def _index_in(text: str, count: int) -> int | None:
    """An option number in a short answer ("option 2", "#3", "the second one", "7 i guess")."""
    words = [w for w in re.findall(r"[#\w']+", text) if w.strip("#") and w not in _CHOICE_FILLER]
    if len(words) != 1:
        return None
    word = words[0].lstrip("#")
    number = ORDINALS.get(word) or (int(word) if word.isdigit() and len(word) <= 3 else None)
    if number is None:
        return None
    if not 1 <= number <= count:
        raise Unclear(f"There is no option {number}: the options are 1 to {count}.")
    return number


@lru_cache(maxsize=2048)
def _name_pattern(name: str) -> re.Pattern[str]:
    """A name as a whole-word pattern whose words may be joined by spaces, hyphens or dots."""
    parts = [re.escape(p) for p in re.findall(r"[^\W_]+", name.lower())]
    return re.compile(r"(?<![\w])" + r"[\s\-_/.]*".join(parts) + r"(?![\w])" if parts else r"(?!)")


def _contained(text: str, options: Sequence[Option]) -> list[Option]:
    """Options whose name appears whole in the text, longest first; negated mentions are not."""
    best: dict[str, tuple[int, Option]] = {}
    for option in options:
        for name in option.names():
            if len(normalize_name(name)) < 2:
                continue
            for found in _name_pattern(name).finditer(text):
                if _EXCLUDED_BEFORE.search(text[: found.start()]):
                    continue
                size = len(found.group())
                if size > best.get(option.value, (0, option))[0]:
                    best[option.value] = (size, option)
    if not best:
        return []
    ranked = sorted(best.values(), key=lambda item: -item[0])
    # A longer name that contains a shorter one wins ("freelance data scientist" over "data scientist").
    top = ranked[0][0]
    spans = [o for size, o in ranked if size == top]
    rest = [o for size, o in ranked if size != top and not _inside(o, spans[0], text)]
    return spans + rest


def _inside(shorter: Option, longer: Option, text: str) -> bool:
    longer_spans = [m.span() for n in longer.names() for m in _name_pattern(n).finditer(text)]
    for name in shorter.names():
        for found in _name_pattern(name).finditer(text):
            if not any(a <= found.start() and found.end() <= b for a, b in longer_spans):
                return False
    return True


@lru_cache(maxsize=1024)
def _option_tokens(option: Option) -> frozenset[str]:
    return frozenset(stem(t) for n in option.names() for t in tokens(n.lower()) if t not in _STOP)


@lru_cache(maxsize=65536)
def _token_match(typed: str, known: str) -> bool:
    if typed == known:
        return True
    if min(len(typed), len(known)) >= 4 and (known.startswith(typed) or typed.startswith(known)):
        return True
    common = len(_common_prefix(typed, known))
    if common >= 5:
        return True
    return len(typed) >= 5 and difflib.SequenceMatcher(None, typed, known).ratio() >= 0.85


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _typed_tokens(text: str) -> list[str]:
    kept = _LEAD_IN.sub("", strip_hedges(text))
    return [stem(t) for t in tokens(kept) if t not in _STOP and not t.isdigit()]


def _scored(text: str, options: Sequence[Option]) -> list[tuple[Option, float]]:
    """Options ranked by the rarity-weighted words they share with the text."""
    vocab = {o.value: _option_tokens(o) for o in options}
    score: dict[str, float] = {}
    for typed in _typed_tokens(text):
        hits = [o for o in options if any(_token_match(typed, k) for k in vocab[o.value])]
        if not hits or len(hits) == len(options):
            continue
        weight = math.log(1 + len(options) / len(hits))
        for option in hits:
            score[option.value] = score.get(option.value, 0.0) + weight
    by_value = {o.value: o for o in options}
    return sorted(((by_value[v], s) for v, s in score.items()), key=lambda item: -item[1])


def _covered(text: str, best: Option, options: Sequence[Option]) -> bool:
    """Whether more of the answer's words point at `best` than at nothing at all
    ("blockchain audit" is not a bias audit because of one shared word)."""
    mine = _option_tokens(best)
    every = set().union(*(_option_tokens(o) for o in options))
    typed = _typed_tokens(text)
    matched = sum(1 for t in typed if any(_token_match(t, k) for k in mine))
    unmatched = sum(1 for t in typed if len(t) > 2 and not any(_token_match(t, k) for k in every))
    return matched > unmatched


def _points_elsewhere(text: str, chosen: Option, options: Sequence[Option]) -> bool:
    """Whether words outside the chosen option's name point only at another option
    ("freelance ml engineer": "freelance" points away from Machine Learning Engineer)."""
    return _elsewhere(text, chosen, options) is not None


# What follows these is an aside, not the answer ("MLOps engineer, though I do some data eng").
_ASIDE = re.compile(
    r"\b(?:though|although|but|also|plus|as well|on the side|besides|apart from|sometimes|"
    r"occasionally)\b"
)


def _elsewhere(text: str, chosen: Option, options: Sequence[Option]) -> Option | None:
    """The one other option that words outside the chosen option's name point at, if any."""
    covered = _ASIDE.split(text)[0]
    for name in chosen.names():
        covered = _name_pattern(name).sub(" ", covered)
    mine = _option_tokens(chosen)
    for typed in _typed_tokens(covered):
        if any(_token_match(typed, k) for k in mine):
            continue
        # Only a word of another option's own name counts, not one of its aliases, and a
        # short word only whole ("comps" is not "computer").
        others = [
            o
            for o in options
            if o is not chosen
            and any(
                typed == k or (len(typed) >= 5 and _token_match(typed, k)) for k in _label_tokens(o)
            )
        ]
        if len(others) == 1:
            return others[0]
    return None


@lru_cache(maxsize=1024)
def _label_tokens(option: Option) -> frozenset[str]:
    names = (option.value.replace("_", " "), option.label)
    return frozenset(stem(t) for n in names for t in tokens(n.lower()) if t not in _STOP)


def _word_prefix(key: str, options: Sequence[Option]) -> list[Option]:
    """Options whose own name (or, from five letters, an alias) starts with `key`: "jun",
    "princ", "llm dev"."""
    if len(key) < 3:
        return []
    return [
        o
        for o in options
        if any(
            normalize_name(n).startswith(key)
            for n in ((o.value, o.label) if len(key) < 5 else o.names())
        )
    ]


@dataclass(frozen=True)
class MultiRead:
    """Several options: the ones understood and the parts that named none."""

    chosen: list[str]
    unknown: list[str]


_EXCEPT = re.compile(
    r"^(?:all|everything|any|anything|whatever)(?:\s+(?!except\b|but\b)[a-z']+){0,3}?\s*(?:,\s*)?(?:except|but|apart from|other than|besides|minus|without|save)\s+(.+)$"
)


# No preference among options of taste (never read as consent).
_ANY_WORDS = frozenset({
    "anything", "any", "whatever", "no preference", "no preferences", "don't mind", "dont mind",
    "i don't mind", "i dont mind", "doesn't matter", "doesnt matter", "any format", "any of them",
    "all are fine", "all fine", "any is fine", "anything works", "everything works", "any works",
})  # fmt: skip
_RATING_LIKE = re.compile(r"[a-z][a-z\s:/&'-]*?\s*:?\s*\d+(?:\.\d+)?(?:\s*/\s*\d+)?")
# None said in a sentence, naming no option: "no real projects yet", "haven't done any",
# "nothing like that", "never done any of these".
_NOTHING_DONE = (
    r"(?:no (?:real |actual )?(?:projects?|experience|work)(?: yet| so far)?|nothing (?:like that|of (?:the sort|that|those|these))"
    r"|(?:i )?(?:have ?n'?t|have not|did ?n'?t|did not) (?:done |used |tried )?(?:any(?: of (?:them|these|those|that))?|anything like that)"
    r"|(?:i(?:'ve| have)? )?never (?:done|did|tried) (?:any(?: of (?:them|these|those|that))?|that|those|these))"
    r"(?:\s+(?:yet|so far|really))?"
)
_NONE_DONE = re.compile(rf"^{_NOTHING_DONE}$")
_NONE_DONE_EXCEPT = re.compile(
    rf"^{_NOTHING_DONE}\s*[,.;:-]?\s*(?:except(?: for)?|but|apart from|other than|"
    r"besides|save for|only)\s+(.+)$"
)
# "none, except a fairness check", "nothing but github": only the ones named after it.
_NONE_EXCEPT = re.compile(
    r"^(?:none|nothing|no|not really|none of (?:them|these|those))\s*[,.;:-]?\s*(?:except(?: for)?|"
    r"but|apart from|other than|besides|save for|only|just)\s+(.+)$"
)
_REFUSED = re.compile(
    r"^(?:no|not|never|without|avoid|except|but not|no more|none of the|"
    r"(?:i )?(?:hate|dislike|can'?t stand|do ?n'?t (?:like|want|do|enjoy)|do not (?:like|want|do|enjoy))"
    r")\s+(?:any\s+)?(.+)$"
)


def read_multi(text: str, options: Sequence[Option], complement: bool = False) -> MultiRead:
    """Several options ("1, 3", "github and mlflow", "videos and hands on", "all but kaggle",
    "none for now"); parts that name no option are returned, not dropped. A refused option
    ("books and docs, no video") is never chosen; with `complement` (a preference: "no
    videos" means the others suit) refusals alone choose every other option, and without it
    (consent, what was done) they are asked about."""
    folded = prepared(text, "an option")
    hedged = strip_hedges(folded)
    if (
        is_none(folded)
        or hedged in {"none of them", "none of these", "nothing", "none for now"}
        or (_NONE_DONE.match(hedged) and not _contained(folded, options))
    ):
        return MultiRead([], [])
    if folded in ALL_WORDS or hedged in ALL_WORDS or (complement and hedged in _ANY_WORDS):
        return MultiRead([o.value for o in options], [])
    order = [o.value for o in options]
    only = _NONE_EXCEPT.match(hedged) or _NONE_DONE_EXCEPT.match(hedged)
    if only:
        return read_multi(only.group(1), options, complement)
    exception = _EXCEPT.match(hedged)
    if exception:
        # "anything is fine but no videos": the words after "but" name what is left out.
        dropped = read_multi(re.sub(r"^(?:no|not|any)\s+", "", exception.group(1)), options)
        if dropped.unknown or not dropped.chosen:
            raise Unclear(f"I could not tell which ones to leave out of {clean(text)[:60]!r}.")
        return MultiRead([v for v in order if v not in dropped.chosen], [])
    # The whole answer as one name ("teaching, workshops or mentoring" is one label).
    names = {normalize_name(n): o.value for o in options for n in o.names()}
    for whole in (folded, _LEAD_IN.sub("", hedged)):
        if normalize_name(whole) in names:
            return MultiRead([names[normalize_name(whole)]], [])
    # How often, said with an "and" or "or" that joins nothing ("prizes now and then").
    folded = _NOW_AND_THEN.sub(" ", folded)
    parts = [
        p
        for p in re.split(
            r"[,;\n+/]|\band\b|\s&\s|\bor\b|\bplus\b|\balso\b|\b(?:und|oder|et|ou)\b|\sy\s", folded
        )
        if p.strip()
    ]
    if len(parts) == 1 and re.fullmatch(r"[\d\s]+", parts[0]):
        parts = parts[0].split()
    parts = _with_elaborations(parts, options)
    chosen: list[str] = []
    unknown: list[str] = []
    refused: list[str] = []
    # "communication 4, negotiation: bad, 1": ratings (for another question), so its bare
    # numbers are not the options' numbers.
    rated = any(
        _RATING_LIKE.fullmatch(p.strip()) and _safe_match(p.strip(), options)[0] is None
        for p in parts
    )
    for part in parts:
        part = part.strip()
        if rated and re.fullmatch(r"\d+", part):
            unknown.append(part)
            continue
        negated = _REFUSED.match(part)
        if negated:
            value, _ = _safe_match(negated.group(1), options)
            if value is not None:
                refused.append(value)
                continue
        if (
            not _typed_tokens(part)
            and not re.search(r"\d", part)
            and normalize_name(part) not in names
        ):
            continue  # filler such as "mostly" or "i guess"
        value, _ = _safe_match(part, options)
        if value is None:
            unknown.append(part)
        elif value not in chosen:
            chosen.append(value)
    chosen = [v for v in chosen if v not in refused]
    if unknown and not chosen and not refused and is_none(unknown[0]):
        return MultiRead([], [])  # "none, I'm a student": none, with a reason
    if refused and not chosen and not unknown:
        if not complement:
            raise Unclear("Which of the options, then? Pick one or more, or say none.")
        chosen = [v for v in order if v not in refused]
    if not chosen and not unknown:
        raise Unclear("Please pick one or more of the options, or say none.")
    return MultiRead(sorted(chosen, key=order.index), unknown)


_NOW_AND_THEN = re.compile(
    r"\b(?:(?:every )?now and (?:then|again)|on and off|off and on|here and there|more or less"
    r"|once or twice|(?:every )?once in a while|from time to time)\b"
)
# A part that only says more about the one before it ("bias check, split by skin tone",
# "shap, on a churn model") joins it; one that names an option of its own ("books, with some
# videos") stays a part.
_ELABORATION = re.compile(
    r"^(?:on|for|with|using|via|by|in|at|across|over|split|broken down|grouped|per|when|while"
    r"|which|that|mostly for|as part of)\b"
)


def _with_elaborations(parts: list[str], options: Sequence[Option]) -> list[str]:
    merged: list[str] = []
    for part in parts:
        said = part.strip()
        if merged and _ELABORATION.match(said) and _safe_match(said, options)[0] is None:
            merged[-1] = f"{merged[-1].rstrip()} {said}"
        else:
            merged.append(part)
    return merged


def _safe_match(text: str, options: Sequence[Option]) -> tuple[str | None, list[Option]]:
    try:
        return match_choice(text, options)
    except Unclear:
        return None, []


def parse_multi(text: str, options: Sequence[Option]) -> list[str]:
    """Several options, or `Unclear` naming every part that matched none."""
    read = read_multi(text, options)
    if read.unknown:
        named = ", ".join(repr(p) for p in read.unknown)
        raise Unclear(f"{named} {'is' if len(read.unknown) == 1 else 'are'} not among the options.")
    if not read.chosen and not is_none(normalize(text)):
        raise Unclear("Please pick one or more of the options, or say none.")
    return read.chosen
