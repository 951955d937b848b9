"""Certificates connector: completed courses and certificates from a CSV export.

Reads LinkedIn Learning's `Learning.csv` (from a LinkedIn data archive; `N/A` marks an empty
date), LinkedIn's `Certifications.csv`, Coursera for Business "course activity" exports
(Course, Completed, Completion Time, Course Certificate URL; refused when they list several
learners), a Coursera list kept by hand and a generic CSV (name, provider, date, optional
skills and level). Column names match leniently; a file with none of them is refused with a
message naming the columns of each format.

Evidence, source `certificate`, one per (course, skill), observed on the completion date:

- strength from `ScoringParams.certificate_strength`: 0.55 by default, 0.40 when the level
  column or the title says beginner ("Introduction to", "Basics", "101", ...), 0.70 when it
  says advanced ("Advanced", "Mastering", ...);
- skills come from a skills column (resolved with `kb.fuzzy_skill`), from the title
  (n-grams of up to four words looked up with `kb.resolve_skill`, then `kb.fuzzy_skill` for
  typos) and, only when both find nothing, from an optional similarity function passed in
  (text -> [(skill id, score)]); a skill found only by similarity gets 0.8x the strength,
  because the link between course and skill is then a guess.

Only completed items count. Watched-but-unfinished items (and Coursera courses with some
progress) give no
evidence at all: watching part of a course shows interest, not proficiency, and counting it
even weakly would reward browsing. They are counted in `data["in_progress"]` so the planner
can suggest finishing them. Completed single videos (not courses) are counted, not used.

Dates are read leniently (`parse_date`): ISO, "Mar 15, 2024", "15 March 2024", "Mar 2024",
"15/03/2024". For numeric dates the day/month order is taken from the column (a value like
"15/03/2024" settles it); when nothing settles it, month-first is assumed and said so.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.base import KnowledgeBase
from knowledge.schema import Skill, normalize_name
from tools.connectors.base import ConnectorResult, now, read_text
from tools.connectors.text import AMBIGUOUS, clip, date_order, parse_date, sniff_delimiter
from tools.errors import ConnectorError
from tools.params import DEFAULT_PARAMS, ScoringParams, SourceKind
from tools.results import Evidence

NAME = "certificates"
SIMILARITY_DISCOUNT = 0.8
MAX_TYPO_LOOKUPS = 250  # distinct words looked up for typos per file (about 2 ms each)
SkillSimilarity = Callable[[str], list[tuple[str, float]]]

# Dates ---------------------------------------------------------------------------------------


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("contenttitle", "coursename", "coursetitle", "course", "certificatename",
              "certificate", "certificationname", "certification", "name", "title"),
    "completed": ("contentcompletedatifcompleted", "contentcompletedat", "completedat",
                  "completiondate", "completiontime", "completedon", "datecompleted",
                  "dateofcompletion",
                  "issuedate", "issuedon", "dateissued", "issued", "awardedon", "date"),
    "watched": ("contentlastwatcheddateifviewed", "lastwatched", "lastviewed", "lastaccessed"),
    "type": ("contenttype", "type"),
    "status": ("status", "completionstatus", "completed", "state"),
    "provider": ("provider", "issuer", "authority", "issuingorganization", "organization",
                 "organisation", "platform", "partner", "offeredby", "university",
                 "institution", "school"),
    "skills": ("skills", "skill", "skillsgained", "tags", "topics"),
    "level": ("level", "difficulty", "difficultylevel"),
    "link": ("certificateurl", "coursecertificateurl", "credentialurl", "verifyurl",
             "verificationurl", "certificatelink", "url", "link"),
    "progress": ("overallprogress", "progress", "percentcomplete", "completionpercentage"),
    "email": ("email", "emailaddress", "learneremail", "useremail"),
    "description": ("contentdescription", "description", "about", "summary"),
}  # fmt: skip
# What exports write in an empty date cell: LinkedIn writes N/A for anything not finished.
EMPTY_CELLS = frozenset({"", "n/a", "na", "-", "--", "none", "null", "nan", "not completed"})
_NOT_DONE = {"inprogress", "started", "notstarted", "enrolled", "no", "false", "0", "n",
             "incomplete", "notcompleted", "audit", "auditing", "withdrawn", "ongoing"}  # fmt: skip
_BEGINNER = re.compile(
    r"\b(beginners?|introduction|intro|introductory|basics|fundamentals|getting started|101)\b",
    re.IGNORECASE,
)
_ADVANCED = re.compile(r"\b(advanced|expert|mastering|masterclass|master class)\b", re.IGNORECASE)
_LEVELS = {"beginner": "beginner", "introductory": "beginner", "basic": "beginner",
           "intermediate": "intermediate", "mixed": "intermediate", "alllevels": "intermediate",
           "advanced": "advanced", "expert": "advanced"}  # fmt: skip
_STOP = {"and", "or", "of", "the", "for", "with", "in", "to", "a", "an", "on", "using", "your",
         "from", "by", "part", "course", "essential", "training", "certificate", "learning"}  # fmt: skip


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_key(h) for h in header]
    found: dict[str, int] = {}
    for field, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in keys and keys.index(alias) not in found.values():
                found[field] = keys.index(alias)
                break
    # LinkedIn's Certifications.csv: "Started On" is the issue date, "Finished On" the expiry.
    if "completed" not in found and "startedon" in keys and "authority" in keys:
        found["completed"] = keys.index("startedon")
    return found


def _readable(cols: dict[str, int]) -> bool:
    """A course name, and when it was completed (or last watched)."""
    return "title" in cols and ("completed" in cols or "watched" in cols)


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header is one this connector reads."""
    return _readable(_columns(header))


