"""Erasure that is checked: after a person's rows are deleted, clean what the database keeps
of deleted rows, then search for the person's id and texts, in rows and on disk.

What each database keeps after a DELETE, and what is done about it:

- SQLite (with `secure_delete`, deleted content is overwritten in the page): old copies of
  pages stay in the write-ahead log until a checkpoint copies the new pages back and the log
  is truncated. A reader holding a snapshot delays that, so the checkpoint waits for readers
  a little and, when one stays, a marker file asks the next start (or turn) to finish it.
- PostgreSQL: a deleted row stays in its page as a dead tuple until VACUUM, and VACUUM only
  marks the space free, leaving the bytes. VACUUM FULL rewrites the table (and its indexes
  and TOAST) into new files and drops the old ones. The server's write-ahead log and any
  backups keep the rows until they are recycled; no client can reach those (README).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from agent.store.sqlite import private_file

log = logging.getLogger(__name__)
SCRUB_WAIT_S = 5.0  # how long an erasure waits for another connection's read (or snapshot) to end


@dataclass(frozen=True)
class ErasedPerson:
    """What the scrub must look for: the deleted user row's key, the tables their rows were
    in, and their distinctive values (their id first, then texts they gave)."""

    user_key: int
    tables: list[str]
    markers: list[str]


@dataclass(frozen=True)
class ScrubReport:
    """What the scrub did and what the check found."""

    backend: str
    checked: int = 0  # values searched for: their id and the texts they gave
    shared: int = 0  # of those, values someone else's rows also hold (not theirs alone)
    rows_left: list[str] = field(default_factory=list)  # tables still holding a row of theirs
    disk_left: list[str] = field(default_factory=list)  # files still holding one of their values
    disk_checked: bool = False
    rewritten: list[str] = field(default_factory=list)  # tables vacuumed (PostgreSQL)
    pending: bool = False  # SQLite: a reader held the log; the scrub finishes later
    note: str = ""  # why the disk could not be checked
    error: str = ""  # the scrub itself failed (the rows are deleted all the same)

    @property
    def verified(self) -> bool:
        return not (self.rows_left or self.disk_left or self.pending or self.error)

    def describe(self) -> str:
        """One or two sentences for the person: what was checked, and what it found."""
        alone = self.checked - self.shared
        texts = alone - 1  # with none of their own, only the id ("0 texts" read oddly)
        values = (
            f"your id and {texts} text{'s' if texts != 1 else ''} you gave"
            if texts > 0
            else "your id"
        )
        are = "are" if texts > 0 else "is"
        if self.error:
            return (
                f"Your rows are deleted, but cleaning and checking the store afterwards failed "
                f"({self.error}); please tell the operator."
            )
        if self.rows_left:
            return (
                f"Checking afterwards found rows of yours still in {', '.join(self.rows_left)}; "
                "please tell the operator, the erasure is not complete."
            )
        if self.pending:
            return (
                f"Checked afterwards: {values} {are} in no row. Another program has the database "
                "open, so its write-ahead log still holds old copies; they are scrubbed when it "
                "lets go (at the latest at the next start)."
            )
        if self.disk_left:
            return (
                f"Checked afterwards: {values} {are} in no row, but old copies are still in "
                f"{', '.join(self.disk_left)}; the scrub is retried at the next start."
            )
        if self.backend == "sqlite":
            return (
                f"Checked afterwards: {values} {are} nowhere in the database file or its "
                "write-ahead log."
            )
        if self.backend == "postgresql":
            where = (
                "in no row and in none of the table files (rewritten with VACUUM FULL)"
                if self.disk_checked
                else f"in no row (tables rewritten with VACUUM FULL; {self.note})"
            )
            return (
                f"Checked afterwards: {values} {are} {where}. The server's write-ahead log and "
                "backups keep old copies until they are recycled."
            )
        return f"Checked afterwards: {values} {are} in no row."


def sqlite_pending(database: Path) -> Path:
    """The marker file of a scrub that readers held up (it holds no personal data)."""
    return database.with_name(database.name + "-scrub-pending")


def forms(marker: str) -> list[bytes]:
    """How a value can appear in a file: as UTF-8, and escaped inside stored JSON."""
    raw = marker.encode()
    escaped = json.dumps(marker)[1:-1].encode()
    return [raw] if escaped == raw else [raw, escaped]


def scrub_sqlite(
    engine: Engine, database: Path, erased: ErasedPerson | None, wait_s: float | None = None
) -> ScrubReport:
    """Checkpoint and truncate the log, search the file's bytes, rewrite it if a value survived."""
    wait_s = SCRUB_WAIT_S if wait_s is None else wait_s
    markers = erased.markers if erased else []
    rows_left = _rows_of(engine, erased) if erased else []
    complete = _checkpoint(engine, wait_s)
    pending = sqlite_pending(database)
    if not complete:
        private_file(pending)
        if erased is not None:
            log.warning("erasure: another connection holds the log; the scrub finishes later")
        return ScrubReport("sqlite", len(markers), rows_left=rows_left, pending=True)
    pending.unlink(missing_ok=True)
    # Bytes first (fast); a value found there is someone else's too when a row still holds it.
    left = _on_disk(database, markers)
    shared = _shared(engine, left)
    left = [m for m in left if m not in shared]
    if left:
        # A value survived the in-place overwrite (a page written by a connection without
        # secure_delete, say): rewrite the whole file, then look again.
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
        _checkpoint(engine, wait_s)
        left = _on_disk(database, left)
    files = [database.name] if left else []
    return ScrubReport("sqlite", len(markers), len(shared), rows_left, files, disk_checked=True)


