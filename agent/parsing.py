"""Read free-text answers: numbers, scales, rating words, skill lists with typos, yes/no.

Every parser returns a value, or raises `Unclear` with a message specific to what was
wrong, which the interviewer shows before asking the same question again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.schema import normalize_name


class Unclear(ValueError):
    """The answer could not be understood; the message says why."""


NUMBER_WORDS = {
    "zero": 0, "none": 0, "no": 0, "nothing": 0, "nil": 0, "never": 0,
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "half": 0.5, "couple": 2, "few": 3, "several": 4,
}  # fmt: skip

RATING_WORDS = (
    ("not at all", 0), ("never used", 0), ("none", 0), ("never", 0), ("nothing", 0), ("zero", 0),
    ("no", 0), ("heard of it", 1), ("heard of", 1), ("aware", 1), ("a little", 1), ("a bit", 1),
    ("little", 1), ("minimal", 1), ("beginner", 2), ("basics", 2), ("basic", 2), ("novice", 2),
    ("some", 2), ("junior", 2), ("intermediate", 3), ("working", 3), ("okay", 3), ("ok", 3),
    ("decent", 3), ("fair", 3), ("comfortable", 3), ("moderate", 3), ("average", 3),
    ("very good", 4), ("advanced", 4), ("proficient", 4), ("strong", 4), ("solid", 4),
    ("good", 4), ("senior", 4), ("expert", 5), ("master", 5), ("excellent", 5), ("guru", 5),
)  # fmt: skip

YES = {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "of course", "definitely", "absolutely",
       "i do", "i have", "correct", "true", "please", "yes please", "si", "ja", "oui", "da", "aye"}  # fmt: skip
NO = {"no", "n", "nope", "nah", "not really", "never", "none", "i don't", "i do not", "i dont",
      "no thanks", "false", "not yet", "nein", "non", "net"}  # fmt: skip
NONE_WORDS = {
    "none",
    "no",
    "nothing",
    "nope",
    "n/a",
    "na",
    "no one",
    "neither",
    "not yet",
    "-",
    "0",
}
ALL_WORDS = {"all", "all of them", "everything", "all of the above", "every one"}
UNKNOWN_WORDS = {"don't know", "dont know", "do not know", "not sure", "unknown", "no idea", "unsure",
                 "idk", "dunno", "?"}  # fmt: skip
SKIP_TOKENS = {"-", "?", "x", "skip", "n/a"}

# "12,345" and "1,500.50" group thousands; "2,5" is a decimal comma.
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:[.,]\d+)?)"
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def numbers_in(text: str) -> set[float]:
    """Every quantity written in `text`, in digits ("12,345", "2.5") or words ("three")."""
    found = {_to_float(token) for token in re.findall(_NUM, text)}
    found |= {
        float(NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS
    }
    return found


def clean(text: str) -> str:
    """Drop control characters and collapse whitespace."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", kept).strip()


def _folded(text: str) -> str:
    return re.sub(r"[.!]+$", "", clean(text).lower()).strip()


def _to_float(token: str) -> float:
    if _GROUPED.fullmatch(token):
        return float(token.replace(",", ""))
    return float(token.replace(",", "."))


FILLER_WORDS = frozenset(
    [
        "about",
        "around",
        "roughly",
        "approximately",
        "approx",
        "almost",
        "nearly",
        "over",
        "more",
        "less",
        "than",
        "under",
        "maybe",
        "probably",
        "perhaps",
        "i",
        "i'd",
        "id",
        "i've",
        "ive",
        "have",
        "had",
        "has",
        "worked",
        "work",
        "working",
        "for",
        "with",
        "of",
        "in",
        "on",
        "experience",
        "a",
        "an",
        "per",
        "each",
        "every",
        "and",
        "or",
        "so",
        "just",
        "only",
        "to",
        "the",
        "total",
        "currently",
        "now",
        "right",
        "last",
        "past",
        "since",
        "say",
        "would",
        "be",
        "it's",
        "its",
        "is",
        "are",
        "was",
        "my",
        "me",
        "like",
        "some",
        "usd",
        "dollars",
        "dollar",
        "bucks",
        "eur",
        "euros",
        "budget",
        "share",
        "income",
        "biggest",
        "client",
        "clients",
        "employer",
        "employers",
        "percent",
        "roughly",
        "ca",
        "plus",
    ]
)
UNIT_WORDS = frozenset(
    [
        "years",
        "year",
        "yrs",
        "yr",
        "y",
        "months",
        "month",
        "mo",
        "weeks",
        "week",
        "hours",
        "hour",
        "hrs",
        "hr",
        "h",
        "minutes",
        "minute",
        "min",
        "mins",
        "days",
        "day",
        "daily",
        "night",
        "weekly",
        "thousand",
        "k",
    ]
)


