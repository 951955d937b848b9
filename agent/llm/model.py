"""The configured chat model and the agent loop, shared by every turn of the process.

```mermaid
flowchart LR
    turn[one message] --> limits[deadline and tokens left] --> call[model call]
    call -- 429/5xx/timeout/cut, time left --> wait[retry-after or backoff] --> call
    call -- no finish reason, bad tool call --> call
    call -- tool call written as text --> off[no tool support: guided from now on]
    call -- deadline passed --> fail[LlmUnavailable: one line + log file]
```

`ChatOpenAI` talks to any OpenAI-compatible endpoint. One wall-clock deadline per turn
(`Settings.llm_turn_deadline_s`) bounds the model's part of it (the time our own tools take,
such as scoring or reading a connector, is added back): each request's connect and read timeouts
are cut to what is left, a watchdog closes a response that is still streaming when the time
is up (a trickle of words or of keep-alive comments), and retries (with retry-after) happen
only within what is left. A response must end with a finish reason and well-formed tool calls,
or the call failed. The endpoint is probed once for tool calling before its first turn (and
again after a failure that may come from missing tool support). A circuit breaker stops
calling an endpoint that keeps failing. LangChain is imported only when a model is first used.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import math
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from agent.config import Settings
from agent.llm.faults import FailureLog

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.llm.tools import LlmContext

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_ATTEMPT_S = 1.0  # a retry is only worth starting with at least this much time left
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 4.0)
PROBE_TOOL = "skillaudit_probe"
PROBE_PROMPT = (
    f"Automatic check of tool calling: call the {PROBE_TOOL} tool with ok=true; write no text."
)
OK_FINISH = frozenset({"stop", "tool_calls", "function_call", "eos", "eos_token", "end_turn"})
# What a model prints when the server does not turn its tool calls into `tool_calls`.
_TOOL_TEXT = re.compile(
    r"<tool_call>|<\|tool_call|\[TOOL_CALLS\]|<function=|<\|python_tag\|>"
    r"|\"name\"\s*:\s*\"(?:record_answer|record_skill|ask_consent|run_connector|run_audit|"
    rf"explain_score|search_courses|make_plan|show_schedule|{PROBE_TOOL})\""
)
NO_TOOLS_HELP = (
    "For vLLM start it with --enable-auto-tool-choice --tool-call-parser NAME, for llama.cpp "
    "with --jinja, for Ollama pick a model with tool support."
)


class LlmUnavailable(Exception):
    """The model could not answer this turn; `notice` says so in plain words.

    `permanent`: retrying will not help (a refused key, no tool support). `tools`: the
    failure may come from missing tool support, so the endpoint is probed again.
    """

    def __init__(self, notice: str, permanent: bool = False, tools: bool = False) -> None:
        super().__init__(notice)
        self.notice = notice
        self.permanent = permanent
        self.tools = tools


class BadOutput(Exception):
    """A response that cannot be used: cut short, or with malformed tool calls."""


class ToolsAsText(BadOutput):
    """The model wrote its tool call as text: the server does not parse tool calls."""


class DeadlinePassed(Exception):
    """The turn's deadline passed while a response was still being read."""


