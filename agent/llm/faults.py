"""The record of language-model failures: one line for the person, the whole story in a file.

A failed model call is told in the chat as one plain sentence; its details (exception
chain, HTTP status, server message) go to the log file `Settings.llm_log_file` (by default
`SKILLAUDIT_HOME/logs/llm.log`), never to the terminal. Secrets are masked before
anything is written: the configured API key, bearer tokens and every token shape
`agent.llm.privacy` knows.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import traceback
from pathlib import Path

from agent.llm.privacy import SECRET, mask_secrets

log = logging.getLogger(__name__)
_BEARER = re.compile(r"(?i)(bearer\s+|api[_-]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+")
MAX_BYTES = 2_000_000  # then the file is renamed to .1 and started afresh (one old copy kept)


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without the given secrets, bearer tokens or anything shaped like a token."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    text = _BEARER.sub(lambda m: f"{m.group(1)}[secret]", text)
    return mask_secrets(SECRET.sub("[secret]", text))


class FailureLog:
    """Append failure records to one file, shared by the threads of a process."""

    def __init__(self, path: Path, secrets: tuple[str, ...] = ()) -> None:
        self.path = path
        self.secrets = secrets
        self._lock = threading.Lock()

    def record(self, what: str, exc: BaseException | None = None, **details: object) -> None:
        """Write one record: when, what, the details and the exception chain, masked."""
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        lines = [f"--- {stamp} {what}"]
        lines += [f"{key}: {value}" for key, value in details.items()]
        if exc is not None:
            lines.append("".join(traceback.format_exception(exc)).rstrip())
        text = mask("\n".join(lines), self.secrets) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self.path.exists() and self.path.stat().st_size > MAX_BYTES:
                    self.path.replace(self.path.with_name(self.path.name + ".1"))
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(text)
        except OSError as problem:  # a read-only home must not break the conversation
            log.info("cannot write the language-model log %s: %s", self.path, problem)
