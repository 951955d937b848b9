"""Skill checks end to end: chat and buttons, stored answers and timing, fresh questions,
nothing counted from a stopped check, and the stored audit re-scored with a finished one."""

from __future__ import annotations

import pytest

from agent.engine import Engine
from agent.reply import Reply
from agent.store import Store
from agent.usecases import checks
from agent.usecases.audits import stored_evidence
from knowledge.checks import default_checks
from tests.agent.conftest import TODAY
from tests.agent.test_review_flow import audited
from tests.agent.test_transcripts import check_letter
from tools.errors import CheckError
from tools.params import SourceKind


def python_score(store: Store, user: str) -> tuple[float, float, str]:
    """Python's proficiency, confidence and status in the person's stored latest audit."""
    with store.user(user) as scope:
        audit = scope.latest_audit()
        assert audit is not None
        skill = next(s for s in audit.audit.skills if s.id == "python")
    assert skill.proficiency is not None
    return skill.proficiency, skill.confidence, skill.status.value


def take_check(engine: Engine, user: str, skill: str, right: bool) -> Reply:
    """Answer every question of a check right (or wrong) in the chat, until it finishes."""
    reply = engine.handle_sync(user, f"/check {skill}")
    for _ in range(6):
        reply = engine.handle_sync(user, check_letter(engine.store, user, reply.text, right))
        if "check finished" in reply.text:
            return reply
    raise AssertionError(f"the check did not finish: {reply.text}")


def test_all_wrong_lowers_and_all_right_raises_python_in_the_stored_audit(
    engine: Engine, store: Store
) -> None:
    """Python rated 4/5 (80) in the interview; a check moves the stored audit toward it."""
    for user in ("wren", "rhea"):
        audited(engine, user)
    rated, before_confidence, status = python_score(store, "wren")
    assert (rated, status) == (80.0, "self_rated")

    wrong = take_check(engine, "wren", "python", right=False)
    right = take_check(engine, "rhea", "python", right=True)
    assert "0 of 4 right" in wrong.text and "4 of 4 right" in right.text
    low, low_confidence, low_status = python_score(store, "wren")
    high, high_confidence, _ = python_score(store, "rhea")
    assert low < rated < high
    assert low_status == "measured"
    assert low_confidence == high_confidence > before_confidence
    assert (
        f"Python: 80 -> {low:.0f}, confidence {before_confidence:.2f} -> {low_confidence:.2f}"
        in wrong.text
    )
    with store.user("wren") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        kinds = {p.id: p for p in audit.prompts}
        prompt = kinds["check_contradicts_self_rating:python"]
        assert prompt.open and "well below your own rating of 4/5" in prompt.question
        assert audit.state == "draft" and audit.overall is not None
        python = next(s for s in audit.audit.skills if s.id == "python")
        sources = {e.source for e in python.evidence}
        assert sources == {SourceKind.SELF_RATING, SourceKind.SKILL_CHECK}
    with store.user("rhea") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        # 87 against 80 is within a check's uncertainty: nothing to review.
        assert all(not p.id.startswith("check_contradicts") for p in audit.prompts)


def test_telegram_buttons_alone_take_a_check(engine: Engine, store: Store) -> None:
    """Every step is a button's value (Telegram's callback data, at most 64 bytes)."""
    audited(engine, "tg:41")
    reply = engine.handle_sync("tg:41", "/check")
    assert all(len(c.value.encode()) <= 64 for c in reply.choices)
    reply = engine.handle_sync("tg:41", reply.choices[0].value)  # "check these three"
    names = set()
    for _ in range(3 * 6):
        assert [c.value for c in reply.choices] == ["A", "B", "C", "D"], reply.text
        right = check_letter(store, "tg:41", reply.text, True)
        value = next(c.value for c in reply.choices if c.value == right)
        reply = engine.handle_sync("tg:41", value)
        names |= {
            line.split(" check finished")[0]
            for line in reply.text.splitlines()
            if " check finished" in line
        }
        if len(names) == 3:
            break
    assert len(names) == 3, reply.text
    with store.user("tg:41") as scope:
        assert [r.status for r in scope.check_sessions()] == ["finished"] * 3
        assert not scope.active_flows()


