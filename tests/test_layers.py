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
    # prompts.parsed (YAML stored parsed) is the one module of prompts it uses: it imports nothing.
    "knowledge": {"knowledge", "prompts"},
    "prompts": {"prompts"},
}
PROJECT = set(ALLOWED)
NEVER_IN_CORE = {"langchain", "langchain_openai", "langchain_core", "langgraph", "telegram"}
# The OpenAI client may serve embeddings (knowledge/embeddings.py); never in the scoring tools.
NEVER_IN_TOOLS = {"openai"}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of import nodes inside `if TYPE_CHECKING:` blocks (never run, so never a cycle)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skipped |= {id(inner) for child in node.body for inner in ast.walk(child)}
    return skipped


def module_imports(path: Path, package: str) -> set[str]:
    """Full names of the project modules `path` imports at run time (inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] == package}


def import_graph(package: str) -> dict[str, set[str]]:
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (ROOT / package).rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # `from agent import x` names module agent.x; the package itself is not an edge.
        found = {n for n in module_imports(path, package) if n in modules and n != name}
        graph[name] = {n for n in found if "." in n}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_import_cycle_inside_a_package(package: str) -> None:
    assert cycles(import_graph(package)) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}) == [
        ["a.x", "a.y", "a.z"]
    ]


def test_flows_and_use_cases_never_import_the_engine() -> None:
    graph = import_graph("agent")
    for module, used in graph.items():
        if module.endswith("_flow") or module.startswith(("agent.usecases", "agent.llm")):
            assert "agent.engine" not in used, module


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
        if package == "knowledge":
            other = {n for n in module_imports(path, "prompts") if n.split(".")[:2] != ["prompts", "parsed"]}  # fmt: skip
            assert not other, f"{path.relative_to(ROOT)} imports {sorted(other)}"
        if package in {"tools", "knowledge", "prompts"}:
            assert not used & NEVER_IN_CORE, (
                f"{path.relative_to(ROOT)} imports an LLM or bot library"
            )
