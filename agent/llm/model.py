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
such as scoring or reading a connector, is added back); retries (with retry-after) happen only
within what is left; a response must end with a finish reason and well-formed tool calls
(`agent.llm.calls` holds these mechanics). The endpoint is probed for tool calling before its
first turn (`warm_up` can do it at start) and again after a failure that may come from
missing tool support. A circuit breaker stops calling an endpoint that keeps failing. Failures
are recorded in full in the log file (`agent.llm.faults`); the person reads one line.
LangChain is imported only when a model is first used.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from agent.config import Settings
from agent.llm.calls import (
    LIMITS,
    MIN_ATTEMPT_S,
    PROBE_TOOL,
    TOOL_TEXT,
    BadOutput,
    DeadlinePassed,
    Limits,
    ToolsAsText,
    Usage,
    check_output,
    http_client,
    last_ai,
    retryable,
    usage_counter,
    wait_for,
    within,
)
from agent.llm.faults import FailureLog

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.llm.tools import LlmContext

log = logging.getLogger(__name__)
T = TypeVar("T")
PROBE_PROMPT = (
    f"Automatic check of tool calling: call the {PROBE_TOOL} tool with ok=true; write no text."
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
class Outcome:
    text: str
    messages: list[BaseMessage]
    usage: Usage = field(default_factory=Usage)


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
        self._probe_lock = threading.RLock()
        self._verdict: threading.Event | None = None  # set when a background re-probe is done

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
                    http_client=http_client(),
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
                    return self.call(lambda: handler(request), lambda r: check_output(last_ai(r)))

                @wrap_tool_call
                def untimed(request: Any, handler: Callable[[Any], Any]) -> Any:
                    """Our own tools (scoring, a connector, a first index build) do not use up
                    the model's deadline: the time they take is added back to it."""
                    limits = LIMITS.get()
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
        limits = LIMITS.get()
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
                if tries >= self.settings.llm_max_retries or not retryable(exc):
                    raise
                wait = wait_for(exc, tries)
                if limits is not None and wait + MIN_ATTEMPT_S > limits.remaining():
                    raise  # no time left to wait and try again: fail now, fall back now
                self.failures.record("model call failed; trying again", exc, wait_s=round(wait, 2))
                time.sleep(wait)
                tries += 1

    def run(self, ctx: LlmContext, messages: Sequence[BaseMessage], limits: Limits) -> Outcome:
        """One agent run (model calls and tool calls) for one message of the person."""
        config = {
            "callbacks": [usage_counter(limits)],
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

        config = {"callbacks": [usage_counter(limits)]}
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

    def warm_up(self) -> None:
        """Import and build the agent and probe tool calling before the first message (a
        front end may call this from a background thread at start); never raises."""
        try:
            self.agent()
            with within(self.limits()), self._probe_lock:
                if not self._probed:
                    self.probe()
        except Exception as exc:  # a warm-up is best effort: the first turn tries again
            self.failures.record("warm-up failed", exc, endpoint=self.endpoint)

    def ensure_tools(self) -> None:
        """Probe the endpoint for tool calling before its first turn; raise if it has none."""
        verdict = self._verdict
        if verdict is not None:  # a probe started by the last failure: wait for its verdict
            verdict.wait(self.settings.llm_turn_deadline_s)
        with self._probe_lock:  # a warm-up probing now is waited for
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
            limits = LIMITS.get() or self.limits()
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
            config = {"callbacks": [usage_counter(limits)]}
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
            if TOOL_TEXT.search(_text(answer)):
                return self._no_tools("it writes tool calls as text instead of making them", None)
            return self._no_tools(
                "it answered with text and ignored the tools it was offered", None
            )

    def _no_tools(self, why: str, exc: BaseException | None) -> bool:
        self.disabled = (
            f"The model {self.endpoint} cannot call tools: {why[:160]}. The guided questions "
            f"are used instead. {NO_TOOLS_HELP}"
        )
        self.failures.record("no tool support", exc, endpoint=self.endpoint, why=why)
        return False

    def after_failure(self, exc: LlmUnavailable) -> None:
        """Count a failed turn; probe again once when it may come from missing tool support.

        The probe runs in the background so the guided answer is not delayed by it; the next
        turn waits for its verdict."""
        self.breaker.failure(exc.permanent)
        if exc.tools and self._reprobe and not self.disabled:
            self._reprobe = False
            # The next turn waits for this event, however long the thread takes to start.
            verdict = threading.Event()
            self._verdict = verdict

            def probe_again() -> None:
                try:
                    with self._probe_lock, within(self.limits()):
                        self.probe()
                finally:
                    verdict.set()

            threading.Thread(target=probe_again, name="llm-probe", daemon=True).start()

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