def test_repeating_a_check_shows_fresh_questions_and_stores_timing(
    engine: Engine, store: Store
) -> None:
    reply = engine.handle_sync("nia", "/check docker")
    for _ in range(2):  # stop after two answers: those questions still count as seen
        reply = engine.handle_sync("nia", check_letter(store, "nia", reply.text, True))
    engine.handle_sync("nia", "stop")
    take_check(engine, "nia", "docker", right=False)
    take_check(engine, "nia", "docker", right=True)
    with store.user("nia") as scope:
        sessions = scope.check_sessions()
        assert [s.status for s in sessions] == ["abandoned", "finished", "finished"]
        shown = [[a.question_id for a in scope.check_answers(s.id)] for s in sessions]
        assert len(shown[0]) == 3 and shown[0][-1] not in [
            a.question_id for a in scope.check_answers(sessions[0].id) if a.choice is not None
        ]
        assert not set(shown[0]) & set(shown[1])
        assert not set(shown[1]) & set(shown[2]), "two checks in a row share no question"
        for session in sessions[1:]:
            for row in scope.check_answers(session.id):
                assert row.answered_at is not None and row.choice is not None
                assert row.answered_at >= row.shown_at and row.correct is not None
        exported = scope.export()
        assert len(exported["skill_checks"]) == 3 and len(exported["skill_check_answers"]) >= 11
        assert exported["skill_checks"][0]["status"] == "abandoned"
        evidence = stored_evidence(scope, TODAY)
    # Every finished check is one item (none from the stopped one), dated by the engine's day.
    assert [e["source"] for e in evidence] == ["skill_check", "skill_check"]
    assert {e["observed"] for e in evidence} == {TODAY.isoformat()}
    assert "cannot be undone" in engine.handle_sync("nia", "/forget").text
    erased = engine.handle_sync("nia", "yes").text
    assert "has been erased" in erased and "3 check sessions" in erased
    with store.engine.connect() as conn:
        for table in ("check_sessions", "check_answers"):
            assert conn.exec_driver_sql(f"select count(*) from {table}").scalar() == 0


def test_a_stopped_check_counts_for_nothing_and_the_interview_resumes(
    engine: Engine, store: Store
) -> None:
    """Mid-interview, a check is a side trip: stopping it keeps every answer and nothing counts."""
    engine.handle_sync("ola", "hi")
    engine.handle_sync("ola", "data scientist")
    reply = engine.handle_sync("ola", "/check")  # a side answer: the question comes back
    assert "Checks exist for:" in reply.text and "career stage" in reply.text
    reply = engine.handle_sync("ola", "/check statistics")
    assert "Statistics, question 1 " in reply.text
    for _ in range(3):
        reply = engine.handle_sync("ola", check_letter(store, "ola", reply.text, True))
    reply = engine.handle_sync("ola", "/cancel")
    assert "Cancelled the check" in reply.text and "career stage" in reply.text
    with store.user("ola") as scope:
        assert stored_evidence(scope, TODAY) == []
        assert [r.status for r in scope.check_sessions()] == ["active"]  # until settled
        scope.settle_checks()
        assert [r.status for r in scope.check_sessions()] == ["abandoned"]
        interview = scope.active_flows()[0]
        assert (
            interview.flow == "interview" and interview.answers["target_role"] == "data_scientist"
        )


def test_a_finished_check_mid_review_leaves_the_review_on_an_open_prompt(
    engine: Engine, store: Store
) -> None:
    audited(engine, "ada")
    reply = engine.handle_sync("ada", "/review")
    assert reply.text.startswith("Review 1/")
    with store.user("ada") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        first = audit.open_prompts()[0]
    assert first.kind == "self_rating_only"
    skill = first.skills[0]
    if default_checks().bank(skill) is None:  # the top gap has no check: use Python's
        skill = "python"
    reply = take_check(engine, "ada", skill, right=True)
    assert "re-scored with it" in reply.text and "Review" in reply.text
    with store.user("ada") as scope:
        audit = scope.latest_audit()
        review = next(f for f in scope.active_flows() if f.flow == "review")
        assert audit is not None
        current = audit.prompt(review.position)
        assert current is not None and current.open
    assert engine.handle_sync("ada", "confirm").text


