"""Order, buttons and odd messages in Telegram, each against the fake Bot API.

Every quick succession here arrives in one getUpdates batch (`fake.batch()`), which is what
Telegram does when a person types faster than the bot answers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.engine import EDITED, NOT_TEXT, STALE, Engine
from knowledge.base import KnowledgeBase
from tests.bots.telegram_support import (
    answers,
    labels,
    last_keyboard,
    make_engine,
    press,
    press_data,
    running,
    texts,
    wait_count,
    wait_text,
)
from tests.fakes.telegram_server import FakeTelegram, callback_data

TOKEN = "123456:TEST-token-never-logged"


@pytest.fixture
def engine(tmp_path: Path, kb: KnowledgeBase) -> Engine:
    return make_engine(tmp_path / "home", kb)


def run(scenario: object) -> None:
    asyncio.run(scenario)  # type: ignore[arg-type]


def test_a_batch_of_one_chats_messages_is_handled_in_update_order(engine: Engine) -> None:
    chats = list(range(5001, 5013))

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                with fake.batch():
                    for chat in chats:
                        fake.user_says(chat, "/start")
                for chat in chats:
                    await wait_text(fake, chat, "Which role")
                with fake.batch():
                    for chat in chats:
                        for text in ("ml engineer", "senior", "7 years"):
                            fake.user_says(chat, text)
                for chat in chats:
                    sent = await wait_count(fake, chat, 4)
                    assert "Noted: Machine Learning Engineer" in sent[1], sent
                    assert "Noted: Senior" in sent[2], sent
                    assert "Noted: 7 years" in sent[3], sent

    run(scenario())
    for chat in chats:
        stored = answers(engine, chat)
        assert (stored["target_role"], stored["career_stage"]) == ("ml_engineer", "senior")
        assert stored["years_experience"] == 7


def test_a_press_then_typed_text_in_one_batch_keeps_their_order(engine: Engine) -> None:
    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(6001, "/start")
                await wait_text(fake, 6001, "Which role")
                fake.user_says(6001, "ml engineer")
                await wait_text(fake, 6001, "career stage")
                with fake.batch():
                    press(fake, 6001, "mid")
                    fake.user_says(6001, "7 years")
                sent = await wait_count(fake, 6001, 4)
                assert "Noted: Mid" in sent[2] and "Noted: 7 years" in sent[3], sent

    run(scenario())
    stored = answers(engine, 6001)
    assert stored["career_stage"] == "mid" and stored["years_experience"] == 7


def test_quick_answers_at_the_clients_question_go_to_their_questions(
    engine: Engine, kb: KnowledgeBase
) -> None:
    """Finding 4: "3" then "60%" in one batch was once stored as 60 clients and 3 %."""
    steps = [
        "/start", "ml engineer", "mid", "2 years", "4 3 3 2 3 4 3 2", "docker 2, k8s 1",
        "explainability 1, bias testing 2, privacy 2", "1, 3", "communication 4, negotiation 2",
        "spark 3",
    ]  # fmt: skip

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                for count, step in enumerate(steps, 1):
                    fake.user_says(6101, step)
                    await wait_count(fake, 6101, count)
                assert "How many clients" in texts(fake, 6101)[-1]
                with fake.batch():
                    fake.user_says(6101, "3")
                    fake.user_says(6101, "60%")
                sent = await wait_count(fake, 6101, len(steps) + 2)
                assert "Noted: 3 clients" in sent[-2] and "Noted: 60%" in sent[-1], sent[-2:]

    run(scenario())
    stored = answers(engine, 6101)
    assert stored["clients"] == 3 and stored["top_client_share"] == 0.6


def test_choice_buttons_are_numbered_and_typed_numbers_pick_them(engine: Engine) -> None:
    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(6201, "/start")
                await wait_text(fake, 6201, "Which role")
                shown = labels(last_keyboard(fake, 6201))
                assert shown[0].startswith("1. ") and shown[1].startswith("2. "), shown
                fake.user_says(6201, "2")
                second = shown[1].removeprefix("2. ")
                await wait_text(fake, 6201, f"Noted: {second}")

    run(scenario())


def test_old_buttons_are_refused_with_the_current_question(engine: Engine) -> None:
    """Finding 8: a press on an earlier question's keyboard answered the current question."""

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(6301, "/start")
                await wait_text(fake, 6301, "Which role")
                old = last_keyboard(fake, 6301)
                fake.user_says(6301, "ml engineer")  # typed: the role keyboard stays
                await wait_text(fake, 6301, "career stage")
                press(fake, 6301, "data_scientist", message=old)
                reply = await wait_text(fake, 6301, STALE)
                assert "career stage" in reply
                # A press on the current question's keyboard is taken.
                press(fake, 6301, "senior")
                await wait_text(fake, 6301, "Noted: Senior")

    run(scenario())
    stored = answers(engine, 6301)
    assert stored["target_role"] == "ml_engineer" and stored["career_stage"] == "senior"