def _require_quantity(folded: str) -> None:
    """Refuse text that holds a number but is about something else ("alert(1)")."""
    words = re.findall(r"[a-z']+", re.sub(rf"{_NUM}", " ", folded))
    leftover = [w for w in words if w not in FILLER_WORDS | UNIT_WORDS and w not in NUMBER_WORDS]
    if leftover:
        raise Unclear(f"I could not read {clean(folded)[:60]!r} as an amount.")


def parse_number(text: str, unit: str | None = None) -> float:
    """A plain quantity: "3", "2 years", "18 months", "a couple", "3-5", "none"."""
    folded = _folded(text)
    _require_quantity(folded)
    rng = re.search(rf"({_NUM})\s*(?:-|to|\u2013)\s*({_NUM})", folded)
    if rng:
        value = (_to_float(rng.group(1)) + _to_float(rng.group(2))) / 2
    elif match := re.search(_NUM, folded):
        value = _to_float(match.group())
    else:
        words = re.findall(r"[a-z]+", folded)
        found = [NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS and w not in {"a", "an"}]
        found = found or [NUMBER_WORDS[w] for w in words if w in {"a", "an"}]
        if not found:
            raise Unclear(f"I could not find a number in {clean(text)[:60]!r}.")
        value = float(found[0])
        if "half" in words and found[0] != 0.5:
            value += 0.5
    if unit == "years" and re.search(r"\bmonths?\b|\bmo\b", folded):
        value /= 12
    if unit == "years" and re.search(r"\bweeks?\b", folded):
        value /= 52
    if (
        unit == "hours"
        and re.search(r"\bmin(ute)?s?\b", folded)
        and not re.search(r"\bhours?\b", folded)
    ):
        value /= 60
    if unit == "hours" and re.search(r"\b(a|per) (day|night)\b|\bdaily\b", folded):
        value *= 7
    return value


def parse_money(text: str) -> float:
    """A budget in USD: "$200", "200 usd", "1.5k", "free only", "none"."""
    folded = _folded(text)
    if folded in NONE_WORDS or re.search(r"\bfree\b|\bno budget\b|\bnothing\b|\bzero\b", folded):
        return 0.0
    _require_quantity(folded)
    match = re.search(rf"({_NUM})\s*(k|thousand)?\b", folded)
    if not match:
        raise Unclear(f"I could not find an amount in {clean(text)[:60]!r}.")
    value = _to_float(match.group(1))
    if match.group(2):
        value *= 1000
    return value


UNKNOWN = -1.0  # the person does not know (a percent answer)


def parse_percent(text: str) -> float:
    """A share between 0 and 1: "6%", "0.06", "6 percent", "balanced"; UNKNOWN for "don't know"."""
    folded = _folded(text)
    if folded in UNKNOWN_WORDS or re.search(r"\b(not sure|no idea|don'?t know|unknown)\b", folded):
        return UNKNOWN
    if re.search(r"\b(balanced|even|half|50/50|50-50)\b", folded):
        return 0.5
    if re.search(r"\b(all|everything|only one|single)\b", folded):
        return 1.0
    _require_quantity(folded)
    match = re.search(_NUM, folded)
    if not match:
        raise Unclear(f"I could not find a percentage in {clean(text)[:60]!r}.")
    value = _to_float(match.group())
    if "%" in folded or "percent" in folded or value > 1:
        value /= 100
    if not 0 <= value <= 1:
        raise Unclear("A share must be between 0% and 100%.")
    return value


