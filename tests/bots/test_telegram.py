"""The Telegram bot against a fake Bot API on 127.0.0.1, with the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import html
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from bots.telegram import LIMIT, _html_chunks, build_application, split_text
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent.conftest import TODAY
from tests.fakes.telegram_server import FakeTelegram, callback_data

os.environ.setdefault("PTB_TIMEDELTA", "1")
TOKEN = "123456:TEST-token-never-logged"
FULL = Path(__file__).resolve().parents[1] / "agent" / "transcripts" / "full_audit.yaml"


@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20000))
@settings(max_examples=60, deadline=None)
def test_chunks_stay_under_the_limit_and_rejoin(text: str) -> None:
    chunks = split_text(text)
    assert all(len(c) <= LIMIT for c in chunks) and "".join(chunks) == text
    pairs = list(_html_chunks(text))
    assert all(len(escaped) <= LIMIT for escaped, _ in pairs)
    assert "".join(plain for _, plain in pairs) == text
    assert "".join(escaped for escaped, _ in pairs) == html.escape(text, quote=False)


def test_long_lines_emoji_and_rtl_split_cleanly() -> None:
    text = ("שלום 🙂 " * 900) + "\n" + ("&<>" * 3000)
    pairs = list(_html_chunks(text))
    assert len(pairs) > 2 and all(len(e) <= LIMIT for e, _ in pairs)
    assert all("&" not in e[-5:] or e.endswith(";") or ";" in e[e.rfind("&") :] for e, _ in pairs)


@asynccontextmanager
async def running(
    engine: Engine, fake: FakeTelegram, typing_delay: float = 0.3
) -> AsyncIterator[Any]:
    app = build_application(engine, TOKEN, fake.url, typing_delay)
    async with app:
        await app.start()
        if app.post_init is not None:  # run_polling would call it; start() does not
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def button(message: dict[str, Any], value: str) -> str:
    """The callback data of the button of `message` that answers `value` (see telegram_send)."""
    found = [d for d in callback_data(message) if d.rpartition("|")[2] == value]
    assert found, f"no button for {value!r} in {callback_data(message)}"
    return found[0]


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [a["params"].get("text", "") for a in fake.sent(chat) if a["method"] == "sendMessage"]


async def wait_text(fake: FakeTelegram, chat: int, needle: str, after: int = 0) -> None:
    def seen() -> bool:
        return any(needle in t for t in texts(fake, chat)[after:])

    await asyncio.to_thread(fake.wait_for, seen)


@pytest.fixture
def engine(tmp_path: Path, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    config = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(config.resolved_database_url())
    return Engine(
        store, config, kb, today=lambda: TODAY, recommender=Recommender(config, kb, retriever)
    )


def test_a_complete_audit_through_telegram(engine: Engine) -> None:
    async def scenario() -> None:
        chat = 4242
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake, typing_delay=0.0):
                assert {c["command"] for c in fake.commands} >= {
                    "start",
                    "audit",
                    "next",
                    "forget",
                    "help",
                }
                fake.user_says(chat, "/start")
                await wait_text(fake, chat, "Which role")
                keyboard = next(a for a in fake.sent(chat) if "reply_markup" in a["params"])
                # Replies are HTML without link preview cards, their buttons under the text.
                assert keyboard["params"]["parse_mode"] == "HTML"
                assert keyboard["params"]["link_preview_options"] == {"is_disabled": True}
                data = button(keyboard["result"], "ml_engineer")
                fake.user_presses(chat, keyboard["result"]["message_id"], data)
                await wait_text(fake, chat, "Noted: Machine Learning Engineer")
                methods = [a["method"] for a in fake.sent(chat)]
                assert (
                    "answerCallbackQuery" in fake.methods() and "editMessageReplyMarkup" in methods
                )
                steps = yaml.safe_load(FULL.read_text())["steps"][2:]
                for step in steps:
                    before = len(texts(fake, chat))
                    fake.user_says(chat, step["say"])
                    await wait_text(fake, chat, "", after=before)
                await wait_text(fake, chat, "Your audit as Machine Learning Engineer")
                fake.user_says(chat, "/report")
                await asyncio.to_thread(
                    fake.wait_for,
                    lambda: {"sendDocument", "sendPhoto"} <= {a["method"] for a in fake.sent(chat)},
                )
                assert "sendChatAction" in [a["method"] for a in fake.sent(chat)]  # delay 0: always
                # Telegram replies never show where the server keeps files.
                home = str(engine.settings.home)
                assert not [t for t in texts(fake, chat) if home in t]
                assert any("report of" in t and "attached" in t for t in texts(fake, chat))
        # The same person can go on in the terminal: the state is in the store, with the
        # reminder of the next audit (sent by whichever bot process claims it when due).
        with engine.store.user(f"tg:{chat}") as scope:
            assert len(scope.audits()) == 1
            schedule = scope.latest_schedule()
            reminders = scope.reminders()
            assert schedule is not None and reminders[-1].kind == "audit"
            assert reminders[-1].due == schedule.next_audit and reminders[-1].sent_at is None

    asyncio.run(scenario())


def test_groups_duplicates_and_plain_text_fallback(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(-100, "/audit", chat_type="group", user_id=7)
                await wait_text(fake, -100, "talk to me privately")
                fake.reject_html_once()
                fake.user_says(77, "/help")
                await wait_text(fake, 77, "/audit")
                plain = [
                    a
                    for a in fake.sent(77)
                    if a["method"] == "sendMessage" and "parse_mode" not in a["params"]
                ]
                assert plain, "the plain-text resend did not happen"
                update = fake.user_says(78, "/start")
                await wait_text(fake, 78, "Which role")
                count = len(texts(fake, 78))
                fake.queue_raw(update)  # the same update delivered again
                fake.user_says(78, "ml engineer")
                await wait_text(fake, 78, "Noted: Machine Learning Engineer")
                assert len(texts(fake, 78)) == count + 1

    asyncio.run(scenario())
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_rate_limit_is_honoured(engine: Engine) -> None:
    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.fail_next("sendMessage", status=429, retry_after=1)
                fake.user_says(90, "/start")
                await wait_text(fake, 90, "Which role")

    asyncio.run(scenario())


def test_missing_token_exits_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env.update(SKILLAUDIT_HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run(
        [sys.executable, "-m", "bots.cli", "telegram"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert (
        done.returncode == 2
        and "TELEGRAM_BOT_TOKEN" in done.stderr
        and "Traceback" not in done.stderr
    )


def test_webhook_requires_the_secret_token(engine: Engine) -> None:
    import json
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def post(update: dict[str, Any], secret: str | None) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(), method="POST",
            headers={"Content-Type": "application/json", **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # a hang guard
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            app = build_application(engine, TOKEN, fake.url)
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_webhook(
                    listen="127.0.0.1", port=port, url_path="telegram", secret_token="s3cret-value",
                    webhook_url="https://example.invalid/telegram",
                )  # fmt: skip
                update = {"update_id": 900, "message": {"message_id": 1, "date": 0, "text": "/start",
                          "chat": {"id": 55, "type": "private"}, "from": {"id": 55, "is_bot": False, "first_name": "W"},
                          "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}  # fmt: skip
                refused = [{**update, "update_id": 901}, {**update, "update_id": 902}]
                assert await asyncio.to_thread(post, refused[0], None) == 403
                assert await asyncio.to_thread(post, refused[1], "wrong") == 403
                assert await asyncio.to_thread(post, update, "s3cret-value") == 200
                await wait_text(fake, 55, "Which role")
                # Refused updates reached no handler: none was claimed, one welcome was sent.
                # (No sleep: a 403 is answered before an update could be queued, and the
                # accepted one, queued after them, has been handled.)
                with engine.store.engine.connect() as conn:
                    from sqlalchemy import text

                    claimed = conn.execute(text("select update_id from processed_updates"))
                    assert [row[0] for row in claimed] == [900]
                assert sum("Which role" in t for t in texts(fake, 55)) == 1
                await app.updater.stop()
                await app.stop()

    asyncio.run(scenario())


def test_a_due_reminder_is_sent_at_start_once(engine: Engine) -> None:
    """A reminder whose 09:00 passed while the bot was down is sent at start, once; one not
    yet due waits."""
    import datetime as dt

    from agent.store.models import utcnow

    yesterday = utcnow().date() - dt.timedelta(days=1)
    with engine.store.user("tg:3131") as scope:
        audit = scope.add_audit(
            as_of=TODAY, methodology_version="1.1.0", knowledge_version="x", overall=50.0,
            profile={}, result={}, review=[], state="draft",
        )  # fmt: skip
        scope.add_schedule(audit, dt.date(2099, 1, 5), "quarterly+monthly", [yesterday.isoformat()])

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                await wait_text(fake, 3131, "micro-audit was due on")
            async with running(engine, fake):  # a restart sends nothing again
                fake.user_says(3131, "/help")
                await wait_text(fake, 3131, "Commands")
            assert sum("micro-audit" in t for t in texts(fake, 3131)) == 1

    asyncio.run(scenario())
    with engine.store.user("tg:3131") as scope:
        sent = [(r.kind, r.sent_at is not None) for r in scope.reminders()]
    assert sent == [("micro", True), ("audit", False)]


def test_forget_is_complete_and_errors_get_an_apology(engine: Engine, tmp_path: Path) -> None:
    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(61, "/start")
                await wait_text(fake, 61, "Which role")
                fake.user_says(61, "/forget")
                await wait_text(fake, 61, "cannot be undone")
                fake.user_says(61, "yes")
                await wait_text(fake, 61, "has been erased")
                # The erasure committed before its reply was sent: no waiting needed.
                with engine.store.engine.connect() as conn:
                    from sqlalchemy import text

                    assert conn.execute(text("select count(*) from users")).scalar() == 0
                    assert conn.execute(text("select count(*) from reminders")).scalar() == 0
                # The reply is deleted from the outbox once Telegram accepted it.
                deliveries = engine.store.deliveries
                await asyncio.to_thread(fake.wait_for, lambda: deliveries.pending_count() == 0)
                # The database disappears under the bot: the person gets an apology, not silence.
                engine.store.dispose()
                for leftover in tmp_path.glob("skillaudit.db*"):
                    leftover.unlink()
                fake.user_says(62, "hello")
                await wait_text(fake, 62, "Sorry, something went wrong")

    asyncio.run(scenario())


def test_the_language_model_answers_in_telegram(
    tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    from tests.agent.llm_setup import llm_engine, llm_settings
    from tests.fakes.openai_server import Call, FakeOpenAI, Say

    async def scenario() -> None:
        chat = 5151
        with FakeOpenAI() as model, FakeTelegram(TOKEN) as fake:
            settings = llm_settings(tmp_path / "home", model)
            engine = llm_engine(Store(settings.resolved_database_url()), settings, kb, retriever)
            model.queue(
                Call(
                    [("record_answer", {"question_id": "target_role", "answer": "MLOps engineer"})]
                ),
                Say("Nice to meet you! Which career stage are you at?"),
            )
            async with running(engine, fake, typing_delay=0.0):
                assert {"guided", "conversation"} <= {c["command"] for c in fake.commands}
                fake.user_says(chat, "Hello, I am an MLOps engineer.")
                await wait_text(fake, chat, "Which career stage are you at?")
                sent = texts(fake, chat)
                assert "automated assistant" in sent[0] and "fake-coach at 127.0.0.1" in sent[0]
                assert TOKEN not in str(model.requests)
            with engine.store.user(f"tg:{chat}") as scope:
                row = scope.last_flow("interview")
                assert row is not None and row.answers["target_role"] == "mlops_engineer"

    asyncio.run(scenario())


def test_a_command_keeps_its_argument_without_the_bot_name() -> None:
    """ "/start CODE" deep links reach the engine as "/start CODE" (skill checks use them)."""
    from bots.telegram import _command_text

    assert _command_text("/start@skillaudit_test_bot abc123") == "/start abc123"
    assert _command_text("/start abc-123_X") == "/start abc-123_X"
    assert _command_text("/help") == "/help" and _command_text("7 years") == "7 years"


def test_the_webhook_listens_on_the_path_of_its_url_and_checks_the_secret() -> None:
    """Telegram finding 15: `--url https://host/hook` means the bot listens on /hook, and a
    secret Telegram would refuse is one line at start, not a traceback later."""
    from typer.testing import CliRunner

    from bots.cli import app, webhook_path

    assert webhook_path("https://bot.example.org/hook") == "hook"
    assert webhook_path("https://bot.example.org/a/b/") == "a/b"
    assert webhook_path("https://bot.example.org") == "telegram"
    result = CliRunner().invoke(
        app,
        [
            "telegram",
            "--webhook",
            "--url",
            "https://bot.example.org/hook",
            "--secret",
            "my secret!",
        ],
        env={"TELEGRAM_BOT_TOKEN": "123456:ABCdefGhIjKlmNoPQRsTUVwxyz-0123456789"},
    )
    assert result.exit_code == 2 and "letters, digits, _ and -" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_did_you_mean_offer_in_telegram_has_its_own_buttons_and_the_old_ones_still_count(
    engine: Engine,
) -> None:
    """A stranger types a role that fits two options: the reply's buttons are the two, a
    press of one answers; a press on the first message's full list (still on screen) counts
    too, since an offer does not make the question another one."""

    async def scenario() -> None:
        chat = 5151
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake, typing_delay=0.0):
                fake.user_says(chat, "/start")
                await wait_text(fake, chat, "Which role")
                full = next(a for a in fake.sent(chat) if "reply_markup" in a["params"])
                before = len(texts(fake, chat))
                fake.user_says(chat, "freelance computer vision consultant")
                await wait_text(fake, chat, "Did you mean", after=before)
                offer = [a for a in fake.sent(chat) if "reply_markup" in a["params"]][-1]
                labels = [
                    b["text"]
                    for row in offer["result"]["reply_markup"]["inline_keyboard"]
                    for b in row
                ]
                assert labels == ["Freelance ML Consultant", "Computer Vision Engineer"]
                fake.user_presses(
                    chat,
                    offer["result"]["message_id"],
                    button(offer["result"], "Computer Vision Engineer"),
                )
                await wait_text(fake, chat, "Noted: Computer Vision Engineer")
                fake.user_says(chat, "back")
                await wait_text(fake, chat, "Back one question")
                before = len(texts(fake, chat))
                fake.user_says(chat, "freelance nlp engineer")
                await wait_text(fake, chat, "Did you mean", after=before)
                fake.user_presses(
                    chat,
                    full["result"]["message_id"],
                    button(full["result"], "freelance_ml_consultant"),
                )
                await wait_text(fake, chat, "Noted: Freelance ML Consultant")
                assert not any("belongs to an earlier question" in t for t in texts(fake, chat))

    asyncio.run(scenario())


def test_typing_shows_only_while_a_turn_takes_longer_than_the_delay(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick answer sends no "typing" (every call counts against Telegram's limits); a slow
    one shows it once the delay has passed, and it stops when the reply is out."""
    chat = 6161
    slow = {"on": False}
    answer = engine.answer_update

    def actions(fake: FakeTelegram) -> int:
        return sum(a["method"] == "sendChatAction" for a in fake.sent(chat))

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:

            async def answer_slowly(*args: Any, **kwargs: Any) -> Any:
                if slow["on"]:  # a turn that lasts until "typing" was shown
                    await asyncio.to_thread(fake.wait_for, lambda: actions(fake) > 0)
                return await answer(*args, **kwargs)

            monkeypatch.setattr(engine, "answer_update", answer_slowly)
            async with running(engine, fake, typing_delay=600.0) as app:
                fake.user_says(chat, "/start")
                await wait_text(fake, chat, "Which role")
                assert actions(fake) == 0
                app.bot_data["skillaudit"].typing_delay = 0.05
                slow["on"] = True
                fake.user_says(chat, "ml engineer")
                await wait_text(fake, chat, "Noted: Machine Learning Engineer")
                assert actions(fake) == 1
                methods = [a["method"] for a in fake.sent(chat)]
                assert methods.index("sendChatAction") < len(methods) - 1  # before the reply
                await asyncio.sleep(0.3)  # and not again once the reply is out
                assert actions(fake) == 1

    asyncio.run(scenario())