def test_pick_all_that_apply_uses_toggles_with_ticks_and_done(engine: Engine) -> None:
    """Finding 9: one press took one option of a "pick all that apply" question."""
    steps = ["/start", "ml engineer", "mid", "2 years", "4 3 3 2 3 4 3 2", "docker 2, k8s 1",
             "explainability 1, bias testing 2, privacy 2"]  # fmt: skip

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                for count, step in enumerate(steps, 1):
                    fake.user_says(6401, step)
                    await wait_count(fake, 6401, count)
                keyboard = last_keyboard(fake, 6401)
                toggles = [d for d in callback_data(keyboard) if d.startswith("t|")]
                done = [d for d in callback_data(keyboard) if d.startswith("d|")]
                assert len(toggles) >= 3 and len(done) == 1
                sent = len(texts(fake, 6401))
                with fake.batch():  # three quick presses, each from the same old snapshot
                    for data in (toggles[0], toggles[2], toggles[0]):
                        fake.user_presses(6401, keyboard["message_id"], data)

                def ticked() -> list[str]:
                    return [t for t in labels(last_keyboard(fake, 6401)) if t.startswith("\u2713")]

                def edits() -> int:
                    return sum(a["method"] == "editMessageReplyMarkup" for a in fake.sent(6401))

                await asyncio.to_thread(fake.wait_for, lambda: edits() == 3)
                assert ticked()[0].removeprefix("\u2713 ").startswith("3. "), ticked()
                assert len(texts(fake, 6401)) == sent  # toggling answers nothing yet
                press_data(fake, 6401, done[0])
                reply = await wait_count(fake, 6401, sent + 1)
                assert "Noted:" in reply[-1] and "Power skills" in reply[-1], reply[-1]

    run(scenario())
    stored = answers(engine, 6401)
    assert len(stored["ethics_practice"]) == 1


def test_edits_are_not_applied_and_the_person_is_told_how_to_change(engine: Engine) -> None:
    """Finding 7: an edited message was taken as the answer to the current question."""

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(6501, "/start")
                await wait_text(fake, 6501, "Which role")
                first = fake.user_says(6501, "ml engineer")
                await wait_text(fake, 6501, "career stage")
                fake.user_says(6501, "mid")
                await wait_text(fake, 6501, "How many years")
                fake.user_edits(6501, first["message"]["message_id"], "5")
                reply = await wait_text(fake, 6501, EDITED)
                assert '"back"' in reply and "How many years" in reply

    run(scenario())
    stored = answers(engine, 6501)
    assert stored["target_role"] == "ml_engineer" and "years_experience" not in stored


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "location"])
def test_messages_without_text_get_a_short_reply_and_the_question(
    engine: Engine, kind: str
) -> None:
    """Finding 12: stickers, photos and voice messages got no answer at all."""

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(6601, "/start")
                await wait_text(fake, 6601, "Which role")
                fake.user_sends_media(
                    6601, kind, caption="ml engineer" if kind == "photo" else None
                )
                reply = await wait_text(fake, 6601, NOT_TEXT)
                assert "Which role" in reply

    run(scenario())
    assert "target_role" not in answers(engine, 6601)


