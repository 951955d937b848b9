"""The language-model interviewer against a fake OpenAI-compatible server, through the real
`langchain-openai` client: a full audit through tool calls, bounded history, grounding,
failures answered by the guided interviewer, switching modes, caps and privacy."""

from __future__ import annotations

import http.server
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import Settings
from agent.engine import Engine
from agent.llm.conversation import RECENT_MESSAGES
from agent.llm.model import CircuitBreaker
from agent.llm.tools import AFTER_TOOLS, ALLOWED, INTERVIEW_TOOLS
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent.llm_setup import AUDIT_SCRIPT, TODAY, coach, llm_engine, llm_settings
from tests.fakes.openai_server import Call, Cut, Fail, FakeOpenAI, Hang, Say

LONGER_THAN_ANY_TIMEOUT_S = 120.0  # the fake stops hanging when it closes, so this costs nothing


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeOpenAI) -> Settings:
    return llm_settings(tmp_path / "home", fake)


@pytest.fixture
def engine(store: Store, settings: Settings, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    return llm_engine(store, settings, kb, retriever)


def test_a_full_audit_through_tool_calls(engine: Engine, fake: FakeOpenAI, store: Store) -> None:
    fake.responder = coach(AUDIT_SCRIPT)
    replies = [engine.handle_sync("ana", text) for text, _, _ in AUDIT_SCRIPT]
    first, last = replies[0], replies[-1]
    assert "automated assistant" in first.text and "fake-coach at 127.0.0.1" in first.text
    assert "How would you rate yourself" in first.text
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None and audit.state == "draft"
        overall = audit.result["overall"]["score"]
        assert audit.profile["target_role"] == "ml_engineer"
        assert audit.profile["self_ratings"]["python"] == 4
        stated = [e for e in audit.profile["evidence"] if e["skill"] == "kubernetes"]
        # The evidence is the person's own words, not the model's paraphrase of them.
        assert stated and "Kubernetes in production for two years" in stated[0]["detail"]
        assert scope.active_flows() == []
        assert scope.llm_tokens(audit.as_of) > 0
    assert f"Your overall score is {overall} out of 100" in last.text
    assert any(c.value == "/review" for c in last.choices) and last.state == "draft"
    # The interview offered the interview's tools, no more.
    offered = {t["function"]["name"] for t in fake.chat_requests[0].body["tools"]}
    assert offered == INTERVIEW_TOOLS and offered < ALLOWED


def _audit(engine: Engine, fake: FakeOpenAI, user: str = "ana") -> None:
    fake.responder = coach(AUDIT_SCRIPT)
    for text, _, _ in AUDIT_SCRIPT:
        engine.handle_sync(user, text)
    fake.responder = None


def _answers(store: Store, user: str) -> dict[str, object]:
    with store.user(user) as scope:
        row = scope.last_flow("interview")
        return dict(row.answers) if row else {}


def test_history_sent_stays_flat_as_the_interview_grows(engine: Engine, fake: FakeOpenAI) -> None:
    sizes = []
    for n in range(12):
        fake.queue(Say(f"Tell me more about project {n}?"))
        engine.handle_sync("bo", f"I worked on project {n}, which was about forecasting demand.")
        sizes.append(fake.usage[-1][0])
        messages = fake.last_messages()
        assert len(messages) <= 1 + RECENT_MESSAGES + 1  # system, two exchanges, the message
        assert sum(m["role"] == "system" for m in messages) == 1
    assert sizes[-1] <= sizes[3] * 1.1, sizes  # flat, not growing with every turn


@pytest.mark.parametrize(
    "reply",
    [
        "Your overall score is 97.3 out of 100.",  # a score no tool produced
        "Your Python proficiency is {overall}.",  # a real number, about the wrong skill
    ],
)
def test_a_reply_with_a_figure_no_tool_produced_is_not_shown(
    engine: Engine, fake: FakeOpenAI, store: Store, reply: str
) -> None:
    _audit(engine, fake)
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        overall = audit.result["overall"]["score"]
    wrong = reply.format(overall=overall)
    fake.queue(Call([("explain_score", {"skill": "python"})]), Say(wrong), Say(wrong))
    shown = engine.handle_sync("ana", "How good is my Python, in numbers?")
    assert wrong not in shown.text
    rewrite = fake.chat_requests[-1].body["messages"][-1]
    assert rewrite["role"] == "user" and "no tool produced" in rewrite["content"]
    # The deterministic facts instead: what the tool found, in its own words.
    proficiency = next(s for s in audit.result["skills"] if s["id"] == "python")["proficiency"]
    assert f"Python (2026-11-28): proficiency {proficiency}" in shown.text


def test_a_wrong_figure_rewritten_correctly_is_shown(
    engine: Engine, fake: FakeOpenAI, store: Store
) -> None:
    _audit(engine, fake)
    with store.user("ana") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        python = next(s for s in audit.result["skills"] if s["id"] == "python")
    right = f"Your Python proficiency is {python['proficiency']} and the gap is {python['gap']}."
    fake.queue(
        Call([("explain_score", {"skill": "python"})]),
        Say("Your Python proficiency is 99.9."),
        Say(right),
    )
    assert engine.handle_sync("ana", "How good is my Python?").text == right


@pytest.mark.parametrize(
    "failure",
    [
        Fail(429, retry_after=0.1),
        Fail(500),
        Fail(401),
        Hang(LONGER_THAN_ANY_TIMEOUT_S),
        Cut(after_chunks=2),
    ],
    ids=["rate-limited", "server-error", "bad-key", "hang", "cut-stream"],
)
def test_a_failing_model_hands_the_turn_to_the_guided_interviewer(
    tmp_path: Path,
    fake: FakeOpenAI,
    store: Store,
    kb: KnowledgeBase,
    retriever: Retriever,
    failure: object,
) -> None:
    # A hang ends only by the client's timeout: a short one, against a hang that outlasts it.
    timeout = 0.5 if isinstance(failure, Hang) else 30.0
    settings = llm_settings(tmp_path / "home", fake, SKILLAUDIT_LLM_TIMEOUT=timeout)
    engine = llm_engine(store, settings, kb, retriever)
    fake.queue(Say("Hello! Which role are you aiming for?"))
    engine.handle_sync("cy", "Hi")
    # The model records the role, then fails before its reply: nothing of the turn is kept.
    fake.queue(
        Call([("record_answer", {"question_id": "target_role", "answer": "data scientist"})]),
        failure,  # type: ignore[arg-type]
    )
    reply = engine.handle_sync("cy", "Hello there, nice weather today")
    assert "using the guided questions for this message" in reply.text
    assert len(reply.text.split("\n")[0]) < 200  # the failure is one line in the chat
    # The model had asked for the role, so the guided interviewer read the message for it
    # (and did not understand it) rather than asking afresh.
    assert "please answer the question below" not in reply.text
    assert reply.text.index("Hello there") < reply.text.index("Which role are you aiming for")
    assert "Which role are you aiming for" in reply.text
    assert "target_role" not in _answers(store, "cy")
    # The conversation goes on: a guided answer is taken, and is kept.
    fake.queue(failure)  # type: ignore[arg-type]
    reply = engine.handle_sync("cy", "data scientist")
    assert _answers(store, "cy").get("target_role") == "data_scientist"


def test_retry_after_is_honoured(
    tmp_path: Path, fake: FakeOpenAI, store: Store, kb: KnowledgeBase
) -> None:
    settings = llm_settings(tmp_path / "home", fake, SKILLAUDIT_LLM_RETRIES=1)
    engine = llm_engine(store, settings, kb)
    fake.queue(Fail(429, retry_after=0.4), Say("Which role are you aiming for?"))
    started = time.monotonic()
    reply = engine.handle_sync("dee", "Hi")
    assert reply.text.endswith("Which role are you aiming for?")
    assert time.monotonic() - started >= 0.4 and fake.calls == 2


def test_the_breaker_stops_calling_a_failing_endpoint_and_tries_again_later(
    tmp_path: Path, fake: FakeOpenAI, store: Store, kb: KnowledgeBase
) -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown_s=60, clock=lambda: now[0])
    engine = llm_engine(store, llm_settings(tmp_path / "home", fake), kb, breaker=breaker)
    fake.queue(Fail(500), Fail(500), Fail(500))
    for _ in range(3):
        engine.handle_sync("eve", "Hi")
    assert fake.calls == 3
    reply = engine.handle_sync("eve", "Hello?")
    assert fake.calls == 3  # not called while open
    assert "The language model is not answering at the moment" in reply.text
    now[0] = 61.0
    fake.queue(Say("I am back. Which role are you aiming for?"))
    assert "I am back" in engine.handle_sync("eve", "Hi again").text
    assert not breaker.open and breaker.failures == 0


