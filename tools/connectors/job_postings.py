"""Job postings connector: market demand per skill from postings the person collected.

Reads a folder of postings (.txt and .md files, one posting each; .json files holding one
posting or a list; .csv files of postings) or one .csv / .json file of postings with a
title, a text, a date and optionally a role. A .txt/.md posting may start with
"Title: ...", "Date: ...", "Role: ..." lines or a front-matter block; otherwise its first
line is the title and the file's modification date its date. Postings without a date
take their file's modification date (said in `problems`). Identical postings count once.

Skills are found by name, id and alias (whole words, case-insensitive; the ambiguous
aliases of `tools.connectors.cv.AMBIGUOUS` are left out). Each posting counts a skill once,
weighted by recency: w = 0.5 ** (age in days / half-life), half-life 180 days by default.

    share(s)  = 100 * sum of w over postings naming s / sum of w over all postings
    demand(s) = 100 * share(s) / max over skills of share

so `demand` is on the 0-100 scale of knowledge/data/demand.yaml (the most requested skill
is 100) and `share` is the recency-weighted percentage of postings naming the skill. The same
is computed per role (roles.yaml ids, from a role field or inferred from the title through
role names and aliases) when a role has at least `min_role_postings` postings.

This is market data, not evidence about the person: no evidence is emitted. The result is in
`data["demand"]` with the postings' date range and count.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from knowledge.base import KnowledgeBase
from tools.connectors.base import MAX_FILE_BYTES, ConnectorResult, now, read_text
from tools.connectors.text import PhraseMatcher, clip, date_order, parse_date, sniff_delimiter
from tools.errors import ConnectorError

NAME = "job_postings"
SUFFIXES = (".txt", ".md", ".markdown", ".json", ".csv")
METHOD = (
    "share = recency-weighted percentage of postings naming the skill (weight 0.5 ** (age / "
    "half-life)); demand = share scaled so the most named skill is 100."
)

_TITLE = ("title", "jobtitle", "position", "positiontitle", "name")
_TEXT = ("text", "description", "jobdescription", "body", "content", "details", "summary")
_DATE = ("date", "dateposted", "posted", "postedat", "postedon", "published", "publishedat",
         "created", "createdat", "listed")  # fmt: skip
_ROLE = ("role", "roleid", "category")
_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{1,20}):\s*(.*?)\s*$")


@dataclass
class Posting:
    """One posting as read: text fields, not yet interpreted."""

    title: str
    text: str
    date: str
    role: str
    fallback: dt.date


class JobPostingsParams(BaseModel):
    """Where the postings are and how much of them to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    as_of: dt.date | None = Field(
        default=None, description="date ages are counted from; default today"
    )
    half_life_days: float = Field(default=180.0, gt=0, le=3650)
    min_role_postings: int = Field(default=3, gt=0)
    max_files: int = Field(default=2_000, gt=0)
    max_file_bytes: int = Field(default=MAX_FILE_BYTES, gt=0, le=MAX_FILE_BYTES)
    max_postings: int = Field(default=20_000, gt=0)
    max_text_chars: int = Field(default=50_000, gt=0)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header is a list of postings: a title and a text column."""
    keys = {_key(h) for h in header}
    return bool(keys & set(_TITLE)) and bool(keys & set(_TEXT))


def _pick(record: dict[str, Any], names: tuple[str, ...]) -> str:
    keys = {_key(str(k)): v for k, v in record.items()}
    for name in names:
        value = keys.get(name)
        if isinstance(value, str):
            return value.strip()
    return ""


def _from_record(record: dict[str, Any], fallback: dt.date) -> Posting:
    return Posting(
        title=_pick(record, _TITLE),
        text=_pick(record, _TEXT),
        date=_pick(record, _DATE),
        role=_pick(record, _ROLE),
        fallback=fallback,
    )


def _from_text(text: str, fallback: dt.date) -> Posting:
    """Read a plain-text posting: optional "Key: value" header lines, then the body."""
    fields: dict[str, str] = {}
    lines = text.splitlines()
    head = lines[:20]
    if head and head[0].strip() == "---":  # front matter: read up to the closing line
        head = head[
            1 : next((i for i, line in enumerate(head[1:], 1) if line.strip() == "---"), 20)
        ]
    for line in head:
        if found := _FIELD.match(line):
            fields.setdefault(_key(found[1]), found[2].strip("\"'"))
    first = next(
        (
            line.strip().lstrip("#").strip()
            for line in lines
            if line.strip() and line.strip() != "---"
        ),
        "",
    )
    return Posting(
        title=fields.get("title") or fields.get("jobtitle") or first,
        text=text,
        date=next((fields[k] for k in _DATE if k in fields), ""),
        role=fields.get("role", ""),
        fallback=fallback,
    )


def _records(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("postings", "jobs", "results", "data", "items"):
            if isinstance(data.get(key), list):
                return list(data[key])
        return [data]
    return []


def read_file(path: Path, limit: int, problems: list[str]) -> Iterator[Posting]:
    """Yield the postings in one file; unreadable content becomes a problem."""
    # Ligatures and full-width letters from PDFs and web pages, folded (see cv.normalize_text).
    text = unicodedata.normalize("NFKC", read_text(path, limit))
    try:
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    except OSError:  # vanished since it was read; its postings still count
        mtime = now().date()
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            problems.append(f"{path.name}: not valid JSON ({clip(str(exc), 80)})")
            return
        for record in _records(data):
            if isinstance(record, dict):
                yield _from_record(record, mtime)
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text), delimiter=sniff_delimiter(text))
        try:
            for row in reader:
                yield _from_record({k: v for k, v in row.items() if isinstance(k, str)}, mtime)
        except csv.Error as exc:
            problems.append(f"{path.name}: reading stopped at line {reader.line_num} ({exc})")
    else:
        yield _from_text(text, mtime)


def _files(root: Path, params: JobPostingsParams, problems: list[str]) -> list[Path]:
    """List the posting files under a folder: no hidden entries, no links out of it."""
    base = root.resolve()
    found: list[Path] = []
    visited = 0
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        visited += len(dirs) + len(names)
        if visited > 10 * params.max_files:  # a huge tree: stop looking
            problems.append(
                f"{root.name}: the folder holds too many entries; only part was searched"
            )
            break
        for name in names:
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if path.resolve().is_relative_to(base) and path.is_file():
                found.append(path)
    if len(found) > params.max_files:
        problems.append(f"{root.name}: only the first {params.max_files} files were read")
    return sorted(found)[: params.max_files]


def _load(params: JobPostingsParams, problems: list[str]) -> list[Posting]:
    root = params.path.expanduser()
    if root.is_dir():
        files = _files(root, params, problems)
    elif root.suffix.lower() in SUFFIXES:
        files = [root]
    elif not root.exists():
        raise ConnectorError(f"{root}: not found")
    else:
        raise ConnectorError(f"{root.name}: expected a folder or a .csv, .json, .txt or .md file")
    postings: list[Posting] = []
    for path in files:
        try:
            for posting in read_file(path, params.max_file_bytes, problems):
                if len(postings) == params.max_postings:
                    problems.append(f"only the first {params.max_postings} postings were read")
                    return postings
                postings.append(posting)
        except ConnectorError as exc:
            if files == [root]:  # the one file asked for cannot be read: nothing can
                raise
            problems.append(str(exc))
    return postings


def _infer_role(posting: Posting, kb: KnowledgeBase, roles: PhraseMatcher) -> str | None:
    if posting.role:
        role = kb.resolve_role(posting.role)
        if role is not None:
            return role.id
    found = roles.find(f"{posting.role}\n{posting.title}")
    return max(found, key=lambda m: m.end - m.start).ident if found else None


def _scale(weighted: dict[str, float], whole: float) -> dict[str, tuple[float, float]]:
    """Map each skill to (demand, share): share in percent, demand relative to the top skill."""
    if whole <= 0 or not weighted:
        return {}
    top = max(weighted.values())
    return {
        s: (round(100 * w / top, 1), round(100 * w / whole, 1))
        for s, w in weighted.items()
        if w > 0
    }


def collect(params: JobPostingsParams, kb: KnowledgeBase) -> ConnectorResult:
    """Read job postings and return recency-weighted demand per skill, overall and per role."""
    problems: list[str] = []
    postings = _load(params, problems)
    seen: set[str] = set()
    unique: list[Posting] = []
    for posting in postings:
        digest = hashlib.sha256(
            " ".join(f"{posting.title}\n{posting.text}".lower().split()).encode()
        ).hexdigest()
        if (posting.title or posting.text) and digest not in seen:
            seen.add(digest)
            unique.append(posting)
    if len(unique) < len(postings):
        problems.append(
            f"{len(postings) - len(unique)} duplicate or empty postings were counted once or not at all"
        )
    if not unique:
        # Say why when a file could not be read; "none found" alone hides a broken file.
        why = next((p for p in problems if "duplicate or empty" not in p), None)
        raise ConnectorError(
            f"{params.path.name}: no job postings found" + (f" ({why})" if why else "")
        )
    as_of = params.as_of or now().date()
    day_first, unsettled = date_order({p.date for p in unique})
    if unsettled:
        problems.append("dates like 03/04/2024 were read month first (US style)")
    skills, roles = PhraseMatcher.for_skills(kb), PhraseMatcher.for_roles(kb)
    undated = 0
    weight_all = 0.0
    by_skill: dict[str, float] = {}
    mentions: dict[str, int] = {}
    postings_with: dict[str, int] = {}
    role_weight: dict[str, float] = {}
    role_skill: dict[str, dict[str, float]] = {}
    role_count: dict[str, int] = {}
    dates: list[dt.date] = []
    for posting in unique:
        posted = parse_date(posting.date, day_first) if posting.date else None
        if posted is None:
            undated += 1
            posted = posting.fallback
        posted = min(posted, as_of)
        dates.append(posted)
        weight = 0.5 ** ((as_of - posted).days / params.half_life_days)
        found = skills.find(f"{posting.title}\n{posting.text[: params.max_text_chars]}")
        named = {m.ident for m in found}
        for mention in found:
            mentions[mention.ident] = mentions.get(mention.ident, 0) + 1
        weight_all += weight
        for skill_id in named:
            by_skill[skill_id] = by_skill.get(skill_id, 0.0) + weight
            postings_with[skill_id] = postings_with.get(skill_id, 0) + 1
        role = _infer_role(posting, kb, roles)
        if role is not None:
            role_count[role] = role_count.get(role, 0) + 1
            role_weight[role] = role_weight.get(role, 0.0) + weight
            bucket = role_skill.setdefault(role, {})
            for skill_id in named:
                bucket[skill_id] = bucket.get(skill_id, 0.0) + weight
    if undated:
        problems.append(f"{undated} postings had no readable date; their file's date was used")
    overall = _scale(by_skill, weight_all)
    by_role = {
        role: _scale(role_skill[role], role_weight[role])
        for role, count in role_count.items()
        if count >= params.min_role_postings
    }
    thin = sorted(r for r, c in role_count.items() if c < params.min_role_postings)
    if thin:
        problems.append(
            f"too few postings (under {params.min_role_postings}) for a demand figure for roles: {', '.join(thin)}"
        )
    table = {
        skill_id: {
            "overall": demand,
            "share": share,
            "postings": postings_with[skill_id],
            "mentions": mentions[skill_id],
            "by_role": {r: v[skill_id][0] for r, v in sorted(by_role.items()) if skill_id in v},
        }
        for skill_id, (demand, share) in sorted(overall.items(), key=lambda kv: (-kv[1][0], kv[0]))
    }
    first, last = min(dates), max(dates)
    top = [f"{kb.skills[s].name} {v['share']:.0f}%" for s, v in list(table.items())[:3]]
    summary = f"{len(unique)} job postings dated {first} to {last}"
    summary += (
        f"; skills named most often (recency-weighted share of postings): {', '.join(top)}."
        if top
        else "; none names a known skill."
    )
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary,
        problems=problems,
        data={
            "demand": {
                "as_of": as_of.isoformat(),
                "postings": len(unique),
                "date_range": {"from": first.isoformat(), "to": last.isoformat()},
                "half_life_days": params.half_life_days,
                "method": METHOD,
                "roles": dict(sorted(role_count.items())),
                "unassigned_postings": len(unique) - sum(role_count.values()),
                "skills": table,
            }
        },
    )
