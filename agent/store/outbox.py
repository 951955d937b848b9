"""Exactly-once delivery for front ends that receive updates from a server (Telegram).

```mermaid
sequenceDiagram
    participant T as Telegram (via the proxy)
    participant B as replica B
    participant S as store
    participant A as replica A
    T->>B: update 6 of a chat (update 5 went to A)
    B->>S: receive: a processed_updates row, "received", receiver B, with the raw update
    B-->>T: acknowledged (the webhook's HTTP 200)
    B->>S: earlier: the chat's updates below 6 still received, and who has them
    alt A alive (its heartbeat in `replicas` is recent)
        B->>S: look again until A marked 5 handled
    else A stopped
        B->>S: take_over: receiver A -> B for 5 (one UPDATE: one survivor wins)
        B->>S: one transaction: 5's answer, 5 "handled", its reply in the outbox
    end
    B->>S: one transaction: the answer, the row "handled", the reply in the outbox
    B->>T: the outbox row's parts, in order, retried on 5xx and network errors
    B->>S: the outbox row deleted once every part was accepted
```

Polling has one receiver and acknowledges an update with the next getUpdates, which waits
for the update's answer: the answer's transaction inserts the row as "handled" (and first
looks for earlier updates of the chat another replica stored, as after a handover); only an
update whose turn is slow is stored as "received" before that poll (`keep_unhandled`).

A crash before "handled" replays the stored update at start (or, once the replica counts as
stopped, another replica takes it over); a crash after it resends the pending outbox rows
(at its restart, or by another replica once the dead one's leases are released). Only a part
Telegram accepted but whose acknowledgement was lost can arrive twice. Senders lease rows,
so replicas sharing one database never send the same row at once, and a chat's rows go out
in order. A replica wrongly taken for stopped (slower than `STOPPED_AFTER`) costs at most a
repeated reply: an update is still handled once, under the person's lock and handled mark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Engine, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from agent.store.models import (
    OutboxRow,
    ProcessedUpdate,
    Reminder,
    ReplicaRow,
    User,
    as_utc,
    insert_or_ignore,
    utcnow,
)

KEEP_HANDLED = dt.timedelta(days=7)  # Telegram may reuse update ids after a week
LEASE = dt.timedelta(minutes=2)  # longer than a send with all its retries
STOPPED_AFTER = dt.timedelta(seconds=20)  # a replica silent this long is taken as stopped


@dataclass(frozen=True)
class Upload:
    """A file a remote person sent (a Telegram document), as its client named it."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Delivery:
    """Where a message came from, so its answer is recorded once and its reply kept until sent.

    `kind`: "text" (a message or a button press), "edit" (an edited message, never applied),
    "unsupported" (a sticker, photo, voice...) or "upload" (a document, in `upload`).
    `bound`: the question key a pressed button belongs to; a press for another question is
    refused. None for typed text and for buttons that are commands. `refused`: why the front
    end did not fetch an upload (too large, unavailable). `sender`: who sends the reply (a
    replica's name); the chat's pending rows are leased to it in the answer's transaction,
    which spares the sender a transaction of its own before it sends.
    """

    bot: str
    update_id: int
    chat_id: int
    kind: str = "text"
    bound: str | None = None
    upload: Upload | None = None
    refused: str = ""
    sender: str | None = None
    # Polling acknowledges an update only once it is handled (or stored: bots/telegram.py
    # `Bot.settle`), so most updates reach their turn without an inbox row: `stored=False`
    # lets the turn insert the handled row itself, and `look_earlier` makes the turn first
    # check that no earlier update of the chat waits stored by another replica (a handover);
    # if one does, nothing is answered (`Answered.blocked`) and the front end waits for it.
    stored: bool = True
    look_earlier: bool = False


@dataclass(frozen=True)
class Pending:
    """An outbox row leased to a sender."""

    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    parts_sent: int
    update_id: int | None


