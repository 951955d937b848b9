"""The database: engine set-up (SQLite pragmas), migrations and user-scoped units of work.

Concurrency, in one place:

- SQLite: every unit of work opens with `BEGIN IMMEDIATE` (the write lock); a lock held by
  another process is waited for (the busy timeout), then waited for again until the store's
  budget runs out, and only then is the person told (`StoreBusy`). Nothing slow may run
  while the lock is held (the engine loads the index and renders charts outside it).
- PostgreSQL: the first statement of a unit of work takes a transaction-level advisory lock
  on the person's id, so one person's turns are serialised across processes and replicas
  (two answers to one question can no longer both be acknowledged and one lost), and a
  person is created with an upsert (two first messages at once cannot collide).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, insert, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.store.erasure import (
    ErasedPerson,
    ScrubReport,
    scrub_postgresql,
    scrub_sqlite,
    sqlite_pending,
)
from agent.store.migrations import MIGRATIONS
from agent.store.models import SchemaMigration, User, insert_or_ignore
from agent.store.outbox import Deliveries
from agent.store.scope import UserScope
from agent.store.sqlite import SQLITE_BUSY_TIMEOUT_S, private_file, sqlite_begin, sqlite_pragmas
from tools.errors import StorageError

log = logging.getLogger(__name__)
DEFAULT_BUSY_BUDGET_S = 60.0
# PostgreSQL states worth waiting out: serialization failure, deadlock, lock not available,
# too many connections, the server starting up or shutting down.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "53300", "57P03"}
TRANSIENT_WORDS = ("database is locked", "database is busy", "too many clients", "the database system is starting up")  # fmt: skip
# The namespace of the advisory locks (the first key of the two-key form), so the locks of
# another application on the same server never collide with ours.
ADVISORY_NAMESPACE = 0x5A_0A_17


class StoreBusy(StorageError):
    """The store stayed busy (locked by other sessions, or out of connections) for the whole
    budget; the message was rolled back and may simply be sent again."""


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is contention that clears by itself (worth a retry)."""
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    code = getattr(getattr(original, "diag", None), "sqlstate", None) or getattr(
        original, "sqlstate", None
    )
    if code in TRANSIENT_SQLSTATES:
        return True
    message = str(original).lower()
    return any(word in message for word in TRANSIENT_WORDS)


