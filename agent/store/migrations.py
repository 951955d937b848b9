"""Schema changes as an ordered list recorded in the database (append, never edit)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from agent.store.models import (
    WAITING_INDEX,
    AuditRow,
    Base,
    CheckAnswer,
    CheckSession,
    ConnectorRun,
    Consent,
    Endorsement,
    EndorsementCode,
    FlowSession,
    LlmMemory,
    LlmUsage,
    ModelAuditRow,
    Notice,
    OutboxRow,
    PlanRow,
    ProcessedUpdate,
    Reminder,
    ReplicaRow,
    ReviewDecision,
    ScheduleRow,
    User,
)


def _create_initial_tables(conn: Connection) -> None:
    tables = [
        m.__table__
        for m in (User, FlowSession, AuditRow, ReviewDecision, Consent, ScheduleRow, Notice)
    ]
    Base.metadata.create_all(conn, tables=tables)  # type: ignore[arg-type]


def _create_plans(conn: Connection) -> None:
    tables = [
        PlanRow.__table__,
        ModelAuditRow.__table__,
        ConnectorRun.__table__,
        ProcessedUpdate.__table__,
    ]
    Base.metadata.create_all(conn, tables=tables)  # type: ignore[arg-type]


def _create_llm_tables(conn: Connection) -> None:
    tables = [LlmMemory.__table__, LlmUsage.__table__]
    Base.metadata.create_all(conn, tables=tables)  # type: ignore[arg-type]


def _create_checks_and_endorsements(conn: Connection) -> None:
    tables = [
        CheckSession.__table__,
        CheckAnswer.__table__,
        EndorsementCode.__table__,
        Endorsement.__table__,
    ]
    Base.metadata.create_all(conn, tables=tables)  # type: ignore[arg-type]


def _create_delivery_tables(conn: Connection) -> None:
    """Exactly-once delivery: the outbox, reminders, and handled updates keyed by bot."""
    # Handled update ids were kept per update id alone, forever; they only guard against
    # redelivery within minutes, so the old rows are dropped rather than converted.
    ProcessedUpdate.__table__.drop(conn, checkfirst=True)  # type: ignore[attr-defined]
    tables = [ProcessedUpdate.__table__, OutboxRow.__table__, Reminder.__table__]
    Base.metadata.create_all(conn, tables=tables)  # type: ignore[arg-type]
    # A database created by this version has the column from its first migration already.
    if "time_zone" not in {c["name"] for c in inspect(conn).get_columns("users")}:
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN time_zone VARCHAR(64)")


def _add_replicas(conn: Connection) -> None:
    """Per-chat order across replicas: who received each update, and which replicas live."""
    # A database created by this version got the column and index from migration 4 already.
    if "receiver" not in {c["name"] for c in inspect(conn).get_columns("processed_updates")}:
        conn.exec_driver_sql("ALTER TABLE processed_updates ADD COLUMN receiver VARCHAR(120)")
    conn.execute(WAITING_INDEX)
    Base.metadata.create_all(conn, tables=[ReplicaRow.__table__])  # type: ignore[list-item]


# Ordered list of (version, description, step); append, never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "users, sessions, audits, review decisions, consents, schedules", _create_initial_tables),
    (2, "learning plans, model audits, connector results, processed updates", _create_plans),
    (3, "language-model memory and usage", _create_llm_tables),
    (4, "outbox, reminders, handled updates per bot, time zones", _create_delivery_tables),
    (
        5,
        "skill checks and their answers, endorsement codes and endorsements",
        _create_checks_and_endorsements,
    ),
    (6, "who received each update, replica heartbeats", _add_replicas),
]
