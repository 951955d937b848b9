"""The one way across users for endorsements: find a code by its hash, reach its owner.

An endorser holds a code, not the person's identity; this desk turns a code into the code's
row and, once the endorser has submitted, into the owner's `UserScope`, so the endorsement is
stored as the owner's evidence and their latest audit re-scored. Nothing else of the owner is
reachable from here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store.models import EndorsementCode, User
from agent.store.scope import UserScope


class EndorsementDesk:
    """Cross-user lookups for endorsement codes, and the owner's scope for their evidence."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def code_by_hash(self, code_hash: str) -> EndorsementCode | None:
        return self.session.scalar(
            select(EndorsementCode).where(EndorsementCode.code_hash == code_hash)
        )

    def code(self, code_id: int) -> EndorsementCode | None:
        return self.session.get(EndorsementCode, code_id)

    def owner(self, user_id: int) -> UserScope | None:
        """The scope of a person who has endorsements (None once they were erased)."""
        user = self.session.get(User, user_id)
        return None if user is None else UserScope(self.session, user, created=False)
