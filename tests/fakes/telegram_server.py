"""A fake Telegram Bot API on 127.0.0.1 for the real python-telegram-bot (v22) client.

Point the bot at it with `.base_url(fake.base_url).base_file_url(fake.base_file_url)`; requests
arrive at /bot<token>/<method> (form-encoded, multipart for uploads, or JSON) and get
`{"ok": true, "result": ...}` with valid Telegram objects. Implemented methods: see `METHODS`.

Like Telegram, it refuses what Telegram refuses: bad HTML in `parse_mode=HTML` text, texts over
4096 and captions over 1024 characters, callback_data over 64 bytes, edits that change nothing
("message is not modified"), answering a callback query twice, photos that are not images, and
getUpdates while a webhook is set. Editing a message's text without `reply_markup` drops its
keyboard, as on Telegram.

The test side: `user_says`, `user_presses`, `user_sends_document`, `user_sends_media` (a
sticker, photo, voice message...), `user_edits` (an edited_message update), `queue_raw` (a
dict with an `update_id` is delivered once more even if already confirmed) queue updates;
`batch()` holds getUpdates so that everything queued inside comes in one batch, as when a
person types faster than the bot answers. `sent(chat_id)`, `methods()`, `texts(chat_id)`,
`messages(chat_id)` and `commands` show what the bot did; `wait_for` / `wait_for_async` wait
for it; `fail_next` and `reject_html_once` inject errors; `on_call` sees every call before it
is executed and before it is answered, and may raise `DropConnection` to hang up instead of
answering (a crash test kills the bot there). Clients sharing one token (bot replicas) are
told apart by a `/via/NAME` prefix of their base URL: `caller()` names the one being served.

    with FakeTelegram(TOKEN) as fake:
        app = Application.builder().token(TOKEN).base_url(fake.base_url)...build()
        fake.user_says(42, "/start")
        await fake.wait_for_async(lambda: fake.texts(42))
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any, TypedDict, TypeVar, cast

from tests.fakes.http_base import TrackedHandler, TrackingServer

DEFAULT_TOKEN = "123456:TEST-TOKEN"
# How long `wait_for` waits before failing: only a bot that never does the thing waits this
# long (the wait ends as soon as it happens), so it is generous for a loaded machine.
HANG_GUARD_S = 60.0
MAX_POLL_S = 1.0  # getUpdates long polls at most this long, whatever `timeout` asks for

Json = dict[str, Any]
T = TypeVar("T")

NOT_FOUND: Json = {"ok": False, "error_code": 404, "description": "Not Found"}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
OLD_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"
REJECTED_HTML = 'Bad Request: can\'t parse entities: Unsupported start tag "fake" at byte offset 0'
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# How form values are typed: PTB JSON-encodes every non-string value, so "123" may be a text.
JSON_FIELDS = {"reply_markup", "entities", "caption_entities", "commands", "scope", "media",
               "link_preview_options", "reply_parameters", "allowed_updates"}  # fmt: skip
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "reply_to_message_id", "user_id",
              "message_thread_id", "cache_time", "max_connections", "from_chat_id"}  # fmt: skip
FLOAT_FIELDS = {"timeout"}
BOOL_FIELDS = {"disable_notification", "protect_content", "show_alert", "drop_pending_updates",
               "allow_sending_without_reply", "has_spoiler", "disable_content_type_detection",
               "show_caption_above_media", "disable_web_page_preview"}  # fmt: skip

HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
             "span", "tg-spoiler", "tg-emoji", "blockquote"}  # fmt: skip
TAG = re.compile(r"<[^>]*>")
COMMAND = re.compile(r"[a-z0-9_]{1,32}")


class Upload(TypedDict):
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Action(TypedDict):
    """One call the bot made; `result` is what the fake answered (None when it failed)."""

    method: str
    chat_id: int | str | None
    params: Json
    files: dict[str, Upload]
    ok: bool
    result: Any
    error: str | None


class DropConnection(Exception):
    """Raised by an `on_call` hook: close the connection without an answer."""


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description and an optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


# Request decoding ------------------------------------------------------------------------------


def _header_param(header: str, key: str) -> str | None:
    """Read `key=` from a header such as Content-Disposition (quoted, token or RFC 5987 form)."""
    extended = re.search(rf"(?:^|;)\s*{key}\*\s*=\s*([^;]*)", header, re.IGNORECASE)
    if extended:
        charset, _, rest = extended.group(1).strip().strip('"').partition("'")
        return urllib.parse.unquote(rest.partition("'")[2], encoding=charset or "utf-8")
    quoted = re.search(rf'(?:^|;)\s*{key}\s*=\s*"((?:[^"\\]|\\.)*)"', header, re.IGNORECASE)
    if quoted:
        value = re.sub(r"\\(.)", r"\1", quoted.group(1))
        # httpx and browsers percent-encode only quotes and control characters in names
        return re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m.group(1), 16)), value)
    token = re.search(rf"(?:^|;)\s*{key}\s*=\s*([^;\s]+)", header, re.IGNORECASE)
    return token.group(1) if token else None


def parse_multipart(body: bytes, content_type: str) -> tuple[Json, dict[str, Upload]]:
    """Split a multipart/form-data body into text fields and file parts, byte-exact."""
    boundary = _header_param(content_type, "boundary")
    if not boundary:
        raise ValueError("multipart body without a boundary")
    fields: Json = {}
    files: dict[str, Upload] = {}
    # The CRLF before each delimiter belongs to the delimiter, so part contents stay intact.
    parts = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    for part in parts[1:]:
        if part.startswith(b"--"):
            return fields, files
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("multipart part without a blank line after its headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _header_param(disposition, "name")
        if name is None:
            raise ValueError("multipart part without a name")
        filename = _header_param(disposition, "filename")
        if filename is None:
            fields[name] = content.decode("utf-8")
        else:
            part_type = headers.get("content-type", "application/octet-stream")
            files[name] = Upload(filename=filename, content_type=part_type, data=content)
    raise ValueError("multipart body without a closing delimiter")


def parse_body(content_type: str, body: bytes, query: str) -> tuple[Json, dict[str, Upload]]:
    """Fields and files of a request: query string plus a form, multipart or JSON body."""
    fields: Json = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    files: dict[str, Upload] = {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form, files = parse_multipart(body, content_type)
        fields.update(form)
    elif kind == "application/json" and body.strip():
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a JSON body must be an object")
        fields.update(data)
    elif body:
        fields.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return fields, files


def decode_params(fields: Json) -> Json:
    """Type the string values of a request the way PTB encoded them."""
    params: Json = {}
    for name, value in fields.items():
        if not isinstance(value, str):
            params[name] = value
        elif name in JSON_FIELDS:
            try:
                params[name] = json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
        elif name in INT_FIELDS:
            params[name] = int(value) if re.fullmatch(r"-?\d+", value) else value
        elif name in FLOAT_FIELDS:
            try:
                params[name] = float(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: {name} must be a number") from None
        elif name in BOOL_FIELDS:
            params[name] = value.lower() in ("true", "1")
        else:
            params[name] = value
    return params


# Telegram's checks ----------------------------------------------------------------------------


def html_problem(text: str) -> str | None:
    """Why Telegram's HTML parser would refuse `text`, or None (messages follow tdlib's)."""
    stack: list[str] = []
    start = 0
    while (start := text.find("<", start)) != -1:
        offset = len(text[:start].encode())
        end = text.find(">", start)
        if end == -1:
            return f"Unclosed start tag at byte offset {offset}"
        inner = text[start + 1 : end]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                return f"Unexpected end tag at byte offset {offset}"
            if name != stack[-1]:
                return f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", found "</{name}>"'
            stack.pop()
        else:
            match = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", inner)
            name = match.group(0).lower() if match else ""
            if name not in HTML_TAGS:
                return f'Unsupported start tag "{name}" at byte offset {offset}'
            stack.append(name)
        start = end + 1
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def inline_markup(value: Any) -> Json | None:
    """The inline keyboard Telegram would echo in the Message (None for other or no markup)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = value.get("inline_keyboard")
    if rows is None:
        return None  # reply keyboards, removals and force_reply are not echoed back
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not button.get("text"):
            raise ApiError(
                400, "Bad Request: can't parse inline keyboard button: Text must be non-empty"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return value if any(rows) else None


def callback_data(message: Json) -> list[str]:
    """The callback_data of every inline button under a message."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for b in itertools.chain.from_iterable(rows) if "callback_data" in b]


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or GIF (a stand-in size for JPEG and WebP); None if no image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data.startswith(b"\xff\xd8\xff") or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return 640, 480
    return None


# The fake -------------------------------------------------------------------------------------


class FakeTelegram:
    """The fake Bot API; a context manager that serves it from a thread on a free port."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "skillaudit_test_bot",
        max_poll_s: float = MAX_POLL_S,
        strict_html: bool = True,
    ) -> None:
        self.token = token
        head = token.partition(":")[0]
        self.bot_user: Json = {
            "id": int(head) if head.isdigit() else 1_000_001, "is_bot": True,
            "first_name": "SkillAudit", "username": bot_username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
        }  # fmt: skip
        self.max_poll_s = max_poll_s
        self.strict_html = strict_html
        self.webhook_url = ""
        self.unknown_methods: list[str] = []
        self.crashes: list[str] = []  # tracebacks of the fake's own bugs, answered with 500
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._version = 0  # bumped on every change wait_for may be waiting for
        self._closing = False
        self._updates: list[tuple[Json, bool]] = []  # (update, deliver even if confirmed)
        self._next_update_id = 1
        self._ids = itertools.count(1)
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], Json] = {}
        self._chats: dict[int | str, Json] = {}
        self._queries: dict[str, tuple[int | str | None, bool]] = {}  # id -> (chat, answered)
        self._files: dict[str, tuple[Json, Upload]] = {}  # file_id -> (File object, upload)
        self._command_sets: dict[tuple[str, str], list[Json]] = {}
        self._actions: list[Action] = []
        self._counts: dict[tuple[int | str | None, str], int] = {}  # accepted calls by chat
        self._failures: dict[str, list[ApiError]] = {}
        self._reject_html: dict[str, int] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._held = 0  # getUpdates returns nothing while a batch is being queued
        self._serving = threading.local()  # the /via/NAME of the call this thread serves
        # Called with (method, params, phase): "before" it is executed, "after" it was (the
        # result is recorded) but before it is answered. Runs in the server's thread.
        self.on_call: Callable[[str, Json, str], None] | None = None
        self._methods: dict[str, Callable[[Json, dict[str, Upload]], Any]] = {
            "getMe": lambda p, f: self.bot_user,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": lambda p, f: self._chat_id(p) is not None,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "getFile": lambda p, f: self._stored_file(p.get("file_id"))[0],
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p, f: self._command_sets.get(_scope_key(p), []),
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": lambda p, f: True,
            "logOut": lambda p, f: True,
        }
        self._canonical = {name.lower(): name for name in self._methods}

    # Lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve on a free port of 127.0.0.1 from a background thread."""
        self._closing = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Release long polls, close open connections and join every server thread."""
        server, self._server = self._server, None
        if server is None:
            return
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # Test side: what users do ------------------------------------------------------------------

    def user_says(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ana",
    ) -> Json:
        """Queue a text message (a leading /command gets its bot_command entity); return the update."""
        content: Json = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            length = len(command.encode("utf-16-le")) // 2  # entities count UTF-16 units
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._user_message(chat_id, user_id, chat_type, first_name, content)

    def user_sends_document(
        self,
        chat_id: int,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ana",
    ) -> Json:
        """Queue a message with a document the bot can fetch with getFile; return the update."""
        with self._changed:
            upload = Upload(filename=file_name, content_type=mime_type, data=data)
            content: Json = {"document": self._store_file("document", upload)}
            if caption is not None:
                content["caption"] = caption
            return self._user_message(chat_id, user_id, chat_type, first_name, content)

    def user_sends_media(
        self,
        chat_id: int,
        kind: str,
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
    ) -> Json:
        """Queue a message with no text: a sticker, photo, voice, video, audio or location."""
        contents: dict[str, Json] = {
            "sticker": {"sticker": {"file_id": "fake-sticker", "file_unique_id": "s1",
                                    "width": 512, "height": 512, "is_animated": False,
                                    "is_video": False, "type": "regular"}},
            "photo": {"photo": [{"file_id": "fake-photo", "file_unique_id": "p1", "width": 90,
                                 "height": 90}]},
            "voice": {"voice": {"file_id": "fake-voice", "file_unique_id": "v1", "duration": 3}},
            "video": {"video": {"file_id": "fake-video", "file_unique_id": "d1", "width": 90,
                                "height": 90, "duration": 3}},
            "audio": {"audio": {"file_id": "fake-audio", "file_unique_id": "a1", "duration": 3}},
            "location": {"location": {"latitude": 52.52, "longitude": 13.405}},
        }  # fmt: skip
        if kind not in contents:
            raise ValueError(f"unknown media kind {kind!r}; known: {sorted(contents)}")
        content = copy.deepcopy(contents[kind])
        if caption is not None:
            content["caption"] = caption
        return self._user_message(chat_id, user_id, chat_type, "Ana", content)

    def user_edits(self, chat_id: int, message_id: int, text: str) -> Json:
        """Queue an edited_message update: the person changed an earlier message's text."""
        with self._changed:
            message = self._messages.get((chat_id, message_id))
            if message is None or message["from"]["id"] == self.bot_user["id"]:
                raise AssertionError(f"the person has no message {message_id} in chat {chat_id}")
            message.update(text=text, edit_date=int(time.time()))
            message.pop("entities", None)
            update: Json = {"edited_message": copy.deepcopy(message)}
            self._enqueue(update, forced=False)
            return copy.deepcopy(update)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold getUpdates while inside, so every update queued here is delivered in one batch."""
        with self._changed:
            self._held += 1
        try:
            yield
        finally:
            with self._changed:
                self._held -= 1
                self._touch()

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        first_name: str = "Ana",
    ) -> str:
        """Queue a press on an inline button of a bot message; return the callback query id."""
        with self._changed:
            message = self._messages.get((chat_id, message_id))
            if message is None or message["from"]["id"] != self.bot_user["id"]:
                raise AssertionError(f"the bot has no message {message_id} in chat {chat_id}")
            if data not in callback_data(message):
                raise AssertionError(
                    f"message {message_id} has no button {data!r}; it has {callback_data(message)}"
                )
            query_id = f"{self.bot_user['id']}{next(self._ids):08d}"
            self._queries[query_id] = (chat_id, False)
            chat = self._chats.get(chat_id, {})
            user = self._user(chat_id, user_id, str(chat.get("type", "private")), first_name)
            query = {"id": query_id, "from": user, "message": copy.deepcopy(message),
                     "chat_instance": str(abs(chat_id) * 7919 + 17), "data": data}  # fmt: skip
            self._enqueue({"callback_query": query}, forced=False)
            return query_id

    def queue_raw(self, update: Json) -> Json:
        """Queue any update; one that has an update_id is delivered once more, like a redelivery."""
        with self._changed:
            update = copy.deepcopy(update)
            query = update.get("callback_query")
            if isinstance(query, dict) and "id" in query and query["id"] not in self._queries:
                self._queries[query["id"]] = (
                    query.get("message", {}).get("chat", {}).get("id"),
                    False,
                )
            self._enqueue(update, forced="update_id" in update)
            return copy.deepcopy(update)

    # Test side: switches -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with an error (429 carries retry_after)."""
        name = self._canonical.get(method.lower())
        if name is None:
            raise ValueError(f"the fake does not implement {method!r}")
        if description is None:
            default = DESCRIPTIONS.get(status, f"Error {status}")
            description = (
                f"Too Many Requests: retry after {retry_after}" if status == 429 else default
            )
        error = ApiError(status, description, retry_after if status == 429 else None)
        with self._changed:
            self._failures.setdefault(name, []).extend([error] * times)

    def reject_html_once(self, method: str = "sendMessage") -> None:
        """Make the next `method` call with parse_mode HTML fail with "can't parse entities"."""
        with self._changed:
            self._reject_html[method] = self._reject_html.get(method, 0) + 1

    # Test side: what the bot did ---------------------------------------------------------------

    def sent(self, chat_id: int | str, include_failed: bool = False) -> list[Action]:
        """The bot's calls concerning one chat, in order (failed ones only on request)."""
        with self._changed:
            return [
                copy.deepcopy(a)
                for a in self._actions
                if a["chat_id"] == chat_id and (a["ok"] or include_failed)
            ]

    def count(self, chat_id: int | str, method: str = "sendMessage") -> int:
        """How many `method` calls for a chat were accepted, without copying them: cheap
        enough to poll (a benchmark's driver must not compete with the bot for the CPU)."""
        with self._changed:
            return self._counts.get((chat_id, method), 0)

    def actions(self, include_failed: bool = True) -> list[Action]:
        """Every call the bot made except getUpdates, in order."""
        with self._changed:
            return [copy.deepcopy(a) for a in self._actions if a["ok"] or include_failed]

    def methods(self, include_failed: bool = False) -> list[str]:
        """The names of the bot's calls except getUpdates, in order."""
        with self._changed:
            return [a["method"] for a in self._actions if a["ok"] or include_failed]

    def texts(self, chat_id: int | str) -> list[str]:
        """The texts of the messages the bot sent to a chat, as shown (HTML tags removed).
        Strings only, no copy of the calls: tests poll this while a bot is working."""
        with self._changed:
            return [
                str(a["result"]["text"])
                for a in self._actions
                if a["chat_id"] == chat_id and a["ok"] and a["method"] == "sendMessage"
            ]

    def messages(self, chat_id: int | str) -> list[Json]:
        """The chat as it looks now: every message of both sides after edits and deletions."""
        with self._changed:
            found = [m for (chat, _), m in self._messages.items() if chat == chat_id]
            return copy.deepcopy(sorted(found, key=lambda m: int(m["message_id"])))

    @property
    def commands(self) -> list[Json]:
        """The command list set for the default scope and language."""
        with self._changed:
            return copy.deepcopy(self._command_sets.get(_scope_key({}), []))

    def caller(self) -> str | None:
        """The NAME of the `/via/NAME` prefix of the call served in this thread (for `on_call`)."""
        return cast("str | None", getattr(self._serving, "via", None))

    def pending_updates(self) -> int:
        with self._changed:
            return len(self._updates)

    def wait_for(self, predicate: Callable[[], T], timeout: float = HANG_GUARD_S) -> T:
        """Block until `predicate()` is truthy and return its value (from a thread, not a loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "wait_for would block the event loop the bot runs on; use"
                " `await fake.wait_for_async(...)` or `await asyncio.to_thread(fake.wait_for, ...)`"
            )
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                version = self._version
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(predicate, timeout))
            with self._changed:
                # also re-check now and then: the predicate may look at more than this fake
                if self._version == version:
                    self._changed.wait(min(remaining, 0.1))

    async def wait_for_async(self, predicate: Callable[[], T], timeout: float = HANG_GUARD_S) -> T:
        """Await until `predicate()` is truthy and return its value, letting the bot run."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(predicate, timeout))
            await asyncio.sleep(0.01)
        return value

    def _timeout_report(self, predicate: Callable[[], object], timeout: float) -> str:
        lines = [f"{predicate!r} still false after {timeout} s; the bot's last calls:"]
        for action in self.actions()[-15:]:
            params = {k: v for k, v in action["params"].items() if k != "reply_markup"}
            outcome = "ok" if action["ok"] else f"FAILED {action['error']}"
            lines.append(f"  {action['method']} chat={action['chat_id']} {outcome} {params}"[:300])
        if self.unknown_methods:
            lines.append(f"  methods the fake lacks: {self.unknown_methods}")
        lines.append(f"  updates not yet confirmed: {self.pending_updates()}")
        return "\n".join(lines)

    # Server side -------------------------------------------------------------------------------

    def call(
        self, token: str, method_name: str, fields: Json, files: dict[str, Upload]
    ) -> tuple[int, Json]:
        """Answer one Bot API call: HTTP status and JSON body."""
        if token != self.token:
            return 404, NOT_FOUND
        method = self._canonical.get(method_name.lower())  # Telegram ignores the case
        hook = self.on_call
        if hook is not None and method is not None:
            hook(method, dict(fields), "before")  # may raise DropConnection
        status, body = self._call(method, method_name, fields, files)
        if hook is not None and method is not None:
            hook(method, dict(fields), "after")
        return status, body

    def _call(
        self, method: str | None, method_name: str, fields: Json, files: dict[str, Upload]
    ) -> tuple[int, Json]:
        with self._changed:
            if method is None:
                self.unknown_methods.append(method_name)
                error = ApiError(404, "Not Found (a method this fake does not implement)")
                self._record(method_name, None, fields, files, None, error)
                return 404, NOT_FOUND
            params: Json = fields
            chat_id: int | str | None = None
            try:
                params = decode_params(fields)
                chat_id = self._chat_of(method, params)
                failures = self._failures.get(method)
                if failures:
                    raise failures.pop(0)
                result = self._methods[method](params, files)
            except ApiError as error:
                self._record(method, chat_id, params, files, None, error)
                return error.status, error.body()
            self._record(method, chat_id, params, files, copy.deepcopy(result), None)
            return 200, {"ok": True, "result": result}

    def file_content(self, token: str, file_path: str) -> Upload | None:
        """The upload behind a file_path from getFile, for /file/bot<token>/<path>."""
        with self._changed:
            if token == self.token:
                for stored, upload in self._files.values():
                    if stored["file_path"] == file_path:
                        return upload
            return None

    def _record(
        self,
        method: str,
        chat_id: int | str | None,
        params: Json,
        files: dict[str, Upload],
        result: Any,
        error: ApiError | None,
    ) -> None:
        if method == "getUpdates":
            return
        self._actions.append(
            Action(method=method, chat_id=chat_id, params=dict(params), files=dict(files),
                   ok=error is None, result=result, error=None if error is None else error.description)
        )  # fmt: skip
        if error is None:
            self._counts[(chat_id, method)] = self._counts.get((chat_id, method), 0) + 1
        self._touch()

    def _touch(self) -> None:
        self._version += 1
        self._changed.notify_all()

    def _chat_of(self, method: str, params: Json) -> int | str | None:
        if method == "answerCallbackQuery":
            return self._queries.get(str(params.get("callback_query_id")), (None, False))[0]
        chat_id = params.get("chat_id")
        return chat_id if isinstance(chat_id, int | str) else None

    # State helpers (called with the lock held) -------------------------------------------------

    def _enqueue(self, update: Json, forced: bool) -> None:
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._updates.append((update, forced))
        self._touch()

    def _new_message_id(self, chat_id: int | str) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _user(self, chat_id: int, user_id: int | None, chat_type: str, first_name: str) -> Json:
        if user_id is None:
            user_id = chat_id if chat_type == "private" else 4242
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def _chat(self, chat_id: int | str) -> Json:
        if chat_id not in self._chats:
            private = isinstance(chat_id, int) and chat_id > 0
            chat: Json = {"id": chat_id, "type": "private" if private else "group"}
            chat.update({"first_name": "Ana"} if private else {"title": f"Group {chat_id}"})
            self._chats[chat_id] = chat
        return dict(self._chats[chat_id])

    def _user_message(
        self, chat_id: int, user_id: int | None, chat_type: str, first_name: str, content: Json
    ) -> Json:
        with self._changed:
            chat: Json = {"id": chat_id, "type": chat_type}
            chat.update(
                {"first_name": first_name}
                if chat_type == "private"
                else {"title": f"Test {chat_type}"}
            )
            self._chats[chat_id] = chat
            message: Json = {
                "message_id": self._new_message_id(chat_id), "date": int(time.time()),
                "chat": dict(chat), "from": self._user(chat_id, user_id, chat_type, first_name),
                **content,
            }  # fmt: skip
            self._messages[(chat_id, message["message_id"])] = message
            update: Json = {"message": copy.deepcopy(message)}
            self._enqueue(update, forced=False)
            return copy.deepcopy(update)

    def _chat_id(self, params: Json) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _shown(self, method: str, params: Json, key: str, too_long: str) -> str | None:
        """The text as Telegram would show it, after checking its markup and length."""
        raw = params.get(key)
        if raw is None:
            return None
        text = str(raw)
        if str(params.get("parse_mode") or "").lower() == "html":
            if self._reject_html.get(method):
                self._reject_html[method] -= 1
                raise ApiError(400, REJECTED_HTML)
            problem = html_problem(text) if self.strict_html else None
            if problem:
                raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
            text = html.unescape(TAG.sub("", text))
        if len(text) > (4096 if key == "text" else 1024):
            raise ApiError(400, too_long)
        return text

    def _post(self, chat_id: int, params: Json, content: Json) -> Json:
        """Add a bot message to a chat and return it."""
        message: Json = {
            "message_id": self._new_message_id(chat_id), "date": int(time.time()),
            "chat": self._chat(chat_id), "from": dict(self.bot_user), **content,
        }  # fmt: skip
        markup = inline_markup(params.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters") or {}
        target_id = reply.get("message_id", params.get("reply_to_message_id"))
        if target_id is not None:
            target = self._messages.get((chat_id, int(target_id)))
            if target is not None:
                message["reply_to_message"] = {
                    k: v for k, v in target.items() if k != "reply_to_message"
                }
            elif not (
                reply.get("allow_sending_without_reply")
                or params.get("allow_sending_without_reply")
            ):
                raise ApiError(400, "Bad Request: message to be replied not found")
        self._messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    def _store_file(self, kind: str, upload: Upload) -> Json:
        number = next(self._ids)
        suffix = re.sub(r"[^\w.-]", "_", upload["filename"].rpartition(".")[2])
        stored: Json = {
            "file_id": f"fake-{kind}-{number}", "file_unique_id": f"u{number}",
            "file_size": len(upload["data"]), "file_path": f"{kind}s/file_{number}.{suffix}",
        }  # fmt: skip
        self._files[stored["file_id"]] = (stored, upload)
        document = {k: v for k, v in stored.items() if k != "file_path"}
        return {**document, "file_name": upload["filename"], "mime_type": upload["content_type"]}

    def _stored_file(self, file_id: object) -> tuple[Json, Upload]:
        found = self._files.get(str(file_id))
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return copy.deepcopy(found[0]), found[1]

    def _input_file(self, field: str, params: Json, files: dict[str, Upload]) -> Upload:
        if field in files:
            if not files[field]["data"]:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return files[field]
        reference = params.get(field)
        if isinstance(reference, str) and reference in self._files:
            return self._files[reference][1]
        if isinstance(reference, str) and reference.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        if reference is not None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {field} in the request")

    def _editable(self, params: Json) -> Json:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: the fake does not keep inline messages")
        chat_id = self._chat_id(params)
        message = self._messages.get((chat_id, int(params.get("message_id") or 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _apply_edit(self, message: Json, content: Json, markup: Json | None) -> Json:
        unchanged = all(message.get(k) == v for k, v in content.items())
        if unchanged and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.update(content, edit_date=int(time.time()))
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return copy.deepcopy(message)

    # Methods -----------------------------------------------------------------------------------

    def _get_updates(self, params: Json, files: dict[str, Upload]) -> list[Json]:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.max_poll_s)
        while True:
            if offset < 0:  # Telegram's "the last -offset updates"
                self._updates = self._updates[offset:]
            elif offset:  # updates below the offset are confirmed and forgotten
                self._updates = [(u, f) for u, f in self._updates if f or u["update_id"] >= offset]
            # A redelivered update comes alone: PTB confirms up to the last id of a batch.
            forced = [entry for entry in self._updates if entry[1]]
            batch = [] if self._held else (forced or self._updates)[:limit]
            remaining = deadline - time.monotonic()
            if batch or self._closing or remaining <= 0:
                break
            self._changed.wait(remaining)
        delivered = {id(update) for update, _ in batch}
        self._updates = [(u, f and id(u) not in delivered) for u, f in self._updates]
        return [copy.deepcopy(update) for update, _ in batch]

    def _send_message(self, params: Json, files: dict[str, Upload]) -> Json:
        chat_id = self._chat_id(params)
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text = self._shown("sendMessage", params, "text", "Bad Request: message is too long")
        if not text or not text.strip():
            raise ApiError(400, "Bad Request: text must be non-empty")
        return self._post(chat_id, params, {"text": text})

    def _edit_message_text(self, params: Json, files: dict[str, Upload]) -> Json:
        message = self._editable(params)
        text = self._shown("editMessageText", params, "text", "Bad Request: MESSAGE_TOO_LONG")
        if not text or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._apply_edit(message, {"text": text}, inline_markup(params.get("reply_markup")))

    def _edit_message_caption(self, params: Json, files: dict[str, Upload]) -> Json:
        message = self._editable(params)
        caption = self._shown(
            "editMessageCaption", params, "caption", "Bad Request: message caption is too long"
        )
        if "text" in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        markup = inline_markup(params.get("reply_markup"))
        return self._apply_edit(message, {"caption": caption or ""}, markup)

    def _edit_message_reply_markup(self, params: Json, files: dict[str, Upload]) -> Json:
        message = self._editable(params)
        return self._apply_edit(message, {}, inline_markup(params.get("reply_markup")))

    def _delete_message(self, params: Json, files: dict[str, Upload]) -> bool:
        key = (self._chat_id(params), int(params.get("message_id") or 0))
        if self._messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, params: Json, files: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id"))
        chat_id, answered = self._queries.get(query_id, (None, True))
        if answered:
            raise ApiError(400, OLD_QUERY)
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._queries[query_id] = (chat_id, True)
        return True

    def _send_photo(self, params: Json, files: dict[str, Upload]) -> Json:
        chat_id = self._chat_id(params)
        too_long = "Bad Request: message caption is too long"
        caption = self._shown("sendPhoto", params, "caption", too_long)
        upload = self._input_file("photo", params, files)
        size = image_size(upload["data"])
        if size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        stored = self._store_file("photo", upload)
        photo = {k: stored[k] for k in ("file_id", "file_unique_id", "file_size")}
        content: Json = {"photo": [{**photo, "width": size[0], "height": size[1]}]}
        if caption:
            content["caption"] = caption
        return self._post(chat_id, params, content)

    def _send_document(self, params: Json, files: dict[str, Upload]) -> Json:
        chat_id = self._chat_id(params)
        too_long = "Bad Request: message caption is too long"
        caption = self._shown("sendDocument", params, "caption", too_long)
        content: Json = {
            "document": self._store_file("document", self._input_file("document", params, files))
        }
        if caption:
            content["caption"] = caption
        return self._post(chat_id, params, content)

    def _set_my_commands(self, params: Json, files: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND.fullmatch(str(command.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        entries = [{"command": c["command"], "description": c["description"]} for c in commands]
        self._command_sets[_scope_key(params)] = entries
        return True

    def _delete_my_commands(self, params: Json, files: dict[str, Upload]) -> bool:
        self._command_sets.pop(_scope_key(params), None)
        return True

    def _set_webhook(self, params: Json, files: dict[str, Upload]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        return True

    def _delete_webhook(self, params: Json, files: dict[str, Upload]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: Json, files: dict[str, Upload]) -> Json:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}  # fmt: skip


def _scope_key(params: Json) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


METHODS = sorted(FakeTelegram()._methods)


# HTTP -----------------------------------------------------------------------------------------


class _Server(TrackingServer):
    """Joins its handler threads on close; stop() cuts idle keep-alives."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeTelegram) -> None:
        super().__init__(_Handler, lambda: fake._closing)
        self.fake = fake


class _Handler(TrackedHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    timeout = 60  # an idle keep-alive connection ends at the latest after this
    server_version = "nginx/1.18.0"
    sys_version = ""

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        fake = self._server.fake
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        via = None
        if path.startswith("/via/"):
            via, _, rest = path.removeprefix("/via/").partition("/")
            path = f"/{rest}"
        fake._serving.via = via
        status, content_type, data = 404, "application/json", json.dumps(NOT_FOUND).encode()
        try:
            body = self._read_body()
            if path.startswith("/file/bot"):
                token, _, file_path = path.removeprefix("/file/bot").partition("/")
                upload = fake.file_content(token, file_path)
                if upload is not None:
                    status, content_type, data = 200, upload["content_type"], upload["data"]
            elif path.startswith("/bot"):
                token, _, method = path.removeprefix("/bot").partition("/")
                fields, files = parse_body(self.headers.get("Content-Type", ""), body, split.query)
                status, payload = fake.call(token, method, fields, files)
                data = json.dumps(payload).encode()
        except DropConnection:  # hang up without an answer, as a dying server or network does
            self.close_connection = True
            return
        except ValueError as exc:  # a body the fake cannot read: say so, as Telegram would
            status, content_type = 400, "application/json"
            data = json.dumps(ApiError(400, f"Bad Request: {exc}").body()).encode()
        except Exception as exc:  # a bug in the fake must not look like a network problem
            fake.crashes.append(traceback.format_exc())
            status, content_type = 500, "application/json"
            error = ApiError(500, f"Internal Server Error: the fake crashed: {exc!r}")
            data = json.dumps(error.body()).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
