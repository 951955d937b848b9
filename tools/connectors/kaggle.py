"""Read Kaggle competition results from the REST API or from a file the person exported.

Evidence emitted (origin "kaggle"):
- one `competition` item per competition and skill, skills from the competition's tags and
  category (tabular -> classical_ml, gradient_boosting, feature_engineering; nlp -> nlp;
  computer vision -> computer_vision; time series -> time_series; ...). Strength from the
  final rank as a share of teams: top 1% 0.90, top 10% 0.80, top 25% 0.65, top 50% 0.50,
  below 0.35; a medal lifts it to at least gold 0.90, silver 0.80, bronze 0.70; entered
  without a rank 0.25. Learning competitions (Getting Started, Playground, Community, known
  by the category or, when a file has none, by the slug or title of Kaggle's permanent ones
  such as Titanic) are capped at 0.55 because their leaderboards are saturated and often
  leaked; a competition
  still running is capped at 0.65 because public leaderboards shake up at the end.
- `code` evidence for public notebooks (kernels) by language (python, sql): 0.30, plus up to
  0.10 for the number of notebooks and 0.10 / 0.20 when the best one has 10 / 50 votes.

The API needs a username and key (from KAGGLE_USERNAME / KAGGLE_KEY, read by the caller) and
uses HTTP basic auth. Titles, descriptions and tags are data: only tags are looked up, against
a fixed table and the taxonomy's own names; nothing read is followed as an instruction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from knowledge.base import KnowledgeBase
from knowledge.schema import normalize_name
from tools.connectors.base import ConnectorResult, now, read_text
from tools.errors import ConnectorError
from tools.params import SourceKind
from tools.results import Evidence

if TYPE_CHECKING:
    import httpx

NAME = "kaggle"
DEFAULT_BASE_URL = "https://www.kaggle.com/api/v1"
MAX_EXPORT_BYTES = 5_000_000
MAX_RESPONSE_BYTES = 5_000_000
MAX_COMPETITIONS = 200
MAX_TEXT = 200
PAGE_SIZE = 20  # Kaggle's competitions/list page size: a shorter page is the last one

# Normalized Kaggle tag -> taxonomy skills; other tags are tried against the taxonomy's names.
TAG_SKILLS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("tabular", "tabulardata"), ("classical_ml", "gradient_boosting", "feature_engineering")
    ),
    **dict.fromkeys(("binaryclassification", "multiclassclassification"), ("classical_ml",)),
    **dict.fromkeys(("nlp", "text", "textdata", "naturallanguageprocessing"), ("nlp",)),
    **dict.fromkeys(
        ("computervision", "image", "images", "imagedata", "imageclassification", "videodata"),
        ("computer_vision",),
    ),
    **dict.fromkeys(("timeseries", "timeseriesanalysis", "forecasting"), ("time_series",)),
    **dict.fromkeys(("recommendersystems", "recommendation"), ("recommender_systems",)),
    **dict.fromkeys(("reinforcementlearning", "simulations"), ("reinforcement_learning",)),
    **dict.fromkeys(("objectdetection", "imagesegmentation"), ("computer_vision",)),
    **dict.fromkeys(("deeplearning", "neuralnetworks"), ("deep_learning",)),
}
LEARNING_CATEGORIES = frozenset({"gettingstarted", "playground", "community", "inclass"})
# Kaggle's permanent Getting Started competitions, by slug and by title (normalized): their
# leaderboards are saturated, so they count as learning even when a file omits the category.
GETTING_STARTED = frozenset(
    {"titanic", "titanicmachinelearningfromdisaster", "houseprices",
     "housepricesadvancedregressiontechniques", "digitrecognizer", "spaceshiptitanic",
     "nlpgettingstarted", "naturallanguageprocessingwithdisastertweets", "connectx",
     "gangettingstarted", "imsomethingofapaintermyself", "tpugettingstarted",
     "petalstothemetalflowerclassificationontpu", "contradictorymydearwatson",
     "storesalestimeseriesforecasting"}
)  # fmt: skip
PLAYGROUND = re.compile(r"^(tabular)?playground(series)?")
LANGUAGE_SKILLS = {"python": "python", "sql": "sql", "sqlite": "sql"}
MEDALS = {"gold": 0.90, "silver": 0.80, "bronze": 0.70}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class KaggleApi(BaseModel):
    """Credentials and limits for the official REST API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    key: SecretStr
    base_url: str = Field(default=DEFAULT_BASE_URL, pattern=r"^https?://")
    timeout: float = Field(default=10.0, gt=0, le=60)
    max_pages: int = Field(default=3, ge=1, le=10)
    max_submission_lookups: int = Field(default=10, ge=0, le=50)


