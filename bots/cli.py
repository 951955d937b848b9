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


def _add_kb() -> None:
    from bots.cli_kb import kb_app

    app.add_typer(kb_app, name="kb")


_add_kb()


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
    connect: Annotated[
        list[str] | None,
        typer.Option(help='Also read a source, e.g. --connect "github octocat" (repeatable).'),
    ] = None,
) -> None:
    """Run a whole audit from a profile file, without conversation."""
    from agent.audit import SkillAuditError, audit_profile_file

    day = parse_as_of(as_of)
    try:
        report = audit_profile_file(
            profile,
            day,
            force=force,
            connects=connect or [],
            warn=lambda m: typer.echo(f"warning: {m}", err=True),
        )
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
    from bots.chat import repl

    raise typer.Exit(code=repl(user))


UserOption = Annotated[
    str | None, typer.Option("--user", help="Whose data (default: your login name).")
]


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def _one_shot(user: str | None, *messages: str) -> object:
    """Send messages as one user; a domain error (a full disk, say) becomes one clear line."""
    from agent.audit import SkillAuditError
    from bots.chat import one_shot

    try:
        return one_shot(user, *messages)
    except SkillAuditError as exc:
        fail(str(exc))


def _saved_file(reply: object, output: Path | None, what: str, user: str | None) -> None:
    """Print the paths of the files a reply carries (the first copied to --output when given)."""
    import shutil

    from bots.chat import user_id

    attachments = getattr(reply, "attachments", [])
    if not attachments:
        fail(f"no {what} for {user_id(user)} yet: run `skillaudit chat` first")
    paths = [a.path for a in attachments]
    if output is not None:
        try:
            shutil.copyfile(paths[0], output)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
        paths[0] = output
    for path in paths:
        typer.echo(str(path))


@app.command()
def history(user: UserOption = None) -> None:
    """Your audits over time, what changed between the latest two, and a progress chart."""
    from bots.chat import one_shot

    reply = one_shot(user, "/progress")
    typer.echo(getattr(reply, "text", ""))
    for attachment in getattr(reply, "attachments", []):
        typer.echo(f"chart: {attachment.path}")


@app.command()
def report(
    user: UserOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="md, html or json.")
    ] = ReportFormat.md,
    output: Annotated[Path | None, typer.Option(help="Also copy the report to this file.")] = None,
) -> None:
    """Write the report of your latest audit and its pillar chart; print their paths."""
    _saved_file(_one_shot(user, f"/report {fmt.value}"), output, "audit", user)


@app.command()
def export(
    user: UserOption = None,
    output: Annotated[Path | None, typer.Option(help="Also copy the export to this file.")] = None,
) -> None:
    """Write everything stored about you to a JSON file and print its path."""
    _saved_file(_one_shot(user, "/export"), output, "data", user)


@app.command()
def forget(
    user: UserOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything stored about you (asks first unless --yes)."""
    from bots.chat import one_shot, user_id

    if not yes and not typer.confirm(
        f"Erase everything stored about {user_id(user)}? This cannot be undone"
    ):
        typer.echo("Nothing was erased.")
        return
    typer.echo(getattr(one_shot(user, "/forget", "yes"), "text", ""))


@app.command("next")
def next_(
    text: Annotated[
        str, typer.Argument(help="Your question or topic, e.g. 'deploy models with Docker'.")
    ] = "",
    user: UserOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """What should I learn next? Recommendations from your audit or for a topic."""
    import json

    from bots.chat import one_shot

    reply = one_shot(user, f"/next {text}".strip())
    data = getattr(reply, "data", None)
    if data is None:
        fail(
            'no audit yet and no topic: name a topic (skillaudit next "docker") or run `skillaudit chat`'
        )
    if json_out:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    typer.echo(getattr(reply, "text", ""))


@app.command()
def consent(
    action: Annotated[str, typer.Argument(help="show, grant or withdraw")] = "show",
    sources: Annotated[
        list[str] | None, typer.Argument(help="github, local_git, mlflow, kaggle, ...")
    ] = None,
    user: UserOption = None,
) -> None:
    """Show, grant or withdraw consent per evidence source (withdrawing deletes its data)."""
    from bots.chat import one_shot

    if action not in ("show", "grant", "withdraw"):
        fail(f"unknown action {action!r}; use show, grant or withdraw")
    if action != "show" and not sources:
        fail(f"name the sources to {action}")
    command = "/consent" if action == "show" else f"/consent {action} {' '.join(sources or [])}"
    text = getattr(one_shot(user, command), "text", "")
    if "Unknown source" in text:
        fail(text.strip().splitlines()[-1])
    typer.echo(text)


@app.command()
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
    """Gather evidence from a source (after /consent for it); it counts in your next audit."""
    import json
    import shlex

    from bots.chat import one_shot

    words = [source, *(args or []), *(["--refresh"] if refresh else [])]
    reply = one_shot(user, "/connect " + " ".join(shlex.quote(w) for w in words))
    data = getattr(reply, "data", None)
    if data is None:
        # The reply may open with a welcome and end with the repeated question; the problem
        # is the first line of the paragraph just before that question.
        text = getattr(reply, "text", "").split("\n\nBack to where we were:")[0].strip()
        fail(text.split("\n\n")[-1].splitlines()[0] if text else "nothing found")
    if json_out:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    typer.echo(getattr(reply, "text", ""))


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

    from agent.config import Settings

    settings = Settings()
    if settings.telegram_bot_token is None:
        fail("TELEGRAM_BOT_TOKEN is not set; create a bot with @BotFather and export its token")
    if webhook and (not url or not secret):
        fail(
            "--webhook needs --url (the public HTTPS address) and --secret (or TELEGRAM_WEBHOOK_SECRET)"
        )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from agent.engine import Engine
    from agent.store import Store
    from bots.telegram import build_application

    store = Store(settings.resolved_database_url())
    engine = Engine(store, settings)
    engine.recommender.warm_up()
    token = settings.telegram_bot_token.get_secret_value()
    application = build_application(engine, token, settings.telegram_api_base_url)
    if webhook:
        application.run_webhook(
            listen=listen, port=port, url_path="telegram", secret_token=secret, webhook_url=url
        )
    else:
        application.run_polling()
    store.dispose()


def main() -> None:
    import gc

    from agent.redact import redact_environment

    # Start-up creates a few hundred thousand objects that live as long as the process (the
    # imported libraries); at the default threshold (700) the collector walks them hundreds
    # of times. Rarer young collections cut 0.06-0.1 s of CPU from `next` here.
    gc.set_threshold(50_000, 20, 100)
    redact_environment()
    try:
        app()
    finally:
        # The process ends here and its memory with it: spare the collector's passes over
        # everything at interpreter shutdown (0.4 s of a `next` on a loaded machine, 20 ms
        # after this). Files and the store are closed explicitly before this point.
        gc.freeze()


if __name__ == "__main__":
    main()
