"""The day it is for a person: in the time zone they gave (/schedule), else this machine's.

A Telegram person in Auckland lives up to 13 hours ahead of a server on UTC: at 11:30 UTC
their 2 March has begun, and "your next audit is due in N days" counts from it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from agent import workbench as workbench_module
from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever


@pytest.fixture
def live_engine(
    store: Store, settings: Settings, kb: KnowledgeBase, retriever: Retriever
) -> Engine:
    """An engine with no fixed date: each person's own calendar day."""
    return Engine(store, settings, kb, recommender=Recommender(settings, kb, retriever))


@pytest.mark.parametrize(
    ("zone", "moment", "day"),
    [
        ("Pacific/Auckland", dt.datetime(2027, 3, 1, 11, 30, tzinfo=dt.UTC), dt.date(2027, 3, 2)),
        ("Pacific/Auckland", dt.datetime(2027, 3, 1, 10, 30, tzinfo=dt.UTC), dt.date(2027, 3, 1)),
        ("America/Los_Angeles", dt.datetime(2027, 3, 2, 7, 0, tzinfo=dt.UTC), dt.date(2027, 3, 1)),
        ("UTC", dt.datetime(2027, 3, 2, 0, 5, tzinfo=dt.UTC), dt.date(2027, 3, 2)),
    ],
)
def test_a_person_with_a_time_zone_lives_on_their_own_day(
    live_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    moment: dt.datetime,
    day: dt.date,
) -> None:
    monkeypatch.setattr(workbench_module, "utcnow", lambda: moment)
    with live_engine.store.user("tg:77") as scope:
        scope.set_time_zone(zone)
    with live_engine.work("tg:77") as turn:
        assert turn is not None and turn.today == day


def test_without_a_time_zone_the_day_is_this_machines(live_engine: Engine) -> None:
    before = dt.date.today()
    with live_engine.work("cli:ana") as turn:
        assert turn is not None and turn.today in (before, dt.date.today())


def test_a_fixed_date_wins(store: Store, settings: Settings, kb: KnowledgeBase) -> None:
    fixed = Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28))
    with fixed.store.user("tg:78") as scope:
        scope.set_time_zone("Pacific/Auckland")
    with fixed.work("tg:78") as turn:
        assert turn is not None and turn.today == dt.date(2026, 11, 28)


def test_the_schedule_counts_days_from_the_persons_day(
    live_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audit dated on the person's day: its next audit 90-odd days on, counted from it."""
    moment = dt.datetime(2027, 3, 1, 11, 30, tzinfo=dt.UTC)  # 2 March in Auckland
    monkeypatch.setattr(workbench_module, "utcnow", lambda: moment)
    with live_engine.store.user("tg:79") as scope:
        scope.set_time_zone("Pacific/Auckland")
        audit = scope.add_audit(
            as_of=dt.date(2027, 3, 2), methodology_version="1.1.0", knowledge_version="x",
            overall=50.0, profile={}, result={}, review=[], state="final",
        )  # fmt: skip
        scope.add_schedule(audit, dt.date(2027, 6, 1), "quarterly", [])
    reply = live_engine.handle_sync("tg:79", "/schedule")
    assert reply is not None
    assert "2027-06-01 (91 days from now" in reply.text, reply.text
