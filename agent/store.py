"""The persistent store: SQLAlchemy 2 over SQLite by default, any database via DATABASE_URL.

Every read and write of personal data goes through `UserScope`, which is bound to one
user and filters every query by that user's id, so no code path can reach another
user's rows. Schema changes are an ordered list of migrations recorded in the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.attributes import flag_modified

SQLITE_BUSY_TIMEOUT_S = 15


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FlowSession(Base):
    """One conversation flow (interview, review, model audit...) and its saved answers."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    flow: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active, done, cancelled
    position: Mapped[str | None] = mapped_column(String(60))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AuditRow(Base):
    __tablename__ = "audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    as_of: Mapped[dt.date] = mapped_column(Date)
    methodology_version: Mapped[str] = mapped_column(String(20))
    knowledge_version: Mapped[str] = mapped_column(String(20))
    overall: Mapped[float | None] = mapped_column(Float)
    profile: Mapped[dict[str, Any]] = mapped_column()
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column()
    review: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(
        String(20), default="draft"
    )  # draft, awaiting_reviewer, final


class ReviewDecision(Base):
    """One answer to one review prompt of one output: who, when, what and why."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    audit_id: Mapped[int | None] = mapped_column(
        ForeignKey("audits.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(20), default="audit")  # audit, plan, model
    subject_id: Mapped[int] = mapped_column(Integer)
    prompt_id: Mapped[str] = mapped_column(String(120))
    decision: Mapped[str] = mapped_column(String(20))  # confirm, adjust, approve, return
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notice(Base):
    """A message waiting for its user's next turn (e.g. a reviewer approved a draft)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)


