"""Turning an outbox row into Telegram messages, and sending them until Telegram accepts.

A row's payload is what the engine stored (agent/engine.py `outgoing`): the reply, the key of
the question it asks, whether its options are numbered, and what the person said. Rendering
is deterministic, so a resend after a crash produces the same parts and continues at the
first part not yet accepted (`parts_sent`).

Buttons carry their question's key, so a press on an old question is refused (the engine
compares keys). Callback data (at most 64 bytes) is one of:

- `a|KEY|VALUE`: an answer for the question KEY;
- `l|KEY|N`: the same when VALUE is too long: the answer is the N-th button's label;
- `c|/command ...`: a command, which means the same on any question;
- `t|KEY|0-or-1|VALUE`: a toggle of a "pick all that apply" option (1 = ticked);
- `d|KEY`: Done for such a question: the ticked options are the answer.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram import Bot as TelegramBot
    from telegram import InlineKeyboardMarkup

    from agent.store import Deliveries, Pending

log = logging.getLogger(__name__)
LIMIT = 4096
CALLBACK_BYTES = 64
TICK = "\u2713 "  # shown before a ticked option
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # waits between attempts after 5xx and network errors
# Telegram's broadcast limit: about 30 messages a second across all chats
# (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this, 2026-11-30).
MESSAGES_PER_S = 30.0


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Chunks under `limit` characters, cut at line ends where possible; they rejoin to `text`."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut + 1 if cut > 0 else limit  # keep the newline with the chunk before it
        chunks.append(rest[:cut])
        rest = rest[cut:]
    chunks.append(rest)
    return [c for c in chunks if c] or [""]


def html_chunks(text: str) -> Iterator[tuple[str, str]]:
    """(escaped HTML, plain) pairs, each escaped chunk under the limit and never cut inside
    an entity such as &amp;; the escaped chunks rejoin to the escaped text."""
    escaped = html.escape(text, quote=False)
    rest = escaped
    while rest:
        if len(rest) <= LIMIT:
            cut = len(rest)
        else:
            cut = rest.rfind("\n", 0, LIMIT)
            cut = cut + 1 if cut > 0 else LIMIT
            amp = rest.rfind("&", max(0, cut - 8), cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp  # do not split "&amp;" and its kin
        chunk, rest = rest[:cut], rest[cut:]
        yield chunk, html.unescape(chunk)


# Buttons --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Press:
    """What a button press means (see the module docstring)."""

    kind: str  # answer, label, command, toggle, done, stale
    key: str | None = None
    value: str = ""
    index: int = -1
    on: bool = False


def read_press(data: str | None) -> Press:
    """The meaning of a button's callback data; anything unknown (a keyboard from an older
    version of the bot) is a stale press."""
    kind, _, rest = (data or "").partition("|")
    if kind == "c" and rest.startswith("/"):
        return Press("command", value=rest)
    key, _, rest = rest.partition("|")
    if kind == "a" and key:
        return Press("answer", key, rest)
    if kind == "l" and key and rest.isdigit():
        return Press("label", key, index=int(rest))
    if kind == "t" and key:
        flag, _, value = rest.partition("|")
        return Press("toggle", key, value, on=flag == "1")
    if kind == "d" and key:
        return Press("done", key)
    return Press("stale", "legacy", data or "")


def _fits(data: str) -> bool:
    return len(data.encode()) <= CALLBACK_BYTES


def _button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


def keyboard(payload: dict[str, Any]) -> str | None:
    """The inline keyboard of a stored reply (bound, numbered and toggling as it says), as
    the Bot API's `reply_markup` JSON: built as plain data, it costs a fraction of PTB's
    button objects and their serialisation on every reply."""
    reply = payload.get("reply", {})
    choices: list[dict[str, str]] = reply.get("choices") or []
    if not choices:
        return None
    key = str(payload.get("key") or "idle")
    numbered = bool(payload.get("numbered"))

    def label(index: int, text: str) -> str:
        return (f"{index + 1}. {text}" if numbered else text)[:64]

    def shown(index: int, choice: dict[str, str]) -> str:
        # A command after the options (a side answer's) is not one of the numbered options.
        return (
            choice["label"][:64]
            if choice["value"].startswith("/")
            else label(index, choice["label"])
        )

    rows: list[list[dict[str, str]]] = []
    if reply.get("multiple") and all(_fits(f"t|{key}|0|{c['value']}") for c in choices):
        for index, choice in enumerate(choices):
            data = f"t|{key}|0|{choice['value']}"
            rows.append([_button(label(index, choice["label"]), data)])
        rows.append([_button("Done", f"d|{key}")])
        return json.dumps({"inline_keyboard": rows})
    for index, choice in enumerate(choices):
        value = choice["value"]
        if value.startswith("/") and _fits(f"c|{value}"):
            data = f"c|{value}"
        elif _fits(f"a|{key}|{value}"):
            data = f"a|{key}|{value}"
        else:
            data = f"l|{key}|{index}"
        rows.append([_button(shown(index, choice), data)])
    return json.dumps({"inline_keyboard": rows})


def toggled(markup: InlineKeyboardMarkup, value: str) -> InlineKeyboardMarkup | None:
    """The keyboard with the option `value` ticked or unticked; None if it has no such option."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    rows = []
    found = False
    for row in markup.inline_keyboard:
        new_row = []
        for button in row:
            press = read_press(
                button.callback_data if isinstance(button.callback_data, str) else None
            )
            if press.kind == "toggle" and press.value == value:
                found = True
                on = not press.on
                text = button.text.removeprefix(TICK)
                text = f"{TICK}{text}" if on else text
                data = f"t|{press.key}|{int(on)}|{press.value}"
                button = InlineKeyboardButton(text, callback_data=data)
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(rows) if found else None


