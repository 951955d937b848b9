"""GitHub connector: skills seen in a person's repositories, through PyGithub.

For each repository (explicit `owner/name`s, else the user's own most recently pushed ones,
forks skipped) it reads the languages, the recursive tree of the default branch, at most
`max_file_fetches` small files (dependency files first, then Python sources and notebooks),
and, when a username is given, that user's commits over the last 12 months (one page of up
to 100, newest first). Detection lives in `repo_signals`.

Evidence: source `code`, origin `github`, at most `MAX_ITEMS_PER_SKILL` items per skill (the
strongest repositories). Strength = `repo_signals.evidence_strength`: base weight of the
signals x recency of the last activity (the user's latest commit, else the last push) x the
user's commit activity in that repository; always at most 0.9. One more item for `git` from
the user's commit count (`repo_signals.commit_evidence`). Dates are observed as the latest
activity.

Limits: every HTTP request is counted (`data["api_calls"]`) and bounded by `max_api_calls`
(by default 3 + max_repos x (4 + max_file_fetches)); nothing is fetched twice in one run; files
larger than `max_file_bytes` are never fetched. Rate limits: when a response says
`X-RateLimit-Remaining: 0`, or a 403/429 carries `Retry-After` or the rate-limit message, the
run stops with a problem saying when the limit resets and returns what it has; a `Retry-After`
of at most `max_retry_after_s` seconds is honoured once per run. Bad credentials, an unknown
user (with no explicit repositories) and an unreachable server raise `ConnectorError`.

Without a token GitHub allows 60 requests an hour. A token-less run reads at most
`TOKENLESS_FETCHES` files per repository and only as many repositories as the requests left
allow (read from the rate-limit headers of the first answer), so it ends complete rather than
cut off; the result says how many of how many repositories were read and how to read the rest
(GITHUB_TOKEN, or a run after the reset). With a token (5,000 an hour) the call budget bounds
the run: 100 repositories cost at most 3 + 100 x (4 + 8) = 1,203 requests.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult, now
from tools.connectors.repo_signals import commit_evidence, detect, signals_to_evidence
from tools.connectors.text import clip
from tools.errors import ConnectorError
from tools.results import Evidence

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

T = TypeVar("T")

ORIGIN = "github"
MAX_ITEMS_PER_SKILL = 3
PER_PAGE = 100  # one page of commits per repository; more is reported as "100+"
MAX_LIST_PAGES = 10
TOKENLESS_FETCHES = 3
REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"


class GitHubInput(BaseModel):
    """What to read from GitHub; the caller reads GITHUB_TOKEN from the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str | None = Field(default=None, pattern=LOGIN)
    repos: list[str] = Field(default_factory=list, max_length=200, description="owner/name")
    base_url: str = "https://api.github.com"
    token: SecretStr | None = None
    max_repos: int = Field(default=10, ge=1, le=500)
    max_file_fetches: int = Field(default=8, ge=0, le=50, description="per repository")
    max_api_calls: int | None = Field(default=None, ge=1)
    max_file_bytes: int = Field(default=200_000, ge=1, le=1_000_000)
    max_tree_entries: int = Field(default=20_000, ge=1)
    timeout_s: int = Field(default=10, ge=1, le=120)
    retries: int = Field(default=2, ge=0, le=5, description="for connection errors and 5xx")
    max_retry_after_s: float = Field(default=5.0, ge=0, le=30)
    request_interval_s: float = Field(default=0.0, ge=0, le=5)
    as_of: dt.date | None = None

    @model_validator(mode="after")
    def _something_to_read(self) -> GitHubInput:
        if not self.username and not self.repos:
            raise ValueError("give a GitHub username or at least one owner/name repository")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        return self

    def call_budget(self) -> int:
        return self.max_api_calls or 3 + self.max_repos * (4 + self.max_file_fetches)


class _Stop(Exception):
    """The run must end now (rate limit, call budget, lost connection); the message says why."""


