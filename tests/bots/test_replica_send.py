"""Replies of one chat answered by two replicas: the second replica's reply is not left
waiting for a sweep when the first was still sending the chat's earlier one."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.store import Store
from bots.telegram_send import Sender
from tests.agent.test_store import store as store
from tests.fakes.telegram_server import FakeTelegram

TOKEN = "123456:TEST-send-token"
BOT = TOKEN.partition(":")[0]
CHAT = 40


def test_a_reply_left_by_another_replica_behind_this_ones_lease_goes_out_with_it(
    store: Store,
) -> None:
    """Replica b answers the chat's next update while replica a is sending the reply to the
    one before: b finds a's lease and leaves its row (a later row never overtakes an earlier
    one), so a, once done, sends it too, in order, instead of the sweep 30 s later."""
    from telegram import Bot

    deliveries = store.deliveries
    deliveries.record(BOT, CHAT, "tg:40", {"reply": {"text": "first reply"}}, "reply", 1)
    left: list[Any] = []

    def hook(method: str, params: dict[str, Any], phase: str) -> None:
        if method == "sendMessage" and phase == "before" and not left:
            deliveries.record(BOT, CHAT, "tg:40", {"reply": {"text": "second reply"}}, "reply", 2)
            left.append(deliveries.claim(BOT, CHAT, "b"))  # b's flush, in b's turn

    async def scenario(fake: FakeTelegram) -> None:
        async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
            await Sender(deliveries, BOT, "a").flush(bot, CHAT)

    with FakeTelegram(TOKEN) as fake:
        fake.on_call = hook
        asyncio.run(scenario(fake))
        assert left == [[]]  # b sent nothing: the chat's earlier row was a's
        assert fake.texts(CHAT) == ["first reply", "second reply"]
    assert deliveries.pending_count(BOT) == 0
