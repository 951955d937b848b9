"""The terminal REPL: read a line, hand it to the engine, render the reply. Nothing else."""

from __future__ import annotations

import contextlib
import getpass
import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape

EXIT_WORDS = {"/quit", "/exit", "quit", "exit", ":q"}


def user_id(name: str | None) -> str:
    """`--user ana` is the terminal user cli:ana; an id with a prefix (tg:123) is used as is."""
    if name and ":" in name:
        return name
    return f"cli:{name or getpass.getuser()}"


def render(reply: object, console: Console) -> None:
    """Print a reply: its text, numbered choices, attachments."""
    from agent.reply import Reply

    assert isinstance(reply, Reply)
    style = "yellow" if reply.state == "draft" else "green" if reply.state == "final" else None
    console.print(escape(reply.text), style=style, highlight=False)
    if reply.choices:
        how = "one or more numbers" if reply.multiple else "a number"
        for number, choice in enumerate(reply.choices, 1):
            console.print(f"  [bold]{number}[/bold]. {escape(choice.label)}", highlight=False)
        console.print(f"  [dim](type {how}, or your own words)[/dim]")
    for attachment in reply.attachments:
        console.print(f"  [cyan]file:[/cyan] {attachment.path}", highlight=False)


def translate(line: str, choices: list[object], multiple: bool) -> str:
    """Map typed choice numbers to the choices' values; any other text passes through."""
    from agent.reply import Choice

    values = [c.value for c in choices if isinstance(c, Choice)]
    parts = [p for p in line.replace(",", " ").split() if p]
    if (
        values
        and parts
        and all(p.isdigit() and len(p) < 6 and 1 <= int(p) <= len(values) for p in parts)
    ):
        if len(parts) == 1:
            return values[int(parts[0]) - 1]
        if multiple:
            return ", ".join(values[int(p) - 1] for p in parts)
    return line


def _enable_history() -> None:
    # Importing readline gives input() line editing and history where it exists.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401


def repl(name: str | None, stdin: TextIO = sys.stdin, console: Console | None = None) -> int:
    """Run the conversation until end of input; return the exit code.

    The terminal has one user and nothing else to do while waiting for a line, so the loop
    is synchronous (it uses the engine's blocking entry point); that keeps Ctrl-C immediate.
    """
    from agent.audit import SkillAuditError
    from agent.config import Settings
    from agent.engine import Engine
    from agent.store import Store
    from bots.progress import ProgressLine

    console = console or Console()
    interactive = stdin.isatty()
    if interactive:
        _enable_history()
    settings = Settings()
    store = Store(settings.resolved_database_url())
    engine = Engine(store, settings)
    # A turn that has to wait for the course index says so, with a bar, instead of going silent.
    waiting = ProgressLine(console)
    engine.recommender.progress = waiting
    who = user_id(name)
    resume_hint = f"skillaudit chat --user {who.removeprefix('cli:')}"
    choices: list[object] = []
    multiple = False
    try:
        reply = engine.handle_sync(who, "/start")
        render(reply, console)
        if interactive:
            # Open or build the course index while the person answers, not before the first
            # question (it would compete for the CPU). Piped input has no time to spare.
            engine.recommender.warm_up()
        choices, multiple = list(reply.choices), reply.multiple
        while True:
            if interactive:
                line = input("> ")
            else:
                line = stdin.readline()
                if not line:
                    break
                line = line.rstrip("\n")
                console.print(f"> {escape(line)}", style="dim", highlight=False)
            if line.strip().lower() in EXIT_WORDS:
                break
            try:
                with waiting:
                    reply = engine.handle_sync(who, translate(line, choices, multiple))
            except SkillAuditError as exc:
                # The message was rolled back; say what went wrong and keep the conversation.
                console.print(f"error: {escape(str(exc))}", style="red", highlight=False)
                continue
            render(reply, console)
            choices, multiple = list(reply.choices), reply.multiple
    except (EOFError, KeyboardInterrupt):
        console.print()
    finally:
        store.dispose()
    console.print(
        f"Your answers are saved. Resume any time with: {resume_hint}", style="dim", highlight=False
    )
    return 0


def one_shot(name: str | None, *messages: str) -> object:
    """Send messages to the engine as one user and return the last reply (for subcommands)."""
    from agent.config import Settings
    from agent.engine import Engine
    from agent.store import Store
    from bots.progress import ProgressLine

    settings = Settings()
    store = Store(settings.resolved_database_url())
    try:
        engine = Engine(store, settings)
        # stderr, so that `--json` output on stdout stays one JSON object.
        with ProgressLine(Console(stderr=True)) as waiting:
            engine.recommender.progress = waiting
            reply = None
            for message in messages:
                reply = engine.handle_sync(user_id(name), message)
        return reply
    finally:
        store.dispose()