class _Api:
    """Count, bound and memoise GitHub calls; turn rate limits into a clean stop."""

    def __init__(self, gh: Github, params: GitHubInput) -> None:
        import requests
        from github import GithubException

        self.gh = gh
        self.params = params
        # Without a token GitHub allows 60 requests an hour: fewer files per repository, so
        # that more repositories fit (dependency files come first in the read order).
        self.fetches = (
            params.max_file_fetches
            if params.token
            else min(params.max_file_fetches, TOKENLESS_FETCHES)
        )
        self.budget = params.call_budget()
        self.calls = 0
        self.succeeded = 0
        self.retried = False
        self.stopped: str | None = None
        self.cache: dict[str, Any] = {}
        self.github_error = GithubException
        self.network_errors = (requests.RequestException,)

    def stop(self, message: str) -> _Stop:
        self.stopped = self.stopped or message
        return _Stop(self.stopped)

    def reset_time(self, headers: dict[str, Any] | None = None) -> str:
        value = _header(headers or {}, "x-ratelimit-reset")
        stamp = int(float(value)) if value and value.replace(".", "", 1).isdigit() else 0
        stamp = stamp or self.gh.requester.rate_limiting_resettime
        if stamp <= 0:
            return "later"
        return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def call(self, key: str, fn: Callable[[], T]) -> T:
        """Run one request-making PyGithub call once per run, within the budget."""
        if key in self.cache:
            return self.cache[key]  # type: ignore[no-any-return]
        while True:
            if self.stopped:
                raise _Stop(self.stopped)
            if self.calls >= self.budget:
                raise self.stop(
                    f"Stopped at the limit of {self.budget} GitHub API calls; the evidence is partial."
                )
            remaining, limit = self.gh.requester.rate_limiting
            if limit > 0 and remaining == 0:
                raise self.stop(self._limit_message(f"resets at {self.reset_time()}"))
            self.calls += 1
            try:
                value = fn()
            except self.github_error as exc:
                if exc.status == 401:
                    raise ConnectorError(
                        "GitHub rejected the credentials (401 Bad credentials): check GITHUB_TOKEN, "
                        "or leave it unset to read public repositories only."
                    ) from exc
                wait = self._rate_limit_wait(exc.status, exc.headers or {}, exc.data)
                if wait is None:
                    raise
                if 0 <= wait <= self.params.max_retry_after_s and not self.retried:
                    self.retried = True
                    time.sleep(max(0.0, wait))
                    continue
                if _header(exc.headers or {}, "retry-after") is not None:
                    detail = f"asked to wait {wait:.0f} s"
                else:
                    detail = f"resets at {self.reset_time(exc.headers)}"
                raise self.stop(self._limit_message(detail, exc.status)) from exc
            except self.network_errors as exc:
                if self.succeeded == 0:
                    raise ConnectorError(
                        f"cannot reach GitHub at {self.params.base_url} ({type(exc).__name__}); "
                        "check the network or the base URL."
                    ) from exc
                raise self.stop(
                    f"Lost the connection to GitHub after {self.calls} API calls ({type(exc).__name__}); "
                    "the evidence is partial."
                ) from exc
            self.succeeded += 1
            self.cache[key] = value
            return value

    def _limit_message(self, detail: str, status: int | None = None) -> str:
        code = f"HTTP {status}, " if status else ""
        return (
            f"GitHub rate limit reached ({code}{detail}); stopped after {self.calls} API calls, "
            "so the evidence is partial. Try again later or with a token."
        )

    def _rate_limit_wait(self, status: int, headers: dict[str, Any], data: Any) -> float | None:
        """Seconds GitHub asks us to wait, -1 when unknown, None when this is no rate limit."""
        if status not in (403, 429):
            return None
        retry_after = _header(headers, "retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return -1.0
        message = data.get("message", "") if isinstance(data, dict) else ""
        exhausted = _header(headers, "x-ratelimit-remaining") == "0"
        if not (exhausted or status == 429 or "rate limit" in str(message).lower()):
            return None  # a plain 403: no access to this resource
        reset = _header(headers, "x-ratelimit-reset")
        if exhausted and reset and reset.isdigit():
            return max(0.0, int(reset) - time.time())
        return -1.0


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def _http_url(url: object) -> str | None:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _date(value: object) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else None


class _RepoFacts(BaseModel):
    name: str
    pushed_at: dt.date | None = None
    languages: dict[str, int] = Field(default_factory=dict)
    files_seen: int = 0
    files_fetched: int = 0
    tree_truncated: bool = False
    commits_12m: int | None = None
    commits_capped: bool = False
    last_commit: dt.date | None = None
    evidence: list[Evidence] = Field(default_factory=list)


def _targets(
    api: _Api, params: GitHubInput, problems: list[str]
) -> tuple[list[Repository], int, bool]:
    """Repositories to read, most recently pushed first, how many forks were skipped, and
    whether the listing held more than `max_repos`."""
    from github import UnknownObjectException

    gh = api.gh
    found: list[Repository] = []
    forks = 0
    if params.repos:
        seen: set[str] = set()
        for name in params.repos:
            if not REPO_NAME.match(name):
                problems.append(f"{clip(name, 80)!r} is not an owner/name repository; skipped.")
                continue
            if name.lower() in seen or len(found) >= params.max_repos:
                continue
            seen.add(name.lower())
            try:
                found.append(api.call(f"repo:{name.lower()}", functools.partial(gh.get_repo, name)))
            except UnknownObjectException:
                problems.append(f"Repository {name} was not found (or the token cannot see it).")
            except api.github_error as exc:
                problems.append(f"Repository {name} could not be read (HTTP {exc.status}).")
        return found, forks, False
    assert params.username is not None  # the input model guarantees one of the two
    try:
        user = api.call("user", functools.partial(gh.get_user, params.username))
    except UnknownObjectException as exc:
        raise ConnectorError(f"GitHub user {params.username!r} was not found.") from exc
    listing = user.get_repos(type="owner", sort="pushed", direction="desc")
    more = False
    for page in range(MAX_LIST_PAGES):
        items = api.call(f"repos:{page}", functools.partial(listing.get_page, page))
        for repo in items:
            if repo.fork:
                forks += 1
            elif len(found) < params.max_repos:
                found.append(repo)
            else:
                more = True
        if len(items) < PER_PAGE or len(found) >= params.max_repos:
            more = more or len(items) == PER_PAGE
            break
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    found.sort(key=lambda r: r.pushed_at or oldest, reverse=True)
    return found, forks, more


def _read_file(
    api: _Api, repo: Repository, sizes: dict[str, int], facts: _RepoFacts, path: str
) -> str | None:
    """Fetch one small file's text, or None when over a limit, missing or binary."""
    if api.stopped or facts.files_fetched >= api.fetches:
        return None
    size = sizes.get(path)
    if not size or size > api.params.max_file_bytes:
        return None  # unknown, empty or too large: not worth a request
    facts.files_fetched += 1
    key = f"file:{repo.full_name.lower()}:{path}"
    try:
        found = api.call(key, functools.partial(repo.get_contents, path, ref=repo.default_branch))
    except _Stop:
        return None  # api.stopped is set; the caller ends the run after detection
    except api.github_error:
        return None
    if isinstance(found, list) or found.encoding != "base64" or not found.content:
        return None
    try:
        raw = base64.b64decode(found.content)
    except (binascii.Error, ValueError):
        return None
    if len(raw) > api.params.max_file_bytes or b"\0" in raw[:8000]:
        return None
    return raw.decode("utf-8", errors="replace")


def _analyse(
    api: _Api,
    repo: Repository,
    params: GitHubInput,
    kb: KnowledgeBase,
    as_of: dt.date,
    problems: list[str],
) -> _RepoFacts:
    """Read one repository's languages, tree, a few files and the user's commits.

    A stop (rate limit, budget) part-way keeps whatever was read so far.
    """
    name = repo.full_name
    facts = _RepoFacts(name=name, pushed_at=_date(repo.pushed_at))
    languages: dict[str, int] | None = None
    sizes: dict[str, int] = {}
    try:
        try:
            raw_languages = api.call(f"languages:{name.lower()}", repo.get_languages)
            languages = {str(k): v for k, v in raw_languages.items() if isinstance(v, int)}
            facts.languages = languages
        except api.github_error as exc:
            problems.append(f"{name}: languages could not be read (HTTP {exc.status}).")
        if repo.size == 0:
            problems.append(f"{name}: the repository is empty.")
        else:
            _read_tree(api, repo, params, facts, sizes, problems)
    except _Stop:
        pass  # api.stopped is set; detect what was read, the caller ends the run
    facts.files_seen = len(sizes)
    reader = functools.partial(_read_file, api, repo, sizes, facts)
    signals = detect(
        list(sizes), reader, kb, languages=languages, max_reads=params.max_tree_entries
    )
    if params.username and not api.stopped:
        _read_commits(api, repo, params.username, as_of, facts, problems)
    observed = facts.last_commit or facts.pushed_at or as_of
    html = _http_url(repo.html_url)
    branch = urllib.parse.quote(repo.default_branch or "HEAD", safe="")

    def link(path: str) -> str | None:
        if html is None or not path:
            return html
        return f"{html}/blob/{branch}/{urllib.parse.quote(path)}"

    facts.evidence = signals_to_evidence(
        signals,
        origin=ORIGIN,
        repo=name,
        observed=observed,
        as_of=as_of,
        commits=facts.commits_12m,
        link=link,
    )
    return facts


def _read_tree(
    api: _Api,
    repo: Repository,
    params: GitHubInput,
    facts: _RepoFacts,
    sizes: dict[str, int],
    problems: list[str],
) -> None:
    """Fill `sizes` with the blobs of the default branch's recursive tree."""
    name = repo.full_name
    try:
        tree = api.call(
            f"tree:{name.lower()}", functools.partial(repo.get_git_tree, repo.default_branch, True)
        )
    except api.github_error as exc:
        reason = "the repository is empty" if exc.status == 409 else f"HTTP {exc.status}"
        problems.append(f"{name}: the file list could not be read ({reason}).")
        return
    elements = tree.tree
    facts.tree_truncated = tree.truncated is True
    for element in elements[: params.max_tree_entries]:
        if element.type == "blob" and isinstance(element.path, str):
            sizes[element.path] = element.size if isinstance(element.size, int) else 0
    if facts.tree_truncated or len(elements) > params.max_tree_entries:
        problems.append(f"{name}: the file list is very long; only part of it was examined.")


def _read_commits(
    api: _Api,
    repo: Repository,
    username: str,
    as_of: dt.date,
    facts: _RepoFacts,
    problems: list[str],
) -> None:
    """Count the user's commits over the last 12 months (one page, newest first)."""
    name = repo.full_name
    since = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time(), dt.UTC)
    listing = repo.get_commits(author=username, since=since)
    try:
        page = api.call(f"commits:{name.lower()}", functools.partial(listing.get_page, 0))
    except _Stop:
        return
    except api.github_error as exc:
        if exc.status == 409:
            facts.commits_12m = 0  # an empty repository has no commits
        else:
            problems.append(f"{name}: commits could not be read (HTTP {exc.status}).")
        return
    dates = [d for c in page if (d := _date(c.commit.author.date)) is not None]
    facts.commits_12m, facts.commits_capped = len(page), len(page) >= PER_PAGE
    facts.last_commit = max(dates) if dates else None


