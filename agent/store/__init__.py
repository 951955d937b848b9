"""The persistent store: SQLAlchemy 2 over SQLite by default, any database via DATABASE_URL.

Every read and write of personal data goes through `UserScope`, which is bound to one
user and filters every query by that user's id, so no code path can reach another
user's rows. Schema changes are an ordered list of migrations recorded in the database.

Modules: `models` (tables), `migrations`, `database` (`Store`, engine set-up, retries,
per-person locks), `sqlite` (pragmas, file modes), `scope` (`UserScope`), `erasure` (the
scrub after a `forget` and its check), `outbox` (exactly-once delivery, reminders), `desk`
(the second reviewer's cross-user view), `endorse` (endorsement codes across users).
"""

from agent.store.database import (
    Store,
    StoreBusy,
    busy_message,
    is_transient,
    make_engine,
)
from agent.store.desk import ReviewerDesk
from agent.store.endorse import EndorsementDesk
from agent.store.erasure import ErasedPerson, ScrubReport
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
    ReplicaRow,
    ReviewDecision,
    ScheduleRow,
    SchemaMigration,
    User,
    utcnow,
)
from agent.store.outbox import (
    Deliveries,
    Delivery,
    DueReminder,
    Outbox,
    Pending,
    Upload,
    local_date,
)
from agent.store.scope import UserScope
from agent.store.sqlite import SQLITE_BUSY_TIMEOUT_S

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
    "ErasedPerson",
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
    "ReplicaRow",
    "ReviewDecision",
    "ReviewerDesk",
    "ScheduleRow",
    "SchemaMigration",
    "ScrubReport",
    "Store",
    "StoreBusy",
    "Upload",
    "User",
    "UserScope",
    "busy_message",
    "is_transient",
    "local_date",
    "make_engine",
    "utcnow",
]
