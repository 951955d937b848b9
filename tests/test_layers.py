"""The import rules of DESIGN.md: each layer imports only what is below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "bots": {"agent", "bots"},
    "agent": {"agent", "tools", "knowledge", "prompts"},
    "tools": {"tools", "knowledge"},
    "knowledge": {"knowledge"},
    "prompts": {"prompts"},
}
PROJECT = set(ALLOWED)
NEVER_IN_CORE = {"langchain", "langchain_openai", "langchain_core", "langgraph", "telegram"}
# The OpenAI client may serve embeddings (knowledge/embeddings.py); never in the scoring tools.
NEVER_IN_TOOLS = {"openai"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layer_imports(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        used = imports(path)
        wrong = (used & PROJECT) - ALLOWED[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"
        if package in {"tools", "knowledge", "prompts"}:
            assert not used & NEVER_IN_CORE, (
                f"{path.relative_to(ROOT)} imports an LLM or bot library"
            )
