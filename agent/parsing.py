"""Read free-text answers: amounts, shares, yes/no, choices, metrics, and (from
`agent.skill_answers`) skill ratings and skill lists.

Every parser returns a value, or raises `Unclear` with a message specific to what was wrong,
which the interviewer shows before asking again. Amounts and keywords are taken out of whole
sentences ("two, but one big one", "about 2% are fraud"); "don't know" is not zero; when two
readings are possible the parser asks instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from agent.choices import (
    ALL_WORDS,
    MultiRead,
    Option,
    match_choice,
    parse_choice,
    parse_multi,
    read_multi,
)
from agent.currency import Converted, has_rate, to_usd
from agent.skill_answers import (
    Ratings,
    parse_rating,
    parse_ratings,
    parse_skill_list,
)
from agent.text_values import (
    NONE_PHRASES,
    NUM,
    Quantity,
    Unclear,
    clean,
    is_none,
    is_unknown,
    join_spaced_thousands,
    looks_like_code,
    normalize,
    pick,
    prepared,
    quantities,
    strip_hedges,
    to_float,
    unknown_prefix,
    words_to_numbers,
)
from knowledge.schema import normalize_name
from tools.numbers import ERROR_PERCENTS, METRIC_LABELS

__all__ = [
    "ALL_WORDS",
    "NONE_WORDS",
    "UNKNOWN",
    "UNKNOWN_WORDS",
    "Money",
    "MultiRead",
    "Option",
    "Ratings",
    "Unclear",
    "clean",
    "experience_elsewhere",
    "is_none",
    "is_unknown",
    "looks_like_code",
    "match_choice",
    "normalize",
    "numbers_in",
    "parse_budget",
    "parse_choice",
    "parse_metrics",
    "parse_money",
    "parse_multi",
    "parse_number",
    "parse_percent",
    "parse_rating",
    "parse_ratings",
    "parse_skill_list",
    "parse_yes_no",
    "read_multi",
    "unknown_prefix",
]  # fmt: skip

# Kept for `numbers_in`, which the language-model guard uses to compare numbers in texts.
NUMBER_WORDS = {
    "zero": 0, "none": 0, "no": 0, "nothing": 0, "nil": 0, "never": 0,
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "half": 0.5, "couple": 2, "few": 3, "several": 4,
}  # fmt: skip
NONE_WORDS = frozenset(NONE_PHRASES)
UNKNOWN_WORDS = frozenset({"don't know", "dont know", "do not know", "not sure", "unknown", "no idea", "unsure", "idk", "dunno"})  # fmt: skip
UNKNOWN = -1.0  # the person does not know (a percent answer)

_LEGACY_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:[.,]\d+)?)"


def numbers_in(text: str) -> set[float]:
    """Every quantity written in `text`, in digits ("12,345", "2.5") or words ("three")."""
    found = {to_float(token) for token in re.findall(_LEGACY_NUM, text)}
    found |= {
        float(NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS
    }
    return found


# Amounts ---------------------------------------------------------------------------------

_NO_AMOUNT = re.compile(
    r"^(?:(?:i|we) (?:don't|dont|do not) have any|(?:i )?(?:have|had) (?:none|no \w+)|no \w+(?: yet| so far)?|"
    r"not any(?: yet)?|zero \w+|haven't (?:had|got) any|never|none \w+(?: \w+)?|just started|not a single \w+)$"
)


_ONE_CLIENT = re.compile(
    r"^(?:just|only)?\s*(?:my|one|a single|the same|a|1)\s+(?:employer|company|job|client|customer|"
    r"full-?time job|day job|salaried job|contract|boss)(?:\s+\w+)?$"
    # "just the bank", "the company I work for": one organisation, named by what it is
    r"|^(?:just|only)?\s*(?:the|my|our)\s+(?:bank|firm|agency|startup|university|hospital|insurer"
    r"|government|ministry|council|school|lab|consultancy|studio|company|corporation|business"
    r"|organi[sz]ation|employer|client|customer|retailer|telco|utility|charity|nonprofit|ngo)"
    r"(?:\s+(?:i (?:work|am|'m) (?:for|at|with|in)|i'm at|where i work|that employs me))?$"
)


# Where a short answer ends and its explanation begins: "none, I'm an accountant".
_EXPLAINED = re.compile(
    r"\s*(?:[,;:(]|\s[-\u2013\u2014]\s|\b(?:but|because|since|as|i'?m|i am|i was|i work)\b)"
)
_SOFTENERS = re.compile(r"\b(?:really|at all|honestly|so far|yet|to be honest)\b")


# A salaried job named without a count ("full-time employee", "I'm employed"): one employer.
_EMPLOYED_ONLY = re.compile(
    r"^(?:i'?m |i am )?(?:a |an )?(?:full[- ]?time |part[- ]?time |salaried |permanent )?"
    r"(?:employee|employed|staff|in[- ]house)(?: (?:full[- ]?time|part[- ]?time|at \w+(?: \w+)?))?$"
    r"|^salaried(?: job| position| role)?$"
)
# "and 2 side clients", "but I freelance for 3 more": others beside the one named first.
_MORE_CLIENTS = re.compile(
    r"(?<![\d.])(\d+)\s+(?:more|others?|other clients?|side (?:clients?|gigs?|projects?)|"
    r"(?:small |freelance |extra |additional )?(?:clients?|customers?|gigs?))\b"
)


def _explained(folded: str) -> tuple[str, str] | None:
    """A short answer and its explanation ("none really, I'm an accountant": "none", ", i'm an
    accountant"), softeners dropped from the answer; None when nothing explains it."""
    found = _EXPLAINED.search(folded)
    if found is None or found.start() == 0:
        return None
    head = re.sub(r"\s+", " ", _SOFTENERS.sub(" ", folded[: found.start()])).strip(" ,.!?")
    return head, words_to_numbers(folded[found.start() :])


def _none_then_why(folded: str) -> bool:
    """Whether an answer says none first and then only why ("none really, I'm an
    accountant", "no clients - I'm employed"): no quantity in the explanation."""
    split = _explained(folded)
    if split is None or re.search(r"\d", split[1]):
        return False
    return is_none(split[0]) or bool(_NO_AMOUNT.match(strip_hedges(split[0])))


def _one_named(head: str) -> bool:
    """One employer or client named ("just my employer", "the bank", "full-time employee")."""
    return bool(_ONE_CLIENT.match(strip_hedges(head)) or _EMPLOYED_ONLY.match(head))


def _one_then_why(folded: str) -> bool:
    """One employer or client, then only more about it ("just my employer, full-time",
    "my employer - a bank"), or a salaried job named without a count ("full-time employee")."""
    if _EMPLOYED_ONLY.match(strip_hedges(folded).strip(" .!")):
        return True
    split = _explained(folded)
    return split is not None and not re.search(r"\d", split[1]) and _one_named(split[0])


def _one_and_more(folded: str) -> float | None:
    """One employer or client first, then a number of others ("my employer, and 2 side
    clients": 3); None when the answer is not so."""
    split = _explained(folded)
    if split is None or not _one_named(split[0]):
        return None
    more = _MORE_CLIENTS.search(split[1])
    if more is None or len(re.findall(r"(?<![\d.])\d+(?:\.\d+)?", split[1])) != 1:
        return None
    return 1.0 + int(more.group(1))


# An amount in hundreds or thousands, but how many of them is not said.
_VAGUE_SCALE = re.compile(
    r"\b(?:a few|few|several|some|many|a number of|multiple)\s+(?:hundreds?|thousands?|grand|k)\b"
)


def _without_vague_scale(folded: str, ask: str) -> str:
    """The answer without "a few hundred" and the like when it also gives a figure ("a few
    hundred, maybe 300"); `Unclear(ask)` when that is all it says (its digits would be read
    as "3 and 100", or as 100 beside "dollars")."""
    if not _VAGUE_SCALE.search(folded):
        return folded
    rest = _VAGUE_SCALE.sub(" ", folded)
    if not re.search(r"\d", rest):
        raise Unclear(ask)
    return rest


_VAGUE_COUNT = re.compile(
    r"\b(?:a handful|handful|several|dozens?|many|a lot|lots|a bunch|numerous|various|multiple)\b"
)
_SOMEONE_PAYS = re.compile(
    r"\b(?:employer|company|work|job|boss|client|team|university|school|bank|firm|agency|they"
    r"|manager|department|dept|org|organi[sz]ation)\b.*\b(?:pays?|paid|paying|"
    r"covers?|covered|funds?|funded|reimburses?|sponsors?)\b|\b(?:paid|covered|funded|sponsored|"
    r"reimbursed) by\b|\bexpensed?\b|\btraining budget\b"
)
# A period at an employer ("2 years at google", "18 months at a bank", "3 at meta").
_YEARS_AT = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:(years?|yrs?|months?)\s+)?at\s+(?!least\b|most\b)[a-z]"
)
# Periods said one after another: "5 years phd + 2 postdoc", "3 years, then 2 more".
_THEN = re.compile(r"\s*(?:\+|\bplus\b|\band then\b|\bthen\b|\bfollowed by\b|\band another\b)\s*")