# Skills --------------------------------------------------------------------------------------


def _usable(skill: Skill | None, gram: str) -> bool:
    key = normalize_name(gram)
    return skill is not None and len(key) > 2 and key not in AMBIGUOUS


def _typo_of(skill: Skill, gram: str) -> bool:
    """Accept a fuzzy match only as a typo: about as long as one of the skill's names.

    Without this, "Engineering" would match "LLM Engineering" (a missing word, not a typo).
    """
    key = normalize_name(gram)
    names = [normalize_name(n) for n in (skill.id, skill.name, *skill.aliases)]
    closest = max(names, key=lambda n: difflib.SequenceMatcher(None, key, n).ratio())
    return abs(len(closest) - len(key)) <= 1 and closest not in AMBIGUOUS


# Names a skill has only on its own (`exact_names`: not matched in running text, where "I'm a
# machine learning engineer" or "excel at" mean no skill) that do name the subject of a course
# title. Left out: names that title other fields too ("Portfolio Management", "Smart Contracts",
# "Sales Forecasting", "Lightning Talks").
TITLE_EXACT = frozenset(
    normalize_name(n)
    for n in ("machine learning", "big data", "containers", "cloud", "privacy", "copyright",
              "excel", "analytics", "polars", "transformers", "react", "charts", "simulation")
)  # fmt: skip