def ticked(markup: InlineKeyboardMarkup | None) -> list[str]:
    """The values of the ticked options of a toggle keyboard, in their order."""
    if markup is None:
        return []
    values = []
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data if isinstance(button.callback_data, str) else None
            press = read_press(data)
            if press.kind == "toggle" and press.on:
                values.append(press.value)
    return values


def label_at(markup: InlineKeyboardMarkup | None, index: int) -> str | None:
    """The text of the index-th button, without its number (the answer of an `l|` press)."""
    if markup is None:
        return None
    buttons = [b for row in markup.inline_keyboard for b in row]
    if not 0 <= index < len(buttons):
        return None
    text = buttons[index].text
    number = f"{index + 1}. "
    return text.removeprefix(number)


# Parts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One Telegram message of a reply: a text chunk (with the keyboard on the last) or a file."""

    kind: str  # text, image, file
    text: str = ""  # escaped HTML for text; the caption for files
    plain: str = ""
    markup: str | None = None  # the reply_markup JSON
    path: Path | None = None
    filename: str = ""


def parts_of(payload: dict[str, Any]) -> list[Part]:
    """The messages of a stored reply, in sending order."""
    reply = payload.get("reply", {})
    chunks = list(html_chunks(str(reply.get("text") or "")))
    markup = keyboard(payload)
    parts = [
        Part("text", escaped, plain, markup if index == len(chunks) - 1 else None)
        for index, (escaped, plain) in enumerate(chunks)
        if plain.strip()
    ]
    if not parts and markup is not None:
        parts.append(Part("text", "Pick one:", "Pick one:", markup))
    for attachment in reply.get("attachments") or []:
        kind = "image" if attachment.get("kind") == "image" else "file"
        parts.append(
            Part(
                kind, text=str(attachment.get("caption") or "")[:1024],
                path=Path(attachment["path"]), filename=str(attachment.get("filename") or "file"),
            )
        )  # fmt: skip
    return parts


def seconds(value: object) -> float:
    """A period PTB gives as a timedelta or a number of seconds (retry_after, depending on
    PTB_TIMEDELTA; a poll timeout), in seconds."""
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


class Throttle:
    """Spaces messages to at most `rate` a second, so bursts wait here instead of drawing
    429s (which `Sender.send` still honours). A few arithmetic operations per message, where
    PTB's AIORateLimiter cost about a millisecond of CPU per call."""

    def __init__(self, rate: float = MESSAGES_PER_S, burst: int = 10) -> None:
        self.interval = 1.0 / rate
        self.burst = burst * self.interval
        self._next = 0.0  # the monotonic time from which the next message may go

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(self._next, now - self.burst)  # unused time builds a short burst
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


def quiet_nudge() -> None:
    """Silence PTB's warning that `send_message` and `get_updates` exist when `send_text`
    and the polling bot (bots/telegram_updates.py) call the API directly, on purpose.
    Idempotent: the same filter replaces itself."""
    warnings.filterwarnings(
        "ignore",
        message=r"Please use 'Bot\.(send_message|get_updates)' instead of 'Bot\.do_api_request",
    )


