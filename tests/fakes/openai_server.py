"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1 for the real openai clients.

Point `openai.OpenAI` or `langchain_openai.ChatOpenAI` at `fake.base_url` (".../v1"). It serves
POST /v1/chat/completions, plain (`chat.completion`) or streamed (SSE `chat.completion.chunk`
events ending in `data: [DONE]`, with a final usage chunk when `stream_options.include_usage`
is set), with text or tool calls in OpenAI's wire format, and GET /v1/models. Errors use
OpenAI's `{"error": {...}}` body; a wrong bearer token gets a 401.

POST /v1/embeddings answers with `hashed_embedding` of each input: a bag of hashed words,
so texts sharing words are near each other. It stands in for a remote embedding model in
tests of the wire format (no model runs); the data comes back in reverse order, as the API
allows, so a client must put it in order by `index`.

What it answers is scripted, not generated: each chat request takes the next action from the
queue (`fake.queue(Say(...), Call([...]), Fail(429, retry_after=0.2), Hang(2), Cut(),
Trickle(...), KeepAlive(...), RawCall(...))`), then asks `responder(request_json)`, then says
"(no scripted reply)". Every request is recorded (`requests`, `calls`, `last_messages()`,
`all_text()`) and usage is counted deterministically with `count_tokens` (see `prompt_text`),
so tests can assert budgets and that a secret never reached the model; with
`report_usage=False` it reports none, as some local servers do.

SkillAudit's tool-calling probe (a request offering only the tool `skillaudit_probe`) is
answered apart, without taking a queued action, and recorded in `probes`, not in
`chat_requests`. `tool_support` plays servers whose tool calling is broken:
"native" (calls come back as `tool_calls`), "rejected" (any request with `tools` gets vLLM's
400 for a server started without --enable-auto-tool-choice), "as_text" (the model prints
`<tool_call>{...}</tool_call>` in `content`, as with a wrong tool parser) and "ignored" (the
tools are dropped and the model answers in text, as llama.cpp does with a template that has
no tool support).

It does not fake: the Responses API, real embeddings, audio or images, `n > 1`, logprobs,
`tool_choice` or `response_format` enforcement (both are recorded, not obeyed), real
tokenisation, or OpenAI's rate-limit headers beyond `retry-after`.

    with FakeOpenAI() as fake:
        fake.queue(Call([("lookup", {"skill": "mlops"})]), Say("Done."))
        model = ChatOpenAI(base_url=fake.base_url, api_key="test-key", model="fake",
                           timeout=2, max_retries=0)
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import re
import socket
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from tests.fakes.http_base import TrackedHandler, TrackingServer

Json = dict[str, Any]

