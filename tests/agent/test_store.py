"""The store on SQLite always, and on PostgreSQL when one is reachable."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import USER_TABLES, Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.postgres import PG_URL, postgres_skip_reason, throwaway_store

PG_SKIP = postgres_skip_reason()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
        yield store
        store.dispose()
        return
    if PG_SKIP:
        pytest.skip(PG_SKIP)
    with throwaway_store("sa_test") as store:
        yield store


def test_migrations_are_recorded_once(store: Store) -> None:
    from agent.store import MIGRATIONS

    assert {4, 5} <= {version for version, _, _ in MIGRATIONS}  # delivery; checks, endorsements
    assert store.schema_version() == max(version for version, _, _ in MIGRATIONS)
    assert store.migrate() == []
    assert {
        "users", "sessions", "audits", "review_decisions", "consents", "schedules",
        "plans", "model_audits", "connector_runs", "processed_updates", "llm_memory", "llm_usage",
        "check_sessions", "check_answers", "endorsement_codes", "endorsements",
        "outbox", "reminders",
    } <= set(store.table_names())  # fmt: skip


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.dispose()


def test_rows_are_scoped_by_user(store: Store) -> None:
    with store.user("a") as scope:
        scope.start_flow("interview", "target_role", {"secret": "alpha"})
        scope.set_consent("github", True)
    with store.user("b") as scope:
        assert scope.active_flows() == [] and scope.consents() == {}
        assert "alpha" not in str(scope.export())
        other = None
    with store.user("a") as scope:
        other = scope.active_flows()[0]
    with store.user("b") as scope, pytest.raises(PermissionError):
        scope.save_flow(other)


def test_a_failed_message_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.user("c") as scope:
        scope.start_flow("interview", "target_role")
        raise RuntimeError("crash while handling")
    with store.user("c") as scope:
        assert scope.active_flows() == []


def _full_engine(store: Store, tmp_path: Path, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    recommender = Recommender(settings, kb, retriever)
    return Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28), recommender=recommender)


def test_export_and_erase_everything(
    store: Store, tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    from tests.agent.test_review_flow import audited

    engine = _full_engine(store, tmp_path, kb, retriever)
    audited(engine, "dora")
    audited(engine, "eve")
    engine.handle_sync("dora", "/review")
    engine.handle_sync("dora", "confirm")
    reply = engine.handle_sync("dora", "/export")
    exported = reply.attachments[0].path.read_text()
    assert '"external_id": "dora"' in exported and '"eve"' not in exported
    assert '"review_decisions"' in exported and '"github"' in exported
    reply = engine.handle_sync("dora", "/forget")
    assert "cannot be undone" in reply.text
    assert "Nothing was erased" in engine.handle_sync("dora", "no").text
    engine.handle_sync("dora", "/forget")
    assert "has been erased" in engine.handle_sync("dora", "yes").text
    with store.engine.connect() as conn:
        users = conn.execute(text("select id, external_id from users")).all()
        assert [u.external_id for u in users] == ["eve"]
        for model in USER_TABLES:
            table = model.__tablename__
            owners = conn.execute(text(f"select distinct user_id from {table}")).scalars().all()
            assert set(owners) <= {users[0].id}, table
    with store.user("eve") as scope:
        assert len(scope.audits()) == 1


def test_concurrent_users_do_not_collide(
    store: Store, tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    engine = _full_engine(store, tmp_path, kb, retriever)
    errors: list[BaseException] = []
    answers = ["/start", "data scientist", "junior", "2", "3 3 3 3 3 3 3 3", "all 2"]

    def talk(user: str) -> None:
        try:
            for message in answers:
                reply = engine.handle_sync(user, message)
                assert reply.text
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(f"u{i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from users")).scalar() == 12
        assert conn.execute(text("select count(*) from sessions")).scalar() == 12
    for i in range(12):
        with store.user(f"u{i}") as scope:
            flow = scope.active_flows()[0]
            assert flow.answers["career_stage"] == "junior" and flow.position == "ethics_ratings"
            assert scope.user.external_id == f"u{i}"


def test_erasure_leaves_no_trace_on_disk(
    tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    """Two users with rows and files; one is erased; after a restart nothing of them is left."""
    from tests.agent.test_review_flow import audited

    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(settings.resolved_database_url())
    engine = _full_engine(store, tmp_path, kb, retriever)
    gone, kept = "erase-me-7f3a9c", "keep-me-2b81d4"
    for user in (gone, kept):
        audited(engine, user)
        engine.handle_sync(user, "/report")
        engine.handle_sync(user, "/export")
    assert settings.user_dir(gone).exists() and settings.user_dir(kept).exists()
    engine.handle_sync(gone, "/forget")
    reply = engine.handle_sync(gone, "yes")
    assert "1 audits" in reply.text and "generated files" in reply.text
    store.dispose()

    restarted = Store(settings.resolved_database_url())
    with restarted.engine.connect() as conn:
        assert conn.execute(text("select count(*) from users")).scalar() == 1
    restarted.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("skillaudit.db*") if p.is_file())
    assert gone.encode() not in raw, "erased user's data found in the database or its WAL"
    assert kept.encode() in raw
    assert not settings.user_dir(gone).exists()
    assert any(settings.user_dir(kept).rglob("*.json"))


def test_replicas_starting_together_migrate_once() -> None:
    """Two bot replicas (or more) opening one new PostgreSQL database at the same moment."""
    if PG_SKIP:
        pytest.skip(PG_SKIP)
    import threading

    schema = f"sa_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    start = threading.Barrier(4)
    opened: list[Store] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            opened.append(Store(url))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with admin.connect() as conn:
            recorded = conn.execute(
                text(f"select version, count(*) from {schema}.schema_migrations group by version")
            ).all()
        assert recorded and all(count == 1 for _, count in recorded)
        assert {s.schema_version() for s in opened} == {max(v for v, _ in recorded)}
    finally:
        for store in opened:
            store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_an_audit_stored_before_methodology_2_is_still_read(
    store: Store, kb: KnowledgeBase
) -> None:
    """Upgrading keeps a person's history: results stored without 2.0.0's fields still parse."""
    import datetime as dt

    from agent.usecases.audits import score
    from agent.usecases.audits import store as save
    from tools.profile import validate_profile

    report = score(validate_profile({"user": "old", "target_role": "ml engineer",
                                     "self_ratings": {"python": 4}}, kb), kb, dt.date(2026, 1, 5))  # fmt: skip
    with store.user("old") as scope:
        row = save(scope, report, {"user": "old", "target_role": "ml_engineer"}, {})
        old = dict(row.result)
        old.pop("explain")
        old["career_pulse"] = {k: v for k, v in old["career_pulse"].items() if k != "falling"}
        scope.update_row(row, result=old, methodology_version="1.1.0")
    with store.user("old") as scope:
        latest = scope.latest_audit()
        assert latest is not None
        assert (
            latest.audit.explain is None
            and latest.audit.overall.score == report.result.overall.score
        )