@dataclass(frozen=True)
class Waiting:
    """An update of a chat stored but not yet handled, and whether its receiver is alive."""

    update_id: int
    receiver: str | None
    alive: bool


@dataclass(frozen=True)
class Earlier:
    """What stands before an update of a chat: the chat's updates still waiting below it,
    and update ids just below it that no replica has stored yet (in flight elsewhere)."""

    waiting: list[Waiting]
    missing: list[int]


@dataclass(frozen=True)
class DueReminder:
    """What a reminder message needs: the latest due date of one person's unsent reminders."""

    kind: str  # audit, micro
    due: dt.date
    overdue: bool  # its day is over where the person lives (the bot was down)
    time_zone: str


# The statements run on every message, built once: SQLAlchemy then only binds values.
_STATE = select(ProcessedUpdate.state).where(
    ProcessedUpdate.bot_id == bindparam("bot"), ProcessedUpdate.update_id == bindparam("update")
)
_HANDLED = (
    update(ProcessedUpdate)
    .where(
        ProcessedUpdate.bot_id == bindparam("bot"), ProcessedUpdate.update_id == bindparam("update")
    )
    .values(state="handled", payload=None, handled_at=bindparam("now"))
)
_TAKEN = _HANDLED.where(ProcessedUpdate.state != "handled")
_HANDLED_VALUES: dict[str, Any] = dict(
    bot_id=bindparam("bot"), update_id=bindparam("update"), chat_id=bindparam("chat"),
    state="handled", payload=None, received_at=bindparam("now"), handled_at=bindparam("now"),
)  # fmt: skip
_HANDLED_NEW = insert(ProcessedUpdate).values(**_HANDLED_VALUES)
# The chat's earlier updates stored by a replica other than `me` and not yet handled.
_ELSEWHERE = (
    select(ProcessedUpdate.update_id)
    .where(
        ProcessedUpdate.bot_id == bindparam("bot"),
        ProcessedUpdate.chat_id == bindparam("chat"),
        ProcessedUpdate.state == "received",
        ProcessedUpdate.update_id < bindparam("update"),
        or_(ProcessedUpdate.receiver.is_(None), ProcessedUpdate.receiver != bindparam("me")),
    )
    .limit(1)
)
_RECEIVED_VALUES: dict[str, Any] = dict(
    bot_id=bindparam("bot"), update_id=bindparam("update"), chat_id=bindparam("chat"),
    state="received", payload=bindparam("raw", type_=JSON), received_at=bindparam("now"),
    receiver=bindparam("receiver"),
)  # fmt: skip
_RECEIVED = insert(ProcessedUpdate).values(**_RECEIVED_VALUES)
_REDELIVERED = (
    update(ProcessedUpdate)
    .where(
        ProcessedUpdate.bot_id == bindparam("bot"),
        ProcessedUpdate.update_id == bindparam("update"),
        ProcessedUpdate.state == "received",
    )
    .values(receiver=bindparam("receiver"))
)
_WAITING = (
    select(ProcessedUpdate.update_id, ProcessedUpdate.receiver)
    .where(
        ProcessedUpdate.bot_id == bindparam("bot"),
        ProcessedUpdate.chat_id == bindparam("chat"),
        ProcessedUpdate.state == "received",
        ProcessedUpdate.update_id < bindparam("update"),
    )
    .order_by(ProcessedUpdate.update_id)
)
_ALIVE = select(ReplicaRow.name).where(
    ReplicaRow.bot_id == bindparam("bot"), ReplicaRow.seen_at >= bindparam("cutoff")
)
_NEAR = select(ProcessedUpdate.update_id).where(
    ProcessedUpdate.bot_id == bindparam("bot"),
    ProcessedUpdate.update_id >= bindparam("low"),
    ProcessedUpdate.update_id < bindparam("update"),
)
_LOWEST = select(func.min(ProcessedUpdate.update_id)).where(
    ProcessedUpdate.bot_id == bindparam("bot")
)
_ADD = (
    insert(OutboxRow)
    .values(
        bot_id=bindparam("bot"), chat_id=bindparam("chat"), owner=bindparam("owner"),
        kind=bindparam("kind"), payload=bindparam("payload", type_=JSON),
        update_id=bindparam("update"), state="pending", parts_sent=0, attempts=0,
        created_at=bindparam("now"),
    )
    .returning(OutboxRow.id)
)  # fmt: skip
# The same row, leased to its sender as it is stored (a claim's first attempt).
_ADD_LEASED = _ADD.values(
    attempts=1, lease_owner=bindparam("holder"), lease_until=bindparam("until")
)
_UNSENT = (
    select(OutboxRow.id, OutboxRow.kind, OutboxRow.state, OutboxRow.payload)
    .where(
        OutboxRow.bot_id == bindparam("bot"),
        OutboxRow.chat_id == bindparam("chat"),
        OutboxRow.state.in_(("failed", "pending")),
    )
    .order_by(OutboxRow.id)
)
_PENDING = (
    select(
        OutboxRow.id, OutboxRow.kind, OutboxRow.payload, OutboxRow.parts_sent,
        OutboxRow.update_id, OutboxRow.lease_owner, OutboxRow.lease_until,
    )
    .where(
        OutboxRow.bot_id == bindparam("bot"),
        OutboxRow.chat_id == bindparam("chat"),
        OutboxRow.state == "pending",
    )
    .order_by(OutboxRow.id)
    .with_for_update()
)  # fmt: skip
_DELIVERED = delete(OutboxRow).where(OutboxRow.id == bindparam("row"))
_LEASE = (
    update(OutboxRow)
    .where(OutboxRow.id.in_(bindparam("rows", expanding=True)))
    .values(
        lease_owner=bindparam("holder"), lease_until=bindparam("until"),
        attempts=OutboxRow.attempts + 1,
    )
)  # fmt: skip