NO_REPLY = "(no scripted reply)"
TOKEN = re.compile(r"\w+|[^\w\s]")
ERROR_KINDS: dict[int, tuple[str, str | None, str]] = {  # status -> type, code, message
    400: ("invalid_request_error", None, "Bad request (injected by the fake)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", None, "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


# Actions: what the next chat completion request gets -------------------------------------------


@dataclass(frozen=True)
class Say:
    """Answer with this text (finish_reason "stop")."""

    content: str


@dataclass(frozen=True)
class Call:
    """Answer with tool calls, each (name, arguments), and optional text (finish_reason "tool_calls")."""

    calls: list[tuple[str, Json]]
    content: str = ""


@dataclass(frozen=True)
class Fail:
    """Answer with an HTTP error in OpenAI's format, optionally with a `retry-after` header."""

    status: int
    message: str = ""  # empty: a message typical for the status
    retry_after: float | None = None


@dataclass(frozen=True)
class Hang:
    """Wait this long (without blocking other requests), then answer with `then`."""

    seconds: float
    then: Action = Say("(late reply)")


@dataclass(frozen=True)
class Cut:
    """Start answering `content` (and `calls`), then drop the connection: after a few SSE
    events when streaming, or in the middle of a body shorter than its Content-Length.
    `chunked=False` streams without chunked encoding, so the cut looks like a clean end of
    the body (no finish reason, no `[DONE]`), as behind some proxies."""

    after_chunks: int = 2
    content: str = "This answer is cut off before it reaches its end."
    calls: list[tuple[str, Json]] = field(default_factory=list)
    chunked: bool = True


@dataclass(frozen=True)
class Trickle:
    """Stream `content` one word every `interval` seconds (a slow or rambling model)."""

    content: str
    interval: float


@dataclass(frozen=True)
class KeepAlive:
    """Send only SSE comments (": keep-alive") every `interval` seconds for `seconds`, then
    answer with `then`."""

    seconds: float
    interval: float = 0.2
    then: Say | Call = Say("(late reply)")


@dataclass(frozen=True)
class RawCall:
    """A tool call whose arguments are this raw text (not necessarily JSON)."""

    name: str
    arguments: str


Action = Say | Call | Fail | Hang | Cut | Trickle | KeepAlive | RawCall
PROBE_TOOL = "skillaudit_probe"  # the tool SkillAudit's tool-calling probe offers
VLLM_NO_AUTO_TOOLS = (
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
)
Responder = Callable[[Json], Action]


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it; header names are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Json


# Token counting --------------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    """Count words and punctuation marks: a deterministic stand-in for a tokenizer."""
    return len(TOKEN.findall(text))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts; only text parts carry text
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def prompt_text(body: Json) -> str:
    """Everything the model would read: message contents (tool results included), the
    arguments of earlier tool calls, and the JSON of the tool definitions."""
    parts: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        parts.append(_content_text(message.get("content")))
        for call in message.get("tool_calls") or []:
            parts.append(str(call.get("function", {}).get("arguments", "")))
    if body.get("tools"):
        parts.append(json.dumps(body["tools"]))
    return "\n".join(p for p in parts if p)


def _arguments(args: Json) -> str:
    return json.dumps(args, ensure_ascii=False, separators=(",", ":"))


# Replies: what the handler writes --------------------------------------------------------------


@dataclass(frozen=True)
class _JsonReply:
    status: int
    payload: Json
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _StreamReply:
    events: list[Json]
    complete: bool  # False: drop the connection after the events, without [DONE]
    chunked: bool = True  # False: close-delimited body (the end of the body is the close)
    interval: float = 0.0  # seconds between events
    comments: float = 0.0  # seconds of ": keep-alive" comments before the first event
    comment_every: float = 0.2


@dataclass(frozen=True)
class _TruncatedReply:
    data: bytes  # the whole body; only its first half is sent


Reply = _JsonReply | _StreamReply | _TruncatedReply


EMBEDDING_DIMENSIONS = 256


def hashed_embedding(text: str) -> list[float]:
    """A unit vector with one signed unit per word, at a place chosen by the word's hash."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % EMBEDDING_DIMENSIONS] += (
            1.0 if digest[4] % 2 else -1.0
        )
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _embeddings_reply(body: Json | None) -> Reply:
    if not isinstance(body, dict) or not body.get("model"):
        return _error_reply(400, "you must provide a model parameter")
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return _error_reply(400, "'input' must be a string or a non-empty array of strings")
    data = [
        {"object": "embedding", "index": i, "embedding": hashed_embedding(t)}
        for i, t in enumerate(texts)
    ]
    tokens = sum(count_tokens(t) for t in texts)
    return _JsonReply(200, {"object": "list", "data": data[::-1], "model": body["model"],
                            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})  # fmt: skip


def _error_reply(
    status: int, message: str = "", headers: dict[str, str] | None = None
) -> _JsonReply:
    """An error body as OpenAI sends it."""
    kind, code, default = ERROR_KINDS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
    )
    error = {"message": message or default, "type": kind, "param": None, "code": code}
    return _JsonReply(status, {"error": error}, headers or {})


@dataclass(frozen=True)
class _Completion:
    id: str
    created: int
    model: str
    content: str
    tool_calls: list[tuple[str, str, str]]  # (id, name, arguments JSON)
    usage: Json

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    def payload(self, with_usage: bool = True) -> Json:
        message: Json = {
            "role": "assistant",
            "content": self.content or (None if self.tool_calls else ""),
            "refusal": None,
            "annotations": [],
        }
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                for i, n, a in self.tool_calls
            ]
        return {
            **self._head("chat.completion"),
            "choices": [
                {"index": 0, "message": message, "logprobs": None,
                 "finish_reason": self.finish_reason}
            ],
            **({"usage": self.usage} if with_usage else {}),
        }  # fmt: skip

    def chunks(self, include_usage: bool) -> list[Json]:
        """The SSE events of this completion: role, text pieces, tool call pieces, finish."""
        first: Json = {"role": "assistant", "content": None if self.tool_calls else "",
                       "refusal": None}  # fmt: skip
        deltas: list[Json] = [first]
        deltas += [{"content": piece} for piece in re.findall(r"\s*\S+\s*", self.content)]
        for index, (call_id, name, arguments) in enumerate(self.tool_calls):
            function = {"name": name, "arguments": ""}
            deltas.append({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                           "function": function}]})  # fmt: skip
            for start in range(0, len(arguments), 16):  # split as OpenAI does, mid-token
                piece = {"arguments": arguments[start : start + 16]}
                deltas.append({"tool_calls": [{"index": index, "function": piece}]})
        events = [self._chunk(delta, None, include_usage) for delta in deltas]
        events.append(self._chunk({}, self.finish_reason, include_usage))
        if include_usage:
            events.append({**self._head("chat.completion.chunk"), "choices": [],
                           "usage": self.usage})  # fmt: skip
        return events

    def _head(self, kind: str) -> Json:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model,
                "service_tier": "default", "system_fingerprint": "fp_fake"}  # fmt: skip

    def _chunk(self, delta: Json, finish: str | None, include_usage: bool) -> Json:
        chunk = {**self._head("chat.completion.chunk"),
                 "choices": [{"index": 0, "delta": delta, "logprobs": None,
                              "finish_reason": finish}]}  # fmt: skip
        if include_usage:
            chunk["usage"] = None
        return chunk


def is_probe(body: Json) -> bool:
    """Whether a request is SkillAudit's tool-calling probe (it offers only that tool)."""
    names = [
        t.get("function", {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)
    ]
    return names == [PROBE_TOOL]


# The fake ---------------------------------------------------------------------------------------


class FakeOpenAI:
    """The fake API; a context manager that serves it from a thread on a free port."""

    def __init__(
        self,
        api_key: str | None = "test-key",
        responder: Responder | None = None,
        *,
        model: str = "fake",
        tool_support: str = "native",
        report_usage: bool = True,
    ) -> None:
        if tool_support not in ("native", "rejected", "as_text", "ignored"):
            raise ValueError(f"unknown tool_support {tool_support!r}")
        self.api_key = api_key
        self.responder = responder
        self.model = model  # the one model GET /v1/models lists; requests may name any
        self.tool_support = tool_support
        self.report_usage = report_usage
        self.requests: list[Recorded] = []
        self.probes: list[Recorded] = []
        self.usage: list[tuple[int, int]] = []  # (prompt, completion) per answered completion
        self.crashes: list[str] = []  # tracebacks of the fake's own bugs, answered with 500
        self._actions: list[Action] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._completion_ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve on a free port of 127.0.0.1 from a background thread."""
        self._closing.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Wake hanging requests, close open connections and stop serving."""
        server, self._server = self._server, None
        if server is None:
            return
        self._closing.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # Test side ---------------------------------------------------------------------------------

    def queue(self, *actions: Action) -> None:
        """Script the answers to the next chat completion requests, in order."""
        with self._lock:
            self._actions.extend(actions)

    @property
    def pending(self) -> int:
        """How many queued actions no request has taken yet."""
        with self._lock:
            return len(self._actions)

    @property
    def chat_requests(self) -> list[Recorded]:
        """Chat completion requests, SkillAudit's tool-calling probes left out."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.endswith("/chat/completions") and not is_probe(r.body)
            ]

    @property
    def calls(self) -> int:
        """How many chat completion requests arrived (refused ones included)."""
        return len(self.chat_requests)

    def last_messages(self) -> list[Json]:
        """The messages of the last chat completion request."""
        chats = self.chat_requests
        assert chats, "no chat completion request arrived"
        return list(chats[-1].body.get("messages") or [])

    def all_text(self) -> str:
        """What every chat request showed the model (see `prompt_text`), concatenated."""
        return "\n".join(prompt_text(r.body) for r in self.chat_requests)

    @property
    def prompt_tokens_total(self) -> int:
        with self._lock:
            return sum(prompt for prompt, _ in self.usage)

    # Server side -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply | None:
        """Answer one request; None when the fake closed while the request was hanging."""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = None
        with self._lock:
            recorded = body if isinstance(body, dict) else {"_raw": raw.decode(errors="replace")}
            self.requests.append(Recorded(method, path, headers, recorded))
        route = f"{method} {path.rstrip('/')}"
        if route not in ("GET /v1/models", "POST /v1/chat/completions", "POST /v1/embeddings"):
            return _error_reply(404, f"Invalid URL ({method} {path})")
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return _error_reply(401)
        if route == "POST /v1/embeddings":
            return _embeddings_reply(body)
        if route == "GET /v1/models":
            return _JsonReply(200, {"object": "list", "data": [
                {"id": self.model, "object": "model", "created": 1_700_000_000,
                 "owned_by": "skillaudit-fake"}]})  # fmt: skip
        if not isinstance(body, dict):
            return _error_reply(400, "We could not parse the JSON body of your request.")
        if not body.get("model"):
            return _error_reply(400, "you must provide a model parameter")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return _error_reply(400, "'messages' must be a non-empty array")
        if is_probe(body):
            with self._lock:
                self.probes.append(self.requests[-1])
        if self.tool_support == "rejected" and body.get("tools"):
            return _error_reply(400, VLLM_NO_AUTO_TOOLS)
        if is_probe(body):
            return self._answer(body, Call([(PROBE_TOOL, {"ok": True})]), probe=True)
        return self._answer(body, self._next_action(body))

    def _next_action(self, body: Json) -> Action:
        with self._lock:
            if self._actions:
                return self._actions.pop(0)
        return self.responder(body) if self.responder is not None else Say(NO_REPLY)

    def _broken_tools(self, action: Action) -> Action:
        """What a server with broken tool calling makes of a tool-call answer."""
        if not isinstance(action, Call | RawCall) or self.tool_support == "native":
            return action
        if self.tool_support == "ignored":
            content = action.content if isinstance(action, Call) else ""
            return Say(content or "Thanks, noted. What else can you tell me?")
        calls = action.calls if isinstance(action, Call) else [(action.name, action.arguments)]
        printed = [
            json.dumps({"name": name, "arguments": args}) if isinstance(args, dict) else
            f'{{"name": "{name}", "arguments": {args}}}'
            for name, args in calls
        ]  # fmt: skip
        return Say("".join(f"<tool_call>{p}</tool_call>" for p in printed))

    def _answer(self, body: Json, action: Action, probe: bool = False) -> Reply | None:
        while isinstance(action, Hang):
            if self._closing.wait(action.seconds):
                return None
            action = action.then
        action = self._broken_tools(action)
        if isinstance(action, Fail):
            headers = {}
            if action.retry_after is not None:
                headers["retry-after"] = f"{action.retry_after:g}"
            return _error_reply(action.status, action.message, headers)
        stream = bool(body.get("stream"))
        include_usage = (
            stream
            and self.report_usage
            and bool((body.get("stream_options") or {}).get("include_usage"))
        )
        if isinstance(action, Cut):
            what = Call(action.calls, action.content) if action.calls else Say(action.content)
            completion = self._complete(body, what, record_usage=False)
            if stream:
                events = completion.chunks(include_usage)[: action.after_chunks]
                return _StreamReply(events, False, chunked=action.chunked)
            return _TruncatedReply(json.dumps(completion.payload()).encode())
        if isinstance(action, Trickle | KeepAlive):
            then = Say(action.content) if isinstance(action, Trickle) else action.then
            completion = self._complete(body, then, record_usage=True)
            events = completion.chunks(include_usage)
            if not stream:
                return _StreamReply([completion.payload()], True)  # not reached in practice
            if isinstance(action, Trickle):
                return _StreamReply(events, True, interval=action.interval)
            return _StreamReply(
                events, True, comments=action.seconds, comment_every=action.interval
            )
        completion = self._complete(body, action, record_usage=not probe)
        if stream:
            return _StreamReply(completion.chunks(include_usage), True)
        return _JsonReply(200, completion.payload(self.report_usage))

    def _complete(
        self, body: Json, action: Say | Call | RawCall, *, record_usage: bool
    ) -> _Completion:
        if isinstance(action, RawCall):
            raw = [(action.name, action.arguments)]
            action = Call([])
        else:
            raw = []
        calls = action.calls if isinstance(action, Call) else []
        with self._lock:
            completion_id = f"chatcmpl-{next(self._completion_ids)}"
            tool_calls = [(f"call_{next(self._call_ids)}", n, _arguments(a)) for n, a in calls]
            tool_calls += [(f"call_{next(self._call_ids)}", n, a) for n, a in raw]
        prompt = count_tokens(prompt_text(body))
        answer = "\n".join([action.content, *(a for _, _, a in tool_calls)])
        completion_tokens = count_tokens(answer)
        if record_usage:
            with self._lock:
                self.usage.append((prompt, completion_tokens))
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0},
        }  # fmt: skip
        model = str(body["model"])
        return _Completion(
            completion_id, int(time.time()), model, action.content, tool_calls, usage
        )


class _Server(TrackingServer):
    """Serves each connection from a daemon thread; stop() cuts the open ones."""

    daemon_threads = True

    def __init__(self, fake: FakeOpenAI) -> None:
        super().__init__(_Handler, fake._closing.is_set)
        self.fake = fake


class _Handler(TrackedHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # SSE events must leave one by one
    timeout = 30  # an idle keep-alive connection ends at the latest after this
    server_version = "fake-openai"
    sys_version = ""

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self._server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = fake.handle(method, path, headers, raw)
        except Exception as exc:  # a bug in the fake (or its responder) must not look like a hang
            fake.crashes.append(traceback.format_exc())
            reply = _error_reply(500, f"The fake crashed: {exc!r}")
        if reply is None:
            self.close_connection = True
        elif isinstance(reply, _JsonReply):
            self._send_json(reply)
        elif isinstance(reply, _StreamReply):
            self._send_stream(reply)
        else:
            self._send_truncated(reply)

    def _start(self, status: int, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("x-request-id", f"req_{id(self):x}")
        for name, value in headers.items():
            self.send_header(name, value)

    def _send_json(self, reply: _JsonReply) -> None:
        data = json.dumps(reply.payload).encode()
        self._start(reply.status, "application/json", reply.headers)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, reply: _StreamReply) -> None:
        self._start(200, "text/event-stream; charset=utf-8", {"Cache-Control": "no-cache"})
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        closing = self._server.fake._closing
        try:
            waited = 0.0
            while waited < reply.comments:  # keep-alive comments only, as some proxies send
                self._write(b": keep-alive\n\n", reply.chunked)
                if closing.wait(reply.comment_every):
                    return
                waited += reply.comment_every
            lines = [f"data: {json.dumps(event)}\n\n" for event in reply.events]
            if reply.complete:
                lines.append("data: [DONE]\n\n")
            for line in lines:
                self._write(line.encode(), reply.chunked)
                if reply.interval and closing.wait(reply.interval):
                    return
        except OSError:  # the client gave up (its deadline passed): nothing more to send
            self.close_connection = True
            return
        if reply.complete and reply.chunked:
            self.wfile.write(b"0\r\n\r\n")
        elif not reply.complete:
            self._drop()

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def _send_truncated(self, reply: _TruncatedReply) -> None:
        self._start(200, "application/json", {})
        self.send_header("Content-Length", str(len(reply.data)))
        self.end_headers()
        self.wfile.write(reply.data[: len(reply.data) // 2])
        self._drop()

    def _drop(self) -> None:
        """Close the connection mid-body, as a crashed proxy would."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