def _checkpoint(engine: Engine, wait_s: float) -> bool:
    """Copy the log into the file and truncate it; False when a reader kept it from finishing."""
    deadline = time.monotonic() + wait_s
    raw = engine.raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    before = driver.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        # The checkpoint waits for readers through the busy handler: bound each wait.
        driver.execute(f"PRAGMA busy_timeout={int(min(wait_s, 1.0) * 1000)}")
        while True:
            busy, logged, copied = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0 and logged == copied:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(before)}")
        raw.close()


def _on_disk(database: Path, markers: list[str]) -> list[str]:
    """The markers whose bytes are in the database file or its log."""
    found = []
    blobs = [p.read_bytes() for p in (database, database.with_name(database.name + "-wal")) if p.exists()]  # fmt: skip
    for marker in markers:
        if any(blob.find(form) >= 0 for blob in blobs for form in forms(marker)):
            found.append(marker)
    return found


def _columns(engine: Engine) -> dict[str, list[str]]:
    found = {}
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        found[table] = [column["name"] for column in inspector.get_columns(table)]
    return found


def _shared(engine: Engine, markers: list[str]) -> set[str]:
    """Markers that remaining rows (someone else's) or the schema also hold."""
    shared: set[str] = set()
    if not markers:
        return shared
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_read_only=True)
        quote = conn.dialect.identifier_preparer.quote
        for table, columns in _columns(engine).items():
            values = [f"CAST({quote(c)} AS TEXT)" for c in columns]
            if sqlite:  # few markers (those found in the file's bytes): one query each
                where = " OR ".join(f"instr({v}, :m) > 0" for v in values)
                query = text(f"SELECT 1 FROM {quote(table)} WHERE {where} LIMIT 1")
                for marker in markers:
                    if marker not in shared and any(
                        conn.execute(query, {"m": form.decode()}).first() is not None
                        for form in forms(marker)
                    ):
                        shared.add(marker)
                continue
            row = "concat_ws(chr(1), " + ", ".join(values) + ")"
            query = text(
                f"SELECT m FROM unnest(CAST(:ms AS text[])) AS m "
                f"WHERE EXISTS (SELECT 1 FROM {quote(table)} WHERE strpos({row}, m) > 0)"
            )
            searched = {form.decode(): marker for marker in markers for form in forms(marker)}
            for (found,) in conn.execute(query, {"ms": list(searched)}):
                shared.add(searched[found])
        if sqlite:
            for marker in markers:
                schema = conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE instr(sql, :m) > 0"), {"m": marker}
                ).first()
                if schema is not None:
                    shared.add(marker)
    return shared


