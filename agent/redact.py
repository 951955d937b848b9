"""Keep secrets out of everything printed or logged: log records, exception text, tracebacks.

Three layers, each over the secrets registered with `redact_secrets` (the configured tokens,
keys and database password):

- a log-record factory masks every record's message and its formatted exception, whichever
  library writes it, and a `RedactingFilter` does the same on our handlers (a record made
  before a secret was registered is masked when it is written);
- `install` sends log records to a file under SKILLAUDIT_HOME (mode 0600, tracebacks in
  full) and to the terminal as one line each, without tracebacks;
- an excepthook (`sys` and `threading`) logs an unexpected error's masked traceback to that
  file and prints one masked line; `unexpected` does the same for a front end that goes on.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

MASK = "[redacted]"
LOG_NAME = "skillaudit.log"
MAX_LOG_BYTES = 2_000_000  # then the file is renamed to .1 and started afresh
LINE_CHARS = 300  # the longest line an error puts on the terminal or in a chat
_secrets: set[str] = set()
_installed_factory = False
_log_path: Path | None = None
log = logging.getLogger(__name__)


def redact_secrets(secrets: Iterable[str | None]) -> None:
    """Mask these values (tokens, keys) in every log record and error text from now on."""
    global _installed_factory
    new = {s for s in secrets if s and len(s) >= 8}
    if not new:
        return
    _secrets.update(new)
    if not _installed_factory:
        _install_factory()
        _installed_factory = True


def mask(text: str) -> str:
    """`text` with every registered secret replaced by [redacted] (longest first, so a
    secret containing another is masked whole)."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def format_exception(exc: BaseException) -> str:
    """The whole traceback of `exc` (its causes included), masked."""
    return mask("".join(traceback.format_exception(exc)))


def one_line(exc: BaseException) -> str:
    """`exc` as one short masked line: its type and the first line of its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return clip(mask(text))


def clip(text: str, limit: int = LINE_CHARS) -> str:
    """One line of at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _scrub_record(record: logging.LogRecord) -> None:
    """Mask a record's message and pre-format its exception into masked text."""
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed format string: leave it to logging
        return
    masked = mask(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # Formatters use exc_text when it is set: the traceback is written masked.
        record.exc_text = format_exception(record.exc_info[1]).rstrip("\n")
    elif record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


def _install_factory() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)


class RedactingFilter(logging.Filter):
    """Mask secrets in a record's message and traceback before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


class OneLineFormatter(logging.Formatter):
    """A record as one clipped line: no traceback, no stack (those go to the log file)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return clip(mask(super().format(record)), 2 * LINE_CHARS)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


class PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file created readable by its owner only (0600), in a 0700 folder."""

    def _open(self) -> Any:
        path = Path(self.baseFilename)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(descriptor, "a", encoding=self.encoding or "utf-8")


def log_path() -> Path:
    """The log file of unexpected errors: the installed one, else under SKILLAUDIT_HOME."""
    if _log_path is not None:
        return _log_path
    home = os.environ.get("SKILLAUDIT_HOME", "").strip()
    if home:
        return Path(home).expanduser().absolute() / "logs" / LOG_NAME
    from agent.config import default_home

    return default_home() / "logs" / LOG_NAME


def install(path: Path | None = None, console_level: int = logging.ERROR) -> Path:
    """Log warnings to `path` (default: SKILLAUDIT_HOME/logs/skillaudit.log) in full and to
    stderr as one line per record from `console_level` up; unexpected errors go the same way.
    The file is created only when something is written to it."""
    global _log_path
    _log_path = path or log_path()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_skillaudit", False):
            root.removeHandler(handler)
            handler.close()
    to_file = PrivateFileHandler(_log_path, maxBytes=MAX_LOG_BYTES, backupCount=1, delay=True)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_file.setLevel(logging.WARNING)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    console.setLevel(console_level)
    handlers: list[logging.Handler] = [to_file, console]
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler._skillaudit = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(min(logging.WARNING, console_level))
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    return _log_path


def set_level(level: int) -> None:
    """Log records from `level` up, to the file and as one line on the terminal (a server
    logs INFO)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_skillaudit", False):
            handler.setLevel(level)
    root.setLevel(level)


def unexpected(exc: BaseException, doing: str = "") -> str:
    """Write an unexpected error's masked traceback to the log file; return one line to show.

    Written directly, not through logging: whatever logging is configured (or not), the
    traceback goes to the file and never to the terminal or a chat.
    """
    import datetime as dt

    path = log_path()
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    record = f"--- {stamp} unexpected error{f' while {doing}' if doing else ''}\n"
    record += format_exception(exc)
    where = f"the details are in {path}"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write(record)
    except OSError as problem:  # a read-only home: the line still says what happened
        where = f"and the log {path} could not be written ({problem.strerror})"
    return clip(f"something went wrong on my side ({one_line(exc)}); {where}")


def _excepthook(kind: type[BaseException], exc: BaseException, trace: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, trace)
        return
    line = unexpected(exc.with_traceback(trace))
    sys.stderr.write(f"error: {line}\n")


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or isinstance(args.exc_value, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "a thread"
    line = unexpected(args.exc_value, f"running {name}")
    sys.stderr.write(f"error: {line}\n")
