"""The Telegram bot (python-telegram-bot v22): it translates, the engine decides.

```mermaid
flowchart LR
    update[update] --> dedup{seen before?}
    dedup -- yes --> drop[ignored]
    dedup -- no --> private{private chat?}
    private -- no --> link[reply: talk to me privately]
    private -- yes --> lock[per-chat lock: in order] --> engine[Engine.handle] --> render[text chunks, keyboard, photos, documents]
```

State lives in the engine's store, not in PTB persistence, so a person can go on in the
terminal with `skillaudit chat --user tg:<id>`, and erasure is complete.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import Application, ContextTypes

    from agent.engine import Engine
    from agent.reply import Reply

log = logging.getLogger(__name__)
LIMIT = 4096
REMINDER_HOUR_UTC = 9


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


def _html_chunks(text: str) -> Iterator[tuple[str, str]]:
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


def user_id(update: Update) -> str:
    user = update.effective_user
    return (
        f"tg:{user.id}"
        if user
        else f"tg-chat:{update.effective_chat.id if update.effective_chat else 0}"
    )


class Bot:
    """Handlers and their shared state: the engine, per-chat locks, reminders."""

    def __init__(self, engine: Engine, typing_delay: float = 0.3) -> None:
        self.engine = engine
        self.typing_delay = typing_delay
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, chat_id: int) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every message, command and button press goes through here."""
        from telegram.constants import ChatType

        chat = update.effective_chat
        if chat is None or update.effective_user is None:
            return
        if not await asyncio.to_thread(self.engine.store.claim_update, update.update_id):
            log.info("update %s was delivered twice; handled once", update.update_id)
            return
        if chat.type != ChatType.PRIVATE:
            username = context.bot.username
            await context.bot.send_message(
                chat.id, f"Audits are personal: talk to me privately at https://t.me/{username}"
            )
            return
        text = self._text_of(update)
        if text is None:
            return
        if update.callback_query is not None:
            await update.callback_query.answer()
            if update.callback_query.message is not None:
                await context.bot.edit_message_reply_markup(
                    chat.id, update.callback_query.message.message_id, reply_markup=None
                )
        async with self._lock(chat.id):
            # Show "typing" only when the answer takes a while: every call counts against
            # Telegram's 30 messages a second, and most replies take a few milliseconds.
            typing = asyncio.create_task(self._typing_after(context, chat.id, self.typing_delay))
            if self.typing_delay <= 0:
                await typing  # always show it first
            try:
                reply = await self.engine.handle(user_id(update), text)
            finally:
                typing.cancel()
            await self.send(context, chat.id, reply)
            await self._remind(context, chat.id, user_id(update))

    @staticmethod
    async def _typing_after(context: ContextTypes.DEFAULT_TYPE, chat_id: int, delay: float) -> None:
        from telegram.constants import ChatAction

        await asyncio.sleep(delay)
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    @staticmethod
    def _text_of(update: Update) -> str | None:
        if update.callback_query is not None:
            return update.callback_query.data
        message = update.effective_message
        if message is None or message.text is None:
            return None
        text = message.text
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            text = command.split("@", 1)[0] + (f" {rest}" if rest else "")
        return text

    async def send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
        """Text in chunks (HTML, escaped; plain if Telegram rejects it), keyboard on the last."""
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup
        from telegram.constants import ParseMode
        from telegram.error import BadRequest

        chunks = list(_html_chunks(reply.text))
        keyboard = None
        if reply.choices:
            rows = [
                [InlineKeyboardButton(c.label[:64], callback_data=c.value[:64])]
                for c in reply.choices
            ]
            keyboard = InlineKeyboardMarkup(rows)
        for index, (escaped, plain) in enumerate(chunks):
            markup = keyboard if index == len(chunks) - 1 else None
            try:
                await context.bot.send_message(
                    chat_id, escaped, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            except BadRequest as exc:
                log.warning("Telegram refused HTML (%s); sending plain text", exc.message)
                await context.bot.send_message(chat_id, plain, reply_markup=markup)
        for attachment in reply.attachments:
            with attachment.path.open("rb") as handle:
                if attachment.kind == "image":
                    await context.bot.send_photo(chat_id, handle, caption=attachment.caption[:1024])
                else:
                    await context.bot.send_document(
                        chat_id,
                        handle,
                        filename=attachment.filename,
                        caption=attachment.caption[:1024],
                    )

    async def _remind(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, who: str) -> None:
        """Keep one reminder job per person at the next audit date of their latest schedule."""
        due = await asyncio.to_thread(self.engine.store.next_audit_of, who)
        schedule_reminder(context.application, chat_id, who, due)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error (never the token) and apologise to the person."""
        log.error(
            "error while handling an update: %s",
            type(context.error).__name__,
            exc_info=context.error,
        )
        from telegram import Update as TelegramUpdate

        from agent.errors import SkillAuditError

        if isinstance(update, TelegramUpdate) and update.effective_chat is not None:
            text = "Sorry, something went wrong on my side. Your answers so far are saved; please try again."
            if isinstance(context.error, SkillAuditError):  # e.g. a full disk: say what it was
                text = f"{context.error} Your answers so far are saved."
            await context.bot.send_message(update.effective_chat.id, text)


def schedule_reminder(
    app: Application[Any, Any, Any, Any, Any, Any], chat_id: int, who: str, due: dt.date | None
) -> None:
    """Replace the person's reminder job; none when nothing is scheduled or the date passed."""
    if app.job_queue is None:
        return
    name = f"reminder:{who}"
    for job in app.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    if due is None:
        return
    when = dt.datetime.combine(due, dt.time(REMINDER_HOUR_UTC), tzinfo=dt.UTC)
    if when <= dt.datetime.now(dt.UTC):
        return
    app.job_queue.run_once(
        _send_reminder, when=when, chat_id=chat_id, name=name, data=due.isoformat()
    )


async def _send_reminder(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is None or job.chat_id is None:
        return
    await context.bot.send_message(
        job.chat_id,
        f"Your next skills audit is due today ({job.data}). Type /audit when you have 15 minutes.",
    )


def build_application(
    engine: Engine, token: str, base_url: str | None = None, typing_delay: float = 0.3
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Wire handlers, the rate limiter, commands and restored reminders in one place."""
    from telegram.ext import (
        AIORateLimiter,
        ApplicationBuilder,
        CallbackQueryHandler,
        MessageHandler,
        filters,
    )

    from agent.redact import redact_secrets

    # Bot API URLs carry the token, and httpx and PTB log URLs: mask it in every record.
    redact_secrets([token])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bot = Bot(engine, typing_delay)
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)
    )
    if base_url:
        root = base_url.rstrip("/")
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        from telegram import BotCommand

        from agent.commands import menu

        commands = menu(with_llm=engine.llm is not None)
        await app.bot.set_my_commands([BotCommand(c.name, c.about[:256]) for c in commands])
        for who, chat_id, due in await asyncio.to_thread(engine.store.telegram_schedules):
            schedule_reminder(app, chat_id, who, due)

    app = builder.post_init(post_init).build()
    app.add_handler(MessageHandler(filters.TEXT | filters.COMMAND, bot.on_update))
    app.add_handler(CallbackQueryHandler(bot.on_update))
    app.add_error_handler(bot.on_error)
    return app
