"""The Telegram bot (python-telegram-bot v22): it translates, the engine decides.

```mermaid
flowchart LR
    update[update] --> inbox[the chat's turn taken; a webhook's update kept as received] --> turn{the chat's turn: update-id order}
    turn --> earlier{earlier updates of the chat at other replicas?}
    earlier -- alive: wait; stopped: take over and handle first --> earlier
    earlier -- none left --> kind{what it is}
    kind -- group --> link[talk to me privately]
    kind -- toggle --> tick[tick or untick the option]
    kind -- text, press, edit, file, sticker --> engine[Engine.handle: answer, handled, reply in the outbox]
    engine --> send[send the chat's outbox, retried; delete what was accepted]
    engine --> ack[polling: the next getUpdates acknowledges it]
```

Order: an update takes its chat's turn when it enters PTB's update queue (`InboxQueue.put`),
before anything is awaited, and its handler waits for that turn; PTB handles updates
concurrently, so only this keeps one chat's messages in order within this process. Across
replicas (webhook mode behind a proxy that splits updates), the turn then asks the store for
the chat's earlier updates still waiting elsewhere: an alive replica's are waited for, a
stopped one's are taken over and handled here first, and ids just below that nobody stored
yet get a short grace (bots/telegram_replicas.py). Replicas beat every few seconds; the
sweep takes over what stopped ones left (updates and outbox leases).

Exactly once: Telegram is told an update arrived only once it is safe. Polling: the next
getUpdates (whose offset acknowledges it) waits for its answer's transaction, which marks it
handled; an update whose turn takes longer than `ACK_WAIT_S` is stored with its raw content
first (`Bot.settle`), and a crash before the acknowledgement makes Telegram send it again.
Webhook: the update is stored before the HTTP 200. The reply waits in the outbox until
Telegram accepted it. At start, pending replies are sent, and stored but unhandled updates
(this replica's own, and those of stopped replicas, claimed row by row) replayed
(agent/store/outbox.py has the sequence).

Updates arrive as `Incoming` (bots/telegram_updates.py): the dict Telegram sent, which is
what the inbox stores when it stores one; a private text is handled from it, and PTB parses
the other kinds when their handling needs its objects.

State lives in the engine's store, not in PTB persistence, so a person can go on in the
terminal with `skillaudit chat --user tg:<id>`, and erasure is complete.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.sources import Asker
from agent.store import Delivery, Pending, Upload
from agent.store.outbox import Earlier
from bots.telegram_replicas import GRACE_S, HEARTBEAT_EVERY_S, STOPPED_AFTER_S, CrossOrder
from bots.telegram_send import (
    BACKOFF_S,
    LIMIT,
    Sender,
    label_at,
    read_press,
    split_text,
    ticked,
    toggled,
)
from bots.telegram_send import html_chunks as _html_chunks
from bots.telegram_updates import Incoming, PollingBot

if TYPE_CHECKING:
    from telegram import CallbackQuery, InlineKeyboardMarkup, Update
    from telegram.ext import Application, ContextTypes

    from agent.engine import Engine

__all__ = ["LIMIT", "Bot", "InboxQueue", "_html_chunks", "build_application", "split_text"]

log = logging.getLogger(__name__)
PREFIX = "tg:"
TYPING_EVERY_S = 4.5  # Telegram shows "typing" for about 5 s
SWEEP_EVERY_S = 30.0  # due reminders, and replies another replica left behind
PRUNE_EVERY_S = 3600.0
GROUP_QUIET_S = 3600.0  # a group hears "talk to me privately" at most this often
APOLOGY = (
    "Sorry, something went wrong on my side, and your last message was not recorded. "
    "Your earlier answers are saved; please send it again."
)
PREPARING = (
    "Preparing the course recommendations for your result: the course index is being "
    "built, which takes a few minutes the first time. Your answers are saved."
)


def user_id(update: Incoming) -> str:
    user = update.user_id()
    if user is not None:
        return f"{PREFIX}{user}"
    chat = update.chat()
    return f"tg-chat:{chat[0] if chat else 0}"


# Per-chat order ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Ticket:
    update_id: int
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    taken: bool = False


class ChatTurns:
    """One line per chat: tickets are taken on arrival, without awaiting anything, and a
    handler runs only when its ticket is first. Waiting tickets stay in update-id order."""

    def __init__(self) -> None:
        self._lines: dict[int, list[_Ticket]] = {}

    def admit(self, chat_id: int, update_id: int) -> _Ticket:
        line = self._lines.setdefault(chat_id, [])
        ticket = _Ticket(update_id)
        index = len(line)
        while index > 1 and line[index - 1].update_id > update_id and not line[index - 1].taken:
            index -= 1  # the first ticket may be running: never go before it
        line.insert(index, ticket)
        if index == 0:
            ticket.ready.set()
        return ticket

    @asynccontextmanager
    async def turn(self, chat_id: int, update_id: int) -> AsyncIterator[None]:
        """Wait for this update's turn in its chat (admitting it now if it was not admitted)."""
        line = self._lines.get(chat_id, [])
        ticket = next((t for t in line if t.update_id == update_id and not t.taken), None)
        if ticket is None:
            ticket = self.admit(chat_id, update_id)
        ticket.taken = True
        try:
            await ticket.ready.wait()
            yield
        finally:
            self._release(chat_id, ticket)

    def _release(self, chat_id: int, ticket: _Ticket) -> None:
        line = self._lines.get(chat_id)
        if line is None or ticket not in line:
            return
        first = line[0] is ticket
        line.remove(ticket)
        if not line:
            del self._lines[chat_id]
        elif first:
            line[0].ready.set()

    def waiting(self) -> int:
        return sum(len(line) for line in self._lines.values())

    def queued(self, chat_id: int, update_id: int) -> bool:
        """Whether this process holds a turn (running or waiting) for this update."""
        return any(t.update_id == update_id for t in self._lines.get(chat_id, ()))


