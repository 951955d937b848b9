"""Peak memory (RSS) of the Telegram bot process, `skillaudit telegram`, while it runs whole
guided audits for many chats at once through the fake Bot API on 127.0.0.1.

The bot runs as a child process exactly as a user starts it (only TELEGRAM_API_BASE_URL
points at the fake); its peak resident set comes from the kernel's accounting of that child
(wait4 rusage), its resident set when idle from /proc. BENCH_MEMORY_CHATS sets the load.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bench._util import print_table, record
from bench.bench_telegram import STEPS, TOKEN, drive
from tests.fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "skillaudit"
CHATS = int(os.environ.get("BENCH_MEMORY_CHATS", "100"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


async def load(fake: FakeTelegram) -> list[float]:
    latencies: list[float] = []
    await asyncio.gather(*(drive(fake, 5000 + i, latencies) for i in range(CHATS)))
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as home, FakeTelegram(TOKEN) as fake:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(SKILLAUDIT_HOME=home, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.url)
        # Build the vector index first, so the bot's start-up does not include embedding the catalog.
        subprocess.run(
            [str(SCRIPT), "kb", "build"], env=env, cwd=home, check=True, capture_output=True
        )
        bot = subprocess.Popen(
            [str(SCRIPT), "telegram"], env=env, cwd=home,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            # Idle: started, polling, the index opened by the warm-up (give it a moment).
            fake.user_says(4999, "/start")
            fake.wait_for(lambda: fake.sent(4999), timeout=60)
            time.sleep(2)
            idle = rss_mb(bot.pid)
            latencies = asyncio.run(load(fake))
            loaded = rss_mb(bot.pid)
        finally:
            bot.send_signal(signal.SIGINT)  # run_polling stops cleanly on SIGINT
            _, status, usage = os.wait4(bot.pid, 0)
            bot.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024  # kilobytes on Linux
    audits = CHATS * len(STEPS)
    record("Telegram bot: resident memory when idle", "-", idle, None, "MB")
    record(f"Telegram bot: peak memory, {CHATS} chats auditing at once", "-", peak, None, "MB")
    print_table(
        f"Telegram bot process memory ({os.cpu_count()} cores, {dt.date.today()})",
        ["measure", "value"],
        [
            ["chats x updates", f"{CHATS} x {len(STEPS)} ({audits} updates)"],
            ["resident when idle (MB)", f"{idle:.0f}"],
            ["resident after the load (MB)", f"{loaded:.0f}"],
            ["peak resident (MB, wait4 ru_maxrss)", f"{peak:.0f}"],
            ["bot exit code after SIGINT", str(bot.returncode)],
            ["replies received", str(len(latencies))],
        ],
    )


if __name__ == "__main__":
    main()
