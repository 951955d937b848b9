"""Words and quantities in free-text answers: the layer every answer parser reads through.

`normalize` folds a message (case, Unicode forms, emoji, number words) so the parsers see one
spelling; `quantities` finds the amounts in a sentence with their units and the words around
them, and `pick` chooses the one amount that answers a question or says why it cannot.
Nothing here guesses: when two amounts could be the answer, `pick` refuses.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


class Unclear(ValueError):
    """The answer could not be understood; the message says why."""


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` (long word lists stay readable)."""
    return frozenset(text.split())


def clean(text: str) -> str:
    """Drop control characters and collapse whitespace."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", kept).strip()


# Emoji people answer with; every other pictograph is dropped.
EMOJI_WORDS = {
    "\U0001f44d": " yes ", "\U0001f44c": " yes ", "\u2705": " yes ", "\u2714": " yes ", "\u2611": " yes ",
    "\U0001f44e": " no ", "\u274c": " no ", "\u2716": " no ", "\U0001f6ab": " no ",
    "\U0001f937": " not sure ", "\U0001f914": " not sure ",
}  # fmt: skip
_STARS = re.compile(r"[\u2605\u2b50\U0001f31f]+(?:\s*[\u2606]+)?")
_SPACED = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2044": "/",
    "\u2248": " about ",
    "~": " about ",
}

# Phrases that mean "I do not know": unknown is not zero, so these leave an item out.
UNKNOWN_PHRASES = (
    "i don't know", "i dont know", "i do not know", "don't know", "dont know", "do not know",
    "dunno", "idk", "idek", "no idea", "no clue", "i have no idea", "i've no idea", "ive no idea",
    "i have no clue", "i've no clue", "not sure", "unsure", "i'm not sure", "im not sure",
    "not certain", "unknown", "can't say", "cant say", "hard to say", "no way to know",
    "keine ahnung", "weiß nicht", "weiss nicht", "je ne sais pas", "je sais pas", "sais pas",
    "no sé", "no se", "ni idea", "não sei", "nao sei", "non lo so", "boh",
    "leave them out", "leave them all out", "can't rate them", "cant rate them",
)  # fmt: skip
_UNKNOWN = re.compile(
    r"^(?:(?:um+|uh+|hmm+|honestly|tbh|sorry|well|oh)[,\s]+)*(?:"
    + "|".join(re.escape(p) for p in sorted(UNKNOWN_PHRASES, key=len, reverse=True))
    + r")(?=$|[\s,.;:!?)(-])"
)
# Phrases that mean none / zero, in several languages.
NONE_PHRASES = (
    "none", "none yet", "none for now", "none so far", "none at the moment", "none currently",
    "nothing", "nothing yet", "nothing for now", "nothing really", "nope", "no", "nah", "n/a", "na",
    "zero", "0", "nil", "n", "no one", "nobody", "neither", "not yet", "not now", "not at the moment",
    "none of them", "none of these", "none of those", "none of the above", "no thanks", "no thank you",
    "-", "nada", "keine", "keiner", "nichts", "aucun", "aucune", "rien", "ninguno", "ninguna",
    "nessuno", "niente", "nenhum", "nenhuma", "zilch", "not really", "none really",
    "not anything", "not really anything", "nothing at all", "not a thing", "not formally",
    "not officially",
)  # fmt: skip

# Number words (English, German, French, Spanish, Italian, Portuguese); ambiguous ones
# ("sept", "due", "sei", "otto") are left out because they are also common words.
UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "null": 0, "eins": 1, "ein": 1, "eine": 1, "einen": 1, "zwei": 2, "drei": 3, "vier": 4,
    "fünf": 5, "funf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "zwölf": 12,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "huit": 8, "neuf": 9, "dix": 10,
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "tre": 3, "quattro": 4, "cinque": 5, "dieci": 10,
    "dois": 2, "duas": 2, "três": 3, "oito": 8, "dez": 10,
}  # fmt: skip
TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
              "seventy": 70, "eighty": 80, "ninety": 90, "zwanzig": 20, "dreißig": 30, "vingt": 20,
              "trente": 30, "veinte": 20, "treinta": 30}  # fmt: skip
SCALE_WORDS = {"hundred": 100, "thousand": 1000, "grand": 1000, "hundert": 100, "tausend": 1000,
               "mille": 1000, "cien": 100}  # fmt: skip
FUZZY_COUNTS = {"couple": 2, "a couple": 2, "a couple of": 2, "a few": 3, "few": 3,
                "a dozen": 12, "dozen": 12, "half a dozen": 6}  # fmt: skip
FRACTION_WORDS = {"half": 0.5, "a half": 0.5, "a third": 1 / 3, "one third": 1 / 3, "two thirds": 2 / 3,
                  "a quarter": 0.25, "one quarter": 0.25, "three quarters": 0.75}  # fmt: skip

# Units, each folded to one name; the question's unit decides which are compatible.
UNIT_NAMES: dict[str, tuple[str, ...]] = {
    "years": ("years", "year", "yrs", "yr", "y", "jahre", "jahren", "jahr", "ans", "an", "années",
              "annees", "années", "años", "anos", "año", "ano", "anni", "anno", "jaar"),
    "months": ("months", "month", "mos", "mo", "monate", "monaten", "monat", "mois", "meses", "mes", "mesi"),
    "weeks": ("weeks", "week", "wks", "wk", "wochen", "woche", "semaines", "semanas", "settimane"),
    "days": ("days", "day", "tage", "tagen", "jours", "días", "dias", "giorni"),
    "hours": ("hours", "hour", "hrs", "hr", "h", "std", "stunden", "stunde", "heures", "heure",
              "horas", "hora", "ore", "uur"),
    "minutes": ("minutes", "minute", "mins", "min", "minuten", "m"),
    "percent": ("%", "percent", "per cent", "pct", "prozent", "pour cent", "por ciento", "por cento",
                "percento"),
    "usd": ("usd", "us dollars", "dollars", "dollar", "bucks", "$", "us$"),
    "currency": (),  # every word of CURRENCIES but the US dollar's (below)
    "clients": ("clients", "client", "customers", "customer", "employers", "employer", "companies",
                "company", "contracts", "contract", "jobs", "job", "gigs", "gig", "kunden", "kunde",
                "clientes", "cliente", "firms", "firm", "agencies", "agency", "businesses", "accounts", "internships",
                "internship", "apprenticeships", "apprenticeship"),
    "thousand": ("k", "thousand", "grand", "tausend"),
    "lakh": ("lakh", "lakhs", "lac", "lacs"),  # Indian scales, of rupees unless said otherwise
    "crore": ("crore", "crores"),
}  # fmt: skip
# Amount scales after a number: "5k", "1.5 lakh" (100,000), "2 crore" (10,000,000).
SCALES = {"thousand": (1_000, "USD"), "lakh": (100_000, "INR"), "crore": (10_000_000, "INR")}
# Currencies as people write them, by ISO 4217 code; "?" where a word names several ("pesos",
# "kr", "¥"). Words that are also common English ("real", "try", "php", "cop", "dong", "rm")
# are left out: an amount is read in them only with the code the person wrote ("BRL").
CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": UNIT_NAMES["usd"],
    "EUR": ("eur", "euros", "euro", "€"),
    "GBP": ("gbp", "pounds", "pound", "quid", "£", "pounds sterling", "sterling"),
    "INR": ("inr", "rupees", "rupee", "₹", "rs"),
    "JPY": ("jpy", "yen"),
    "CNY": ("cny", "yuan", "rmb", "renminbi"),
    "CHF": ("chf", "swiss francs", "francs", "franken"),
    "CAD": ("cad", "canadian dollars", "c$", "ca$"),
    "AUD": ("aud", "australian dollars", "a$", "au$"),
    "NZD": ("nzd", "new zealand dollars", "nz$"),
    "SGD": ("sgd", "singapore dollars", "s$"),
    "HKD": ("hkd", "hong kong dollars", "hk$"),
    "SEK": ("sek", "swedish kronor", "kronor"),
    "NOK": ("nok", "norwegian kroner"),
    "DKK": ("dkk", "danish kroner"),
    "ISK": ("isk",),
    "PLN": ("pln", "zloty", "zlotys", "złoty", "zł"),
    "CZK": ("czk", "koruna", "korun"),
    "HUF": ("huf", "forint", "forints"),
    "RON": ("ron", "lei"),
    "BRL": ("brl", "reais", "r$"),
    "MXN": ("mxn", "mexican pesos"),
    "ZAR": ("zar", "rand"),
    "KRW": ("krw", "won", "₩"),
    "ILS": ("ils", "shekels", "shekel", "nis", "₪"),
    "IDR": ("idr", "rupiah"),
    "THB": ("thb", "baht", "฿"),
    "MYR": ("myr", "ringgit"),
    "PHP": ("philippine pesos", "₱"),
    "TRY": ("turkish lira", "lira", "₺"),
    "NGN": ("ngn", "naira", "₦"),
    "PKR": ("pkr", "pakistani rupees"),
    "KES": ("kes", "ksh", "kenyan shillings"),
    "RUB": ("rub", "rubles", "roubles", "₽"),
    "UAH": ("uah", "hryvnia", "hryvnias", "₴"),
    "EGP": ("egp", "egyptian pounds"),
    "BDT": ("bdt", "taka"),
    "AED": ("aed", "dirhams", "dirham"),
    "SAR": ("sar", "riyals", "riyal"),
    "VND": ("vnd",),
    "ARS": ("ars", "argentine pesos"),
    "CLP": ("clp", "chilean pesos"),
    "LKR": ("lkr",),
    "GHS": ("ghs", "cedis"),
    "?": ("pesos", "kr", "kroner", "¥"),
}  # fmt: skip
CURRENCY_OF = {word: code for code, words in CURRENCIES.items() for word in words}
UNIT_NAMES["currency"] = tuple(w for w, code in CURRENCY_OF.items() if code != "USD")
_UNIT_OF = {word: unit for unit, words in UNIT_NAMES.items() for word in words}


def _alternatives(words: Iterable[str]) -> str:
    """Words as a regular expression's alternatives, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _is_sign(word: str) -> bool:
    return word.endswith("$") or (len(word) == 1 and not word.isalnum())