NOTHING_EARLIER = Earlier([], [])
# How long the next getUpdates waits for the last batch's turns before storing the unhandled
# ones (a guided turn takes a few milliseconds; a slow one is stored and polling goes on).
ACK_WAIT_S = 0.05
SWEEP = -1  # the ticket of a sweep (reminders, leftover replies): it needs no update


class InboxQueue(asyncio.Queue[object]):
    """PTB's update queue: an update takes its chat's turn here. A webhook's is stored before
    its HTTP 200 acknowledges it; a polled one is acknowledged by the next getUpdates only
    once it is handled, or stored if its turn takes longer (`Bot.settle`)."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.bot = bot
        bot.inbox = self

    async def put(self, item: object) -> None:
        from telegram import Update

        if isinstance(item, Update):  # a webhook's, parsed by PTB already
            item = Incoming.of(item)
        chat = item.chat() if isinstance(item, Incoming) else None
        if isinstance(item, Incoming) and self.bot.polling:
            # Acknowledged by the next getUpdates, which first waits for it (`Bot.settle`).
            if chat is not None:
                self.bot.turns.admit(chat[0], item.update_id)  # before any await
                self.bot.defer(item, chat[0])
        elif isinstance(item, Incoming) and chat is not None:
            chat_id = chat[0]
            self.bot.turns.admit(chat_id, item.update_id)  # before any await
            order = self.bot.order
            try:
                _, seen = await asyncio.to_thread(
                    self.bot.deliveries.receive_and_look, self.bot.bot_id, item.update_id,
                    chat_id, item.raw, self.bot.owner, order.receipt_window,
                )  # fmt: skip
                if seen is not None:
                    order.note_receipt(chat_id, item.update_id, seen)
            except Exception as exc:
                # The store is broken: handle the update anyway, so the person hears that
                # something went wrong instead of silence (it cannot be replayed, then).
                log.error("could not store an incoming update: %s", type(exc).__name__)
        elif isinstance(item, Incoming):
            # No chat (nothing to answer), but its id is known to be used: another replica
            # does not wait for it as if it were still on its way.
            try:
                await asyncio.to_thread(
                    self.bot.deliveries.mark_handled, self.bot.bot_id, item.update_id, None
                )
            except Exception as exc:  # a redelivery, or a broken store: only a short wait
                log.debug("could not note an update without a chat: %s", type(exc).__name__)
        await super().put(item)

    def replay(self, item: Incoming) -> None:
        """Queue an update stored earlier but never handled (the bot stopped in between)."""
        chat = item.chat()
        if chat is not None:
            self.bot.turns.admit(chat[0], item.update_id)
        self.put_nowait(item)


# The handlers ---------------------------------------------------------------------------------


@dataclass
class _Waiting:
    """A turn in progress, for the course-index progress listener (which runs in a thread)."""

    loop: asyncio.AbstractEventLoop
    chat_id: int
    bot: Any
    told: bool = False
    said: list[Any] = field(default_factory=list)  # futures of the messages it sent


class _Typing:
    """Show "typing" only when the answer takes a while: every call counts against Telegram's
    limits, and most replies take a few milliseconds. Then keep it shown until `cancel`.
    A timer, not a task, waits for the delay: most turns end before it, and a timer costs
    far less to start and cancel."""

    def __init__(self, bot: Bot, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        self._task: asyncio.Task[None] | None = None
        delay = bot.typing_delay if bot.typing_delay > 0 else TYPING_EVERY_S
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._start, bot, context, chat_id)

    def _start(self, bot: Bot, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        self._task = asyncio.get_running_loop().create_task(bot._keep_typing(context, chat_id))

    def cancel(self) -> None:
        self._timer.cancel()
        if self._task is not None:
            self._task.cancel()


_TURN: contextvars.ContextVar[_Waiting | None] = contextvars.ContextVar("turn", default=None)


class Bot:
    """Handlers and their shared state: the engine, chat turns, the outbox sender."""

    def __init__(
        self,
        engine: Engine,
        bot_id: str,
        owner: str | None = None,
        typing_delay: float = 0.3,
        backoff: Sequence[float] = BACKOFF_S,
        grace: float = 0.0,
        stopped_after: float = STOPPED_AFTER_S,
        polling: bool = False,
        ack_wait: float = ACK_WAIT_S,
    ) -> None:
        self.engine = engine
        self.bot_id = bot_id
        self.deliveries = engine.store.deliveries
        self.owner = owner or engine.settings.replica_name
        self.typing_delay = typing_delay
        self.turns = ChatTurns()
        self.order = CrossOrder(self.deliveries, bot_id, self.owner, grace, stopped_after)
        self.inbox: InboxQueue | None = None
        self.sender = Sender(self.deliveries, bot_id, self.owner, backoff, alone=polling)
        # The latest keyboard of messages with toggles: two quick presses must not both start
        # from the snapshot Telegram attached to each press.
        self._keyboards: OrderedDict[tuple[int, int], InlineKeyboardMarkup] = OrderedDict()
        self._groups_told: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Polling: updates of the last getUpdates not yet acknowledged, with their chat and
        # whether they were handled (the future's result; False: handling failed).
        self.polling = polling
        self.ack_wait = ack_wait
        self._unacked: dict[int, tuple[Incoming, int, asyncio.Future[bool]]] = {}

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run start-up work next to the application (it runs before PTB's own tasks exist)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)

    # Acknowledging polled updates -------------------------------------------------------------

    def defer(self, item: Incoming, chat_id: int) -> None:
        """Hold a polled update's acknowledgement until it is handled (see `settle`).

        Its turn looks for earlier updates of the chat stored by another replica (a
        handover) in the answer's own transaction (`Delivery.look_earlier`): nothing else
        can have stored any, so there is nothing to look at before the turn.
        """
        self.order.note_receipt(chat_id, item.update_id, NOTHING_EARLIER)
        future = asyncio.get_running_loop().create_future()
        self._unacked[item.update_id] = (item, chat_id, future)

    def handled_now(self, update_id: int, handled: bool = True) -> None:
        """The update's handled mark has committed: it may be acknowledged (`handled=False`:
        its handling ended without one, so it is stored before it is acknowledged)."""
        entry = self._unacked.get(update_id)
        if entry is not None and not entry[2].done():
            entry[2].set_result(handled)

    async def settle(self) -> None:
        """Before a getUpdates acknowledges the updates polled so far: wait up to `ack_wait`
        for their turns, and store those not handled by then (with their raw update, as a
        webhook's are), so that none is acknowledged before it is safe. A crash before the
        acknowledgement costs nothing: Telegram sends the updates again.

        Most turns take a few milliseconds, so most updates are never stored: a transaction
        and the person's raw message fewer per update. A slow turn (a language model, the
        final audit) delays the next poll by `ack_wait` at most.
        """
        if not self._unacked:
            return
        waiting = [future for _, _, future in self._unacked.values() if not future.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=self.ack_wait)
        unhandled = [
            (update_id, chat_id, item.raw)
            for update_id, (item, chat_id, future) in self._unacked.items()
            if not (future.done() and future.result())
        ]
        if unhandled:
            try:
                await asyncio.to_thread(
                    self.deliveries.keep_unhandled, self.bot_id, unhandled, self.owner
                )
            except Exception as exc:
                # The store is broken: acknowledge anyway (Telegram would otherwise send
                # the batch again and again); the turns say that something went wrong.
                log.error("could not store polled updates: %s", type(exc).__name__)
        self._unacked.clear()

    # Handling -------------------------------------------------------------------------------

    async def on_update(self, update: Incoming, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every update goes through here, in its chat's turn, after the chat's earlier
        updates wherever they were received (bots/telegram_replicas.py)."""
        chat = update.chat()
        if chat is None:
            return
        try:
            await self._in_turn(update, context, chat[0])
        finally:
            self.handled_now(update.update_id, False)  # a no-op once it was handled

    async def _in_turn(
        self, update: Incoming, context: ContextTypes.DEFAULT_TYPE, chat_id: int
    ) -> None:
        # A polled update's first attempt looks for earlier ones elsewhere in its answer's
        # transaction; after that finds one, `order.ready` looks at the store itself.
        look_earlier = self.polling

        def queued(update_id: int) -> bool:
            return self.turns.queued(chat_id, update_id)

        async def take(raw: dict[str, Any]) -> None:
            await self._handle_raw(raw, context)

        while True:
            async with self.turns.turn(chat_id, update.update_id):
                if await self.order.ready(chat_id, update.update_id, queued, take):
                    if await self._handle(update, context, look_earlier):
                        return
                    look_earlier = False  # blocked by an earlier update stored elsewhere
            # An earlier update of the chat is queued here behind this one (or stored by
            # another replica): leaving the turn and taking it again puts this one after it.

    async def _handle_raw(self, raw: dict[str, Any], context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle a stored update taken over from a stopped replica, in the current turn."""
        update = Incoming(raw, context.bot)
        if update.chat() is not None:
            await self._handle(update, context, False)

    def _delivery(
        self, update_id: int, chat_id: int, kind: str, look_earlier: bool, **more: Any
    ) -> Delivery:
        return Delivery(
            self.bot_id, update_id, chat_id, kind, sender=self.owner,
            stored=update_id not in self._unacked, look_earlier=look_earlier, **more,
        )  # fmt: skip

    async def _handle(
        self, incoming: Incoming, context: ContextTypes.DEFAULT_TYPE, look_earlier: bool
    ) -> bool:
        """Handle one update in its chat's turn; False when it was not, since an earlier
        update of the chat waits stored by another replica (only with `look_earlier`)."""
        from telegram.constants import ChatType

        typed = incoming.private_text()
        if typed is not None:  # the usual update, read without PTB's objects
            return await self._handle_text(incoming, context, typed, look_earlier)
        update = incoming.update()
        chat = update.effective_chat
        assert chat is not None
        query = update.callback_query
        press = read_press(query.data if isinstance(query.data, str) else None) if query else None
        if chat.type != ChatType.PRIVATE or (press is not None and press.kind == "toggle"):
            # Answered without the engine, so checked here: a redelivered toggle must not
            # flip the option back.
            if await asyncio.to_thread(self.deliveries.handled, self.bot_id, update.update_id):
                self.handled_now(update.update_id)
                return True
            if chat.type != ChatType.PRIVATE:
                await self._group(update, context)
            elif query is not None and press is not None:
                await self._answer_query(query)
                await self._toggle(context, query, press.value)
            await asyncio.to_thread(
                self.deliveries.mark_handled, self.bot_id, update.update_id, chat.id
            )
            self.handled_now(update.update_id)
            return True
        delivery: Delivery
        text = ""
        if query is not None and press is not None:
            await self._answer_query(query)
            markup = self._markup_of(query)
            if press.kind == "done":
                text = ", ".join(ticked(markup)) or "none"
            elif press.kind == "label":
                text = label_at(markup, press.index) or ""
            else:
                text = press.value
            bound = None if press.kind == "command" else press.key
            delivery = self._delivery(update.update_id, chat.id, "text", look_earlier, bound=bound)
            if query.message is not None:  # pressed: its buttons are done (old ones are refused)
                await self._drop_keyboard(context, chat.id, query.message.message_id)
        elif update.edited_message is not None or update.edited_channel_post is not None:
            delivery = self._delivery(update.update_id, chat.id, "edit", look_earlier)
        elif update.message is not None and update.message.document is not None:
            limit = self.engine.settings.max_upload_bytes
            upload, refused = await _fetch(context.bot, update.message.document, limit)
            text = update.message.caption or ""
            delivery = self._delivery(
                update.update_id, chat.id, "upload", look_earlier, upload=upload, refused=refused
            )
        elif update.message is not None and update.message.text is not None:
            text = _command_text(update.message.text)
            delivery = self._delivery(update.update_id, chat.id, "text", look_earlier)
        else:  # a sticker, photo, voice message, location...
            delivery = self._delivery(update.update_id, chat.id, "unsupported", look_earlier)
        claimed = await self._answer(incoming, context, text, delivery)
        if claimed is None:
            return False
        # The answer's transaction leased the chat's pending rows (its reply among them);
        # after an apology or a redelivery the sender claims them itself.
        await self.sender.flush(context.bot, chat.id, claimed or None)
        return True

    async def _handle_text(
        self, incoming: Incoming, context: ContextTypes.DEFAULT_TYPE, typed: str,
        look_earlier: bool,
    ) -> bool:  # fmt: skip
        """A new text message in a private chat: the engine's answer, then the chat's outbox."""
        chat_id = int(incoming.raw["message"]["chat"]["id"])
        delivery = self._delivery(incoming.update_id, chat_id, "text", look_earlier)
        claimed = await self._answer(incoming, context, _command_text(typed), delivery)
        if claimed is None:
            return False
        await self.sender.flush(context.bot, chat_id, claimed or None)
        return True

    async def _answer(
        self,
        update: Incoming,
        context: ContextTypes.DEFAULT_TYPE,
        text: str,
        delivery: Delivery,
    ) -> list[Pending] | None:
        """The engine's answer (kept in the outbox), with "typing" and progress while it works;
        on an error, an apology in its place. Returns the chat's outbox rows the answer's
        transaction leased to this sender (none after an apology or a redelivery; None when
        nothing was answered: an earlier update of the chat waits elsewhere)."""
        chat_id = delivery.chat_id
        who = user_id(update)
        if self.typing_delay <= 0:
            await self._typing(context, chat_id)  # always show it first
        typing = _Typing(self, context, chat_id)
        waiting = _Waiting(asyncio.get_running_loop(), chat_id, context.bot)
        token = _TURN.set(waiting)
        try:
            answered = await self.engine.answer_update(who, text, delivery, Asker.REMOTE)
            if answered.blocked:
                return None
            self.handled_now(delivery.update_id)
            return answered.claimed
        except Exception as exc:
            log.error("error while handling an update: %s", type(exc).__name__, exc_info=exc)
            await self._apologise(context, delivery, who, exc)
            return []
        finally:
            _TURN.reset(token)
            typing.cancel()
            for said in waiting.said:  # the progress note goes out before the reply
                await asyncio.wrap_future(said)

    async def _apologise(
        self, context: ContextTypes.DEFAULT_TYPE, delivery: Delivery, who: str, error: Exception
    ) -> None:
        from agent.errors import SkillAuditError

        text = APOLOGY
        if isinstance(error, SkillAuditError):  # e.g. a full disk: say what it was
            text = f"{error} Your last message was not recorded; please send it again."
        try:
            if await asyncio.to_thread(self.deliveries.handled, self.bot_id, delivery.update_id):
                self.handled_now(delivery.update_id)
                return  # the answer committed (the error came after): its reply is pending
            await asyncio.to_thread(
                self.deliveries.record, self.bot_id, delivery.chat_id, who,
                {"reply": {"text": text}}, "apology", delivery.update_id,
            )  # fmt: skip
            self.handled_now(delivery.update_id)
        except Exception:  # the store itself failed: say it directly, once
            log.error("could not record an apology; sending it directly", exc_info=True)
            await context.bot.send_message(delivery.chat_id, text)

    # Progress while the engine works ------------------------------------------------------

    async def _keep_typing(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        while True:
            await self._typing(context, chat_id)
            await asyncio.sleep(TYPING_EVERY_S)

    @staticmethod
    async def _typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        from telegram.constants import ChatAction
        from telegram.error import TelegramError

        try:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:  # a hint only: never worth failing a turn
            log.debug("typing action failed: %s", type(exc).__name__)

    def progress(self, what: str, done: int, total: int) -> None:
        """The course index's progress listener: the turn that waits for it (this thread's
        context says which) hears once that its result is being prepared."""
        waiting = _TURN.get()
        if waiting is None or waiting.told:
            return
        waiting.told = True
        said = asyncio.run_coroutine_threadsafe(
            _say(waiting.bot, waiting.chat_id, PREPARING), waiting.loop
        )
        waiting.said.append(said)

    # Buttons --------------------------------------------------------------------------------

    @staticmethod
    async def _answer_query(query: CallbackQuery) -> None:
        from telegram.error import TelegramError

        try:
            await query.answer()
        except TelegramError as exc:  # too old after a restart: the press is still handled
            log.debug("callback query not answered: %s", type(exc).__name__)

    def _markup_of(self, query: CallbackQuery) -> InlineKeyboardMarkup | None:
        message = query.message
        if message is None:
            return None
        chat_id = message.chat.id
        cached = self._keyboards.get((chat_id, message.message_id))
        if cached is not None:
            return cached
        markup = getattr(message, "reply_markup", None)
        return markup if markup is not None else None

    async def _toggle(
        self, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, value: str
    ) -> None:
        """Tick or untick one option of a "pick all that apply" keyboard; nothing is answered
        until Done. Replaying the same press gives the same keyboard, so a redelivery is harmless."""
        from telegram.error import BadRequest

        message = query.message
        current = self._markup_of(query)
        if message is None or current is None:
            return
        changed = toggled(current, value)
        if changed is None:
            return
        key = (message.chat.id, message.message_id)
        self._keyboards[key] = changed
        self._keyboards.move_to_end(key)
        while len(self._keyboards) > 2000:
            self._keyboards.popitem(last=False)
        try:
            await context.bot.edit_message_reply_markup(
                message.chat.id, message.message_id, reply_markup=changed
            )
        except BadRequest as exc:  # "not modified" after a redelivery
            log.debug("keyboard not changed: %s", exc.message)

    async def _drop_keyboard(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int
    ) -> None:
        """Remove the buttons of a pressed message (a press of an old one is refused anyway)."""
        from telegram.error import TelegramError

        self._keyboards.pop((chat_id, message_id), None)
        try:
            await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except TelegramError as exc:  # already removed, or the message is gone
            log.debug("keyboard not removed: %s", type(exc).__name__)

    # Groups -----------------------------------------------------------------------------------

    async def _group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Audits are personal: answer commands meant for this bot, once in a while."""
        chat = update.effective_chat
        message = update.effective_message
        assert chat is not None
        text = message.text if message is not None and message.text else ""
        if update.callback_query is None:
            command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
            _, at, target = command.partition("@")
            if not command or (at and target.lower() != (context.bot.username or "").lower()):
                return
        now = time.monotonic()
        if now - self._groups_told.get(chat.id, -GROUP_QUIET_S) < GROUP_QUIET_S:
            return
        self._groups_told[chat.id] = now
        username = context.bot.username
        await context.bot.send_message(
            chat.id, f"Audits are personal: talk to me privately at https://t.me/{username}"
        )

    # Sweeps -----------------------------------------------------------------------------------

    async def sweep(self, bot: Any) -> None:
        """Take over what stopped replicas left (updates, outbox leases), queue due reminders
        and send every reply waiting for a chat this sender may take."""
        from agent.render import render_chat

        self.replay(bot, await asyncio.to_thread(self.order.take_over))
        await asyncio.to_thread(self.order.release_leases)
        await asyncio.to_thread(
            self.deliveries.queue_reminders, self.bot_id, PREFIX,
            lambda due: render_chat("reminder.j2", r=due),
        )  # fmt: skip
        chats = await asyncio.to_thread(self.deliveries.chats_waiting, self.bot_id, self.owner)
        await asyncio.gather(*(self._flush_in_turn(bot, chat) for chat in chats))

    def replay(self, bot: Any, raws: list[dict[str, Any]]) -> None:
        """Queue stored updates never handled (this replica's before a restart, or a stopped
        one's), in update-id order."""
        if self.inbox is None:
            return
        for raw in raws:
            self.inbox.replay(Incoming(raw, bot))

    async def _flush_in_turn(self, bot: Any, chat_id: int) -> None:
        async with self.turns.turn(chat_id, SWEEP):
            await self.sender.flush(bot, chat_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what escaped a handler (never the token) and apologise to the person."""
        log.error(
            "error while handling an update: %s",
            type(context.error).__name__,
            exc_info=context.error,
        )
        chat = update.chat() if isinstance(update, Incoming) else None
        if chat is not None:
            await context.bot.send_message(chat[0], APOLOGY)


async def _say(bot: Any, chat_id: int, text: str) -> None:
    from telegram.error import TelegramError

    try:
        await bot.send_message(chat_id, text)
    except TelegramError as exc:
        log.debug("progress message not sent: %s", type(exc).__name__)


async def _fetch(bot: Any, document: Any, limit: int) -> tuple[Upload | None, str]:
    from bots.telegram_files import fetch

    return await fetch(bot, document, limit)


def _command_text(text: str) -> str:
    """A command without its @botname ("/start@bot CODE" is "/start CODE"); text as it is."""
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        return command.split("@", 1)[0] + (f" {rest}" if rest else "")
    return text


def build_application(
    engine: Engine,
    token: str,
    base_url: str | None = None,
    typing_delay: float = 0.3,
    backoff: Sequence[float] = BACKOFF_S,
    sweep_every: float = SWEEP_EVERY_S,
    webhook: bool = False,
    grace: float | None = None,
    heartbeat_every: float = HEARTBEAT_EVERY_S,
    stopped_after: float = STOPPED_AFTER_S,
    ack_wait: float = ACK_WAIT_S,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Wire the inbox, handlers, the rate limiter, commands and the sweeps in one place.

    `webhook`: updates arrive by webhook, perhaps split between replicas by a proxy, so an
    update waits up to `grace` (GRACE_S) for the ids just below it still on their way.
    Polling: the next getUpdates waits up to `ack_wait` for the last batch's turns.
    """
    from telegram.ext import ApplicationBuilder, TypeHandler

    from agent.redact import redact_secrets

    # Bot API URLs carry the token, and httpx and PTB log URLs: mask it in every record.
    redact_secrets([token])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if grace is None:
        grace = GRACE_S if webhook else 0.0  # polling has one receiver: nothing in flight
    bot = Bot(
        engine, token.partition(":")[0], typing_delay=typing_delay, backoff=backoff,
        grace=grace, stopped_after=stopped_after, polling=not webhook, ack_wait=ack_wait,
    )  # fmt: skip
    if engine.recommender.progress is None:
        engine.recommender.progress = bot.progress
    # No AIORateLimiter: it cost about 1 ms of CPU per call. Replies are spaced by the
    # sender's own throttle, and a 429 is waited out and retried there.
    from bots.telegram_http import AiohttpRequest

    updates_request = AiohttpRequest(connection_pool_size=1)
    urls = {}
    if base_url:
        # The server root (http://127.0.0.1:8081): the Bot API paths are added here.
        root = base_url.rstrip("/")
        urls = {"base_url": f"{root}/bot", "base_file_url": f"{root}/file/bot"}
    # aiohttp: half the CPU per Bot API call of PTB's default httpx request. Polling gets
    # updates as dicts, parsed by PTB only when needed (bots/telegram_updates.py).
    telegram_bot = PollingBot(
        token, request=AiohttpRequest(), get_updates_request=updates_request,
        poll_read_timeout=updates_request.read_timeout, settle=bot.settle if bot.polling else None,
        **urls,
    )  # fmt: skip
    builder = (
        ApplicationBuilder()
        .bot(telegram_bot)
        .concurrent_updates(True)
        .update_queue(InboxQueue(bot))
    )

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        from telegram import BotCommand

        from agent.commands import menu

        commands = menu(with_llm=engine.llm is not None)
        await app.bot.set_my_commands([BotCommand(c.name, c.about[:256]) for c in commands])
        # Alive before anything is taken over (a replica that never beat counts as stopped).
        await asyncio.to_thread(bot.order.beat)
        # What this replica (under its name) or a stopped one left: replies to send first,
        # then updates never handled.
        await asyncio.to_thread(bot.order.release_leases)
        for chat_id in await asyncio.to_thread(bot.deliveries.chats_waiting, bot.bot_id, bot.owner):
            bot.turns.admit(chat_id, SWEEP)  # before the replayed updates of the chat
            bot.background(_flush_admitted(bot, app.bot, chat_id))
        bot.replay(app.bot, await asyncio.to_thread(bot.order.take_over, True))
        await asyncio.to_thread(bot.deliveries.prune)
        bot.background(_sweep_safely(bot, app.bot))  # reminders due while the bot was down
        if app.job_queue is not None:
            app.job_queue.run_repeating(
                _heartbeat_job, interval=heartbeat_every, first=heartbeat_every, data=bot
            )
            app.job_queue.run_repeating(_sweep_job, interval=sweep_every, data=bot)
            app.job_queue.run_repeating(_prune_job, interval=PRUNE_EVERY_S, data=bot)

    app = builder.post_init(post_init).build()
    app.add_handler(TypeHandler(Incoming, bot.on_update))
    app.add_error_handler(bot.on_error)
    app.bot_data["skillaudit"] = bot
    return app


async def _flush_admitted(bot: Bot, telegram_bot: Any, chat_id: int) -> None:
    """Send a chat's pending replies in the turn admitted for them at start."""
    async with bot.turns.turn(chat_id, SWEEP):
        await bot.sender.flush(telegram_bot, chat_id)


async def _sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is not None and isinstance(job.data, Bot):
        await _sweep_safely(job.data, context.bot)


async def _sweep_safely(bot: Bot, telegram_bot: Any) -> None:
    try:
        await bot.sweep(telegram_bot)
    except Exception:  # the next sweep tries again; the bot goes on
        log.warning("the reminder and outbox sweep failed", exc_info=True)


async def _heartbeat_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is not None and isinstance(job.data, Bot):
        try:
            await asyncio.to_thread(job.data.order.beat)
        except Exception as exc:  # the next beat tries again
            log.warning("could not record this replica's heartbeat: %s", type(exc).__name__)


async def _prune_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is not None and isinstance(job.data, Bot):
        await asyncio.to_thread(job.data.deliveries.prune)
