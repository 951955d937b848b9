"""When a polled update is acknowledged: only once it is handled, or stored if its turn is slow.

The next getUpdates' offset tells Telegram that every update before it arrived; after that,
Telegram never sends them again. So the bot waits for the last batch's turns before it polls
(`Bot.settle`), and stores (with the raw update, for a replay) only those whose turn has not
committed by then. The fake Bot API's call hook reads the store at the moment each getUpdates
arrives, which is when the acknowledgement happens.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.store.models import utcnow
from knowledge.base import KnowledgeBase
from tests.bots.telegram_support import (
    answers,
    make_engine,
    running,
    texts,
    wait_count,
    wait_text,
)
from tests.fakes.telegram_server import FakeTelegram

TOKEN = "123456:TEST-token-never-logged"
BOT = TOKEN.partition(":")[0]
FOREVER = 3600.0


@pytest.fixture
def engine(tmp_path: Path, kb: KnowledgeBase) -> Engine:
    return make_engine(tmp_path / "home", kb)


def database(engine: Engine) -> Path:
    url = engine.settings.resolved_database_url()
    return Path(url.removeprefix("sqlite:///"))


def rows(db: Path) -> dict[int, tuple[str, Any]]:
    """update id -> (state, raw update or None) of every inbox row."""
    with sqlite3.connect(db) as conn:
        found = conn.execute("select update_id, state, payload from processed_updates").fetchall()
    return {int(u): (state, json.loads(raw) if raw else None) for u, state, raw in found}


class Acks:
    """What the store held for the acknowledged updates at each getUpdates."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.seen: dict[int, tuple[str, Any]] = {}  # update id -> its row when acknowledged
        self.delivered: set[int] = set()
        self.lock = threading.Lock()

    def hook(self, method: str, fields: dict[str, Any], when: str) -> None:
        if method != "getUpdates" or when != "before":
            return
        offset = int(fields.get("offset") or 0)
        with self.lock:
            new = [u for u in self.delivered if u < offset and u not in self.seen]
            if new:
                now = rows(self.db)
                for update_id in new:
                    self.seen[update_id] = now.get(update_id, ("missing", None))

    def note(self, update: dict[str, Any]) -> None:
        with self.lock:
            self.delivered.add(int(update["update_id"]))


def test_quick_turns_are_acknowledged_once_handled_and_never_stored(engine: Engine) -> None:
    chats = [8101, 8102, 8103]
    acks = Acks(database(engine))

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            fake.on_call = acks.hook
            async with running(engine, fake, ack_wait=FOREVER):
                for chat in chats:
                    acks.note(fake.user_says(chat, "/start"))
                for chat in chats:
                    await wait_text(fake, chat, "Which role")
                with fake.batch():  # one getUpdates brings them all
                    for chat in chats:
                        for text in ("ml engineer", "senior"):
                            acks.note(fake.user_says(chat, text))
                for chat in chats:
                    await wait_count(fake, chat, 3)
                acks.note(fake.user_says(chats[0], "7 years"))
                await wait_count(fake, chats[0], 4)
            # Stopping acknowledges the last batch too.

    asyncio.run(scenario())
    assert acks.seen.keys() == acks.delivered, "every update was acknowledged"
    assert {state for state, _ in acks.seen.values()} == {"handled"}, acks.seen
    # No raw message was ever kept: every row is a handled mark without the update.
    assert all(state == "handled" and raw is None for state, raw in rows(acks.db).values())


def test_a_slow_turn_is_stored_with_its_update_before_it_is_acknowledged(engine: Engine) -> None:
    chat = 8201
    acks = Acks(database(engine))
    release = threading.Event()
    answer = engine.answer_update

    async def slow(user: str, text: str, delivery: Any, asker: Any) -> Any:
        if text == "senior":  # held until the test has seen the acknowledgement
            await asyncio.to_thread(release.wait, 60)
        return await answer(user, text, delivery, asker)

    engine.answer_update = slow  # type: ignore[method-assign]

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            fake.on_call = acks.hook
            async with running(engine, fake, ack_wait=0.01):
                acks.note(fake.user_says(chat, "/start"))
                await wait_text(fake, chat, "Which role")
                acks.note(fake.user_says(chat, "ml engineer"))
                await wait_count(fake, chat, 2)
                held = fake.user_says(chat, "senior")
                acks.note(held)
                while held["update_id"] not in acks.seen:  # the next poll acknowledged it
                    await asyncio.sleep(0.01)
                state, raw = acks.seen[held["update_id"]]
                assert state == "received" and raw is not None
                assert raw["message"]["text"] == "senior"
                # Polling went on meanwhile: another person is answered at once.
                fake.user_says(8202, "/start")
                await wait_text(fake, 8202, "Which role")
                release.set()
                sent = await wait_count(fake, chat, 3)
                assert "Noted: Senior" in sent[2], sent

    asyncio.run(scenario())
    held = max(acks.delivered)  # "senior", the last one noted
    assert rows(acks.db)[held] == ("handled", None)  # its raw copy went with the answer
    assert answers(engine, chat)["career_stage"] == "senior"


def test_a_stopped_replicas_earlier_update_goes_before_a_polled_one(engine: Engine) -> None:
    """A handover: the replica polling before this one stored update 2 of the chat (and
    acknowledged it), then stopped; update 3 reaches this one, which handles 2 first."""
    chat = 8301
    deliveries = engine.store.deliveries

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake, ack_wait=FOREVER):
                start = fake.user_says(chat, "/start")
                await wait_text(fake, chat, "Which role")
                role = copy.deepcopy(start)
                role["update_id"] = start["update_id"] + 1
                role["message"].update(text="ml engineer", message_id=99)
                role["message"].pop("entities", None)
                deliveries.receive(BOT, role["update_id"], chat, role, "before")
                deliveries.heartbeat(BOT, "before", now=utcnow().replace(year=2020))
                senior = copy.deepcopy(role)
                senior["update_id"] = role["update_id"] + 1
                senior["message"].update(text="senior", message_id=100)
                fake.queue_raw(senior)
                sent = await wait_count(fake, chat, 3)
                assert "Noted: Machine Learning Engineer" in sent[1], sent
                assert "Noted: Senior" in sent[2], sent
                await asyncio.sleep(0.2)
                assert len(texts(fake, chat)) == 3, texts(fake, chat)

    asyncio.run(scenario())
    assert deliveries.unhandled(BOT) == []
