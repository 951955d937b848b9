"""Local git connector: skills seen in a checkout on this machine, and the person's commits in it.

Private code never leaves the machine: files are walked and read here (skipping .git,
node_modules, virtual environments and other vendored directories, never following a symlink
out of the checkout), and only derived evidence is returned; nothing is sent anywhere.
Commits come from `git log --author=<email> --since=...` run without a shell; commit messages
are not read at all.

Evidence: source `code`, origin `local_git`, one item per skill, observed on the person's
latest commit (else the newest file change). Strength = `repo_signals.evidence_strength`
(base weight x recency x activity), where activity counts the person's commits over the last
12 months; for docker, ci_cd_ml and ml_testing it counts only the commits that touched that
area (Dockerfiles, CI files, tests), so a practice someone else set up counts as unattributed.
One more item for `git` from the commit count (`repo_signals.commit_evidence`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult, now, read_limited
from tools.connectors.repo_signals import (
    SKIP_DIRS,
    area,
    commit_evidence,
    detect,
    signals_to_evidence,
)
from tools.connectors.text import clip
from tools.errors import ConnectorError

ORIGIN = "local_git"
EMAIL = r"^[^@\s<>]+@[^@\s<>]+$"
AREA_SKILLS = {"docker": "docker", "ci": "ci_cd_ml", "tests": "ml_testing"}
GIT_TIMEOUT_S = 60
MAX_COMMITS = 10_000
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
    """The person's commits over the window, and the files they touched by area."""

    commits: int = 0
    last_commit: dt.date | None = None
    areas: dict[str, int] = Field(default_factory=dict, description="file changes per area")
    files_touched: int = 0


class _Walk(BaseModel):
    paths: list[str] = Field(default_factory=list)
    skipped_symlinks: int = 0
    truncated: bool = False
    newest: float = 0.0


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
            try:
                found.newest = max(found.newest, full.lstat().st_mtime)
            except OSError:
                continue
            found.paths.append(full.relative_to(root).as_posix())
            if len(found.paths) >= max_files:
                found.truncated = True
                return found
    return found


class _Reader:
    """Read files inside the checkout only, within the size limit."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self.read = 0
        self.too_large = 0

    def __call__(self, relative: str) -> str | None:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            return None  # a symlink pointing out of the checkout
        try:
            if target.stat().st_size > self.limit:
                self.too_large += 1
                return None
            data = read_limited(target, self.limit)
        except (ConnectorError, OSError):
            return None
        self.read += 1
        if b"\0" in data[:8000]:
            return None  # binary
        return data.decode("utf-8", errors="replace")


def git_activity(root: Path, emails: list[str], since: dt.date) -> GitActivity:
    """Count the person's commits since `since` with `git log`; raise ConnectorError if git fails."""
    if not emails:
        return GitActivity()
    command = [
        "git", "--no-pager", "-c", "core.quotepath=off", "-c", "core.fsmonitor=false",
        "-C", str(root), "log", "--no-merges", "--no-color", "--fixed-strings", "--regexp-ignore-case",
        *[f"--author=<{email}>" for email in emails],
        f"--since={since.isoformat()}", f"--max-count={MAX_COMMITS}",
        "--name-only", f"--pretty=format:{RECORD}%aI",
    ]  # fmt: skip
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=GIT_TIMEOUT_S, check=False, env=env
        )
    except FileNotFoundError as exc:
        raise ConnectorError("git is not installed, so commit history cannot be read") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConnectorError(f"git log took longer than {GIT_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ConnectorError(
            f"git log failed: {clip(message[0] if message else 'no message', 160)}"
        )
    activity = GitActivity()
    touched: set[str] = set()
    for record in done.stdout.decode("utf-8", errors="replace").split(RECORD)[1:]:
        lines = [line for line in record.splitlines() if line.strip()]
        if not lines:
            continue
        try:
            when = dt.datetime.fromisoformat(lines[0].strip()).date()
        except ValueError:
            continue
        activity.commits += 1
        activity.last_commit = max(activity.last_commit or when, when)
        for path in lines[1:]:
            kind = area(path)
            activity.areas[kind] = activity.areas.get(kind, 0) + 1
            touched.add(path)
    activity.files_touched = len(touched)
    return activity


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
    walk = _walk(root, params.max_files)
    if walk.truncated:
        problems.append(
            f"Stopped listing files after {params.max_files}; the rest were not examined."
        )
    if walk.skipped_symlinks:
        problems.append(
            f"{walk.skipped_symlinks} symbolic links pointing outside the folder were skipped."
        )
    reader = _Reader(root, params.max_file_bytes)
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
    else:
        try:
            activity = git_activity(root, emails, as_of - dt.timedelta(days=365))
        except ConnectorError as exc:
            problems.append(f"Commit history unavailable ({exc}); only the files were examined.")

    newest = dt.datetime.fromtimestamp(walk.newest, dt.UTC).date() if walk.newest else as_of
    observed = activity.last_commit if activity and activity.last_commit else min(newest, as_of)
    commits = activity.commits if activity else None
    by_skill = None
    if activity:
        by_skill = {
            skill: min(commits or 0, activity.areas.get(key, 0))
            for key, skill in AREA_SKILLS.items()
        }
    evidence = signals_to_evidence(
        signals, origin=ORIGIN, repo=root.name, observed=observed, as_of=as_of, commits=commits,
        commits_by_skill=by_skill,
    )  # fmt: skip
    if activity and activity.commits and activity.last_commit:
        evidence.append(
            commit_evidence(
                activity.commits, activity.last_commit, as_of, origin=ORIGIN,
                detail=f"{activity.commits} commits in {root.name} in the last 12 months",
            )
        )  # fmt: skip
    skills = sorted({e.skill for e in evidence})
    summary = (
        f"Examined {len(walk.paths)} files in {root.name}: evidence for {len(skills)} skills"
        + (f" ({', '.join(skills[:8])}{', ...' if len(skills) > 8 else ''})." if skills else ".")
    )
    if activity is not None:
        summary += f" {activity.commits} of your commits in the last 12 months."
    return ConnectorResult(
        source=ORIGIN,
        fetched_at=now(),
        summary=summary,
        evidence=evidence,
        problems=problems,
        data={
            "repo": root.name,
            "files_listed": len(walk.paths),
            "files_read": reader.read,
            "files_too_large": reader.too_large,
            "symlinks_skipped": walk.skipped_symlinks,
            "commits_12m": activity.commits if activity else None,
            "last_commit": activity.last_commit.isoformat()
            if activity and activity.last_commit
            else None,
            "areas": dict(sorted(activity.areas.items())) if activity else {},
            "files_touched": activity.files_touched if activity else 0,
        },
    )
