"""The persistent store: SQLAlchemy 2 over SQLite by default, any database via DATABASE_URL.

Every read and write of personal data goes through `UserScope`, which is bound to one
user and filters every query by that user's id, so no code path can reach another
user's rows. Schema changes are an ordered list of migrations recorded in the database.

Modules: `models` (tables), `migrations`, `database` (`Store`, engine set-up), `scope`
(`UserScope`), `desk` (the second reviewer's cross-user view), `endorse` (endorsement codes
across users).
"""

from agent.store.database import SQLITE_BUSY_TIMEOUT_S, Store, make_engine
from agent.store.desk import ReviewerDesk
from agent.store.endorse import EndorsementDesk
from agent.store.migrations import MIGRATIONS
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
    ProcessedUpdate,
    Reminder,
    ReviewDecision,
    ScheduleRow,
    SchemaMigration,
    User,
    utcnow,
)
from agent.store.outbox import Deliveries, Delivery, DueReminder, Outbox, Pending, Upload
from agent.store.scope import UserScope

__all__ = [
    "MIGRATIONS",
    "SQLITE_BUSY_TIMEOUT_S",
    "USER_TABLES",
    "AuditRow",
    "Base",
    "CheckAnswer",
    "CheckSession",
    "ConnectorRun",
    "Consent",
    "Deliveries",
    "Delivery",
    "DueReminder",
    "Endorsement",
    "EndorsementCode",
    "EndorsementDesk",
    "FlowSession",
    "LlmMemory",
    "LlmUsage",
    "ModelAuditRow",
    "Notice",
    "Outbox",
    "OutboxRow",
    "Output",
    "OutputKind",
    "Pending",
    "PlanRow",
    "ProcessedUpdate",
    "Reminder",
    "ReviewDecision",
    "ReviewerDesk",
    "ScheduleRow",
    "SchemaMigration",
    "Store",
    "Upload",
    "User",
    "UserScope",
    "make_engine",
    "utcnow",
]
