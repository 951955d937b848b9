"""Minimise and redact what is sent to a remote model: no income figures, client names,
e-mail addresses or secrets. Scores and skill names may go; money and people may not.

What is masked (tests/agent/data/redaction.yaml is the corpus that holds it to this):
- secrets: API-token shapes (OpenAI, GitHub, Hugging Face, AWS, GitLab, Slack, Telegram,
  Google, JWTs, long random strings) and whatever follows "password", "token", "api key"...;
- e-mail addresses;
- amounts of money: with a currency before or after ("$12,000", "12 000 EUR", "4 500 €"),
  thousands ("5k") and rates ("95/hour", "40 an hour"), and bare amounts in a sentence about
  earning, paying, charging, billing, invoicing, income, rates or budgets ("I earn 80000");
- client names: the names after "client(s)/customer(s)", before "is my client", after "work
  for" or "billed ... to", company names ("Wayne Enterprises", "Globex GmbH"), and every
  other occurrence of those names in the same text, plus the names passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from agent.text_values import CURRENCY_AFTER, CURRENCY_BEFORE, MONEY_SIGN, MONEY_SIGN_CHARS

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SECRET = re.compile(
    r"(?<![\w-])(?:"
    r"sk-(?:proj-|ant-|live-|test-|svcacct-)?[A-Za-z0-9_-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|hf_[A-Za-z0-9]{20,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\d{6,}:[A-Za-z0-9_-]{30,}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|(?=[A-Za-z0-9/+]*\d)(?=[A-Za-z0-9/+]*[A-Za-z])[A-Za-z0-9/+]{32,}={0,2}"
    r")(?![\w-])"
)
# "password hunter2", "pwd: x", "my token is abc", "api key = ...": the value after the word.
_SECRET_WORD = re.compile(
    r"(?i)\b((?:pass(?:word|wd|phrase)|pwd|pin code|secret(?: key)?|access key|api[ _-]?key|"
    r"(?:auth |access |api |bot )?token))"
    r"(\s*(?:is|was|=|:)\s*|\s+)(?!\[secret\])([^\s,;]+)"
)
_NOT_SECRET = frozenset(
    {"a", "an", "the", "my", "your", "and", "or", "for", "to", "of", "in", "it", "is"}
)

# Money ---------------------------------------------------------------------------------------
_CURRENCY_SIGN = MONEY_SIGN
# Before an amount: codes ("EUR 300") and the common names; after one, every currency word
# the interview reads ("300 zloty"), but not before ("won 2 competitions" is no amount).
_CURRENCY_WORD = rf"(?:{CURRENCY_BEFORE}|dollars?|euros?|pounds?|bucks|francs?|rupees?)"
_CURRENCY_WORD_AFTER = rf"(?:{CURRENCY_AFTER})"
_AMOUNT = (
    r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?!\d)"  # 12 000 (spaces group thousands)
    r"|\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?(?!\d)"  # 12,000 / 4.500 / 1,500.50
    r"|\d+(?:[.,]\d+)?"
)
_SCALE = r"(?:\s?(?:k|K|m|M|mn|bn)(?![\w])|\s(?:thousand|million|lakhs?|lacs?|crores?)\b)?"
_PERIOD = r"(?:/|\bper\s|\ban?\s)\s?(?:hour|hr|h|day|week|month|year|yr|annum)\b"
MONEY = re.compile(
    rf"(?:{_CURRENCY_SIGN}|\b{_CURRENCY_WORD}\b\.?)\s?(?:{_AMOUNT}){_SCALE}"
    rf"|(?<![\w.,])(?:{_AMOUNT}){_SCALE}\s?(?:{_CURRENCY_SIGN}|\b{_CURRENCY_WORD_AFTER}(?!\w))"
    rf"|(?<![\w.,/])(?:\d{{2,}}(?:[.,]\d+)?|\d+(?:[.,]\d+)?\s?[kK])\s?{_PERIOD}",
    re.IGNORECASE,
)
_MONEY_WORDS = re.compile(
    r"(?i)\b(?:earn\w*|income|revenue|salar\w*|paid|pays?|paying|payment\w*|charg\w*|bill\w*|"
    r"invoic\w*|fees?|turnover|wages?|made|make|making|budget\w*|prices?|priced|costs?|"
    r"spen[dt]\w*|profits?|quoted?|retainer|worth|"
    r"(?:day|hourly|daily|weekly|monthly|my|our|your|freelance)\s+rates?|rates?\s+(?:is|are|was|of))\b"
)
_BARE = re.compile(
    rf"(?<![\w.,:/{MONEY_SIGN_CHARS}-])(?:{_AMOUNT})(?:\s?(?:[kK]|m|M|mn|bn)(?![\w]))?(?![\w%/]|[.,:-]\d)"
)
_SCALE_BEFORE = re.compile(r"(?i)(?:out of|/)\s*$")
_NOT_MONEY_AFTER = re.compile(
    r"\s*(?:%|percent|per ?cent|years?|yrs?|months?|weeks?|days?|hours?|hrs?|h\b|minutes?|mins?|"
    r"clients?|customers?|projects?|people|employees|times|x\b|skills?|models?|repos?|stars?|"
    r"followers?|ms\b|s\b|gb|mb|tb|out of|/)",
    re.IGNORECASE,
)
_YEAR_BEFORE = re.compile(r"(?i)\b(?:in|since|from|until|till|by|of|year|during)\s+$")
_SENTENCE_END = re.compile(r"[.;!?\n]+(?:\s|$)")

# Client names ----------------------------------------------------------------------------------
_NAME = r"[A-Z](?!\b)[\w&'-]*"  # a capitalised word of two letters or more (not "I")
_NAMES = rf"{_NAME}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s+(?:of\s+)?){_NAME})*"
_CLIENT_WORD = r"\b(?:[Cc]lient|[Cc]ustomer|CLIENT|CUSTOMER)[sS]?(?:'s)?"
CLIENT_MENTION = re.compile(
    rf"({_CLIENT_WORD}(?:\s+(?:is|are|was|were|called|named|like|such as|including|include|incl\.))?[\s:,]+)"
    rf"({_NAMES})"
)
_CLIENT_LIST = re.compile(rf"{_CLIENT_WORD}\s*:\s*([^.;\n]+)")  # "Customers: acme corp and globex"
_CLIENT_BEFORE = re.compile(
    rf"((?:{_NAME}\s+){{0,3}}{_NAME})(?:\s+(?:is|are|was|were|has been|have been)|,)\s+"
    r"(?:my|our|a|one of my|one of our)\s+(?:\w+\s+){0,2}(?:client|customer)s?\b"
)
_WORK_FOR = re.compile(
    r"(?i:\b(?:(?:work(?:s|ed|ing)?|freelanc\w*)(?:\s+\w+ly)?\s+for"
    r"|(?:contract|consult)\w*(?:\s+\w+ly)?\s+(?:for|with))\s+)"
    rf"({_NAMES})"
)
_BILLED_TO = re.compile(
    rf"(?i:\b(?:bill\w*|invoic\w*|charg\w*|paid|sold)\b[^.;\n]{{0,60}}?\b(?:to|by|from)\s+)({_NAMES})"
    rf"|(?i:\b(?:bill|invoic)\w*\s+)({_NAMES})"
)
_COMPANY = re.compile(
    rf"\b((?:{_NAME}\s+){{1,3}}(?:Corp\.?|Corporation|Inc\.?|GmbH|Ltd\.?|LLC|S\.?A\.?|SAS|AG|"
    r"B\.?V\.?|Limited|Enterprises|Holdings|Group|Industries|Technologies|Systems|Partners|Labs?|Co\.))(?![\w])"
)
_SUFFIX = re.compile(
    r"\s+(?:Corp\.?|Corporation|Inc\.?|GmbH|Ltd\.?|LLC|S\.?A\.?|SAS|AG|B\.?V\.?|Limited|"
    r"Enterprises|Holdings|Group|Industries|Technologies|Systems|Partners|Labs?|Co\.)$"
)
_NOT_NAMES = frozenset(
    {"i", "my", "our", "the", "a", "an", "and", "of", "last", "this", "next", "they", "we",
     "he", "she", "it", "mostly", "mainly", "also", "then", "since", "in", "for", "to", "by"}
)  # fmt: skip

# Profile keys whose values never leave the machine.
PRIVATE_KEYS = frozenset(
    {"income", "amount", "client", "clients", "client_names", "email", "token", "key", "link"}
)


def mask_secrets(text: str) -> str:
    """Mask the value after words like "password" or "token is"."""

    def replace(match: re.Match[str]) -> str:
        value = match.group(3)
        if value.lower().strip(".") in _NOT_SECRET or len(value) < 3:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}[secret]"

    return _SECRET_WORD.sub(replace, text)


def money_spans(text: str) -> list[tuple[int, int]]:
    """Where amounts of money are in `text`: marked ones anywhere, bare ones in money talk."""
    spans = [(m.start(), m.end()) for m in MONEY.finditer(text)]
    start = 0
    for end_match in [*_SENTENCE_END.finditer(text), None]:
        end = end_match.start() if end_match else len(text)
        sentence = text[start:end]
        if _MONEY_WORDS.search(sentence):
            for m in _BARE.finditer(sentence):
                a, b = start + m.start(), start + m.end()
                if any(x <= a < y or x < b <= y for x, y in spans):
                    continue
                token = m.group(0)
                whole = re.sub(r"\D", "", re.split(r"[.,](?=\d{1,2}\D*$)", token)[0])
                small = token[-1].isdigit() and len(whole) < 2
                if small or _NOT_MONEY_AFTER.match(text, b) or _SCALE_BEFORE.search(text[:a]):
                    continue
                if re.fullmatch(r"(?:19|20)\d\d", m.group(0)) and _YEAR_BEFORE.search(text[:a]):
                    continue
                spans.append((a, b))
        start = end_match.end() if end_match else len(text)
    return sorted(spans)


def _mask_spans(text: str, spans: list[tuple[int, int]], mark: str) -> str:
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + mark + text[b:]
    return text


def _split_names(names: str) -> list[str]:
    parts = re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*(?=[A-Z])|\s*/\s*", names.strip())
    kept = []
    for part in parts:
        words = part.strip(" .'\"").split()
        while words and words[0].lower() in _NOT_NAMES:
            words = words[1:]
        name = " ".join(words)
        if len(name) >= 2 and name.lower() not in _NOT_NAMES:
            kept.append(name)
    return kept


def client_names(text: str) -> list[str]:
    """The names `text` gives as clients or customers (its own words, any case)."""
    found: list[str] = []
    for pattern in (CLIENT_MENTION, _WORK_FOR, _BILLED_TO):
        for m in pattern.finditer(text):
            found += _split_names(m.group(m.lastindex or 1))
    for m in _CLIENT_BEFORE.finditer(text):
        found += _split_names(m.group(1))
    for m in _CLIENT_LIST.finditer(text):
        found += _split_names(m.group(1))
    for m in _COMPANY.finditer(text):
        found += _split_names(m.group(1))
    # "Zyxcorp Holdings" is also "Zyxcorp" further on: the name without its company suffix.
    found += [core for name in found if (core := _SUFFIX.sub("", name).strip()) and len(core) >= 4]
    return list(dict.fromkeys(found))


def redact_text(text: str, names: Iterable[str] = (), mentions: bool = True) -> str:
    """Mask secrets, e-mail addresses, amounts of money and client names.

    `names` are known client names, masked wherever they appear. With `mentions`, the
    client names the text itself gives are found and masked everywhere in it too (people's
    words; our own texts, where "Client Management" is a skill, pass False).
    """
    text = SECRET.sub("[secret]", text)
    text = mask_secrets(text)
    text = EMAIL.sub("[e-mail]", text)
    found = client_names(text) if mentions else []
    text = _mask_spans(text, money_spans(text), "[amount]")
    every = {n.strip() for n in (*names, *found) if n and len(n.strip()) >= 2}
    for name in sorted(every, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[client]", text, flags=re.IGNORECASE)
    return text


def minimise(data: Any, names: Iterable[str] = (), mentions: bool = True) -> Any:
    """A copy of JSON-like data without private keys and with every string redacted."""
    names = list(names)
    if isinstance(data, dict):
        return {
            k: minimise(v, names, mentions)
            for k, v in data.items()
            if k.lower() not in PRIVATE_KEYS
        }
    if isinstance(data, list):
        return [minimise(v, names, mentions) for v in data]
    if isinstance(data, str):
        return redact_text(data, names, mentions)
    return data


# What the masks above leave in a text; a tool seeing one reads the person's own message.
PLACEHOLDERS = ("[secret]", "[e-mail]", "[amount]", "[client]")


def restore(answer: str, message: str) -> str:
    """Put back, for a local parser, the amounts and client names the model saw masked.

    The n-th "[amount]" in the model's `answer` becomes the n-th amount in the person's own
    `message`; secrets and e-mail addresses are never restored.
    """
    for placeholder, found in (
        ("[amount]", [message[a:b] for a, b in money_spans(message)]),
        ("[client]", client_names(message)),
    ):
        for value in found:
            if placeholder not in answer:
                break
            answer = answer.replace(placeholder, value.strip(), 1)
    return answer
