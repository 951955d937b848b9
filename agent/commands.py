"""The chat commands, in one registry: name, what it does, where it is offered.

Intent detection, the engine's handlers, Telegram's command menu, `/help` and the CLI all
read `COMMANDS`; tests/agent/test_registries.py checks each entry has a handler and, where
it names one, a CLI subcommand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    about: str  # one line for menus and help
    usage: str = ""  # arguments, for help ("SOURCE ...")
    menu: bool = False  # offered in Telegram's command menu
    llm_only: bool = False  # only with a language model configured
    control: bool = False  # a word about the current question (back, skip, why), not a /command
    reviewer: bool = False  # only for the configured second reviewer
    cli: str | None = None  # the `skillaudit` subcommand that does the same, if any


COMMANDS: tuple[Command, ...] = (
    Command("start", "Start, with what is stored and how to erase it", menu=True),
    Command(
        "audit",
        'Start or resume your skills audit ("/audit force" within 30 days of the last one)',
        menu=True,
        cli="audit",
    ),
    Command("next", "What should I learn next?", menu=True, cli="next"),
    Command("progress", "Your audits over time and what changed", menu=True, cli="history"),
    Command(
        "report", "The full report of your latest audit (md, html or json)", menu=True, cli="report"
    ),
    Command("review", "Answer the review prompts that make a result final", menu=True),
    Command("model", "Audit one model's metrics against similar projects", menu=True),
    Command(
        "schedule",
        "When your next audit is due; add a time zone for reminders (Europe/Berlin)",
        usage="[TIME_ZONE]",
        menu=True,
    ),
    Command(
        "check",
        "A short quiz on one skill (4-6 questions) that counts as evidence",
        usage="[SKILL]",
        menu=True,
        cli="check",
    ),
    Command(
        "endorse",
        "Ask a client, peer or manager to rate your skills (a one-time code)",
        usage="[SKILLS]",
        menu=True,
        cli="endorse",
    ),
    Command(
        "endorsements",
        "Endorsements you received or gave: withdraw, erase, revoke a code",
        usage="[withdraw N | erase N | revoke N]",
        cli="endorse",
    ),
    Command("consent", "Which sources may be used as evidence; grant or withdraw", cli="consent"),
    Command("connect", "Gather evidence from a source", usage="SOURCE ...", cli="connect"),
    Command("export", "Download everything stored about you (JSON)", menu=True, cli="export"),
    Command("forget", "Erase everything stored about you", menu=True, cli="forget"),
    Command("help", "What I can do", menu=True),
    Command("cancel", "Stop what we are doing", menu=True),
    Command("guided", "Fixed questions with buttons", menu=True, llm_only=True),
    Command("conversation", "Talk with the language model", menu=True, llm_only=True),
    Command("back", "Change the previous answer", control=True),
    Command("skip", "Leave a question out", control=True),
    Command("why", "Why I ask this", control=True),
    Command("pending", "Outputs waiting for your approval", reviewer=True),
    Command("approve", "Approve a waiting output", usage="ID", reviewer=True),
    Command(
        "return", "Send a waiting output back with a comment", usage="ID COMMENT", reviewer=True
    ),
)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def menu(with_llm: bool) -> list[Command]:
    """The commands offered in a front end's menu."""
    return [c for c in COMMANDS if c.menu and (with_llm or not c.llm_only)]
