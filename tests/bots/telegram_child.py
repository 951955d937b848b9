"""Bot processes for the crash test: a parent that has imported everything forks a fresh bot
on request, and kills one with SIGKILL on request, so a hundred crashes cost a hundred forks
rather than a hundred interpreter starts.

Protocol, one line each way: "start" -> "started PID"; "kill PID" -> "killed PID" (the process
is gone when this is printed); "quit" ends the parent. The bots read their settings from the
environment (SKILLAUDIT_HOME, TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL) and log to stderr.
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


def main() -> None:
    # Everything slow to import is imported before the first fork, and nothing starts a
    # thread here, so a fork is safe.
    import telegram.ext  # noqa: F401

    import agent.engine  # noqa: F401
    import bots.telegram  # noqa: F401
    from knowledge.base import default_knowledge

    default_knowledge()
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "start":
            pid = os.fork()
            if pid == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)  # the protocol's pipes belong to the parent
                os.dup2(2, 1)
                try:
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
