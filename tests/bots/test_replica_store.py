"""The store side of per-chat order across replicas: who received each update, heartbeats,
and taking over what a stopped replica left, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import text

from agent.store import Store
from agent.store.models import utcnow
from agent.store.outbox import LEASE, STOPPED_AFTER, Earlier, Waiting
from tests.agent.test_store import store as store

BOT = "123456"


def raw(update_id: int, chat: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "text": f"m{update_id}"}}


def test_earlier_lists_a_chats_waiting_updates_with_their_receivers_liveness(store: Store) -> None:
    deliveries = store.deliveries
    deliveries.heartbeat(BOT, "a")
    for update_id, chat, receiver in ((1, 10, "a"), (2, 11, "b"), (3, 10, "b"), (4, 10, "a")):
        assert deliveries.receive(BOT, update_id, chat, raw(update_id, chat), receiver)
    deliveries.mark_handled(BOT, 1, 10)
    seen = deliveries.earlier(BOT, 10, 5)
    # "b" never beat: not alive. Handled updates and other chats do not stand in the way.
    assert seen.waiting == [Waiting(3, "b", False), Waiting(4, "a", True)]
    assert deliveries.earlier(BOT, 10, 3).waiting == []
    assert deliveries.earlier("654321", 10, 5).waiting == []  # another bot's chat 10
    deliveries.heartbeat(BOT, "b")
    assert deliveries.earlier(BOT, 10, 5).waiting[0] == Waiting(3, "b", True)
    later = utcnow() + STOPPED_AFTER + dt.timedelta(seconds=1)
    assert not any(w.alive for w in deliveries.earlier(BOT, 10, 5, now=later).waiting)


def test_missing_ids_are_the_ones_just_below_that_nobody_stored(store: Store) -> None:
    deliveries = store.deliveries
    assert deliveries.earlier(BOT, 10, 7, window=4).missing == []  # nothing stored yet
    for update_id in (5, 6, 8, 11):
        deliveries.receive(BOT, update_id, 20 + update_id, raw(update_id, 20), "a")
    deliveries.mark_handled(BOT, 6, 26)  # handled still counts as stored
    assert deliveries.earlier(BOT, 10, 12, window=4).missing == [9, 10]
    assert deliveries.earlier(BOT, 10, 12, window=10).missing == [7, 9, 10]  # none below 5
    assert deliveries.earlier(BOT, 10, 12).missing == []  # polling: no window


def test_a_redelivery_makes_its_new_receiver_the_one_to_handle_it(store: Store) -> None:
    deliveries = store.deliveries
    assert deliveries.receive(BOT, 1, 10, raw(1, 10), "a")
    assert deliveries.receive(BOT, 1, 10, raw(1, 10), "b")  # "a" never acknowledged it
    assert deliveries.earlier(BOT, 10, 2).waiting[0].receiver == "b"
    deliveries.mark_handled(BOT, 1, 10)
    assert not deliveries.receive(BOT, 1, 10, raw(1, 10), "c")  # handled: nothing to do


def test_only_stopped_replicas_updates_are_taken_over_once(store: Store) -> None:
    deliveries = store.deliveries
    for name in ("alive", "survivor", "other"):
        deliveries.heartbeat(BOT, name)
    deliveries.heartbeat(BOT, "dead", now=utcnow() - STOPPED_AFTER - dt.timedelta(seconds=1))
    for update_id, chat, receiver in (
        (1, 10, "dead"), (2, 10, "alive"), (3, 11, "dead"), (4, 10, "dead"), (5, 12, None),
        (6, 13, "survivor"),
    ):  # fmt: skip
        deliveries.receive(BOT, update_id, chat, raw(update_id, chat), receiver)
    # One chat's updates before an id first (a later update of that chat is waiting).
    taken = deliveries.take_over(BOT, "survivor", chat_id=10, below=4)
    assert [u["update_id"] for u in taken] == [1]
    assert deliveries.take_over(BOT, "other", chat_id=10, below=4) == []
    # Then everything else stopped or unknown receivers left; an alive one's stay its own.
    taken = deliveries.take_over(BOT, "survivor")
    assert [u["update_id"] for u in taken] == [3, 4, 5]
    assert deliveries.take_over(BOT, "other") == []
    own = deliveries.take_over(BOT, "survivor", own=True)  # a restart under the same name
    assert [u["update_id"] for u in own] == [1, 3, 4, 5, 6]
    receivers = {w.update_id: w.receiver for w in deliveries.earlier(BOT, 10, 9).waiting}
    assert receivers == {1: "survivor", 2: "alive", 4: "survivor"}


def test_two_survivors_taking_over_at_once_take_each_update_once(store: Store) -> None:
    deliveries = store.deliveries
    deliveries.heartbeat(BOT, "s1")  # a replica beats before it takes anything over
    deliveries.heartbeat(BOT, "s2")
    for update_id in range(1, 41):
        deliveries.receive(BOT, update_id, 10 + update_id % 5, raw(update_id, 10), "dead")
    got: dict[str, list[int]] = {}
    start = threading.Barrier(2)

    def survive(name: str) -> None:
        start.wait()
        got[name] = [u["update_id"] for u in deliveries.take_over(BOT, name)]

    threads = [threading.Thread(target=survive, args=(n,)) for n in ("s1", "s2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got["s1"] + got["s2"]) == list(range(1, 41))


def test_a_stopped_replicas_outbox_leases_are_freed(store: Store) -> None:
    deliveries = store.deliveries
    deliveries.heartbeat(BOT, "alive")
    deliveries.heartbeat(BOT, "dead", now=utcnow() - STOPPED_AFTER - dt.timedelta(seconds=1))
    deliveries.record(BOT, 20, "tg:20", {"reply": {"text": "one"}}, "reply", 5)
    deliveries.record(BOT, 21, "tg:21", {"reply": {"text": "two"}}, "reply", 6)
    assert len(deliveries.claim(BOT, 20, "dead")) == 1
    assert len(deliveries.claim(BOT, 21, "alive")) == 1
    assert deliveries.chats_waiting(BOT, "survivor") == []  # both leases hold for minutes
    assert deliveries.release_leases(BOT) == [20]
    assert deliveries.chats_waiting(BOT, "survivor") == [20]
    [row] = deliveries.claim(BOT, 20, "survivor")
    assert row.payload["reply"]["text"] == "one"
    assert deliveries.claim(BOT, 21, "survivor", now=utcnow() + LEASE / 2) == []


def test_heartbeats_of_replicas_long_gone_are_pruned(store: Store) -> None:
    deliveries = store.deliveries
    deliveries.heartbeat(BOT, "old", now=utcnow() - dt.timedelta(days=8))
    deliveries.heartbeat(BOT, "new")
    deliveries.heartbeat(BOT, "new")  # a second beat updates the row
    deliveries.prune()
    with store.engine.connect() as conn:
        names = conn.execute(text("select name from replicas")).scalars().all()
    assert names == ["new"]


def test_a_version_5_database_gets_receivers_and_heartbeats(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).dispose()
    old = Store(url)
    with old.engine.begin() as conn:  # back to how version 5 left it
        conn.exec_driver_sql("DROP INDEX ix_processed_updates_waiting")
        conn.exec_driver_sql("ALTER TABLE processed_updates DROP COLUMN receiver")
        conn.exec_driver_sql("DROP TABLE replicas")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 6")
        conn.exec_driver_sql(
            "INSERT INTO processed_updates (bot_id, update_id, chat_id, state, payload, "
            "received_at) VALUES ('1', 7, 10, 'received', '{\"update_id\": 7}', '2026-11-28')"
        )
    old.dispose()
    store = Store(url)
    assert store.schema_version() == 6 and "replicas" in store.table_names()
    with store.engine.connect() as conn:
        indexes = conn.exec_driver_sql("PRAGMA index_list(processed_updates)").all()
    assert "ix_processed_updates_waiting" in {row[1] for row in indexes}
    # An update an older version stored has no receiver: any replica may take it.
    assert store.deliveries.take_over("1", "new") == [{"update_id": 7}]
    store.dispose()


def test_receiving_an_update_also_reads_what_of_its_chat_waits_below_it(store: Store) -> None:
    deliveries = store.deliveries
    deliveries.heartbeat(BOT, "a")
    assert deliveries.receive_and_look(BOT, 1, 10, raw(1, 10), "b") == (True, Earlier([], []))
    deliveries.receive(BOT, 2, 11, raw(2, 11), "b")  # another chat's
    fresh, seen = deliveries.receive_and_look(BOT, 3, 10, raw(3, 10), "a")
    assert fresh and seen == Earlier([Waiting(1, "b", False)], [])  # "b" never beat
    deliveries.mark_handled(BOT, 1, 10)
    assert deliveries.receive_and_look(BOT, 4, 10, raw(4, 10), "a")[1] == Earlier(
        [Waiting(3, "a", True)], []
    )
    # A redelivery says nothing about order (the turn looks for itself); a handled one is old.
    assert deliveries.receive_and_look(BOT, 3, 10, raw(3, 10), "b") == (True, None)
    assert deliveries.receive_and_look(BOT, 1, 10, raw(1, 10), "b") == (False, None)
    assert deliveries.receive_and_look(BOT, 5, None, {"update_id": 5}, "a") == (True, None)
    assert deliveries.receive_and_look(BOT, 6, 10, raw(6, 10), "a", None) == (True, None)


def test_a_new_store_has_the_partial_index_of_waiting_updates(store: Store) -> None:
    """Written as SQL both databases read (agent/store/models.py WAITING_INDEX), so that no
    start imports the PostgreSQL dialect; each must still create it, partial."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = conn.exec_driver_sql("PRAGMA index_list(processed_updates)").all()
            partial = {row[1]: row[4] for row in rows}  # seq, name, unique, origin, partial
            assert partial.get("ix_processed_updates_waiting") == 1
        else:
            definition = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_processed_updates_waiting'"
                " AND schemaname = current_schema()"
            ).scalar_one()
            assert "WHERE" in definition and "received" in definition