def _periods(spelled: str) -> float | None:
    """The sum of two or more year counts joined by "plus" or "then", or None."""
    parts = _THEN.split(spelled)
    if len(parts) < 2:
        return None
    total = 0.0
    for part in parts:
        numbers = re.findall(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(years?|yrs?|months?)?", part)
        if len(numbers) != 1:
            return None
        total += _in_years(*numbers[0])
    return total


def _in_years(value: str, unit: str) -> float:
    """A count said in years or months ("18", "months"), in years."""
    return float(value) / (12 if unit.startswith("month") else 1)


_YEARS_IN_ML = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*\+?\s*(?:(?:years?|yrs?)\s+)?(?:of\s+)?(?:in|with|doing|on)\s+"
    r"(?:ml|machine learning|data(?: science)?|ai|analytics|deep learning)\b"
)
_YEARS_ELSEWHERE = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?\s*\+?\s*(?:(?:years?|yrs?)\s+)?(?:of\s+)?(?:in|with|doing|as)\s+"
    r"(?!(?:ml|machine learning|data|ai|analytics|deep learning)\b)[a-z]"
)
# Fields outside ML whose years build some of its skills (tools/review.py EXPERIENCE_FIELDS).
_FIELD_WORDS = {
    "software": r"software(?: engineering| development| dev)?|back-?end|front-?end|full-?stack|web(?: dev\w*)?"
    r"|swe|programming|coding|dev|developer|development",
    "devops": r"devops|sre|site reliability|ops|operations|infra(?:structure)?|sysadmin|platform engineering",
    "data_engineering": r"data engineering|data engineer|etl",
    "statistics": r"statistics|stats|econometrics|biostatistics",
}
_ANY_FIELD = "|".join(f"(?:{words})" for words in _FIELD_WORDS.values())
_YEARS_WORD = r"(?:years?|yrs?)"
_FIELD_YEARS = re.compile(
    rf"(?<![\d.])(?P<n>\d+(?:\.\d+)?)\s*\+?\s*(?:{_YEARS_WORD}\s+)?(?:of\s+)?(?:in|as an?|as|doing|with)?\s*"
    rf"(?:a |an )?(?P<f>{_ANY_FIELD})\b"
    rf"|\b(?P<g>{_ANY_FIELD})(?: engineer| developer| dev)?\s*(?:\(|for |,\s*)(?P<m>\d+(?:\.\d+)?)\s*\+?\s*{_YEARS_WORD}"
)


