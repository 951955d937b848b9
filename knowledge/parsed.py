"""The knowledge files stored parsed, once per release instead of on every start.

They cost about 20 ms of YAML parsing on every start (the chat's first question, every CLI
command, the bot), the catalog about 35 ms more on the way to a first recommendation.
`make parsed` (this module) writes the stored form; prompts/parsed.py says how it is read:
never stale, only more slowly while it is not current.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prompts.parsed import ParsedYaml, main

DATA_DIR = Path(__file__).parent / "data"
KNOWLEDGE_DATA = ParsedYaml(
    DATA_DIR, DATA_DIR / "parsed.json", ("*.yaml", "catalog/*.yaml", "checks/*.yaml")
)


def read_yaml(path: Path, raw: bytes | None = None) -> Any:
    """The content of the knowledge file `path` (see ParsedYaml.read)."""
    return KNOWLEDGE_DATA.read(path, raw)


if __name__ == "__main__":
    raise SystemExit(main([KNOWLEDGE_DATA]))
