"""Local git connector: skills seen in a checkout on this machine, and the person's commits in it.

Private code never leaves the machine: files are read here (skipping .git, node_modules,
virtual environments and other vendored directories, never following a symlink out of the
checkout), and only derived evidence is returned; nothing is sent anywhere. Git runs without a
shell; commit messages are not read at all.

What counts, and when:
- Scope: the folder given. Pointed at a subfolder of a repository, only that folder's files
  are read and only commits that touched it are counted (`git log -- .`).
- Time: only commits up to the audit's as-of date (`--until`). When the checkout's HEAD is
  newer than the as-of date, the files are read as they were in the last commit on or before
  it (`git ls-tree`, `git cat-file`), so a back-dated audit sees neither later commits nor
  later files.
- Dates: evidence is observed on the person's latest commit in scope (up to as-of), never on
  file modification times, which say when a checkout was made, not when work was done.
- Attribution: a skill's activity counts the person's commits over the last 12 months that
  touched the files showing it (the Dockerfile for docker, the tests for ml_testing, the files
  importing torch for pytorch...), so a practice someone else set up counts as unattributed.
  A checkout in which none of the commits up to as-of is by the given e-mail addresses gives
  no skill evidence at all: cloning someone's repository does not make their work yours.
  Without an e-mail, or in a folder that is not a git checkout, evidence is unattributed
  (activity 0.7) and, without git, undated (recency 0.5).

Evidence: source `code`, origin `local_git`, one item per skill. Strength =
`repo_signals.evidence_strength` (base weight x recency x activity). One more item for `git`
from the person's commit count (`repo_signals.commit_evidence`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult, now, read_limited
from tools.connectors.code_signals import LANGUAGE_SKILLS
from tools.connectors.repo_signals import (
    EXTENSION_LANGUAGES,
    SKIP_DIRS,
    Signal,
    area,
    commit_evidence,
    detect,
    signals_to_evidence,
)
from tools.connectors.text import clip
from tools.errors import ConnectorError

ORIGIN = "local_git"
EMAIL = r"^[^@\s<>]+@[^@\s<>]+$"
GIT_TIMEOUT_S = 60
MAX_COMMITS = 10_000
MAX_NOTEBOOK_BYTES = 5_000_000  # notebooks carry outputs; only their code cells are parsed
RECORD = "\x1e"


class LocalGitInput(BaseModel):
    """Which checkout to read and whose commits to count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    author_emails: list[str] = Field(default_factory=list, max_length=10)
    max_files: int = Field(default=20_000, ge=1)
    max_reads: int = Field(default=300, ge=0)
    max_file_bytes: int = Field(default=1_000_000, ge=1)
    as_of: dt.date | None = None

    def emails(self) -> list[str]:
        return [e.strip() for e in self.author_emails if re.match(EMAIL, e.strip())]


class GitActivity(BaseModel):
    """The person's commits in scope: over the 12-month window, and the latest up to as-of."""

    commits: int = 0
    last_commit: dt.date | None = None
    areas: dict[str, int] = Field(default_factory=dict, description="commits per area")
    files_touched: int = 0
    touched: list[frozenset[str]] = Field(default_factory=list, exclude=True)


class _Walk(BaseModel):
    paths: list[str] = Field(default_factory=list)
    skipped_symlinks: int = 0
    truncated: bool = False


# Git ------------------------------------------------------------------------------------------


def _git(root: Path, *args: str, check: bool = True) -> str:
    """Run one git command in `root`; ConnectorError if git is missing, slow or fails."""
    command = ["git", "--no-pager", "-c", "core.quotepath=off", "-c", "core.fsmonitor=false",
               "-C", str(root), *args]  # fmt: skip
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=GIT_TIMEOUT_S, check=False, env=env
        )
    except FileNotFoundError as exc:
        raise ConnectorError("git is not installed, so commit history cannot be read") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConnectorError(f"git {args[0]} took longer than {GIT_TIMEOUT_S} s") from exc
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ConnectorError(
            f"git {args[0]} failed: {clip(message[0] if message else 'no message', 160)}"
        )
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else ""


def _until(day: dt.date) -> str:
    # An explicit time: git reads a bare date as that day at the current time of day.
    return f"--until={day.isoformat()}T23:59:59"


