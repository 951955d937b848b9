"""The Telegram bot as its own process against the fake Bot API: CPU of the bot alone per
guided update, then 200 simulated chats at once (updates per second, reply latency,
lost/duplicated/misrouted replies).

The bot runs in a child process (`--bot`), as `skillaudit telegram` would, so the fake
server's and the simulated people's CPU are not counted. Its CPU is read from
/proc/PID/task/*/schedstat (nanoseconds on a CPU, every thread) before and after each update
of the sequential part; each sample is one update's cost, including the getUpdates that
brought it and the outbox bookkeeping after its reply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PTB_TIMEDELTA", "1")

import yaml

from bench._util import p95, print_table, record

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token"
CHATS = int(os.environ.get("BENCH_CHATS", "200"))
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL_CHATS", "12"))
TARGET_MS = 5.0
STEPS = [
    s["say"]
    for s in yaml.safe_load((ROOT / "tests/agent/transcripts/full_audit.yaml").read_text())["steps"]
]


def run_bot() -> None:
    """The child: the configured engine and bot, polling until it is terminated."""
    import logging

    from agent.wiring import build_engine
    from bots.telegram import build_application

    logging.basicConfig(level=logging.WARNING)
    engine = build_engine()
    engine.recommender.warm_up().join()  # as `skillaudit telegram` does, but finished first
    account_parts(os.environ["BENCH_BREAKDOWN"])
    token = os.environ["TELEGRAM_BOT_TOKEN"]
    app = build_application(engine, token, os.environ["TELEGRAM_API_BASE_URL"])
    app.run_polling(poll_interval=0.0, timeout=10)


# Where an update's CPU goes, accounted in the bot (CPU time of the thread doing each part):
# the engine's turn, and the store bookkeeping of delivery (keep the update, lease and delete
# the reply). The rest is Telegram's calls, python-telegram-bot and asyncio.
PARTS = {
    "engine turn": [("agent.engine", "Engine", "_handle_retrying")],
    "store bookkeeping": [
        ("agent.store.outbox", "Deliveries", name)
        for name in (
            "receive_and_look",
            "keep_unhandled",
            "claim",
            "delivered",
            "progress",
            "handled",
        )
    ],
}


def account_parts(path: str) -> None:
    """Wrap the parts' functions to add up their thread CPU; SIGUSR2 starts the count,
    SIGUSR1 writes it to `path` as JSON."""
    import functools
    import importlib
    import json
    import signal
    import threading

    totals = dict.fromkeys(PARTS, 0.0)
    lock = threading.Lock()

    def wrap(part: str, function):  # type: ignore[no-untyped-def]
        @functools.wraps(function)
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    totals[part] += time.thread_time() - start

        return counted

    for part, places in PARTS.items():
        for module, cls, name in places:
            owner = getattr(importlib.import_module(module), cls)
            setattr(owner, name, wrap(part, getattr(owner, name)))

    def reset(*_: object) -> None:
        with lock:
            totals.update(dict.fromkeys(PARTS, 0.0))

    def dump(*_: object) -> None:
        with lock:
            Path(path).write_text(json.dumps({k: v * 1000 for k, v in totals.items()}))

    signal.signal(signal.SIGUSR2, reset)
    signal.signal(signal.SIGUSR1, dump)


def cpu_ns(pid: int) -> int:
    """Time the process's threads have spent on a CPU, in nanoseconds."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
            continue
    return total


def sent_texts(fake: object, chat: int) -> int:
    # A counter, not a copy of the chat's calls: polled every few milliseconds, copying
    # would load the other core and slow the bot whose CPU is being measured.
    return int(fake.count(chat, "sendMessage"))  # type: ignore[attr-defined]


async def drive(
    fake: object, chat: int, latencies: list[float], pid: int | None = None,
    samples: list[float] | None = None,
) -> None:  # fmt: skip
    """One person answering every question, waiting for each reply before the next answer."""
    for text in STEPS:
        before = sent_texts(fake, chat)
        start = time.perf_counter()
        cpu0 = cpu_ns(pid) if pid is not None else 0
        fake.user_says(chat, text)  # type: ignore[attr-defined]
        while sent_texts(fake, chat) <= before:
            await asyncio.sleep(0.005 if pid is not None else 0.05)
        latencies.append((time.perf_counter() - start) * 1000)
        if pid is not None and samples is not None:
            await asyncio.sleep(0.02)  # let the outbox bookkeeping after the reply finish
            samples.append((cpu_ns(pid) - cpu0) / 1e6)


