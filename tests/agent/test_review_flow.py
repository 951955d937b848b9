"""The review gate in conversation: confirm, why, adjust with a reason, and the final state."""

from __future__ import annotations

import html
import json
import re
import struct
from pathlib import Path
from typing import Any

import yaml

from agent.engine import Engine
from agent.store import PlanRow, Store
from agent.usecases import audits
from knowledge.schema import Pillar
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


FREELANCER = Path(__file__).parent / "transcripts" / "freelancer_free_words.yaml"
WHEN = r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}"  # "30 Nov 2026 10:11": to the minute


def current_prompt(store: Store, user: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The kind of output under review, the prompt asked now, and that output's plan data."""
    with store.user(user) as scope:
        flow = next(f for f in scope.active_flows() if f.flow == "review")
        subject = scope.review_subject(flow.answers["subject"], flow.answers["row_id"])
        assert subject is not None
        prompt = next(p for p in subject.review if p["id"] == flow.position)
        plan = subject.plan if isinstance(subject, PlanRow) else {}
        return flow.answers["subject"], prompt, plan


def png_description(path: Path) -> str:
    """The Description text a PNG carries (tEXt or iTXt chunk)."""
    data = path.read_bytes()
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"tEXt" and body.startswith(b"Description\0"):
            return body.split(b"\0", 1)[1].decode("latin-1")
        if kind == b"iTXt" and body.startswith(b"Description\0"):
            return body.split(b"\0", 5)[5].decode("utf-8")
        position += 12 + length
    raise AssertionError(f"{path.name} has no description")


def test_the_field_reports_review_sticks_in_every_output(engine: Engine, store: Store) -> None:
    """Alex's review as the field report played it (newcomer_ux.md, findings 3, 7, 8 and 9):
    the adjusted value, the legal basis and the plan change show in the chat, every report
    format, the progress list and both charts."""
    run_transcript(engine, yaml.safe_load(FREELANCER.read_text()))
    reply = engine.handle_sync("alex", "/review")
    replies: dict[str, str] = {}
    while reply.choices and any(c.value == "why" for c in reply.choices):
        subject, prompt, plan = current_prompt(store, "alex")
        if prompt["skills"] == ["cloud_platforms"]:
            engine.handle_sync("alex", "why?")
            engine.handle_sync("alex", "adjust")
            reply = engine.handle_sync("alex", "3 coz i deployed a few sagemaker endpoints for my client last yr")  # fmt: skip
        elif prompt["kind"] == "model_personal_data_no_basis":
            engine.handle_sync("alex", "2")
            reply = engine.handle_sync("alex", "legitimate interests, fraud prevention; the client has a DPIA")  # fmt: skip
        elif prompt["kind"] == "no_evidence":
            reply = engine.handle_sync("alex", "experiment tracking 2, data validation 1 since I only used mlflow once")  # fmt: skip
        elif prompt["kind"] == "plan_confirm":
            dropped = next(i for i in reversed(plan["items"]) if i["skill"] != "docker")
            assert any(i["skill"] == "docker" for i in plan["items"])
            engine.handle_sync("alex", "2")
            number = plan["items"].index(dropped) + 1
            reply = engine.handle_sync("alex", f"I would rather start with Docker, item {number} is not what I need for a fraud model")  # fmt: skip
        else:
            reply = engine.handle_sync("alex", "confirm")
        replies[prompt["id"] if subject != "plan" else f"plan:{prompt['id']}"] = reply.text
    assert "Every review prompt has been answered" in engine.handle_sync("alex", "/review").text

    # The chat said what changed, with the evidence.
    assert replies["self_rating_only:cloud_platforms"].startswith(
        "Cloud Platforms: 2 -> 3/5 (now 60/100). Adjusted and re-scored: overall now"
    )
    legal = replies["model_personal_data_no_basis:your model"]
    assert "Recorded on the model: legal basis legitimate interests" in legal
    assert "no longer says that no legal basis is stated" in legal
    assert "Experiment Tracking: not known -> 2/5" in replies["no_evidence"]
    assert "Changed your learning plan: dropped " in replies["plan:plan_confirm"]
    assert "put Docker first" in replies["plan:plan_confirm"]

    with store.user("alex") as scope:
        audit = scope.latest_audit()
        plan_row = scope.latest_plan()
        assert audit is not None and plan_row is not None
        assert audit.state == "final" and plan_row.state == "final"
        skills = {s.id: s for s in audit.audit.skills}
        decisions = scope.decisions("audit", audit.id)
        plan_decisions = scope.decisions("plan", plan_row.id)
        overall = audit.overall
        result = audit.audit
        items = plan_row.plan["items"]
        recommendations = plan_row.recommendations
    assert skills["cloud_platforms"].proficiency == 60.0 and skills["cloud_platforms"].reviewed == 3
    assert skills["experiment_tracking"].proficiency == 40.0
    [model] = result.model_audit
    assert model.legal_basis == "legitimate interests"
    assert "personal_data_no_basis" not in {f.code for f in model.findings}
    cloud_decision = next(d for d in decisions if d.value.get("ratings", {}).get("cloud_platforms"))
    assert cloud_decision.reason == "i deployed a few sagemaker endpoints for my client last yr"
    assert cloud_decision.value["before"] == {"cloud_platforms": 2.0}
    basis = next(d for d in decisions if d.value.get("legal_basis"))
    assert basis.reason == "legitimate interests, fraud prevention; the client has a DPIA"
    [plan_decision] = [d for d in plan_decisions if d.decision == "adjust"]
    assert plan_decision.reason == f"I would rather start with Docker, item {number} is not what I need for a fraud model"  # fmt: skip
    assert items[0]["skill"] == "docker" and dropped["id"] not in {i["id"] for i in items}
    # The plan was rebuilt after each adjustment: its reasons quote the adjusted values.
    by_name = {s.name: s for s in skills.values()}
    quoted = [re.search(r"for your (.+?) gap \((\d+) now", r["reason"]) for r in recommendations]
    assert any(quoted)
    for found in filter(None, quoted):
        assert int(found.group(2)) == round(by_name[found.group(1)].proficiency or 0)

    # Every report format: the review section in words, and the tables agree with it.
    report = engine.handle_sync("alex", "/report")
    markdown = report.attachments[0].path.read_text()
    review = markdown.split("## Review")[1].split("## Next audit")[0]
    assert re.search(
        rf"- Cloud Platforms: 2 -> 3/5, because 'i deployed a few sagemaker endpoints for my client last yr' \({WHEN}\)",
        review,
    ), review
    assert re.search(
        rf"- Your model: legal basis recorded as legitimate interests, because 'legitimate interests, fraud prevention; the client has a DPIA' \({WHEN}\)",
        review,
    ), review
    assert re.search(rf"- Learning plan: dropped .*put Docker first.* \({WHEN}\)", review), review
    assert re.search(rf"- Your model: accuracy on imbalanced data: confirmed \({WHEN}\)", review)
    assert re.search(rf"- 85% of your income from one client: confirmed \({WHEN}\)", review)
    assert "Experiment Tracking: not known -> 2/5; Data Validation: not known -> 1/5" in review
    assert not re.search(r"\d{2}:\d{2}:\d{2}|self_rating_only|cloud_platforms|\[adjusted\]", review)
    assert "| Cloud Platforms | lifecycle | 60.0 (you set 3/5) |" in markdown
    assert "legal basis: legitimate interests" in markdown and "no legal basis is stated" not in markdown  # fmt: skip
    assert "Changed in review: dropped " in markdown and "(final)" in markdown
    assert f"Overall score **{overall}**" in markdown
    page = html.unescape(engine.handle_sync("alex", "/report html").attachments[0].path.read_text())
    assert "Cloud Platforms: 2 -> 3/5, because 'i deployed a few sagemaker endpoints" in page
    assert "legitimate interests, fraud prevention; the client has a DPIA" in page
    assert "no legal basis is stated" not in page and f"<strong>{overall}</strong>" in page
    data = json.loads(engine.handle_sync("alex", "/report json").attachments[0].path.read_text())
    lines = [d["text"] for d in data["decisions"]]
    assert any(line.startswith("Cloud Platforms: 2 -> 3/5") for line in lines)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", d["at"]) for d in data["decisions"])  # fmt: skip
    by_id = {s["id"]: s for s in data["result"]["skills"]}
    assert by_id["cloud_platforms"]["proficiency"] == 60.0 and by_id["cloud_platforms"]["reviewed"] == 3  # fmt: skip

    # History and charts show the re-scored audit.
    assert f"overall {overall:.1f} (final)" in engine.handle_sync("alex", "/progress").text
    progress = engine.handle_sync("alex", "/progress").attachments[0].path
    technical = result.pillars[Pillar.TECHNICAL]
    assert f"overall {overall:.1f} (Technical Proficiency {technical.score:.1f}" in png_description(progress)  # fmt: skip
    radar = report.attachments[1].path
    assert f"(overall {overall:.1f})" in png_description(radar)
    lifecycle = result.pillars[Pillar.LIFECYCLE]
    assert f"Model Lifecycle Management {lifecycle.score:.1f}" in png_description(radar)


PROFILE = """
user: gus
target_role: ml_engineer
self_ratings: {python: 4, classical ml: 3, docker: 2, model evaluation: 3}
soft_skills: {communication: 3}
evidence:
  - {skill: gradient_boosting, source: code, strength: 0.9, observed: 2026-10-01, origin: github}
  - {skill: feature_engineering, source: code, strength: 0.7, observed: 2026-10-01, origin: github}
"""


def audited_from_file(engine: Engine, tmp_path: Path, user: str = "gus") -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    with engine.work(user) as turn:
        assert turn is not None
        audits.audit_file(turn, path)


def to_prompt(engine: Engine, store: Store, user: str, kind: str) -> None:
    """Confirm review prompts until the one of `kind` is asked."""
    reply = engine.handle_sync(user, "/review")
    while current_prompt(store, user)[1]["kind"] != kind:
        assert any(c.value == "why" for c in reply.choices), f"no {kind} prompt"
        reply = engine.handle_sync(user, "confirm")


def test_a_value_set_in_review_keeps_the_evidence_beside_it(
    engine: Engine, store: Store, tmp_path: Path
) -> None:
    """The field report's "Adjusted Gradient Boosting to 3" left it at 79: now it is 60, and
    the chat, the why answer and the report say what the evidence suggested."""
    audited_from_file(engine, tmp_path)
    to_prompt(engine, store, "gus", "automated_only")
    reply = engine.handle_sync(
        "gus",
        "gradient boosting 3 because i used xgboost but the model metrics are not that great honestly",
    )
    assert reply.text.startswith("Gradient Boosting: 4.5 -> 3/5 (now 60/100); your code suggested 4/5, kept beside it.")  # fmt: skip
    with store.user("gus") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        boosting = next(s for s in audit.audit.skills if s.id == "gradient_boosting")
        decision = scope.decisions("audit", audit.id)[-1]
    assert (boosting.proficiency, boosting.reviewed, boosting.status) == (60.0, 3, "measured")
    assert boosting.evidence_proficiency is not None and boosting.evidence_proficiency > 80
    assert boosting.interval is not None and boosting.interval[1] >= boosting.evidence_proficiency
    assert decision.reason == "i used xgboost but the model metrics are not that great honestly"
    markdown = engine.handle_sync("gus", "/report").attachments[0].path.read_text()
    assert (
        "| Gradient Boosting | technical | 60.0 (you set 3/5; your code suggested 4/5) |"
        in markdown
    )
    assert re.search(
        rf"- Gradient Boosting: 4.5 -> 3/5 \(your code suggested 4/5\), because 'i used xgboost but the model metrics are not that great honestly' \({WHEN}\)",
        markdown,
    ), markdown.split("## Review")[1]
    # "why" on a reviewed value says it is a decision, with the evidence's own estimate.
    with store.user("gus") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        from tools.explain import explain_skill

        why = explain_skill(next(s for s in audit.audit.skills if s.id == "gradient_boosting"))
    assert "as you set it in review (3/5); the evidence (code x1, self rating x1) gives 80" in why
    assert "a decision, not evidence" in why


def test_changes_typed_at_once_and_notes_kept_for_the_next_choice(
    engine: Engine, store: Store, tmp_path: Path
) -> None:
    """Instead of confirm / adjust / why a person may type the change itself, or a note."""
    audited_from_file(engine, tmp_path, "hal")
    reply = engine.handle_sync("hal", "/review")
    _, prompt, _ = current_prompt(store, "hal")
    assert prompt["kind"] == "self_rating_only"
    [skill] = prompt["skills"]
    # A rating without a reason: the reason is asked for, then the change is made.
    reply = engine.handle_sync("hal", "no, more like 4")
    assert reply.text.endswith("4/5: why? A short reason is kept with the change and shown in the report.")  # fmt: skip
    reply = engine.handle_sync("hal", "I passed the AWS ML specialty exam; see my certificate")
    assert " -> 4/5 (now 80/100)" in reply.text and "Review 2/" in reply.text
    # Words that are neither an action nor a change are kept as the note of the next choice.
    reply = engine.handle_sync("hal", "hmm, I am not sure about this one")
    assert reply.text.startswith("I keep that as your note.") and "Review 2/" in reply.text
    reply = engine.handle_sync("hal", "confirm")
    assert reply.text.startswith("Confirmed, with your note.")
    # A button's number is the button, never a rating.
    reply = engine.handle_sync("hal", "3")
    assert "Review 3/" in reply.text and "Confirmed" not in reply.text
    with store.user("hal") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        first, second = scope.decisions("audit", audit.id)
        changed = next(s for s in audit.audit.skills if s.id == skill)
    assert first.reason == "I passed the AWS ML specialty exam; see my certificate"
    assert first.value["ratings"] == {skill: 4.0} and changed.proficiency == 80.0
    assert (second.decision, second.reason) == ("confirm", "hmm, I am not sure about this one")


def test_confirm_all_the_rest_confirms_every_open_point_and_names_them(
    engine: Engine, store: Store, tmp_path: Path
) -> None:
    audited_from_file(engine, tmp_path, "ivy")
    engine.handle_sync("ivy", "/review")
    engine.handle_sync("ivy", "skip")  # the first stays open, and is confirmed with the rest
    with store.user("ivy") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        count = len(audit.open_prompts())
    reply = engine.handle_sync("ivy", "confirm all the rest")
    assert reply.text.startswith(f"Confirmed all {count} open points: ")
    assert "it is now final" in reply.text
    with store.user("ivy") as scope:
        audit = scope.latest_audit()
        assert audit is not None and not audit.open_prompts()
        assert len(scope.decisions("audit", audit.id)) == count
    # "that's all" is no such instruction: one point is confirmed.
    audited_from_file(engine, tmp_path, "jo")
    engine.handle_sync("jo", "/review")
    reply = engine.handle_sync("jo", "ok, that's all")
    assert reply.text.startswith("Confirmed.") and "Review 2/" in reply.text


def test_a_legal_basis_stated_in_the_model_audits_review_is_recorded_on_the_model(
    engine: Engine, store: Store
) -> None:
    for text in ("/model", "fraud detection", "roc auc 0.91, pr auc 0.4", "about 2% are fraud", "yes", "idk"):  # fmt: skip
        reply = engine.handle_sync("mo", text)
    assert "no legal basis is stated" in reply.text
    to_prompt(engine, store, "mo", "model_personal_data_no_basis")
    reply = engine.handle_sync("mo", "adjust")
    assert "What is the legal basis?" in reply.text
    reply = engine.handle_sync("mo", "the client has a DPIA")
    # A DPIA the client holds may mean the client is the controller: both are offered.
    assert "Did you mean legitimate interests or my client or employer decides it" in reply.text
    assert "just the note" in reply.text
    assert [c.label for c in reply.choices] == [
        "legitimate interests",
        "my client or employer decides it (the data controller)",
        "Just the note",
    ]
    reply = engine.handle_sync("mo", "legitimate interests")
    assert "Recorded on the model: legal basis legitimate interests" in reply.text
    assert "The model audit is judged again with it" in reply.text
    with store.user("mo") as scope:
        row = scope.latest_model_audit()
        assert row is not None
        [decision] = scope.decisions("model", row.id)
        verdict, report, review = row.verdict, row.report, row.review
    assert report["legal_basis"] == "legitimate_interests"
    assert verdict["legal_basis"] == "legitimate interests"
    assert "personal_data_no_basis" not in {f["code"] for f in verdict["findings"]}
    # The prompt stays answered with the person's first words kept whole as its note.
    assert decision.reason == "the client has a DPIA"
    assert decision.value == {"model": "your model", "legal_basis": "legitimate_interests"}
    assert any(p["kind"] == "model_personal_data_no_basis" and p["status"] == "adjusted" for p in review)  # fmt: skip


def test_the_plan_is_rebuilt_when_an_item_is_swapped_or_the_pace_changes(
    engine: Engine, store: Store
) -> None:
    audited(engine, "pia")
    with store.user("pia") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        # The audit's own review is not what this test is about.
        confirmed = [{**p, "status": "confirmed"} for p in audit.review]
        scope.update_row(audit, review=confirmed, state="final")
    reply = engine.handle_sync("pia", "/review")
    assert "Review of the learning plan" in reply.text
    _, _, plan = current_prompt(store, "pia")
    before = plan["items"]
    swapped = before[0]
    reply = engine.handle_sync("pia", "adjust")
    reply = engine.handle_sync("pia", "hmm")
    assert "I could not tell what to change in the plan" in reply.text
    reply = engine.handle_sync("pia", "swap item 1 for something else, and 2 hours a week")
    assert f"swapped {swapped['title']} for " in reply.text and "paced at 2 h a week" in reply.text
    with store.user("pia") as scope:
        row = scope.latest_plan()
        assert row is not None
        after = row.plan
        recommendations = row.recommendations
        [decision] = scope.decisions("plan", row.id)
    assert after["weekly_hours"] == 2 and swapped["id"] not in {i["id"] for i in after["items"]}
    assert swapped["id"] in after["removed"]
    assert any(i["skill"] == swapped["skill"] for i in after["items"])  # another pick, same skill
    assert all("at 2 h/week" in r["reason"] for r in recommendations)
    # Paced at 2 h a week, the rebuilt plan ends later than it did.
    assert after["items"][-1]["end"] > before[-1]["end"]
    assert decision.reason == "hmm\nswap item 1 for something else, and 2 hours a week"
    assert decision.value["done"][0].startswith(f"swapped {swapped['title']} for ")


def test_the_class_balance_and_metrics_stated_in_review_judge_the_model_again(
    engine: Engine, store: Store
) -> None:
    """Other facts about a model work the same way: recorded on it, and it is judged again
    (a newly raised finding becomes a new open prompt)."""
    for text in ("/model", "fraud detection", "accuracy 0.97, f1 0.6", "don't know", "no"):
        reply = engine.handle_sync("uma", text)
    assert "class balance is not" in reply.text
    to_prompt(engine, store, "uma", "model_balance_unknown")
    reply = engine.handle_sync("uma", "about 2% are fraud, we checked the labels last month")
    assert reply.text.startswith("Recorded on the model: share of positives 2%.")
    with store.user("uma") as scope:
        row = scope.latest_model_audit()
        assert row is not None
        kinds = {p["kind"]: p["status"] for p in row.review}
        report = dict(row.report)
    assert report["positive_rate"] == 0.02
    assert kinds["model_balance_unknown"] == "adjusted"
    assert kinds["model_accuracy_on_imbalanced"] == "open"  # raised by the stated balance
    to_prompt(engine, store, "uma", "model_accuracy_on_imbalanced")
    reply = engine.handle_sync("uma", "adjust")
    reply = engine.handle_sync("uma", "pr auc 0.41 from the last evaluation")
    assert "Recorded on the model: metrics PR-AUC 0.41" in reply.text
    with store.user("uma") as scope:
        row = scope.latest_model_audit()
        assert row is not None
        metrics = row.report["metrics"]
        decisions = scope.decisions("model", row.id)
    assert metrics == {"accuracy": 0.97, "f1": 0.6, "pr_auc": 0.41}
    assert [d.reason for d in decisions if d.decision == "adjust"] == [
        "about 2% are fraud, we checked the labels last month",
        "pr auc 0.41 from the last evaluation",
    ]


def test_another_skill_rated_at_a_question_leaves_that_question_open(
    engine: Engine, store: Store
) -> None:
    """At "Deep Learning is scored 40 ... is that right?", "docker 5" re-rates Docker (the
    person's word) but is no answer about Deep Learning: its question is asked again, and
    only an answer about it settles it."""
    audited(engine)
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        first = audit.review[0]
    assert first["kind"] == "self_rating_only" and first["skills"] == ["deep_learning"]
    engine.handle_sync("ana", "/review")
    engine.handle_sync("ana", "adjust")
    reply = engine.handle_sync("ana", "docker 5 because I ship containers every week")
    assert "Docker: 2 -> 5/5" in reply.text
    assert re.search(r"Review 1/\d+: Deep Learning is scored", reply.text), reply.text
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        statuses = {p["id"]: p["status"] for p in audit.review}
        skills = {s.id: s for s in audit.audit.skills}
    assert statuses[first["id"]] == "open"
    assert skills["docker"].proficiency == 100
    reply = engine.handle_sync("ana", "3 because I trained a CNN last month")
    assert "Deep Learning: 2 -> 3/5" in reply.text and "Review 2/" in reply.text


def test_words_that_answer_the_concentration_question_confirm_it_and_notes_add_up(
    engine: Engine, store: Store
) -> None:
    """ "Is this dependency deliberate, or something to work on?": either way the point stands,
    so an answer in words confirms it with the words as its note. Elsewhere two notes in a row
    are both kept (the second used to replace the first)."""
    audited(engine, "cleo")
    to_prompt(engine, store, "cleo", "client_concentration")
    reply = engine.handle_sync("cleo", "the 60% is deliberate, it's a 2-year retainer")
    assert reply.text.startswith("Confirmed, with your note.")
    reply = engine.handle_sync("cleo", "hmm, not sure")
    assert reply.text.startswith("I keep that as your note.")
    reply = engine.handle_sync("cleo", "I did ask a colleague once")
    assert reply.text.startswith("I keep that as your note.")
    reply = engine.handle_sync("cleo", "confirm")
    assert reply.text.startswith("Confirmed, with your note.")
    with store.user("cleo") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        *_, concentration, after = scope.decisions("audit", audit.id)
    assert (concentration.decision, concentration.reason) == (
        "confirm",
        "the 60% is deliberate, it's a 2-year retainer",
    )
    assert after.reason == "hmm, not sure I did ask a colleague once"
