"""The configured reviewer's desk: outputs sent for approval, across users, and nothing else."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store.models import (
    Notice,
    Output,
    OutputKind,
    ReviewDecision,
    User,
)


class ReviewerDesk:
    """The configured reviewer's view: outputs that users sent for approval, and nothing else."""

    def __init__(self, session: Session, reviewer: str) -> None:
        self.session = session
        self.reviewer = reviewer

    def waiting(self) -> list[tuple[OutputKind, Output, str]]:
        """(kind, row, owner's external id) of every output awaiting the reviewer."""
        found = []
        for kind in OutputKind:
            model: Any = kind.row
            rows = self.session.execute(
                select(model, User.external_id)
                .join(User, User.id == model.user_id)
                .where(model.state == "awaiting_reviewer")
                .order_by(model.id)
            )
            found += [(kind, cast(Output, row), str(owner)) for row, owner in rows]
        return found

    def get(self, kind: OutputKind, row_id: int) -> tuple[Output, str] | None:
        model: Any = kind.row
        found = self.session.execute(
            select(model, User.external_id)
            .join(User, User.id == model.user_id)
            .where(model.id == row_id, model.state == "awaiting_reviewer")
        ).first()
        return None if found is None else (cast(Output, found[0]), str(found[1]))

    def decide(
        self,
        row: Output,
        kind: OutputKind,
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
                user_id=row.user_id, audit_id=row.id if kind == OutputKind.AUDIT else None, subject=kind.value,
                subject_id=row.id, prompt_id="reviewer", decision=decision, reason=comment,
                decided_by=self.reviewer,
            )
        )  # fmt: skip
        self.session.add(Notice(user_id=row.user_id, text=notice))
        self.session.flush()
