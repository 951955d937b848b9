"""Bot processes for the crash test: a parent that has imported everything forks a fresh bot
on request, and kills one with SIGKILL on request, so a hundred crashes cost a hundred forks
rather than a hundred interpreter starts.

Protocol, one line each way: "start" -> "started PID"; "webhook NAME PORT BASE_URL" -> "started
PID" (a replica named NAME in webhook mode on 127.0.0.1:PORT, calling the Bot API at BASE_URL);
"kill PID" -> "killed PID" (the process is gone when this is printed); "quit" ends the parent.
The bots read their settings from the environment (SKILLAUDIT_HOME, DATABASE_URL,
TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, TELEGRAM_WEBHOOK_SECRET) and log to stderr.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback


def run_bot() -> None:
    """One bot process: the real wiring, polling until it is killed."""
    from agent.config import Settings
    from agent.engine import Engine
    from agent.store import Store
    from bots.telegram import build_application
    from knowledge.base import default_knowledge

    logging.basicConfig(
        level=logging.WARNING, format=f"{os.getpid()} %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    assert settings.telegram_bot_token is not None
    engine = Engine(Store(settings.resolved_database_url()), settings, default_knowledge())
    app = build_application(
        engine,
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_base_url,
        typing_delay=3600.0,  # no typing actions: every call the test sees is a reply's
        backoff=(0.05, 0.05, 0.05),
        sweep_every=3600.0,
    )
    app.run_polling(poll_interval=0.0, timeout=1, stop_signals=None)


def run_replica(name: str, port: int, base_url: str) -> None:
    """One replica in webhook mode: the wiring of `skillaudit telegram --webhook`, with the
    sweep that takes over a stopped replica's leftovers every half second (not every 30 s)
    and a grace for updates in flight that no load on this machine outlasts (the default,
    GRACE_S, is for Telegram, whose consecutive updates arrive milliseconds apart; the
    test's two racing POSTs may be far apart on a loaded machine)."""
    from agent.config import Settings
    from agent.engine import Engine
    from agent.store import Store
    from bots.telegram import build_application
    from knowledge.base import default_knowledge

    logging.basicConfig(
        level=logging.WARNING, format=f"{name} {os.getpid()} %(levelname)s %(name)s: %(message)s"
    )
    os.environ["SKILLAUDIT_REPLICA"] = name
    os.environ["TELEGRAM_API_BASE_URL"] = base_url
    settings = Settings()
    assert settings.telegram_bot_token is not None and settings.telegram_webhook_secret
    engine = Engine(Store(settings.resolved_database_url()), settings, default_knowledge())
    app = build_application(
        engine,
        settings.telegram_bot_token.get_secret_value(),
        base_url,
        typing_delay=3600.0,  # no typing actions: every call the test sees is a reply's
        backoff=(0.05, 0.05, 0.05),
        sweep_every=0.5,
        webhook=True,
        grace=60.0,
    )
    app.run_webhook(
        listen="127.0.0.1", port=port, url_path="telegram",
        secret_token=settings.telegram_webhook_secret.get_secret_value(),
        webhook_url="https://example.invalid/telegram", stop_signals=None,
    )  # fmt: skip


def main() -> None:
    # Everything slow to import is imported before the first fork, and nothing starts a
    # thread here, so a fork is safe.
    import telegram.ext  # noqa: F401

    import agent.engine
    import agent.render  # noqa: F401
    import bots.telegram
    import bots.telegram_files
    import bots.telegram_http  # noqa: F401  (aiohttp: its import builds SSL contexts)
    from knowledge.base import default_knowledge

    default_knowledge()
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command in ("start", "webhook"):
            pid = os.fork()
            if pid == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)  # the protocol's pipes belong to the parent
                os.dup2(2, 1)
                try:
                    if command == "webhook":
                        name, port, base_url = argument.split()
                        run_replica(name, int(port), base_url)
                    else:
                        run_bot()
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            print(f"started {pid}", flush=True)
        elif command == "kill":
            pid = int(argument)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print(f"killed {pid}", flush=True)
        elif command == "quit":
            break


if __name__ == "__main__":
    main()
