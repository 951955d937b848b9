"""CV / resume connector: the skills a CV names, as weak self-claimed evidence.

Reads one .txt, .md or .pdf file (PDF through pypdf, at most `max_pages` pages and
`max_chars` characters of text). Every taxonomy skill named in the text (its name, id or
an alias; case-insensitive, whole words) gives one evidence item:

- source `self_rating`: a CV is the person's own claim, nothing in it is verified;
- strength 0.40; a stated duration next to the mention ("5 years of Python",
  "PyTorch (3 yrs)") adds 0.02 per year, at most +0.10 (so at most 0.50), because a duration
  is a slightly more specific claim but still only a claim;
- naming a skill many times does not raise the strength (that would reward keyword stuffing);
- `detail` quotes the matched phrase and a little of its context, truncated to 200 characters.

The text is data: nothing in it is followed, evaluated or templated. Aliases that are
mostly ordinary words in prose ("rest", "docs", "research") or two letters long ("cv",
"pm", "tf") are not matched in free text; see `AMBIGUOUS`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
import zlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.base import KnowledgeBase
from tools.connectors.base import MAX_FILE_BYTES, ConnectorResult, now, read_limited, read_text
from tools.connectors.text import Mention, PhraseMatcher, clip, mask_links
from tools.errors import ConnectorError
from tools.params import SourceKind
from tools.results import Evidence

NAME = "cv"
BASE_STRENGTH = 0.40
PER_YEAR = 0.02
MAX_YEARS_BONUS = 0.10
_YEARS_BEFORE = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\.?\s+(?:of\s+)?"
    r"(?:(?:hands[\s-]on|professional|commercial|industry|practical)\s+)?"
    r"(?:experience\s+)?(?:(?:with|in|using|of)\s+)?$",
    re.IGNORECASE,
)
_YEARS_AFTER = re.compile(
    r"^\s*(?:[:(,\-\u2013\u2014]\s*)?(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\b", re.IGNORECASE
)


class CVParams(BaseModel):
    """Where the CV is and how much of it to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    as_of: dt.date | None = Field(default=None, description="date of the claims; default today")
    max_bytes: int = Field(default=5_000_000, gt=0, le=MAX_FILE_BYTES)
    max_pages: int = Field(default=20, gt=0, le=500)
    max_chars: int = Field(default=200_000, gt=0, le=5_000_000)


def _pdf_errors() -> tuple[type[BaseException], ...]:
    from pypdf.errors import PyPdfError

    # pypdf reports damaged files through its own errors but also through plain ones raised
    # deep in its parser; all of them mean "this file cannot be read".
    return (
        PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, AssertionError,
        RecursionError, ZeroDivisionError, OverflowError, OSError, zlib.error, NotImplementedError,
    )  # fmt: skip


def read_pdf_text(
    data: bytes, label: str, params: CVParams, problems: list[str]
) -> tuple[str, int]:
    """Extract the text of a PDF page by page within the limits; return it and the pages read."""
    from pypdf import PasswordType, PdfReader

    pdf_log = logging.getLogger("pypdf")
    if not pdf_log.handlers:
        # With no handler configured anywhere, logging's last resort prints pypdf's repair
        # notes ("EOF marker not found") to the terminal beside our one-line message; a
        # configured log still receives them through propagation.
        pdf_log.addHandler(logging.NullHandler())
    errors = _pdf_errors()
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        total = 0 if locked else len(reader.pages)
    except errors as exc:
        raise ConnectorError(f"{label}: not a readable PDF ({type(exc).__name__})") from exc
    if locked:
        raise ConnectorError(f"{label}: the PDF is password-protected; save an unprotected copy")
    if total > params.max_pages:
        problems.append(f"{label}: only the first {params.max_pages} of {total} pages were read")
    parts: list[str] = []
    size = 0
    read = 0
    for number in range(min(total, params.max_pages)):
        read += 1
        try:
            page_text = reader.pages[number].extract_text() or ""
        except errors as exc:
            problems.append(f"{label}: page {number + 1} could not be read ({type(exc).__name__})")
            continue
        parts.append(page_text)
        size += len(page_text)
        if size >= params.max_chars:
            break
    return "\n".join(parts), read


