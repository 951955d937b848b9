"""`skillaudit check SKILL` and `skillaudit endorse create|list|withdraw|revoke|erase|give`.

A check runs in the terminal one question at a time, each answer stored as it is given (one
unit of work per answer), so stopping (`stop`, Ctrl-C, end of input) leaves an abandoned
check that counts for nothing. `endorse give CODE` is the endorser's path: the same
conversation as the chat's `/start CODE`, in the terminal.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from bots.cli_common import UserOption, fail, user_id

if TYPE_CHECKING:
    from agent.engine import Engine
    from agent.workbench import Workbench

STOP_WORDS = {"stop", "/cancel", "cancel", "/quit", "quit", "exit", "/exit", ":q"}
endorse_app = typer.Typer(
    help="Endorsements: ask a client, peer or manager to rate your skills, or give one.",
    no_args_is_help=True,
)


def _engine() -> Engine:
    from agent.errors import SkillAuditError
    from agent.wiring import build_engine

    try:
        return build_engine()
    except SkillAuditError as exc:
        fail(str(exc))


def _workbench() -> Workbench:
    """Use cases without the conversation (a check needs no flow but its own wording)."""
    from agent.errors import SkillAuditError
    from agent.wiring import build_workbench

    try:
        return build_workbench()
    except SkillAuditError as exc:
        fail(str(exc))


def _read(stdin: TextIO) -> str | None:
    """One line from the person (None at the end of input)."""
    if stdin.isatty():
        try:
            return input("> ")
        except EOFError:
            return None
    line = stdin.readline()
    if not line:
        return None
    typer.echo(f"> {line.rstrip()}")
    return line.rstrip("\n")


def check(
    skill: Annotated[
        str, typer.Argument(help='The skill, by id or name: docker, "model evaluation".')
    ],
    user: UserOption = None,
) -> None:
    """Take a skill check: 4-6 multiple-choice questions; it counts as evidence in your audit.

    Answer A, B, C or D; "stop" (or Ctrl-C, Ctrl-D) ends it, and an unfinished check counts
    for nothing.
    """
    from agent.check_flow import outcome, pick, question
    from agent.errors import SkillAuditError
    from agent.usecases import checks

    who = user_id(user)
    bench = _workbench()
    session: int | None = None
    try:
        with bench.work(who) as turn:
            assert turn is not None
            started = checks.begin(turn, checks.skill_for(turn, skill))
            typer.echo(question(turn.kb, started.question, intro=True).text)
        session, shown = started.session_id, started.question
        while True:
            line = _read(sys.stdin)
            if line is None or line.strip().lower() in STOP_WORDS:
                break
            choice = pick(line, shown)
            if choice is None:
                typer.echo(
                    "Please answer A, B, C or D (or stop; an unfinished check counts for nothing)."
                )
                continue
            with bench.work(who) as turn:
                assert turn is not None
                answered = checks.answer(turn, session, shown.question_id, choice)
                text = outcome(answered, shown, choice)
                if answered.following is not None:
                    text += "\n\n" + question(turn.kb, answered.following).text
            typer.echo(text)
            if answered.following is None:
                return
            shown = answered.following
    except SkillAuditError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("")
    finally:
        if session is not None:
            with bench.work(who) as turn:
                assert turn is not None
                row = turn.scope.check_session(session)
                stopped = row is not None and row.status == "active"
                checks.abandon(turn, session)
            if stopped:
                typer.echo(
                    "Stopped: this check counts for nothing (its questions are kept as seen)."
                )
        bench.store.dispose()


@endorse_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Your name, as the endorser will see it.")],
    skills: Annotated[
        str | None,
        typer.Option(
            "--skills",
            help='Up to five skills, e.g. "docker, python" (default: the five your latest audit rests on least).',
        ),
    ] = None,
    user: UserOption = None,
) -> None:
    """Make a one-time code (14 days) for a client, peer or manager to rate your skills."""
    from agent.endorse_flow import code_text
    from agent.errors import SkillAuditError
    from agent.parsing import Unclear, parse_skill_list
    from agent.usecases import endorsements
    from agent.usecases.audits import least_supported
    from bots.session import work

    who = user_id(user)
    try:
        with work(who) as turn:
            assert turn is not None
            if skills is not None:
                try:
                    wanted = parse_skill_list(skills, turn.kb)
                except Unclear as exc:
                    fail(f"--skills: {exc}")
            else:
                latest = turn.scope.latest_audit()
                if latest is None:
                    fail("no audit yet to suggest skills from: name them with --skills")
                wanted = least_supported(latest, endorsements.MAX_SKILLS)
            made = endorsements.create_code(turn, wanted, name)
            text = code_text(turn, made)
    except SkillAuditError as exc:
        fail(str(exc))
    typer.echo(text)


@endorse_app.command("list")
def list_(user: UserOption = None) -> None:
    """Endorsements you received (and your codes) and endorsements you gave."""
    from agent.render import render_chat
    from agent.usecases import endorsements
    from bots.session import work

    who = user_id(user)
    with work(who, create=False) as turn:
        if turn is None:  # someone never seen: nothing to show, and nothing is stored
            typer.echo("Nobody has endorsed you yet, and you have given no endorsements.")
            return
        text = render_chat(
            "endorsements.j2",
            received=endorsements.received(turn),
            codes=endorsements.codes(turn),
            given=endorsements.given_by_me(turn),
            kb=turn.kb,
        )
    typer.echo(text)


def _act(user: str | None, action: str, number: int) -> None:
    """Withdraw, revoke or erase one endorsement or code by its number (as /endorsements)."""
    from agent.errors import SkillAuditError
    from agent.render import render_chat
    from agent.usecases import endorsements
    from bots.session import work

    who = user_id(user)
    try:
        with work(who, create=False) as turn:
            if turn is None:
                fail(f"nothing is stored for {who}")
            if action == "withdraw":
                rescored = endorsements.withdraw(turn, number)
                text = f"Endorsement {number} is withdrawn and deleted."
                if rescored is not None:
                    text += " " + render_chat("rescored.j2", r=rescored, how="without")
            elif action == "revoke":
                endorsements.withdraw_code(turn, number)
                text = f"Code {number} no longer works."
            else:
                endorsements.erase_given(turn, number)
                text = f"The endorsement {number} you gave is erased; the person endorsed is told."
    except SkillAuditError as exc:
        fail(str(exc))
    typer.echo(text)


NumberArg = Annotated[int, typer.Argument(help="The number /endorsements list shows.")]


@endorse_app.command("withdraw")
def withdraw(number: NumberArg, user: UserOption = None) -> None:
    """Withdraw an endorsement you received: it is deleted and your latest audit re-scored."""
    _act(user, "withdraw", number)


@endorse_app.command("revoke")
def revoke(number: NumberArg, user: UserOption = None) -> None:
    """Stop one of your open codes from working."""
    _act(user, "revoke", number)


@endorse_app.command("erase")
def erase(number: NumberArg, user: UserOption = None) -> None:
    """Erase an endorsement you gave someone (they are told; their audit is re-scored)."""
    _act(user, "erase", number)


@endorse_app.command("give")
def give(
    code: Annotated[str, typer.Argument(help="The code you were sent.")],
    user: UserOption = None,
) -> None:
    """Endorse someone with the code they sent you: you are told exactly what is shared first.

    The terminal must reach the same SkillAudit store as the person (their machine, or a shared
    DATABASE_URL).
    """
    from rich.console import Console

    from agent.errors import SkillAuditError
    from agent.usecases.endorsements import open_code
    from bots.chat import render, translate

    who = user_id(user)
    engine = _engine()
    console = Console()
    try:
        with engine.work(who) as turn:  # a code that cannot be used is one line, exit 2
            assert turn is not None
            open_code(turn, code)
        reply = engine.handle_sync(who, f"/start {code.strip()}")
        render(reply, console)
        while _giving(engine, who):
            line = _read(sys.stdin)
            if line is None or line.strip().lower() in STOP_WORDS:
                reply = engine.handle_sync(who, "/cancel")
                render(reply, console)
                break
            reply = engine.handle_sync(who, translate(line, list(reply.choices), reply.multiple))
            render(reply, console)
    except SkillAuditError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        engine.handle_sync(who, "/cancel")
        typer.echo("\nStopped: nothing was shared.")
    finally:
        engine.store.dispose()


def _giving(engine: Engine, who: str) -> bool:
    """Whether the person is still in the endorsing conversation."""
    from agent.endorse_flow import GIVE

    with engine.work(who, create=False) as turn:
        return turn is not None and any(f.flow == GIVE for f in turn.scope.active_flows())


def register(app: typer.Typer) -> None:
    """Add `check` and the `endorse` group to the `skillaudit` app."""
    app.command("check")(check)
    app.add_typer(endorse_app, name="endorse")