def _strongest(items: list[Evidence]) -> list[Evidence]:
    """Keep the `MAX_ITEMS_PER_SKILL` strongest items of each skill, so many repositories add
    confidence without drowning the other sources."""
    by_skill: dict[str, list[Evidence]] = {}
    for item in items:
        by_skill.setdefault(item.skill, []).append(item)
    kept: list[Evidence] = []
    for skill in sorted(by_skill):
        ranked = sorted(
            by_skill[skill], key=lambda e: (-e.strength, -e.observed.toordinal(), e.detail)
        )
        kept += ranked[:MAX_ITEMS_PER_SKILL]
    return kept


def collect(params: GitHubInput, kb: KnowledgeBase) -> ConnectorResult:
    """Read a person's GitHub repositories and turn what they show into skill evidence."""
    from github import Auth, Github
    from urllib3.util import Retry

    as_of = params.as_of or now().date()
    # Our own retry policy: connection errors and 5xx only, never sleeping on a rate limit
    # (PyGithub's default would wait until the limit resets, which can be an hour).
    retry = Retry(
        total=params.retries, connect=params.retries, read=params.retries, status=params.retries,
        backoff_factor=0.3, status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=False, raise_on_status=False,
    )  # fmt: skip
    token = params.token.get_secret_value() if params.token else None
    gh = Github(
        auth=Auth.Token(token) if token else None,
        base_url=params.base_url.rstrip("/"),
        timeout=params.timeout_s,
        retry=retry,
        per_page=PER_PAGE,
        seconds_between_requests=params.request_interval_s or None,
        user_agent="skillaudit-connector",
        lazy=False,
    )
    api = _Api(gh, params)
    problems: list[str] = []
    analysed: list[_RepoFacts] = []
    forks = 0
    listed = attempted = 0
    more = False
    try:
        try:
            targets, forks, more = _targets(api, params, problems)
            listed = len(targets)
            targets = targets[: _affordable(api, params, len(targets))]
            for repo in targets:
                facts = _analyse(api, repo, params, kb, as_of, problems)
                attempted += 1
                if facts.languages or facts.files_seen or facts.commits_12m is not None:
                    analysed.append(facts)
                if api.stopped:
                    break
        except _Stop:
            pass
        except api.github_error as exc:
            problems.append(f"GitHub answered HTTP {exc.status}; the evidence is partial.")
    finally:
        gh.close()
    if api.stopped:
        problems.append(api.stopped)
    if params.token is None and (attempted < listed or more):
        problems.append(_tokenless_note(api, attempted, listed, more))
    result = _result(params, as_of, api, analysed, forks, problems)
    data = {**result.data, "repos_listed": listed, "more_repos": more, "token": bool(params.token)}
    summary = result.summary
    if params.token is None and (attempted < listed or more):
        summary += (
            f" Without a token only {attempted} of {listed}{'+' if more else ''} repositories "
            "could be read; set GITHUB_TOKEN to read the rest."
        )
    return result.model_copy(update={"data": data, "summary": summary})