def test_switching_between_guided_and_conversation_keeps_every_answer(
    engine: Engine, fake: FakeOpenAI, store: Store
) -> None:
    fake.responder = coach(AUDIT_SCRIPT[:1])
    engine.handle_sync("fay", AUDIT_SCRIPT[0][0])
    fake.responder = None
    calls = fake.calls
    guided = engine.handle_sync("fay", "/guided")
    assert "Switched to the guided questions" in guided.text
    assert "Python" in guided.text  # the first open question: technical ratings for the role
    engine.handle_sync("fay", "4 3 3 4 3 2 3 4")
    assert fake.calls == calls  # no model involved in guided mode
    answers = _answers(store, "fay")
    assert answers["target_role"] == "ml_engineer" and answers["career_stage"] == "mid"
    assert answers["technical_ratings"]["python"] == 4
    fake.queue(Say("Welcome back! How many clients did you have last year?"))
    engine.handle_sync("fay", "/conversation")
    fake.queue(
        Call([("record_answer", {"question_id": "clients", "answer": "2"})]),
        Say("And how many hours a week can you learn?"),
    )
    reply = engine.handle_sync("fay", "I have two clients.")
    assert reply.text == "And how many hours a week can you learn?"
    answers = _answers(store, "fay")
    assert answers["clients"] == 2 and answers["technical_ratings"]["python"] == 4