class NameIndex:
    """Skill names folded once per export: exact n-gram lookups without a regex each time."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.names: dict[str, str] = {}
        for skill in kb.skills.values():
            for name in (skill.id, skill.name, *skill.aliases):
                self.names.setdefault(normalize_name(name), skill.id)
            for name in skill.exact_names:
                if normalize_name(name) in TITLE_EXACT:
                    self.names.setdefault(normalize_name(name), skill.id)
        # A gram can only be a name if its first word starts one: most positions stop here.
        self.prefixes = {key[:end] for key in self.names for end in range(1, len(key) + 1)}
        self.folded: dict[str, str] = {}

    def fold(self, token: str) -> str:
        if token not in self.folded:
            self.folded[token] = normalize_name(token)
        return self.folded[token]


def title_skills(
    title: str,
    kb: KnowledgeBase,
    memo: dict[str, str | None] | None = None,
    index: NameIndex | None = None,
) -> set[str]:
    """Map a course title to skill ids: exact n-grams first (longest wins), then typos.

    `memo` remembers typo lookups across titles: they cost milliseconds each, so at most
    MAX_TYPO_LOOKUPS are made per export. `index` folds names once per export.
    """
    memo = {} if memo is None else memo
    index = index or NameIndex(kb)
    tokens = [re.sub(r"'s$", "", t) for t in re.findall(r"[\w+#&/.'-]*\w[+#]*|&", title)]
    folded = [index.fold(t) for t in tokens]
    found: set[str] = set()
    used = [False] * len(tokens)
    i = 0
    while i < len(tokens):
        if folded[i] in index.prefixes:
            for n in (4, 3, 2, 1):
                if i + n > len(tokens):
                    continue
                key = "".join(folded[i : i + n])
                skill_id = index.names.get(key)
                if skill_id is not None and len(key) > 2 and key not in AMBIGUOUS:
                    found.add(skill_id)
                    used[i : i + n] = [True] * n
                    i += n - 1
                    break
        i += 1
    for n in (3, 2, 1):
        for i in range(len(tokens) - n + 1):
            window = tokens[i : i + n]
            if any(used[i : i + n]) or window[0].lower() in _STOP or window[-1].lower() in _STOP:
                continue
            key = "".join(folded[i : i + n])
            if len(key) < 6:
                continue
            if key not in memo:
                if len(memo) >= MAX_TYPO_LOOKUPS:
                    continue  # bounded: a few ms each, and a real export has far fewer words
                gram = " ".join(window)
                skill = kb.fuzzy_skill(gram, cutoff=0.88)
                typo = skill is not None and _usable(skill, gram) and _typo_of(skill, gram)
                memo[key] = skill.id if typo and skill is not None else None
            if (skill_id := memo[key]) is not None:
                found.add(skill_id)
                used[i : i + n] = [True] * n
    return found


EXPECTED = (
    "no course name and completion date columns found; expected one of: LinkedIn Learning "
    "(Content Title, Content Completed At (if completed)), LinkedIn Certifications (Name, "
    "Authority, Started On), Coursera for Business (Course, Completed, Completion Time), or a "
    "list of your own (name, date, optional provider, skills, level, url)"
)


def _started(progress: str) -> bool | None:
    """Whether a progress cell (0..1, 0..100 or "40%") shows any progress; None when absent."""
    text = progress.strip().rstrip("%")
    if not text:
        return None
    try:
        return float(text) > 0
    except ValueError:
        return _key(text) not in {"notstarted", "enrolled", "0"}


def _level(explicit: str, title: str) -> str:
    if (level := _LEVELS.get(_key(explicit))) is not None:
        return level
    if _ADVANCED.search(title):
        return "advanced"
    return "beginner" if _BEGINNER.search(title) else "intermediate"


# Collect -------------------------------------------------------------------------------------


class CertificatesParams(BaseModel):
    """Where the export is and how much of it to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    as_of: dt.date | None = Field(
        default=None, description="default today; later dates are refused"
    )
    max_bytes: int = Field(default=5_000_000, gt=0)
    max_rows: int = Field(default=10_000, gt=0)
    max_problems: int = Field(default=20, gt=0)
    similarity_threshold: float = Field(default=0.80, ge=0, le=1)