@dataclass(frozen=True)
class Entry:
    """One competition the person took part in, from either input."""

    name: str
    slug: str | None = None
    rank: int | None = None
    teams: int | None = None
    top_share: float | None = None  # rank / teams, 0..1, lower is better
    medal: str | None = None
    date: dt.date | None = None
    category: str = ""
    tags: tuple[str, ...] = ()
    url: str | None = None
    submissions: int | None = None
    ongoing: bool = False
    via: str = "api"


@dataclass
class Gathered:
    entries: list[Entry] = field(default_factory=list)
    kernels: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    read_any: bool = False


def collect(
    kb: KnowledgeBase,
    *,
    api: KaggleApi | None = None,
    export: Path | None = None,
    as_of: dt.date | None = None,
) -> ConnectorResult:
    """Read competitions and notebooks from the API and/or an exported file into evidence."""
    if api is None and export is None:
        raise ConnectorError(
            "give Kaggle API credentials (KAGGLE_USERNAME, KAGGLE_KEY) or an exported file"
        )
    today = as_of or now().date()
    gathered = Gathered()
    # The API first: its ranks are authoritative; the file adds what the API lacks (medals).
    if api is not None:
        _read_api(api, today, gathered)
    if export is not None:
        _read_export(export, today, gathered)
    if not gathered.read_any:
        raise ConnectorError("; ".join(gathered.problems) or "nothing could be read from Kaggle")
    entries = _merge(gathered.entries)[:MAX_COMPETITIONS]
    evidence: list[Evidence] = []
    unmapped: list[str] = []
    for entry in entries:
        items = competition_evidence(entry, kb, today)
        if not items:
            unmapped.append(entry.name)
        evidence += items
    evidence += _kernel_evidence(gathered.kernels, today)
    ranked = [e for e in entries if e.top_share is not None]
    best = min(ranked, key=lambda e: e.top_share or 1.0, default=None)
    summary = f"Read {len(entries)} Kaggle competition(s) and {len(gathered.kernels)} notebook(s)"
    if best is not None and best.top_share is not None:
        summary += f"; best finish top {best.top_share * 100:.1f}% in {_short(best.name, 80)!r}"
    if unmapped:
        gathered.problems.append(
            f"{len(unmapped)} competition(s) had no tag that maps to a skill: "
            + ", ".join(_short(n, 60) for n in unmapped[:5])
        )
    return ConnectorResult(
        source=NAME,
        fetched_at=now(),
        summary=summary + ".",
        evidence=evidence,
        problems=gathered.problems,
        data={
            "competitions": [_entry_data(e) for e in entries],
            "notebooks": [
                {**k, "last_run": k["last_run"].isoformat() if k["last_run"] else None}
                for k in gathered.kernels
            ],
        },
    )


# Strength and skills -----------------------------------------------------------------------


def rank_strength(entry: Entry) -> float:
    """Strength of one competition result (see the module docstring for the scale)."""
    share = entry.top_share
    if share is None:
        strength = 0.25
    elif share <= 0.01:
        strength = 0.90
    elif share <= 0.10:
        strength = 0.80
    elif share <= 0.25:
        strength = 0.65
    elif share <= 0.50:
        strength = 0.50
    else:
        strength = 0.35
    if entry.medal in MEDALS:
        strength = max(strength, MEDALS[entry.medal])
    if is_learning(entry):
        strength = min(strength, 0.55)
    if entry.ongoing:
        strength = min(strength, 0.65)
    return strength


def is_learning(entry: Entry) -> bool:
    """A Getting Started, Playground or community competition, by category, slug or title."""
    if normalize_name(entry.category) in LEARNING_CATEGORIES:
        return True
    keys = {_key(entry.name)} | ({_key(entry.slug)} if entry.slug else set())
    return bool(keys & GETTING_STARTED) or any(PLAYGROUND.match(k) for k in keys)