class CircuitBreaker:
    """Open after `threshold` failed turns in a row; let one turn try again after `cooldown_s`."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            return self.clock() - self.opened_at >= self.cooldown_s  # half-open: one more try

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def failure(self, permanent: bool = False) -> None:
        with self._lock:
            self.failures += 1
            if permanent or self.failures >= self.threshold:
                self.opened_at = self.clock()

    @property
    def open(self) -> bool:
        return not self.allow()


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # some calls reported no usage: counted from characters

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Limits:
    """What one turn may still spend: wall-clock time and tokens."""

    deadline: float  # time.monotonic() value
    usage: Usage = field(default_factory=Usage)
    tokens_left: float = math.inf  # today's allowance minus what was spent before this turn
    calls: int = 0  # model calls of the agent loop started so far
    malformed: str | None = None  # set by the usage counter when streamed arguments were cut

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_LIMITS: contextvars.ContextVar[Limits | None] = contextvars.ContextVar(
    "skillaudit_llm_limits", default=None
)


@contextlib.contextmanager
def within(limits: Limits) -> Iterator[Limits]:
    """Make `limits` apply to every model request made inside the block (this context)."""
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


@dataclass
class Outcome:
    text: str
    messages: list[BaseMessage]
    usage: Usage = field(default_factory=Usage)


def estimate_tokens(text: str) -> int:
    """About four characters a token: what is counted when a server reports no usage."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _message_chars(message: Any) -> str:
    parts = [str(getattr(message, "content", "") or "")]
    for call in getattr(message, "tool_calls", None) or []:
        parts.append(json.dumps(call.get("args", {}), default=str))
    return "\n".join(parts)


def _usage_counter(limits: Limits) -> Any:
    """A callback adding every model call's tokens: as the server reported them, or, when it
    reported none, estimated from the characters sent (messages and tool schemas) and received.

    It also keeps the raw tool-call arguments of a streamed answer: LangChain "repairs" a call
    cut short ('{"a": "b' becomes {"a": "b"}), so whether the server sent whole JSON is only
    known here (`limits.malformed`)."""
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.outputs import (
        ChatGeneration,
        ChatGenerationChunk,
        GenerationChunk,
        LLMResult,
    )

    usage = limits.usage

    class Counter(BaseCallbackHandler):
        def __init__(self) -> None:
            self.sent: dict[Any, int] = {}
            self.raw: dict[tuple[Any, Any], str] = {}

        def on_llm_new_token(
            self,
            token: str | list[str | dict[str, Any]],
            *,
            chunk: GenerationChunk | ChatGenerationChunk | None = None,
            run_id: UUID,
            **kwargs: Any,
        ) -> None:
            if not isinstance(chunk, ChatGenerationChunk):
                return
            for piece in getattr(chunk.message, "tool_call_chunks", None) or []:
                key = (run_id, piece.get("index"))
                self.raw[key] = self.raw.get(key, "") + (piece.get("args") or "")

        def on_chat_model_start(
            self, serialized: dict[str, Any], messages: list[list[Any]], **kwargs: Any
        ) -> None:
            text = "\n".join(_message_chars(m) for batch in messages for m in batch)
            tools = (kwargs.get("invocation_params") or {}).get("tools") or []
            self.sent[kwargs.get("run_id")] = estimate_tokens(text + json.dumps(tools, default=str))

        def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
            usage.calls += 1
            run = kwargs.get("run_id")
            for key in [k for k in self.raw if k[0] == run]:
                try:
                    json.loads(self.raw.pop(key) or "{}")
                except ValueError:
                    limits.malformed = "the model sent tool-call arguments that are not whole JSON"
            sent = self.sent.pop(run, 0)
            reported = False
            received = ""
            for generations in response.generations:
                for generation in generations:
                    if not isinstance(generation, ChatGeneration):
                        continue
                    received += _message_chars(generation.message)
                    meta = getattr(generation.message, "usage_metadata", None)
                    if meta and (meta.get("input_tokens") or meta.get("output_tokens")):
                        reported = True
                        usage.prompt_tokens += int(meta.get("input_tokens", 0))
                        usage.completion_tokens += int(meta.get("output_tokens", 0))
            if not reported:
                usage.estimated = True
                usage.prompt_tokens += sent
                usage.completion_tokens += estimate_tokens(received)

    return Counter()


