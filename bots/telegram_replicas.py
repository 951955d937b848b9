"""Per-chat order across bot replicas that share one database (webhook mode behind a proxy).

```mermaid
flowchart TD
    turn[the chat's turn in this process] --> look{earlier updates of the chat, still waiting?}
    look -- one of mine, queued here --> back[step back: it goes first]
    look -- another replica's, alive --> wait[wait for it to be handled, up to ORDER_WAIT_S]
    look -- a stopped replica's --> take[take it over: handle it here first]
    look -- none; ids just below not stored yet --> grace[webhook: wait up to GRACE_S for them]
    look -- none --> handle[handle this update]
    wait --> look
    take --> look
    grace --> look
```

Telegram numbers a bot's updates one by one, and a proxy in front of several replicas sends
update 5 of a chat to one and update 6 to another. Each update is stored with its receiver
before it is acknowledged, so before handling update 6 a replica asks the store what of the
chat is still waiting below 6, and who has it. Nothing here is a lock: the engine's own
per-person lock and handled mark keep every update handled once even when a slow replica is
wrongly taken for stopped; this only restores the order.

Each replica beats (`Deliveries.heartbeat`) every HEARTBEAT_EVERY_S; one silent for
STOPPED_AFTER_S is stopped, and what it received but never handled is claimed row by row
(`Deliveries.take_over`), so of two survivors only one takes each update.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.store import Deliveries
    from agent.store.outbox import Earlier

log = logging.getLogger(__name__)
HEARTBEAT_EVERY_S = 5.0
STOPPED_AFTER_S = 20.0  # four missed heartbeats: a busy replica is not taken for stopped
# How long an update just below this one may be on its way to another replica (received by
# the proxy, not yet stored): only in webhook mode, and only when such ids are missing. An
# update that reaches its replica later than this after the chat's next one may be handled
# after it: Telegram posts consecutive updates within milliseconds of each other.
GRACE_S = 0.25
GAP_WINDOW = 10  # how many ids below an update are looked at for ones in flight
# How long a turn waits for an alive replica to handle the chat's earlier update: longer
# than a language-model turn (SKILLAUDIT_LLM_DEADLINE, 45 s) and the turns queued before it.
ORDER_WAIT_S = 120.0
POLL_FIRST_S = 0.01
POLL_MAX_S = 0.25
REMEMBERED = 10_000  # updates given up on, not waited for again


class CrossOrder:
    """Decides, in a chat's turn, whether its update may be handled now (see the module)."""

    def __init__(
        self,
        deliveries: Deliveries,
        bot_id: str,
        name: str,
        grace: float = 0.0,
        stopped_after: float = STOPPED_AFTER_S,
        wait_limit: float = ORDER_WAIT_S,
    ) -> None:
        self.deliveries = deliveries
        self.bot_id = bot_id
        self.name = name
        self.grace = grace
        self.stopped_after = dt.timedelta(seconds=stopped_after)
        self.wait_limit = wait_limit
        self._given_up: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._receipts: OrderedDict[tuple[int, int], Earlier] = OrderedDict()

    @property
    def receipt_window(self) -> dt.timedelta | None:
        """What `receive_and_look` needs to read at receipt (None: nothing, with a grace the
        turn looks for itself)."""
        return self.stopped_after if self.grace <= 0 else None

    def note_receipt(self, chat_id: int, update_id: int, seen: Earlier) -> None:
        """What waited below an update when it was stored (`Deliveries.receive_and_look`).

        Without a grace (one receiver) that view is as good as a new look for the turn's
        first check: since then, earlier updates can only have been handled, and one that
        still waits is looked at again. It spares a query per update. A polling bot notes an
        empty view and its turn looks in the answer's own transaction instead
        (`Delivery.look_earlier`).
        """
        if self.grace > 0:
            return
        self._receipts[(chat_id, update_id)] = seen
        while len(self._receipts) > REMEMBERED:
            self._receipts.popitem(last=False)

    async def ready(
        self,
        chat_id: int,
        update_id: int,
        queued: Callable[[int], bool],
        take: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> bool:
        """Wait until the chat's earlier updates are handled; False: one of them is queued in
        this process behind this one, so this turn must step back and let it go first.

        `queued(update_id)` says whether this process holds a turn for that update; `take`
        handles a stopped replica's update here, in this turn.
        """
        now = time.monotonic()
        grace_end = now + self.grace
        deadline: float | None = None
        pause = POLL_FIRST_S
        window = GAP_WINDOW if self.grace > 0 else 0
        receipt = self._receipts.pop((chat_id, update_id), None)
        while True:
            looked_at = time.monotonic()  # what is seen below is at least this recent
            try:
                if receipt is not None:
                    seen, receipt = receipt, None
                else:
                    seen = await asyncio.to_thread(
                        self.deliveries.earlier, self.bot_id, chat_id, update_id, window,
                        self.stopped_after,
                    )  # fmt: skip
            except Exception as exc:  # the store is down: handling tells the person so
                log.warning("could not look for earlier updates: %s", type(exc).__name__)
                return True
            waiting = [w for w in seen.waiting if (chat_id, w.update_id) not in self._given_up]
            log.debug("update %d of chat %d: waiting %s, missing %s", update_id, chat_id,
                      waiting, seen.missing)  # fmt: skip
            if any(w.receiver == self.name and queued(w.update_id) for w in waiting):
                return False
            others = [w for w in waiting if w.receiver != self.name]
            if any(not w.alive for w in others):
                taken = await asyncio.to_thread(
                    self.deliveries.take_over, self.bot_id, self.name, self.stopped_after,
                    chat_id, update_id,
                )  # fmt: skip
                for raw in taken:
                    await take(raw)
                if taken:
                    continue  # look again: what is left, and the grace
            if not others and (not seen.missing or looked_at >= grace_end):
                return True
            now = time.monotonic()
            if others:
                deadline = deadline if deadline is not None else now + self.wait_limit
                if now >= deadline:
                    log.warning(
                        "update %d waited %.0f s for %d earlier ones of its chat; going on",
                        update_id, self.wait_limit, len(others),
                    )  # fmt: skip
                    self._give_up(chat_id, [w.update_id for w in others])
                    return True
                until = deadline
            else:
                until = grace_end
            await asyncio.sleep(max(0.0, min(pause, until - now)))
            pause = min(pause * 2, POLL_MAX_S)

    def _give_up(self, chat_id: int, update_ids: list[int]) -> None:
        for update_id in update_ids:
            self._given_up[(chat_id, update_id)] = None
        while len(self._given_up) > REMEMBERED:
            self._given_up.popitem(last=False)

    def beat(self) -> None:
        """Say that this replica is alive (blocking: run it in a thread)."""
        self.deliveries.heartbeat(self.bot_id, self.name)

    def take_over(self, own: bool = False) -> list[dict[str, Any]]:
        """Claim the unhandled updates of stopped replicas (and, at start, this one's own)."""
        return self.deliveries.take_over(self.bot_id, self.name, self.stopped_after, own=own)

    def release_leases(self) -> list[int]:
        """Free the outbox leases of stopped replicas; the chats whose rows were freed."""
        return self.deliveries.release_leases(self.bot_id, self.stopped_after)