def competition_skills(entry: Entry, kb: KnowledgeBase) -> list[str]:
    """Taxonomy skills the competition's tags (and, through the fixed table, category) point at."""
    skills: list[str] = []
    for tag in entry.tags:
        found = TAG_SKILLS.get(normalize_name(tag))
        if found is None:
            skill = kb.resolve_skill(tag)
            found = (skill.id,) if skill else ()
        skills += [s for s in found if s in kb.skills and s not in skills]
    # Only the fixed table for the category: "Research" names a kind of contest, not a skill.
    found = TAG_SKILLS.get(normalize_name(entry.category), ())
    skills += [s for s in found if s in kb.skills and s not in skills]
    return skills


def competition_evidence(entry: Entry, kb: KnowledgeBase, today: dt.date) -> list[Evidence]:
    strength = rank_strength(entry)
    if entry.rank is not None and entry.teams is not None:
        place = f"rank {entry.rank:,} of {entry.teams:,} teams"
    elif entry.top_share is not None:
        place = f"top {entry.top_share * 100:.1f}%"
    else:
        place = "entered, no final rank"
    if entry.medal:
        place += f", {entry.medal} medal"
    if entry.ongoing:
        place += ", still running"
    signal = "competition_rank" if entry.top_share is not None else "competition_entry"
    signal = "competition_medal" if entry.medal else signal
    observed = min(entry.date or today, today)
    return [
        Evidence(
            skill=skill,
            source=SourceKind.COMPETITION,
            strength=strength,
            observed=observed,
            origin=NAME,
            signal=signal,
            detail=_short(f"{entry.name}: {place}"),
            link=entry.url,
        )
        for skill in competition_skills(entry, kb)
    ]


def _kernel_evidence(kernels: list[dict[str, Any]], today: dt.date) -> list[Evidence]:
    by_skill: dict[str, list[dict[str, Any]]] = {}
    for kernel in kernels:
        skill = LANGUAGE_SKILLS.get(str(kernel.get("language", "")).lower())
        if skill is not None:
            by_skill.setdefault(skill, []).append(kernel)
    items = []
    for skill, group in sorted(by_skill.items()):
        votes = max(int(k.get("votes") or 0) for k in group)
        strength = 0.30 + 0.10 * min(len(group), 10) / 10
        strength += 0.20 if votes >= 50 else 0.10 if votes >= 10 else 0.0
        dates = [k["last_run"] for k in group if isinstance(k.get("last_run"), dt.date)]
        items.append(
            Evidence(
                skill=skill,
                source=SourceKind.CODE,
                strength=round(strength, 4),
                observed=min(max(dates, default=today), today),
                origin=NAME,
                signal="kaggle_notebooks",
                detail=f"{len(group)} public Kaggle notebook(s) in {skill}; the most voted has {votes} vote(s)",
            )
        )
    return items


# The REST API ------------------------------------------------------------------------------


class _Stop(Exception):
    """The API refused us for good (credentials, rate limit, network): make no further calls."""


def _read_api(api: KaggleApi, today: dt.date, out: Gathered) -> None:
    import httpx

    auth = httpx.BasicAuth(api.username, api.key.get_secret_value())
    headers = {"Accept": "application/json", "User-Agent": "skillaudit"}
    with httpx.Client(
        base_url=api.base_url.rstrip("/") + "/",
        auth=auth,
        headers=headers,
        timeout=httpx.Timeout(api.timeout),
        follow_redirects=False,
    ) as client:
        try:
            competitions = _pages(client, "competitions/list", {"group": "entered"}, api, out)
            entries = [e for e in (_api_entry(c, today, out) for c in competitions) if e]
            for index, entry in enumerate(entries):
                if index < api.max_submission_lookups and entry.slug:
                    entries[index] = _with_submissions(client, entry, out)
            out.entries += entries
            params = {"user": api.username, "pageSize": 100}
            kernels = _pages(client, "kernels/list", params, api, out, page_size=100)
            out.kernels += [k for k in (_api_kernel(k) for k in kernels) if k]
        except _Stop as stop:
            out.problems.append(str(stop))


