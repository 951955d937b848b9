"""`skillaudit history|report|export|forget|next|consent|connect`: one use case each, printed.

Read-only commands for someone never seen store nothing; every failure is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import json
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bots.cli_common import UserOption, fail, user_id


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def _none_yet(who: str, what: str) -> str:
    name = who.removeprefix("cli:")
    return (
        f"no {what} for {who} yet: run `skillaudit chat --user {name}` or "
        f"`skillaudit audit --profile FILE --user {name}` first"
    )


def _copy(path: Path, output: Path | None) -> Path:
    if output is None:
        return path
    try:
        shutil.copyfile(path, output)
    except shutil.SameFileError:
        return output  # --output named the file itself: it is already there
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or type(exc).__name__}")
    return output


def history(user: UserOption = None) -> None:
    """Your audits over time, what changed between the latest two, and a progress chart."""
    from agent.errors import SkillAuditError
    from agent.render import render_chat
    from agent.usecases.records import progress
    from bots.session import work

    who = user_id(user)
    try:
        with work(who, create=False) as turn:
            found = None if turn is None else progress(turn)
    except SkillAuditError as exc:
        fail(str(exc))
    if found is None:  # someone never seen: nothing to show, and nothing is stored
        typer.echo(render_chat("progress.j2", audits=[], delta=None))
        return
    typer.echo(render_chat("progress.j2", audits=found.audits, delta=found.delta))
    if found.chart is not None:
        typer.echo(f"chart: {found.chart}")


def report(
    user: UserOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="md, html or json.")
    ] = ReportFormat.md,
    output: Annotated[Path | None, typer.Option(help="Also copy the report to this file.")] = None,
) -> None:
    """Write the report of your latest audit and its pillar chart; print their paths."""
    from agent.errors import SkillAuditError
    from agent.usecases.records import report as write_report
    from bots.session import work

    who = user_id(user)
    try:
        with work(who, create=False) as turn:
            files = None if turn is None else write_report(turn, fmt.value)
    except SkillAuditError as exc:
        fail(str(exc))
    if files is None:
        fail(_none_yet(who, "audit"))
    typer.echo(str(_copy(files.report, output)))
    typer.echo(str(files.radar))


def export(
    user: UserOption = None,
    output: Annotated[Path | None, typer.Option(help="Also copy the export to this file.")] = None,
) -> None:
    """Write everything stored about you to a JSON file and print its path."""
    from agent.errors import SkillAuditError
    from agent.usecases.records import export as write_export
    from bots.session import work

    who = user_id(user)
    try:
        with work(who, create=False) as turn:
            exported = None if turn is None else write_export(turn)
    except SkillAuditError as exc:
        fail(str(exc))
    if exported is None:
        fail(f"nothing is stored about {who}")
    typer.echo(str(_copy(exported.path, output)))


def forget(
    user: UserOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything stored about you (asks first unless --yes)."""
    from agent.errors import SkillAuditError
    from agent.usecases.records import forget as erase
    from bots.session import work

    who = user_id(user)
    if not yes and not typer.confirm(f"Erase everything stored about {who}? This cannot be undone"):
        typer.echo("Nothing was erased.")
        return
    try:
        with work(who, create=False) as turn:
            erasure = None if turn is None else erase(turn)
    except SkillAuditError as exc:
        fail(str(exc))
    if erasure is None or turn is None:
        typer.echo(f"Nothing is stored about {who}; nothing to erase.")
        return
    erased = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in erasure.rows.items() if n)
    plural = "s" if erasure.files != 1 else ""
    typer.echo(
        f"Everything stored about {who} has been erased: {erased or 'no stored rows'}, the account, "
        f"and {erasure.files} generated file{plural}."
    )
    if turn.scrubbed is not None:  # what the check of the store afterwards found
        typer.echo(turn.scrubbed.describe())


