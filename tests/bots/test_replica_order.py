"""Per-chat order across replicas: the decision taken in a chat's turn (`CrossOrder.ready`) on
a real store (SQLite, and PostgreSQL when reachable), then two real bot applications in one
process, each with its own webhook, fed updates in the orders a proxy can produce.

Nothing waits on time here: a "slow replica" is a step the test takes only after the turn
under test has looked at the store at least once, and limits are either far longer than any
run (then the test ends when the condition holds) or far shorter (then only the outcome is
asserted).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.store import Store
from agent.store.models import utcnow
from agent.store.outbox import Deliveries, Earlier
from bots.telegram import build_application
from bots.telegram_replicas import CrossOrder
from knowledge.base import KnowledgeBase
from tests.agent.test_store import store as store
from tests.bots.replica_support import SECRET, free_port, post_async
from tests.bots.telegram_support import TOKEN, answers, make_engine, texts, wait_count
from tests.fakes.telegram_server import FakeTelegram

BOT = "123456"
LONG = 60.0  # a limit no run reaches: the test ends when its condition holds


class Looking(Deliveries):
    """The store's deliveries, counting how often a turn looked at what stands before it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self.looks = 0
        self.looked = asyncio.Event()

    def earlier(self, *args: Any, **kwargs: Any) -> Earlier:
        found = super().earlier(*args, **kwargs)
        self.looks += 1
        self.looked.set()
        return found


def raw(update_id: int, chat: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "text": f"m{update_id}"}}


def nothing_queued(update_id: int) -> bool:
    return False


async def refuse(raw: dict[str, Any]) -> None:
    raise AssertionError(f"nothing is to be taken over here: {raw}")


def order(store: Store, name: str = "b", grace: float = 0.0, wait: float = LONG) -> CrossOrder:
    deliveries = Looking(store)
    deliveries.heartbeat(BOT, name)
    return CrossOrder(deliveries, BOT, name, grace=grace, wait_limit=wait)


def looking(cross: CrossOrder) -> Looking:
    assert isinstance(cross.deliveries, Looking)
    return cross.deliveries


def test_an_update_with_nothing_before_it_goes_at_once(store: Store) -> None:
    cross = order(store, grace=LONG)
    for update_id in (1, 2, 3):
        store.deliveries.receive(BOT, update_id, 10, raw(update_id, 10), "a")
        store.deliveries.mark_handled(BOT, update_id, 10)
    assert asyncio.run(cross.ready(10, 4, nothing_queued, refuse))
    assert looking(cross).looks == 1


def test_an_alive_replicas_earlier_update_is_waited_for(store: Store) -> None:
    store.deliveries.heartbeat(BOT, "a")
    store.deliveries.receive(BOT, 1, 10, raw(1, 10), "a")
    cross = order(store)
    events: list[str] = []

    async def scenario() -> None:
        turn = asyncio.create_task(cross.ready(10, 2, nothing_queued, refuse))
        turn.add_done_callback(lambda _: events.append("ready"))
        await looking(cross).looked.wait()
        await asyncio.to_thread(store.deliveries.mark_handled, BOT, 1, 10)  # "a" answered
        events.append("handled")
        assert await turn

    asyncio.run(scenario())
    assert events == ["handled", "ready"]


def test_a_stopped_replicas_earlier_updates_are_handled_here_first(store: Store) -> None:
    long_ago = utcnow() - dt.timedelta(minutes=5)
    store.deliveries.heartbeat(BOT, "a", now=long_ago)
    for update_id in (3, 1, 2):
        store.deliveries.receive(BOT, update_id, 10, raw(update_id, 10), "a")
    store.deliveries.receive(BOT, 4, 11, raw(4, 11), "a")  # another chat's: left to the sweep
    cross = order(store)
    taken: list[int] = []

    async def take(update: dict[str, Any]) -> None:
        taken.append(update["update_id"])
        await asyncio.to_thread(store.deliveries.mark_handled, BOT, update["update_id"], 10)

    assert asyncio.run(cross.ready(10, 5, nothing_queued, take))
    assert taken == [1, 2, 3]
    assert [w.update_id for w in store.deliveries.earlier(BOT, 11, 9).waiting] == [4]


