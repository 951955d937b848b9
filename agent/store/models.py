"""The tables: one ORM class each, and the order personal rows are deleted in."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agent.review import ReviewPrompt
from tools.results import AuditResult


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
    """Telegram update ids already handled, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchemaMigration(Base):
    __tablename__ = "schema_migrations"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Tables holding personal data, in an order that deletes children before parents. Each is
# deleted explicitly (and counted, and vacuumed), never left to ON DELETE CASCADE.
USER_TABLES = (
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
