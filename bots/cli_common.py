"""What every `skillaudit` subcommand shares: the one-line failure, dates, the --user option."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, NoReturn

import typer

# Audit dates that make sense (schedules add months and years to them).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
UserOption = Annotated[
    str | None, typer.Option("--user", help="Whose data (default: your login name).")
]


def fail(message: str) -> NoReturn:
    """Print one clear line to stderr and exit with the bad-input code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def parse_as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of {value!r} is not a date; use YYYY-MM-DD")
    if not EARLIEST <= day <= LATEST:
        fail(
            f"--as-of {value} is outside {EARLIEST.year}-{LATEST.year}; give the audit's real date"
        )
    return day


def user_id(name: str | None) -> str:
    """The person a subcommand acts for (see bots.session.user_id); a blank name is refused."""
    from bots.session import user_id as resolve

    try:
        return resolve(name)
    except ValueError as exc:
        fail(str(exc))