def experience_elsewhere(text: str) -> dict[str, float]:
    """Years said in fields outside ML ("about 1 in ML, 8 in software": software 8)."""
    found: dict[str, float] = {}
    for match in _FIELD_YEARS.finditer(words_to_numbers(normalize(text))):
        said = match.group("f") or match.group("g")
        key = next(k for k, words in _FIELD_WORDS.items() if re.fullmatch(words, said))
        years = to_float(match.group("n") or match.group("m"))
        if 0 < years <= 60:
            found[key] = max(found.get(key, 0.0), years)
    return found


# What a number answers, for "I could not tell which number in your answer is ...".
_WHAT = {"years": "the years", "hours": "the hours a week", "clients": "the number of clients"}
_SINCE_YEAR = re.compile(
    r"\b(?:since|from|starting in|started in|began in)\s+(?:(?:early|mid|late|the start of|the "
    r"end of)\s+)?((?:19|20)\d\d)\b"
    # "since grad school in 2018", "since my first job in 2019"
    r"|\bsince\s+(?!\d)[a-z' ]{2,40}?\s(?:in|of)\s+(?:(?:early|mid|late)\s+)?((?:19|20)\d\d)\b"
)
_SINCE_WHEN = re.compile(r"^(?:since|from|ever since)\s+(?!\d)")


def _since_year(spelled: str) -> float | None:
    """Years of work said as the year it began ("since 2019": the years since, counted from
    this calendar year; less than one is half a year); None when no such year is said."""
    found = _SINCE_YEAR.search(spelled)
    if found is not None and re.search(r"\b\d+(?:\.\d+)?\s*(?:years?|yrs?|months?)\b", spelled):
        return None  # "3 years, since 2023": the years said count, as read elsewhere
    if found is None and not re.search(r"\d", spelled):
        if re.search(r"\bthis year\b", spelled):  # "just started this year", as "since 2026"
            return 0.5
        if re.search(r"\b(?:just|only just|recently) (?:started|began|begun)\b", spelled):
            raise Unclear('About how many months so far? For example "6 months".')
    if found is None:
        if _SINCE_WHEN.match(spelled) and not re.search(r"\d", spelled):
            raise Unclear('Since when? Give the number of years, for example "3".')
        return None
    start, now = int(found.group(1) or found.group(2)), dt.date.today().year
    if start > now:
        raise Unclear(f"{start} has not come yet; how many years is it so far?")
    return float(now - start) if start < now else 0.5


# "1 main client and 2 small ones", "2 regular + 3 one-offs": kinds of client, added up.
_CLIENT_JOINS = re.compile(r"\s*(?:[+,&]|\band\b|\bplus\b|\bas well as\b|\bwith\b)\s*")
# "1 occasional one" is spelled "1 occasional 1"
_CLIENT_PART = re.compile(r"(?:about |around |roughly |maybe )?(\d+)(?: [a-z'-]+){0,3}(?: 1)?")
_CLIENT_NOUN = re.compile(r"\b(?:clients?|customers?|ones?|one-offs?|others|accounts|retainers?)\b")
_NOT_CLIENTS = re.compile(
    r"\b(?:prospects?|leads?|potential|former|past|previous|ex|lost|pending|pitch(?:es)?|"
    r"interviews?|applications?|employees?|employers?|jobs?|salary|people|years?|months?|"
    r"projects?|of them|of those|of which|among them)\b"
)


def _clients_in_parts(folded: str, spelled: str) -> float | None:
    """Clients counted in kinds ("one main client and a couple of small ones": 3); None when
    the answer is not such a list. A vague part ("and a few one-offs") is asked about."""
    parts = [p for p in _CLIENT_JOINS.split(spelled) if p]
    if len(parts) < 2 or not _CLIENT_NOUN.search(spelled) or _NOT_CLIENTS.search(spelled):
        return None
    counts = [_CLIENT_PART.fullmatch(p.strip(" .!")) for p in parts]
    if not all(counts):
        return None
    if re.search(r"\b(?:few|several|handful|bunch)\b", folded):
        raise Unclear('Roughly how many clients in all, in the last 12 months? For example "4".')
    return float(sum(int(m.group(1)) for m in counts if m))