def git_activity(root: Path, emails: list[str], as_of: dt.date) -> GitActivity:
    """The person's commits touching this folder up to `as_of`, and the 12 months before it."""
    if not emails:
        return GitActivity()
    authors = [f"--author=<{email}>" for email in emails]
    since = as_of - dt.timedelta(days=365)
    output = _git(
        root, "log", "--no-merges", "--no-color", "--fixed-strings", "--regexp-ignore-case",
        *authors, f"--since={since.isoformat()}T00:00:00", _until(as_of),
        f"--max-count={MAX_COMMITS}", "--relative", "--name-only", f"--pretty=format:{RECORD}%cI",
        "--", ".",
    )  # fmt: skip
    activity = GitActivity()
    everything: set[str] = set()
    for record in output.split(RECORD)[1:]:
        lines = [line for line in record.splitlines() if line.strip()]
        if not lines:
            continue
        try:
            when = dt.datetime.fromisoformat(lines[0].strip()).date()
        except ValueError:
            continue
        files = frozenset(lines[1:])
        activity.commits += 1
        activity.last_commit = max(activity.last_commit or when, when)
        activity.touched.append(files)
        everything |= files
        for kind in {area(path) for path in files}:
            activity.areas[kind] = activity.areas.get(kind, 0) + 1
    activity.files_touched = len(everything)
    if activity.last_commit is None:  # nothing this year: when did they last commit here?
        last = _git(
            root, "log", "-1", "--no-merges", "--fixed-strings", "--regexp-ignore-case",
            *authors, _until(as_of), "--format=%cI", "--", ".",
        ).strip()  # fmt: skip
        activity.last_commit = _date(last)
    return activity


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(text.strip()).date() if text.strip() else None
    except ValueError:
        return None


class _Tree(BaseModel):
    """The checkout's files as of the audit date: the working tree, or an older commit's."""

    is_git: bool = False
    revision: str | None = None  # set when the files are read from an older commit
    revision_date: dt.date | None = None
    last_commit: dt.date | None = None  # the folder's latest commit up to as-of, by anyone
    blobs: dict[str, tuple[str, int]] = Field(default_factory=dict)  # path -> (sha, size)


def _tree(root: Path, as_of: dt.date, max_files: int) -> _Tree:
    """Decide whether to read the working tree or the last commit on or before `as_of`."""
    if _git(root, "rev-parse", "--is-inside-work-tree", check=False).strip() != "true":
        return _Tree()
    tree = _Tree(is_git=True)
    head = _date(_git(root, "log", "-1", "--format=%cI", "HEAD", check=False))
    tree.last_commit = _date(
        _git(root, "log", "-1", "--format=%cI", _until(as_of), "--", ".", check=False)
    )
    if head is None or head <= as_of:
        return tree
    revision = _git(root, "rev-list", "-1", _until(as_of), "HEAD", check=False).strip()
    tree.revision = revision or "none"
    if not revision:
        return tree  # the repository did not exist yet on the as-of date
    tree.revision_date = _date(_git(root, "log", "-1", "--format=%cI", revision))
    listing = _git(root, "ls-tree", "-r", "-l", "-z", revision)
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 4 and parts[1] == "blob":
            size = int(parts[3]) if parts[3].isdigit() else 0
            tree.blobs[path] = (parts[2], size)
            if len(tree.blobs) >= max_files:
                break
    return tree