def send_time(due: dt.date, time_zone: str) -> dt.datetime:
    """09:00 on `due` in the person's time zone, in UTC."""
    from zoneinfo import ZoneInfo

    local = dt.datetime.combine(due, dt.time(9), tzinfo=ZoneInfo(time_zone))
    return local.astimezone(dt.UTC)


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    """The calendar day `moment` falls on in the person's time zone."""
    from zoneinfo import ZoneInfo

    return as_utc(moment).astimezone(ZoneInfo(time_zone)).date()


class Outbox:
    """Delivery rows written inside one engine turn: they commit or roll back with its answer.

    Plain SQL statements rather than ORM objects: this runs on every message of a remote
    person, and the rows are never read back in the turn.
    """

    def __init__(self, conn: Connection) -> None:
        # Core statements on the turn's connection (inside its transaction): the ORM's bulk
        # machinery would cost more than the statements themselves.
        self.conn = conn
        # Whether `take_failed` found no other unsent row of the chat in this transaction,
        # on SQLite, where the turn holds the database's write lock (BEGIN IMMEDIATE) from
        # then to its commit, so no row can be added meanwhile. PostgreSQL's turns lock only
        # their person: a sweep may queue a reminder for the chat, so the reply is claimed
        # with the chat's rows there, in id order.
        self._alone = False

    def handled(self, bot: str, update_id: int) -> bool:
        state = self.conn.execute(_STATE, {"bot": bot, "update": update_id}).scalar()
        return state == "handled"

    def take(self, bot: str, update_id: int, chat_id: int | None, stored: bool = True) -> bool:
        """Mark an update handled by this transaction's answer; False when it was handled
        before (a redelivery: the caller rolls back). One statement in the usual case: an
        update `stored` on receipt is updated, one that was not gets its handled row (if no
        row is there after all, by a late store or a redelivery, the stored path follows). On
        PostgreSQL a concurrent answer to the same update waits for this one's row lock."""
        values = {"bot": bot, "update": update_id, "chat": chat_id, "now": utcnow()}
        first = None if stored else _if_new(self.conn.dialect.name, "handled")
        if first is not None and self.conn.execute(first, values).first() is not None:
            return True
        if self.conn.execute(_TAKEN, values).rowcount:
            return True
        if self.handled(bot, update_id):
            return False
        self.conn.execute(_HANDLED_NEW, values)  # never received through the inbox
        return True

    def mark_handled(self, bot: str, update_id: int, chat_id: int | None) -> None:
        """Mark an update handled and drop its raw copy (it holds the person's message)."""
        _mark_handled(self.conn, bot, update_id, chat_id)

    def earlier_elsewhere(self, bot: str, chat_id: int, update_id: int, me: str | None) -> bool:
        """Whether an earlier update of the chat waits, stored by another replica."""
        values = {"bot": bot, "chat": chat_id, "update": update_id, "me": me or ""}
        return self.conn.execute(_ELSEWHERE, values).first() is not None

    def add(
        self,
        bot: str,
        chat_id: int,
        owner: str,
        payload: dict[str, Any],
        kind: str = "reply",
        update_id: int | None = None,
    ) -> int:
        values = {"bot": bot, "chat": chat_id, "owner": owner, "kind": kind, "payload": payload,
                  "update": update_id, "now": utcnow()}  # fmt: skip
        return int(self.conn.execute(_ADD, values).scalar_one())

    def claim(self, bot: str, chat_id: int, owner: str) -> list[Pending]:
        """`Deliveries.claim` inside this transaction: the rows are leased when it commits."""
        return _claim(self.conn, bot, chat_id, owner, utcnow())

    def add_claimed(
        self, bot: str, chat_id: int, owner: str, payload: dict[str, Any], update_id: int,
        sender: str,
    ) -> list[Pending]:  # fmt: skip
        """Add the turn's reply and lease the chat's pending rows (the reply among them) to
        `sender`, as `add` then `claim` would. When the chat had nothing else unsent, the
        reply is inserted leased: two statements fewer on every message."""
        if not self._alone:
            self.add(bot, chat_id, owner, payload, "reply", update_id)
            return self.claim(bot, chat_id, sender)
        now = utcnow()
        values = {"bot": bot, "chat": chat_id, "owner": owner, "kind": "reply",
                  "payload": payload, "update": update_id, "now": now, "holder": sender,
                  "until": now + LEASE}  # fmt: skip
        row_id = int(self.conn.execute(_ADD_LEASED, values).scalar_one())
        return [Pending(row_id, chat_id, "reply", payload, 0, update_id)]

    def take_failed(self, bot: str, chat_id: int) -> list[dict[str, Any]]:
        """Payloads of replies that finally could not be sent to this chat, now removed."""
        rows = self.conn.execute(_UNSENT, {"bot": bot, "chat": chat_id}).all()
        failed = [row for row in rows if row.state == "failed"]
        self._alone = self.conn.dialect.name == "sqlite" and len(failed) == len(rows)
        if failed:
            self.conn.execute(delete(OutboxRow).where(OutboxRow.id.in_([r.id for r in failed])))
        return [row.payload for row in failed if row.kind == "reply"]