def next_(
    text: Annotated[
        str, typer.Argument(help="Your question or topic, e.g. 'deploy models with Docker'.")
    ] = "",
    user: UserOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """What should I learn next? Recommendations from your audit or for a topic."""
    from agent.errors import SkillAuditError
    from agent.usecases.plans import TopicNotUnderstood, plan_for_audit, plan_for_topic
    from bots.session import work

    who = user_id(user)
    topic = text.strip()
    try:
        with work(who, create=bool(topic), index=True) as turn:
            if topic:
                assert turn is not None
                outcome = plan_for_topic(turn, topic)
            else:
                latest = None if turn is None else turn.scope.latest_audit()
                if turn is None or latest is None:
                    fail(
                        'no audit yet and no topic: name a topic (skillaudit next "docker") '
                        "or run `skillaudit chat`"
                    )
                found = plan_for_audit(turn, latest)
                if found is None:
                    fail(f"your audit of {latest.as_of} found no gap worth a plan")
                outcome = found
            # --json prints the plan's data: the chat text (and its flow) is not needed for it.
            rendered = None
            if not json_out:
                from agent import next_flow

                rendered = next_flow.render(turn, outcome)
    except TopicNotUnderstood:
        fail(f'no skill matches {topic!r}; name one, for example "docker" or "bias testing"')
    except SkillAuditError as exc:
        fail(str(exc))
    if rendered is None:
        sys.stdout.write(json.dumps(outcome.data, indent=2, ensure_ascii=False) + "\n")
        return
    typer.echo(rendered.text)


def consent(
    action: Annotated[str, typer.Argument(help="show, grant or withdraw")] = "show",
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="github, local_git, mlflow, kaggle, certificates, income_csv, cv, fairness"
        ),
    ] = None,
    user: UserOption = None,
) -> None:
    """Show, grant or withdraw consent per evidence source (withdrawing deletes its data)."""
    from agent.errors import SkillAuditError
    from agent.usecases.evidence import consent_status, set_consent
    from bots.session import work

    if action not in ("show", "grant", "withdraw"):
        fail(f"unknown action {action!r}; use show, grant or withdraw")
    if action != "show" and not sources:
        fail(f"name the sources to {action}")
    who = user_id(user)
    try:
        with work(who, create=action != "show") as turn:
            if action == "show":
                status = {} if turn is None else consent_status(turn.scope)
            else:
                assert turn is not None
                changes = set_consent(turn.scope, sources or [], action == "grant")
    except SkillAuditError as exc:
        fail(str(exc))
    if action == "show":
        from agent.sources import CONSENT_SOURCES

        for name in CONSENT_SOURCES:
            typer.echo(f"- {name}: {'yes' if status.get(name) else 'no'}")
        return
    for change in changes:
        if change.granted:
            typer.echo(f"Consent for {change.source} recorded.")
        else:
            plural = "" if change.deleted == 1 else "s"
            typer.echo(
                f"Consent for {change.source} withdrawn; {change.deleted} stored "
                f"result{plural} from it deleted."
            )


def connect(
    source: Annotated[
        str,
        typer.Argument(
            help="github, local_git, mlflow, kaggle, certificates, income_csv, cv, fairness, job_postings"
        ),
    ],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="What to read: a user name, a path, a tracking URI..."),
    ] = None,
    user: UserOption = None,
    refresh: Annotated[
        bool, typer.Option(help="Fetch again even if a fresh result is cached.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print what was found as JSON.")] = False,
) -> None:
    """Gather evidence from a source (after `skillaudit consent grant SOURCE`); it counts in
    your next audit."""
    from agent.errors import SkillAuditError
    from agent.side_commands import describe
    from agent.usecases.evidence import ConnectStatus
    from agent.usecases.evidence import connect as run
    from bots.session import work

    who = user_id(user)
    try:
        with work(who) as turn:
            assert turn is not None
            connection = run(turn, source, list(args or []), refresh)
    except SkillAuditError as exc:
        fail(str(exc))
    if connection.status == ConnectStatus.NEEDS_CONSENT:
        fail(
            f"no consent to read {source} yet: run `skillaudit consent grant {connection.source.consent}"
            f"{'' if user is None else f' --user {user}'}` first"
        )
    if json_out:
        sys.stdout.write(json.dumps(connection.data, indent=2, ensure_ascii=False) + "\n")
        return
    typer.echo(describe(connection).text)


def register(app: typer.Typer) -> None:
    """Add these subcommands to the `skillaudit` app."""
    for function, name in (
        (history, "history"),
        (report, "report"),
        (export, "export"),
        (forget, "forget"),
        (next_, "next"),
        (consent, "consent"),
        (connect, "connect"),
    ):
        app.command(name)(function)
