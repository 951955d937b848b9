"""What the Telegram tests share: a running bot against the fake Bot API, and reading its chat."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from bots.telegram import build_application
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent.conftest import TODAY
from tests.fakes.telegram_server import FakeTelegram, callback_data

os.environ.setdefault("PTB_TIMEDELTA", "1")
TOKEN = "123456:TEST-token-never-logged"
QUICK = (0.01, 0.01, 0.01)  # retry waits for tests: the count matters, not the time

ROOT = Path(__file__).resolve().parents[2]


def make_engine(
    home: Path, kb: KnowledgeBase, retriever: Retriever | None = None, **settings: Any
) -> Engine:
    config = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=None, **settings)
    store = Store(config.resolved_database_url())
    return Engine(
        store, config, kb, today=lambda: TODAY, recommender=Recommender(config, kb, retriever)
    )


@asynccontextmanager
async def running(
    engine: Engine,
    fake: FakeTelegram,
    typing_delay: float = 0.3,
    backoff: Sequence[float] = QUICK,
    token: str = TOKEN,
    **options: Any,
) -> AsyncIterator[Any]:
    """The real application, polling the fake, until the block ends."""
    app = build_application(engine, token, fake.url, typing_delay, backoff, **options)
    async with app:
        await app.start()
        if app.post_init is not None:  # run_polling would call it; start() does not
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    """The texts the bot sent to a chat, as shown (HTML entities read)."""
    return fake.texts(chat)


async def wait_text(fake: FakeTelegram, chat: int, needle: str, after: int = 0) -> str:
    """Wait until a text containing `needle` was sent (after the first `after` ones)."""

    def seen() -> str | None:
        return next((t for t in texts(fake, chat)[after:] if needle in t), None)

    return await asyncio.to_thread(fake.wait_for, seen)


async def wait_count(fake: FakeTelegram, chat: int, count: int) -> list[str]:
    """Wait until the bot sent at least `count` texts to the chat; return them."""
    return await asyncio.to_thread(
        fake.wait_for, lambda: len(texts(fake, chat)) >= count and texts(fake, chat)
    )


def button(message: dict[str, Any], value: str) -> str:
    """The callback data of the button of `message` that answers `value` (see telegram_send)."""
    found = [d for d in callback_data(message) if d.rpartition("|")[2] == value]
    assert found, f"no button for {value!r} in {callback_data(message)}"
    return found[0]


def last_keyboard(fake: FakeTelegram, chat: int) -> dict[str, Any]:
    """The latest bot message of the chat that has buttons (as it looks now)."""
    found = [m for m in fake.messages(chat) if m.get("reply_markup") and "is_bot" in m["from"]]
    found = [m for m in found if m["from"]["is_bot"]]
    assert found, "the bot sent no buttons to this chat"
    return found[-1]


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def press(fake: FakeTelegram, chat: int, value: str, message: dict[str, Any] | None = None) -> str:
    """Press the button answering `value` on the latest keyboard (or on `message`)."""
    message = message or last_keyboard(fake, chat)
    return fake.user_presses(chat, message["message_id"], button(message, value))


def press_data(fake: FakeTelegram, chat: int, data: str) -> str:
    """Press the button with this exact callback data on the latest keyboard."""
    message = last_keyboard(fake, chat)
    return fake.user_presses(chat, message["message_id"], data)


def answers(engine: Engine, chat: int) -> dict[str, Any]:
    """The interview answers stored for a chat's person."""
    with engine.store.user(f"tg:{chat}") as scope:
        row = scope.last_flow("interview")
        return dict(row.answers) if row is not None else {}


__all__ = ["TODAY", "TOKEN"]


class Zygote:
    """The parent of bot processes (tests/bots/telegram_child.py): it has imported everything
    once and forks a fresh bot on request, and kills one with SIGKILL on request."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bots.telegram_child"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
        )  # fmt: skip
        self._lock = threading.Lock()
        assert self._read() == "ready"

    def _read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line, "the bot parent died; see its log"
        return line

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        with self._lock:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
            return self._read()

    def start(self) -> int:
        """A bot polling the Bot API the environment names; its pid."""
        return int(self._ask("start").split()[1])

    def start_webhook(self, name: str, port: int, base_url: str) -> int:
        """A replica named `name` listening for webhook calls on `port`; its pid."""
        answer = self._ask(f"webhook {name} {port} {base_url}")
        assert answer.startswith("started "), answer
        return int(answer.split()[1])

    def kill(self, pid: int) -> None:
        assert self._ask(f"kill {pid}") == f"killed {pid}"

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self._log.close()
