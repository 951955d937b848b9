"""Keep secrets out of every log record, whichever library writes it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
_secrets: set[str] = set()


def redact_secrets(secrets: Iterable[str | None]) -> None:
    """Mask these values (tokens, keys) in every log record from now on."""
    new = {s for s in secrets if s and len(s) >= 8}
    if not new:
        return
    if not _secrets:
        _install()
    _secrets.update(new)


def _install() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: leave it to logging
            return record
        if any(secret in message for secret in _secrets):
            for secret in _secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return record

    logging.setLogRecordFactory(factory)