def test_an_earlier_update_queued_in_this_process_makes_the_turn_step_back(store: Store) -> None:
    store.deliveries.receive(BOT, 1, 10, raw(1, 10), "b")
    cross = order(store, name="b")
    assert not asyncio.run(cross.ready(10, 2, lambda update_id: update_id == 1, refuse))
    # Not queued here (its handling failed): this process will not see it again; go on.
    assert asyncio.run(cross.ready(10, 2, nothing_queued, refuse))


def test_ids_in_flight_are_waited_for_in_webhook_mode_only(store: Store) -> None:
    for update_id in (1, 2):
        store.deliveries.receive(BOT, update_id, 20, raw(update_id, 20), "a")
        store.deliveries.mark_handled(BOT, update_id, 20)
    store.deliveries.heartbeat(BOT, "a")
    polling = order(store, grace=0.0)
    assert asyncio.run(polling.ready(10, 4, nothing_queued, refuse))  # 3 is missing: no wait
    assert looking(polling).looks == 1
    webhook = order(store, grace=LONG)
    events: list[str] = []

    async def scenario() -> None:
        turn = asyncio.create_task(webhook.ready(10, 4, nothing_queued, refuse))
        turn.add_done_callback(lambda _: events.append("ready"))
        await looking(webhook).looked.wait()
        # Update 3 was on its way to replica "a": the same chat's, so it goes first.
        await asyncio.to_thread(store.deliveries.receive, BOT, 3, 10, raw(3, 10), "a")
        events.append("stored")
        looking(webhook).looked.clear()
        await looking(webhook).looked.wait()
        await asyncio.to_thread(store.deliveries.mark_handled, BOT, 3, 10)
        events.append("handled")
        assert await turn

    asyncio.run(scenario())
    assert events == ["stored", "handled", "ready"]
    # An id that never comes (another chat's update that went astray) costs the grace only.
    assert asyncio.run(order(store, grace=0.01).ready(10, 7, nothing_queued, refuse))


