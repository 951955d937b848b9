"""The terminal REPL: read a line, hand it to the engine, render the reply. Nothing else."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from agent.reply import Choice, Reply

EXIT_WORDS = {"/quit", "/exit", "quit", "exit", ":q"}


def render(reply: Reply, console: Console) -> None:
    """Print a reply: its text, numbered choices, attachments."""
    style = "yellow" if reply.state == "draft" else "green" if reply.state == "final" else None
    console.print(escape(reply.text), style=style, highlight=False)
    if reply.choices:
        how = "one or more numbers" if reply.multiple else "a number"
        for number, choice in enumerate(reply.choices, 1):
            console.print(f"  [bold]{number}[/bold]. {escape(choice.label)}", highlight=False)
        console.print(f"  [dim](type {how}, or your own words)[/dim]")
    for attachment in reply.attachments:
        console.print(f"  [cyan]file:[/cyan] {attachment.path}", highlight=False)


def say_error(console: Console, text: str) -> None:
    """One red line, never wrapped (a script reading the output gets it whole)."""
    console.print(f"error: {escape(text)}", style="red", highlight=False, soft_wrap=True)


def translate(line: str, choices: list[Choice], multiple: bool) -> str:
    """Map typed choice numbers to the choices' values; any other text passes through."""
    values = [c.value for c in choices]
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
    Whatever goes wrong with one message is one line, and the conversation goes on: a
    message the store was too busy to take is sent again (piped input cannot retype it).
    """
    from agent.errors import SkillAuditError
    from agent.opening import opening
    from agent.wiring import build_engine, load_settings
    from bots.progress import ProgressLine
    from bots.session import user_id

    console = console or Console()
    interactive = stdin.isatty()
    if interactive:
        _enable_history()
    try:
        who = user_id(name)
        settings = load_settings()
        # On a machine with no store yet the first reply is known: show it, then open the
        # store (most of the start-up) while it is read.
        shown = opening(settings)
        if shown is not None:
            render(shown, console)
        # No pooled connection: a chat holds none while its person is typing.
        engine = build_engine(settings, pooled=False)
    except (SkillAuditError, ValueError) as exc:
        say_error(Console(stderr=True), str(exc))
        return 2
    store = engine.store
    # A turn that has to wait for the course index says so, with a bar, instead of going silent.
    waiting = ProgressLine(console)
    engine.recommender.progress = waiting
    resume_hint = f"skillaudit chat --user {who.removeprefix('cli:')}"
    choices: list[Choice] = []
    multiple = False

    def send(line: str) -> Reply | None:
        """The engine's reply to one line, or None after saying in one line what went wrong."""
        from agent.redact import mask, unexpected
        from agent.store import StoreBusy

        while True:
            try:
                with waiting:
                    return engine.handle_sync(who, line)
            except StoreBusy as exc:
                say_error(console, mask(str(exc)))
                if interactive:
                    return None  # the person sends it again when they choose
                # Nothing was saved and a pipe cannot retype the line: send it again.
            except SkillAuditError as exc:
                # The message was rolled back; say what went wrong and keep the conversation.
                say_error(console, mask(str(exc)))
                return None
            except Exception as exc:  # any other failure: one line here, the traceback in the log
                say_error(console, unexpected(exc, "handling a message"))
                return None

    try:
        reply = send("/start")  # records the person and the first question
        if reply is not None:
            if reply != shown:  # the store was made meanwhile: what it says is what counts
                render(reply, console)
            choices, multiple = list(reply.choices), reply.multiple
        if interactive:
            # Open or build the course index while the person answers, not before the first
            # question (it would compete for the CPU). Piped input has no time to spare.
            engine.recommender.warm_up()
            if engine.llm is not None:
                # Import the agent and probe the endpoint for tool calling while the person
                # reads, so the first answer does not wait for either.
                import threading

                threading.Thread(target=engine.llm.warm_up, name="llm-warm-up", daemon=True).start()
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
            reply = send(translate(line, choices, multiple))
            if reply is None:
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
