"""The tables: one ORM class each, and the order personal rows are deleted in."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agent.review import ReviewPrompt
from tools.results import AuditResult


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def insert_or_ignore(dialect: str, model: Any, keys: list[str]) -> Any | None:
    """An INSERT into `model` that does nothing when a row with the same `keys` exists, in
    the dialect's own syntax; None where the dialect has none (the caller looks first). Only
    the dialect in use is imported: PostgreSQL's costs a SQLite start about 40 ms."""
    if dialect not in ("sqlite", "postgresql"):
        return None
    import importlib

    module = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
    return module.insert(model).on_conflict_do_nothing(index_elements=keys)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime: SQLite hands back stored times without their offset (always UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # An IANA name ("Europe/Berlin") for reminders; None means UTC (added by migration 4).
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)


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


class Reviewed:
    """An output with review prompts (audits, plans, model audits), read and written typed."""

    if TYPE_CHECKING:  # mapped by each table
        review: list[Any]
        state: str

    @property
    def prompts(self) -> list[ReviewPrompt]:
        return [ReviewPrompt.model_validate(p) for p in self.review]

    @prompts.setter
    def prompts(self, prompts: list[ReviewPrompt]) -> None:
        self.review = [p.model_dump(mode="json") for p in prompts]

    def open_prompts(self) -> list[ReviewPrompt]:
        return [p for p in self.prompts if p.open]

    def prompt(self, prompt_id: str | None) -> ReviewPrompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)


class AuditRow(Reviewed, Base):
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

    @property
    def audit(self) -> AuditResult:
        """The stored result, typed (parsed once per stored value)."""
        cached: tuple[dict[str, Any], AuditResult] | None = self.__dict__.get("_parsed")
        if cached is None or cached[0] is not self.result:
            cached = (self.result, AuditResult.model_validate(self.result))
            self.__dict__["_parsed"] = cached
        return cached[1]


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


class PlanRow(Reviewed, Base):
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


class ModelAuditRow(Reviewed, Base):
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


class OutputKind(StrEnum):
    """The kinds of output a person reviews, with their display name and reviewer-id prefix."""

    AUDIT = "audit"
    PLAN = "plan"
    MODEL = "model"

    @property
    def label(self) -> str:
        return {"audit": "audit", "plan": "learning plan", "model": "model audit"}[self.value]

    @property
    def prefix(self) -> str:
        return {"audit": "a", "plan": "p", "model": "m"}[self.value]

    @property
    def row(self) -> type[AuditRow] | type[PlanRow] | type[ModelAuditRow]:
        rows: dict[str, type[AuditRow] | type[PlanRow] | type[ModelAuditRow]] = {
            "audit": AuditRow,
            "plan": PlanRow,
            "model": ModelAuditRow,
        }
        return rows[self.value]

    @classmethod
    def of(cls, row: Output) -> OutputKind:
        return next(kind for kind in cls if isinstance(row, kind.row))

    @classmethod
    def from_prefix(cls, prefix: str) -> OutputKind | None:
        return next((kind for kind in cls if kind.prefix == prefix.lower()), None)


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
    """Updates a remote front end received, keyed by bot and update id (the inbox).

    A webhook's update is written as `received` (with the raw update) before it is
    acknowledged to Telegram, and turns `handled` (the raw update dropped) in the same
    transaction as the answer, so a crash in between replays the update instead of losing it.
    A polled update is acknowledged only after its answer, whose transaction inserts its row
    as `handled`; it is stored as `received` first only when its turn is slow. Handled rows are
    pruned after a week (`KEEP_HANDLED`); Telegram may reuse ids after that. `receiver` names
    the replica that stored it (or took it over from a stopped one): the one to handle it.
    The partial index `WAITING_INDEX` finds a chat's updates still waiting below an id, for
    per-chat order across replicas (bots/telegram_replicas.py).
    """

    __tablename__ = "processed_updates"

    bot_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    state: Mapped[str] = mapped_column(String(10), default="received")  # received, handled
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    receiver: Mapped[str | None] = mapped_column(String(120), default=None)