def _http_client() -> Any:
    """An HTTP client for the openai SDK that keeps every request inside the turn's deadline."""
    import httpx2
    import openai

    class DeadlineStream(httpx2.SyncByteStream):
        def __init__(self, inner: Any, limits: Limits, request: Any, sock: Any) -> None:
            self.inner, self.limits, self.request = inner, limits, request
            # At the deadline, shut the socket: a read blocked on a silent server returns.
            self.timer = threading.Timer(max(0.0, limits.remaining()), self._cut, (sock,))
            self.timer.daemon = True
            self.timer.start()

        @staticmethod
        def _cut(sock: Any) -> None:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        def _late(self) -> httpx2.ReadTimeout:
            return httpx2.ReadTimeout("the turn's deadline passed", request=self.request)

        def __iter__(self) -> Iterator[bytes]:
            try:
                for chunk in self.inner:
                    if self.limits.remaining() <= 0:
                        raise self._late()
                    yield chunk
            except httpx2.ReadTimeout:
                raise
            except (httpx2.HTTPError, OSError):
                if self.limits.remaining() <= 0:
                    raise self._late() from None
                raise
            if self.limits.remaining() <= 0:  # the watchdog ended a close-delimited body
                raise self._late()

        def close(self) -> None:
            self.timer.cancel()
            self.inner.close()

    class DeadlineClient(openai.DefaultHttpxClient):
        def send(self, request: Any, *, stream: bool = False, **kwargs: Any) -> Any:
            limits = _LIMITS.get()
            if limits is None:
                return super().send(request, stream=stream, **kwargs)
            left = limits.remaining()
            if left <= 0:
                raise httpx2.ReadTimeout("the turn's deadline passed", request=request)
            timeout = dict(request.extensions.get("timeout") or {})
            request.extensions["timeout"] = {
                k: min(v, left) if v is not None else left
                for k, v in {
                    **dict.fromkeys(("connect", "read", "write", "pool")),
                    **timeout,
                }.items()
            }
            response = super().send(request, stream=True, **kwargs)
            network = response.extensions.get("network_stream")
            sock = network.get_extra_info("socket") if network is not None else None
            response.stream = DeadlineStream(response.stream, limits, request, sock)
            if not stream:
                try:
                    response.read()
                finally:
                    response.close()
            return response

    return DeadlineClient()


def _retryable(exc: BaseException) -> bool:
    import httpx2
    import openai

    if isinstance(exc, ToolsAsText | DeadlinePassed):
        return False
    if isinstance(exc, BadOutput):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | httpx2.TransportError)