def test_a_replica_that_never_answers_is_waited_for_once_then_given_up(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.deliveries.heartbeat(BOT, "a")
    store.deliveries.receive(BOT, 1, 10, raw(1, 10), "a")
    cross = order(store, wait=0.01)
    with caplog.at_level(logging.WARNING, logger="bots.telegram_replicas"):
        assert asyncio.run(cross.ready(10, 2, nothing_queued, refuse))
    assert "waited" in caplog.text and "earlier ones of its chat" in caplog.text
    looks = looking(cross).looks
    assert asyncio.run(cross.ready(10, 3, nothing_queued, refuse))  # not waited for again
    assert looking(cross).looks == looks + 1


def test_polling_takes_the_view_read_at_receipt_instead_of_looking_again(store: Store) -> None:
    cross = order(store)  # no grace: polling, this replica the only receiver
    deliveries = store.deliveries
    deliveries.heartbeat(BOT, "a")
    for update_id in (1, 2):
        _, seen = deliveries.receive_and_look(BOT, update_id, 10, raw(update_id, 10), "b")
        assert seen is not None
        cross.note_receipt(10, update_id, seen)
    assert not asyncio.run(cross.ready(10, 2, lambda update_id: update_id == 1, refuse))
    assert looking(cross).looks == 0  # update 1 queued here goes first: known at receipt
    assert asyncio.run(cross.ready(10, 1, nothing_queued, refuse))
    deliveries.mark_handled(BOT, 1, 10)
    assert asyncio.run(cross.ready(10, 2, nothing_queued, refuse))  # the receipt was used up
    assert looking(cross).looks == 1
    # Another replica's update waited when 4 came: the turn looks again until it is handled.
    deliveries.receive(BOT, 3, 10, raw(3, 10), "a")
    _, seen = deliveries.receive_and_look(BOT, 4, 10, raw(4, 10), "b")
    assert seen is not None
    cross.note_receipt(10, 4, seen)
    deliveries.mark_handled(BOT, 3, 10)
    assert asyncio.run(cross.ready(10, 4, nothing_queued, refuse))
    assert looking(cross).looks == 2
    # With a grace (webhook) ids may still be on their way: the receipt is not enough.
    webhook = order(store, grace=0.01)
    assert webhook.receipt_window is None and cross.receipt_window is not None  # not read
    _, seen = deliveries.receive_and_look(BOT, 6, 10, raw(6, 10), "b")
    assert seen is not None
    webhook.note_receipt(10, 6, seen)
    assert asyncio.run(webhook.ready(10, 6, nothing_queued, refuse))
    assert looking(webhook).looks >= 1


# Two replicas in one process -------------------------------------------------------------------


@pytest.fixture
def engines(tmp_path: Path, kb: KnowledgeBase) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one SQLite store, as two replicas would share a database."""
    first = make_engine(tmp_path / "home", kb, SKILLAUDIT_REPLICA="a")
    second = make_engine(tmp_path / "home", kb, SKILLAUDIT_REPLICA="b")
    yield first, second
    first.store.dispose()
    second.store.dispose()


class Webhooks:
    """Two bot applications, each listening on its own webhook port."""

    def __init__(self, engines: tuple[Engine, Engine], fake: FakeTelegram, grace: float) -> None:
        self.apps = [
            build_application(e, TOKEN, fake.url, typing_delay=3600.0, webhook=True, grace=grace)
            for e in engines
        ]
        self.ports = [free_port(), free_port()]

    async def __aenter__(self) -> Webhooks:
        for app, port in zip(self.apps, self.ports, strict=True):
            await app.initialize()
            await app.start()
            assert app.post_init is not None and app.updater is not None
            await app.post_init(app)
            await app.updater.start_webhook(
                listen="127.0.0.1", port=port, url_path="telegram", secret_token=SECRET,
                webhook_url="https://example.invalid/telegram",
            )  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        for app in self.apps:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

    async def post(self, replica: int, update: dict[str, Any]) -> None:
        assert await post_async(self.ports[replica], update) == 200


def test_a_later_update_at_one_replica_waits_for_the_earlier_one_still_on_its_way(
    engines: tuple[Engine, Engine],
) -> None:
    """Update 3 of a chat reaches replica B while update 2 is still on its way to A."""
    chat = 7301

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with Webhooks(engines, fake, grace=LONG) as hooks:
                await hooks.post(0, fake.user_says(chat, "/start"))
                await wait_count(fake, chat, 1)
                role = fake.user_says(chat, "ml engineer")
                stage = fake.user_says(chat, "senior")
                await hooks.post(1, stage)  # stored and acknowledged, then waits
                await hooks.post(0, role)
                sent = await wait_count(fake, chat, 3)
                assert "Noted: Machine Learning Engineer" in sent[1], sent
                assert "Noted: Senior" in sent[2], sent

    asyncio.run(scenario())
    stored_answers = answers(engines[0], chat)
    assert (stored_answers["target_role"], stored_answers["career_stage"]) == (
        "ml_engineer",
        "senior",
    )


def test_two_updates_of_a_chat_reaching_one_replica_in_reverse_are_handled_in_order(
    engines: tuple[Engine, Engine],
) -> None:
    """Telegram sends over several connections: update 3 may arrive before update 2."""
    chat = 7302

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with Webhooks(engines, fake, grace=LONG) as hooks:
                await hooks.post(1, fake.user_says(chat, "/start"))
                await wait_count(fake, chat, 1)
                role = fake.user_says(chat, "ml engineer")
                stage = fake.user_says(chat, "senior")
                await hooks.post(0, stage)  # its turn runs first and waits for update 2
                await hooks.post(0, role)  # queued behind it: the first turn steps back
                sent = await wait_count(fake, chat, 3)
                assert "Noted: Machine Learning Engineer" in sent[1], sent
                assert "Noted: Senior" in sent[2], sent

    asyncio.run(scenario())


def test_a_stopped_replicas_stored_update_is_handled_before_the_chats_next(
    engines: tuple[Engine, Engine],
) -> None:
    """Replica A stored (and acknowledged) update 2 and died; update 3 reaches B."""
    chat = 7303
    deliveries = engines[0].store.deliveries

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with Webhooks(engines, fake, grace=LONG) as hooks:
                await hooks.post(1, fake.user_says(chat, "/start"))
                await wait_count(fake, chat, 1)
                role = fake.user_says(chat, "ml engineer")
                long_ago = utcnow() - dt.timedelta(minutes=5)
                # What the dead replica left: a stored update and a heartbeat long ago.
                deliveries.receive(BOT, role["update_id"], chat, role, "dead")
                deliveries.heartbeat(BOT, "dead", now=long_ago)
                await hooks.post(1, fake.user_says(chat, "senior"))
                sent = await wait_count(fake, chat, 3)
                assert "Noted: Machine Learning Engineer" in sent[1], sent
                assert "Noted: Senior" in sent[2], sent
                assert len(texts(fake, chat)) == 3

    asyncio.run(scenario())