def _pages(
    client: httpx.Client,
    path: str,
    params: dict[str, Any],
    api: KaggleApi,
    out: Gathered,
    page_size: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in range(1, api.max_pages + 1):
        body = _get(client, path, {**params, "page": page}, out)
        if not isinstance(body, list):
            if body is not None:
                out.problems.append(f"Kaggle {path}: unexpected response shape")
            break
        items += [item for item in body if isinstance(item, dict)]
        if len(body) < page_size:
            break
    return items


def _get(client: httpx.Client, path: str, params: dict[str, Any], out: Gathered) -> Any:
    """GET one endpoint; expected failures become problems (None) or stop the run (_Stop)."""
    import httpx

    try:
        with client.stream("GET", path, params=params) as response:
            status = response.status_code
            if status in (401, 403):
                raise _Stop(
                    f"Kaggle refused the username or key (HTTP {status}); create a new API token "
                    "under Settings > API on kaggle.com"
                )
            if status == 429:
                wait = response.headers.get("Retry-After", "")
                hint = f" (retry after {_short(wait, 20)} s)" if wait.isdigit() else ""
                raise _Stop(f"Kaggle's rate limit was reached{hint}; try again later")
            if status != 200:
                out.problems.append(f"Kaggle {path}: HTTP {status}")
                return None
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    out.problems.append(
                        f"Kaggle {path}: response over the {MAX_RESPONSE_BYTES:,}-byte limit"
                    )
                    return None
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise _Stop("Kaggle did not answer in time; try again later") from exc
    except httpx.TransportError as exc:
        raise _Stop(f"cannot reach Kaggle ({type(exc).__name__})") from exc
    try:
        body = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        out.problems.append(f"Kaggle {path}: the response is not JSON")
        return None
    out.read_any = True
    return body


def _api_entry(raw: dict[str, Any], today: dt.date, out: Gathered) -> Entry | None:
    title = raw.get("title") or raw.get("ref")
    if not isinstance(title, str) or not title.strip():
        out.problems.append("a competition without a title was skipped")
        return None
    slug = str(raw.get("ref") or "").rstrip("/").rsplit("/", 1)[-1].lower()
    deadline = _parse_date(raw.get("deadline"))
    rank = _positive_int(raw.get("userRank"))
    teams = _positive_int(raw.get("teamCount"))
    return Entry(
        name=_short(title),
        slug=slug if SLUG.match(slug) else None,
        rank=rank,
        teams=teams,
        top_share=_share(rank, teams),
        date=deadline,
        category=_short(str(raw.get("category") or ""), 60),
        tags=_tags(raw.get("tags")),
        url=_kaggle_url(raw.get("url")),
        ongoing=deadline is not None and deadline > today,
        via="api",
    )


def _with_submissions(client: httpx.Client, entry: Entry, out: Gathered) -> Entry:
    body = _get(client, f"competitions/submissions/list/{entry.slug}", {"page": 1}, out)
    if not isinstance(body, list):
        return entry
    dates = [d for d in (_parse_date(s.get("date")) for s in body if isinstance(s, dict)) if d]
    # The last submission dates the work better than a deadline years in the future.
    date = max(dates) if dates and entry.ongoing else entry.date
    return replace(entry, submissions=len(body), date=date)


def _api_kernel(raw: dict[str, Any]) -> dict[str, Any] | None:
    ref = raw.get("ref")
    if not isinstance(ref, str) or raw.get("isPrivate") is True:
        return None
    return {
        "ref": _short(ref, 120),
        "title": _short(str(raw.get("title") or "")),
        "language": _short(str(raw.get("language") or ""), 20).lower(),
        "votes": _positive_int(raw.get("totalVotes")) or 0,
        "last_run": _parse_date(raw.get("lastRunTime")),
    }


# The exported file -------------------------------------------------------------------------

COLUMNS = {
    "entered": ("userhasentered", "entered"),
    "name": ("name", "competition", "title", "competitionname", "slug", "ref"),
    "rank": ("rank", "position", "privaterank", "finalrank", "place", "userrank"),
    "teams": ("teams", "teamcount", "totalteams", "numteams", "participants"),
    "percentile": ("percentile",),
    "top_percent": ("toppercent", "top", "topshare"),
    "medal": ("medal",),
    "date": ("date", "deadline", "enddate", "finished"),
    "category": ("category", "type"),
    "tags": ("tags", "tag", "categories"),
    "url": ("url", "link"),
}
COLUMN_INDEX = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
# What only a list of competitions has: a name alone is also a course's or a posting's.
_RESULTS = {"entered", "rank", "teams", "percentile", "top_percent", "medal"}


def looks_like(header: list[str]) -> bool:
    """Whether a CSV header looks like a list of competitions (a name and a result)."""
    fields = {COLUMN_INDEX.get(_key(h)) for h in header}
    return "name" in fields and bool(fields & _RESULTS)


def _read_export(path: Path, today: dt.date, out: Gathered) -> None:
    try:
        text = read_text(path, MAX_EXPORT_BYTES)
    except ConnectorError as exc:
        out.problems.append(str(exc))
        return
    rows = _export_rows(text, path, out)
    if rows is None:
        return
    if len(rows) > MAX_COMPETITIONS:
        out.problems.append(
            f"{path.name}: only the first {MAX_COMPETITIONS} of {len(rows)} rows were read"
        )
        rows = rows[:MAX_COMPETITIONS]
    columns = {_key(str(c)) for row in rows[:1] for c in row if c is not None}
    if columns and not columns & set(COLUMNS["name"]):
        if {"filename", "publicscore"} <= columns:
            out.problems.append(
                f"{path.name}: this is the submissions list of one competition (kaggle "
                "competitions submissions); it names no competition and no rank"
            )
        else:
            out.problems.append(f"{path.name}: {EXPECTED}")
        return
    read = 0
    for number, row in enumerate(rows, start=1):
        entry = _file_entry(row, today, f"{path.name} row {number}", out)
        if entry is not None:
            out.entries.append(entry)
            read += 1
    if read:
        out.read_any = True
    elif rows and any(str(r.get("userHasEntered", "")).lower() == "false" for r in rows):
        out.read_any = True  # read fine: none of the listed competitions was entered
        out.problems.append(f"{path.name}: none of the listed competitions was entered")
    elif rows:
        out.problems.append(f"{path.name}: no row could be read")
    else:
        out.problems.append(f"{path.name}: the file lists no competitions")


EXPECTED = (
    "no competition column found; expected the output of `kaggle competitions list --csv` "
    "(ref, deadline, category, reward, teamCount, userHasEntered) or a list of your own results "
    "(competition, rank, teams, optional medal, date, category, tags)"
)


def _export_rows(text: str, path: Path, out: Gathered) -> list[dict[str, Any]] | None:
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped[:1] in ("[", "{"):
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):  # ValueError also covers over-long integers
            out.problems.append(f"{path.name}: not valid JSON")
            return None
        if isinstance(body, dict):
            body = body.get("competitions")
        if not isinstance(body, list):
            out.problems.append(f"{path.name}: expected a list of competitions")
            return None
        return [row for row in body if isinstance(row, dict)]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return [dict(row) for _, row in zip(range(MAX_COMPETITIONS + 1), reader, strict=False)]
    except csv.Error as exc:
        out.problems.append(f"{path.name}: not a readable CSV file ({exc})")
        return None