# A partial index, in SQL both SQLite and PostgreSQL read. As an `Index` with
# `sqlite_where`/`postgresql_where` it made every start import the PostgreSQL dialect to check
# those arguments (about 40 ms of CPU before the first question, with no PostgreSQL in use).
WAITING_INDEX = DDL(  # type: ignore[no-untyped-call]
    "CREATE INDEX IF NOT EXISTS ix_processed_updates_waiting "
    "ON processed_updates (bot_id, chat_id, update_id) WHERE state = 'received'"
)
event.listen(ProcessedUpdate.__table__, "after_create", WAITING_INDEX)


class ReplicaRow(Base):
    """A bot replica's heartbeat: one that has not beaten for a while is taken as stopped,
    and the updates it received but never handled are taken over by another."""

    __tablename__ = "replicas"

    bot_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxRow(Base):
    """A rendered reply (or reminder) waiting to be delivered to a chat; deleted once accepted.

    Not tied to the users table: the reply to an erasure outlives the person's rows. `owner`
    lets an erasure delete the person's other pending messages. `parts_sent` counts the parts
    (text chunks, attachments) already accepted, so a resend continues where it stopped.
    A sender leases rows (`lease_owner`, `lease_until`) so two replicas never send one twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[str] = mapped_column(String(40))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    update_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(20), default="reply")  # reply, reminder, apology
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending, failed
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reminder(Base):
    """One reminder of a scheduled audit (full or micro), sent once at 09:00 in the person's
    time zone; `sent_at` is set in the same transaction that queues it in the outbox."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # audit, micro
    due: Mapped[dt.date] = mapped_column(Date)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    send_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CheckSession(Base):
    """One skill check of one person: its adaptive state while asked, its result when finished.

    `status` is active, finished or abandoned; only a finished check is evidence. `flow_id`
    is the chat flow that asks it (none for the terminal's `skillaudit check`).
    """

    __tablename__ = "check_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    skill: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="active")
    bank_version: Mapped[str] = mapped_column(String(40))
    method_version: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The day the check finished by the engine's calendar: the evidence's date.
    finished_on: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[dict[str, Any]] = mapped_column()  # tools.skill_check.CheckState
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # tools.skill_check.CheckResult
    proficiency: Mapped[float | None] = mapped_column(Float)
    sd: Mapped[float | None] = mapped_column(Float)
    right: Mapped[int | None] = mapped_column(Integer)
    asked: Mapped[int | None] = mapped_column(Integer)


class CheckAnswer(Base):
    """One question shown in a check: when it was shown and, once answered, when and how."""

    __tablename__ = "check_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True
    )
    skill: Mapped[str] = mapped_column(String(60))
    question_id: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    shown_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    choice: Mapped[int | None] = mapped_column(Integer)  # index in the shown order
    correct: Mapped[bool | None] = mapped_column(Boolean)


class EndorsementCode(Base):
    """A one-time code a person gives a client or peer; only its hash is stored.

    `status`: open, used or withdrawn; a code past `expires_on` is expired whatever its
    status. `claimed_by` is the one endorser who opened it (nobody else may use it then).
    """

    __tablename__ = "endorsement_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))  # the code's first characters, to tell codes apart
    name: Mapped[str] = mapped_column(String(80))  # the person, as the endorser will see them
    skills: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)  # the last day the code works
    status: Mapped[str] = mapped_column(String(20), default="open")
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Endorsement(Base):
    """Ratings one endorser gave one person: the person's evidence and the endorser's data."""

    __tablename__ = "endorsements"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endorser_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("endorsement_codes.id", ondelete="SET NULL")
    )
    endorser_name: Mapped[str] = mapped_column(String(80))
    relationship: Mapped[str] = mapped_column(String(20))  # client, peer or manager
    ratings: Mapped[dict[str, Any]] = mapped_column()  # skill id -> 0-5
    sentence: Mapped[str] = mapped_column(Text, default="")
    given_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    given_on: Mapped[dt.date] = mapped_column(Date)


class SchemaMigration(Base):
    __tablename__ = "schema_migrations"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Tables holding personal data, in an order that deletes children before parents. Each is
# deleted explicitly (and counted, and vacuumed), never left to ON DELETE CASCADE.
USER_TABLES = (
    CheckAnswer,
    CheckSession,
    Endorsement,
    EndorsementCode,
    Reminder,
    ConnectorRun,
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
