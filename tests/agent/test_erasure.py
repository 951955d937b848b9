"""Erasure you can trust: after `forget` the store is searched for the person's id and the
texts they gave, in every row and in the bytes on disk, and the reply says what was found.

SQLite, plainly and with another connection reading during the erasure (the scrub waits,
then finishes at the next turn); PostgreSQL, where a deleted row stays as a dead tuple and
VACUUM leaves freed bytes in place until the tables are rewritten (VACUUM FULL). Each person
carries marker words through every kind of text they can give: a topic they asked about, a
CV line a connector read, a review reason.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent.test_review_flow import audited
from tests.postgres import postgres_skip_reason, throwaway_store

TODAY = dt.date(2026, 11, 28)
GONE, KEPT = "alice-7f3a9c", "bob-2b81d4"  # ids as distinctive as the texts


def markers(user: str) -> list[str]:
    """Words only this person ever gave."""
    return [f"Zanzibarquux{user}", f"Vortigernplex{user}", f"Flurbwidgetry{user}"]


def give_texts(engine: Engine, user: str) -> None:
    """A whole audit, then a topic, a CV line read by a connector and a review reason."""
    audited(engine, user)
    topic, cv_line, reason = markers(user)
    engine.handle_sync(user, f"/next docker for my {topic} project")
    with engine.store.user(user) as scope:
        scope.save_connector_run(
            "cv", "k1", dt.datetime.now(dt.UTC),
            {"evidence": [{"skill": "docker", "detail": f"Built Docker pipelines for {cv_line} Dynamics"}]},
        )  # fmt: skip
        audit = scope.latest_audit()
        assert audit is not None
        scope.add_decision(
            audit_id=audit.id, subject="audit", subject_id=audit.id, prompt_id="p1",
            decision="adjust", reason=f"the {reason} client work proves it", decided_by=user,
        )  # fmt: skip


def engine_on(store: Store, home: Path, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=store.url)
    recommender = Recommender(settings, kb, retriever)
    return Engine(store, settings, kb, today=lambda: TODAY, recommender=recommender)


def sqlite_bytes(database: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in database.parent.glob(database.name + "*") if p.is_file()
    )


def test_sqlite_erasure_is_checked_to_the_byte(
    tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    database = tmp_path / "skillaudit.db"
    store = Store(f"sqlite:///{database}")
    engine = engine_on(store, tmp_path, kb, retriever)
    for user in (GONE, KEPT):
        give_texts(engine, user)
    assert all(m.encode() in sqlite_bytes(database) for m in markers(GONE))
    engine.handle_sync(GONE, "/forget")
    reply = engine.handle_sync(GONE, "yes").text
    found = sqlite_bytes(database)
    for marker in [*markers(GONE), GONE]:
        assert marker.encode() not in found, marker
    assert all(m.encode() in found for m in markers(KEPT))  # the other person is untouched
    assert "Checked afterwards: your id and" in reply
    assert "nowhere in the database file or its write-ahead log" in reply
    checked = int(reply.split("your id and ")[1].split(" text")[0])
    assert checked >= 3  # at least the three marker texts (and what the interview stored)
    store.dispose()


def test_sqlite_erasure_with_a_reader_open_finishes_later_and_says_so(
    tmp_path: Path, kb: KnowledgeBase, retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.store import erasure

    monkeypatch.setattr(erasure, "SCRUB_WAIT_S", 0.3)  # the reader stays: no need to wait long
    database = tmp_path / "skillaudit.db"
    store = Store(f"sqlite:///{database}")
    engine = engine_on(store, tmp_path, kb, retriever)
    for user in (GONE, KEPT):
        give_texts(engine, user)
    # Another program (a backup, a DB browser, a second front end) in the middle of a read.
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM users").fetchone()
    engine.handle_sync(GONE, "/forget")
    reply = engine.handle_sync(GONE, "yes").text
    assert "has been erased" in reply
    assert "Another program has the database open" in reply  # not "nowhere", which is untrue
    assert erasure.sqlite_pending(database).exists()
    reader.execute("COMMIT")  # the read ends; the connection stays open, idle
    engine.handle_sync(KEPT, "/progress")  # any next turn finishes the scrub
    assert not erasure.sqlite_pending(database).exists()
    found = sqlite_bytes(database)
    for marker in [*markers(GONE), GONE]:
        assert marker.encode() not in found, marker
    assert all(m.encode() in found for m in markers(KEPT))
    reader.close()
    store.dispose()


@pytest.fixture
def pg_store() -> Iterator[Store]:
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    with throwaway_store("sa_erase") as store:
        yield store


def relation_bytes(store: Store) -> dict[str, bytes]:
    """Every table, index and TOAST file of the store's schema, read from the server's disk."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CHECKPOINT")
        rows = conn.execute(
            text(
                "SELECT c.relname, pg_read_binary_file(pg_relation_filepath(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                "AND c.relkind IN ('r', 'i') UNION ALL "
                "SELECT c.relname || ' toast', pg_read_binary_file(pg_relation_filepath(t.oid)) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_class t ON t.oid = c.reltoastrelid WHERE n.nspname = current_schema()"
            )
        ).all()
    return {name: bytes(blob) for name, blob in rows}


