"""The common shape of every connector's output, and helpers they share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.errors import ConnectorError
from tools.results import Evidence

MAX_FILE_BYTES = 20_000_000  # any single file a connector reads
MAX_ROWS = 1_000_000  # rows of any CSV


class ConnectorResult(BaseModel):
    """What one run of one connector found."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(
        description="connector name: github, local_git, mlflow, kaggle, certificates, income, job_postings, cv, fairness"
    )
    fetched_at: dt.datetime
    summary: str = Field(description="one or two sentences for the person, in plain words")
    evidence: list[Evidence] = Field(default_factory=list)
    models: list[dict[str, Any]] = Field(
        default_factory=list,
        description="model reports (tools.profile.ModelReport fields) for the model audit",
    )
    problems: list[str] = Field(
        default_factory=list, description="what could not be read, each a clear sentence"
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="structured extras, e.g. income metrics"
    )


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a file the person pointed at, refusing directories, missing files and huge files."""
    try:
        resolved = path.expanduser().resolve(strict=True)
    except (FileNotFoundError, RuntimeError) as exc:
        raise ConnectorError(f"{path}: file not found") from exc
    if not resolved.is_file():
        raise ConnectorError(f"{path}: not a file")
    size = resolved.stat().st_size
    if size > limit:
        raise ConnectorError(f"{path}: {size / 1e6:.1f} MB is over the {limit / 1e6:.0f} MB limit")
    try:
        return resolved.read_bytes()
    except OSError as exc:
        raise ConnectorError(f"{path}: cannot read ({exc.strerror})") from exc


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """Read UTF-8 text, or UTF-16 marked by its byte-order mark (as spreadsheets save it)."""
    data = read_limited(path, limit)
    # Without its BOM, UTF-16 is a guess that any even-length bytes pass (Latin-1 text would
    # come back as CJK gibberish and be read silently), so it is only used when marked.
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ConnectorError(
            f"{path.name}: not a text file in UTF-8 (save it as UTF-8 and try again)"
        ) from exc
    if "\x00" in text:  # no text format uses NUL; it marks a binary or damaged file
        raise ConnectorError(f"{path.name}: not a text file (it contains NUL bytes)")
    return text


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
