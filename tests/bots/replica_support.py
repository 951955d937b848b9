"""The replica test's machinery: bot replicas as real processes in webhook mode, a proxy that
splits updates between them and redelivers what was not acknowledged, and people who each run
a whole guided audit (tests/bots/test_replicas.py has the scenario and what it proves).

The test plays Telegram and the proxy. Updates are made by the fake Bot API (`user_says`, so
their ids increase by one across all chats, as Telegram's do) and POSTed with the secret
header to a replica's webhook; an update counts as delivered only on HTTP 200, otherwise it is
sent again, to the replica the proxy now picks. Each replica calls the fake through its own
`/via/NAME` prefix, so the kill can be placed inside one replica's call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from agent.config import Settings
from agent.engine import Engine
from agent.sources import Asker
from agent.store import Delivery, OutboxRow, Store
from agent.store.models import utcnow
from bots.telegram_send import html_chunks
from knowledge.base import KnowledgeBase
from tests.bots.telegram_support import Zygote
from tests.fakes.telegram_server import DropConnection, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-replica-token"
BOT = TOKEN.partition(":")[0]
SECRET = "replica-test-secret"
# Only something that stopped altogether waits this long; every wait ends when its condition holds.
HANG_GUARD_S = 180.0
# A whole guided audit, as a Telegram user starts it (tests/agent/transcripts/full_audit.yaml).
SCRIPT = ["/start"] + [
    step["say"]
    for step in yaml.safe_load((ROOT / "tests/agent/transcripts/full_audit.yaml").read_text())[
        "steps"
    ][1:]
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def post(port: int, update: dict[str, Any], timeout: float = HANG_GUARD_S) -> int:
    """POST an update to a replica's webhook as Telegram does; its HTTP status (OSError when
    the replica is gone or hangs up)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def post_async(port: int, update: dict[str, Any]) -> int:
    return await asyncio.to_thread(post, port, update)