def _affordable(api: _Api, params: GitHubInput, wanted: int) -> int:
    """How many repositories a token-less run can read within the requests left this hour."""
    if params.token is not None:
        return wanted  # 5,000 an hour: the call budget, not the rate limit, bounds the run
    remaining, limit = api.gh.requester.rate_limiting
    if limit <= 0 or remaining < 0:
        return wanted
    per_repo = 2 + (1 if params.username else 0) + api.fetches  # languages, tree, commits, files
    return min(wanted, max(1, remaining // per_repo))


def _tokenless_note(api: _Api, read: int, listed: int, more: bool) -> str:
    """Say how many repositories were read without a token, and how to read the rest."""
    remaining, limit = api.gh.requester.rate_limiting
    total = f"{listed}{'+' if more else ''}"
    allowance = f"{limit} requests an hour" if limit > 0 else "a few requests an hour"
    return (
        f"Read {read} of {total} repositories: without a token GitHub allows {allowance} "
        f"({max(0, remaining)} left, reset at {api.reset_time()}). To read the rest, set "
        "GITHUB_TOKEN (a token with no scopes reads public repositories, 5,000 requests an "
        "hour) or run again after the reset with --refresh."
    )


def _result(
    params: GitHubInput,
    as_of: dt.date,
    api: _Api,
    analysed: list[_RepoFacts],
    forks: int,
    problems: list[str],
) -> ConnectorResult:
    evidence = _strongest([e for facts in analysed for e in facts.evidence])
    commits = sum(f.commits_12m or 0 for f in analysed)
    last = max((f.last_commit for f in analysed if f.last_commit), default=None)
    if params.username and commits and last:
        plus = "+" if any(f.commits_capped for f in analysed) else ""
        evidence.append(
            commit_evidence(
                commits, last, as_of, origin=ORIGIN,
                detail=f"{commits}{plus} commits by {params.username} in the last 12 months "
                f"across {sum(1 for f in analysed if f.commits_12m)} repositories",
            )
        )  # fmt: skip
    remaining, limit = api.gh.requester.rate_limiting
    who = f" of {params.username}" if params.username else ""
    skills = sorted({e.skill for e in evidence})
    summary = (
        f"Read {len(analysed)} GitHub repositories{who}: evidence for {len(skills)} skills"
        + (f" ({', '.join(skills[:8])}{', ...' if len(skills) > 8 else ''})." if skills else ".")
    )
    if api.stopped:
        summary += " The run stopped early, so this is partial."
    return ConnectorResult(
        source=ORIGIN,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        problems=problems,
        data={
            "api_calls": api.calls,
            "api_call_budget": api.budget,
            "stopped": api.stopped is not None,
            "forks_skipped": forks,
            "commits_12m": commits,
            "last_commit": last.isoformat() if last else None,
            "rate_limit": {"remaining": remaining, "limit": limit, "reset": api.reset_time()}
            if limit > 0
            else None,
            "repos": [f.model_dump(mode="json", exclude={"evidence"}) for f in analysed],
        },
    )