def parse_yes_no(text: str) -> bool:
    folded = _folded(text)
    if folded in YES or re.match(r"^(yes|yeah|yep|sure|of course|definitely)\b", folded):
        return True
    if folded in NO or re.match(r"^(no|nope|nah|not really|never)\b", folded):
        return False
    raise Unclear("Please answer yes or no.")


def parse_rating(text: str) -> float:
    """One rating on 0-5: "4", "4/5", "8/10", "8 out of 10", "7" (read as 1-10), "expert"."""
    folded = _folded(text)
    scale = re.search(rf"({_NUM})\s*(?:/|out of|of)\s*({_NUM})", folded)
    if scale:
        value, top = _to_float(scale.group(1)), _to_float(scale.group(2))
        if top <= 0 or value > top:
            raise Unclear(f"{scale.group()} is not a rating.")
        return round(5 * value / top, 2)
    match = re.search(_NUM, folded)
    if match:
        value = _to_float(match.group())
        if value <= 5:
            return value
        if value <= 10:
            return round(value / 2, 2)
        if value <= 100 and "%" in folded:
            return round(value / 20, 2)
        raise Unclear(f"{match.group()} is outside the 0-5 scale (1-10 works too).")
    for word, value in RATING_WORDS:
        if re.search(rf"\b{re.escape(word)}\b", folded):
            return float(value)
    raise Unclear(f"I could not read a rating in {clean(text)[:60]!r}.")


def _split(text: str) -> list[str]:
    parts = re.split(r"[,;\n]|\band\b|\s&\s", clean(text))
    return [p.strip() for p in parts if p.strip()]