# Signs written before or after an amount ("€", "£"), and dollars with a country ("c$").
_SIGNS = "".join(w for w in CURRENCY_OF if len(w) == 1)
_SIGNED = _alternatives(w for w in CURRENCY_OF if w.endswith("$"))
COMPATIBLE = {
    "years": {"years", "months", "weeks"},
    "hours": {"hours", "minutes"},
    "clients": {"clients"},
    "percent": {"percent"},
    "usd": {"usd", "thousand"},
    "money": {"usd", "thousand", "currency", "lakh", "crore"},  # any currency, converted
}
# Words that may follow an amount without making it a count of something else
# ("3 dogs" is not three clients; "3 i guess" is three).
FOLLOWERS = word_set(
    """and but or so because cause coz cuz since with to then in this last past per a an of total
    overall now currently at more less max tops maybe roughly approx approximately about around
    ish i guess think suppose probably perhaps or so give take i'd id say like tho though
    actually really honestly tbh lol haha yes yeah yep no not for on from by each every
    already only just until till right now this these those my our it its it's is are was were be
    been being counting including incl excluding plus hopefully if when the que de en et und y e
    ou oder o pro je por par all during throughout while over"""
)  # fmt: skip
HEDGES = (
    "i guess", "i think", "i suppose", "i believe", "i'd say", "id say", "i would say", "i reckon",
    "probably", "maybe", "perhaps", "roughly", "about", "around", "approximately", "approx",
    "circa", "ca.", "ca", "something like", "more like", "more or less", "give or take", "or so",
    "ish", "kinda", "kind of", "sort of", "sorta", "pretty much", "basically", "honestly", "tbh",
    "i'd guess", "at a guess", "ungefähr", "etwa", "environ", "más o menos", "unos", "unas", "circa",
)  # fmt: skip
_CORRECTION = re.compile(
    r"\b(?:no wait|wait|actually|i mean|sorry|correction|make (?:that|it)|scratch that|or rather|"
    r"rather|oops|err|erm|on second thought|i meant)\b|,\s*no,"
)
_QUALIFIER = re.compile(
    r"\b(?:but|though|although|except|excluding|including|incl|of (?:which|them|those|whom)|"
    r"whereof|mostly|mainly|with (?:one|1)|(?:one|1) (?:big|main|major|large|of them))\b|\("
)
# A negation right before an amount ("not 3", "never even 2"): a question back, not a value.
_NOT = re.compile(
    r"(?:\b(?:not|never|nor)|n't)\s+(?:even\s+|more than\s+|over\s+|quite\s+|exactly\s+|really\s+)?$"
)
_ARTICLE_UNIT = re.compile(
    r"\b(?:a|an|one)\s+(?=(?:hour|year|month|week|day|client|employer|customer|job|gig)s?\b)"
)