def _wait_for(exc: BaseException, attempt: int) -> float:
    """The pause before the next try: the server's retry-after, else a short backoff."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            value = headers.get(name)
            if value is None:
                continue
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                import email.utils

                when = email.utils.parsedate_to_datetime(value) if value else None
                if when is not None:
                    return max(0.0, when.timestamp() - time.time())
    return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]


def check_output(message: Any) -> None:
    """Raise BadOutput for a response that was cut short or carries unusable tool calls."""
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    calls = getattr(message, "tool_calls", None) or []
    if not calls and _TOOL_TEXT.search(content):
        raise ToolsAsText("the model wrote a tool call as text")
    if getattr(message, "invalid_tool_calls", None):
        raise BadOutput("the model sent tool calls whose arguments are not valid JSON")
    finish = (getattr(message, "response_metadata", None) or {}).get("finish_reason")
    if not finish:
        raise BadOutput("the response ended without a finish reason (cut off)")
    if finish == "length":
        raise BadOutput("the response was cut off at the token limit")
    if finish == "content_filter":
        raise BadOutput("the response was withheld by the service's content filter")
    if finish not in OK_FINISH:
        log.info("unknown finish reason %r accepted", finish)


def _last_ai(result: Any) -> Any:
    messages = getattr(result, "result", None)
    if messages is None:
        return result
    return next((m for m in reversed(messages) if getattr(m, "type", "") == "ai"), None)


class LanguageModel:
    """The chat model, the compiled agent and the breaker for one configured endpoint."""

    def __init__(
        self, settings: Settings, breaker: CircuitBreaker | None = None, naive: bool = False
    ) -> None:
        self.settings = settings
        self.breaker = breaker or CircuitBreaker()
        # The baseline of bench/bench_llm.py: resend the whole conversation, offer every tool.
        self.naive = naive
        # A per-process marker in the confidential part of the prompt: a reply containing it
        # has leaked that part.
        self.canary = f"CANARY-{secrets.token_hex(6)}"
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self.failures = FailureLog(settings.llm_log_file, secrets=(key,) if key else ())
        # Why this endpoint cannot be used until restart (no tool support), if it cannot.
        self.disabled: str | None = None
        self._probed = False
        self._reprobe = True  # probe again at the next failure that may be about tools
        self._told: dict[int, tuple[str, float | None]] = {}  # user -> notice last told
        self._agent: Any = None
        self._chat: Any = None
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self.settings.describe_llm()

    def limits(self, spent_today: int = 0) -> Limits:
        """A fresh budget for one turn: the deadline from now and the tokens left today."""
        cap = self.settings.llm_daily_tokens
        return Limits(
            deadline=time.monotonic() + self.settings.llm_turn_deadline_s,
            tokens_left=(cap - spent_today) if cap else math.inf,
        )

    def chat_model(self) -> Any:
        with self._lock:
            if self._chat is None:
                import openai
                from langchain_openai import ChatOpenAI

                s = self.settings
                key = s.openai_api_key.get_secret_value() if s.openai_api_key else "not-needed"
                self._chat = ChatOpenAI(
                    model=s.llm_model,
                    base_url=s.openai_base_url,
                    api_key=key,
                    timeout=openai.Timeout(s.llm_timeout_s, connect=s.llm_connect_timeout_s),
                    max_retries=0,  # retries are ours: they must fit in the turn's deadline
                    http_client=_http_client(),
                    streaming=s.llm_streaming,
                    stream_usage=True,
                    temperature=0.3,
                )
            return self._chat

    def agent(self) -> Any:
        chat = self.chat_model()
        with self._lock:
            if self._agent is None:
                from langchain.agents import create_agent
                from langchain.agents.middleware import (
                    ModelCallLimitMiddleware,
                    ToolCallLimitMiddleware,
                    wrap_model_call,
                    wrap_tool_call,
                )

                from agent.llm.tools import TOOLS, LlmContext, answered_with_the_call, phase_tools

                @wrap_model_call
                def guarded(request: Any, handler: Callable[[Any], Any]) -> Any:
                    """Each model call: within the deadline and allowance, retried, checked."""
                    return self.call(lambda: handler(request), lambda r: check_output(_last_ai(r)))

                @wrap_tool_call
                def untimed(request: Any, handler: Callable[[Any], Any]) -> Any:
                    """Our own tools (scoring, a connector, a first index build) do not use up
                    the model's deadline: the time they take is added back to it."""
                    limits = _LIMITS.get()
                    started = time.monotonic()
                    try:
                        return handler(request)
                    finally:
                        if limits is not None:
                            limits.deadline += time.monotonic() - started

                steps = self.settings.llm_max_steps
                limits: list[Any] = [
                    ToolCallLimitMiddleware(run_limit=steps, exit_behavior="error"),
                    ModelCallLimitMiddleware(run_limit=steps + 1, exit_behavior="error"),
                ]
                if not self.naive:
                    limits += [phase_tools, answered_with_the_call]
                limits += [guarded, untimed]
                self._agent = create_agent(
                    chat,
                    tools=list(TOOLS),
                    middleware=limits,
                    context_schema=LlmContext,
                )
            return self._agent

    def call(self, attempt: Callable[[], T], check: Callable[[T], None]) -> T:
        """Run one model call, retried on passing faults while the turn has time left."""
        limits = _LIMITS.get()
        tries = 0
        while True:
            if limits is not None:
                if limits.remaining() <= 0:
                    raise DeadlinePassed("the turn's deadline passed before the model answered")
                # A turn begun under the allowance makes its first call; later ones (tool
                # loops, rewrites) stop once today's tokens are spent.
                if limits.calls and limits.usage.total >= limits.tokens_left:
                    raise LlmUnavailable("today's language-model allowance is used up")
                limits.calls += 1
            try:
                result = attempt()
                if limits is not None and limits.malformed:
                    problem, limits.malformed = limits.malformed, None
                    raise BadOutput(problem)
                check(result)
                return result
            except Exception as exc:
                if tries >= self.settings.llm_max_retries or not _retryable(exc):
                    raise
                wait = _wait_for(exc, tries)
                if limits is not None and wait + MIN_ATTEMPT_S > limits.remaining():
                    raise  # no time left to wait and try again: fail now, fall back now
                self.failures.record("model call failed; trying again", exc, wait_s=round(wait, 2))
                time.sleep(wait)
                tries += 1

    def run(self, ctx: LlmContext, messages: Sequence[BaseMessage], limits: Limits) -> Outcome:
        """One agent run (model calls and tool calls) for one message of the person."""
        config = {
            "callbacks": [_usage_counter(limits)],
            "recursion_limit": 4 * self.settings.llm_max_steps + 4,
            # Tool calls of one model response run one at a time, in order: they share the
            # turn's database session, and "record the role" must precede "rate its skills".
            "max_concurrency": 1,
        }
        with within(limits):
            self.ensure_tools()
            try:
                with _no_tracing():
                    state = self.agent().invoke(
                        {"messages": list(messages)}, config=config, context=ctx
                    )
            except LlmUnavailable:
                raise
            except Exception as exc:
                raise self.unavailable(exc) from exc
        out: list[BaseMessage] = state["messages"]
        reply = next((m for m in reversed(out) if m.type == "ai"), None)
        return Outcome(
            text=_text(reply) if reply is not None else "", messages=out, usage=limits.usage
        )

    def rewrite(self, messages: Sequence[BaseMessage], correction: str, limits: Limits) -> str:
        """Ask once more, without tools, for a reply that keeps to the tool results."""
        from langchain_core.messages import HumanMessage

        config = {"callbacks": [_usage_counter(limits)]}
        chat = self.chat_model()
        with within(limits):
            try:
                with _no_tracing():
                    answer = self.call(
                        lambda: chat.invoke(
                            [*messages, HumanMessage(content=correction)], config=config
                        ),
                        check_output,
                    )
            except LlmUnavailable:
                raise
            except Exception as exc:
                raise self.unavailable(exc) from exc
        return _text(answer)

    # Tool support ---------------------------------------------------------------------------

    def ensure_tools(self) -> None:
        """Probe the endpoint for tool calling before its first turn; raise if it has none."""
        if not self._probed:
            self.probe()
        if self.disabled:
            raise LlmUnavailable(self.disabled, permanent=True)

    def probe(self) -> bool | None:
        """Ask for one tiny tool call: True if it came back as a call, False if the endpoint
        cannot call tools (then `disabled` says why), None if the probe itself failed."""
        from langchain_core.messages import HumanMessage, SystemMessage

        with self._probe_lock:
            self._probed = True
            limits = _LIMITS.get() or self.limits()
            tool = {
                "type": "function",
                "function": {
                    "name": PROBE_TOOL,
                    "description": "Confirm that tool calling works.",
                    "parameters": {
                        "type": "object",
                        "properties": {"ok": {"type": "boolean"}},
                        "required": ["ok"],
                    },
                },
            }
            messages = [
                SystemMessage(content=PROBE_PROMPT),
                HumanMessage(content="Check."),
            ]
            config = {"callbacks": [_usage_counter(limits)]}
            try:
                with within(limits), _no_tracing():
                    answer = self.chat_model().bind_tools([tool]).invoke(messages, config=config)
            except Exception as exc:
                import openai

                status = getattr(exc, "status_code", None)
                if isinstance(exc, openai.APIStatusError) and status in (400, 404, 422, 500, 501):
                    detail = _server_message(exc)
                    if status != 500 or "tool" in detail.lower():
                        return self._no_tools(
                            f"it refused tool calling (HTTP {status}: {detail})", exc
                        )
                self.failures.record("tool-calling probe inconclusive", exc, endpoint=self.endpoint)
                return None
            calls = [
                c for c in getattr(answer, "tool_calls", None) or [] if c.get("name") == PROBE_TOOL
            ]
            if calls:
                return True
            if _TOOL_TEXT.search(_text(answer)):
                return self._no_tools("it writes tool calls as text instead of making them", None)
            return self._no_tools(
                "it answered with text and ignored the tools it was offered", None
            )

    def _no_tools(self, why: str, exc: BaseException | None) -> bool:
        self.disabled = (
            f"The language model at {self.endpoint} cannot call tools ({why[:160]}), so the "
            f"guided questions are used. {NO_TOOLS_HELP}"
        )
        self.failures.record("no tool support", exc, endpoint=self.endpoint, why=why)
        return False

    def after_failure(self, exc: LlmUnavailable) -> None:
        """Count a failed turn; probe again once when it may come from missing tool support."""
        self.breaker.failure(exc.permanent)
        if exc.tools and self._reprobe and not self.disabled:
            self._reprobe = False
            self.probe()

    def after_success(self) -> None:
        self.breaker.success()
        self._reprobe = True

    def tell_once(self, user: int, notice: str) -> bool:
        """Whether `notice` is new for this user since the breaker last opened."""
        key = (notice, self.breaker.opened_at)
        if self._told.get(user) == key:
            return False
        self._told[user] = key
        return True

    def unavailable(self, exc: Exception) -> LlmUnavailable:
        """What went wrong, for the person (one line, no details); the whole story is logged."""
        import httpx2
        import openai

        self.failures.record(
            "model call failed", exc, endpoint=self.endpoint, kind=type(exc).__name__
        )
        log.info("language model call failed: %s", type(exc).__name__)
        name = type(exc).__name__
        if isinstance(exc, ToolsAsText):
            self._no_tools("it writes tool calls as text instead of making them", exc)
            return LlmUnavailable(self.disabled or "", permanent=True)
        if isinstance(exc, BadOutput):
            return LlmUnavailable(
                "the language model's answer was cut off or malformed", tools=True
            )
        if isinstance(exc, DeadlinePassed | httpx2.TimeoutException | openai.APITimeoutError):
            return LlmUnavailable("the language model did not answer in time")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return LlmUnavailable("the language model service refused the configured key", True)
        if isinstance(exc, openai.RateLimitError):
            return LlmUnavailable("the language model service is busy (rate limited)")
        if isinstance(exc, openai.APIConnectionError) and any(
            isinstance(cause, httpx2.ConnectError | ConnectionRefusedError)
            for cause in _causes(exc)
        ):
            return LlmUnavailable("the language model service cannot be reached")
        if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
            return LlmUnavailable("the connection to the language model broke off mid-answer")
        if isinstance(exc, openai.APIStatusError):
            return LlmUnavailable(
                f"the language model service failed (HTTP {exc.status_code})",
                tools=exc.status_code in (400, 404, 422),
            )
        if "Limit" in name or "Recursion" in name:
            return LlmUnavailable("the language model took too many steps for one message")
        return LlmUnavailable("the language model's answer could not be used", tools=True)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it, down the chain (LangChain wraps openai's errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _server_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return re.sub(r"\s+", " ", str(message))[:120]
    return str(getattr(exc, "message", "") or type(exc).__name__)[:120]


def _no_tracing() -> Any:
    """Conversations are personal: never send traces to LangSmith, whatever the environment
    says (LANGSMITH_TRACING); the only remote party is the configured model endpoint."""
    from langsmith import tracing_context

    return tracing_context(enabled=False)


def _text(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, list):  # content blocks
        content = "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return str(content).strip()
