"""The `skillaudit` command line: one small function per subcommand, heavy imports inside."""

from __future__ import annotations

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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bots.telegram import build_application

    try:
        engine = build_engine(settings)
    except SkillAuditError as exc:
        fail(str(exc))
    engine.recommender.warm_up()
    token = settings.telegram_bot_token.get_secret_value()
    application = build_application(engine, token, settings.telegram_api_base_url)
    if webhook:
        application.run_webhook(
            listen=listen, port=port, url_path="telegram", secret_token=secret, webhook_url=url
        )
    else:
        application.run_polling()
    engine.store.dispose()


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

    # Start-up creates a few hundred thousand objects that live as long as the process (the
    # imported libraries); at the default threshold (700) the collector walks them hundreds
    # of times. Rarer young collections cut 0.06-0.1 s of CPU from `next` here.
    gc.set_threshold(50_000, 20, 100)
    try:
        app()
    finally:
        # The process ends here and its memory with it: spare the collector's passes over
        # everything at interpreter shutdown (0.4 s of a `next` on a loaded machine, 20 ms
        # after this). Files and the store are closed explicitly before this point.
        gc.freeze()


if __name__ == "__main__":
    main()