# 12,345 and 1,500.50 group thousands; 2,5 is a decimal comma; .78 is a decimal.
NUM = r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|\d+(?:[.,]\d+)?|[.,]\d+)(?![\d])"
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def to_float(token: str) -> float:
    """A number written with a decimal point, a decimal comma or thousands commas."""
    if _GROUPED.fullmatch(token):
        return float(token.replace(",", ""))
    token = token.replace(",", ".")
    return float("0" + token if token.startswith(".") else token)


@functools.lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Fold a message for parsing: lower case, NFKC, straight quotes, emoji read or dropped.
    Cached: a turn folds the same message several times (reading, intents, follow-ups)."""
    text = clean(text)
    text = _STARS.sub(lambda m: f" {_stars(m.group())} ", text)
    text = unicodedata.normalize("NFKC", text)
    for old, new in _SPACED.items():
        text = text.replace(old, new)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    out: list[str] = []
    for ch in text:
        if ch in EMOJI_WORDS:
            out.append(EMOJI_WORDS[ch])
        elif unicodedata.category(ch) in ("So", "Sk", "Mn", "Me", "Cf", "Co", "Cn", "Cs"):
            out.append(" ")
        else:
            out.append(ch)
    text = "".join(out).lower()
    # "3+", "3ish", "<1%", "10h/week": the amount without its decoration.
    text = re.sub(r"(\d)\s*\+(?!\d)", r"\1", text)
    text = re.sub(r"(\d)-?ish\b", r"\1", text)
    text = re.sub(r"(?<![\w<>])<\s*(?=\d)", " under ", text)
    text = re.sub(r"(?<![\w<>])>\s*(?=\d)", " over ", text)
    return re.sub(r"\s+", " ", text).strip(" \t.!")


def _stars(run: str) -> str:
    full = sum(1 for ch in run if ch in "\u2605\u2b50\U0001f31f")
    empty = run.count("\u2606")
    return f"{full}/{full + empty}" if empty else f"{full}/5"


_HEDGE = re.compile(
    r"\b(?:" + "|".join(re.escape(h) for h in sorted(HEDGES, key=len, reverse=True)) + r")\b"
)


def strip_hedges(text: str) -> str:
    """The text without hedges ("i guess", "maybe", "-ish") that do not change the answer."""
    return re.sub(r"\s+", " ", _HEDGE.sub(" ", text)).strip(" ,.;:!?")


def unknown_prefix(text: str) -> str | None:
    """The rest of a normalized text that starts with "don't know" (None when it does not)."""
    found = _UNKNOWN.match(text)
    if found is None:
        return None
    return text[found.end() :].strip(" ,.;:!?-")


def is_unknown(text: str) -> bool:
    """Whether a normalized answer says only that the person does not know."""
    rest = unknown_prefix(text)
    return rest is not None and not re.search(r"\d", rest)


_FOR_NOW = re.compile(
    r"[,\s]+(?:yet|so far|for now|at the moment|right now|currently|thanks|thank you|really|at all|"
    r"honestly|tbh|lol|though|formal|formally|official|officially|as such|properly|in practice)$"
)


def is_none(text: str) -> bool:
    """Whether a normalized answer means none / zero ("none for now", "nobody yet", "0")."""
    core = strip_hedges(text).strip(" ,.!?")
    while _FOR_NOW.search(core):
        core = _FOR_NOW.sub("", core).strip(" ,.!?")
    if core in NONE_PHRASES or text in NONE_PHRASES:
        return True
    # "no, never", "nope, nothing formal": a no, then a none.
    said_no = re.match(r"(?:no|nope|nah)\b[,.!]?\s+(.+)$", core)
    rest = said_no.group(1) if said_no is not None else core
    return rest != core and (rest == "never" or is_none(rest))


def looks_like_code(text: str) -> bool:
    """Markup, code or shell fragments are not answers, whatever numbers they hold. A word
    and a bracket with a space between is prose ("zero (I just started)"), not a call."""
    return bool(
        re.search(
            r"<\s*/?\s*[a-z!]|[a-z_]{2,}\(|\$\(|\$\{|\{\{|\{%|;\s*--|\b(?:select|drop|delete|insert)\b"
            r".*\b(?:from|table|into)\b|\bjavascript:|\\x[0-9a-f]{2}",
            text,
        )
    )


_NUMBER_WORD = "|".join(
    re.escape(w) for w in sorted([*UNITS_WORDS, *TENS_WORDS, *SCALE_WORDS], key=len, reverse=True)
)
_WORD_RUN = re.compile(
    rf"(?<![\w-])(?:{_NUMBER_WORD})(?:(?:\s+and\s+|\s+|-)(?:{_NUMBER_WORD}))*(?![\w-])"
)


def prepared(text: str, what: str) -> str:
    """The normalized text, or `Unclear` when it is empty or looks like code."""
    folded = normalize(text)
    if not folded:
        raise Unclear(f"I did not find {what} there.")
    if looks_like_code(folded):
        raise Unclear(f"I could not read {clean(text)[:60]!r} as {what}.")
    return folded


def words_to_numbers(text: str, counts: bool = True) -> str:
    """Spell number words as digits: "two and a half years" -> "2.5 years", "a dozen" -> "12";
    `counts` also reads "a couple" as 2 and "a few" as 3 (not for shares)."""
    if counts:  # "a couple hundred": 200 ("a few hundred" is too vague to guess at)
        text = re.sub(
            r"\b(?:a )?couple(?: of)? (hundred|thousand|grand)\b",
            lambda m: f"{200 if m[1] == 'hundred' else 2000}",
            text,
        )
    for phrase, value in sorted(FUZZY_COUNTS.items(), key=lambda kv: -len(kv[0])):
        if counts or "dozen" in phrase:
            text = re.sub(rf"\b{phrase}\b(?: of\b)?", f" {value} ", text)
    text = re.sub(r"\bhalf an? (?=\w)", "0.5 ", text)  # after "half a dozen"
    text = re.sub(r"\ban? (?=(?:hundred|thousand|grand)\b)", "one ", text)
    text = re.sub(r"\bhalf a decade\b", "5 years", text)
    text = re.sub(r"\b(?:a|one) decade\b", "10 years", text)
    text = re.sub(r"\btwo decades\b", "20 years", text)
    text = _WORD_RUN.sub(lambda m: _run_value(m.group()), text)
    # "an hour a day" is one hour per day: an article counts, unless it follows an amount (a rate).
    parts: list[str] = []
    last = 0
    for match in _ARTICLE_UNIT.finditer(text):
        before = "".join(parts) + text[last : match.start()]
        parts.append(text[last : match.start()])
        parts.append(match.group() if _after_amount(before) else "1 ")
        last = match.end()
    text = "".join(parts) + text[last:]
    text = re.sub(r"\b(\d+(?:\.\d+)?) and a half\b", lambda m: f"{float(m.group(1)) + 0.5:g}", text)
    text = re.sub(
        r"\b(\d+(?:\.\d+)?) (years?|hours?|months?|weeks?|days?) and a half\b",
        lambda m: f"{float(m.group(1)) + 0.5:g} {m.group(2)}",
        text,
    )
    text = re.sub(
        r"\b(\d+(?:\.\d+)?)\s+(?:and\s+)?0\.5\b", lambda m: f"{float(m.group(1)) + 0.5:g}", text
    )
    return re.sub(r"\s+", " ", text).strip()


def _run_value(run: str) -> str:
    # "and" joins the parts of one number only after a scale ("a hundred and fifty"): "two
    # and three" stays two numbers.
    pieces = re.split(r"\s+and\s+", run)
    merged = [pieces[0]]
    for piece in pieces[1:]:
        if re.search(r"(?:hundred|thousand|hundert|tausend|cent|mille|cien|mil)$", merged[-1]):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    out = []
    for part in merged:
        value = _words_value(re.split(r"\s+|-", part))
        out.append(f"{value:g}" if value is not None else part)
    return " and ".join(out)


def _after_amount(before: str) -> bool:
    """Whether `before` ends with an amount and its unit ("2 hours "), so an article is a rate."""
    return bool(re.search(r"\d\s*[^\W\d]*\s*$", before))


def _words_value(words: list[str]) -> float | None:
    total = current = 0.0
    seen = False
    for word in words:
        if word in UNITS_WORDS:
            current += UNITS_WORDS[word]
        elif word in TENS_WORDS:
            current += TENS_WORDS[word]
        elif word in SCALE_WORDS:
            scale = SCALE_WORDS[word]
            current = (current or 1) * scale
            if scale >= 1000:
                total += current
                current = 0
        else:
            continue
        seen = True
    return total + current if seen else None


@dataclass(frozen=True)
class Quantity:
    """One amount in a sentence: its value (or range), unit and where it was."""

    low: float
    high: float
    unit: str | None
    start: int
    end: int
    per: str | None = None  # "day", "week", "month", "year": a rate
    follower: str = ""  # the word right after it
    before: str = ""  # the word right before it
    currency: str | None = None  # an amount of money: its ISO code ("USD"), "?" when unclear

    @property
    def value(self) -> float:
        return (self.low + self.high) / 2


_PER = re.compile(
    r"\s*(?:/|(?:a|an|per|each|every|pro|par|por|al|a la|am|im|la)\s+|times a\s+)"
    r"\s*(day|night|evening|weekday|wk|week|month|mo|year|yr|tag|woche|monat|jahr|jour|semaine|mois|"
    r"día|dia|semana|mes)\b|\s*\b(daily|nightly|weekly|monthly|yearly|annually|a day|a week)\b|"
    r"\s*(?:on|every|each|per|a)\s+(weekdays?|workdays?|working days?|evenings?|nights?)\b"
)
_PER_NAMES = {"day": "day", "night": "day", "evening": "day", "weekday": "day", "daily": "day",
              "nightly": "day", "a day": "day", "tag": "day", "jour": "day", "día": "day", "dia": "day",
              "wk": "week", "week": "week", "weekly": "week", "a week": "week", "woche": "week",
              "semaine": "week", "semana": "week", "month": "month", "mo": "month", "monthly": "month",
              "monat": "month", "mois": "month", "mes": "month", "year": "year", "yr": "year",
              "yearly": "year", "annually": "year", "jahr": "year"}  # fmt: skip
_UNIT_WORD = _alternatives(w for w in _UNIT_OF if not _is_sign(w))
# Codes written before an amount ("EUR 300"); not the ones that are also words ("ron", "won").
_CODES_BEFORE = "|".join(
    w for w, code in CURRENCY_OF.items() if len(w) == 3 and w == code.lower() and w != "ron"
)
_SIGN = rf"(?:{_SIGNED}|[{_SIGNS}])"
# Money in running text, for finding it elsewhere (what is masked before a language model):
# a sign, a code before an amount, or any currency word after one.
MONEY_SIGN = _SIGN
MONEY_SIGN_CHARS = _SIGNS
CURRENCY_BEFORE = rf"(?:{_CODES_BEFORE}|rs)"
CURRENCY_AFTER = _alternatives(w for w in CURRENCY_OF if not _is_sign(w))
_QTY = re.compile(
    rf"(?P<pre>{_SIGN}\s?|(?:{_CODES_BEFORE}|rs)\s*)?(?P<a>{NUM})"
    rf"(?:\s*(?:-|to|or|bis|à|a)\s*(?P<pre2>{_SIGN}\s?)?(?P<b>{NUM}))?"
    rf"(?:\s*(?P<unit>[%{_SIGNS}]|(?:{_UNIT_WORD})\b))?"
)
_MONEY_AFTER_K = re.compile(  # "5k euros", "2k€"
    rf"\s*({_SIGN}|(?:{_alternatives(w for w in CURRENCY_OF if not _is_sign(w))})(?!\w))"
)
_RS_DOT = re.compile(r"\brs\.\s*(?=\d)")
_GROUPS = r"\d{1,3}(?: \d{3})+(?![\d.,]\d)"
_SPACED_BEFORE = re.compile(rf"(?<![\d.,])({_GROUPS})(?=\s*(?:{_SIGN}|(?:{CURRENCY_AFTER})\b))")
_SPACED_AFTER = re.compile(rf"((?:{_SIGN}|\b{CURRENCY_BEFORE})\s*)({_GROUPS})")


def _currency(before: str, after: str) -> str | None:
    """The currency of an amount from the sign or code before it and the word after it: the
    word is the more specific ("$500 CAD", "¥500 JPY"); "?" when only an ambiguous one."""
    codes = [CURRENCY_OF.get(after), CURRENCY_OF.get(before)]
    return next((c for c in codes if c and c != "?"), None) or next((c for c in codes if c), None)


def join_spaced_thousands(text: str) -> str:
    """ "20 000 rupees", "€ 12 000": spaces that group thousands of an amount of money, joined
    (only beside a currency: "100 200" alone may be two amounts)."""
    if " " not in text:
        return text
    text = _SPACED_BEFORE.sub(lambda m: m.group(1).replace(" ", ""), text)
    return _SPACED_AFTER.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)


_BETWEEN = re.compile(rf"\bbetween\s+({NUM})\s+and\s+({NUM})")


def quantities(text: str) -> list[Quantity]:
    """Every amount in a normalized text, with its unit, rate and neighbouring words."""
    text = _BETWEEN.sub(lambda m: f"{m.group(1)}-{m.group(2)}", text)
    text = _RS_DOT.sub("rs ", text)  # "rs.5000"
    found: list[Quantity] = []
    for match in _QTY.finditer(text):
        try:
            low = to_float(match.group("a"))
            high = to_float(match.group("b")) if match.group("b") else low
        except ValueError:
            continue
        if not (math.isfinite(low) and math.isfinite(high)):
            low = high = math.inf
        unit_word = match.group("unit") or ""
        prefix = (match.group("pre") or match.group("pre2") or "").strip()
        unit = _UNIT_OF.get(unit_word) or _UNIT_OF.get(prefix)
        currency = _currency(prefix, unit_word)
        if high < low:  # "5-3" is not a range
            continue
        end = match.end()
        if unit in SCALES:
            factor, usual = SCALES[unit]
            low, high = low * factor, high * factor
            after_k = _MONEY_AFTER_K.match(text, end)
            currency = CURRENCY_OF.get(prefix) or usual
            if after_k:
                currency = _currency(prefix, after_k.group(1)) or usual
                end = after_k.end()
        if currency is not None:
            unit = "usd" if currency == "USD" else "currency"
        per_match = _PER.match(text, end)
        per = None
        if per_match:
            per = _PER_NAMES.get(per_match.group(1) or per_match.group(2) or "", "day")
            end = per_match.end()
        follower = re.match(r"\s*([^\W\d]+(?:'[a-z]+)?)", text[end:])
        before = re.search(r"([^\W\d]+(?:'[^\W\d]+)?)\W*$", text[: match.start()])
        found.append(
            Quantity(
                low=low,
                high=high,
                unit=unit,
                start=match.start(),
                end=end,
                per=per,
                follower=follower.group(1) if follower else "",
                before=before.group(1) if before else "",
                currency=currency,
            )
        )
    return found


def pick(text: str, unit: str | None, what: str = "an amount") -> Quantity | None:
    """The one amount in `text` that answers a question in `unit`, or None when there is none.

    Corrections count ("3, no wait, 4" is 4); qualifiers do not ("two, but one big one" is 2;
    "5, 2 of them recurring" is 5); amounts of something else ("2 kids", "in 2025") are set
    aside; two different candidates left over are a question back, never a guess.
    """
    candidates = quantities(text)
    if not candidates:
        return None
    corrections = [m.end() for m in _CORRECTION.finditer(text)]
    if corrections and any(q.start >= corrections[-1] for q in candidates):
        candidates = [q for q in candidates if q.start >= corrections[-1]]
    qualifier = _QUALIFIER.search(text)
    if qualifier and any(q.end <= qualifier.start() for q in candidates):
        candidates = [q for q in candidates if q.end <= qualifier.start()]
    candidates = [q for q in candidates if not _counts_something_else(q, text, unit)]
    compatible = COMPATIBLE.get(unit or "", set())
    matching = [q for q in candidates if q.unit in compatible]
    if matching:
        candidates = matching
    if not candidates:
        raise Unclear(f"I could not tell which number in your answer is {what}.")
    values = {(q.low, q.high, q.unit, q.per) for q in candidates}
    if len(values) > 1:
        shown = " and ".join(dict.fromkeys(_show(q) for q in candidates))
        raise Unclear(f"I see more than one number ({shown}); which one is {what}?")
    chosen = candidates[0]
    if _NOT.search(text[: chosen.start]):
        raise Unclear("I could not tell the amount from your answer; please give a number.")
    return chosen


def _counts_something_else(q: Quantity, text: str, unit: str | None) -> bool:
    """Whether an amount counts something other than what was asked ("2 kids", "since 2019")."""
    if (
        1900 <= q.low <= 2100
        and q.low == q.high
        and q.before
        in ("in", "since", "from", "until", "till", "by", "of", "seit", "depuis", "desde")
    ):
        return True
    if q.before in ("last", "past", "next") and q.per is None:
        return True  # "in the last 12 months" restates the question
    if re.match(r"\s*(?:years? )?old\b", text[q.end :]) or (
        q.unit is None and q.before in ("im", "i'm", "am", "aged", "age")
    ):
        return True  # an age
    if re.match(r"\s*(?:of|out of) (?:them|which|those|whom|these)\b", text[q.end :]):
        return True  # "2 of them recurring" describes part of the answer
    if q.unit is not None:
        return unit is not None and q.unit not in COMPATIBLE.get(unit, {unit})
    follower = q.follower
    return bool(follower) and follower not in FOLLOWERS and follower not in _UNIT_OF


def _show(q: Quantity) -> str:
    shown = f"{q.low:g}" if q.low == q.high else f"{q.low:g}-{q.high:g}"
    if q.unit in _SPANS:  # "6 months and 4 years", not "6 and 4"
        return f"{shown} {q.unit.removesuffix('s') if q.high == 1 else q.unit}"
    return shown + ("%" if q.unit == "percent" else "")


_SPANS = frozenset({"years", "months", "weeks", "days", "hours", "minutes"})


def is_typo(typed: str, known: str) -> bool:
    """Whether `typed` is `known` with one slip: two letters swapped, one letter missing or
    extra (five letters at least), one letter wrong (seven at least), or a long name that
    is nearly the same. "dokcer" is Docker; "stars" is not "stats", nor "same" "sme"."""
    a, b = typed.lower(), known.lower()
    if a == b:
        return True
    shortest = min(len(a), len(b))
    if shortest < 4 or len(a) < 5:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        ):
            return True
        if len(diff) == 1:
            return len(a) >= 7
    elif abs(len(a) - len(b)) == 1:
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        if any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer))):
            return True
    import difflib

    if a in b or b in a:  # a part of a longer name is no typo ("engineer")
        return False
    return shortest >= 8 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def tokens(text: str) -> list[str]:
    """Words of a normalized text (letters and digits; "c++", "a/b" and "w&b" kept whole)."""
    return re.findall(r"[^\W_]+(?:[+#]+|[&/][^\W_]+)*", text)


def stem(word: str) -> str:
    """A crude stem for matching: plural and common endings off ("videos" -> "video")."""
    for ending in ("ies", "es", "s"):
        if len(word) > len(ending) + 2 and word.endswith(ending) and not word.endswith("ss"):
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


def any_in(words: Iterable[str], text: str) -> bool:
    return any(w in text and re.search(rf"\b{re.escape(w)}\b", text) for w in words)