def _claim(
    conn: Connection, bot: str, chat_id: int, owner: str, moment: dt.datetime
) -> list[Pending]:
    claimed = []
    for row in conn.execute(_PENDING, {"bot": bot, "chat": chat_id}):
        held = row.lease_until is not None and as_utc(row.lease_until) > moment
        if row.lease_owner not in (None, owner) and held:
            break
        claimed.append(
            Pending(row.id, chat_id, row.kind, row.payload, row.parts_sent, row.update_id)
        )
    if claimed:
        conn.execute(
            _LEASE, {"rows": [p.id for p in claimed], "holder": owner, "until": moment + LEASE}
        )
    return claimed


def _earlier(
    conn: Connection, bot: str, chat_id: int, update_id: int, cutoff: dt.datetime
) -> Earlier:
    """The chat's updates stored below `update_id` and not yet handled, and whether their
    receivers beat since `cutoff`."""
    rows = conn.execute(_WAITING, {"bot": bot, "chat": chat_id, "update": update_id}).all()
    alive = set(conn.execute(_ALIVE, {"bot": bot, "cutoff": cutoff}).scalars()) if rows else set()
    return Earlier([Waiting(int(u), r, r in alive) for u, r in rows], [])


def _if_new(dialect: str, state: str) -> Any:
    """The INSERT of a `state` row ("handled" or "received") that does nothing when the
    update's row exists; None in a dialect without such an INSERT (the caller looks first)."""
    key = (dialect, state)
    if key not in _IF_NEW:
        statement = insert_or_ignore(dialect, ProcessedUpdate, ["bot_id", "update_id"])
        if statement is not None:
            values = _HANDLED_VALUES if state == "handled" else _RECEIVED_VALUES
            # Whether a row went in: psycopg's rowcount says -1 for this INSERT.
            statement = statement.values(**values).returning(ProcessedUpdate.update_id)
        _IF_NEW[key] = statement
    return _IF_NEW[key]