def make_engine(url: str, pooled: bool = True, busy_s: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and immediate writes.

    A SQLite file is created 0600 in a folder created 0700 (its WAL and shared-memory files
    take the file's mode); SQLite waits `busy_s` (at most 15 s) for the write lock on each
    attempt. Error messages never quote statement parameters: those are the person's
    answers, and errors end up in logs that erasure cannot reach. `pooled=False` closes
    each connection after its unit of work: a terminal chat then holds no PostgreSQL
    connection while its person is typing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            database = Path(parsed.database)
            private_file(database)
            for suffix in ("-wal", "-shm"):
                side = database.with_name(database.name + suffix)
                if side.exists():
                    private_file(side)
        wait = min(busy_s, SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(url, connect_args={"timeout": wait}, hide_parameters=True)

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            sqlite_pragmas(dbapi_connection, wait)

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "begin", sqlite_begin)
        return engine
    if pooled:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool, hide_parameters=True)


# Built once: every turn runs it, and building the expression costs more than running it.
_PERSON = select(User).where(User.external_id == bindparam("external_id"))


class Store:
    """Owns the engine and the migrations; hands out user-scoped units of work."""

    def __init__(
        self, url: str, busy_timeout_s: float = DEFAULT_BUSY_BUDGET_S, pooled: bool = True
    ) -> None:
        self.url = url
        self.busy_timeout_s = busy_timeout_s
        self.engine = make_engine(url, pooled, busy_timeout_s)
        database = make_url(url).database if self.engine.dialect.name == "sqlite" else None
        # The SQLite file, and the marker of a scrub readers held up (finish_pending_scrub).
        self._sqlite_file = Path(database) if database and database != ":memory:" else None
        self._scrub_marker = sqlite_pending(self._sqlite_file) if self._sqlite_file else None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The versions this opening applied (`skillaudit migrate` reports them).
        self.applied = self.migrate()
        self.finish_pending_scrub()
        # The inbox, outbox and reminders of remote front ends (agent/store/outbox.py); their
        # transactions wait out a busy store like every other unit of work.
        self.deliveries = Deliveries(self.engine, self._retrying)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _retrying(self, attempt: Any) -> Any:
        """Run `attempt()` again while the store is busy, until the budget runs out."""
        deadline = time.monotonic() + self.busy_timeout_s
        pause = 0.05
        while True:
            try:
                return attempt()
            except DBAPIError as exc:
                if not is_transient(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusy(busy_message()) from None
                # Jittered, growing pauses: many waiting processes must not retry in step.
                time.sleep(random.uniform(0, pause))
                pause = min(pause * 2, 1.0)

    def migrate(self) -> list[int]:
        """Apply the migrations this database has not seen; return their versions."""
        if not self._pending_migrations():
            return []  # the usual case: no write lock taken just to look

        def apply() -> list[int]:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    # Processes starting together migrate one at a time (SQLite's write
                    # lock does the same); the others then find the work done.
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:namespace, 0)"),
                        {"namespace": ADVISORY_NAMESPACE},
                    )
                SchemaMigration.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
                done = set(conn.execute(select(SchemaMigration.version)).scalars())
                applied = []
                for version, description, step in MIGRATIONS:
                    if version in done:
                        continue
                    step(conn)
                    conn.execute(
                        insert(SchemaMigration).values(version=version, description=description)
                    )
                    applied.append(version)
            return applied

        return list(self._retrying(apply))

    def _pending_migrations(self) -> bool:
        def look() -> bool:
            with self._reader() as conn:
                if not inspect(conn).has_table(SchemaMigration.__tablename__):
                    return True
                done = set(conn.execute(select(SchemaMigration.version)).scalars())
            return any(version not in done for version, _, _ in MIGRATIONS)

        return bool(self._retrying(look))

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        """A connection for reads only (on SQLite a deferred transaction: no write lock)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(sqlite_read_only=True)

    def scrub(self, erased: ErasedPerson | None = None) -> ScrubReport:
        """After an erasure: clean the freed space and logs, then check that none of the
        person's values (their id and the texts they gave) is left, in rows or on disk.

        SQLite: checkpoint and truncate the write-ahead log (waiting a little for readers),
        search the file's bytes, and rewrite the file if a value survived. PostgreSQL:
        VACUUM FULL each table that held their rows (a plain VACUUM leaves dead tuples'
        bytes in free space), then search every row and, when this role may read them, the
        table files.
        """
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                return scrub_sqlite(self.engine, Path(database), erased)
        if self.dialect == "postgresql":
            return scrub_postgresql(self.engine, erased)
        return ScrubReport(self.dialect, len(erased.markers) if erased else 0)

    def finish_pending_scrub(self) -> None:
        """Complete a SQLite scrub that readers held up (see `scrub`); cheap when none is due
        (one stat: it runs after every turn)."""
        if self._scrub_marker is not None and self._scrub_marker.exists():
            assert self._sqlite_file is not None
            scrub_sqlite(self.engine, self._sqlite_file, None, wait_s=0.0)

    def schema_version(self) -> int:
        with self._reader() as conn:
            versions = conn.execute(select(SchemaMigration.version)).scalars().all()
        return max(versions, default=0)

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    @contextmanager
    def user(self, external_id: str) -> Iterator[UserScope]:
        """One transaction for one user, created on first sight: commits on success, rolls
        back on any error."""
        with self._scope(external_id, create=True) as scope:
            assert scope is not None
            yield scope

    @contextmanager
    def known_user(self, external_id: str) -> Iterator[UserScope | None]:
        """Like `user`, but an unknown user yields None and nothing is stored."""
        with self._scope(external_id, create=False) as scope:
            yield scope

    @contextmanager
    def _scope(self, external_id: str, create: bool) -> Iterator[UserScope | None]:
        session = self._retrying(lambda: self._open(external_id))
        try:
            user = session.scalar(_PERSON, {"external_id": external_id})
            created = False
            if user is None and create:
                user, created = self._add_user(session, external_id)
            yield None if user is None else UserScope(session, user, created)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _open(self, external_id: str) -> Session:
        """A session whose transaction has begun and holds this person's lock."""
        session = self._sessions()
        try:
            # Acquiring the connection begins the transaction: BEGIN IMMEDIATE on SQLite,
            # where waiting for the write lock happens (and may time out, to be retried).
            connection = session.connection()
            if self.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:person))"),
                    {"namespace": ADVISORY_NAMESPACE, "person": external_id},
                )
        except BaseException:
            session.rollback()
            session.close()
            raise
        return session

    def _add_user(self, session: Session, external_id: str) -> tuple[User, bool]:
        """Create the person (an upsert: a row another process just added is taken as is)."""
        values = {"external_id": external_id, "created_at": dt.datetime.now(dt.UTC)}
        statement = insert_or_ignore(self.dialect, User, ["external_id"])
        if statement is not None:
            created = bool(getattr(session.execute(statement.values(**values)), "rowcount", 0))
        else:
            try:
                with session.begin_nested():
                    session.execute(insert(User).values(**values))
                created = True
            except IntegrityError:
                created = False
        user = session.scalar(select(User).where(User.external_id == external_id))
        assert user is not None
        return user, created

    def dispose(self) -> None:
        self.engine.dispose()


def busy_message() -> str:
    return (
        "The store is busy with other conversations right now, so your last message was not "
        "saved; please send it again."
    )