def _file_entry(row: dict[str, Any], today: dt.date, where: str, out: Gathered) -> Entry | None:
    fields: dict[str, Any] = {}
    for column, value in row.items():
        key = COLUMN_INDEX.get(_key(str(column))) if column is not None else None
        if key is not None and key not in fields and value not in (None, ""):
            fields[key] = value
    name = fields.get("name")
    if not isinstance(name, str | int) or not str(name).strip():
        out.problems.append(f"{where}: no competition name")
        return None
    if str(fields.get("entered", "true")).strip().lower() in {"false", "0", "no"}:
        return None  # `kaggle competitions list` lists competitions the person never entered
    name = str(name).strip()
    slug = None
    if re.match(r"^https://www\.kaggle\.com/(c|competitions)/", name):  # newer CLIs print URLs
        slug = name.rstrip("/").rsplit("/", 1)[-1].lower()
        name = slug
    elif SLUG.match(name):
        slug = name
    rank = _positive_int(fields.get("rank"))
    teams = _positive_int(fields.get("teams"))
    share = _share(rank, teams)
    if rank is not None and teams is not None and share is None:
        out.problems.append(f"{where}: rank {rank} is beyond {teams} teams; rank ignored")
        rank = None
    if share is None:
        share = _percent_share(fields, where, out)
    medal = normalize_name(str(fields.get("medal", ""))) or None
    if medal is not None and medal not in MEDALS:
        if medal not in {"none", "no", "nomedal"}:
            out.problems.append(
                f"{where}: unknown medal {_short(str(fields['medal']), 20)!r} ignored"
            )
        medal = None
    date = _parse_date(fields.get("date"))
    if fields.get("date") is not None and date is None:
        out.problems.append(f"{where}: unreadable date {_short(str(fields['date']), 30)!r}")
    return Entry(
        name=_short(str(name)),
        slug=slug if slug and SLUG.match(slug) else None,
        rank=rank,
        teams=teams,
        top_share=share,
        medal=medal,
        date=date,
        category=_short(str(fields.get("category", "")), 60),
        tags=_tags(fields.get("tags")),
        url=_kaggle_url(fields.get("url")),
        ongoing=date is not None and date > today,
        via="file",
    )