_IF_NEW: dict[tuple[str, str], Any] = {}


def _mark_handled(conn: Connection, bot: str, update_id: int, chat_id: int | None) -> None:
    values = {"bot": bot, "update": update_id, "chat": chat_id, "now": utcnow()}
    done = conn.execute(_HANDLED, values)
    if not done.rowcount:  # never received through the inbox (a direct call)
        conn.execute(_HANDLED_NEW, values)


class Deliveries:
    """The sender's side, between turns: each call is its own short transaction."""

    def __init__(
        self, engine: Engine, retrying: Callable[[Callable[[], Any]], Any] | None = None
    ) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # The store's retry of a busy database (agent.store.database.Store._retrying).
        self._retrying = retrying or (lambda attempt: attempt())

    def _begin(self) -> Connection:
        """A connection whose transaction has begun (on SQLite: holding the write lock)."""
        conn = self._engine.connect()
        try:
            conn.begin()
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        conn: Connection = self._retrying(self._begin)
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    # The inbox ------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite a deferred one: it takes no write lock)."""
        with self._engine.connect() as conn:
            yield conn.execution_options(sqlite_read_only=True)

    def receive(
        self,
        bot: str,
        update_id: int,
        chat_id: int | None,
        raw: dict[str, Any],
        receiver: str | None = None,
    ) -> bool:
        """Keep an update before it is acknowledged; False when it was handled before.

        A redelivery of an update not yet handled makes `receiver` its receiver: Telegram
        sends again what the first receiver never acknowledged (it may have stopped).
        """
        return self.receive_and_look(bot, update_id, chat_id, raw, receiver, None)[0]

    def receive_and_look(
        self,
        bot: str,
        update_id: int,
        chat_id: int | None,
        raw: dict[str, Any],
        receiver: str | None,
        stopped_after: dt.timedelta | None = STOPPED_AFTER,
    ) -> tuple[bool, Earlier | None]:
        """`receive`, and, in the same transaction, what of the chat waits below the update
        (`earlier` without a window; None for a redelivery or when `stopped_after` is None),
        so a turn need not ask the store again when nothing does."""
        now = utcnow()
        values = {"bot": bot, "update": update_id, "chat": chat_id, "raw": raw,
                  "now": now, "receiver": receiver}  # fmt: skip
        try:
            with self._transaction() as conn:
                conn.execute(_RECEIVED, values)
                if stopped_after is None or chat_id is None:
                    return True, None
                return True, _earlier(conn, bot, chat_id, update_id, now - stopped_after)
        except IntegrityError:  # seen before (a redelivery), or by another replica just now
            if receiver is None:
                return not self.handled(bot, update_id), None
            with self._transaction() as conn:
                return bool(conn.execute(_REDELIVERED, values).rowcount), None

    def keep_unhandled(
        self, bot: str, updates: Sequence[tuple[int, int | None, dict[str, Any]]], receiver: str
    ) -> None:
        """Store polled updates (id, chat, raw) not handled yet, before they are acknowledged,
        in one transaction; an update handled meanwhile (its row exists) is left as it is."""
        now = utcnow()
        rows = [{"bot": bot, "update": update_id, "chat": chat_id, "raw": raw, "now": now,
                 "receiver": receiver} for update_id, chat_id, raw in updates]  # fmt: skip
        with self._transaction() as conn:
            statement = _if_new(conn.dialect.name, "received")
            for row in rows:
                if statement is not None:
                    conn.execute(statement, row)
                elif not conn.execute(_STATE, row).first():
                    conn.execute(_RECEIVED, row)

    def handled(self, bot: str, update_id: int) -> bool:
        with self._transaction() as conn:
            return Outbox(conn).handled(bot, update_id)

    def mark_handled(self, bot: str, update_id: int, chat_id: int | None) -> None:
        """For updates answered without the engine (a toggle, a group message)."""
        with self._transaction() as conn:
            _mark_handled(conn, bot, update_id, chat_id)

    def unhandled(self, bot: str) -> list[dict[str, Any]]:
        """Raw updates received but not handled (the bot stopped in between), oldest first."""
        with self._transaction() as conn:
            rows = conn.execute(
                select(ProcessedUpdate.payload)
                .where(ProcessedUpdate.bot_id == bot, ProcessedUpdate.state == "received")
                .order_by(ProcessedUpdate.update_id)
            ).scalars()
            return [payload for payload in rows if payload is not None]

    # Replicas -------------------------------------------------------------------------------

    def heartbeat(self, bot: str, name: str, now: dt.datetime | None = None) -> None:
        """Say that replica `name` of this bot is alive."""
        moment = now or utcnow()
        where = (ReplicaRow.bot_id == bot, ReplicaRow.name == name)
        with self._transaction() as conn:
            if conn.execute(update(ReplicaRow).where(*where).values(seen_at=moment)).rowcount:
                return
        try:
            with self._transaction() as conn:
                conn.execute(insert(ReplicaRow).values(bot_id=bot, name=name, seen_at=moment))
        except IntegrityError:  # two processes with one name started together: both live
            return

    def earlier(
        self,
        bot: str,
        chat_id: int,
        update_id: int,
        window: int = 0,
        stopped_after: dt.timedelta = STOPPED_AFTER,
        now: dt.datetime | None = None,
    ) -> Earlier:
        """The chat's updates below `update_id` still waiting, and which of the `window` ids
        just below it nobody stored yet (ids below the lowest ever stored do not count: they
        were never this bot's, or were pruned long ago)."""
        cutoff = (now or utcnow()) - stopped_after
        with self._reading() as conn:
            # Ids present first, the chat's waiting ones after: on PostgreSQL each statement
            # sees what was committed when it began, so an update found present here is
            # found waiting below (the other order could see it in neither).
            missing: list[int] = []
            if window > 0:
                lowest = conn.execute(_LOWEST, {"bot": bot}).scalar()
                low = max(update_id - window, lowest if lowest is not None else update_id)
                near = set(
                    conn.execute(_NEAR, {"bot": bot, "low": low, "update": update_id}).scalars()
                )
                missing = [i for i in range(low, update_id) if i not in near]
            waiting = _earlier(conn, bot, chat_id, update_id, cutoff).waiting
        return Earlier(waiting, missing)

    def take_over(
        self,
        bot: str,
        name: str,
        stopped_after: dt.timedelta = STOPPED_AFTER,
        chat_id: int | None = None,
        below: int | None = None,
        own: bool = False,
        now: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Make `name` the receiver of the unhandled updates of stopped replicas (and of
        unknown receivers), and return their raw updates in update-id order.

        One statement claims each row: of two survivors taking over at once, the second
        finds the row no longer a stopped replica's, so each update is taken once. `own`
        also returns the updates `name` itself received (a restart under the same name);
        `chat_id` and `below` limit the claim to one chat's updates before an id.
        """
        cutoff = (now or utcnow()) - stopped_after
        alive = select(ReplicaRow.name).where(
            ReplicaRow.bot_id == bot, ReplicaRow.seen_at >= cutoff
        )
        whose = or_(ProcessedUpdate.receiver.is_(None), ProcessedUpdate.receiver.not_in(alive))
        if own:
            whose = or_(whose, ProcessedUpdate.receiver == name)
        statement = update(ProcessedUpdate).where(
            ProcessedUpdate.bot_id == bot, ProcessedUpdate.state == "received", whose
        )
        if chat_id is not None:
            statement = statement.where(ProcessedUpdate.chat_id == chat_id)
        if below is not None:
            statement = statement.where(ProcessedUpdate.update_id < below)
        with self._transaction() as conn:
            taken = conn.execute(
                statement.values(receiver=name).returning(
                    ProcessedUpdate.update_id, ProcessedUpdate.payload
                )
            ).all()
        return [payload for _, payload in sorted(taken, key=lambda row: row[0]) if payload]

    def release_leases(
        self,
        bot: str,
        stopped_after: dt.timedelta = STOPPED_AFTER,
        now: dt.datetime | None = None,
    ) -> list[int]:
        """Free the outbox leases of stopped replicas (a lease outlives its holder by up to
        `LEASE`); return the chats whose rows were freed."""
        cutoff = (now or utcnow()) - stopped_after
        alive = select(ReplicaRow.name).where(
            ReplicaRow.bot_id == bot, ReplicaRow.seen_at >= cutoff
        )
        with self._transaction() as conn:
            freed = conn.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.bot_id == bot,
                    OutboxRow.state == "pending",
                    OutboxRow.lease_owner.is_not(None),
                    OutboxRow.lease_owner.not_in(alive),
                )
                .values(lease_owner=None, lease_until=None)
                .returning(OutboxRow.chat_id)
            ).scalars()
            return sorted({int(chat) for chat in freed})

    def record(
        self,
        bot: str,
        chat_id: int,
        owner: str,
        payload: dict[str, Any],
        kind: str,
        update_id: int | None = None,
    ) -> int:
        """Queue a message outside an engine turn (an apology), marking its update handled."""
        with self._transaction() as conn:
            if update_id is not None:
                _mark_handled(conn, bot, update_id, chat_id)
            return Outbox(conn).add(bot, chat_id, owner, payload, kind, update_id)

    def prune(self, now: dt.datetime | None = None) -> int:
        """Forget handled update ids older than a week; return how many went."""
        cutoff = (now or utcnow()) - KEEP_HANDLED
        with self._transaction() as conn:
            result = conn.execute(
                delete(ProcessedUpdate).where(
                    ProcessedUpdate.state == "handled", ProcessedUpdate.handled_at < cutoff
                )
            )
            # Heartbeats of replicas long gone (each container had its own host name).
            conn.execute(delete(ReplicaRow).where(ReplicaRow.seen_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    # The outbox -----------------------------------------------------------------------------

    def claim(
        self, bot: str, chat_id: int, owner: str, now: dt.datetime | None = None
    ) -> list[Pending]:
        """Lease this chat's pending rows, oldest first, up to one another sender holds.

        Stopping there keeps the chat's order: a later row never overtakes an earlier one
        that another replica is still sending.
        """
        with self._transaction() as conn:
            return _claim(conn, bot, chat_id, owner, now or utcnow())

    def progress(self, row_id: int, parts_sent: int) -> None:
        """Record that the first `parts_sent` parts were accepted."""
        with self._transaction() as conn:
            conn.execute(
                update(OutboxRow).where(OutboxRow.id == row_id).values(parts_sent=parts_sent)
            )

    def delivered(
        self, row_id: int, then_claim: tuple[str, int, str] | None = None
    ) -> list[Pending]:
        """Delete a row all of whose parts were accepted. `then_claim` (bot, chat, owner):
        also claim the chat's next rows in the same transaction (what `claim` returns)."""
        with self._transaction() as conn:
            conn.execute(_DELIVERED, {"row": row_id})
            if then_claim is None:
                return []
            bot, chat_id, owner = then_claim
            return _claim(conn, bot, chat_id, owner, utcnow())

    def failed(self, row_id: int) -> None:
        """Give up on a row: the chat's next message says what it held (`Outbox.take_failed`)."""
        with self._transaction() as conn:
            conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id)
                .values(state="failed", lease_owner=None, lease_until=None)
            )

    def chats_waiting(self, bot: str, owner: str, now: dt.datetime | None = None) -> list[int]:
        """Chats with pending rows this sender may take (free, expired or its own leases)."""
        moment = now or utcnow()
        with self._transaction() as conn:
            rows = conn.execute(
                select(OutboxRow.chat_id, OutboxRow.lease_owner, OutboxRow.lease_until)
                .where(OutboxRow.bot_id == bot, OutboxRow.state == "pending")
                .order_by(OutboxRow.id)
            ).all()
        chats: dict[int, None] = {}
        for chat_id, lease_owner, lease_until in rows:
            free = (
                lease_owner in (None, owner) or lease_until is None or as_utc(lease_until) <= moment
            )
            if free:
                chats.setdefault(int(chat_id))
        return list(chats)

    def pending_count(self, bot: str | None = None) -> int:
        with self._transaction() as conn:
            query = select(OutboxRow.id).where(OutboxRow.state == "pending")
            if bot is not None:
                query = query.where(OutboxRow.bot_id == bot)
            return len(conn.execute(query).scalars().all())

    # Reminders ------------------------------------------------------------------------------

    def queue_reminders(
        self,
        bot: str,
        prefix: str,
        render: Callable[[DueReminder], str],
        now: dt.datetime | None = None,
    ) -> list[int]:
        """Queue one message per person whose reminders are due and unsent; return their chats.

        Only people whose external id is `prefix` + a chat id (tg:123) are reminded here. The
        reminders are marked sent in the same transaction that queues the message, and rows
        are locked (skipped by other replicas on PostgreSQL), so exactly one process sends
        each. Several due reminders of one person (the bot was down) become one message.
        """
        moment = now or utcnow()
        chats = []
        with self._sessions.begin() as session:
            rows = session.execute(
                select(Reminder, User.external_id)
                .join(User, User.id == Reminder.user_id)
                .where(
                    Reminder.sent_at.is_(None),
                    Reminder.send_at <= moment,
                    User.external_id.like(f"{prefix}%"),
                )
                .order_by(Reminder.user_id, Reminder.due)
                .with_for_update(of=Reminder, skip_locked=True)
            ).all()
            by_person: dict[str, list[Reminder]] = {}
            for reminder, external_id in rows:
                by_person.setdefault(str(external_id), []).append(reminder)
            for external_id, reminders in by_person.items():
                suffix = external_id.removeprefix(prefix)
                for reminder in reminders:
                    reminder.sent_at = moment
                if not suffix.lstrip("-").isdigit():
                    continue  # not a chat this bot can write to
                latest = reminders[-1]
                due = DueReminder(
                    kind=latest.kind, due=latest.due, time_zone=latest.time_zone,
                    overdue=local_date(moment, latest.time_zone) > latest.due,
                )  # fmt: skip
                payload = {"reply": {"text": render(due)}}
                Outbox(session.connection()).add(bot, int(suffix), external_id, payload, "reminder")
                chats.append(int(suffix))
        return chats
