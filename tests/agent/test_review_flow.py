"""The review gate in conversation: confirm, why, adjust with a reason, and the final state."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent.engine import Engine
from agent.store import Store
from tests.agent.test_transcripts import run_transcript

FULL = Path(__file__).parent / "transcripts" / "full_audit.yaml"


def audited(engine: Engine, user: str = "ana") -> None:
    script = yaml.safe_load(FULL.read_text())
    for step in script["steps"]:
        step["user"] = user
    run_transcript(engine, script)


def test_review_until_final(engine: Engine, store: Store) -> None:
    audited(engine)
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "draft"
        total = len(audit.review)
        first = audit.review[0]
        before = audit.overall
    assert first["kind"] == "self_rating_only"
    skill = first["skills"][0]

    reply = engine.handle_sync("ana", "/review")
    assert reply.text.startswith(f"Review 1/{total}:") and [c.value for c in reply.choices] == [
        "confirm",
        "adjust",
        "why",
    ]
    reply = engine.handle_sync("ana", "why")
    assert (
        "weighted mean of its evidence" in reply.text
        and "gap = (" in reply.text
        and "Review 1/" in reply.text
    )
    reply = engine.handle_sync("ana", "adjust")
    assert "new rating" in reply.text
    reply = engine.handle_sync("ana", "4")
    assert "reason" in reply.text
    reply = engine.handle_sync("ana", "4 because I shipped two projects with it this year")
    assert "re-scored: overall now" in reply.text and "Review 2/" in reply.text
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        assert audit.overall is not None and before is not None and audit.overall > before
        rated = audit.profile["self_ratings"].get(skill, audit.profile["soft_skills"].get(skill))
        assert rated == 4
        [decision] = scope.decisions("audit", audit.id)
        assert (decision.decision, decision.reason, decision.decided_by) == (
            "adjust",
            "I shipped two projects with it this year",
            "ana",
        )
        assert audit.review[0]["status"] == "adjusted"
        remaining = sum(p["status"] == "open" for p in audit.review)
    for _ in range(remaining):
        reply = engine.handle_sync("ana", "confirm")
    assert "Every review prompt of your audit is answered: it is now final." in reply.text
    assert "Review of the learning plan 1/1" in reply.text  # the next output with open prompts
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "final"
        assert all(p["status"] != "open" for p in audit.review)
    reply = engine.handle_sync("ana", "yes")
    assert "learning plan is answered: it is now final" in reply.text and reply.state == "final"
    assert "Every review prompt has been answered" in engine.handle_sync("ana", "/review").text


def test_report_shows_draft_and_audit_trail(engine: Engine, store: Store) -> None:
    audited(engine)
    reply = engine.handle_sync("ana", "/report")
    attachment, radar = reply.attachments
    assert radar.kind == "image" and radar.path.suffix == ".png"
    text = attachment.path.read_text()
    assert "Draft: not yet reviewed" in text and "## Top gaps" in text and "methodology" in text
    engine.handle_sync("ana", "/review")
    engine.handle_sync("ana", "adjust")
    engine.handle_sync("ana", "3 because a colleague reviewed my work")
    html = engine.handle_sync("ana", "/report html").attachments[0].path.read_text()
    assert (
        "<strong>Draft: not yet reviewed.</strong>" in html
        and "a colleague reviewed my work" in html
    )
    data = engine.handle_sync("ana", "/report json").attachments[0].path.read_text()
    assert '"decision": "adjust"' in data