def collect(
    params: CertificatesParams,
    kb: KnowledgeBase,
    similar: SkillSimilarity | None = None,
    scoring: ScoringParams = DEFAULT_PARAMS,
) -> ConnectorResult:
    """Read a certificate or course export; return evidence for the completed items."""
    label = params.path.name
    text = read_text(params.path, params.max_bytes)
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text))
    problems: list[str] = []
    rows: list[tuple[int, list[str]]] = []  # (line number, cells) of the header and data rows
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) > params.max_rows:
                problems.append(f"{label}: only the first {params.max_rows} rows were read")
                break
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise ConnectorError(f"{label}: not a readable CSV ({exc})") from exc
    if not rows:
        raise ConnectorError(f"{label}: the file is empty")
    header = rows[0][1]
    cols = _columns(header)
    if not _readable(cols):
        raise ConnectorError(f"{label}: {EXPECTED}")
    linkedin = _key(header[cols["title"]]) == "contenttitle"
    coursera = {"completiontime", "coursecertificateurl"} & {_key(h) for h in header}
    body = rows[1:]
    if "email" in cols:
        learners = {
            row[cols["email"]].strip().lower() for _, row in body if cols["email"] < len(row)
        }
        learners.discard("")
        if (
            len(learners) > 1
        ):  # an organisation's report: whose courses are whose is not ours to guess
            raise ConnectorError(
                f"{label}: the export lists {len(learners)} learners; keep only your own rows "
                "(filter the Email column) and try again"
            )

    def cell(row: list[str], field: str) -> str:
        index = cols.get(field)
        value = row[index].strip() if index is not None and index < len(row) else ""
        return "" if value.lower() in EMPTY_CELLS else value

    day_first, unsettled = date_order(cell(r, "completed") for _, r in body)
    if unsettled:
        problems.append(f"{label}: dates like 03/04/2024 were read month first (US style)")
    as_of = params.as_of or now().date()
    row_problems: list[str] = []
    in_progress: list[str] = []
    unmapped: list[str] = []
    videos = completed = 0
    best: dict[tuple[str, str], Evidence] = {}
    memo: dict[str, str | None] = {}
    index = NameIndex(kb)
    for number, row in body:
        title = cell(row, "title")
        if not title:
            row_problems.append(f"line {number}: no course name")
            continue
        raw_date = cell(row, "completed")
        if not raw_date or _key(cell(row, "status")) in _NOT_DONE:
            started = _started(cell(row, "progress"))
            if started is False:
                continue  # enrolled, never started: neither done nor in progress
            if raw_date or cell(row, "watched") or cell(row, "status") or started:
                in_progress.append(clip(title, 80))
            elif not linkedin:  # LinkedIn lists merely saved items too; they are no problem
                row_problems.append(f"line {number}: no completion date")
            continue
        done = parse_date(raw_date, day_first)
        if done is None:
            row_problems.append(f"line {number}: unreadable date {clip(raw_date, 40)!r}")
            continue
        if done > as_of:
            row_problems.append(f"line {number}: completion date {done} is in the future")
            continue
        if linkedin and _key(cell(row, "type")) == "video":
            videos += 1
            continue
        completed += 1
        skills = {sid: 1.0 for sid in title_skills(title, kb, memo, index)}
        for name in re.split(r"[,;|]", cell(row, "skills")):
            if not name.strip():
                continue
            skill = kb.fuzzy_skill(name.strip())
            if skill is None:
                row_problems.append(f"line {number}: unknown skill {clip(name.strip(), 40)!r}")
            else:
                skills[skill.id] = 1.0
        if not skills and similar is not None:
            query = clip(f"{title}. {cell(row, 'description')}", 300)
            for skill_id, score in similar(query)[:2]:
                if skill_id in kb.skills and score >= params.similarity_threshold:
                    skills[skill_id] = SIMILARITY_DISCOUNT
        if not skills:
            unmapped.append(clip(title, 80))
            continue
        level = _level(cell(row, "level"), title)
        provider = "LinkedIn Learning" if linkedin else cell(row, "provider")
        if coursera and provider:
            provider = f"{provider} on Coursera"
        link = cell(row, "link")
        for skill_id, factor in skills.items():
            item = Evidence(
                skill=skill_id,
                source=SourceKind.CERTIFICATE,
                strength=round(scoring.certificate_strength[level] * factor, 4),
                observed=done,
                origin=NAME,
                signal="course_completed" if factor == 1.0 else "course_completed_similar",
                detail=clip(
                    f'Completed "{title}"' + (f" ({provider})" if provider else "") + f" on {done}"
                ),
                link=link if re.match(r"https?://", link) and len(link) <= 500 else None,
            )
            key = (skill_id, normalize_name(title))
            if key not in best or best[key].observed < done:
                best[key] = item
    if len(memo) >= MAX_TYPO_LOOKUPS:
        problems.append(
            f"{label}: typo matching stopped after {MAX_TYPO_LOOKUPS} distinct words; exact "
            "names were still matched"
        )
    if len(row_problems) > params.max_problems:
        extra = len(row_problems) - params.max_problems
        row_problems = [
            *row_problems[: params.max_problems],
            f"and {extra} more lines with problems",
        ]
    problems += [f"{label}: {p}" for p in row_problems]
    evidence = sorted(best.values(), key=lambda e: (e.observed, e.skill))
    skills_seen = {e.skill for e in evidence}
    summary = (
        f"{completed} completed courses or certificates, {completed - len(unmapped)} of them "
        f"linked to {len(skills_seen)} skills."
    )
    if in_progress:
        summary += f" {len(in_progress)} started but unfinished courses were not counted."
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        problems=problems,
        data={
            "format": "linkedin_learning" if linkedin else "coursera" if coursera else "generic",
            "rows": len(body),
            "completed": completed,
            "videos_completed": videos,
            "in_progress": len(in_progress),
            "in_progress_titles": in_progress[:20],
            "unmapped_titles": unmapped[:20],
        },
    )
