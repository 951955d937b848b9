"""Each concept is listed once: sources, commands and output kinds, and every entry is complete."""

from __future__ import annotations

import inspect

import typer

from agent import engine
from agent.commands import COMMANDS, menu
from agent.intents import detect
from agent.interview import options_for, question
from agent.render import render_chat
from agent.sources import CONSENT_SOURCES, SOURCES, Source
from agent.store import AuditRow, ModelAuditRow, OutputKind, PlanRow
from bots.cli import app
from knowledge.base import KnowledgeBase
from tools.connectors.base import ConnectorResult


def test_every_source_is_complete() -> None:
    for name, source in SOURCES.items():
        assert isinstance(source, Source) and source.name == name
        assert source.label and source.about and source.usage.startswith(f"/connect {name}")
        assert callable(source.run)
        parameters = list(inspect.signature(source.run).parameters)
        assert parameters == ["args", "ctx"], name
        assert source.consent in (None, name), name  # one consent per source, named after it
    assert set(CONSENT_SOURCES) == {s.name for s in SOURCES.values() if s.consent}
    # Every connector module in tools/connectors/ that collects evidence has a source.
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "tools" / "connectors"
    collectors = {
        p.stem for p in folder.glob("*.py") if "def collect(" in p.read_text(encoding="utf-8")
    }
    run_modules = {
        inspect.getsource(s.run).split("from tools.connectors.")[1].split(" ")[0]
        for s in SOURCES.values()
    }
    assert collectors <= run_modules, collectors - run_modules


def test_consent_question_offers_exactly_the_registered_sources(kb: KnowledgeBase) -> None:
    options = options_for(question("consents"), kb)
    assert [o.value for o in options] == list(CONSENT_SOURCES)
    assert [o.label for o in options] == [SOURCES[s].label for s in CONSENT_SOURCES]


def test_help_lists_every_source_and_user_command() -> None:
    text = render_chat("help.j2", where="", commands=COMMANDS, sources=list(SOURCES))
    for name in SOURCES:
        assert name in text
    for command in COMMANDS:
        if not command.reviewer and command.name not in ("start", "help"):
            assert command.name in text, command.name


def test_every_command_has_a_handler_and_is_recognised() -> None:
    built_in = {"back", "skip", "why", "cancel", "help"}  # handled by engine.command itself
    names = {c.name for c in COMMANDS}
    assert set(engine.HANDLERS) == names - built_in
    for command in COMMANDS:
        assert detect(f"/{command.name}") == (command.name, ""), command.name
    assert detect("/frobnicate") == ("unknown", "frobnicate")


def test_commands_name_real_cli_subcommands_and_menus_fit_telegram() -> None:
    cli = {c.name or c.callback.__name__ for c in typer.main.get_command(app).commands.values()}
    for command in COMMANDS:
        if command.cli is not None:
            assert command.cli in cli, command.cli
    for with_llm in (False, True):
        entries = menu(with_llm)
        assert len(entries) <= 100 and all(1 <= len(c.about) <= 256 for c in entries)
        assert all(c.name.islower() and len(c.name) <= 32 for c in entries)
    assert {c.name for c in menu(True)} - {c.name for c in menu(False)} == {
        "guided",
        "conversation",
    }


def test_output_kinds_cover_every_reviewed_table() -> None:
    assert {k.row for k in OutputKind} == {AuditRow, PlanRow, ModelAuditRow}
    assert len({k.prefix for k in OutputKind}) == len(OutputKind)
    for kind in OutputKind:
        assert OutputKind.from_prefix(kind.prefix) is kind
        assert OutputKind.of(kind.row()) is kind


def test_every_flow_is_registered_with_its_three_handlers() -> None:
    for name, flow in engine.FLOWS.items():
        assert callable(flow.ask) and callable(flow.answer) and callable(flow.control), name


def test_connector_result_names_no_unknown_source() -> None:
    # The result's `source` field is free text; the registry is the list people see.
    assert "source" in ConnectorResult.model_fields


def test_the_cli_help_lists_the_registered_sources() -> None:
    """The CLI's help names sources literally (so `--help` imports nothing heavy): it must
    name exactly the registry's sources."""
    command = typer.main.get_command(app)
    commands = command.commands  # type: ignore[attr-defined]
    listed = {}
    for name in ("connect", "consent"):
        for param in commands[name].params:
            if param.name in ("source", "sources"):
                listed[name] = {w.strip() for w in (param.help or "").replace(",", " ").split()}
    assert listed["connect"] == set(SOURCES)
    assert listed["consent"] == set(CONSENT_SOURCES)