class Sender:
    """Sends a chat's outbox rows in order, retrying what Telegram may accept later."""

    def __init__(
        self,
        deliveries: Deliveries,
        bot_id: str,
        owner: str,
        backoff: Sequence[float] = BACKOFF_S,
        alone: bool = False,
    ) -> None:
        self.deliveries = deliveries
        self.bot_id = bot_id
        self.owner = owner
        self.backoff = tuple(backoff)
        # The only replica answering its chats (polling): no other one can leave a reply
        # behind a row this sender holds, so nothing is claimed after the last row is sent.
        self.alone = alone
        self.throttle = Throttle()
        quiet_nudge()

    async def flush(
        self, bot: TelegramBot, chat_id: int, claimed: list[Pending] | None = None
    ) -> None:
        """Send every pending row of one chat this sender may take; call it in the chat's turn.
        `claimed`: the rows already leased to this sender (by the answer's transaction), else
        they are claimed here.

        Claims again once its rows are sent (in the transaction that deletes the last one),
        unless `alone`: another replica that answered the chat's next update meanwhile found
        the chat's row leased here and left its own reply (order first), so this sender takes
        it along instead of leaving it to the next sweep.
        """
        rows = claimed
        if rows is None:
            rows = await asyncio.to_thread(self.deliveries.claim, self.bot_id, chat_id, self.owner)
        while rows:
            for row in rows[:-1]:
                await self.deliver(bot, row)
            rows = await self.deliver(bot, rows[-1], then_claim=not self.alone)

    async def deliver(
        self, bot: TelegramBot, row: Pending, then_claim: bool = False
    ) -> list[Pending]:
        """Send the parts not yet accepted; delete the row when all were, else mark it failed.
        `then_claim`: afterwards claim the chat's next rows (returned)."""
        parts = parts_of(row.payload)
        claim = (self.bot_id, row.chat_id, self.owner) if then_claim else None
        for index in range(row.parts_sent, len(parts)):
            if not await self.send(bot, row.chat_id, parts[index]):
                await asyncio.to_thread(self.deliveries.failed, row.id)
                if claim is None:
                    return []
                return await asyncio.to_thread(self.deliveries.claim, *claim)
            if index < len(parts) - 1:  # the last part's progress is the row's deletion
                await asyncio.to_thread(self.deliveries.progress, row.id, index + 1)
        return await asyncio.to_thread(self.deliveries.delivered, row.id, claim)

    async def send(self, bot: TelegramBot, chat_id: int, part: Part) -> bool:
        """Send one part: 5xx and network errors are retried with growing waits, a refused
        HTML text is sent once more as plain text; False when it finally could not be sent."""
        from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

        plain = False
        failures = 0
        while True:
            try:
                await self.throttle.wait()
                await self._send_once(bot, chat_id, part, plain)
                return True
            except FileNotFoundError:
                log.warning("an attachment was removed before it was sent; skipping it")
                return True
            except BadRequest as exc:
                if part.kind == "text" and not plain:
                    log.warning("Telegram refused HTML (%s); sending plain text", exc.message)
                    plain = True
                    continue
                log.warning("Telegram refused a message: %s", exc.message)
                return False
            except Forbidden as exc:  # the person blocked the bot
                log.info("cannot write to a chat: %s", exc.message)
                return False
            except RetryAfter as exc:  # the rate limiter already retried; wait as told
                await asyncio.sleep(seconds(exc.retry_after))
            except NetworkError as exc:  # 5xx, timeouts, connection errors
                if failures >= len(self.backoff):
                    log.warning("giving up on a message after %d attempts: %s", failures + 1, exc)
                    return False
                await asyncio.sleep(self.backoff[failures])
                failures += 1
            except TelegramError as exc:
                log.warning("Telegram refused a message: %s", type(exc).__name__)
                return False

    @staticmethod
    async def _send_once(bot: TelegramBot, chat_id: int, part: Part, plain: bool) -> None:
        if part.kind == "text":
            await send_text(
                bot, chat_id, part.plain if plain else part.text, part.markup, not plain
            )
            return
        assert part.path is not None
        with part.path.open("rb") as handle:
            if part.kind == "image":
                await bot.send_photo(chat_id, handle, caption=part.text)
            else:
                await bot.send_document(chat_id, handle, filename=part.filename, caption=part.text)


# Course links are in many replies; a preview card under them only adds noise.
_NO_PREVIEW = json.dumps({"is_disabled": True})


async def send_text(
    bot: TelegramBot, chat_id: int, text: str, markup: str | None, as_html: bool
) -> None:
    """Send one text message (HTML when `as_html`) without parsing Telegram's answer.

    Telegram answers a sendMessage with the Message it made; `Bot.send_message` parses it into
    PTB objects (a good part of the bot's CPU per reply), and nothing here reads it. So the
    reply goes through the Bot API call itself (`do_api_request`), with PTB's own parameter
    encoding and errors; PTB's nudge towards `send_message` is silenced by `quiet_nudge`.
    """
    parameters: dict[str, Any] = {
        "chat_id": chat_id, "text": text, "link_preview_options": _NO_PREVIEW,
    }  # fmt: skip
    if as_html:
        parameters["parse_mode"] = "HTML"
    if markup is not None:
        parameters["reply_markup"] = markup
    await bot.do_api_request("send_message", api_kwargs=parameters)