def _tags(raw: Any) -> tuple[str, ...]:
    """Tags as a list (JSON, plain names or the API's {"name": ...}) or a delimited string."""
    if isinstance(raw, str):
        raw = re.split(r"[,;|]", raw)
    if not isinstance(raw, list):
        return ()
    names = [t.get("name") if isinstance(t, dict) else t for t in raw]
    return tuple(_short(n, 60) for n in names if isinstance(n, str) and n.strip())[:20]


def _percent_share(fields: dict[str, Any], where: str, out: Gathered) -> float | None:
    """`top_percent` 4 means the top 4%; `percentile` 96 means better than 96% of teams."""
    for key, flip in (("top_percent", False), ("percentile", True)):
        raw = fields.get(key)
        if raw is None:
            continue
        try:
            value = float(str(raw).strip().rstrip("%"))
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 100:
            out.problems.append(f"{where}: {key} {_short(str(raw), 20)!r} is not between 0 and 100")
            return None
        share = (100 - value) / 100 if flip else value / 100
        return max(share, 0.0001)
    return None


# Merging and helpers -----------------------------------------------------------------------


def _merge(entries: list[Entry]) -> list[Entry]:
    """Join two views of one competition (API and file, or repeated rows), keeping known fields."""
    merged: list[Entry] = []
    index: dict[str, int] = {}
    for entry in entries:
        keys = {_key(entry.name)} | ({_key(entry.slug)} if entry.slug else set())
        at = next((index[k] for k in keys if k in index), None)
        if at is None:
            merged.append(entry)
            at = len(merged) - 1
        else:
            old = merged[at]
            filled = {f: getattr(entry, f) for f in MERGED if getattr(old, f) in (None, "", ())}
            via = old.via if entry.via in old.via.split("+") else f"{old.via}+{entry.via}"
            merged[at] = replace(old, **filled, via=via)
        for key in keys:
            index[key] = at
    return merged


MERGED = ("rank", "teams", "top_share", "medal", "date", "category", "tags", "url")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _entry_data(entry: Entry) -> dict[str, Any]:
    data = asdict(entry)
    share = data.pop("top_share")
    data["top_percent"] = round(share * 100, 2) if share is not None else None
    data["tags"] = list(entry.tags)
    data["date"] = entry.date.isoformat() if entry.date else None
    del data["slug"]
    return data


def _share(rank: int | None, teams: int | None) -> float | None:
    if rank is None or teams is None or rank > teams:
        return None
    return rank / teams


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip().replace(",", "")) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number < 10_000_000 else None


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()[:32]
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for pattern in ("%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _kaggle_url(value: Any) -> str | None:
    """Keep only links to kaggle.com: a link from the data must not point anywhere else."""
    if isinstance(value, str) and re.match(r"^https://www\.kaggle\.com/[\w./-]{0,200}$", value):
        return value
    return None


def _short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