def test_a_polled_update_is_handled_without_an_inbox_row_or_stored_late(store: Store) -> None:
    """Polling stores an update only when its turn is slow (bots/telegram.py `Bot.settle`):
    the turn inserts its handled mark, whichever of the two comes first."""
    from agent.store.outbox import Outbox

    deliveries = store.deliveries

    def take(update_id: int, stored: bool = False) -> bool:
        with deliveries._transaction() as conn:
            return Outbox(conn).take(BOT, update_id, 10, stored)

    assert take(1)  # never stored: its handled row is made by the turn
    assert not take(1)  # a redelivery of it
    deliveries.keep_unhandled(BOT, [(2, 10, raw(2, 10)), (1, 10, raw(1, 10))], "a")
    assert deliveries.handled(BOT, 1)  # handled meanwhile: left as it was
    assert deliveries.unhandled(BOT) == [raw(2, 10)]  # kept for a replay
    assert take(2) and deliveries.unhandled(BOT) == []  # a late store, then its turn
    assert not take(2, stored=True)


def test_a_turn_looks_for_earlier_updates_of_its_chat_stored_by_other_replicas(
    store: Store,
) -> None:
    from agent.store.outbox import Outbox

    deliveries = store.deliveries
    deliveries.receive(BOT, 5, 10, raw(5, 10), "before")
    deliveries.receive(BOT, 6, 10, raw(6, 10), "me")
    deliveries.receive(BOT, 7, 11, raw(7, 11), None)  # another chat's, of an older version
    with deliveries._transaction() as conn:
        outbox = Outbox(conn)
        assert outbox.earlier_elsewhere(BOT, 10, 8, "me")
        assert not outbox.earlier_elsewhere(BOT, 10, 5, "me")  # nothing below 5
        assert not outbox.earlier_elsewhere(BOT, 10, 6, "before")  # its own: in its turns
        assert outbox.earlier_elsewhere(BOT, 11, 8, "me")  # no receiver: someone else's
        assert not outbox.earlier_elsewhere("654321", 10, 8, "me")
    deliveries.mark_handled(BOT, 5, 10)
    with deliveries._transaction() as conn:
        assert not Outbox(conn).earlier_elsewhere(BOT, 10, 8, "me")