def test_a_reply_is_retried_after_5xx_and_network_errors(engine: Engine) -> None:
    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.fail_next("sendMessage", status=500, times=2)
                fake.fail_next("sendMessage", status=502)
                fake.user_says(6701, "/start")
                await wait_text(fake, 6701, "Which role")
                failed = [a for a in fake.sent(6701, include_failed=True) if not a["ok"]]
                assert len(failed) == 3
                assert sum("Which role" in t for t in texts(fake, 6701)) == 1

    run(scenario())


def test_a_reply_that_finally_failed_is_reported_with_the_next_message(engine: Engine) -> None:
    """Finding 6: after a failed send, repeating the answer answered the next question."""

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake, backoff=(0.01, 0.01)):
                for count, step in enumerate(["/start", "ml engineer", "mid"], 1):
                    fake.user_says(6801, step)
                    await wait_count(fake, 6801, count)
                fake.fail_next("sendMessage", status=500, times=3)  # every attempt fails
                fake.user_says(6801, "3 years")
                await asyncio.to_thread(
                    fake.wait_for,
                    lambda: (
                        engine.store.deliveries.pending_count() == 0
                        and len(fake.sent(6801, include_failed=True)) >= 3 + 3
                    ),
                )
                assert len(texts(fake, 6801)) == 3  # the reply never arrived
                fake.user_says(6801, "3 years")  # the person repeats their answer
                reply = await wait_text(fake, 6801, "did not reach you")
                assert "Noted: 3 years" in reply and "did not use your new message" in reply
                assert "Technical skills" in reply  # the current question, asked again

    run(scenario())
    stored = answers(engine, 6801)
    assert stored["years_experience"] == 3 and "technical_ratings" not in stored


def test_update_ids_are_per_bot(tmp_path: Path, kb: KnowledgeBase) -> None:
    """Finding 11: a second bot on the same store had its update 1 dropped as a duplicate."""
    engine = make_engine(tmp_path / "home", kb)

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as first, FakeTelegram("654321:OTHER-token") as second:
            async with running(engine, first):
                first.user_says(6901, "/start")
                await wait_text(first, 6901, "Which role")
            async with running(engine, second, token="654321:OTHER-token"):
                second.user_says(6902, "/start")  # also update 1, of another bot
                await wait_text(second, 6902, "Which role")

    run(scenario())


def test_groups_hear_only_commands_for_this_bot_once_in_a_while(engine: Engine) -> None:
    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                said = [
                    fake.user_says(-200, "/help@some_other_bot", chat_type="group", user_id=7),
                    fake.user_says(
                        -200, "hello bot, what is my score?", chat_type="group", user_id=7
                    ),
                    fake.user_says(
                        -200, "/start@skillaudit_test_bot", chat_type="group", user_id=7
                    ),
                    fake.user_says(-200, "/start", chat_type="group", user_id=8),
                ]
                deliveries = engine.store.deliveries

                def all_handled() -> bool:
                    return all(deliveries.handled("123456", u["update_id"]) for u in said)

                await asyncio.to_thread(fake.wait_for, all_handled)
                assert (
                    len(texts(fake, -200)) == 1 and "talk to me privately" in texts(fake, -200)[0]
                )

    run(scenario())


def test_a_turn_that_waits_for_the_course_index_says_so_first(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """Finding 14: on a fresh deployment the last reply came minutes later, in silence."""
    from bots.telegram import PREPARING

    engine = make_engine(tmp_path / "fresh-home", kb)  # no index built yet
    assert not engine.recommender.ready

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake, typing_delay=0.0):
                fake.user_says(7101, "/start")
                await wait_text(fake, 7101, "Which role")
                fake.user_says(7101, "/next docker")
                await wait_text(fake, 7101, "Docker", after=2)
                sent = texts(fake, 7101)
                assert sent[1] == PREPARING and "Docker" in sent[2], sent[1:]
                fake.user_says(7101, "/next kubernetes")  # the index is ready: no note now
                await wait_count(fake, 7101, 4)
                assert PREPARING not in texts(fake, 7101)[3:]

    run(scenario())
    assert engine.recommender.ready