_HOUR_UNIT = re.compile(r"\d\s*(?:h|hrs?|hours?|mins?|minutes?)\b")
_PART_OF_DAY = re.compile(
    r"\b(?:evenings?|mornings?|afternoons?|nights?|lunch(?:\s*(?:breaks?|hours?))?|sessions?|"
    r"commutes?|pomodoros?)\b"
)
_DAY_NAME = (
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?s?|(?:mon|tues|wednes|thurs|fri|"
    r"satur|sun)days?"
)
_ONE_DAY = re.compile(rf"\b(?:on\s+|every\s+)?(?:{_DAY_NAME})\b")
_DAYS_OF_LEARNING = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s+(?:full\s+|whole\s+)?days?\b")
_FULL_DAY = re.compile(r"\b(?:a|one)\s+(?:full|whole)\s+day\b|\ball day\b|\bfull days?\b")
HOURS_IN_A_DAY = 8  # a day of learning, as a working day
# "2 evenings a week, 2h each", "3 sessions of 45 minutes", "twice a week for 2 hours", "3x1h"
_TIMES = r"(?P<times>\d+|once|twice|thrice)"  # fmt: skip
_OCCASIONS = r"(?:\s*x|\s+times|\s+sessions?|\s+evenings?|\s+mornings?|\s+afternoons?|\s+nights?|\s+days?|\s+lunch breaks?)?"
_LENGTH = r"(?P<length>\d+(?:\.\d+)?)\s*(?P<unit>h|hrs?|hours?|mins?|minutes?)\b"
_SESSIONS = (
    re.compile(
        rf"(?<![\d.]){_TIMES}{_OCCASIONS}\b(?:(?!\d)[^;]){{0,25}}?{_LENGTH}\s*(?:each|apiece|"
        r"a piece|per (?:session|evening|morning|day|time)|each time|every time)\b"
    ),
    re.compile(
        rf"(?<![\d.]){_TIMES}{_OCCASIONS}(?:\s+(?:a|per|every|1) week)?\s+(?:of|for|lasting)\s+"
        rf"(?:about\s+)?{_LENGTH}"
    ),
    re.compile(rf"(?<![\d.]){_TIMES}\s*x\s*{_LENGTH}"),
    # "2 hours 3 evenings a week" (the length first; "a few" is 3 by then)
    re.compile(
        rf"(?<![\d.]){_LENGTH}\s+(?:on\s+|for\s+)?{_TIMES}\s*(?:x|times|sessions?|evenings?"
        r"|mornings?|afternoons?|nights?|days?|lunch breaks?)\b"
    ),
    # "2 hours, 3 times a week", "an hour, twice a week"
    re.compile(
        rf"(?<![\d.]){_LENGTH},?\s*(?:each time,?\s*)?(?P<times>\d+(?=\s*x|\s+times)|once|twice|"
        r"thrice)(?:\s*x|\s+times)?\s+(?:a|per|every|1)\s+week\b"
    ),
)
# "1.5 hours each weekday": five of them
_EACH_WEEKDAY = re.compile(
    rf"(?<![\d.]){_LENGTH}\s+(?:each|every|per|a|on|on all)\s+(?:weekday|workday|working day|week day)s?\b"
)
_TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}
# "an hour most evenings", "30 min a few mornings a week": a length on a number of days that
# is said in words (most of the week's seven, or of its five weekdays).
_SOME_DAYS = re.compile(
    r"\b(?P<many>most|many|a few|few|a couple of|couple of|every other|several|some)\s+"
    r"(?P<days>(?:day|evening|night|morning|afternoon|lunch break|weekday|workday|week ?night"
    r"|weekday evening)s?|lunches)\b"
)
_HOW_MANY_DAYS = {"most": 5.0, "many": 5.0, "a few": 3.0, "few": 3.0, "a couple of": 2.0,
                  "couple of": 2.0, "every other": 3.5}  # fmt: skip
_LENGTH_ALONE = re.compile(rf"(?<![\d.]){_LENGTH}")


def _on_some_days(spelled: str) -> float | None:
    """Hours a week from a length on "most evenings" or "a few mornings", or None; "some" or
    "several" days are asked about."""
    found = _SOME_DAYS.search(spelled)
    length = _LENGTH_ALONE.search(spelled)
    if found is None or length is None:
        return None
    days = _HOW_MANY_DAYS.get(found.group("many"))
    if days is None:
        raise Unclear('About how many hours a week is that in all? For example "4".')
    if found.group("days").startswith(("weekday", "workday")) and found.group("many") in (
        "most",
        "many",
    ):
        days = 4.0  # most of five
    hours = float(length.group("length")) / (60 if length.group("unit").startswith("m") else 1)
    return round(hours * days, 2)


def _sessions(spelled: str) -> float | None:
    """Hours a week said as sessions times their length, or None."""
    weekdays = _EACH_WEEKDAY.search(spelled)
    if weekdays is not None:
        length = float(weekdays.group("length"))
        return 5 * length / (60 if weekdays.group("unit").startswith("m") else 1)
    for pattern in _SESSIONS:
        found = pattern.search(spelled)
        if found is not None:
            times = _TIMES_WORDS.get(found.group("times")) or float(found.group("times"))
            length = float(found.group("length"))
            return times * length / (60 if found.group("unit").startswith("m") else 1)
    return None


