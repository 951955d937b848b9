"""The common shape of every connector's output, and helpers they share."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.connectors.text import clip
from tools.errors import ConnectorError
from tools.results import Evidence

MAX_FILE_BYTES = 20_000_000  # any single file a connector reads
MAX_ROWS = 1_000_000  # rows of any CSV
M = TypeVar("M", bound=BaseModel)


class ConnectorResult(BaseModel):
    """What one run of one connector found."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(
        description="the connector's own NAME (each module in tools/connectors/ defines one)"
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
    """Read a file the person pointed at: regular files only, at most `limit` bytes."""
    try:
        return read_regular(path, limit)
    except UnreadableFile as exc:
        raise ConnectorError(f"{clip_path(path)}: {exc.reason}") from exc


class UnreadableFile(Exception):
    """A file that is missing, not a regular file, too large or unreadable; `kind` says which."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind  # missing, folder, special, too_large or io
        self.reason = reason
        super().__init__(reason)


def read_regular(path: Path, limit: int) -> bytes:
    """Read at most `limit` bytes of a regular file, refusing anything else at once.

    A FIFO, a device (/dev/zero), a socket or a folder, also behind a symbolic link, is refused
    before a single byte is read: the file is opened without blocking and checked with fstat.
    Reading stops one byte past the limit, so an endless or growing file cannot exhaust memory.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path.expanduser(), flags)
    except FileNotFoundError as exc:
        raise UnreadableFile("missing", "file not found") from exc
    except IsADirectoryError as exc:
        raise UnreadableFile("folder", "not a file (it is a folder)") from exc
    except OSError as exc:
        raise UnreadableFile("io", f"cannot read ({_reason(exc)})") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile("folder", "not a file (it is a folder)")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(
                "special", "not a regular file (a pipe, device or socket cannot be read)"
            )
        if info.st_size > limit:
            raise UnreadableFile(
                "too_large", f"{info.st_size / 1e6:.1f} MB is over the {limit / 1e6:g} MB limit"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile("io", f"cannot read ({_reason(exc)})") from exc
    finally:
        os.close(fd)
    if size > limit:  # the file grew while it was read
        raise UnreadableFile("too_large", f"over the {limit / 1e6:g} MB limit")
    return b"".join(chunks)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def clip_path(path: Path, limit: int = 80) -> str:
    """A path for a message: its name, cut short, so errors stay one short line."""
    text = " ".join(str(path).split())
    return text if len(text) <= limit else "\u2026" + text[-(limit - 1) :]


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


# Arguments ------------------------------------------------------------------------------------


def split_options(
    args: Sequence[str], allowed: Mapping[str, str], positional: int, usage: str
) -> tuple[list[str], dict[str, str]]:
    """Split `key=value` options from at most `positional` plain arguments.

    `allowed` maps every accepted key (and alias) to its canonical name. An unknown or repeated
    option, or a stray word (often the rest of an unquoted value with spaces), is an error that
    names what is allowed, instead of being silently dropped.
    """
    plain: list[str] = []
    options: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            plain.append(arg)
            continue
        name = allowed.get(key.strip().lower().replace("-", "_"))
        if name is None:
            listed = ", ".join(f"{k}=" for k in dict.fromkeys(allowed.values()))
            raise ConnectorError(f"unknown option {clip(key, 40)!r}; allowed: {listed}")
        if name in options:
            raise ConnectorError(f"the option {name}= is given twice")
        options[name] = value.strip()
    if len(plain) > positional:
        extra = clip(" ".join(plain[positional:]), 60)
        raise ConnectorError(
            f'unexpected {extra!r}; quote a value with spaces (task="..."); usage: {usage}'
        )
    return plain, options


def validated(model: type[M], data: Mapping[str, Any], context: Any = None) -> M:
    """Build a connector's input model; a bad option becomes one clear ConnectorError."""
    try:
        return model.model_validate(dict(data), context=context)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:3]:
            where = ".".join(str(p) for p in err["loc"]) or "input"
            message = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{clip(where, 40)}: {clip(message, 200)}")
        raise ConnectorError("; ".join(parts)) from exc
