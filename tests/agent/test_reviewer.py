"""The optional second reviewer: drafts go to them, they approve or return with a comment."""

from __future__ import annotations

from pathlib import Path

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent.conftest import TODAY
from tests.agent.test_review_flow import audited


def answer_all(engine: Engine, user: str) -> str:
    """Confirm every open prompt of every output; return the last reply's text."""
    reply = engine.handle_sync(user, "/review")
    while any(c.value == "confirm" for c in reply.choices):
        reply = engine.handle_sync(user, "confirm")
    return reply.text


def test_reviewer_returns_then_approves(
    tmp_path: Path, store: Store, kb: KnowledgeBase, retriever: Retriever
) -> None:
    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None, SKILLAUDIT_REVIEWER="coach")
    engine = Engine(
        store, settings, kb, today=lambda: TODAY, recommender=Recommender(settings, kb, retriever)
    )
    audited(engine, "ana")
    text = answer_all(engine, "ana")
    assert "goes to your reviewer (coach)" in text
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "awaiting_reviewer"
        audit_id = audit.id

    assert "Only the configured reviewer" in engine.handle_sync("ana", "/pending").text
    listing = engine.handle_sync("coach", "/pending")
    assert f"a{audit_id}: audit of ana" in listing.text and "top gaps" in listing.text
    assert "add a comment" in engine.handle_sync("coach", f"/return a{audit_id}").text
    assert (
        "Returned the audit of ana"
        in engine.handle_sync("coach", f"/return a{audit_id} please rate SQL again").text
    )

    notice = engine.handle_sync("ana", "/progress")
    assert 'returned your audit with a comment: "please rate SQL again"' in notice.text
    assert "returned" not in engine.handle_sync("ana", "/schedule").text  # told once
    reply = engine.handle_sync("ana", "/review")
    assert "please rate SQL again" in reply.text
    engine.handle_sync("ana", "confirm")
    assert "approve" in engine.handle_sync("coach", "/pending").text.lower()
    assert "Approved the audit of ana" in engine.handle_sync("coach", f"/approve a{audit_id}").text
    assert "approved your audit: it is now final" in engine.handle_sync("ana", "hello").text
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "final"
        decisions = [(d.decision, d.decided_by) for d in scope.decisions("audit", audit.id)]
    assert ("return", "coach") in decisions and ("approve", "coach") in decisions
    assert (
        "Give the id of a waiting output"
        in engine.handle_sync("coach", f"/approve a{audit_id}").text
    )
    pending = engine.handle_sync("coach", "/pending")
    assert "learning plan of ana" in pending.text  # the plan went to the reviewer too
    plan_id = pending.choices[0].value.removeprefix("/approve ")
    assert (
        "Approved the learning plan of ana"
        in engine.handle_sync("coach", f"/approve {plan_id}").text
    )
    assert "Nothing is waiting" in engine.handle_sync("coach", "/pending").text
