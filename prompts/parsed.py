"""Bundled YAML files stored parsed, as JSON, and read back while unchanged.

PyYAML builds its objects in Python even with the C parser, and importing it costs tens of
milliseconds: on every start (the chat's first question reads the question files; every CLI
command and the bot read the knowledge files). `make parsed` stores each bundled file's
content as JSON beside the SHA-256 of the file's bytes; `read` returns the stored content
while the file is unchanged and parses the file itself otherwise, so an edited file is never
read stale, only more slowly (the tests fail until the stored form is written again).

JSON has no dates: a YAML date is stored as its ISO text. Every file read here is validated
by a pydantic model or read as plain text, which take either form.

This module imports nothing of the project: the prompts (`PROMPT_DATA`, read by
prompts/loader.py) and the knowledge (knowledge/parsed.py) each keep one `ParsedYaml` for
their own folder, and `make parsed` runs both modules.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class NotYaml(ValueError):
    """A file that is not valid YAML (PyYAML's error is its cause); catching it needs no
    import of PyYAML, which a start that reads only stored forms never loads."""


def parse_yaml(raw: bytes) -> Any:
    """Parse YAML text safely (no tags run code), with the C parser where PyYAML has it."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader)
    except yaml.YAMLError as exc:
        raise NotYaml(str(exc)) from exc


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


class ParsedYaml:
    """The YAML files of one folder matching `patterns`, stored parsed in `stored_file`."""

    def __init__(self, folder: Path, stored_file: Path, patterns: tuple[str, ...]) -> None:
        self.folder = folder
        self.stored_file = stored_file
        self.patterns = patterns
        self._entries: dict[str, Any] | None = None

    def files(self) -> list[Path]:
        """Every file the stored form covers."""
        return sorted({path for pattern in self.patterns for path in self.folder.glob(pattern)})

    def key(self, path: Path) -> str | None:
        """The file's name relative to the folder, or None for a file outside it."""
        try:
            return path.resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return None

    def entries(self) -> dict[str, Any]:
        """The stored form, read once; missing or damaged, it is empty (every file is parsed)."""
        if self._entries is None:
            try:
                entries = json.loads(self.stored_file.read_bytes())
            except (OSError, ValueError):
                entries = None
            self._entries = entries if isinstance(entries, dict) else {}
        return self._entries

    def forget(self) -> None:
        """Read the stored form again on the next `read` (after writing it anew)."""
        self._entries = None

    def read(self, path: Path, raw: bytes | None = None) -> Any:
        """The content of the YAML file `path` (whose bytes are `raw` when already read).

        Raises OSError when the file cannot be read and NotYaml when it is not YAML.
        """
        if raw is None:
            raw = path.read_bytes()
        key = self.key(path)
        if key is not None:
            entry = self.entries().get(key)
            if isinstance(entry, dict) and entry.get("sha256") == _digest(raw):
                return entry["content"]
        return parse_yaml(raw)

    def stored_form(self) -> str:
        """The JSON text `read` reads: per file, its digest and its parsed content."""
        entries = {}
        for path in self.files():
            raw = path.read_bytes()
            entries[self.key(path)] = {"sha256": _digest(raw), "content": parse_yaml(raw)}
        # One line: the file is data for the program; its YAML sources are what people read.
        return json.dumps(entries, default=_json_value, ensure_ascii=False, separators=(",", ":"))

    def _written(self) -> str:
        try:
            return self.stored_file.read_text(encoding="utf-8")
        except OSError:
            return ""

    def is_current(self) -> bool:
        return self._written() == self.stored_form()

    def write(self) -> str:
        """Write the stored form when it changed; say what the file holds."""
        text = self.stored_form()
        if self._written() != text:
            self.stored_file.write_text(text, encoding="utf-8")
        self.forget()
        return f"{self.stored_file}: {len(self.files())} files, {len(text.encode()) // 1024} KiB"


PROMPTS_DIR = Path(__file__).parent
# The question and review texts: read on the way to the chat's first question and by every
# use case that drafts an output.
PROMPT_DATA = ParsedYaml(PROMPTS_DIR, PROMPTS_DIR / "parsed.json", ("**/*.yaml",))


def main(stores: Sequence[ParsedYaml], argv: list[str] | None = None) -> int:
    """Write (or with --check, check) the stored form of each of `stores`."""
    parser = argparse.ArgumentParser(description="Store the bundled YAML files parsed, as JSON.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a stored form is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = [str(store.stored_file) for store in stores if not store.is_current()]
        print(f"stale: run `make parsed` ({', '.join(stale)})" if stale else "up to date")
        return 1 if stale else 0
    for store in stores:
        print(store.write())
    return 0


if __name__ == "__main__":
    raise SystemExit(main([PROMPT_DATA]))