def test_the_daily_token_cap_hands_over_to_the_guided_interviewer(
    tmp_path: Path, fake: FakeOpenAI, store: Store, kb: KnowledgeBase
) -> None:
    settings = llm_settings(tmp_path / "home", fake, SKILLAUDIT_LLM_DAILY_TOKENS=1)
    engine = llm_engine(store, settings, kb)
    fake.queue(Say("Which role are you aiming for?"))
    engine.handle_sync("gus", "Hi")
    reply = engine.handle_sync("gus", "MLOps engineer")
    assert fake.calls == 1
    assert "Today's language-model allowance is used up" in reply.text
    assert _answers(store, "gus")["target_role"] == "mlops_engineer"


MARKERS = {
    "income": "$12,345",
    "client": "Zyxcorp Holdings",
    "email": "ana.marker@example.org",
    "token": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6",
}


def test_private_details_never_reach_the_model(
    engine: Engine,
    fake: FakeOpenAI,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import SecretStr

    token = SecretStr("ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4")
    engine.settings = engine.settings.model_copy(update={"github_token": token})
    caplog.set_level(logging.DEBUG)
    fake.queue(
        Say("Which role are you aiming for?"),
        Call([("record_answer", {"question_id": "learning_budget_usd", "answer": "[amount]"})]),
        Say("Thanks, noted."),
        Say("Anything else?"),
    )
    engine.handle_sync("hal", "Hi")
    engine.handle_sync(
        "hal", f"My budget is {MARKERS['income']} a year; my client is {MARKERS['client']}."
    )
    engine.handle_sync("hal", f"Mail me at {MARKERS['email']}, my token is {MARKERS['token']}")
    sent = fake.all_text()
    for marker in [*MARKERS.values(), "Zyxcorp", "12,345", "Z9y8X7w6"]:
        assert marker not in sent, marker
        assert marker not in caplog.text, marker
    assert "test-key" not in caplog.text  # the API key, in no log line at any level
    assert "[amount]" in sent and "[client]" in sent and "[e-mail]" in sent and "[secret]" in sent
    # The local parser read the amount from the person's own words.
    assert _answers(store, "hal")["learning_budget_usd"] == 12345
    with store.user("hal") as scope:
        remembered = str(scope.llm_memory().recent)
    assert "Zyxcorp" not in remembered and MARKERS["email"] not in remembered


@pytest.mark.parametrize(("said", "usd"), [("2 000 zł", 507), ("C$400", 286), ("₹5000", 53)])
def test_a_budget_in_another_currency_stays_local_and_is_converted(
    engine: Engine, fake: FakeOpenAI, store: Store, said: str, usd: float
) -> None:
    fake.queue(
        Say("Which role are you aiming for?"),
        Call([("record_answer", {"question_id": "learning_budget_usd", "answer": "[amount]"})]),
        Say("Thanks, noted."),
    )
    engine.handle_sync("zoe", "Hi")
    engine.handle_sync("zoe", f"My learning budget is {said} in total.")
    sent = fake.all_text()
    amount = re.search(r"\d[\d ]*\d", said)
    assert amount is not None and amount.group() not in sent  # "2 000", "400", "5000"
    assert _answers(store, "zoe")["learning_budget_usd"] == usd  # at the ECB rate, locally


def test_consent_comes_only_from_the_person(engine: Engine, fake: FakeOpenAI, store: Store) -> None:
    fake.queue(
        Call([("record_answer", {"question_id": "consents", "answer": "github, kaggle"})]),
        Call([("ask_consent", {"sources": ["github"]})]),
        Say("May I look at your GitHub?"),
    )
    reply = engine.handle_sync("ivy", "You can read my GitHub")
    with store.user("ivy") as scope:
        assert scope.consents() == {}
    assert [c.value for c in reply.choices] == ["/consent grant github"]
    engine.handle_sync("ivy", "/consent grant github")
    with store.user("ivy") as scope:
        assert scope.consents() == {"github": True}


def test_a_tool_the_agent_does_not_have_is_never_run(
    engine: Engine, fake: FakeOpenAI, store: Store
) -> None:
    fake.queue(
        Call([("set_weights", {"technical": 1.0}), ("delete_user", {"user": "bob"})]), Say("Done.")
    )
    assert engine.handle_sync("jo", "Hi").text.endswith("Done.")
    errors = [m["content"] for m in fake.last_messages() if m["role"] == "tool"]
    assert len(errors) == 2 and all("not a valid tool" in e for e in errors)


def test_plain_responses_without_streaming(
    tmp_path: Path, fake: FakeOpenAI, store: Store, kb: KnowledgeBase
) -> None:
    settings = llm_settings(tmp_path / "home", fake, SKILLAUDIT_LLM_STREAMING=False)
    engine = llm_engine(store, settings, kb)
    fake.queue(
        Call([("record_answer", {"question_id": "target_role", "answer": "NLP engineer"})]),
        Say("Great."),
    )
    assert engine.handle_sync("kim", "I work in NLP").text.endswith("Great.")
    assert fake.chat_requests[0].body["stream"] is False
    assert _answers(store, "kim")["target_role"] == "nlp_engineer"


def test_an_existing_user_is_told_once_which_model_is_used(
    tmp_path: Path, fake: FakeOpenAI, store: Store, kb: KnowledgeBase, settings: Settings
) -> None:
    guided = Engine(
        store,
        Settings(SKILLAUDIT_HOME=tmp_path / "home", DATABASE_URL=None),
        kb,
        today=lambda: TODAY,
    )
    guided.handle_sync("lu", "Hi")
    engine = llm_engine(store, settings, kb)
    fake.queue(Say("Which role?"), Say("And your stage?"))
    first = engine.handle_sync("lu", "ML engineer")
    second = engine.handle_sync("lu", "mid")
    assert "fake-coach at 127.0.0.1 (on this machine)" in first.text
    assert "fake-coach" not in second.text


def test_a_reply_written_with_its_recording_calls_needs_one_model_call(
    engine: Engine, fake: FakeOpenAI, store: Store
) -> None:
    fake.responder = coach(AUDIT_SCRIPT[:2], reply_with_calls=True)
    first = engine.handle_sync("max", AUDIT_SCRIPT[0][0])
    assert fake.calls == 1 and first.text.endswith(AUDIT_SCRIPT[0][2])
    assert _answers(store, "max")["career_stage"] == "mid"
    # A recording that fails goes back to the model, which sees why.
    fake.responder = None
    fake.queue(
        Call(
            [("record_answer", {"question_id": "years_experience", "answer": "40"})],
            content="Great!",
        ),
        Say("Sorry, how many years was it?"),
    )
    reply = engine.handle_sync("max", "Actually it is more like 6 years.")
    assert fake.calls == 3 and reply.text.endswith("Sorry, how many years was it?")
    refused = fake.last_messages()[-1]
    assert refused["role"] == "tool" and "did not say that" in refused["content"]


def test_after_the_audit_the_model_explains_searches_plans_and_schedules(
    engine: Engine, fake: FakeOpenAI, store: Store
) -> None:
    _audit(engine, fake)
    fake.queue(
        Call(
            [("search_courses", {"topic": "deploying models with Docker"}), ("show_schedule", {})]
        ),
        Say("Here are some options."),
    )
    engine.handle_sync("ana", "What could I take on Docker, and when is my next audit?")
    offered = {t["function"]["name"] for t in fake.chat_requests[-1].body["tools"]}
    assert offered == AFTER_TOOLS
    courses, schedule = [m["content"] for m in fake.last_messages() if m["role"] == "tool"]
    assert '"courses"' in courses and "https://" in courses
    assert '"next_audit"' in schedule
    fake.queue(Call([("make_plan", {})]), Say("I made a dated plan; please review it."))
    reply = engine.handle_sync("ana", "Make me a learning plan please.")
    assert reply.state == "draft" and "please review it" in reply.text
    with store.user("ana") as scope:
        plan = scope.latest_plan()
        assert plan is not None and plan.state == "draft" and plan.plan["items"]


def test_an_endpoint_that_is_down_hands_over_to_the_guided_interviewer(
    tmp_path: Path, store: Store, kb: KnowledgeBase
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        SKILLAUDIT_HOME=tmp_path / "home",
        DATABASE_URL=None,
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        SKILLAUDIT_LLM_RETRIES=0,
    )
    engine = llm_engine(store, settings, kb)
    reply = engine.handle_sync("ned", "ML engineer")
    assert "cannot be reached" in reply.text and "guided questions" in reply.text
    assert _answers(store, "ned")["target_role"] == "ml_engineer"  # the guided parser took it


def test_a_model_that_keeps_calling_tools_is_stopped_at_the_step_cap(
    tmp_path: Path, fake: FakeOpenAI, store: Store, kb: KnowledgeBase
) -> None:
    settings = llm_settings(tmp_path / "home", fake, SKILLAUDIT_LLM_MAX_STEPS=3)
    engine = llm_engine(store, settings, kb)
    fake.responder = lambda body: Call([("record_skill", {"skill": "python", "rating": 3, "evidence": "python"})])  # fmt: skip
    reply = engine.handle_sync("oz", "I write Python, 3 out of 5.")
    assert fake.calls <= 4  # the cap, not the recursion limit, ended the loop
    assert "too many steps" in reply.text and "guided questions" in reply.text
    assert "stated_skills" not in _answers(store, "oz")  # the turn was undone as a whole


def test_changing_the_role_drops_only_the_ratings_asked_for_the_old_one(
    engine: Engine, fake: FakeOpenAI, store: Store
) -> None:
    fake.responder = coach(AUDIT_SCRIPT[:2])
    for text, _, _ in AUDIT_SCRIPT[:2]:
        engine.handle_sync("pia", text)
    fake.responder = None
    same = Call([("record_answer", {"question_id": "target_role", "answer": "ML engineer"})])
    fake.queue(same, Say("Still an ML engineer, noted."))
    engine.handle_sync("pia", "To be clear, I am an ML engineer.")
    assert _answers(store, "pia")["technical_ratings"]["python"] == 4  # same role: kept
    other = Call([("record_answer", {"question_id": "target_role", "answer": "data scientist"})])
    fake.queue(other, Say("A data scientist then. Let us rate the skills of that role."))
    engine.handle_sync("pia", "Actually I want to become a data scientist.")
    answers = _answers(store, "pia")
    assert answers["target_role"] == "data_scientist" and "technical_ratings" not in answers
    assert answers["career_stage"] == "mid"  # everything else stays


def test_no_trace_is_sent_to_langsmith_even_when_the_environment_asks(
    tmp_path: Path,
    fake: FakeOpenAI,
    store: Store,
    kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[str] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_PATCH = do_POST
        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("LANGSMITH_TRACING", "true")
        monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-test")
        monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        engine = llm_engine(store, llm_settings(tmp_path / "home", fake), kb)
        fake.queue(Call([("record_answer", {"question_id": "target_role", "answer": "ML engineer"})]), Say("Noted."))  # fmt: skip
        assert engine.handle_sync("quin", "I am an ML engineer").text.endswith("Noted.")
        from langsmith.run_trees import get_cached_client

        # flush() returns once everything queued has been sent: nothing to wait for after it.
        get_cached_client().flush()
        assert [
            path for path in received if "runs" in path
        ] == []  # /info is the client's own probe
    finally:
        server.shutdown()


def test_a_model_that_says_nothing_leaves_the_current_question(
    engine: Engine, fake: FakeOpenAI
) -> None:
    fake.queue(Say(""))
    reply = engine.handle_sync("ray", "Hello")
    assert "Which role are you aiming for" in reply.text