async def measure(
    fake: object, pid: int, breakdown: Path
) -> tuple[list[float], list[float], float, float, dict[str, float]]:
    import json
    import signal

    warm: list[float] = []
    await drive(fake, 900, warm)  # first-use costs (imports, caches) are not a guided update
    samples: list[float] = []
    sequential: list[float] = []
    os.kill(pid, signal.SIGUSR2)
    await asyncio.sleep(0.2)
    for i in range(SEQUENTIAL):
        await drive(fake, 950 + i, sequential, pid, samples)
    os.kill(pid, signal.SIGUSR1)
    while not breakdown.exists():
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    parts = {k: v / len(samples) for k, v in json.loads(breakdown.read_text()).items()}
    latencies: list[float] = []
    cpu0 = cpu_ns(pid)
    wall0 = time.perf_counter()
    await asyncio.gather(*(drive(fake, 1000 + i, latencies) for i in range(CHATS)))
    wall = time.perf_counter() - wall0
    await asyncio.sleep(0.5)
    cpu = (cpu_ns(pid) - cpu0) / 1e6
    return samples, latencies, wall, cpu, parts


def main() -> None:
    from agent.config import Settings
    from agent.store import Store
    from knowledge.base import default_knowledge
    from knowledge.catalog import default_catalog
    from knowledge.index import IndexConfig, VectorIndex, make_client, make_embedder
    from tests.fakes.telegram_server import FakeTelegram

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        kb = default_knowledge()
        config = IndexConfig(path=home / "chroma")
        VectorIndex(make_client(config), make_embedder(config)).sync(default_catalog(), kb)
        with FakeTelegram(TOKEN) as fake:
            env = {
                **os.environ, "SKILLAUDIT_HOME": str(home), "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.url, "PYTHONPATH": str(ROOT),
                "BENCH_BREAKDOWN": str(home / "breakdown.json"),
            }  # fmt: skip
            env.pop("DATABASE_URL", None)
            profile = os.environ.get("BENCH_PROFILE")  # a file: profile the bot with cProfile
            command = [
                sys.executable,
                *(["-m", "cProfile", "-o", profile] if profile else []),
                __file__,
                "--bot",
            ]
            bot = subprocess.Popen(command, env=env, cwd=ROOT)
            try:
                fake.wait_for(lambda: fake.commands, timeout=300)  # started and registered
                samples, latencies, wall, cpu, parts = asyncio.run(
                    measure(fake, bot.pid, home / "breakdown.json")
                )
            finally:
                bot.terminate()
                bot.wait(timeout=60)
            store = Store(Settings(SKILLAUDIT_HOME=home, DATABASE_URL=None).resolved_database_url())
            lost = duplicated = misrouted = 0
            for i in range(CHATS):
                chat = 1000 + i
                finals = sum("Your audit as" in t for t in fake.texts(chat))
                lost += finals == 0
                duplicated += max(0, finals - 1)
                with store.user(f"tg:{chat}") as scope:
                    audits = scope.audits()
                    misrouted += sum(1 for a in audits if a.profile.get("user") != f"tg:{chat}")
                    lost += 0 if len(audits) == 1 else 1
            store.dispose()
    updates = CHATS * len(STEPS)
    median = statistics.median(samples)
    record(
        "Telegram: bot CPU per guided update (bot process alone)",
        f"median <= {TARGET_MS:g} ms", median, p95(samples), "ms", met=median <= TARGET_MS,
    )  # fmt: skip
    for part, ms in parts.items():
        record(f"Telegram: of a guided update's CPU, the {part} (mean)", "-", ms, None, "ms")
    record(
        f"Telegram: updates per second ({CHATS} chats at once)",
        "-",
        updates / wall,
        None,
        "updates/s",
    )
    record(
        f"Telegram: bot CPU per update ({CHATS} chats at once, bot alone)",
        "-",
        cpu / updates,
        None,
        "ms",
    )
    record(
        f"Telegram: reply latency ({CHATS} chats at once)", "-",
        statistics.median(latencies), p95(latencies), "ms",
    )  # fmt: skip
    record(
        "Telegram: replies lost + duplicated + misrouted",
        "0",
        lost + duplicated + misrouted,
        None,
        "replies",
    )
    print_table(
        f"Telegram bot through the fake Bot API ({os.cpu_count()} cores, {dt.date.today()})",
        ["measure", "value"],
        [
            ["bot CPU per guided update, one chat at a time: median / p95 (ms)",
             f"{median:.2f} / {p95(samples):.2f} ({len(samples)} updates; target median <= {TARGET_MS:g})"],
            *[[f"  of which, on average: {part} (ms)", f"{ms:.2f}"] for part, ms in parts.items()],
            ["  of which, on average: Telegram calls, PTB, asyncio (the rest, ms)",
             f"{statistics.mean(samples) - sum(parts.values()):.2f} (mean per update {statistics.mean(samples):.2f})"],
            ["chats x updates at once", f"{CHATS} x {len(STEPS)}"],
            ["updates per second", f"{updates / wall:.1f}"],
            ["bot CPU per update, all chats at once (ms)", f"{cpu / updates:.2f}"],
            ["reply latency median / p95 (ms)", f"{statistics.median(latencies):.1f} / {p95(latencies):.1f}"],
            ["lost / duplicated / misrouted", f"{lost} / {duplicated} / {misrouted}"],
        ],
    )  # fmt: skip


if __name__ == "__main__":
    if "--bot" in sys.argv:
        run_bot()
    else:
        main()