class Consent(Base):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScheduleRow(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    next_audit: Mapped[dt.date] = mapped_column(Date)
    cadence: Mapped[str] = mapped_column(String(30))
    micro_audits: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanRow(Base):
    """Recommendations and the dated learning plan made from them."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    query: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[list[Any]] = mapped_column(default=list)
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    review: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(20), default="draft")


class ModelAuditRow(Base):
    """One model audited on its own (/model), with its review prompts."""

    __tablename__ = "model_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column()
    verdict: Mapped[dict[str, Any]] = mapped_column()
    review: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(20), default="draft")


Output = AuditRow | PlanRow | ModelAuditRow


class ConnectorRun(Base):
    """What one connector found for one user, cached with its fetch time."""

    __tablename__ = "connector_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64), doc="fingerprint of the arguments")
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    result: Mapped[dict[str, Any]] = mapped_column()


class LlmMemory(Base):
    """What the language-model interviewer keeps between turns for one user: the last few
    messages (already redacted), the mode the person chose and the endpoint they were told of."""

    __tablename__ = "llm_memory"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, unique=True
    )
    mode: Mapped[str] = mapped_column(String(20), default="conversation")  # or "guided"
    endpoint_told: Mapped[str] = mapped_column(String(300), default="")
    recent: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class LlmUsage(Base):
    """Language-model calls and tokens per user and day (as the server reported them)."""

    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchemaMigration(Base):
    __tablename__ = "schema_migrations"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


# Ordered list of (version, description, step); append, never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "users, sessions, audits, review decisions, consents, schedules", _create_initial_tables),
    (2, "learning plans, model audits, connector results, processed updates", _create_plans),
    (3, "language-model memory and usage", _create_llm_tables),
]

# Tables holding personal data, in an order that deletes children before parents.
USER_TABLES = (
    LlmUsage,
    LlmMemory,
    ReviewDecision,
    Notice,
    ScheduleRow,
    PlanRow,
    ModelAuditRow,
    Consent,
    FlowSession,
    AuditRow,
)


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

    def migrate(self) -> list[int]:
        """Apply the migrations this database has not seen; return their versions."""
        with self.engine.begin() as conn:
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

    def claim_update(self, update_id: int) -> bool:
        """Record an incoming update id; False when it was handled before (a redelivery)."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.engine.begin() as conn:
                conn.execute(insert(ProcessedUpdate).values(update_id=update_id))
        except IntegrityError:
            return False
        return True

    def next_audit_of(self, external_id: str) -> dt.date | None:
        """The next audit date of a person, without creating them (they may have just been erased)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(ScheduleRow.next_audit)
                .join(User, User.id == ScheduleRow.user_id)
                .where(User.external_id == external_id)
                .order_by(ScheduleRow.id.desc())
                .limit(1)
            ).scalar()

    def telegram_schedules(self) -> list[tuple[str, int, dt.date]]:
        """(user id, chat id, next audit) of every Telegram user with a schedule (for reminders)."""
        with self.engine.connect() as conn:
            latest = (
                select(ScheduleRow.user_id, func.max(ScheduleRow.id).label("last"))
                .group_by(ScheduleRow.user_id)
                .subquery()
            )
            rows = conn.execute(
                select(User.external_id, ScheduleRow.next_audit)
                .join(latest, latest.c.last == ScheduleRow.id)
                .join(User, User.id == ScheduleRow.user_id)
                .where(User.external_id.like("tg:%"))
            ).all()
        found = []
        for external_id, due in rows:
            suffix = external_id.removeprefix("tg:")
            if suffix.lstrip("-").isdigit():
                found.append((external_id, int(suffix), due))
        return found

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
        """One transaction for one user: commits on success, rolls back on any error."""
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.external_id == external_id))
            created = user is None
            if user is None:
                user = User(external_id=external_id)
                session.add(user)
                session.flush()
            yield UserScope(session, user, created)

    def dispose(self) -> None:
        self.engine.dispose()


class UserScope:
    """Queries and writes of one user's rows; every statement filters by that user."""

    def __init__(self, session: Session, user: User, created: bool) -> None:
        self.session = session
        self.user = user
        self.created = created

    @property
    def external_id(self) -> str:
        return self.user.external_id

    # Sessions -------------------------------------------------------------------------

    def active_flows(self) -> list[FlowSession]:
        """Active flows, the most recent first (the first one is where the user is)."""
        rows = self.session.scalars(
            select(FlowSession)
            .where(FlowSession.user_id == self.user.id, FlowSession.status == "active")
            .order_by(FlowSession.id.desc())
        )
        return list(rows)

    def start_flow(
        self, flow: str, position: str | None, answers: dict[str, Any] | None = None
    ) -> FlowSession:
        row = FlowSession(
            user_id=self.user.id, flow=flow, position=position, answers=answers or {}, history=[]
        )
        self.session.add(row)
        self.session.flush()
        return row

    def save_flow(self, row: FlowSession) -> None:
        """Persist a flow's position and answers (JSON columns are replaced, not mutated)."""
        if row.user_id != self.user.id:
            raise PermissionError("flow belongs to another user")
        # JSON columns mutated in place are invisible to change tracking: flag them.
        flag_modified(row, "answers")
        flag_modified(row, "history")
        row.updated_at = utcnow()
        self.session.flush()

    def end_flow(self, row: FlowSession, status: str) -> None:
        row.status = status
        self.save_flow(row)

    def last_flow(self, flow: str) -> FlowSession | None:
        return self.session.scalar(
            select(FlowSession)
            .where(FlowSession.user_id == self.user.id, FlowSession.flow == flow)
            .order_by(FlowSession.id.desc())
            .limit(1)
        )

    # Audits ---------------------------------------------------------------------------

    def add_audit(self, **fields: Any) -> AuditRow:
        row = AuditRow(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def audits(self) -> list[AuditRow]:
        return list(
            self.session.scalars(
                select(AuditRow).where(AuditRow.user_id == self.user.id).order_by(AuditRow.id)
            )
        )

    def latest_audit(self) -> AuditRow | None:
        return self.session.scalar(
            select(AuditRow)
            .where(AuditRow.user_id == self.user.id)
            .order_by(AuditRow.id.desc())
            .limit(1)
        )

    # Review decisions, consents, schedule -----------------------------------------------

    def add_decision(self, **fields: Any) -> ReviewDecision:
        row = ReviewDecision(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def decisions(self, subject: str, subject_id: int) -> list[ReviewDecision]:
        return list(
            self.session.scalars(
                select(ReviewDecision)
                .where(
                    ReviewDecision.user_id == self.user.id,
                    ReviewDecision.subject == subject,
                    ReviewDecision.subject_id == subject_id,
                )
                .order_by(ReviewDecision.id)
            )
        )

    def review_subject(self, kind: str, row_id: int) -> AuditRow | PlanRow | ModelAuditRow | None:
        """One of this user's outputs by kind and id (None when it is not theirs)."""
        model: Any = {"audit": AuditRow, "plan": PlanRow, "model": ModelAuditRow}[kind]
        found = self.session.scalar(
            select(model).where(model.user_id == self.user.id, model.id == row_id)
        )
        return cast(Output | None, found)

    def add_notice(self, text: str) -> None:
        self.session.add(Notice(user_id=self.user.id, text=text))
        self.session.flush()

    def take_notices(self) -> list[str]:
        """Undelivered notices, marked delivered (they are shown once)."""
        rows = list(
            self.session.scalars(
                select(Notice)
                .where(Notice.user_id == self.user.id, Notice.delivered.is_(False))
                .order_by(Notice.id)
            )
        )
        for row in rows:
            row.delivered = True
        self.session.flush()
        return [row.text for row in rows]

    # Language model ---------------------------------------------------------------------

    def llm_memory(self) -> LlmMemory:
        """This user's language-model memory, created on first use."""
        row = self.session.scalar(select(LlmMemory).where(LlmMemory.user_id == self.user.id))
        if row is None:
            row = LlmMemory(user_id=self.user.id, recent=[])
            self.session.add(row)
            self.session.flush()
        return row

    def save_llm_memory(self, row: LlmMemory) -> None:
        if row.user_id != self.user.id:
            raise PermissionError("memory belongs to another user")
        flag_modified(row, "recent")
        self.session.flush()

    def add_llm_usage(self, day: dt.date, calls: int, prompt: int, completion: int) -> None:
        row = self.session.scalar(
            select(LlmUsage).where(LlmUsage.user_id == self.user.id, LlmUsage.day == day)
        )
        if row is None:
            row = LlmUsage(
                user_id=self.user.id, day=day, calls=0, prompt_tokens=0, completion_tokens=0
            )
            self.session.add(row)
        row.calls += calls
        row.prompt_tokens += prompt
        row.completion_tokens += completion
        self.session.flush()

    def llm_tokens(self, day: dt.date) -> int:
        """Tokens (prompt and completion) this user spent on `day`."""
        row = self.session.scalar(
            select(LlmUsage).where(LlmUsage.user_id == self.user.id, LlmUsage.day == day)
        )
        return 0 if row is None else row.prompt_tokens + row.completion_tokens

    def set_consent(self, source: str, granted: bool) -> None:
        self.session.add(Consent(user_id=self.user.id, source=source, granted=granted))
        self.session.flush()

    def save_connector_run(
        self, source: str, key: str, fetched_at: dt.datetime, result: dict[str, Any]
    ) -> None:
        """Keep one result per source and arguments: a new run replaces the old one."""
        self.session.execute(
            delete(ConnectorRun).where(
                ConnectorRun.user_id == self.user.id,
                ConnectorRun.source == source,
                ConnectorRun.key == key,
            )
        )
        self.session.add(
            ConnectorRun(
                user_id=self.user.id, source=source, key=key, fetched_at=fetched_at, result=result
            )
        )
        self.session.flush()

    def connector_run(self, source: str, key: str) -> ConnectorRun | None:
        return self.session.scalar(
            select(ConnectorRun).where(
                ConnectorRun.user_id == self.user.id,
                ConnectorRun.source == source,
                ConnectorRun.key == key,
            )
        )

    def connector_runs(self) -> list[ConnectorRun]:
        return list(
            self.session.scalars(
                select(ConnectorRun)
                .where(ConnectorRun.user_id == self.user.id)
                .order_by(ConnectorRun.id)
            )
        )

    def delete_source_data(self, source: str) -> int:
        """Delete everything a connector brought in for this user; return how many results went."""
        result = self.session.execute(
            delete(ConnectorRun).where(
                ConnectorRun.user_id == self.user.id, ConnectorRun.source == source
            )
        )
        self.session.flush()
        return int(getattr(result, "rowcount", 0) or 0)

    def consents(self) -> dict[str, bool]:
        """The latest decision per source."""
        rows = self.session.scalars(
            select(Consent).where(Consent.user_id == self.user.id).order_by(Consent.id)
        )
        return {row.source: row.granted for row in rows}

    def add_schedule(
        self, audit: AuditRow, next_audit: dt.date, cadence: str, micro: list[str]
    ) -> None:
        self.session.add(
            ScheduleRow(
                user_id=self.user.id,
                audit_id=audit.id,
                next_audit=next_audit,
                cadence=cadence,
                micro_audits=micro,
            )
        )
        self.session.flush()

    def latest_schedule(self) -> ScheduleRow | None:
        return self.session.scalar(
            select(ScheduleRow)
            .where(ScheduleRow.user_id == self.user.id)
            .order_by(ScheduleRow.id.desc())
            .limit(1)
        )

    def add_plan(self, **fields: Any) -> PlanRow:
        row = PlanRow(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def latest_plan(self, audit: AuditRow | None = None) -> PlanRow | None:
        """The most recent plan, or the most recent one made from `audit` (not from a topic)."""
        query = select(PlanRow).where(PlanRow.user_id == self.user.id)
        if audit is not None:
            query = query.where(PlanRow.audit_id == audit.id, PlanRow.query == "")
        return self.session.scalar(query.order_by(PlanRow.id.desc()).limit(1))

    def add_model_audit(self, **fields: Any) -> ModelAuditRow:
        row = ModelAuditRow(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def latest_model_audit(self) -> ModelAuditRow | None:
        return self.session.scalar(
            select(ModelAuditRow)
            .where(ModelAuditRow.user_id == self.user.id)
            .order_by(ModelAuditRow.id.desc())
            .limit(1)
        )

    def update_row(self, row: PlanRow | ModelAuditRow | AuditRow, **fields: Any) -> None:
        if row.user_id != self.user.id:
            raise PermissionError("row belongs to another user")
        for key, value in fields.items():
            setattr(row, key, value)
        self.session.flush()

    # Data rights ------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """Every row stored about this user, as plain JSON-ready data."""

        def rows(model: type[Base]) -> list[dict[str, Any]]:
            table = model.__table__
            found = self.session.execute(
                select(table).where(table.c.user_id == self.user.id).order_by(table.c.id)
            )
            return [_jsonable(dict(r._mapping)) for r in found]

        return {
            "user": {
                "external_id": self.user.external_id,
                "created_at": self.user.created_at.isoformat(),
            },
            "sessions": rows(FlowSession),
            "audits": rows(AuditRow),
            "review_decisions": rows(ReviewDecision),
            "consents": rows(Consent),
            "schedules": rows(ScheduleRow),
            "plans": rows(PlanRow),
            "model_audits": rows(ModelAuditRow),
            "notices": rows(Notice),
            "connector_results": rows(ConnectorRun),
            "language_model_memory": rows(LlmMemory),
            "language_model_usage": rows(LlmUsage),
        }

    def erase(self) -> dict[str, int]:
        """Delete every row about this user, the user row last; return the count per table."""
        counts = {}
        for model in USER_TABLES:
            result = self.session.execute(delete(model).where(model.user_id == self.user.id))
            counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
        self.session.execute(delete(User).where(User.id == self.user.id))
        self.session.flush()
        return counts


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in row.items()}


class ReviewerDesk:
    """The configured reviewer's view: outputs that users sent for approval, and nothing else."""

    MODELS: ClassVar[dict[str, Any]] = {
        "audit": AuditRow,
        "plan": PlanRow,
        "model": ModelAuditRow,
    }

    def __init__(self, session: Session, reviewer: str) -> None:
        self.session = session
        self.reviewer = reviewer

    def waiting(self) -> list[tuple[str, AuditRow | PlanRow | ModelAuditRow, str]]:
        """(kind, row, owner's external id) of every output awaiting the reviewer."""
        found = []
        for kind, model in self.MODELS.items():
            rows = self.session.execute(
                select(model, User.external_id)
                .join(User, User.id == model.user_id)
                .where(model.state == "awaiting_reviewer")
                .order_by(model.id)
            )
            found += [(kind, cast(Output, row), str(owner)) for row, owner in rows]
        return found

    def get(self, kind: str, row_id: int) -> tuple[AuditRow | PlanRow | ModelAuditRow, str] | None:
        model = self.MODELS.get(kind)
        if model is None:
            return None
        found = self.session.execute(
            select(model, User.external_id)
            .join(User, User.id == model.user_id)
            .where(model.id == row_id, model.state == "awaiting_reviewer")
        ).first()
        return None if found is None else (cast(Output, found[0]), str(found[1]))

    def decide(
        self,
        row: AuditRow | PlanRow | ModelAuditRow,
        kind: str,
        decision: str,
        comment: str,
        notice: str,
        review: list[Any] | None = None,
    ) -> None:
        """Approve (final) or return (draft, with the comment as a new prompt); tell the owner."""
        row.state = "final" if decision == "approve" else "draft"
        if review is not None:
            row.review = review
        self.session.add(
            ReviewDecision(
                user_id=row.user_id, audit_id=row.id if kind == "audit" else None, subject=kind,
                subject_id=row.id, prompt_id="reviewer", decision=decision, reason=comment,
                decided_by=self.reviewer,
            )
        )  # fmt: skip
        self.session.add(Notice(user_id=row.user_id, text=notice))
        self.session.flush()
