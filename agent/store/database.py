"""The database: engine set-up (SQLite pragmas), migrations and user-scoped units of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import sessionmaker

from agent.store.migrations import MIGRATIONS
from agent.store.models import USER_TABLES, SchemaMigration, User
from agent.store.outbox import Deliveries
from agent.store.scope import UserScope

SQLITE_BUSY_TIMEOUT_S = 15
MIGRATION_LOCK = 0x5A_4D_49_47  # the advisory-lock key of schema migrations on PostgreSQL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's begin event below opens each transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Overwrite deleted content with zeros, so erased personal data leaves no trace in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Take the write lock up front: a deferred transaction that later writes can fail with
    # "database is locked" without waiting, since SQLite cannot upgrade it safely.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and immediate writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Owns the engine and the migrations; hands out user-scoped units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()
        # The inbox, outbox and reminders of remote front ends (agent/store/outbox.py).
        self.deliveries = Deliveries(self.engine)

    def migrate(self) -> list[int]:
        """Apply the migrations this database has not seen; return their versions.

        Several processes may start at once (bot replicas): on PostgreSQL they take turns on
        one advisory lock, held until this transaction ends, so each step runs exactly once.
        (SQLite's immediate transactions already let one writer in at a time.)
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
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

    def scrub(self) -> None:
        """After an erasure: push the WAL into the database file and truncate it (SQLite), or
        vacuum the personal tables (PostgreSQL), so deleted rows do not linger on disk."""
        if self.engine.dialect.name == "sqlite":
            # Outside any transaction (the pool's connection runs in driver autocommit mode).
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            finally:
                raw.close()
            return
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for model in (*USER_TABLES, User):
                    conn.exec_driver_sql(f"VACUUM {model.__tablename__}")

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
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
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.external_id == external_id))
            created = user is None
            if user is None and not create:
                yield None
                return
            if user is None:
                user = User(external_id=external_id)
                session.add(user)
                session.flush()
            yield UserScope(session, user, created)

    def dispose(self) -> None:
        self.engine.dispose()