def _hours_by_day(spelled: str) -> float | None:
    """Hours a week said in days or parts of days ("half a day on fridays": 4, "one day a
    week": 8), or as amounts on named days ("3 hours on saturday and 1 on sunday": 4); None
    for any other answer. Parts of a day ("an evening or two") are asked about in hours."""
    parts = [p for p in re.split(r"\s*(?:[,;+&]|\band\b|\bplus\b)\s*", spelled) if p]
    if len(parts) >= 2 and all(_ONE_DAY.search(p) for p in parts):
        amounts = [re.search(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(h|hrs?|hours?|mins?|minutes?)?\b", p) for p in parts]  # fmt: skip
        if all(amounts) and any(a and a.group(2) for a in amounts):
            return sum(
                float(a.group(1)) / (60 if (a.group(2) or "").startswith("m") else 1)
                for a in amounts
                if a
            )
    sessions = _sessions(spelled)
    if sessions is not None:
        return sessions
    some_days = _on_some_days(spelled)
    if some_days is not None:
        return some_days
    if _HOUR_UNIT.search(spelled):
        return None
    days = _DAYS_OF_LEARNING.search(spelled)
    full = _FULL_DAY.search(spelled)
    if days is None and full is None:
        if _PART_OF_DAY.search(spelled):
            raise Unclear('About how many hours a week is that? For example "4".')
        return None
    count = float(days.group(1)) if days is not None else 1.0
    if count > 1 and full is None:  # "3 days": of some hours each, or whole days?
        raise Unclear(f'How many hours a week is that in all? For example "{count * 2:g}".')
    if re.search(r"\b(?:a|per|each|every)\s+month\b|\bmonthly\b", spelled):
        return count * HOURS_IN_A_DAY / 4.35
    if re.search(r"\b(?:a|per|each|every)\s+(?:year|day)\b", spelled):
        raise Unclear("How many hours is that in a week?")
    return count * HOURS_IN_A_DAY


def _days_a_week(spelled: str) -> int:
    """How many days "a day" is in a week: weekdays 5, weekends 2, one named day 1, else 7."""
    if re.search(r"\bweekdays?\b|\bworkdays?\b|\bworking days\b", spelled):
        return 5
    if re.search(r"\bweekends?\b|\bsaturdays? and sundays?\b", spelled):
        return 2
    if re.search(
        r"\b(?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?)\b", spelled
    ):
        return 1
    return 7


def parse_number(text: str, unit: str | None = None) -> float:
    """A plain quantity: "3", "2 years", "18 months", "a couple", "3-5", "none", in a sentence."""
    folded = prepared(text, "an amount")
    if is_none(folded) or _NO_AMOUNT.match(strip_hedges(folded)) or _none_then_why(folded):
        return 0.0
    folded = _without_vague_scale(folded, 'Roughly how many? A guess is fine, for example "300".')
    if unit == "clients":
        if _ONE_CLIENT.match(strip_hedges(folded)) or _one_then_why(folded):
            return 1.0
        more = _one_and_more(folded)
        if more is not None:
            return more
    spelled = words_to_numbers(folded)
    if unit == "years":
        since = _since_year(spelled)
        if since is not None:
            return since
        jobs = _YEARS_AT.findall(spelled)
        if len(jobs) >= 2 and len(re.findall(r"(?<![\d.])\d", spelled)) == len(jobs):
            # "2 years at a bank and 3 at a startup": one job after another, so 5.
            return math.fsum(_in_years(n, unit_) for n, unit_ in jobs)
        periods = _periods(spelled)
        if periods is not None:  # "PhD (5 years) plus 2 years postdoc": one after the other
            return periods
        in_ml = _YEARS_IN_ML.search(spelled)
        if in_ml is not None and _YEARS_ELSEWHERE.search(spelled):
            # "20+ years in software, 2 in ML": the question counts data and ML work ("4 years
            # but only 1 in ML" is 4: those years are not said to be outside data).
            return float(in_ml.group(1))
    if re.search(r"\d\s*/\s*\d", spelled):
        raise Unclear(f"I could not read {clean(text)[:60]!r} as one amount.")
    if unit == "clients":
        total = _clients_in_parts(folded, spelled)
        if total is not None:
            return total
    if unit == "hours":
        weekly = _hours_by_day(spelled)
        if weekly is not None:
            return weekly
    amount = pick(spelled, unit, _WHAT.get(unit or "", "the answer"))
    if amount is None:
        if _VAGUE_COUNT.search(spelled):
            raise Unclear('Roughly how many? A guess is fine, for example "4".')
        raise Unclear(f"I could not read {clean(text)[:60]!r} as an amount.")
    if re.search(
        r"\b(?:less than|fewer than|under|below|not even|almost|nearly)\s*$",
        spelled[: amount.start],
    ):
        raise Unclear('Roughly how many? A bound is not the answer I need; for example "3".')
    if re.search(r"(?<![\w.])[-\u2212]\s*$", spelled[: amount.start]):
        raise Unclear(f"{clean(text)[:30]!r} is below zero; how many is it?")
    value = amount.value
    if unit == "years":
        value /= {"months": 12, "weeks": 52}.get(amount.unit or "", 1)
    if unit == "clients" and amount.per is not None:
        raise Unclear("How many in the last 12 months, all together?")
    if unit == "hours":
        if amount.unit == "minutes":
            value /= 60
        if amount.per == "day":
            value *= _days_a_week(spelled)
        elif amount.per == "month":
            value /= 4.35
        elif amount.per == "year":
            raise Unclear("How many hours is that in a week?")
    if not math.isfinite(value):
        raise Unclear("That number is too large.")
    return value


_FREE = re.compile(
    r"\b(?:free|no budget|zero budget|no money|nothing|zero|nada|broke|gratis|kostenlos|gratuit)\b|\$\s*0(?![\d.,])"
)


# Three months of a budget given per day, week, month or year.
_PER_QUARTER = {"day": 91.0, "week": 13.0, "month": 3.0, "year": 0.25}


# A budget without a limit: recorded as none set (nothing is flagged as over budget).
NO_LIMIT = re.compile(
    r"^(?:(?:there(?:'s| is) )?no (?:limit|cap|ceiling|max(?:imum)?)|unlimited|limitless"
    r"|whatever it takes|money is no (?:object|issue|problem)|sky(?:'s| is) the limit)\b"
)


@dataclass(frozen=True)
class Money:
    """A budget in US dollars, and the amount it was converted from (another currency)."""

    usd: float
    converted: Converted | None = None


def parse_money(text: str) -> float:
    """A budget in USD: "$200", "200 usd", "1.5k", "around 300 bucks", "free only", "none",
    "€300" (converted; `parse_budget` also says at which rate)."""
    return parse_budget(text).usd


def parse_budget(text: str) -> Money:
    """A budget in USD, from dollars or another currency at a dated reference rate."""
    folded = prepared(text, "an amount")
    if is_none(folded):
        return Money(0.0)
    folded = _without_vague_scale(folded, 'Roughly how much? A guess is fine, for example "$300".')
    spelled = join_spaced_thousands(words_to_numbers(folded))
    found = quantities(spelled)
    if _FREE.search(spelled) and not any(q.value > 0 for q in found):
        return Money(0.0)
    if re.search(r"(?<![\d.,])\d{1,3}\.\d{3}(?![\d.,])", spelled):
        raise Unclear(
            'Is that a thousands separator? Please write the amount as digits, for example "1500".'
        )
    amount = pick(spelled, "money", "the budget")
    if amount is None:
        if _SOMEONE_PAYS.search(spelled):
            raise Unclear(
                "Good to know someone else pays: about how much can be spent on your learning in "
                'the next few months (for example "$500", or "no limit")? Say "don\'t know" if '
                "nobody has said."
            )
        raise Unclear(f"I could not find an amount in {clean(text)[:60]!r}.")
    converted = _in_dollars(amount, spelled) if amount.value else None
    usd = converted.usd if converted else amount.value
    shown = f"{converted.given()} (about ${usd:,.0f})" if converted else f"${usd:,.12g}"
    if amount.per in _PER_QUARTER:
        # A rate is not a total: say what it comes to over three months, and ask.
        about = usd * _PER_QUARTER[amount.per]
        rate = f", at {converted.rate()}" if converted else ""
        raise Unclear(
            f"That is {shown} a {amount.per}{rate}; what is the total for the next few months? "
            f'At that rate three months come to about ${about:,.0f} (say "${about:.0f}" to use '
            "that)."
        )
    if _FREE.search(spelled):
        raise Unclear(f"Free only, or up to {shown}? Please give one amount.")
    return Money(usd, converted)


# Currency words that name several currencies, and which ones.
_WHICH_OF = {
    "peso": ": Mexican (MXN), Philippine (PHP), Argentine (ARS) or Chilean (CLP) pesos",
    "kr": ": Swedish (SEK), Norwegian (NOK) or Danish (DKK) kronor",
    "¥": ": Japanese yen (JPY) or Chinese yuan (CNY)",
}
_CODE_EXAMPLE = {kinds: re.findall(r"\(([A-Z]{3})\)", kinds)[0] for kinds in _WHICH_OF.values()}


def _in_dollars(amount: Quantity, spelled: str) -> Converted | None:
    """The amount in US dollars when it was given in another currency (None for dollars)."""
    code = amount.currency
    if code is None or code == "USD":
        return None
    if code == "?":
        said = spelled[amount.start : amount.end]
        kinds = next((k for word, k in _WHICH_OF.items() if word in said), "")
        raise Unclear(
            f"Which currency do you mean by {clean(said)!r}{kinds}? Say its code, for example "
            f'"{amount.value:.12g} {_CODE_EXAMPLE.get(kinds, "MXN")}", or give the amount in US dollars.'
        )
    if not has_rate(code):
        raise Unclear(
            f"I have no exchange rate for {code} here; please give it in US dollars (roughly is "
            'fine), for example "$200".'
        )
    return to_usd(amount.value, code)


_RATIO = re.compile(rf"(?<![\w.])({NUM})\s*(?:in|out of|of every|/|:)\s*({NUM})(?![\w.])")
_RARE_WORDS = re.compile(
    r"\b(?:legit|legitimate|negatives?|normal|non-?fraud|not fraud|majority|genuine|clean|benign)\b"
)
_SHARE_WORDS = (
    (r"\b(?:balanced|50/50|50-50|fifty-fifty|even split|evenly|half and half|half|equal)\b", 0.5),
    (r"\b(?:a third|one third)\b", 1 / 3),
    (r"\b(?:two thirds)\b", 2 / 3),
    (r"\b(?:a quarter|one quarter)\b", 0.25),
    (r"\b(?:three quarters)\b", 0.75),
    (r"^(?:all(?: of it)?|everything|all from (?:them|one|him|her)|the whole thing|only one client|"
     r"single client|one client|just one|just one client|100 percent)$", 1.0),
)  # fmt: skip


_VAGUE_SHARE = re.compile(
    r"\b(?:most|majority|much|lots|bulk|(?:nearly|almost|pretty much|practically) "
    r"(?:all|everything)|the lion'?s share)\b"
)
_BARE_NO = re.compile(r"^(?:no|nope|nah|no thanks|no thank you|not yet|not now)$")


def parse_percent(text: str, rare: bool = False) -> float:
    """A share between 0 and 1: "6%", "0.06", "about 2% are fraud", "1 in 50", "half", "balanced";
    UNKNOWN for "don't know". `rare`: the share of a rare class is asked, so words naming the
    common one ("the majority is legit") are asked about."""
    folded = prepared(text, "a share")
    rest = unknown_prefix(folded)
    if rest is not None and not re.search(r"\d", rest):
        return UNKNOWN
    if rare and _RARE_WORDS.search(folded):
        raise Unclear(
            'Is that the share of the common class? I need the share of the rare one, for example "2%".'
        )
    if not re.search(r"\d", folded):
        hedged = strip_hedges(folded)
        for pattern, share in _SHARE_WORDS:
            if re.search(pattern, hedged):
                return share
        if _VAGUE_SHARE.search(folded):  # "most of it comes from one agency": "one" is no share
            raise Unclear('Roughly what percentage is that? For example "70%".')
    spelled = words_to_numbers(folded, counts=False)
    if re.search(r"\b(?:50/50|50-50)\b", spelled):
        return 0.5
    ratio = _RATIO.search(spelled)
    if ratio and not any(q.unit == "percent" for q in quantities(spelled)):
        part, whole = to_float(ratio.group(1)), to_float(ratio.group(2))
        if ":" in ratio.group() and whole > 0:
            whole += part  # "1:49" is one in fifty
        elif "/" in ratio.group() and part + whole == 100:
            whole = 100  # "60/40" is a split: the first part
        if whole <= 0 or part > whole:
            raise Unclear(f"{ratio.group()} is not a share.")
        return round(part / whole, 4)
    amount = pick(spelled, "percent", "the share")
    if amount is None:
        hedged = strip_hedges(folded)
        for pattern, share in _SHARE_WORDS:
            if re.search(pattern, hedged):
                return share
        if _BARE_NO.match(strip_hedges(folded).strip(" ,.!?")):
            # "no" to "what share came from your biggest client?" is not 0 %.
            raise Unclear(f"{clean(text)[:20]!r} is not a share.")
        if is_none(folded):
            return 0.0
        if _VAGUE_SHARE.search(folded):
            raise Unclear('Roughly what percentage is that? For example "70%".')
        raise Unclear(f"I could not find a percentage in {clean(text)[:60]!r}.")
    value = amount.value
    if amount.unit == "percent" or value > 1:
        value /= 100
    elif value == 1 and "." not in spelled[amount.start : amount.end]:
        raise Unclear('Do you mean 1% or 100%? Please add the "%".')
    if not 0 <= value <= 1:
        raise Unclear("A share must be between 0% and 100%.")
    return round(value, 6)


# Yes / no --------------------------------------------------------------------------------

YES = {"yes", "y", "yeah", "yea", "ya", "yah", "yep", "yup", "sure", "ok", "okay", "of course", "definitely",
       "absolutely", "i do", "i have", "we do", "we have", "it does", "it has", "it is", "correct", "true",
       "please", "yes please", "si", "sí", "ja", "jawohl", "oui", "da", "aye", "sim", "tak", "affirmative",
       "indeed", "certainly", "i think so", "i believe so", "think so", "probably", "probably yes",
       "mostly yes", "kind of yes", "more or less yes", "yess", "yesss", "yas", "yeh", "ye", "yep yep",
       "obviously", "for sure", "totally", "naturally", "of course it does", "of course it has"}  # fmt: skip
NO = {"no", "n", "nope", "nah", "naw", "not really", "never", "none", "i don't", "i do not", "i dont",
      "no thanks", "false", "not yet", "nein", "non", "net", "não", "nao", "nee", "nie", "negative",
      "not at all", "i don't think so", "i dont think so", "don't think so", "dont think so",
      "i doubt it", "doubt it", "probably not", "no way", "not that i know of", "it doesn't",
      "it does not", "we don't", "we do not", "i haven't", "i have not", "nothing", "nope nope", "nö"}  # fmt: skip
_YES_START = re.compile(
    r"^(?:yes|yeah|yea|yep|yup|sure|of course|definitely|absolutely|certainly|indeed|ja|oui|si|sí|sim|"
    r"y|ya)\b(?!\s*(?:and|or)\s+no\b)(?!\s+not\b)"
)
_NO_START = re.compile(
    r"^(?:no|nope|nah|not|never|nein|non|não|nao|none|(?:of course|definitely|absolutely|certainly|sure) not|"
    r"i (?:don't|dont|do not|haven't|have not)(?! know)|we (?:don't|dont|do not)(?! know))\b"
)


def parse_yes_no(text: str) -> bool:
    """Yes or no, from a word or a sentence that starts with one ("yes, customer messages")."""
    folded = normalize(text)
    folded = re.sub(
        r"^(?:(?:well|um+|uh+|hmm+|oh|honestly|tbh|so|i mean|obviously|clearly|totally|"
        r"naturally|surely)[,\s]+)+",
        "",
        folded,
    )
    if unknown_prefix(folded) is not None:
        raise Unclear('Please answer yes or no (or "don\'t know").')
    folded = folded.strip(" ,.!?")
    if folded in NO or re.match(
        r"^(?:of course|definitely|absolutely|certainly|sure) not\b", folded
    ):
        return False
    if folded in YES:
        return True
    if re.search(
        r"\byes\b.*\bno\b|\bno\b.*\byes\b|\bsort of\b|\bkind of\b|\bsometimes\b|\bdepends\b", folded
    ):
        raise Unclear("Is that a yes or a no?")
    if _NO_START.match(folded):
        return False
    if _YES_START.match(folded):
        return True
    raise Unclear("I could not tell whether that is yes or no.")


# Metrics ---------------------------------------------------------------------------------

METRIC_NAMES = {
    "f1": "f1", "f1score": "f1", "fscore": "f1", "f1macro": "f1", "macrof1": "f1", "f": "f1", "f1weighted": "f1",
    "rocauc": "roc_auc", "auc": "roc_auc", "auroc": "roc_auc", "aucroc": "roc_auc", "roc": "roc_auc",
    "prauc": "pr_auc", "aucpr": "pr_auc", "auprc": "pr_auc", "averageprecision": "pr_auc", "ap": "pr_auc",
    "precisionrecallauc": "pr_auc", "accuracy": "accuracy", "acc": "accuracy", "accuracy score": "accuracy",
    "latency": "latency_ms", "latencyms": "latency_ms", "p50latency": "latency_ms", "p50": "latency_ms",
    "medianlatency": "latency_ms", "inferencetime": "latency_ms", "r2": "r2", "r²": "r2", "rsquared": "r2",
    "r2score": "r2", "mape": "mape", "smape": "smape", "ndcg": "ndcg_at_10", "ndcg@10": "ndcg_at_10",
    "ndcgat10": "ndcg_at_10", "map": "map", "genauigkeit": "accuracy", "précision": "accuracy",
    "accurate": "accuracy",
}  # fmt: skip
# Metrics people report that no benchmark here holds: named as such, never "unknown".
_UNBENCHMARKED = re.compile(
    r"\b(recall|precision|sensitivity|specificity|rmse|mae|mse|log ?loss|cross[- ]?entropy|brier|"
    r"mcc|kappa|bleu|rouge|perplexity|iou|map@?50|mrr|hit ?rate|tpr|fpr|p9\d)\b"
)
_COMPARABLE = "F1, ROC-AUC, PR-AUC, accuracy, median latency, R², MAPE, sMAPE, NDCG@10 or MAP"
PERCENT_METRICS = frozenset({"f1", "roc_auc", "pr_auc", "accuracy", "ndcg_at_10", "map", "r2"})
_METRIC_FILLER = re.compile(
    r"\b(?:was|were|is|of|around|about|roughly|approx|approximately|an|a|the|got|reached|at|on|test|"
    r"it(?:'s)?|gets|scored|scores|achieved|achieves|has|with|final|private|public|lb|leaderboard|"
    r"held-?out|validation|val|set|data|score|my|our|its|it's|we|i|had|have|get|like|ish|overall|macro|"
    r"weighted|mean|avg|average|median)\b"
)


GINI_NAMES = frozenset({"gini", "ginicoefficient", "normalizedgini", "ginicoef", "giniindex"})


def parse_metrics(text: str) -> dict[str, float]:
    """Model metrics: "f1 0.62, roc auc 81%, latency 40 ms", "acc 97%, f1 .78", "auc 0,81"."""
    folded = prepared(text, "a metric")
    # A decimal comma ("0,81") is not a separator between metrics.
    folded = re.sub(r"(?<![\d,])(\d),(\d{1,2})(?![\d,])", r"\1.\2", folded)
    folded = re.sub(r"(?<![\d,])0,(\d+)", r"0.\1", folded)
    metrics: dict[str, float] = {}
    problems: list[str] = []
    uncompared: list[str] = []  # reported, but no benchmark holds them: the others count
    from_gini: set[str] = set()  # ROC-AUC read from a Gini coefficient
    # A slash between one metric's value and the next one's name separates them too
    # ("roc-auc .91 / pr-auc .42"); "8/10" stays a number.
    folded = re.sub(r"(?<=[\d%])\s*/\s*(?=[a-z])", ", ", folded)
    for part in re.split(r"[,;\n]|\band\b|\s&\s|\|", folded):
        part = part.strip(" .")
        if not part:
            continue
        found = list(
            re.finditer(rf"(-?{NUM})\s*(%|ms\b|s\b|sec\b|secs\b|seconds\b|milliseconds\b)?", part)
        )
        match = found[-1] if found else None
        if match is None:
            problems.append(f"no value for {part!r}")
            continue
        rest = (part[: match.start()] + " " + part[match.end() :]).strip(" :=-~")
        name = normalize_name(_METRIC_FILLER.sub(" ", rest).strip(" :=-~"))
        name = name.replace("score", "") if name not in METRIC_NAMES else name
        # Credit scoring reports the Gini coefficient, which is 2 x ROC-AUC - 1.
        gini = name in GINI_NAMES
        metric = (
            "roc_auc"
            if gini
            else METRIC_NAMES.get(name) or METRIC_NAMES.get(name.replace("@", "at"))
        )
        if metric is None:
            other = _UNBENCHMARKED.search(part)
            if other is not None:
                uncompared.append(other.group(1))
                continue
            problems.append(f"unknown metric {name or part!r}")
            continue
        value = to_float(match.group(1))
        suffix = match.group(2)
        if metric == "latency_ms" and suffix in {"s", "sec", "secs", "seconds"}:
            value *= 1000
        elif metric in PERCENT_METRICS and suffix != "%" and 1 < value < 10:
            problems.append(
                f"is {METRIC_LABELS[metric]} {match.group(1)} a percentage? Scores are between 0 and 1"
            )
            continue
        elif metric in PERCENT_METRICS and (suffix == "%" or value > 1):
            value /= 100
        elif metric in ERROR_PERCENTS and suffix != "%" and 0 < value < 1:
            # Percentage errors are tabled in percent; scikit-learn returns them as fractions.
            raw = match.group(1)
            problems.append(
                f"is {METRIC_LABELS[metric]} {raw} a fraction ({value * 100:g}%) or {raw}%? Say it "
                f'with a % sign, for example "{value * 100:g}%"'
            )
            continue
        if metric in PERCENT_METRICS and metric != "r2" and not 0 <= value <= 1:
            problems.append(f"{METRIC_LABELS[metric]} {match.group(1)} is out of range")
            continue
        if gini:
            value = round((value + 1) / 2, 4)
        if (
            metric in metrics
            and (gini or metric in from_gini)
            and math.isclose(metrics[metric], value, abs_tol=0.006)
        ):
            # "auc .79, gini .58": one value said twice, one of them rounded; the AUC said
            # as such is kept.
            if not gini:
                metrics[metric] = value
                from_gini.discard(metric)
            continue
        if gini:
            from_gini.add(metric)
        if metric in metrics and metrics[metric] != value:
            problems.append(f"two values for {METRIC_LABELS[metric]}")
            continue
        metrics[metric] = value
    if problems:
        text = "; ".join(problems)
        raise Unclear(text[:1].upper() + text[1:] + ".")
    if not metrics and uncompared:
        named = " and ".join(dict.fromkeys(_uncompared_name(m) for m in uncompared))
        raise Unclear(
            f"{named[:1].upper() + named[1:]}: no benchmark I hold has it, so it cannot be "
            f"compared; give any of {_COMPARABLE} you have, or skip."
        )
    if not metrics:
        raise Unclear("I could not find any metric.")
    return metrics


def uncompared_metrics(text: str) -> list[str]:
    """Metrics an answer names that no benchmark holds ("recall", "RMSE"), for saying so."""
    found = (m.group(1) for m in _UNBENCHMARKED.finditer(normalize(text)))
    return list(dict.fromkeys(_uncompared_name(m) for m in found))


def _uncompared_name(found: str) -> str:
    if re.fullmatch(r"p9\d", found):
        return f"{found} latency (the benchmarks hold the median)"
    return found.upper() if len(found) <= 4 else found
