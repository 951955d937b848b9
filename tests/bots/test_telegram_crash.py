"""Exactly once under kill -9: a hundred crashes of the bot process at random points.

The bot runs as its own process (forked by tests/bots/telegram_child.py) against the fake
Bot API. Simulated people talk to it, each waiting for the reply to their last message;
presses, "pick all that apply" toggles and typed answers are mixed. The fake's call hook
kills the bot at a point chosen at random (with a fixed seed) among the calls it makes:
before or after Telegram applied a sendMessage, an edit or a callback answer, or when a
getUpdates acknowledges updates. Kills are driven by what the bot did, never by time.

After each kill the store is read: replies still pending in the outbox that the fake had
already delivered are the ones whose acknowledgement was lost, the only ones that may arrive
twice. At the end every chat must have received every reply of the reference conversation
(the same messages through the engine alone), in order; every answer must be stored once.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.engine import Engine
from agent.interview import choices_for, question
from agent.sources import Asker
from agent.store import Delivery, Store
from knowledge.base import KnowledgeBase
from tests.bots.telegram_support import Zygote
from tests.fakes.telegram_server import DropConnection, FakeTelegram, callback_data

TOKEN = "123456:TEST-crash-token"
KILLS = int(os.environ.get("SKILLAUDIT_CRASH_KILLS", "100"))
CHATS_AT_ONCE = 3
ROOT = Path(__file__).resolve().parents[2]
# One person's conversation: ("say", text), ("press", value), ("toggle", option index), ("done",)
SCRIPT: list[tuple[Any, ...]] = [
    ("say", "/start"),
    ("press", "ml_engineer"),
    ("say", "senior"),
    ("say", "7 years"),
    ("say", "4 3 3 2 3 4 3 2"),
    ("say", "docker 2, k8s 1"),
    ("say", "explainability 1, bias testing 2, privacy 2"),
    ("toggle", 0),
    ("toggle", 2),
    ("done",),
]
POINTS = [
    ("sendMessage", "before"), ("sendMessage", "after"), ("getUpdates", "ack"),
    ("answerCallbackQuery", "after"), ("editMessageReplyMarkup", "before"),
    ("editMessageReplyMarkup", "after"),
]  # fmt: skip


def reference(kb: KnowledgeBase, home: Path) -> tuple[list[str], dict[str, Any]]:
    """The replies and stored answers of SCRIPT through the engine alone, with no crash."""
    settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=None)
    engine = Engine(Store(settings.resolved_database_url()), settings, kb)
    options = [c.value for c in choices_for(question("ethics_practice"), kb)]
    ticks: list[str] = []
    replies = []
    for number, step in enumerate(SCRIPT, 1):
        if step[0] == "toggle":
            ticks.append(options[step[1]])
            continue
        text = ", ".join(ticks) if step[0] == "done" else step[1]
        reply = engine.handle_sync("tg:1", text, Delivery("1", number, 1), Asker.REMOTE)
        assert reply is not None
        replies.append(reply.text)
    with engine.store.user("tg:1") as scope:
        row = scope.last_flow("interview")
        assert row is not None
        stored = {k: v for k, v in row.answers.items() if not k.startswith("_")}
    engine.store.dispose()
    return replies, stored


@dataclass
class Life:
    """One bot process and where it is to be killed (None: it lives to the end)."""

    pid: int
    point: tuple[str, str] | None
    nth: int
    seen: int = 0
    dead: threading.Event = field(default_factory=threading.Event)


@dataclass
class Person:
    chat: int
    step: int = 0  # steps of SCRIPT done
    replies_expected: int = 0  # engine replies the steps done should have produced
    toggling: int | None = None  # the message whose options the person is ticking


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


@pytest.mark.long(seconds=43)
def test_a_hundred_kills_lose_nothing_and_repeat_only_unacknowledged_replies(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    expected, answers = reference(kb, tmp_path / "reference")
    rng = random.Random(20261130)
    home = tmp_path / "home"
    db = home / "skillaudit.db"
    with FakeTelegram(TOKEN) as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE"))},
            "SKILLAUDIT_HOME": str(home), "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.url, "SKILLAUDIT_REPLICA": "crash-test",
            "PTB_TIMEDELTA": "1", "PYTHONPATH": str(ROOT),
        }  # fmt: skip
        zygote = Zygote(env, tmp_path / "bots.log")
        allowed: Counter[tuple[int, str]] = Counter()
        life_box: list[Life] = []
        acked = [0]

        deciding = threading.Lock()  # the fake serves calls in several threads

        def hook(method: str, params: dict[str, Any], phase: str) -> None:
            with deciding:
                life = life_box[-1] if life_box else None
                if life is None or life.point is None:
                    return
                if life.dead.is_set():
                    raise DropConnection  # a call the killed process made just before dying
                if method == "getUpdates":
                    offset = int(params.get("offset") or 0)
                    if phase != "before" or offset <= acked[0]:
                        return
                    acked[0] = offset
                    phase = "ack"  # this call tells Telegram the earlier updates arrived
                if (method, phase) != life.point:
                    return
                life.seen += 1
                if life.seen < life.nth:
                    return
                zygote.kill(life.pid)
                life.dead.set()
                raise DropConnection

        fake.on_call = hook
        people: list[Person] = []
        next_chat = iter(range(9001, 10_000))
        kills = 0

        def new_life() -> None:
            last = kills >= KILLS
            point = None if last else rng.choice(POINTS)
            life_box.append(Life(zygote.start(), point, rng.randint(1, 3)))

        def can_act(person: Person) -> bool:
            if person.step >= len(SCRIPT):
                return False
            got, _ = deduplicated(fake.texts(person.chat))
            if len(got) < person.replies_expected:
                return False
            kind = SCRIPT[person.step][0]
            if kind == "press":
                return bool(keyboards(fake, person.chat))
            if kind in ("toggle", "done"):  # after the keyboard and every earlier toggle landed
                toggled_before = sum(1 for s in SCRIPT[: person.step] if s[0] == "toggle")
                keyboard = toggle_keyboard(fake, person.chat, person.toggling)
                return keyboard is not None and ticked(keyboard) == toggled_before
            return True

        def finished(person: Person) -> bool:
            got, _ = deduplicated(fake.texts(person.chat))
            return person.step == len(SCRIPT) and len(got) >= person.replies_expected

        def act(person: Person) -> None:
            step = SCRIPT[person.step]
            if step[0] == "say":
                fake.user_says(person.chat, step[1])
                person.replies_expected += 1
            elif step[0] == "press":
                message = keyboards(fake, person.chat)[-1]
                data = next(d for d in callback_data(message) if d.endswith(f"|{step[1]}"))
                fake.user_presses(person.chat, message["message_id"], data)
                person.replies_expected += 1
            elif step[0] == "toggle":
                # A person ticks on the message they started on (a repeated reply is another).
                message = toggle_keyboard(fake, person.chat, person.toggling)
                assert message is not None
                person.toggling = message["message_id"]
                toggles = [d for d in callback_data(message) if d.startswith("t|")]
                fake.user_presses(person.chat, message["message_id"], toggles[step[1]])
            else:
                message = toggle_keyboard(fake, person.chat, person.toggling)
                assert message is not None
                done = next(d for d in callback_data(message) if d.startswith("d|"))
                fake.user_presses(person.chat, message["message_id"], done)
                person.replies_expected += 1
            person.step += 1

        try:
            new_life()
            while True:
                life = life_box[-1]
                if life.dead.is_set():
                    kills += 1
                    for chat, text in pending_delivered(db, fake):
                        allowed[(chat, text)] += 1
                    new_life()
                    continue
                active = [p for p in people if not finished(p)]
                if kills < KILLS and len(active) < CHATS_AT_ONCE:
                    people.append(Person(next(next_chat)))
                    continue
                if not active and kills >= KILLS and outbox_empty(db):
                    break
                ready = [p for p in people if can_act(p)]
                for person in ready:
                    act(person)
                if not ready:
                    try:
                        fake.wait_for(
                            lambda life=life: (  # type: ignore[misc]
                                life.dead.is_set()
                                or any(can_act(p) for p in people)
                                or (all(finished(p) for p in people) and outbox_empty(db))
                            )
                        )
                    except AssertionError as exc:
                        state = [(p.chat, p.step, p.replies_expected, len(fake.texts(p.chat)),
                                  [labels(m) for m in keyboards(fake, p.chat)[-1:]])
                                 for p in people if not finished(p)]  # fmt: skip
                        calls = [
                            (a["method"], a["ok"], a["params"].get("callback_query_id"),
                             [labels({"reply_markup": a["params"].get("reply_markup")})])
                            for p in people if not finished(p) for a in fake.sent(p.chat, True)
                        ]  # fmt: skip
                        raise AssertionError(f"{exc}\nwaiting people: {state}\n{calls}") from None
            zygote.kill(life_box[-1].pid)
        finally:
            fake.on_call = None
            for life in life_box:
                if not life.dead.is_set():
                    life.dead.set()
            zygote.close()

    assert kills == KILLS and len(people) > KILLS // 10
    repeated_total = 0
    for person in people:
        got, repeats = deduplicated(fake.texts(person.chat))
        assert got == expected, (person.chat, got)
        for text, count in repeats.items():
            assert count <= allowed[(person.chat, text)], (person.chat, text, allowed)
            repeated_total += count
    store = Store(f"sqlite:///{db}")
    try:
        for person in people:
            with store.user(f"tg:{person.chat}") as scope:
                row = scope.last_flow("interview")
                assert row is not None
                stored = {k: v for k, v in row.answers.items() if not k.startswith("_")}
                assert stored == answers, person.chat
                assert len(row.history) == len(set(row.history)), row.history
        assert store.deliveries.unhandled(TOKEN.partition(":")[0]) == []
    finally:
        store.dispose()
    print(f"{kills} kills, {len(people)} conversations, {repeated_total} replies repeated")


def keyboards(fake: FakeTelegram, chat: int) -> list[dict[str, Any]]:
    return [m for m in fake.messages(chat) if m.get("reply_markup") and m["from"]["is_bot"]]


def toggle_keyboard(
    fake: FakeTelegram, chat: int, message_id: int | None = None
) -> dict[str, Any] | None:
    """The message with "pick all that apply" toggles (the latest, or `message_id`), as it is now."""
    found = [m for m in keyboards(fake, chat) if any(d.startswith("t|") for d in callback_data(m))]
    if message_id is not None:
        found = [m for m in found if m["message_id"] == message_id]
    return found[-1] if found else None


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"][:12] + "|" + b.get("callback_data", "") for row in rows for b in row]


def ticked(message: dict[str, Any]) -> int:
    return sum(1 for d in callback_data(message) if d.startswith("t|") and d.split("|")[2] == "1")


def pending_delivered(db: Path, fake: FakeTelegram) -> list[tuple[int, str]]:
    """Replies still pending in the outbox (the bot is dead) that Telegram already shows:
    their acknowledgement was lost, so they will be sent again."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select chat_id, payload from outbox where state = 'pending'"
        ).fetchall()
    found = []
    for chat, payload in rows:
        text = json.loads(payload)["reply"]["text"]
        if text in fake.texts(chat):
            found.append((int(chat), text))
    return found


def outbox_empty(db: Path) -> bool:
    if not db.exists():
        return False
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from outbox").fetchone()[0] == 0