@contextmanager
def _blob_reader(root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One `git cat-file --batch` process for every blob read from an older commit."""
    process = subprocess.Popen(
        ["git", "-C", str(root), "cat-file", "--batch"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.stdin:
            process.stdin.close()
        process.kill()
        process.wait(timeout=5)


# Files ----------------------------------------------------------------------------------------


def _walk(root: Path, max_files: int) -> _Walk:
    """List the checkout's files (relative, POSIX style) without leaving it."""
    found = _Walk()
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        # Prune in place so os.walk never descends into vendored trees or environments.
        dirs[:] = sorted(
            d for d in dirs
            if d not in SKIP_DIRS and not (here / d).is_symlink() and not (here / d / "pyvenv.cfg").exists()
        )  # fmt: skip
        for name in sorted(files):
            full = here / name
            if full.is_symlink():
                target = full.resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    found.skipped_symlinks += 1
                    continue
            found.paths.append(full.relative_to(root).as_posix())
            if len(found.paths) >= max_files:
                found.truncated = True
                return found
    return found


def _limit(path: str, limit: int) -> int:
    return max(limit, MAX_NOTEBOOK_BYTES) if path.lower().endswith(".ipynb") else limit


class _Reader:
    """Read files inside the checkout only (or blobs of an older commit), within the limit."""

    def __init__(
        self, root: Path, limit: int, blobs: Mapping[str, tuple[str, int]] | None = None
    ) -> None:
        self.root = root
        self.limit = limit
        self.blobs = blobs
        self.batch: subprocess.Popen[bytes] | None = None
        self.read = 0
        self.too_large = 0

    def __call__(self, relative: str) -> str | None:
        data = self._blob(relative) if self.blobs is not None else self._file(relative)
        if data is None:
            return None
        self.read += 1
        if b"\0" in data[:8000]:
            return None  # binary
        return data.decode("utf-8", errors="replace")

    def _file(self, relative: str) -> bytes | None:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            return None  # a symlink pointing out of the checkout
        limit = _limit(relative, self.limit)
        try:
            if target.stat().st_size > limit:
                self.too_large += 1
                return None
            return read_limited(target, limit)
        except (ConnectorError, OSError):
            return None

    def _blob(self, relative: str) -> bytes | None:
        assert self.blobs is not None
        sha, size = self.blobs.get(relative, ("", 0))
        if not sha or self.batch is None or self.batch.stdin is None or self.batch.stdout is None:
            return None
        if size > _limit(relative, self.limit):
            self.too_large += 1
            return None
        self.batch.stdin.write(f"{sha}\n".encode())
        self.batch.stdin.flush()
        header = self.batch.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None
        data = self.batch.stdout.read(int(header[2]))
        self.batch.stdout.read(1)  # the newline after each object
        return data


# Attribution ----------------------------------------------------------------------------------


def skill_paths(signals: list[Signal], files: list[str]) -> dict[str, set[str]]:
    """The files behind each skill; a language's files for a skill seen only by language."""
    by_skill: dict[str, set[str]] = {}
    for signal in signals:
        by_skill.setdefault(signal.skill, set()).update(signal.paths)
    for skill, paths in by_skill.items():
        if paths:
            continue
        suffixes = {
            suffix for suffix, language in EXTENSION_LANGUAGES.items()
            if LANGUAGE_SKILLS.get(language) == skill
        }  # fmt: skip
        paths.update(f for f in files if PurePosixPath(f).suffix.lower() in suffixes)
    return by_skill


def commits_by_skill(activity: GitActivity, paths: dict[str, set[str]]) -> dict[str, int]:
    """How many of the person's commits in the window touched each skill's files."""
    return {
        skill: sum(1 for touched in activity.touched if touched & files)
        for skill, files in paths.items()
    }


# Collect --------------------------------------------------------------------------------------


def collect(params: LocalGitInput, kb: KnowledgeBase) -> ConnectorResult:
    """Read a git checkout on disk and turn what it shows into skill evidence."""
    try:
        root = params.path.expanduser().resolve(strict=True)
    except (FileNotFoundError, RuntimeError) as exc:
        raise ConnectorError(f"{params.path}: folder not found") from exc
    if not root.is_dir():
        raise ConnectorError(f"{params.path}: not a folder")
    as_of = params.as_of or now().date()
    problems: list[str] = []
    try:
        tree = _tree(root, as_of, params.max_files)
    except ConnectorError as exc:
        problems.append(f"Commit history unavailable ({exc}); only the files were examined.")
        tree = _Tree()
    name = _name(root) if tree.is_git else root.name

    walk = _Walk()
    if tree.revision is None:
        walk = _walk(root, params.max_files)
    else:
        walk.paths = sorted(tree.blobs)
        walk.truncated = len(tree.blobs) >= params.max_files
        if tree.revision != "none":
            problems.append(
                f"Read the files as committed on {tree.revision_date}, the last commit up to "
                f"{as_of}; later changes do not count in an audit as of {as_of}."
            )
    if walk.truncated:
        problems.append(
            f"Stopped listing files after {params.max_files}; the rest were not examined."
        )
    if walk.skipped_symlinks:
        problems.append(
            f"{walk.skipped_symlinks} symbolic links pointing outside the folder were skipped."
        )
    reader = _Reader(root, params.max_file_bytes, tree.blobs if tree.revision else None)
    if tree.revision and tree.revision != "none":
        with _blob_reader(root) as batch:
            reader.batch = batch
            signals = detect(walk.paths, reader, kb, max_reads=params.max_reads)
    else:
        signals = detect(walk.paths, reader, kb, max_reads=params.max_reads)
    if reader.too_large:
        problems.append(
            f"{reader.too_large} files over {params.max_file_bytes:,} bytes were not read."
        )

    emails = params.emails()
    if len(emails) < len(params.author_emails):
        problems.append("Some author e-mails were not valid addresses and were ignored.")
    activity: GitActivity | None = None
    if not emails:
        problems.append("No author e-mail given, so commits could not be attributed to you.")
    elif tree.is_git:
        try:
            activity = git_activity(root, emails, as_of)
        except ConnectorError as exc:
            problems.append(f"Commit history unavailable ({exc}); only the files were examined.")
    else:
        problems.append(
            "Commit history unavailable (not a git checkout): who wrote these files and when "
            "is unknown, so they count as unattributed and undated."
        )

    evidence = []
    if activity is not None and activity.last_commit is None:
        problems.append(
            f"None of the commits in {name} up to {as_of} is by the e-mail addresses given, so "
            "nothing here is shown to be your work and it gives no evidence (`git log "
            "--format=%ae` lists the addresses used)."
        )
    elif activity is not None and activity.last_commit is not None:
        paths = skill_paths(signals, walk.paths)
        evidence = signals_to_evidence(
            signals, origin=ORIGIN, repo=name, observed=activity.last_commit, as_of=as_of,
            commits=activity.commits, commits_by_skill=commits_by_skill(activity, paths),
        )  # fmt: skip
        if activity.commits:
            evidence.append(
                commit_evidence(
                    activity.commits, activity.last_commit, as_of, origin=ORIGIN,
                    detail=f"{activity.commits} commits in {name} in the 12 months to {as_of}",
                )
            )  # fmt: skip
    elif tree.revision != "none":
        # Nobody to attribute the work to: unattributed, dated by the folder's last commit.
        evidence = signals_to_evidence(
            signals, origin=ORIGIN, repo=name, observed=tree.last_commit or as_of, as_of=as_of,
            commits=None, undated=tree.last_commit is None,
        )  # fmt: skip
    else:
        problems.append(f"Nothing in {name} was committed by {as_of}.")
    skills = sorted({e.skill for e in evidence})
    summary = f"Examined {len(walk.paths)} files in {name}: evidence for {len(skills)} skills" + (
        f" ({', '.join(skills[:8])}{', ...' if len(skills) > 8 else ''})." if skills else "."
    )
    if activity is not None:
        summary += f" {activity.commits} of your commits in the 12 months to {as_of}."
    return ConnectorResult(
        source=ORIGIN,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        problems=problems,
        data={
            "repo": name,
            "files_listed": len(walk.paths),
            "files_read": reader.read,
            "files_too_large": reader.too_large,
            "symlinks_skipped": walk.skipped_symlinks,
            "files_as_of": tree.revision_date.isoformat() if tree.revision_date else None,
            "commits_12m": activity.commits if activity else None,
            "last_commit": activity.last_commit.isoformat()
            if activity and activity.last_commit
            else None,
            "areas": dict(sorted(activity.areas.items())) if activity else {},
            "files_touched": activity.files_touched if activity else 0,
        },
    )


def _name(root: Path) -> str:
    """The repository's name, with the folder inside it when pointed at a subfolder."""
    top = _git(root, "rev-parse", "--show-toplevel", check=False).strip()
    if not top:
        return root.name
    top_path = Path(top).resolve()
    if top_path == root or not root.is_relative_to(top_path):
        return root.name
    return f"{top_path.name}/{root.relative_to(top_path).as_posix()}"