def test_check_commands_explain_their_mistakes(engine: Engine) -> None:
    reply = engine.handle_sync("kai", "/check kubernetes")
    assert "There is no check for Kubernetes yet; checks exist for" in reply.text
    reply = engine.handle_sync("kai", "/check dokcer")
    assert "Skill check: Docker" in reply.text  # typos are forgiven
    reply = engine.handle_sync("kai", "/check")  # no audit yet: the list of skills with a check
    assert "Checks exist for:" in reply.text and "/check docker" in reply.text
    reply = engine.handle_sync("kai", "/check frobnication")
    assert "is not a skill I know" in reply.text


def test_the_check_use_cases_refuse_what_does_not_fit(engine: Engine) -> None:
    with engine.work("lev") as turn:
        assert turn is not None
        started = checks.begin(turn, "git")
        shown = started.question.question_id
        other = "git-b1" if shown != "git-b1" else "git-b2"
        with pytest.raises(CheckError, match="was not shown"):
            checks.answer(turn, started.session_id, other, 0)
        with pytest.raises(CheckError, match="is not an option"):
            checks.answer(turn, started.session_id, shown, 7)
        with pytest.raises(CheckError, match="does not exist"):
            checks.answer(turn, started.session_id + 1, shown, 0)
        checks.abandon(turn, started.session_id)
        with pytest.raises(CheckError, match="is abandoned; start a new one"):
            checks.answer(turn, started.session_id, shown, 0)
        assert checks.finished_checks(turn.scope) == []
    with engine.work("lev") as turn, pytest.raises(CheckError, match="no check for Kubernetes"):
        assert turn is not None
        checks.skill_for(turn, "kubernetes")


def test_without_a_connector_checks_and_endorsements_raise_the_audits_confidence(
    engine: Engine, store: Store
) -> None:
    """No source connected: a finished check, then an endorsement, each raise the stored
    audit's overall confidence and the confidence of the skills they cover."""
    audited(engine, "noor", consents="none")

    def confidence() -> tuple[float, dict[str, float]]:
        with store.user("noor") as scope:
            assert scope.connector_runs() == []
            audit = scope.latest_audit()
            assert audit is not None
            result = audit.audit
        return result.overall.confidence, {s.id: s.confidence for s in result.skills}

    start, skills = confidence()
    take_check(engine, "noor", "python", right=True)
    checked, after_check = confidence()
    assert checked > start and after_check["python"] > skills["python"]
    engine.handle_sync("noor", "/endorse docker")
    made = engine.handle_sync("noor", "Noor").text
    code = made.split("\n\n")[1].strip()
    for said in (f"/start {code}", "yes", "Sam", "peer", "3", "skip", "yes"):
        engine.handle_sync("sam", said)
    endorsed, after_endorsement = confidence()
    assert endorsed > checked and after_endorsement["docker"] > after_check["docker"]


def test_a_final_audit_is_a_draft_again_when_a_check_contradicts_it(
    engine: Engine, store: Store
) -> None:
    audited(engine, "fay")
    reply = engine.handle_sync("fay", "/review")
    for _ in range(40):
        if "it is now final" in reply.text:
            break
        reply = engine.handle_sync("fay", "confirm")
    assert "it is now final" in reply.text
    reply = take_check(engine, "fay", "python", right=False)
    assert "It raised 1 new review point: type /review." in reply.text
    with store.user("fay") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "draft"
        assert [p.id for p in audit.open_prompts()] == ["check_contradicts_self_rating:python"]
        # What was confirmed stays confirmed.
        assert all(not p.open for p in audit.prompts if not p.id.startswith("check_"))
    reply = engine.handle_sync("fay", "/review")
    assert "Your skill check of Python estimates" in reply.text
