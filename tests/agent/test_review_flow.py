"""The review gate in conversation: confirm, why, adjust with a reason, and the final state."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent.engine import Engine
from agent.store import Store
from tests.agent.test_transcripts import run_transcript

FULL = Path(__file__).parent / "transcripts" / "full_audit.yaml"


def audited(engine: Engine, user: str = "ana", consents: str | None = None) -> None:
    """Run the full guided audit for `user`; `consents` replaces the consent answer."""
    script = yaml.safe_load(FULL.read_text())
    for step in script["steps"]:
        step["user"] = user
        if consents is not None and step["say"] == "github and mlflow":
            step["say"], step["expect"] = consents, []
    script["steps"][0]["expect"] = ["Which role"]  # the person may have talked to us before
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
    # The next output with open prompts (how many depends on the recommended plan).
    plan_prompts = int(reply.text.split("Review of the learning plan 1/")[1].split(":")[0])
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "final"
        assert all(p["status"] != "open" for p in audit.review)
    for _ in range(plan_prompts):
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


def test_why_and_adjust_with_a_reason_for_every_prompt_kind(engine: Engine, store: Store) -> None:
    """Walk every prompt of the audit and its plan: ask why, then adjust with a reason.

    A new rating keeps the reason after it; every other answer is kept whole as the note (a
    legal basis is recorded on the model, a new pace rebuilds the plan)."""
    audited(engine, "ola")
    reply = engine.handle_sync("ola", "/review")
    seen: dict[str, str] = {}
    typed: dict[str, str] = {}
    because = "because I checked it with my team lead"
    while any(c.value == "why" for c in reply.choices):
        with store.user("ola") as scope:
            flow = scope.active_flows()[0]
            subject = scope.review_subject(flow.answers["subject"], flow.answers["row_id"])
            assert subject is not None
            prompt = next(p for p in subject.review if p["id"] == flow.position)
        why = engine.handle_sync("ola", "why")
        assert prompt["why"].split(".")[0] in why.text, prompt["kind"]
        instructions = engine.handle_sync("ola", "adjust")
        if "new rating" in instructions.text or "new ratings" in instructions.text:
            skill = prompt["skills"][0]
            value = "3" if len(prompt["skills"]) == 1 else f"{skill.replace('_', ' ')} 3"
        elif prompt["kind"] == "model_personal_data_no_basis":
            value = "consent,"
        elif flow.answers["subject"] == "plan":
            value = "5 hours a week,"
        else:
            value = "keep it"
        reply = engine.handle_sync("ola", f"{value} {because}")
        seen[prompt["kind"]] = flow.answers["subject"]
        typed[prompt["id"]] = f"{value} {because}"
    assert {"self_rating_only", "no_evidence", "inferred_only", "model_accuracy_on_imbalanced",
            "model_personal_data_no_basis", "plan_confirm"} <= set(seen)  # fmt: skip
    with store.user("ola") as scope:
        audit = scope.latest_audit()
        plan = scope.latest_plan()
        assert audit is not None and plan is not None
        assert audit.state == plan.state == "final"
        decisions = scope.decisions("audit", audit.id) + scope.decisions("plan", plan.id)
        # A rating that repeats the value already there is recorded as a confirmation.
        status = {
            d.prompt_id: "adjusted" if d.decision == "adjust" else "confirmed" for d in decisions
        }
        assert all(
            p["status"] == status[p["id"]]
            for p in [*audit.review, *plan.review]
            if p["id"] in status
        )
        for decision in decisions:
            if decision.decision == "confirm":
                assert decision.value["ratings"] == decision.value["before"]
        for decision in decisions:
            if decision.value.get("ratings"):
                assert decision.reason == "I checked it with my team lead"
            else:  # a note is kept whole
                assert decision.reason == typed[decision.prompt_id]
        assert plan.plan["weekly_hours"] == 5
        [model] = audit.audit.model_audit
        assert model.legal_basis == "consent"
        assert not any(f.code == "personal_data_no_basis" for f in model.findings)
