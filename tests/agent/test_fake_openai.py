"""The real openai and langchain-openai clients against the fake Chat Completions server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from langchain_core.exceptions import (
    ModelAuthenticationError,
    ModelConnectionError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletionMessageFunctionToolCall, ChatCompletionMessageParam

from tests.fakes.openai_server import (
    NO_REPLY,
    PROBE_TOOL,
    Call,
    Cut,
    Fail,
    FakeOpenAI,
    Hang,
    KeepAlive,
    Say,
    Trickle,
    count_tokens,
    prompt_text,
)

KEY = "test-key"
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello, model!"}]


@tool
def lookup_skill(skill: str, level: int = 1) -> str:
    """Look up how the market values a skill at a level."""
    return f"{skill} at level {level} is in demand"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as server:
        yield server


LONGER_THAN_ANY_TIMEOUT_S = 120.0  # the fake stops hanging when it closes, so this costs nothing


def client(fake: FakeOpenAI, *, timeout: float = 30, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=fake.base_url, api_key=KEY, timeout=timeout, max_retries=max_retries
    )


def chat_model(fake: FakeOpenAI, **options: Any) -> ChatOpenAI:
    settings: dict[str, Any] = {"timeout": 30, "max_retries": 0, **options}
    return ChatOpenAI(base_url=fake.base_url, api_key=KEY, model="fake", **settings)


# The openai client ---------------------------------------------------------------------------


def test_a_plain_reply_carries_the_model_ids_and_usage(fake: FakeOpenAI) -> None:
    fake.queue(Say("Hi there, human."))
    reply = client(fake).chat.completions.create(model="gpt-test", messages=HELLO)
    assert reply.id == "chatcmpl-1" and reply.model == "gpt-test"
    choice = reply.choices[0]
    assert choice.message.content == "Hi there, human." and choice.finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (4, 5)
    assert fake.usage == [(4, 5)] and fake.prompt_tokens_total == 4
    request = fake.requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert fake.calls == 1 and fake.last_messages() == HELLO


def test_tool_calls_come_back_with_unique_ids_and_json_arguments(fake: FakeOpenAI) -> None:
    fake.queue(Call([("lookup_skill", {"skill": "mlops"}), ("lookup_skill", {"skill": "sql"})]))
    reply = client(fake).chat.completions.create(model="fake", messages=HELLO)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [c.id for c in calls] == ["call_1", "call_2"]
    assert all(isinstance(c, ChatCompletionMessageFunctionToolCall) for c in calls)
    arguments = [json.loads(c.function.arguments) for c in calls if c.type == "function"]
    assert arguments == [{"skill": "mlops"}, {"skill": "sql"}]


def test_a_stream_ends_with_a_usage_chunk_when_asked(fake: FakeOpenAI) -> None:
    fake.queue(Say("One two three four."))
    stream = client(fake).chat.completions.create(
        model="fake",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert {c.id for c in chunks} == {"chatcmpl-1"}
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three four."
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == count_tokens(text) == 5
    assert all(c.usage is None for c in chunks[:-1])


def test_a_stream_without_include_usage_has_no_usage_chunk(fake: FakeOpenAI) -> None:
    fake.queue(Say("Short."))
    chunks = list(client(fake).chat.completions.create(model="fake", messages=HELLO, stream=True))
    assert all(c.choices and c.usage is None for c in chunks)


def test_streamed_tool_call_arguments_arrive_in_pieces(fake: FakeOpenAI) -> None:
    arguments = {"skill": "kubernetes", "level": 4, "note": "a long argument to split"}
    fake.queue(Call([("lookup_skill", arguments)], content="Checking."))
    stream = client(fake).chat.completions.create(model="fake", messages=HELLO, stream=True)
    deltas = [d for chunk in stream for d in chunk.choices[0].delta.tool_calls or []]
    assert len(deltas) > 2, "arguments should be split over several chunks"
    assert deltas[0].id == "call_1" and deltas[0].function is not None
    assert deltas[0].function.name == "lookup_skill"
    assert all(d.index == 0 and d.id is None for d in deltas[1:])
    joined = "".join(d.function.arguments or "" for d in deltas if d.function)
    assert json.loads(joined) == arguments


def test_the_models_endpoint_lists_one_model(fake: FakeOpenAI) -> None:
    assert [m.id for m in client(fake).models.list()] == ["fake"]
    assert fake.calls == 0, "only chat completion requests count as calls"


def test_a_wrong_key_is_refused_without_using_the_script(fake: FakeOpenAI) -> None:
    fake.queue(Say("for the right key"))
    wrong = openai.OpenAI(base_url=fake.base_url, api_key="sk-wrong", max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model="fake", messages=HELLO)
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    assert fake.pending == 1


def test_a_429_retry_after_is_honoured(fake: FakeOpenAI) -> None:
    fake.queue(Fail(429, retry_after=0.3), Say("second time lucky"))
    started = time.monotonic()
    reply = client(fake, max_retries=1).chat.completions.create(model="fake", messages=HELLO)
    assert time.monotonic() - started >= 0.3
    assert reply.choices[0].message.content == "second time lucky"
    assert fake.calls == 2
    assert fake.requests[1].headers["x-stainless-retry-count"] == "1"


def test_a_429_without_retries_is_a_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.queue(Fail(429, "Slow down.", retry_after=5))
    with pytest.raises(openai.RateLimitError) as caught:
        client(fake).chat.completions.create(model="fake", messages=HELLO)
    assert caught.value.message == "Error code: 429 - Slow down."
    assert caught.value.response.headers["retry-after"] == "5"


def test_a_500_is_an_internal_server_error(fake: FakeOpenAI) -> None:
    fake.queue(Fail(500))
    with pytest.raises(openai.InternalServerError) as caught:
        client(fake).chat.completions.create(model="fake", messages=HELLO)
    assert caught.value.type == "server_error"


def test_a_hang_times_out_without_blocking_other_requests(fake: FakeOpenAI) -> None:
    # The hanging request waits with a long timeout, so it is still hanging, whatever the
    # machine's speed, when the second request is answered; the fake ends it when it closes.
    fake.queue(Hang(LONGER_THAN_ANY_TIMEOUT_S), Say("meanwhile"))
    errors: list[Exception] = []

    def hanging() -> None:
        try:
            client(fake, timeout=LONGER_THAN_ANY_TIMEOUT_S).chat.completions.create(
                model="fake", messages=HELLO
            )
        except openai.OpenAIError as exc:
            errors.append(exc)

    thread = threading.Thread(target=hanging, daemon=True)
    thread.start()
    while fake.pending == 2:  # wait until the hanging request took its action
        time.sleep(0.01)
    reply = client(fake).chat.completions.create(model="fake", messages=HELLO)
    assert reply.choices[0].message.content == "meanwhile"
    assert thread.is_alive() and errors == [], "a hanging request held up another one"
    # A short timeout ends a hang: after the timeout, long before the hang would end.
    fake.queue(Hang(LONGER_THAN_ANY_TIMEOUT_S))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(fake, timeout=0.8).chat.completions.create(model="fake", messages=HELLO)
    assert 0.8 <= time.monotonic() - started < LONGER_THAN_ANY_TIMEOUT_S


def test_a_cut_stream_is_a_connection_error(fake: FakeOpenAI) -> None:
    fake.queue(Cut(after_chunks=2))
    stream = client(fake).chat.completions.create(model="fake", messages=HELLO, stream=True)
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["", "This "]
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)


def test_a_cut_body_is_a_connection_error(fake: FakeOpenAI) -> None:
    fake.queue(Cut())
    with pytest.raises(openai.APIConnectionError) as caught:
        client(fake).chat.completions.create(model="fake", messages=HELLO)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert fake.usage == [], "a reply the client never got is not counted"


def test_the_responder_answers_when_the_queue_is_empty() -> None:
    def echo(request: dict[str, Any]) -> Say:
        return Say(f"you said: {request['messages'][-1]['content']}")

    with FakeOpenAI(api_key=None, responder=echo) as fake:
        fake.queue(Say("scripted first"))
        api = openai.OpenAI(base_url=fake.base_url, api_key="anything", max_retries=0, timeout=30)
        answers = [
            api.chat.completions.create(model="fake", messages=HELLO).choices[0].message.content
            for _ in range(2)
        ]
    assert answers == ["scripted first", "you said: Hello, model!"]


def test_without_script_or_responder_it_says_so(fake: FakeOpenAI) -> None:
    reply = client(fake).chat.completions.create(model="fake", messages=HELLO)
    assert reply.choices[0].message.content == NO_REPLY


def test_concurrent_requests_each_take_one_action(fake: FakeOpenAI) -> None:
    fake.queue(*(Say(f"answer {i}") for i in range(8)))
    api = client(fake)
    answers: list[str | None] = []
    lock = threading.Lock()

    def ask() -> None:
        reply = api.chat.completions.create(model="fake", messages=HELLO)
        with lock:
            answers.append(reply.choices[0].message.content)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers, key=str) == sorted((f"answer {i}" for i in range(8)), key=str)
    assert fake.pending == 0


# langchain-openai --------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_chat_openai_tool_calls_and_usage(fake: FakeOpenAI, streaming: bool) -> None:
    fake.queue(Call([("lookup_skill", {"skill": "mlops", "level": 3})], content="Let me look."))
    model = chat_model(fake, streaming=streaming, stream_usage=True).bind_tools([lookup_skill])
    reply = model.invoke("How valuable is MLOps?")
    assert isinstance(reply, AIMessage) and reply.content == "Let me look."
    assert reply.tool_calls == [
        {"name": "lookup_skill", "args": {"skill": "mlops", "level": 3}, "id": "call_1",
         "type": "tool_call"}
    ]  # fmt: skip
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert reply.usage_metadata is not None
    prompt, completion = fake.usage[0]
    assert reply.usage_metadata["input_tokens"] == prompt
    assert reply.usage_metadata["output_tokens"] == completion
    request = fake.requests[-1].body
    assert request["stream"] is streaming
    assert request["tools"][0]["function"]["name"] == "lookup_skill"


def test_chat_openai_streams_text_with_usage_in_its_own_chunk(fake: FakeOpenAI) -> None:
    fake.queue(Say("Docker matters a lot."))
    chunks = list(chat_model(fake, streaming=True, stream_usage=True).stream("Docker?"))
    assert "".join(str(c.content) for c in chunks) == "Docker matters a lot."
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1 and with_usage[0] is not chunks[-1]
    assert with_usage[0].usage_metadata is not None
    assert with_usage[0].usage_metadata["output_tokens"] == 5
    assert fake.requests[-1].body["stream_options"] == {"include_usage": True}


def test_chat_openai_on_a_custom_base_url_streams_no_usage_by_default(fake: FakeOpenAI) -> None:
    fake.queue(Say("No usage for you."))
    reply = chat_model(fake, streaming=True).invoke("Hi")
    assert reply.content == "No usage for you." and reply.usage_metadata is None
    assert "stream_options" not in fake.requests[-1].body


def test_a_tool_loop_shows_the_model_arguments_results_and_tools(fake: FakeOpenAI) -> None:
    fake.queue(Call([("lookup_skill", {"skill": "sql"})]), Say("SQL is in demand."))
    model = chat_model(fake).bind_tools([lookup_skill])
    messages: list[Any] = [HumanMessage("Is SQL worth it?")]
    first = model.invoke(messages)
    assert isinstance(first, AIMessage)
    call = first.tool_calls[0]
    messages += [first, ToolMessage(lookup_skill.invoke(call["args"]), tool_call_id=call["id"])]
    assert model.invoke(messages).content == "SQL is in demand."
    sent = fake.last_messages()
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1" and sent[2]["tool_call_id"] == "call_1"
    text = fake.all_text()
    assert "sql at level 1 is in demand" in text and '"skill": "sql"' in text
    assert "Look up how the market values a skill" in text
    assert "sk-secret" not in text
    assert fake.usage[1][0] == count_tokens(prompt_text(fake.requests[-1].body))
    assert fake.prompt_tokens_total == sum(p for p, _ in fake.usage)


def test_chat_openai_errors_keep_the_openai_types(fake: FakeOpenAI) -> None:
    wrong = ChatOpenAI(base_url=fake.base_url, api_key="sk-wrong", model="fake", timeout=30,
                       max_retries=0)  # fmt: skip
    with pytest.raises(openai.AuthenticationError) as refused:
        wrong.invoke("Hi")
    assert isinstance(refused.value, ModelAuthenticationError)
    fake.queue(Fail(429, retry_after=0.1))
    with pytest.raises(openai.RateLimitError) as limited:
        chat_model(fake).invoke("Hi")
    assert isinstance(limited.value, ModelRateLimitError)
    fake.queue(Hang(LONGER_THAN_ANY_TIMEOUT_S))
    with pytest.raises(openai.APITimeoutError) as hung:
        chat_model(fake, timeout=0.5).invoke("Hi")
    assert isinstance(hung.value, ModelTimeoutError)
    fake.queue(Cut())
    with pytest.raises(openai.APIConnectionError) as cut:
        chat_model(fake, streaming=True).invoke("Hi")
    assert isinstance(cut.value, ModelConnectionError)


def test_chat_openai_retries_a_429_after_the_delay_asked(fake: FakeOpenAI) -> None:
    fake.queue(Fail(429, retry_after=0.3), Say("ok"))
    started = time.monotonic()
    assert chat_model(fake, max_retries=1).invoke("Hi").content == "ok"
    assert time.monotonic() - started >= 0.3 and fake.calls == 2


def test_servers_with_broken_tool_calling_and_no_usage() -> None:
    probe = {"type": "function", "function": {"name": PROBE_TOOL, "parameters": {"type": "object", "properties": {}}}}  # fmt: skip
    ask: dict[str, Any] = {"model": "m", "messages": HELLO, "tools": [probe]}
    with FakeOpenAI(api_key=KEY, tool_support="rejected") as fake:
        with pytest.raises(openai.BadRequestError, match="enable-auto-tool-choice"):
            client(fake).chat.completions.create(**ask)
        assert len(fake.probes) == 1 and fake.calls == 0  # probes are kept apart
    with FakeOpenAI(api_key=KEY, tool_support="as_text", report_usage=False) as fake:
        fake.queue(Call([("lookup_skill", {"skill": "docker"})]))
        answer = client(fake).chat.completions.create(model="m", messages=HELLO)
        assert answer.choices[0].message.tool_calls is None and answer.usage is None
        assert answer.choices[0].message.content == (
            '<tool_call>{"name": "lookup_skill", "arguments": {"skill": "docker"}}</tool_call>'
        )
    with FakeOpenAI(api_key=KEY, tool_support="ignored") as fake:
        fake.queue(Call([("lookup_skill", {"skill": "docker"})], content="Docker is popular."))
        answer = client(fake).chat.completions.create(model="m", messages=HELLO)
        assert answer.choices[0].message.content == "Docker is popular."


def test_slow_streams_and_clean_cuts() -> None:
    with FakeOpenAI(api_key=KEY) as fake:
        fake.queue(Trickle("one two three", 0.2), KeepAlive(0.4, 0.1), Cut(after_chunks=2, chunked=False))  # fmt: skip
        started = time.monotonic()
        words = [c.choices[0].delta.content for c in client(fake).chat.completions.create(model="m", messages=HELLO, stream=True) if c.choices]  # fmt: skip
        assert "".join(w or "" for w in words).split() == ["one", "two", "three"]
        assert time.monotonic() - started >= 0.6
        started = time.monotonic()
        chunks = list(client(fake).chat.completions.create(model="m", messages=HELLO, stream=True))
        assert time.monotonic() - started >= 0.4 and chunks[-1].choices[0].finish_reason == "stop"
        # A close-delimited stream that is cut ends cleanly: no finish reason, no error.
        cut = list(client(fake).chat.completions.create(model="m", messages=HELLO, stream=True))
        assert all(c.choices[0].finish_reason is None for c in cut if c.choices)
