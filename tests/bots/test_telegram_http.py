"""The bot's HTTP requests (bots/telegram_http.py): real python-telegram-bot calls through
aiohttp against the fake Bot API, and the errors PTB expects when the transport fails."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
from collections.abc import Iterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bots.telegram_http import AiohttpRequest
from bots.telegram_updates import PollingBot
from tests.bots.replica_support import free_port
from tests.fakes.telegram_server import FakeTelegram

TOKEN = "123456:http-token"


def bot_at(url: str, request: AiohttpRequest) -> Bot:
    root = url.rstrip("/")
    return Bot(
        TOKEN, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot",
        request=request, get_updates_request=request,
    )  # fmt: skip


def test_calls_forms_and_uploads_reach_the_bot_api() -> None:
    async def scenario(fake: FakeTelegram) -> None:
        async with bot_at(fake.url, AiohttpRequest()) as bot:  # initialize(): getMe
            sent = await bot.send_message(5, "<b>caf\u00e9</b> & co", parse_mode="HTML")
            assert sent.text == "caf\u00e9 & co"
            await bot.send_document(
                5, io.BytesIO(b"%PDF-1.4 tiny"), filename="r\u00e9sum\u00e9.pdf", caption="CV"
            )
            fake.user_says(5, "hello")
            [update] = await bot.get_updates(timeout=1)
            assert update.message is not None and update.message.text == "hello"

    with FakeTelegram(TOKEN) as fake:
        asyncio.run(scenario(fake))
        message, document = [a for a in fake.sent(5) if a["method"] != "getMe"]
        assert message["params"]["parse_mode"] == "HTML"
        upload = document["files"]["document"]
        assert upload["data"] == b"%PDF-1.4 tiny" and upload["filename"] == "r\u00e9sum\u00e9.pdf"
        assert document["params"]["caption"] == "CV"


def test_polling_hands_over_each_update_as_telegram_sent_it() -> None:
    """The inbox stores what Telegram sent, and a private text is read without PTB's
    objects; a press, a group message and a channel post are read through PTB's."""
    sent = {
        "update_id": 77,
        "message": {
            "message_id": 3, "date": 1767225600, "text": "3 years",
            "chat": {"id": 5, "type": "private", "first_name": "Ada"},
            "from": {"id": 9, "is_bot": False, "first_name": "Ada"},
        },
    }  # fmt: skip

    async def scenario(fake: FakeTelegram) -> None:
        root = fake.url.rstrip("/")
        bot = PollingBot(
            TOKEN, base_url=f"{root}/bot", request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )  # fmt: skip
        async with bot:
            queued = fake.queue_raw(sent)
            [update] = await bot.get_updates(timeout=1)
            assert update.raw == queued == sent
            assert update.update_id == 77 and update.chat() == (5, "private")
            assert update.user_id() == 9 and update.private_text() == "3 years"
            assert update._parsed is None  # nothing parsed for a plain message
            button = InlineKeyboardButton("One", callback_data="a|key|1")
            markup = InlineKeyboardMarkup([[button]])
            message = await bot.send_message(5, "Which option?", reply_markup=markup)
            fake.user_presses(5, message.message_id, "a|key|1")
            [press] = await bot.get_updates(offset=78, timeout=1)
            assert press.private_text() is None and press.chat() == (5, "private")
            assert press.update().callback_query is not None and press.user_id() == 5
            fake.user_says(-100, "/help", chat_type="group")
            [group] = await bot.get_updates(offset=press.update_id + 1, timeout=1)
            assert group.chat() == (-100, "group") and group.private_text() is None
            # A kind this PTB cannot parse (a poll without a field newer Bot APIs require) has
            # no chat here: noted, not answered, and polling goes on.
            fake.queue_raw({"update_id": group.update_id + 1, "poll": {
                "id": "1", "question": "?", "options": [], "total_voter_count": 0,
                "is_closed": False, "is_anonymous": True, "type": "regular",
                "allows_multiple_answers": False,
            }})  # fmt: skip
            [poll] = await bot.get_updates(offset=group.update_id + 1, timeout=1)
            assert poll.chat() is None and poll.user_id() is None

    with FakeTelegram(TOKEN) as fake:
        asyncio.run(scenario(fake))


def test_an_unreachable_server_is_a_network_error() -> None:
    async def scenario() -> None:
        request = AiohttpRequest()
        await request.initialize()
        try:
            with pytest.raises(NetworkError, match="aiohttp"):
                await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
        finally:
            await request.shutdown()

    asyncio.run(scenario())


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_server_that_never_answers_is_a_timeout(silent_server: int) -> None:
    async def scenario() -> None:
        request = AiohttpRequest(read_timeout=0.05)
        await request.initialize()
        try:
            with pytest.raises(TimedOut):
                await request.post(f"http://127.0.0.1:{silent_server}/bot{TOKEN}/getMe")
        finally:
            await request.shutdown()

    asyncio.run(scenario())


def test_a_request_before_initialize_or_after_shutdown_is_refused() -> None:
    async def scenario() -> None:
        request = AiohttpRequest()
        with pytest.raises(RuntimeError, match="not initialized"):
            await request.do_request("http://127.0.0.1:1/", "GET")
        await request.initialize()
        await request.initialize()  # twice is harmless (PTB may)
        await request.shutdown()
        with pytest.raises(RuntimeError, match="not initialized"):
            await request.do_request("http://127.0.0.1:1/", "GET")

    asyncio.run(scenario())


def test_a_proxy_named_in_the_environment_carries_the_calls_unless_no_proxy_says_otherwise(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy here never answers: a call that went through it times out, one that went
    straight to the fake Bot API succeeds (without a timeout, so load cannot fail it)."""
    with FakeTelegram(TOKEN) as fake:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{silent_server}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)

        async def get_me(read_timeout: float | None) -> None:
            request = AiohttpRequest(read_timeout=read_timeout)
            await request.initialize()
            try:
                await request.post(f"{fake.url.rstrip('/')}/bot{TOKEN}/getMe")
            finally:
                await request.shutdown()

        with pytest.raises(TimedOut):
            asyncio.run(get_me(0.05))  # the proxy never answers: any timeout ends it
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        asyncio.run(get_me(None))  # no timeout: a loaded machine only makes it slower
        assert fake.count(None, "getMe") == 1


def test_the_poll_timeout_is_sent_as_whole_seconds_as_ptb_sends_it() -> None:
    """The Bot API's getUpdates `timeout` is an Integer: a timedelta of 10 s goes as "10"."""
    import datetime as dt

    from bots.telegram_updates import _seconds

    assert _seconds(dt.timedelta(seconds=10)) == 10 and isinstance(_seconds(10.0), int)
    assert _seconds(1.5) == 1.5 and _seconds(None) is None
