"""The configured chat model and the agent loop, shared by every turn of the process.

`ChatOpenAI` talks to any OpenAI-compatible endpoint with explicit connect and read
timeouts and a small number of retries (the client backs off and honours retry-after);
a circuit breaker stops calling an endpoint that keeps failing, so people get the guided
interviewer at once instead of waiting for timeouts. LangChain is imported only when a
model is configured and first used.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.config import Settings

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.llm.tools import LlmContext

log = logging.getLogger(__name__)


class LlmUnavailable(Exception):
    """The model could not answer this turn; `notice` says so in plain words."""

    def __init__(self, notice: str, permanent: bool = False) -> None:
        super().__init__(notice)
        self.notice = notice
        self.permanent = permanent


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

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Outcome:
    text: str
    messages: list[BaseMessage]
    usage: Usage = field(default_factory=Usage)


def _usage_counter(usage: Usage) -> Any:
    """A callback that adds every model call's token counts (as the server reported them)."""
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.outputs import ChatGeneration, LLMResult

    class Counter(BaseCallbackHandler):
        def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
            usage.calls += 1
            for generations in response.generations:
                for generation in generations:
                    meta = (
                        getattr(generation.message, "usage_metadata", None)
                        if isinstance(generation, ChatGeneration)
                        else None
                    )
                    if meta:
                        usage.prompt_tokens += int(meta.get("input_tokens", 0))
                        usage.completion_tokens += int(meta.get("output_tokens", 0))

    return Counter()


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
        self._agent: Any = None
        self._chat: Any = None
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self.settings.describe_llm()

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
                    max_retries=s.llm_max_retries,
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
                )

                from agent.llm.tools import TOOLS, LlmContext, answered_with_the_call, phase_tools

                steps = self.settings.llm_max_steps
                limits: list[Any] = [
                    ToolCallLimitMiddleware(run_limit=steps, exit_behavior="error"),
                    ModelCallLimitMiddleware(run_limit=steps + 1, exit_behavior="error"),
                ]
                if not self.naive:
                    limits += [phase_tools, answered_with_the_call]
                self._agent = create_agent(
                    chat,
                    tools=list(TOOLS),
                    middleware=limits,
                    context_schema=LlmContext,
                )
            return self._agent

    def run(self, ctx: LlmContext, messages: Sequence[BaseMessage], usage: Usage) -> Outcome:
        """One agent run (model calls and tool calls) for one message of the person."""
        config = {
            "callbacks": [_usage_counter(usage)],
            "recursion_limit": 4 * self.settings.llm_max_steps + 4,
            # Tool calls of one model response run one at a time, in order: they share the
            # turn's database session, and "record the role" must precede "rate its skills".
            "max_concurrency": 1,
        }
        try:
            with _no_tracing():
                state = self.agent().invoke(
                    {"messages": list(messages)}, config=config, context=ctx
                )
        except Exception as exc:
            raise _unavailable(exc) from exc
        out: list[BaseMessage] = state["messages"]
        reply = next((m for m in reversed(out) if m.type == "ai"), None)
        return Outcome(text=_text(reply) if reply is not None else "", messages=out, usage=usage)

    def rewrite(self, messages: Sequence[BaseMessage], correction: str, usage: Usage) -> str:
        """Ask once more, without tools, for a reply that keeps to the tool results."""
        from langchain_core.messages import HumanMessage

        config = {"callbacks": [_usage_counter(usage)]}
        try:
            with _no_tracing():
                answer = self.chat_model().invoke(
                    [*messages, HumanMessage(content=correction)], config=config
                )
        except Exception as exc:
            raise _unavailable(exc) from exc
        return _text(answer)


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


def _unavailable(exc: Exception) -> LlmUnavailable:
    """What went wrong, for the person (no details that could carry secrets)."""
    import openai

    name = type(exc).__name__
    log.warning("language model call failed: %s", name, exc_info=exc)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LlmUnavailable("the language model service refused the configured key", True)
    if isinstance(exc, openai.RateLimitError):
        return LlmUnavailable("the language model service is busy (rate limited)")
    if isinstance(exc, openai.APITimeoutError):
        return LlmUnavailable("the language model did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return LlmUnavailable("the language model service cannot be reached")
    if isinstance(exc, openai.APIStatusError):
        return LlmUnavailable(f"the language model service failed (HTTP {exc.status_code})")
    if "Limit" in name or "Recursion" in name:
        return LlmUnavailable("the language model took too many steps for one message")
    return LlmUnavailable("the language model's answer could not be used")