def _rows_of(engine: Engine, erased: ErasedPerson) -> list[str]:
    """Tables that still hold a row of the erased user (by key, and the user row by id)."""
    left = []
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_read_only=True)
        for table, columns in _columns(engine).items():
            name = conn.dialect.identifier_preparer.quote(table)
            if "user_id" in columns:
                query = text(f"SELECT 1 FROM {name} WHERE user_id = :key LIMIT 1")
                if conn.execute(query, {"key": erased.user_key}).first() is not None:
                    left.append(table)
        if erased.markers:
            user = conn.execute(
                text("SELECT 1 FROM users WHERE external_id = :id OR id = :key"),
                {"id": erased.markers[0], "key": erased.user_key},
            ).first()
            if user is not None:
                left.append("users")
    return left


def _vacuum_full(engine: Engine, tables: list[str]) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f"VACUUM FULL {conn.dialect.identifier_preparer.quote(table)}")


def scrub_postgresql(
    engine: Engine, erased: ErasedPerson | None, wait_s: float = SCRUB_WAIT_S
) -> ScrubReport:
    """VACUUM FULL the tables that held the person's rows, then search rows and table files.

    A transaction that began before the rows were deleted (another turn, another replica)
    still sees them, so VACUUM FULL keeps them as recently dead; while the files hold the
    person's values and `wait_s` allows, the tables are rewritten again as such
    transactions end.
    """
    tables = sorted({*(erased.tables if erased else []), "users"})
    _vacuum_full(engine, tables)
    if erased is None:
        return ScrubReport("postgresql", rewritten=tables)
    rows_left = _rows_of(engine, erased)
    markers = erased.markers
    try:
        found = _pg_files(engine, markers)
    except DBAPIError as exc:  # reading server files needs pg_read_server_files (or superuser)
        log.info("erasure: table files not checked: %s", type(exc.orig).__name__)
        return ScrubReport(
            "postgresql",
            len(markers),
            len(_shared(engine, markers)),
            rows_left,
            rewritten=tables,
            note="this database role may not read the table files, so the disk was not searched",
        )
    shared = _shared(engine, sorted({m for ms in found.values() for m in ms}))
    left = sorted(name for name, ms in found.items() if any(m not in shared for m in ms))
    deadline = time.monotonic() + wait_s
    pause = 0.05
    while left and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
        _vacuum_full(engine, tables)
        found = _pg_files(engine, markers)
        left = sorted(name for name, ms in found.items() if any(m not in shared for m in ms))
    return ScrubReport("postgresql", len(markers), len(shared), rows_left, left, True, tables)


def _pg_files(engine: Engine, markers: list[str]) -> dict[str, list[str]]:
    """The markers found in the files of this schema's relations (tables, indexes, TOAST)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # So the files hold what the buffers hold; without the right to, the rewritten
        # tables are on disk already.
        with contextlib.suppress(DBAPIError):
            conn.exec_driver_sql("CHECKPOINT")
        relations = conn.execute(
            text(
                "SELECT c.relname, pg_read_binary_file(pg_relation_filepath(c.oid)) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i') "
                "UNION ALL "
                "SELECT c.relname || ' (TOAST)', pg_read_binary_file(pg_relation_filepath(t.oid)) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_class t ON t.oid = c.reltoastrelid "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        ).all()
    found: dict[str, list[str]] = {}
    for name, blob in relations:
        data = bytes(blob or b"")
        hits = [m for m in markers if any(data.find(form) >= 0 for form in forms(m))]
        if hits:
            found[name] = hits
    return found
