"""200 simulated chats, each running a whole guided audit through the fake Bot API:
updates per second, CPU ms per update, p95 reply latency, lost/duplicated/misrouted replies."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PTB_TIMEDELTA", "1")

import statistics

import yaml

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from bench._util import p95, print_table, record
from bots.telegram import build_application
from knowledge.base import default_knowledge
from knowledge.catalog import default_catalog
from knowledge.index import IndexConfig, VectorIndex, make_client, make_embedder
from knowledge.retriever import Retriever
from tests.fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token"
CHATS = int(os.environ.get("BENCH_CHATS", "200"))
STEPS = [
    s["say"]
    for s in yaml.safe_load((ROOT / "tests/agent/transcripts/full_audit.yaml").read_text())["steps"]
]


def sent_texts(fake: FakeTelegram, chat: int) -> int:
    return sum(1 for a in fake.sent(chat) if a["method"] == "sendMessage")


async def drive(fake: FakeTelegram, chat: int, latencies: list[float]) -> None:
    """One person answering every question, waiting for each reply before the next answer."""
    for text in STEPS:
        before = sent_texts(fake, chat)
        start = time.perf_counter()
        fake.user_says(chat, text)
        while sent_texts(fake, chat) <= before:
            await asyncio.sleep(0.05)  # the check itself costs CPU; keep it rare
        latencies.append((time.perf_counter() - start) * 1000)


async def main_async(home: Path) -> list[list[str]]:
    kb = default_knowledge()
    settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=None)
    index = VectorIndex(
        make_client(IndexConfig(path=home / "chroma")),
        make_embedder(IndexConfig(path=home / "chroma")),
    )
    index.sync(default_catalog(), kb)
    retriever = Retriever(kb, default_catalog(), index)
    store = Store(settings.resolved_database_url())
    engine = Engine(
        store,
        settings,
        kb,
        today=lambda: dt.date(2026, 11, 28),
        recommender=Recommender(settings, kb, retriever),
    )
    latencies: list[float] = []
    with FakeTelegram(TOKEN) as fake:
        app = build_application(engine, TOKEN, fake.url)
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            wall0 = time.perf_counter()
            await asyncio.gather(*(drive(fake, 1000 + i, latencies) for i in range(CHATS)))
            wall = time.perf_counter() - wall0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            await app.updater.stop()
            await app.stop()
        lost = sum(
            1
            for i in range(CHATS)
            if not any("Your audit as" in a["params"].get("text", "") for a in fake.sent(1000 + i))
        )
        misrouted = 0
        for i in range(CHATS):
            with store.user(f"tg:{1000 + i}") as scope:
                audits = scope.audits()
                misrouted += sum(1 for a in audits if a.profile.get("user") != f"tg:{1000 + i}")
                lost += 0 if len(audits) == 1 else 1
        duplicated = sum(
            max(
                0,
                sum(
                    1 for a in fake.sent(1000 + i) if "Your audit as" in a["params"].get("text", "")
                )
                - 1,
            )
            for i in range(CHATS)
        )
    updates = CHATS * len(STEPS)
    cpu_ms = ((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record(
        f"Telegram: updates per second ({CHATS} chats at once)",
        "-",
        updates / wall,
        None,
        "updates/s",
    )
    record("Telegram: CPU per update (bot, engine, fake API)", "-", cpu_ms / updates, None, "ms")
    record(
        f"Telegram: reply latency ({CHATS} chats at once)",
        "-",
        statistics.median(latencies),
        p95(latencies),
        "ms",
    )
    record(
        "Telegram: replies lost + duplicated + misrouted",
        "0",
        lost + duplicated + misrouted,
        None,
        "replies",
    )
    store.dispose()
    return [
        ["chats x updates", f"{CHATS} x {len(STEPS)}"],
        ["updates per second", f"{updates / wall:.1f}"],
        ["CPU ms per update (bot, engine and fake together)", f"{cpu_ms / updates:.2f}"],
        [
            "reply latency median / p95 (ms)",
            f"{sorted(latencies)[len(latencies) // 2]:.1f} / {p95(latencies):.1f}",
        ],
        ["lost / duplicated / misrouted", f"{lost} / {duplicated} / {misrouted}"],
        ["peak memory of the process (MB)", f"{peak_mb:.0f}"],
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        rows = asyncio.run(main_async(Path(home)))
    print_table(
        f"Telegram bot through the fake Bot API ({os.cpu_count()} cores, {dt.date.today()})",
        ["measure", "value"],
        rows,
    )


if __name__ == "__main__":
    main()
