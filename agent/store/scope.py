"""One user's rows: every query and write filters by that user."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from agent.store.models import (
    USER_TABLES,
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
    Output,
    OutputKind,
    PlanRow,
    Reminder,
    ReviewDecision,
    ScheduleRow,
    User,
    utcnow,
)
from agent.store.outbox import send_time

# Statements every turn runs, built once (building costs more than running them).
_ACTIVE_FLOWS = (
    select(FlowSession)
    .where(FlowSession.user_id == bindparam("user"), FlowSession.status == "active")
    .order_by(FlowSession.id.desc())
)
_UNDELIVERED = (
    select(Notice.id, Notice.text)
    .where(Notice.user_id == bindparam("user"), Notice.delivered.is_(False))
    .order_by(Notice.id)
)
_DELIVER = (
    update(Notice).where(Notice.id.in_(bindparam("ids", expanding=True))).values(delivered=True)
)
_SAVED = ("status", "position", "answers", "history", "updated_at")
# A flow's row is saved on every turn: a plain UPDATE, not the ORM's unit of work (its flush
# cost more than the statement). Parameters are named apart from the columns they set.
_SAVE_FLOW = (
    update(FlowSession)
    .where(FlowSession.id == bindparam("row"))
    .values({key: bindparam(f"new_{key}") for key in _SAVED})
)


class UserScope:
    """Queries and writes of one user's rows; every statement filters by that user."""

    def __init__(self, session: Session, user: User, created: bool) -> None:
        self.session = session
        self.user = user
        self.created = created
        # The person's active flows as first read in this unit of work, newest first: flows
        # are started only through `start_flow` and end by their status, so the list stays
        # right when filtered by status (a turn asks for it several times).
        self._flows: list[FlowSession] | None = None

    @property
    def external_id(self) -> str:
        return self.user.external_id

    # Sessions -------------------------------------------------------------------------

    def active_flows(self) -> list[FlowSession]:
        """Active flows, the most recent first (the first one is where the user is)."""
        if self._flows is None:
            self._flows = list(self.session.scalars(_ACTIVE_FLOWS, {"user": self.user.id}))
        return [flow for flow in self._flows if flow.status == "active"]

    def start_flow(
        self, flow: str, position: str | None, answers: dict[str, Any] | None = None
    ) -> FlowSession:
        row = FlowSession(
            user_id=self.user.id, flow=flow, position=position, answers=answers or {}, history=[]
        )
        self.session.add(row)
        self.session.flush()
        if self._flows is not None:
            self._flows.insert(0, row)
        return row

    def save_flow(self, row: FlowSession) -> None:
        """Persist a flow's position and answers (JSON columns are replaced, not mutated)."""
        if row.user_id != self.user.id:
            raise PermissionError("flow belongs to another user")
        if row.id is None:  # not yet inserted (start_flow flushes, so only if made elsewhere)
            self.session.flush()
        row.updated_at = utcnow()
        values = {f"new_{key}": getattr(row, key) for key in _SAVED}
        self.session.connection().execute(_SAVE_FLOW, {"row": row.id, **values})
        # What was written is now the row's stored state: the ORM has nothing left to flush
        # for it (and JSON mutated in place, which it cannot see, is written all the same).
        for key in _SAVED:
            set_committed_value(row, key, getattr(row, key))

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

    def review_subject(self, kind: OutputKind | str, row_id: int) -> Output | None:
        """One of this user's outputs by kind and id (None when it is not theirs)."""
        model: Any = OutputKind(kind).row
        found = self.session.scalar(
            select(model).where(model.user_id == self.user.id, model.id == row_id)
        )
        return cast(Output | None, found)

    def add_notice(self, text: str) -> None:
        self.session.add(Notice(user_id=self.user.id, text=text))
        self.session.flush()

    def take_notices(self) -> list[str]:
        """Undelivered notices, marked delivered (they are shown once).

        Core statements on the turn's connection: every turn asks, and almost always finds
        none, which the ORM would make several times dearer to learn.
        """
        conn = self.session.connection()
        rows = conn.execute(_UNDELIVERED, {"user": self.user.id}).all()
        if rows:
            conn.execute(_DELIVER, {"ids": [row.id for row in rows]})
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
        self._plan_reminders(next_audit, [dt.date.fromisoformat(d) for d in micro])

    # Reminders --------------------------------------------------------------------------

    def _plan_reminders(self, next_audit: dt.date, micro: list[dt.date]) -> None:
        """Replace the unsent reminders with one per micro-audit date and one for the audit."""
        self.session.execute(
            delete(Reminder).where(Reminder.user_id == self.user.id, Reminder.sent_at.is_(None))
        )
        zone = self.time_zone
        for kind, due in [*(("micro", d) for d in micro if d < next_audit), ("audit", next_audit)]:
            self.session.add(
                Reminder(
                    user_id=self.user.id, kind=kind, due=due, time_zone=zone,
                    send_at=send_time(due, zone),
                )
            )  # fmt: skip
        self.session.flush()

    @property
    def time_zone(self) -> str:
        """The person's time zone for reminders (an IANA name; UTC unless they chose one)."""
        return self.user.time_zone or "UTC"

    def set_time_zone(self, zone: str) -> int:
        """Keep the person's time zone and move their unsent reminders to 09:00 in it.

        `zone` must be a valid IANA name (the caller checks it); returns how many moved.
        """
        self.user.time_zone = zone
        rows = list(
            self.session.scalars(
                select(Reminder).where(Reminder.user_id == self.user.id, Reminder.sent_at.is_(None))
            )
        )
        for row in rows:
            row.time_zone = zone
            row.send_at = send_time(row.due, zone)
        self.session.flush()
        return len(rows)

    def reminders(self) -> list[Reminder]:
        """Every reminder of this person, sent or not, by date."""
        return list(
            self.session.scalars(
                select(Reminder)
                .where(Reminder.user_id == self.user.id)
                .order_by(Reminder.send_at, Reminder.id)
            )
        )

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

    # Skill checks -------------------------------------------------------------------------

    def add_check(self, **fields: Any) -> CheckSession:
        row = CheckSession(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def check_session(self, session_id: int) -> CheckSession | None:
        return self.session.scalar(
            select(CheckSession).where(
                CheckSession.user_id == self.user.id, CheckSession.id == session_id
            )
        )

    def check_sessions(self, status: str | None = None) -> list[CheckSession]:
        """This person's checks, oldest first (only those with `status`, when given)."""
        query = select(CheckSession).where(CheckSession.user_id == self.user.id)
        if status is not None:
            query = query.where(CheckSession.status == status)
        return list(self.session.scalars(query.order_by(CheckSession.id)))

    def settle_checks(self) -> int:
        """Mark as abandoned every active check whose chat flow has ended (/cancel, "stop")."""
        ended = select(FlowSession.id).where(
            FlowSession.user_id == self.user.id, FlowSession.status != "active"
        )
        rows = self.session.scalars(
            select(CheckSession).where(
                CheckSession.user_id == self.user.id,
                CheckSession.status == "active",
                CheckSession.flow_id.in_(ended),
            )
        ).all()
        for row in rows:
            row.status = "abandoned"
        self.session.flush()
        return len(rows)

    def save_check(self, row: CheckSession | CheckAnswer, **fields: Any) -> None:
        """Update a check or one of its answers."""
        if row.user_id != self.user.id:
            raise PermissionError("check belongs to another user")
        for key, value in fields.items():
            setattr(row, key, value)
        self.session.flush()

    def add_check_answer(self, **fields: Any) -> CheckAnswer:
        row = CheckAnswer(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def check_answers(self, session_id: int) -> list[CheckAnswer]:
        """The questions shown in one check, in the order shown."""
        return list(
            self.session.scalars(
                select(CheckAnswer)
                .where(CheckAnswer.user_id == self.user.id, CheckAnswer.session_id == session_id)
                .order_by(CheckAnswer.id)
            )
        )

    def seen_questions(self, skill: str) -> list[str]:
        """Ids of the questions of `skill` this person was shown, the longest ago first."""
        last = func.max(CheckAnswer.shown_at)
        rows = self.session.execute(
            select(CheckAnswer.question_id, last)
            .where(CheckAnswer.user_id == self.user.id, CheckAnswer.skill == skill)
            .group_by(CheckAnswer.question_id)
            .order_by(last, CheckAnswer.question_id)
        )
        return [question_id for question_id, _ in rows]

    # Endorsements -------------------------------------------------------------------------

    def add_endorsement_code(self, **fields: Any) -> EndorsementCode:
        row = EndorsementCode(user_id=self.user.id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def endorsement_codes(self) -> list[EndorsementCode]:
        return list(
            self.session.scalars(
                select(EndorsementCode)
                .where(EndorsementCode.user_id == self.user.id)
                .order_by(EndorsementCode.id)
            )
        )

    def add_endorsement(self, endorser_id: int, **fields: Any) -> Endorsement:
        """An endorsement of this person (the endorser is another user)."""
        row = Endorsement(user_id=self.user.id, endorser_id=endorser_id, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def endorsements_received(self) -> list[Endorsement]:
        return list(
            self.session.scalars(
                select(Endorsement)
                .where(Endorsement.user_id == self.user.id)
                .order_by(Endorsement.id)
            )
        )

    def endorsements_given(self) -> list[Endorsement]:
        """What this person gave others as an endorser (their data too)."""
        return list(
            self.session.scalars(
                select(Endorsement)
                .where(Endorsement.endorser_id == self.user.id)
                .order_by(Endorsement.id)
            )
        )

    def delete_endorsement(self, row: Endorsement) -> None:
        """Withdraw (as the person endorsed) or erase (as the endorser) one endorsement."""
        if self.user.id not in (row.user_id, row.endorser_id):
            raise PermissionError("endorsement belongs to other users")
        self.session.delete(row)
        self.session.flush()

    # Data rights ------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """Every row stored about this user, as plain JSON-ready data."""
        self.settle_checks()  # a check stopped with /cancel is exported as abandoned

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
                "time_zone": self.user.time_zone,
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
            "skill_checks": rows(CheckSession),
            "skill_check_answers": rows(CheckAnswer),
            "endorsement_codes": rows(EndorsementCode),
            "endorsements_received": rows(Endorsement),
            "endorsements_given": [
                _jsonable(dict(r._mapping))
                for r in self.session.execute(
                    select(Endorsement.__table__)
                    .where(Endorsement.endorser_id == self.user.id)
                    .order_by(Endorsement.id)
                )
            ],
            "reminders": rows(Reminder),
        }

    def given_texts(self, shortest: int = 8, most: int = 300) -> list[str]:
        """This person's id, then the distinctive texts they gave (answers, review reasons,
        topics, what connectors read for them, the model's memory, profiles), to check an
        erasure against. Values shorter than `shortest` say nothing about one person."""
        found: dict[str, None] = {self.user.external_id: None}

        def collect(value: Any) -> None:
            if len(found) > most:
                return
            if isinstance(value, str):
                stripped = value.strip()
                if len(stripped) >= shortest:
                    found.setdefault(stripped, None)
            elif isinstance(value, dict):
                for item in value.values():  # keys are field names, not the person's words
                    collect(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    collect(item)

        sources: list[tuple[type[Base], tuple[str, ...]]] = [
            (FlowSession, ("answers",)),
            (ReviewDecision, ("reason", "value")),
            (PlanRow, ("query",)),
            (ConnectorRun, ("result",)),
            (LlmMemory, ("recent",)),
            (AuditRow, ("profile", "context")),
        ]
        for model, columns in sources:
            table = model.__table__
            rows = self.session.execute(
                select(*(table.c[name] for name in columns)).where(table.c.user_id == self.user.id)
            )
            for row in rows:
                collect(list(row))
        return list(found)[: most + 1]

    def erase(self) -> dict[str, int]:
        """Delete every row about this user, the user row last; return the count per table."""
        counts = {}
        self._flows = []
        # Endorsements this person gave others are theirs as well: they go with them.
        given = self.session.execute(
            delete(Endorsement).where(Endorsement.endorser_id == self.user.id)
        )
        counts["endorsements_given"] = int(getattr(given, "rowcount", 0) or 0)
        for model in USER_TABLES:
            result = self.session.execute(delete(model).where(model.user_id == self.user.id))
            counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
        # Messages not yet delivered to this person (the outbox is keyed by chat, not user).
        result = self.session.execute(
            delete(OutboxRow).where(OutboxRow.owner == self.user.external_id)
        )
        counts[OutboxRow.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
        self.session.execute(delete(User).where(User.id == self.user.id))
        self.session.flush()
        return counts


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in row.items()}