_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n[ \t]*(?=[^\W\d_])")


def normalize_text(text: str) -> str:
    """Fold what PDFs and word processors print into plain words before matching.

    NFKC turns ligatures (U+FB01 "ﬁ", U+FB02 "ﬂ": "MLﬂow", "Airﬂow"), full-width letters and
    similar presentation forms into ordinary letters; a word hyphenated across a line end
    ("fore-\ncasting", "time-\nseries") is joined, keeping its hyphen, which the matcher
    ignores.
    """
    return _LINE_END_HYPHEN.sub("-", unicodedata.normalize("NFKC", text))


def _years_near(text: str, mention: Mention) -> float | None:
    """Return a duration stated right before or after a mention (a wrapped "(6\nyrs)" too)."""
    line_start = text.rfind("\n", 0, mention.start) + 1
    before = _YEARS_BEFORE.search(text[max(line_start, mention.start - 60) : mention.start])
    window = text[mention.end : mention.end + 30]
    if window.lstrip(" \t").startswith("("):  # a parenthesis wrapped onto the next line
        window = window.split(")", 1)[0].replace("\n", " ")
    after = _YEARS_AFTER.match(window.split("\n", 1)[0])
    found = before or after
    return float(found.group(1)) if found else None


def collect(params: CVParams, kb: KnowledgeBase) -> ConnectorResult:
    """Read a CV and return one self-claimed evidence item per taxonomy skill it names."""
    label = params.path.name
    problems: list[str] = []
    pages: int | None = None
    suffix = params.path.suffix.lower()
    if suffix == ".pdf":
        data = read_limited(params.path, params.max_bytes)
        text, pages = read_pdf_text(data, label, params, problems)
    elif suffix in (".txt", ".md", ".markdown", ""):
        text = read_text(params.path, params.max_bytes)
    else:
        raise ConnectorError(f"{label}: unsupported CV format {suffix!r}; use .pdf, .txt or .md")
    text = normalize_text(text)
    if len(text) > params.max_chars:
        problems.append(f"{label}: only the first {params.max_chars} characters were read")
        text = text[: params.max_chars]
    if not text.strip():
        raise ConnectorError(f"{label}: no text found (a scanned CV needs text recognition first)")
    text = mask_links(text)  # addresses stay out of the quoted context too
    as_of = params.as_of or now().date()
    first: dict[str, Mention] = {}
    counts: dict[str, int] = {}
    years: dict[str, float] = {}
    for mention in PhraseMatcher.for_skills(kb).find(text):
        first.setdefault(mention.ident, mention)
        counts[mention.ident] = counts.get(mention.ident, 0) + 1
        stated = _years_near(text, mention)
        if stated is not None and 0 < stated <= 50:
            years[mention.ident] = max(years.get(mention.ident, 0.0), stated)
    evidence = []
    for skill_id, mention in sorted(first.items()):
        bonus = min(MAX_YEARS_BONUS, PER_YEAR * years.get(skill_id, 0.0))
        context = text[max(0, mention.start - 60) : mention.end + 60]
        evidence.append(
            Evidence(
                skill=skill_id,
                source=SourceKind.SELF_RATING,
                strength=round(BASE_STRENGTH + bonus, 4),
                observed=as_of,
                origin=NAME,
                signal="cv_years" if skill_id in years else "cv_mention",
                detail=clip(f'CV mentions "{clip(mention.phrase, 60)}": "{clip(context, 150)}"'),
            )
        )
    summary = (
        f"The CV names {len(evidence)} skills from the taxonomy; they count as your own claims "
        "(weak evidence) until other sources back them."
        if evidence
        else "The CV names no skills from the taxonomy."
    )
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        problems=problems,
        data={
            "characters": len(text),
            "pages": pages,
            "skills": {s: {"mentions": counts[s], "years": years.get(s)} for s in sorted(first)},
        },
    )
