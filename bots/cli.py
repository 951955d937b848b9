"""The `skillaudit` command line: one small function per subcommand, heavy imports inside."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    name="skillaudit",
    help="SkillAudit: an evidence-based skills audit and learning planner for ML practitioners.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str) -> NoReturn:
    """Print one clear line to stderr and exit with the bad-input code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def parse_as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of {value!r} is not a date; use YYYY-MM-DD")


@app.command()
def audit(
    profile: Annotated[Path, typer.Option("--profile", "-p", help="Profile file (YAML or JSON).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    as_of: Annotated[
        str | None, typer.Option(help="Audit date YYYY-MM-DD (default: today).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Run even within 30 days of the last full audit.")
    ] = False,
) -> None:
    """Run a whole audit from a profile file, without conversation."""
    from agent.audit import SkillAuditError, audit_profile_file

    day = parse_as_of(as_of)
    try:
        report = audit_profile_file(profile, day, force=force)
    except SkillAuditError as exc:
        fail(str(exc))
    if json_out:
        sys.stdout.write(report.to_json() + "\n")
        return
    from bots.audit_view import print_report

    print_report(report)


class SchemaName(StrEnum):
    profile = "profile"
    result = "result"
    skills = "skills"
    roles = "roles"
    tasks = "tasks"


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="profile, result, skills, roles or tasks.")],
) -> None:
    """Print the JSON Schema of the profile or result, or the known skills, roles and tasks."""
    import json

    if name in (SchemaName.profile, SchemaName.result):
        from agent.audit import schema_document

        sys.stdout.write(json.dumps(schema_document(name.value), indent=2) + "\n")
        return
    from bots.audit_view import print_catalog

    print_catalog(name.value)


@app.command()
def chat(
    user: Annotated[
        str | None, typer.Option(help="Who is talking (default: your login name).")
    ] = None,
) -> None:
    """Talk to SkillAudit in the terminal; answers are saved as you go."""
    import asyncio

    from bots.chat import repl

    raise typer.Exit(code=asyncio.run(repl(user)))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