_RATING_TOKEN = re.compile(
    rf"({_NUM}\s*(?:/|out of)\s*{_NUM}|{_NUM}\s*%?|"
    + "|".join(rf"\b{re.escape(w)}\b" for w, _ in RATING_WORDS)
    + ")",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Ratings:
    values: dict[str, float]


def parse_ratings(
    text: str, expected: Sequence[str], kb: KnowledgeBase, allow_positional: bool = True
) -> Ratings:
    """Ratings of skills: in order ("4 3 2"), by name ("pytorch 4, k8s 2"), or "all 3" / "none"."""
    folded = _folded(text)
    if not folded:
        raise Unclear("I did not get any ratings.")
    if folded in NONE_WORDS and expected:
        return Ratings(dict.fromkeys(expected, 0.0))
    everything = re.match(
        r"^(?:all|everything|each)\s*(?:at|are|is|=|:)?\s*(.+)$", folded
    ) or re.match(r"^(.+?)\s+(?:for all|for everything|across the board|each)$", folded)
    if everything and expected:
        value = parse_rating(everything.group(1))
        return Ratings(dict.fromkeys(expected, _check(value)))
    tokens = folded.replace(",", " ").replace(";", " ").split()
    if allow_positional and tokens and all(_is_rating_token(t) for t in tokens):
        if len(tokens) > len(expected):
            raise Unclear(f"I got {len(tokens)} ratings for {len(expected)} skills.")
        if len(tokens) < len(expected) and len(tokens) > 1:
            raise Unclear(
                f"I got {len(tokens)} ratings for {len(expected)} skills; use '-' for any you want to leave out."
            )
        if len(tokens) == 1 and len(expected) > 1:
            raise Unclear(
                f"That is one rating for {len(expected)} skills; say 'all {tokens[0]}' if you mean all of them."
            )
        values = {
            skill: _check(parse_rating(token))
            for skill, token in zip(expected, tokens, strict=False)
            if token not in SKIP_TOKENS
        }
        return Ratings(values)
    return Ratings(_named_ratings(text, kb, expected))


def _is_rating_token(token: str) -> bool:
    return token in SKIP_TOKENS or bool(re.fullmatch(rf"{_NUM}(?:/{_NUM})?%?", token))


def _check(value: float) -> float:
    if not 0 <= value <= 5:
        raise Unclear(f"{value:g} is outside 0-5.")
    return value


def _resolve(name: str, kb: KnowledgeBase, expected: Sequence[str]) -> str | None:
    """A skill id for `name`: exact or alias, then a unique partial match among the skills
    the question asked about ("privacy" for "Data Privacy and GDPR"), then a typo fix."""
    exact = kb.resolve_skill(name)
    if exact is not None:
        return exact.id
    key = normalize_name(name)
    if len(key) >= 3:
        partial = [
            sid
            for sid in expected
            if any(
                key in normalize_name(n)
                for n in (sid, kb.skills[sid].name, *kb.skills[sid].aliases)
            )
        ]
        if len(partial) == 1:
            return partial[0]
    fuzzy = kb.fuzzy_skill(name)
    return fuzzy.id if fuzzy else None


def _named_ratings(text: str, kb: KnowledgeBase, expected: Sequence[str] = ()) -> dict[str, float]:
    values: dict[str, float] = {}
    problems: list[str] = []
    for part in _split(text):
        match = _last_rating(part)
        if match is None:
            name = part.strip(" :=-")
            found = _resolve(name, kb, expected)
            label = kb.skills[found].name if found else name
            problems.append(f"no rating for {label!r}")
            continue
        name = (part[: match.start()] + " " + part[match.end() :]).strip(" :=-()")
        name = re.sub(
            r"\b(at|is|level|rated|about|around)\b", " ", name, flags=re.IGNORECASE
        ).strip(" :=-")
        found = _resolve(name, kb, expected) if name else None
        if found is None:
            close = kb.suggest_skills(name) if name else []
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(
                f"unknown skill {name!r}{hint}" if name else f"a rating without a skill in {part!r}"
            )
            continue
        try:
            values[found] = _check(parse_rating(match.group()))
        except Unclear as exc:
            problems.append(f"{kb.skills[found].name}: {exc}")
    if problems:
        raise Unclear(_sentence(problems))
    if not values:
        raise Unclear("I could not find any skill with a rating.")
    return values


def _sentence(problems: list[str]) -> str:
    text = "; ".join(p.rstrip(".") for p in problems)
    return text[:1].upper() + text[1:] + "."


def _last_rating(part: str) -> re.Match[str] | None:
    matches = list(_RATING_TOKEN.finditer(part))
    return matches[-1] if matches else None


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    aliases: tuple[str, ...] = ()


def parse_choice(text: str, options: Sequence[Option]) -> str:
    """One option: its number, value, label or alias, leniently; a unique partial match works."""
    folded = _folded(text)
    if re.fullmatch(r"\d+", folded):
        # Any digits count (Arabic-Indic ones too); one too long to be an option number is not
        # converted at all (int() refuses more than 4,300 digits).
        index = int(folded) if len(folded) <= 6 else 0
        if 1 <= index <= len(options):
            return options[index - 1].value
        raise Unclear(f"Pick a number from 1 to {len(options)}.")
    key = normalize_name(folded)
    if not key:
        raise Unclear("Please pick one of the options.")
    for option in options:
        if key in {normalize_name(n) for n in (option.value, option.label, *option.aliases)}:
            return option.value
    partial = [
        o for o in options if any(key in normalize_name(n) for n in (o.value, o.label, *o.aliases))
    ]
    if len(partial) == 1:
        return partial[0].value
    import difflib

    names = {normalize_name(n): o.value for o in options for n in (o.value, o.label, *o.aliases)}
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
    if close:
        return names[close[0]]
    if len(partial) > 1:
        raise Unclear("That matches several options: " + ", ".join(o.label for o in partial) + ".")
    raise Unclear(f"{clean(text)[:60]!r} is not one of the options.")


def parse_multi(text: str, options: Sequence[Option]) -> list[str]:
    """Several options ("1, 3", "github and mlflow"), "all", or "none"."""
    folded = _folded(text)
    if folded in NONE_WORDS or folded in {"none of them", "none of these", "nothing"}:
        return []
    if folded in ALL_WORDS:
        return [o.value for o in options]
    parts = _split(folded)
    if len(parts) == 1 and re.fullmatch(r"[\d\s]+", parts[0]):
        parts = parts[0].split()
    chosen: list[str] = []
    problems: list[str] = []
    for part in parts:
        try:
            value = parse_choice(part, options)
        except Unclear as exc:
            problems.append(str(exc))
            continue
        if value not in chosen:
            chosen.append(value)
    if problems:
        raise Unclear(" ".join(problems))
    return sorted(chosen, key=[o.value for o in options].index)


METRIC_NAMES = {
    "f1": "f1", "f1score": "f1", "fscore": "f1", "f1macro": "f1", "macrof1": "f1",
    "rocauc": "roc_auc", "auc": "roc_auc", "auroc": "roc_auc", "aucroc": "roc_auc",
    "prauc": "pr_auc", "aucpr": "pr_auc", "auprc": "pr_auc", "averageprecision": "pr_auc", "ap": "pr_auc",
    "accuracy": "accuracy", "acc": "accuracy", "latency": "latency_ms", "latencyms": "latency_ms",
    "p50latency": "latency_ms", "r2": "r2", "r²": "r2", "rsquared": "r2", "mape": "mape", "smape": "smape",
    "ndcg": "ndcg_at_10", "ndcg@10": "ndcg_at_10", "ndcgat10": "ndcg_at_10", "map": "map",
}  # fmt: skip
PERCENT_METRICS = frozenset({"f1", "roc_auc", "pr_auc", "accuracy", "ndcg_at_10", "map", "r2"})


def parse_metrics(text: str) -> dict[str, float]:
    """Model metrics: "f1 0.62, roc auc 81%, latency 40 ms"; scores given in percent become 0-1."""
    metrics: dict[str, float] = {}
    problems: list[str] = []
    for part in _split(text.lower()):
        found = list(re.finditer(rf"(-?{_NUM})\s*(%|ms\b|s\b|sec\b|seconds\b)?", part))
        match = found[-1] if found else None
        if match is None:
            problems.append(f"no value for {part!r}")
            continue
        name = normalize_name((part[: match.start()] + part[match.end() :]).strip(" :=-"))
        name = name.replace("score", "") if name not in METRIC_NAMES else name
        metric = METRIC_NAMES.get(name) or METRIC_NAMES.get(name.replace("@", "at"))
        if metric is None:
            problems.append(f"unknown metric {name or part!r}")
            continue
        value = _to_float(match.group(1))
        suffix = match.group(2)
        if metric == "latency_ms" and suffix in {"s", "sec", "seconds"}:
            value *= 1000
        elif metric in PERCENT_METRICS and (suffix == "%" or value > 1):
            value /= 100
        if metric in PERCENT_METRICS and metric != "r2" and not 0 <= value <= 1:
            problems.append(f"{metric} {match.group(1)} is out of range")
            continue
        metrics[metric] = value
    if problems:
        raise Unclear(_sentence(problems))
    if not metrics:
        raise Unclear("I could not find any metric.")
    return metrics


def parse_skill_list(text: str, kb: KnowledgeBase) -> list[str]:
    """Skill names without ratings ("python, k8s and dokcer"); "none" gives an empty list."""
    folded = _folded(text)
    if folded in NONE_WORDS:
        return []
    found: list[str] = []
    unknown: list[str] = []
    for part in _split(text):
        name = re.sub(
            r"^(i'?m good at|i know|mostly|probably|my strongest (skills )?(are|is))\s+",
            "",
            part.strip(" .:"),
            flags=re.IGNORECASE,
        )
        skill = _resolve(name, kb, ())
        if skill is None:
            unknown.append(name)
        elif skill not in found:
            found.append(skill)
    if unknown:
        hints = []
        for name in unknown:
            close = kb.suggest_skills(name)
            hints.append(f"{name!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise Unclear("I do not know the skill " + ", ".join(hints) + ".")
    if not found:
        raise Unclear("I could not find any skill names.")
    return found
