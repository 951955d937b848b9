"""The common shape of every connector's output, and helpers they share."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import socket
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit

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


# Files a remote person uploaded ----------------------------------------------------------------

UPLOAD_SUFFIXES = {"pdf", "md", "markdown", "txt", "text", "csv", "json", "tsv"}


@dataclass(frozen=True)
class UploadCheck:
    """An upload that passed the checks: a safe file name and what its content is."""

    name: str
    kind: str  # pdf, text


def check_upload(name: str, data: bytes, limit: int) -> UploadCheck:
    """Check a file a remote person sent before it is stored: size, and type by its content.

    Only PDF and text (UTF-8, or UTF-16 with its byte-order mark) are kept, whatever the name
    claims: those are what the file connectors read. The name is reduced to letters, digits,
    dots, dashes and underscores, so it can never name a folder or another file.
    """
    if not data:
        raise ConnectorError("the file is empty")
    if len(data) > limit:
        raise ConnectorError(f"{len(data) / 1e6:.1f} MB is over the {limit / 1e6:g} MB limit")
    kind = _content_kind(data)
    stem, _, suffix = Path(name.replace("\\", "/")).name.rpartition(".")
    if not stem:
        stem, suffix = suffix, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_.")[:40] or "file"
    suffix = suffix.lower()
    if kind == "pdf":
        suffix = "pdf"
    elif suffix not in UPLOAD_SUFFIXES or suffix == "pdf":
        suffix = "txt"
    return UploadCheck(name=f"{stem}.{suffix}", kind=kind)


def _content_kind(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "pdf"
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise ConnectorError(
                f"this looks like {what}; I read PDF files and text files (.md, .txt, .csv, .json)"
            )
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ConnectorError(
            "this is neither a PDF nor a UTF-8 text file; save it as PDF, or as UTF-8 text or CSV"
        ) from None
    if "\x00" in text:
        raise ConnectorError("this is not a text file (it contains NUL bytes)")
    return "text"


_BINARY_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel file)"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"RIFF", "an image or a sound"),
    (b"OggS", "a sound"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
    (b"\x1f\x8b", "a compressed file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)


def uploaded_file(folder: Path, name: str) -> Path:
    """The file `name` among a remote person's uploads, never anything outside `folder`.

    A remote person names files by the name they were saved under; a path, a folder, a link
    or anything missing is refused with the list of their files (never a server path).
    """
    files = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    listed = ", ".join(files[:10]) if files else "none yet"
    clean_name = name.strip()
    if not clean_name or clean_name != Path(clean_name).name or clean_name in (".", ".."):
        raise ConnectorError(
            f"here I read only files you send me: send it as a document, then name it "
            f"(your files: {listed})"
        )
    path = folder / clean_name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != folder.resolve():
        raise ConnectorError(
            f"you have not sent me a file called {clip(clean_name, 60)!r}; send it as a "
            f"document first (your files: {listed})"
        )
    return path


# URLs a remote person names ----------------------------------------------------------------------

Resolver = Callable[..., list[Any]]


@dataclass(frozen=True)
class UrlPolicy:
    """Which URLs a remote person may make the server call: public https addresses, or what
    the operator allow-listed (SKILLAUDIT_ALLOWED_URLS: URL prefixes, any scheme or address)."""

    allowed: tuple[str, ...] = ()

    def allow_listed(self, url: str) -> bool:
        target = urlsplit(url)
        for entry in self.allowed:
            prefix = urlsplit(entry)
            if (
                target.scheme.lower() == prefix.scheme.lower()
                and (target.hostname or "") == (prefix.hostname or "").lower()
                and _port(target) == _port(prefix)
                and target.path.startswith(prefix.path.rstrip("/"))
            ):
                return True
        return False

    def allowed_host(self, host: str, port: int | None) -> bool:
        """Whether a connection to `host` (a name or address as given) is allow-listed."""
        for entry in self.allowed:
            prefix = urlsplit(entry)
            if (prefix.hostname or "") == host.lower().strip("[]") and (
                port is None or _port(prefix) == port
            ):
                return True
        return False


def _port(parts: SplitResult) -> int:
    try:
        explicit = parts.port
    except ValueError:
        explicit = None
    return explicit or (443 if parts.scheme.lower() == "https" else 80)


def blocked_reason(address: str) -> str | None:
    """Why the server must not connect to `address` for a remote person, or None if public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an address"
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_global:
        return None
    for test, what in (
        ("is_loopback", "a loopback address (this server itself)"),
        ("is_link_local", "a link-local address (where cloud metadata services live)"),
        ("is_private", "a private network address"),
    ):
        if getattr(ip, test):
            return f"{ip} is {what}"
    return f"{ip} is not a public address"


def check_public_url(url: str, policy: UrlPolicy, resolve: Resolver | None = None) -> str:
    """Accept a URL a remote person gave only if it is https and every address its host
    resolves to is public, or it is allow-listed; return it, stripped. Else a ConnectorError."""
    url = url.strip()
    if policy.allow_listed(url):
        return url
    parts = urlsplit(url)
    shown = clip(url, 80)
    if parts.scheme.lower() != "https":
        raise ConnectorError(
            f"{shown!r}: only public https:// addresses can be read from here"
            " (ask the operator to allow-list others)"
        )
    if not parts.hostname or parts.username or parts.password:
        raise ConnectorError(f"{shown!r}: give a plain https://host/path address")
    try:
        infos = (resolve or socket.getaddrinfo)(parts.hostname, _port(parts), 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ConnectorError(f"{shown!r}: the host name does not resolve") from None
    for info in infos:
        reason = blocked_reason(str(info[4][0]))
        if reason is not None:
            raise ConnectorError(f"{shown!r}: refused, {reason}")
    return url


class BlockedAddress(ConnectionRefusedError):
    """A connection a remote person's request must not make (raised where names resolve)."""


_guard = threading.local()  # this thread's (UrlPolicy, refusals) while a remote run goes on
_install = threading.Lock()


@contextmanager
def public_network(policy: UrlPolicy) -> Iterator[list[str]]:
    """While inside, this thread's connections reach only public addresses (or allow-listed
    hosts), however the URL was reached: a redirect or a DNS answer that changed since the
    first check resolves here again and is refused before any byte is sent. Yields the list
    of refusals made, for a clear message when a client reports only "cannot connect".

    It works where every HTTP client in the process looks names up, `socket.getaddrinfo`
    (requests, httpx, urllib and MLflow's client all do); other threads are not affected.
    """
    with _install:
        if not getattr(socket.getaddrinfo, "_skillaudit_guard", False):
            socket.getaddrinfo = _guarded(socket.getaddrinfo)
    previous = getattr(_guard, "state", None)
    refusals: list[str] = []
    _guard.state = (policy, refusals)
    try:
        yield refusals
    finally:
        _guard.state = previous


def _guarded(original: Resolver) -> Resolver:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        infos = original(host, port, *args, **kwargs)
        state: tuple[UrlPolicy, list[str]] | None = getattr(_guard, "state", None)
        if state is None or host is None:
            return infos
        policy, refusals = state
        name = host.decode() if isinstance(host, bytes) else str(host)
        number = int(port) if isinstance(port, int) or str(port).isdigit() else None
        if policy.allowed_host(name, number):
            return infos
        for info in infos:
            reason = blocked_reason(str(info[4][0]))
            if reason is not None:
                refusals.append(f"{name}: {reason}")
                raise BlockedAddress(f"refused to connect to {name}: {reason}")
        return infos

    getaddrinfo._skillaudit_guard = True  # type: ignore[attr-defined]
    return getaddrinfo
