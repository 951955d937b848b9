"""The real python-telegram-bot against the fake Bot API: commands, buttons, uploads, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import struct
import threading
import zlib
from collections.abc import Iterator

import pytest

from tests.fakes.telegram_server import HANG_GUARD_S, FakeTelegram

TOKEN = "123456:smoke-test-token"
CHAT = 4242
# Bytes that would break a sloppy multipart parser: CRLFs, a fake delimiter, NUL, non-UTF-8.
AWKWARD = b"a,b\r\n1,2\r\n--boundary\r\n\r\n\x00\xff\xfe" * 50


def tiny_png(width: int = 2, height: int = 1) -> bytes:
    """A valid RGB PNG built by hand, so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def no_stray_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Set PTB_TIMEDELTA (no deprecation warning) and check that no thread outlives a test."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        # A thread that ends is waited for, however slowly; only one that never ends fails.
        thread.join(timeout=HANG_GUARD_S)
    stray = {t for t in set(threading.enumerate()) - before if t.is_alive()}
    assert not stray, f"threads left running: {stray}"


def test_an_application_polls_answers_buttons_and_uploads() -> None:
    from telegram import (
        BotCommand,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        Update,
    )
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        buttons = [InlineKeyboardButton(t, callback_data=t.lower()) for t in ("Yes", "No")]
        await update.effective_message.reply_text(
            "<b>Ready?</b>", parse_mode="HTML", reply_markup=InlineKeyboardMarkup([buttons])
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Noted")
        await query.edit_message_text(f"You chose {query.data}")

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        data = await file.download_as_bytearray()
        await update.message.reply_text(f"got {hashlib.sha256(data).hexdigest()}")

    async def scenario(fake: FakeTelegram) -> None:
        app = (
            Application.builder()
            .token(TOKEN)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(pressed))
        app.add_handler(MessageHandler(filters.Document.ALL, document))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                await app.bot.set_my_commands([BotCommand("start", "Begin the audit")])
                assert fake.commands == [{"command": "start", "description": "Begin the audit"}]
                assert app.bot.username == "skillaudit_test_bot"

                fake.user_says(CHAT, "/start")
                keyboard = await fake.wait_for_async(
                    lambda: [a for a in fake.sent(CHAT) if "reply_markup" in a["params"]]
                )
                shown = keyboard[0]["result"]
                assert shown["text"] == "Ready?"  # HTML tags are markup, not text
                assert shown["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "no"

                fake.user_presses(CHAT, shown["message_id"], "yes")
                await fake.wait_for_async(lambda: "editMessageText" in fake.methods())
                answer, edit = fake.sent(CHAT)[-2:]
                assert answer["method"] == "answerCallbackQuery"
                assert answer["params"]["text"] == "Noted"
                assert edit["result"]["text"] == "You chose yes"
                on_screen = fake.messages(CHAT)[-1]
                assert on_screen["text"] == "You chose yes" and "reply_markup" not in on_screen

                png = tiny_png()
                photo = await app.bot.send_photo(CHAT, png, caption="chart")
                assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 1)
                name = 'résumé "v2".csv'
                sent = await app.bot.send_document(CHAT, AWKWARD, filename=name, caption="data")
                assert sent.document is not None and sent.document.file_name == name
                assert sent.document.file_size == len(AWKWARD)
                uploads = [a["files"] for a in fake.sent(CHAT)[-2:]]
                assert uploads[0]["photo"]["data"] == png
                assert uploads[1]["document"]["data"] == AWKWARD
                assert uploads[1]["document"]["filename"] == name
                assert uploads[1]["document"]["content_type"] == "text/csv"

                fake.user_sends_document(CHAT, AWKWARD, "cv.pdf", "application/pdf")
                digest = hashlib.sha256(AWKWARD).hexdigest()
                await fake.wait_for_async(lambda: f"got {digest}" in fake.texts(CHAT))
            finally:
                await app.updater.stop()
                await app.stop()
        assert fake.pending_updates() == 0 and not fake.crashes and not fake.unknown_methods

    with FakeTelegram(TOKEN) as fake:
        asyncio.run(scenario(fake))


def test_errors_come_back_as_telegram_sends_them() -> None:
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.error import BadRequest, InvalidToken, RetryAfter

    async def scenario(fake: FakeTelegram) -> None:
        async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
            fake.reject_html_once()
            with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
                await bot.send_message(CHAT, "<b>fine</b>", parse_mode="HTML")
            await bot.send_message(CHAT, "fine")
            failed, plain = fake.sent(CHAT, include_failed=True)
            assert not failed["ok"] and failed["params"]["parse_mode"] == "HTML"
            assert plain["ok"] and "parse_mode" not in plain["params"]
            assert fake.texts(CHAT) == ["fine"]

            with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
                await bot.send_message(CHAT, "a<br>b", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(CHAT, "x" * 4097)

            fake.fail_next("sendMessage", status=429, retry_after=3)
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(CHAT, "later")
            assert caught.value.retry_after == dt.timedelta(seconds=3)

            markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
            message = await bot.send_message(CHAT, "Pick", reply_markup=markup)
            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await bot.edit_message_text("Pick", CHAT, message.message_id, reply_markup=markup)
            with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                too_long = InlineKeyboardButton("Go", callback_data="x" * 65)
                await bot.send_message(
                    CHAT, "Pick", reply_markup=InlineKeyboardMarkup([[too_long]])
                )
            with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
                await bot.send_photo(CHAT, b"not an image")

        with pytest.raises(InvalidToken):
            async with Bot("999:wrong", base_url=fake.base_url) as stranger:
                await stranger.get_me()

    with FakeTelegram(TOKEN) as fake:
        asyncio.run(scenario(fake))


def test_a_redelivered_update_reaches_the_bot_again() -> None:
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    seen: list[tuple[int, str]] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append((update.update_id, update.message.text))

    async def scenario(fake: FakeTelegram) -> None:
        app = Application.builder().token(TOKEN).base_url(fake.base_url).build()
        app.add_handler(MessageHandler(filters.TEXT, record))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                first = fake.user_says(CHAT, "one")
                await fake.wait_for_async(lambda: len(seen) == 1)
                fake.queue_raw(first)
                fake.user_says(CHAT, "two")
                await fake.wait_for_async(lambda: len(seen) == 3)
            finally:
                await app.updater.stop()
                await app.stop()

    with FakeTelegram(TOKEN) as fake:
        asyncio.run(scenario(fake))
    first_id = seen[0][0]
    assert seen == [(first_id, "one"), (first_id, "one"), (first_id + 1, "two")]


def test_wait_for_times_out_with_the_recent_calls() -> None:
    with FakeTelegram(TOKEN) as fake, pytest.raises(AssertionError, match="updates not yet"):
        fake.user_says(CHAT, "hello")
        fake.wait_for(lambda: fake.texts(CHAT), timeout=0.2)


def test_batches_edits_media_and_the_call_hook() -> None:
    """What the crash and order tests rely on: a batch comes in one getUpdates, an edit is an
    edited_message, media have no text, and a hook can hang up before or after a call."""
    import json
    import urllib.error
    import urllib.request

    from tests.fakes.telegram_server import DropConnection

    def call(fake: FakeTelegram, method: str, **params: object) -> dict[str, object]:
        request = urllib.request.Request(
            f"{fake.base_url}{TOKEN}/{method}", data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=HANG_GUARD_S) as response:
            result: dict[str, object] = json.loads(response.read())
            return result

    with FakeTelegram(TOKEN, max_poll_s=0.05) as fake:
        with fake.batch():
            said = fake.user_says(CHAT, "3")
            fake.user_says(CHAT, "60%")
            assert call(fake, "getUpdates", timeout=0)["result"] == []  # held
        batch = call(fake, "getUpdates", timeout=0)["result"]
        assert isinstance(batch, list) and len(batch) == 2
        edited = fake.user_edits(CHAT, said["message"]["message_id"], "5")
        sticker = fake.user_sends_media(CHAT, "sticker")
        assert edited["edited_message"]["text"] == "5" and "edit_date" in edited["edited_message"]
        assert "text" not in sticker["message"] and "sticker" in sticker["message"]
        seen: list[tuple[str, str]] = []

        def hook(method: str, params: dict[str, object], phase: str) -> None:
            seen.append((method, phase))
            if method == "sendMessage" and phase == "after":
                raise DropConnection

        fake.on_call = hook
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            call(fake, "sendMessage", chat_id=CHAT, text="hello")
        assert fake.texts(CHAT) == ["hello"]  # applied, but its answer never came
        assert seen == [("sendMessage", "before"), ("sendMessage", "after")]
