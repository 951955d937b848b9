"""Updates as Telegram sent them, parsed into python-telegram-bot's objects only when needed.

PTB's `Update.de_json` builds every object of an update (a `Message` sets about a hundred
attributes), and was the largest single cost of receiving a message. Most updates are a
person's text in a private chat: the bot reads those fields from the dict itself, stores the
dict as it came (the inbox keeps it for a replay), and asks for PTB's `Update` (parsed once)
only for button presses, documents, groups and the other kinds, whose handling uses PTB's
objects and methods.

Polling fetches the dicts through `Bot.do_api_request("get_updates")`, which returns the
Bot API's JSON result unparsed; a webhook hands over PTB's `Update`, kept as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import ExtBot

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from telegram import Update

PRIVATE = "private"


@dataclass(eq=False)
class Incoming:
    """One update: the Bot API's dict, and PTB's `Update` of it once something asks."""

    raw: dict[str, Any]
    bot: Any = None  # the telegram Bot that PTB's objects call (answer a press, get a file)
    _parsed: Update | None = field(default=None, repr=False)

    @classmethod
    def of(cls, update: Update) -> Incoming:
        """An update PTB parsed already (a webhook's)."""
        try:
            bot = update.get_bot()
        except RuntimeError:  # built without a bot (tests)
            bot = None
        return cls(update.to_dict(), bot, update)

    @property
    def update_id(self) -> int:
        return int(self.raw["update_id"])

    def update(self) -> Update:
        """PTB's `Update` of this dict, parsed on first use."""
        if self._parsed is None:
            from telegram import Update

            self._parsed = Update.de_json(self.raw, self.bot)
        return self._parsed

    def _message(self) -> dict[str, Any] | None:
        message = self.raw.get("message")
        return message if isinstance(message, dict) else None

    def chat(self) -> tuple[int, str] | None:
        """The chat's id and type ("private", "group"...), None for an update without one."""
        message = self._message()
        chat = message.get("chat") if message is not None else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"], str(chat.get("type") or "")
        parsed = self._parsed_or_none()  # the other kinds, as PTB reads them
        effective = parsed.effective_chat if parsed is not None else None
        return (effective.id, str(effective.type)) if effective is not None else None

    def user_id(self) -> int | None:
        """Who sent it, None for an update without a sender (a channel post)."""
        message = self._message()
        sender = message.get("from") if message is not None else None
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
        parsed = self._parsed_or_none()
        user = parsed.effective_user if parsed is not None else None
        return user.id if user is not None else None

    def _parsed_or_none(self) -> Update | None:
        """PTB's `Update`, or None when PTB cannot read it (a kind newer than this version of
        PTB knows, say): such an update has no chat here, so it is noted and not answered."""
        try:
            return self.update()
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.warning("an update PTB cannot read (%s): %s", type(exc).__name__, exc)
            return None

    def private_text(self) -> str | None:
        """The text of a new message in a private chat (the usual update), else None."""
        message = self._message()
        if message is None or "document" in message:
            return None
        chat = message.get("chat")
        text = message.get("text")
        if isinstance(chat, dict) and chat.get("type") == PRIVATE and isinstance(text, str):
            return text
        return None


class PollingBot(ExtBot[None]):
    """PTB's bot whose `get_updates` returns `Incoming` dicts instead of parsed `Update`s.

    The Updater reads only `update_id` from what it gets and puts each into the update queue
    (bots/telegram.py `InboxQueue`). `settle` runs before each call: its offset acknowledges
    every update before it, so those must be handled or stored by then (`Bot.settle`). The call goes through PTB's own request code, so its
    timeouts and errors are PTB's; the long poll's read timeout is the polling request's
    (`poll_read_timeout`) plus the poll's, as `Bot.get_updates` computes it.
    """

    def __init__(
        self,
        *args: Any,
        poll_read_timeout: float | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> None:
        from bots.telegram_send import quiet_nudge

        super().__init__(*args, **kwargs)
        self._poll_read_timeout = poll_read_timeout
        self._settle = settle
        quiet_nudge()

    async def get_updates(  # type: ignore[override]
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: Any = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
        api_kwargs: dict[str, Any] | None = None,
    ) -> tuple[Incoming, ...]:
        if self._settle is not None:  # the offset acknowledges what came before: make it safe
            await self._settle()
        seconds = _seconds(timeout)
        parameters: dict[str, Any] = {"offset": offset, "limit": limit, "timeout": seconds}
        if allowed_updates is not None:
            parameters["allowed_updates"] = list(allowed_updates)
        parameters = {k: v for k, v in parameters.items() if v is not None}
        base = read_timeout if isinstance(read_timeout, int | float) else self._poll_read_timeout
        result = await self.do_api_request(
            "get_updates",
            api_kwargs={**parameters, **(api_kwargs or {})},
            read_timeout=(base or 0) + (seconds or 0),
        )
        return tuple(Incoming(raw, self) for raw in result if isinstance(raw, dict))


def _seconds(value: Any) -> float | int | None:
    """A poll timeout given as seconds or a timedelta; whole seconds as an int, as PTB sends
    them (the Bot API's `timeout` is an Integer: "10.0" is not one)."""
    from bots.telegram_send import seconds

    if value is None:
        return None
    whole = seconds(value)
    return int(whole) if whole.is_integer() else whole