def test_postgresql_erasure_leaves_no_dead_tuple_or_freed_bytes(
    pg_store: Store, tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    engine = engine_on(pg_store, tmp_path, kb, retriever)
    for user in (GONE, KEPT):
        give_texts(engine, user)
    before = b"".join(relation_bytes(pg_store).values())
    assert all(m.encode() in before for m in markers(GONE))
    engine.handle_sync(GONE, "/forget")
    reply = engine.handle_sync(GONE, "yes").text
    files = relation_bytes(pg_store)
    for name, data in files.items():
        for marker in markers(GONE):
            assert marker.encode() not in data, (marker, name)
        assert GONE.encode() not in data, name
    after = b"".join(files.values())
    assert all(m.encode() in after for m in markers(KEPT))
    assert "in no row and in none of the table files (rewritten with VACUUM FULL)" in reply
    assert "write-ahead log and backups" in reply  # what erasure cannot reach, said plainly
    assert "connector runs" in reply  # CV lines are deleted and counted, not left to a cascade


def test_postgresql_erasure_waits_out_a_snapshot_that_still_sees_the_rows(
    pg_store: Store,
    tmp_path: Path,
    kb: KnowledgeBase,
    retriever: Retriever,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transaction that began before the erasure (another replica's turn, a report) keeps
    the deleted rows as recently dead through the first VACUUM FULL; the scrub rewrites the
    tables again once it ends, instead of leaving the person's words on disk."""
    from agent.store import erasure

    engine = engine_on(pg_store, tmp_path, kb, retriever)
    give_texts(engine, GONE)
    watcher = pg_store.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    watcher.begin()
    # Its snapshot is taken by its first statement; it touches no table (a lock on one
    # would make VACUUM FULL wait for it instead).
    watcher.execute(text("SELECT 1"))
    rewrites = []
    vacuum_full = erasure._vacuum_full

    def rewrite(on: object, tables: list[str]) -> None:
        vacuum_full(on, tables)  # type: ignore[arg-type]
        rewrites.append(tables)
        if len(rewrites) == 1:  # the snapshot saw the first rewrite, then it ends
            assert b"Vortigernplex" + GONE.encode() in b"".join(relation_bytes(pg_store).values())
            watcher.rollback()

    monkeypatch.setattr(erasure, "_vacuum_full", rewrite)
    engine.handle_sync(GONE, "/forget")
    reply = engine.handle_sync(GONE, "yes").text
    assert len(rewrites) >= 2
    for name, data in relation_bytes(pg_store).items():
        for marker in [*markers(GONE), GONE]:
            assert marker.encode() not in data, (marker, name)
    assert "in no row and in none of the table files (rewritten with VACUUM FULL)" in reply
    watcher.close()


def test_postgresql_erasure_says_what_a_lasting_snapshot_kept(
    pg_store: Store, tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    """A snapshot that outlasts the wait: the report names the table whose file still holds
    the words (only its rows are deleted here, by hand, under the open snapshot)."""
    from agent.store import erasure

    engine = engine_on(pg_store, tmp_path, kb, retriever)
    give_texts(engine, GONE)
    with pg_store.engine.connect().execution_options(isolation_level="REPEATABLE READ") as other:
        other.begin()
        other.execute(text("SELECT 1"))  # a snapshot, and no lock on the table
        with pg_store.engine.begin() as conn:
            conn.execute(text("DELETE FROM connector_runs"))
        gone = erasure.ErasedPerson(0, ["connector_runs"], [GONE, *markers(GONE)])
        report = erasure.scrub_postgresql(pg_store.engine, gone, wait_s=0.0)
        other.rollback()
    assert "connector_runs" in report.disk_left and not report.verified
    after = erasure.scrub_postgresql(pg_store.engine, gone)  # the snapshot has ended
    assert after.disk_left == []


@pytest.mark.parametrize(
    ("checked", "said"),
    [
        (1, "Checked afterwards: your id is nowhere in the database file"),
        (2, "Checked afterwards: your id and 1 text you gave are nowhere"),
        (4, "Checked afterwards: your id and 3 texts you gave are nowhere"),
    ],
)
def test_the_check_after_an_erasure_counts_what_it_looked_for(checked: int, said: str) -> None:
    """A person who gave no text of their own hears of their id alone, not of "0 texts"."""
    from agent.store.erasure import ScrubReport

    assert ScrubReport("sqlite", checked).describe().startswith(said)
