"""The `skillaudit` command line: one small function per subcommand, heavy imports inside."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bots.cli_common import UserOption, fail, parse_as_of, user_id

app = typer.Typer(
    name="skillaudit",
    help="SkillAudit: an evidence-based skills audit and learning planner for ML practitioners.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _add_kb() -> None:
    from bots.cli_kb import kb_app

    app.add_typer(kb_app, name="kb")


_add_kb()


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
    connect: Annotated[
        list[str] | None,
        typer.Option(help='Also read a source, e.g. --connect "github octocat" (repeatable).'),
    ] = None,
    user: UserOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and print only; store nothing.")
    ] = False,
) -> None:
    """Run a whole audit from a profile file and store it as your draft (review it in the chat)."""
    import shlex

    from agent.errors import SkillAuditError

    day = parse_as_of(as_of)
    try:
        specs = [shlex.split(spec) for spec in connect or []]
    except ValueError as exc:
        fail(f"--connect: {exc}")

    def warn(message: str) -> None:
        typer.echo(f"warning: {message}", err=True)

    stored = ""
    try:
        if dry_run:
            from agent.usecases.audits import score_file
            from agent.wiring import load_settings

            report, _ = score_file(profile, day, load_settings(), None, force, specs, warn)
        else:
            from agent.usecases.audits import audit_file
            from bots.session import work

            who = user_id(user)
            with work(who, today=day) as turn:
                assert turn is not None
                outcome = audit_file(turn, profile, force, specs, warn)
            report = outcome.report
            stored = (
                f"Stored as the draft audit of {who} (as of {day}); review it with "
                f"`skillaudit chat --user {who.removeprefix('cli:')}` and /review, or see "
                f"`skillaudit report --user {who.removeprefix('cli:')}`."
            )
    except SkillAuditError as exc:
        fail(str(exc))
    if json_out:
        sys.stdout.write(report.to_json() + "\n")
        if stored:
            typer.echo(stored, err=True)
        return
    from bots.audit_view import print_report

    print_report(report)
    if stored:
        typer.echo(stored)


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
        from agent.usecases.reference import schema_document

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
    """Talk to SkillAudit in the terminal; answers are saved as you go.

    With a language model, a failure is one line in the chat and its full record goes to
    SKILLAUDIT_HOME/logs/llm.log (or SKILLAUDIT_LLM_LOG).
    """
    from bots.chat import repl

    raise typer.Exit(code=repl(user))


@app.command()
def telegram(
    webhook: Annotated[
        bool, typer.Option(help="Receive updates by webhook instead of long polling.")
    ] = False,
    listen: Annotated[str, typer.Option(help="Webhook: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Webhook: port to listen on.")] = 8443,
    url: Annotated[
        str | None, typer.Option(help="Webhook: public HTTPS URL Telegram posts to.")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(envvar="TELEGRAM_WEBHOOK_SECRET", help="Webhook: secret token.")
    ] = None,
) -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE_URL for a self-hosted Bot API)."""
    import logging

    from agent.errors import SkillAuditError
    from agent.redact import set_level
    from agent.wiring import build_engine, load_settings

    try:
        settings = load_settings()
    except SkillAuditError as exc:
        fail(str(exc))
    if settings.telegram_bot_token is None:
        fail("TELEGRAM_BOT_TOKEN is not set; create a bot with @BotFather and export its token")
    if webhook and (not url or not secret):
        fail(
            "--webhook needs --url (the public HTTPS address) and --secret (or TELEGRAM_WEBHOOK_SECRET)"
        )
    if webhook and secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        # Telegram's own rule for the secret token; it would refuse setWebhook much later.
        fail("the webhook secret may hold only letters, digits, _ and - (1 to 256 of them)")
    # A server's log: one line per record on stderr, tracebacks in the log file; not a
    # line per HTTP request (httpx logs each one at INFO).
    set_level(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    token = settings.telegram_bot_token.get_secret_value()
    # Ask Telegram who the bot is before loading anything heavy: a rejected token or an
    # unreachable Bot API is one line, and the process ends before native libraries load.
    _check_token(token, settings.telegram_api_base_url)
    from bots.telegram import build_application

    try:
        engine = build_engine(settings)
    except SkillAuditError as exc:
        fail(str(exc))
    engine.recommender.warm_up()
    application = build_application(engine, token, settings.telegram_api_base_url, webhook=webhook)
    from telegram.error import TelegramError

    try:
        if webhook:
            application.run_webhook(
                listen=listen,
                port=port,
                url_path=webhook_path(url),
                secret_token=secret,
                webhook_url=url,
            )
        else:
            application.run_polling()
    except TelegramError as exc:
        fail(_telegram_problem(exc))
    finally:
        engine.store.dispose()


@app.command()
def migrate() -> None:
    """Apply pending schema migrations to the store (DATABASE_URL) and print what was applied.

    Every process migrates when it opens the store; run this once before starting several
    bot replicas, so none of them starts on a schema change.
    """
    from agent.errors import SkillAuditError
    from agent.store import MIGRATIONS, Store
    from agent.wiring import load_settings

    try:
        settings = load_settings()
    except SkillAuditError as exc:
        fail(str(exc))
    store = Store(settings.resolved_database_url(), settings.busy_timeout_s)
    try:
        about = {version: description for version, description, _ in MIGRATIONS}
        for version in store.applied:
            typer.echo(f"applied {version}: {about[version]}")
        typer.echo(
            f"schema version {store.schema_version()} ({store.dialect}); "
            f"{len(store.applied) or 'no'} migration{'' if len(store.applied) == 1 else 's'} applied"
        )
    finally:
        store.dispose()


def _check_token(token: str, base_url: str | None) -> None:
    """Call getMe once; a refused token or an unreachable Bot API ends the command (exit 2)."""
    import asyncio

    from telegram import Bot
    from telegram.error import TelegramError

    async def get_me() -> None:
        if base_url:
            root = base_url.rstrip("/")
            bot = Bot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot")
        else:
            bot = Bot(token)
        async with bot:  # initialize() calls getMe
            pass

    try:
        asyncio.run(get_me())
    except TelegramError as exc:
        fail(_telegram_problem(exc))


def _telegram_problem(exc: Exception) -> str:
    """One masked line for a Telegram failure (python-telegram-bot quotes the token)."""
    from telegram.error import InvalidToken, NetworkError

    from agent.redact import one_line

    if isinstance(exc, InvalidToken):
        return (
            "Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped); get the token from "
            f"@BotFather ({one_line(exc)})"
        )
    if isinstance(exc, NetworkError):
        return f"cannot reach the Telegram Bot API: {one_line(exc)}"
    return f"Telegram failed: {one_line(exc)}"


def webhook_path(url: str | None) -> str:
    """The path the bot listens on: the one in the public --url (a proxy passes it through)."""
    from urllib.parse import urlsplit

    return urlsplit(url or "").path.strip("/") or "telegram"


def _add_records() -> None:
    from bots import cli_records

    cli_records.register(app)


_add_records()


def _add_checks() -> None:
    from bots import cli_checks

    cli_checks.register(app)


_add_checks()


def main() -> None:
    import gc
    import os

    # Everything this program writes is personal data or derived from it (the store, reports,
    # charts, exports, logs): private to its owner whatever the shell's umask says.
    os.umask(0o077)
    from agent import redact

    # Log records go to SKILLAUDIT_HOME/logs (masked, in full) and the terminal gets one line;
    # an unexpected error anywhere is one masked line too, its traceback in that file.
    redact.install()
    # Start-up creates a few hundred thousand objects that live as long as the process (the
    # imported libraries); at the default threshold (700) the collector walks them hundreds
    # of times. Rarer young collections cut 0.06-0.1 s of CPU from `next` here.
    gc.set_threshold(50_000, 20, 100)
    try:
        app()
    except Exception as exc:  # whatever a command let through: one line, never a traceback
        sys.stderr.write(f"error: {_failure(exc)}\n")
        sys.exit(_exit_code(exc))
    finally:
        # The process ends here and its memory with it: spare the collector's passes over
        # everything at interpreter shutdown (0.4 s of a `next` on a loaded machine, 20 ms
        # after this). Files and the store are closed explicitly before this point.
        gc.freeze()


def _failure(exc: Exception) -> str:
    """One masked line for an error no command caught; unexpected ones are logged in full."""
    from agent.errors import SkillAuditError
    from agent.redact import mask, one_line, unexpected

    if isinstance(exc, SkillAuditError):
        return mask(str(exc))
    if _database_unreachable(exc):
        return f"the database is unreachable or refused the connection ({one_line(exc)})"
    return unexpected(exc)


def _database_unreachable(exc: Exception) -> bool:
    # Checked by name: importing SQLAlchemy here would slow every `--help`.
    return type(exc).__module__.startswith("sqlalchemy") and type(exc).__name__ in (
        "OperationalError",
        "InterfaceError",
    )


def _exit_code(exc: Exception) -> int:
    """2 for what the person can fix (input, configuration, the database), 1 for a fault."""
    from agent.errors import SkillAuditError

    return 2 if isinstance(exc, SkillAuditError) or _database_unreachable(exc) else 1


if __name__ == "__main__":
    main()