def reference(
    kb: KnowledgeBase, home: Path, database: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The replies and stored answers of SCRIPT through the engine alone, on the same kind
    of store (the welcome names it), as person tg:1 of another bot."""
    settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=database)
    engine = Engine(Store(settings.resolved_database_url()), settings, kb)
    replies = []
    for number, text in enumerate(SCRIPT, 1):
        reply = engine.handle_sync("tg:1", text, Delivery("1", number, 1), Asker.REMOTE)
        assert reply is not None
        replies.append(reply.text)
    answers = stored_answers(engine.store, 1)
    engine.store.dispose()
    return replies, answers


def stored_answers(store: Store, chat: int) -> dict[str, Any]:
    with store.user(f"tg:{chat}") as scope:
        row = scope.last_flow("interview")
        assert row is not None, chat
        assert len(row.history) == len(set(row.history)), row.history  # each answer once
        return {k: v for k, v in row.answers.items() if not k.startswith("_")}


def parts(replies: list[str]) -> list[str]:
    """The Telegram messages of replies, as shown (a long reply is several)."""
    return [plain for reply in replies for _, plain in html_chunks(reply) if plain.strip()]


def deduplicated(texts: list[str]) -> tuple[list[str], Counter[str]]:
    """Texts with immediate repeats removed, and how often each text was repeated."""
    kept: list[str] = []
    repeats: Counter[str] = Counter()
    for text in texts:
        if kept and kept[-1] == text:
            repeats[text] += 1
        else:
            kept.append(text)
    return kept, repeats


@dataclass
class Life:
    """One replica process: its name (shared by a restart), its port and its /via/ name."""

    name: str
    via: str
    port: int
    pid: int = 0


@dataclass
class Outcome:
    allowed: Counter[tuple[int, str]] = field(default_factory=Counter)  # lost acknowledgements
    acked: Counter[str] = field(default_factory=Counter)  # updates acknowledged per replica
    redelivered: int = 0
    killed: bool = False


class Deployment:
    """Replicas behind a proxy, and the people talking to them.

    `names`: the replicas (two on PostgreSQL, one on SQLite). The first is killed with SIGKILL
    inside one of its sendMessage calls, after Telegram applied it (so that reply's
    acknowledgement is lost), once half the updates were acknowledged. With another replica
    left, the proxy sends everything there; alone, it is restarted under its name, as a
    supervisor would, and the proxy waits for it.
    """

    def __init__(
        self, fake: FakeTelegram, zygote: Zygote, store: Store, names: list[str], chats: list[int]
    ) -> None:
        self.fake = fake
        self.zygote = zygote
        self.store = store
        self.names = names
        self.chats = chats
        self.outcome = Outcome()
        self.lives = {name: Life(name, f"{name}1", free_port()) for name in names}
        self.victim = names[0]
        self.kill_at = len(chats) * len(SCRIPT) // 2
        self._dead_vias: set[str] = set()
        self._deciding = threading.Lock()  # the fake serves calls in several threads
        self._changed = threading.Condition()
        self._sent: dict[int, list[str]] = {chat: [] for chat in chats}
        self._restarted = threading.Event()
        self.errors: list[BaseException] = []

    # Replicas and the proxy ----------------------------------------------------------------

    def start(self) -> None:
        for life in self.lives.values():
            self._start(life)
        self.fake.on_call = self._hook

    def _start(self, life: Life) -> None:
        life.pid = self.zygote.start_webhook(
            life.name, life.port, f"{self.fake.url}/via/{life.via}"
        )
        wait(lambda: listening(life.port), f"replica {life.via} listening on {life.port}")

    def stop(self) -> None:
        self.fake.on_call = None
        for life in self.lives.values():
            if life.via not in self._dead_vias:
                self.zygote.kill(life.pid)

    def route(self, chat: int, step: int) -> str:
        """The proxy's choice: a chat's consecutive updates go to different replicas."""
        return self.names[(chat + step) % len(self.names)]

    def deliver(self, update: dict[str, Any], name: str) -> None:
        """Send an update until a replica acknowledges it with HTTP 200."""
        deadline = time.monotonic() + HANG_GUARD_S
        life = self.lives[name]
        while True:
            try:
                status: int | None = post(life.port, update)
            except OSError:
                status = None
            if status == 200:
                with self._changed:
                    self.outcome.acked[life.via] += 1
                return
            assert time.monotonic() < deadline, f"update {update['update_id']} never acknowledged"
            with self._changed:
                self.outcome.redelivered += 1
            if life.via in self._dead_vias:  # the proxy finds it gone: another one, or its restart
                life = self._instead(life)
            elif status is not None:  # refused by a live replica (its store was busy): again
                time.sleep(0.05)

    def _instead(self, life: Life) -> Life:
        name = life.name
        survivors = [n for n in self.names if self.lives[n].via not in self._dead_vias]
        if survivors:
            return self.lives[survivors[0]]
        assert self._restarted.wait(HANG_GUARD_S), "the replica was not restarted"
        return self.lives[name]

    def _hook(self, method: str, params: dict[str, Any], phase: str) -> None:
        via = self.fake.caller()
        if method == "sendMessage" and phase == "after" and via not in self._dead_vias:
            chat = int(str(params.get("chat_id")))  # form fields, not yet decoded
            with self._changed:
                if chat in self._sent:
                    self._sent[chat].append(str(params.get("text")))
                    self._changed.notify_all()
        with self._deciding:
            if via in self._dead_vias:
                raise DropConnection  # a call the killed process made just before dying
            if self.outcome.killed or via != self.lives[self.victim].via:
                return
            if (method, phase) != ("sendMessage", "after"):
                return
            if sum(self.outcome.acked.values()) < self.kill_at:
                return
            self._kill()
            raise DropConnection

    def _kill(self) -> None:
        """SIGKILL the victim inside its call, and note the replies it held leases on: it may
        have sent them without learning that Telegram accepted them, so they alone may come
        twice (a row is sent only by its lease holder; another takes it over after that)."""
        life = self.lives[self.victim]
        self.zygote.kill(life.pid)
        self._dead_vias.add(life.via)
        deliveries = self.store.deliveries
        others = len(self.names) > 1
        if others:
            # The test keeps the dead replica "alive" while it looks, so the survivor cannot
            # take its leases over before that, then makes it stopped at once: the outcome
            # does not depend on how long the look takes, and nobody waits STOPPED_AFTER_S.
            deliveries.heartbeat(BOT, life.name, now=utcnow() + dt.timedelta(hours=1))
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(OutboxRow.chat_id, OutboxRow.payload).where(
                    OutboxRow.state == "pending", OutboxRow.lease_owner == life.name
                )
            ).all()
        for chat, payload in rows:
            for part in parts([str(payload["reply"]["text"])]):
                self.outcome.allowed[(int(chat), part)] += 1
        if others:
            deliveries.heartbeat(BOT, life.name, now=utcnow() - dt.timedelta(hours=1))
        self.outcome.killed = True
        if not others:
            threading.Thread(target=self._restart, args=(life,), daemon=True).start()

    def _restart(self, life: Life) -> None:
        number = int(life.via.removeprefix(life.name)) + 1
        restarted = Life(life.name, f"{life.name}{number}", free_port())
        try:
            self._start(restarted)
        except BaseException as exc:
            self.errors.append(exc)
            raise
        self.lives[life.name] = restarted
        self._restarted.set()

    # People -------------------------------------------------------------------------------

    def replies(self, chat: int) -> int:
        """How many different replies the chat has seen (a repeated one counts once)."""
        return len(deduplicated(self._sent[chat])[0])

    def person(self, chat: int) -> None:
        """One person's whole audit; every fifth answer or so is sent right after the one
        before it, before its reply, and the two race to their replicas."""
        step = 0
        try:
            while step < len(SCRIPT):
                both = (chat + step) % 5 == 2 and 0 < step < len(SCRIPT) - 1
                count = 2 if both else 1
                updates = [self.fake.user_says(chat, SCRIPT[step + i]) for i in range(count)]
                targets = [self.route(chat, step + i) for i in range(count)]
                if both:  # the later one is started first: it may well arrive first
                    later = threading.Thread(target=self.deliver, args=(updates[1], targets[1]))
                    later.start()
                    self.deliver(updates[0], targets[0])
                    later.join()
                else:
                    self.deliver(updates[0], targets[0])
                step += count
                with self._changed:
                    done = self._changed.wait_for(
                        lambda step=step: self.replies(chat) >= step,  # type: ignore[misc]
                        timeout=HANG_GUARD_S,
                    )
                assert done, f"chat {chat}: {self.replies(chat)} replies after {step} steps"
        except BaseException as exc:
            self.errors.append(exc)

    def run(self) -> None:
        people = [threading.Thread(target=self.person, args=(chat,)) for chat in self.chats]
        for thread in people:
            thread.start()
        for thread in people:
            thread.join()
        if self.errors:
            raise self.errors[0]
        deliveries = self.store.deliveries
        # Replies sent twice (lost acknowledgements) are resent before their rows go.
        wait(
            lambda: deliveries.pending_count(BOT) == 0 and not deliveries.unhandled(BOT),
            "every reply delivered and every update handled",
        )


def wait(condition: Callable[[], object], what: str) -> None:
    """Poll a condition outside the fake (a port, the store) until it holds."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for: {what}"
        time.sleep(0.05)


def replica_env(home: Path, database: str | None, fake: FakeTelegram) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE", "SKILLAUDIT_REPLICA"))
    }
    env.update(
        SKILLAUDIT_HOME=str(home), TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.url,
        TELEGRAM_WEBHOOK_SECRET=SECRET, PTB_TIMEDELTA="1", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    if database:
        env["DATABASE_URL"] = database
    return env
