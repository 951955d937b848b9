"""The store side of exactly-once delivery: handled updates per bot, the outbox and its leases,
reminders claimed once, on SQLite and (when it is running on 127.0.0.1) PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from agent.config import Settings
from agent.engine import Engine
from agent.sources import Asker
from agent.store import Delivery, Store
from agent.store.outbox import LEASE, DueReminder, send_time
from agent.time_zones import TimeZone, read_time_zone
from knowledge.base import KnowledgeBase
from tests.agent.conftest import TODAY
from tests.agent.test_store import store as store

BOT = "123456"


def add_schedule(store: Store, who: str, next_audit: dt.date, micro: list[dt.date]) -> None:
    with store.user(who) as scope:
        audit = scope.add_audit(
            as_of=TODAY, methodology_version="1.1.0", knowledge_version="x", overall=50.0,
            profile={}, result={}, review=[], state="draft",
        )  # fmt: skip
        scope.add_schedule(audit, next_audit, "quarterly", [d.isoformat() for d in micro])


def render(due: DueReminder) -> str:
    return f"{due.kind} {due.due} {'overdue' if due.overdue else 'today'} {due.time_zone}"


def test_handled_updates_are_per_bot_and_pruned_after_a_week(store: Store) -> None:
    deliveries = store.deliveries
    assert deliveries.receive(BOT, 1, 10, {"update_id": 1})
    assert deliveries.receive("654321", 1, 11, {"update_id": 1})  # another bot's update 1
    assert [u["update_id"] for u in deliveries.unhandled(BOT)] == [1]
    deliveries.mark_handled(BOT, 1, 10)
    assert deliveries.unhandled(BOT) == [] and deliveries.handled(BOT, 1)
    assert not deliveries.receive(BOT, 1, 10, {"update_id": 1})  # a redelivery
    assert not deliveries.handled("654321", 1)
    with store.engine.connect() as conn:  # the raw update (the person's words) is gone
        payload = conn.execute(
            text("select payload from processed_updates where bot_id = :b"), {"b": BOT}
        ).scalar()
        assert payload is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    assert deliveries.prune(later) == 1
    assert not deliveries.handled(BOT, 1)
    assert deliveries.unhandled("654321") != []  # never handled: kept for a replay


def test_outbox_rows_go_out_in_order_and_are_leased(store: Store) -> None:
    deliveries = store.deliveries
    first = deliveries.record(BOT, 20, "tg:20", {"reply": {"text": "one"}}, "reply", 5)
    deliveries.record(BOT, 20, "tg:20", {"reply": {"text": "two"}}, "reply", 6)
    assert deliveries.handled(BOT, 5) and deliveries.handled(BOT, 6)
    mine = deliveries.claim(BOT, 20, "replica-a")
    assert [p.payload["reply"]["text"] for p in mine] == ["one", "two"]
    # Another replica takes nothing while the lease holds, and keeps the order after it.
    assert deliveries.claim(BOT, 20, "replica-b") == []
    assert deliveries.chats_waiting(BOT, "replica-b") == []
    assert deliveries.chats_waiting(BOT, "replica-a") == [20]  # a restart takes its own back
    deliveries.delivered(first)
    expired = dt.datetime.now(dt.UTC) + LEASE + dt.timedelta(seconds=1)
    [left] = deliveries.claim(BOT, 20, "replica-b", now=expired)
    assert left.payload["reply"]["text"] == "two" and left.parts_sent == 0
    deliveries.progress(left.id, 1)
    deliveries.failed(left.id)
    assert deliveries.pending_count(BOT) == 0
    assert deliveries.claim(BOT, 20, "replica-b", now=expired) == []


def test_a_delivered_row_is_deleted_and_the_chats_next_rows_claimed_in_one_go(
    store: Store,
) -> None:
    deliveries = store.deliveries
    first = deliveries.record(BOT, 21, "tg:21", {"reply": {"text": "one"}}, "reply", 7)
    [row] = deliveries.claim(BOT, 21, "replica-a")
    assert row.id == first
    # Another replica answered the chat's next update meanwhile and left its reply here.
    deliveries.record(BOT, 21, "tg:21", {"reply": {"text": "two"}}, "reply", 8)
    deliveries.record(BOT, 22, "tg:22", {"reply": {"text": "other chat"}}, "reply", 9)
    [after] = deliveries.delivered(first, then_claim=(BOT, 21, "replica-a"))
    assert after.payload["reply"]["text"] == "two"
    assert deliveries.claim(BOT, 21, "replica-b") == []  # leased by the same statement
    assert deliveries.delivered(after.id, then_claim=(BOT, 21, "replica-a")) == []
    assert deliveries.delivered(after.id) == []  # no claim asked: nothing returned
    assert [p.chat_id for p in deliveries.claim(BOT, 22, "replica-b")] == [22]


def test_reminders_are_due_at_nine_in_the_persons_time_zone_and_queued_once(
    store: Store,
) -> None:
    day = dt.date(2027, 3, 1)
    add_schedule(store, "tg:30", day, [dt.date(2027, 1, 30), dt.date(2027, 3, 5)])
    add_schedule(store, "cli:ana", day, [])  # not a Telegram person: never sent here
    with store.user("tg:30") as scope:
        assert [(r.kind, r.due) for r in scope.reminders()] == [
            ("micro", dt.date(2027, 1, 30)), ("audit", day),
        ]  # fmt: skip
        assert scope.set_time_zone("America/Los_Angeles") == 2
    assert send_time(day, "America/Los_Angeles") == dt.datetime(2027, 3, 1, 17, tzinfo=dt.UTC)
    deliveries = store.deliveries
    before = dt.datetime(2027, 3, 1, 16, 59, tzinfo=dt.UTC)  # 08:59 in Los Angeles
    # The micro-audit of January, missed while the bot was down, comes first, once.
    assert deliveries.queue_reminders(BOT, "tg:", render, before) == [30]
    assert deliveries.queue_reminders(BOT, "tg:", render, before) == []
    [row] = deliveries.claim(BOT, 30, "a")
    assert row.payload["reply"]["text"] == "micro 2027-01-30 overdue America/Los_Angeles"
    deliveries.delivered(row.id)
    at_nine = dt.datetime(2027, 3, 1, 17, tzinfo=dt.UTC)
    assert deliveries.queue_reminders(BOT, "tg:", render, at_nine) == [30]
    [row] = deliveries.claim(BOT, 30, "a")
    assert row.payload["reply"]["text"] == "audit 2027-03-01 today America/Los_Angeles"
    with store.user("tg:30") as scope:
        assert all(r.sent_at is not None for r in scope.reminders())
    # A new audit plans new reminders in the person's time zone; sent ones are kept.
    add_schedule(store, "tg:30", dt.date(2027, 6, 1), [])
    with store.user("tg:30") as scope:
        unsent = [r for r in scope.reminders() if r.sent_at is None]
        assert [(r.due, r.time_zone) for r in unsent] == [
            (dt.date(2027, 6, 1), "America/Los_Angeles")
        ]


@pytest.mark.parametrize(
    ("zone", "now", "said"),
    [
        # 18 hours after 09:00 UTC, but past midnight: it was due yesterday (CI at 02:53 UTC).
        ("UTC", dt.datetime(2027, 3, 2, 2, 53, tzinfo=dt.UTC), "overdue"),
        ("UTC", dt.datetime(2027, 3, 1, 23, 59, tzinfo=dt.UTC), "today"),
        # Auckland is 13 hours ahead: 09:00 on 1 March is 20:00 UTC on 28 February, and 11:00
        # UTC on 1 March is already midnight of 2 March there.
        ("Pacific/Auckland", dt.datetime(2027, 3, 1, 10, 59, tzinfo=dt.UTC), "today"),
        ("Pacific/Auckland", dt.datetime(2027, 3, 1, 11, 0, tzinfo=dt.UTC), "overdue"),
        # Los Angeles is 8 hours behind: its 1 March lasts until 08:00 UTC on 2 March.
        ("America/Los_Angeles", dt.datetime(2027, 3, 2, 7, 59, tzinfo=dt.UTC), "today"),
        ("America/Los_Angeles", dt.datetime(2027, 3, 2, 8, 0, tzinfo=dt.UTC), "overdue"),
    ],
)
def test_a_reminder_is_overdue_once_its_day_is_over_where_the_person_lives(
    store: Store, zone: str, now: dt.datetime, said: str
) -> None:
    day = dt.date(2027, 3, 1)
    add_schedule(store, "tg:32", day, [])
    with store.user("tg:32") as scope:
        scope.set_time_zone(zone)
    assert store.deliveries.queue_reminders(BOT, "tg:", render, now) == [32]
    [row] = store.deliveries.claim(BOT, 32, "a")
    assert row.payload["reply"]["text"] == f"audit 2027-03-01 {said} {zone}"


def test_several_due_reminders_of_one_person_are_one_message(store: Store) -> None:
    add_schedule(store, "tg:31", dt.date(2027, 3, 1), [dt.date(2027, 1, 1), dt.date(2027, 2, 1)])
    much_later = dt.datetime(2027, 4, 1, tzinfo=dt.UTC)
    assert store.deliveries.queue_reminders(BOT, "tg:", render, much_later) == [31]
    [row] = store.deliveries.claim(BOT, 31, "a")
    assert row.payload["reply"]["text"].startswith("audit 2027-03-01 overdue")


def test_an_erasure_deletes_reminders_and_pending_messages(store: Store) -> None:
    add_schedule(store, "tg:40", dt.date(2027, 3, 1), [])
    store.deliveries.record(BOT, 40, "tg:40", {"reply": {"text": "your score is 81"}}, "reply", 9)
    with store.user("tg:40") as scope:
        counts = scope.erase()
    assert counts["reminders"] == 1 and counts["outbox"] == 1
    assert store.deliveries.pending_count() == 0


def test_an_existing_database_is_migrated_to_version_4(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).dispose()
    old = Store(url)
    with old.engine.begin() as conn:  # back to how version 3 left it
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN time_zone")
        conn.exec_driver_sql("DROP TABLE outbox")
        conn.exec_driver_sql("DROP TABLE reminders")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 4")
    old.dispose()
    store = Store(url)
    with store.engine.connect() as conn:
        versions = set(conn.exec_driver_sql("SELECT version FROM schema_migrations").scalars())
    assert 4 in versions and {"outbox", "reminders"} <= set(store.table_names())
    with store.user("tg:1") as scope:
        assert scope.time_zone == "UTC"
    store.dispose()


@pytest.fixture
def engine(tmp_path: Path, kb: KnowledgeBase) -> Iterator[Engine]:
    config = Settings(SKILLAUDIT_HOME=tmp_path / "home", DATABASE_URL=None)
    engine = Engine(Store(config.resolved_database_url()), config, kb, today=lambda: TODAY)
    yield engine
    engine.store.dispose()


def test_the_answer_the_handled_mark_and_the_reply_commit_together(engine: Engine) -> None:
    deliveries = engine.store.deliveries
    first = Delivery(BOT, 100, 50)
    reply = engine.handle_sync("tg:50", "/start", first, Asker.REMOTE)
    assert reply is not None and deliveries.handled(BOT, 100)
    [row] = deliveries.claim(BOT, 50, "a")
    assert row.update_id == 100 and row.payload["reply"]["text"] == reply.text
    assert row.payload["said"] == "/start" and row.payload["key"] != "idle"
    # The same update again: nothing is done and no second reply is stored.
    assert engine.handle_sync("tg:50", "/start", first, Asker.REMOTE) is None
    assert [p.id for p in deliveries.claim(BOT, 50, "a")] == [row.id]
    # A failure rolls back the answer and the handled mark: the update can be replayed.
    engine.store.dispose()
    with engine.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE outbox")
    with pytest.raises(Exception, match="outbox"):
        engine.handle_sync("tg:50", "ml engineer", Delivery(BOT, 101, 50), Asker.REMOTE)
    assert not deliveries.handled(BOT, 101)
    with engine.store.user("tg:50") as scope:
        flow = scope.last_flow("interview")
        assert flow is not None and "target_role" not in flow.answers


def test_the_answer_leases_the_chats_rows_to_its_sender_in_the_same_transaction(
    engine: Engine,
) -> None:
    import asyncio

    deliveries = engine.store.deliveries
    # A reply left unsent earlier (the bot stopped before sending it) goes first.
    earlier = deliveries.record(BOT, 60, "tg:60", {"reply": {"text": "earlier"}}, "reply", 199)
    update = Delivery(BOT, 200, 60, sender="replica-a")
    answered = asyncio.run(engine.answer_update("tg:60", "/start", update))
    assert answered.reply is not None
    assert answered.claimed[0].id == earlier
    assert [p.update_id for p in answered.claimed] == [199, 200]
    assert answered.claimed[1].payload["reply"]["text"] == answered.reply.text
    assert deliveries.claim(BOT, 60, "replica-b") == []  # leased when the answer committed
    # A redelivery answers nothing and leases nothing; without a sender nothing is leased.
    again = asyncio.run(engine.answer_update("tg:60", "/start", update))
    assert again.reply is None and again.claimed == []
    unnamed = asyncio.run(engine.answer_update("tg:61", "/start", Delivery(BOT, 201, 61)))
    assert unnamed.reply is not None and unnamed.claimed == []
    assert [p.update_id for p in deliveries.claim(BOT, 61, "replica-b")] == [201]
    # Another sender's live lease on an earlier row: the answer leases nothing after it.
    held = Delivery(BOT, 202, 60, sender="replica-b")
    assert asyncio.run(engine.answer_update("tg:60", "ml engineer", held)).claimed == []
    # A chat with nothing else unsent: the reply is stored already leased to its sender.
    alone = asyncio.run(engine.answer_update("tg:62", "/start", Delivery(BOT, 203, 62, sender="a")))
    [row] = alone.claimed
    assert row.update_id == 203 and alone.reply is not None
    assert row.payload["reply"]["text"] == alone.reply.text and row.parts_sent == 0
    assert deliveries.claim(BOT, 62, "replica-b") == []
    assert [p.id for p in deliveries.claim(BOT, 62, "a")] == [row.id]  # its own lease
    # A reply that finally failed is said and removed; the new reply is leased alone.
    deliveries.failed(row.id)
    after = asyncio.run(engine.answer_update("tg:62", "hi", Delivery(BOT, 204, 62, sender="a")))
    assert after.reply is not None and "did not reach you" in after.reply.text
    assert [p.update_id for p in after.claimed] == [204]
    assert deliveries.claim(BOT, 62, "replica-b") == []


def test_schedule_asks_for_and_keeps_a_time_zone(engine: Engine) -> None:
    updates = iter(range(500, 600))

    def say(text: str) -> str:
        reply = engine.handle_sync("tg:60", text, Delivery(BOT, next(updates), 60), Asker.REMOTE)
        assert reply is not None
        return reply.text

    say("/start")
    assert "09:00 UTC" in say("/schedule")  # no audit yet: the zone is asked for anyway
    assert "I do not know the time zone 'Mars/Olympus'" in say("/schedule Mars/Olympus")
    assert "Did you mean Europe/Berlin?" in say("/schedule Berln")
    assert "09:00 UTC+2 time. A fixed offset does not follow daylight saving" in say(
        "/schedule UTC+2"
    )
    assert "I will remind you" not in say("/schedule")  # no audit: nothing to remind of yet
    assert "09:00 UTC+2 time when the next one is due" in say("/schedule")
    with engine.store.user("tg:60") as scope:
        assert scope.time_zone == "Etc/GMT-2"  # POSIX counts the other way
    reply = say("/schedule europe/berlin")
    assert "Reminders now come at 09:00 Europe/Berlin time." in reply
    add_schedule(engine.store, "tg:60", dt.date(2027, 3, 1), [])
    with engine.store.user("tg:60") as scope:
        [reminder] = scope.reminders()
        assert reminder.time_zone == "Europe/Berlin"
        assert reminder.send_at.replace(tzinfo=dt.UTC) == dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)
    # In the terminal there is no reminder to promise.
    assert "09:00" not in engine.handle_sync("cli:ana", "/schedule").text


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("europe/berlin", "Europe/Berlin"), ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"), ("KOLKATA", "Asia/Kolkata"), ("utc", "UTC"),
        ("GMT-5", "Etc/GMT+5"), ("+03:00", "Etc/GMT-3"), ("UTC+0", "UTC"),
        ("etc/gmt-2", "Etc/GMT-2"), ("India", "Asia/Kolkata"), ("the UK", "Europe/London"),
        ("germany", "Europe/Berlin"),  # Busingen keeps Berlin's clock: one zone to offer
        ("buenos aires", "America/Argentina/Buenos_Aires"),  # an old alias, the same clock
        # An abbreviation that names one zone is that zone, daylight saving included (IANA's
        # own "EST" is a fixed UTC-5, an hour off in a New York summer).
        ("PST", "America/Los_Angeles"), ("est", "America/New_York"), ("BST", "Europe/London"),
        ("JST", "Asia/Tokyo"),
        # Said in a sentence: the place in it.
        ("I'm in Berlin", "Europe/Berlin"), ("Berlin, Germany", "Europe/Berlin"),
        ("London time", "Europe/London"), ("based in Lagos", "Africa/Lagos"),
    ],
)  # fmt: skip
def test_a_time_zone_is_read_from_how_people_name_it(typed: str, zone: str) -> None:
    found = read_time_zone(typed)
    assert isinstance(found, TimeZone) and found.name == zone
    assert send_time(dt.date(2027, 3, 1), found.name)  # a zone the reminders can use


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("UTC+5:30", "whole-hour offsets only"), ("UTC+15", "whole-hour offsets only"),
        ("Atlantis", "I do not know the time zone 'Atlantis'."),
        ("../../etc/passwd", "I do not know the time zone"), ("Etc/GMT-15", "I do not know"),
        ("kolkatta", "Did you mean Asia/Kolkata?"),
        ("usa", "time zones (America/New_York, America/Chicago,"),
        ("Brazil", "for example /schedule Belem."),
        ("CST", "names more than one time zone (US Central, China or Cuba)"),
        ("IST", "India, Ireland or Israel"),
    ],
)  # fmt: skip
def test_a_time_zone_that_cannot_be_read_is_said_and_the_closest_names_offered(
    typed: str, said: str
) -> None:
    found = read_time_zone(typed)
    assert isinstance(found, str) and said in found
