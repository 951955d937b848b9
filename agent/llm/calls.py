"""One model call inside one turn: the deadline, retries, output checks and token counts.

A turn gets `Limits` (a wall-clock deadline and the tokens left today) and runs its model
calls `within` them. The HTTP client cuts each request's connect and read timeouts to what is
left and a watchdog closes a response still streaming at the deadline (a trickle of words,
keep-alive comments). A response must end with a finish reason and well-formed tool calls,
else it is `BadOutput`; a tool call printed as text is `ToolsAsText` (the server does not
parse tool calls). Which failures are worth another try, and how long to wait, is decided
here; `LanguageModel.call` runs the loop. Tokens are taken from the server's usage, or
estimated from characters when a server reports none.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)
PROBE_TOOL = "skillaudit_probe"

MIN_ATTEMPT_S = 1.0  # a retry is only worth starting with at least this much time left
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 4.0)


OK_FINISH = frozenset({"stop", "tool_calls", "function_call", "eos", "eos_token", "end_turn"})
# What a model prints when the server does not turn its tool calls into `tool_calls`.
TOOL_TEXT = re.compile(
    r"<tool_call>|<\|tool_call|\[TOOL_CALLS\]|<function=|<\|python_tag\|>"
    r"|\"name\"\s*:\s*\"(?:record_answer|record_skill|ask_consent|run_connector|run_audit|"
    rf"explain_score|search_courses|make_plan|show_schedule|{PROBE_TOOL})\""
)


class BadOutput(Exception):
    """A response that cannot be used: cut short, or with malformed tool calls."""


class ToolsAsText(BadOutput):
    """The model wrote its tool call as text: the server does not parse tool calls."""


class DeadlinePassed(Exception):
    """The turn's deadline passed while a response was still being read."""


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


LIMITS: contextvars.ContextVar[Limits | None] = contextvars.ContextVar(
    "skillaudit_llm_limits", default=None
)


@contextlib.contextmanager
def within(limits: Limits) -> Iterator[Limits]:
    """Make `limits` apply to every model request made inside the block (this context)."""
    token = LIMITS.set(limits)
    try:
        yield limits
    finally:
        LIMITS.reset(token)


def estimate_tokens(text: str) -> int:
    """About four characters a token: what is counted when a server reports no usage."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _message_chars(message: Any) -> str:
    parts = [str(getattr(message, "content", "") or "")]
    for call in getattr(message, "tool_calls", None) or []:
        parts.append(json.dumps(call.get("args", {}), default=str))
    return "\n".join(parts)


def usage_counter(limits: Limits) -> Any:
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


def http_client() -> Any:
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
            limits = LIMITS.get()
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


def retryable(exc: BaseException) -> bool:
    import httpx2
    import openai

    if isinstance(exc, ToolsAsText | DeadlinePassed):
        return False
    if isinstance(exc, BadOutput):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | httpx2.TransportError)


def wait_for(exc: BaseException, attempt: int) -> float:
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
    if not calls and TOOL_TEXT.search(content):
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


def last_ai(result: Any) -> Any:
    messages = getattr(result, "result", None)
    if messages is None:
        return result
    return next((m for m in reversed(messages) if getattr(m, "type", "") == "ai"), None)
