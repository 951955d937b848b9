"""The bundled YAML data, parsed once per release instead of on every start.

PyYAML builds its objects in Python even with the C parser: the four knowledge files cost
about 20 ms on every start (the chat's first question, every CLI command, the bot), the
catalog about 35 ms more on the way to a first recommendation. `make parsed` (this module)
stores each bundled file's content as JSON with the SHA-256 of the file's bytes;
`read_yaml` returns the stored content while the file is unchanged and parses the file
itself otherwise, so an edited file is never read stale, only more slowly (and
tests/knowledge/test_parsed.py fails until the stored form is written again).

JSON has no dates: a YAML date is stored as its ISO text. Every file stored here is read
through a pydantic model, which reads a date field from either form (the test compares the
validated models, file by file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent
DATA_DIR = ROOT / "data"
PARSED_FILE = DATA_DIR / "parsed.json"


def bundled_files() -> list[Path]:
    """Every YAML file the stored form covers: the knowledge, the catalog, the checks."""
    return sorted(
        [
            *DATA_DIR.glob("*.yaml"),
            *DATA_DIR.glob("catalog/*.yaml"),
            *DATA_DIR.glob("checks/*.yaml"),
        ]
    )


def _key(path: Path) -> str | None:
    """The file's name relative to the data folder, or None for a file outside it."""
    try:
        return path.resolve().relative_to(DATA_DIR.resolve()).as_posix()
    except ValueError:
        return None


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@cache
def _stored() -> dict[str, Any]:
    try:
        stored: dict[str, Any] = json.loads(PARSED_FILE.read_bytes())
    except (OSError, ValueError):
        return {}  # missing or damaged: every file is parsed from its YAML
    return stored


def parse_yaml(raw: bytes) -> Any:
    """Parse YAML text safely (no tags run code), with the C parser where PyYAML has it."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(raw, Loader=loader)


def read_yaml(path: Path, raw: bytes | None = None) -> Any:
    """The content of the YAML file `path` (whose bytes are `raw` when already read).

    Raises OSError when the file cannot be read and yaml.YAMLError when it is not YAML.
    """
    if raw is None:
        raw = path.read_bytes()
    key = _key(path)
    if key is not None:
        entry = _stored().get(key)
        if entry is not None and entry["sha256"] == _digest(raw):
            return entry["content"]
    return parse_yaml(raw)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def stored_form(files: list[Path]) -> str:
    """The JSON text `read_yaml` reads: per file, its digest and its parsed content."""
    entries = {}
    for path in files:
        raw = path.read_bytes()
        key = _key(path)
        if key is None:
            raise ValueError(f"{path} is not under {DATA_DIR}")
        entries[key] = {"sha256": _digest(raw), "content": parse_yaml(raw)}
    # One line: the file is data for the program; its YAML sources are what people read.
    return json.dumps(entries, default=_json_value, ensure_ascii=False, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Store the bundled YAML files parsed, as JSON.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the stored form is stale")
    args = parser.parse_args(argv)
    text = stored_form(bundled_files())
    current = PARSED_FILE.read_text(encoding="utf-8") if PARSED_FILE.exists() else ""
    if args.check:
        print("up to date" if current == text else f"stale: run `make parsed` ({PARSED_FILE})")
        return 0 if current == text else 1
    if current != text:
        PARSED_FILE.write_text(text, encoding="utf-8")
    print(f"{PARSED_FILE}: {len(bundled_files())} files, {len(text.encode()) // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
