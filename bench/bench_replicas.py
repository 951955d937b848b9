"""Bot replicas in webhook mode on PostgreSQL: updates per second, bot CPU per update and reply
latency with one replica and with two, each of many chats running a whole guided audit.

Each replica is `skillaudit telegram --webhook` as an operator starts it (its own process,
SKILLAUDIT_REPLICA naming it), on a fresh PostgreSQL schema that this script creates and
drops, with the course index on a `chroma run` server built by `skillaudit kb build`. The
script plays Telegram (the fake Bot API) and the proxy: every update is POSTed with the secret
header to the next replica in turn (round robin, as the Caddyfile's proxy splits them), and a
person answers the next question once the whole reply to the last one has arrived.

Two sets: first with the sender's spacing to Telegram's 30 messages a second lifted (UNPACED),
so the CPU is the limit, then as shipped (paced), one run each. In a set both deployments run
side by side and their runs alternate (one, two, one, two...), so load from other work on this
shared machine falls on both alike; each figure is the median over the runs. CPU is the replicas' own (every thread, /proc/PID/task/*/schedstat), not PostgreSQL's,
the Chroma server's or this script's, which share the same cores and are printed beside it.
BENCH_REPLICA_CHATS (50), BENCH_REPLICA_RUNS (3) and BENCH_REPLICA_PACED_CHATS (20, one run)
set the load (100 chats took 9 minutes at a load average of 7 to 18 from other work);
BENCH_REPLICA_LOGS names a folder to keep the replicas' and the Chroma server's logs in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bench._util import p95, print_table, record
from bench.bench_memory import rss_mb
from bench.bench_telegram import cpu_ns

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("SKILLAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHATS = int(os.environ.get("BENCH_REPLICA_CHATS", "50"))
RUNS = int(os.environ.get("BENCH_REPLICA_RUNS", "3"))
TOKEN = "123456:BENCH-replicas"
SECRET = "bench-replicas-secret"
# `skillaudit` with its sender's pacing lifted (the rate a Throttle is made with), so a run
# shows what the CPU allows rather than Telegram's documented 30 messages a second.
UNPACED = (
    "import sys\n"
    "from bots.telegram_send import Throttle\n"
    "Throttle.__init__.__defaults__ = (1e9, 10)\n"
    "from bots.cli import main\n"
    "sys.argv[0] = 'skillaudit'\n"
    "main()\n"
)
PACED_CHATS = int(os.environ.get("BENCH_REPLICA_PACED_CHATS", "20"))
REPLY_GUARD_S = 300.0  # only a replica that stopped altogether makes a person wait this long


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    rss_started: float = 0.0
    start_s: float = 0.0  # from the command to its webhook listening


@dataclass
class Run:
    chats: int
    updates: int
    messages: int
    wall_s: float
    bot_cpu_ms: float
    harness_cpu_ms: float
    latencies: list[float]
    load: float

    @property
    def per_s(self) -> float:
        return self.updates / self.wall_s

    @property
    def cpu_per_update(self) -> float:
        return self.bot_cpu_ms / self.updates

    @property
    def cpu_share(self) -> float:
        """The replicas' CPU as a share of all the machine's cores over the run."""
        return self.bot_cpu_ms / 1000 / self.wall_s / (os.cpu_count() or 1)


@dataclass
class Deployment:
    """Replicas on one schema, behind one fake Bot API; `sent` counts each chat's messages."""

    label: str
    schema: str
    fake: Any
    replicas: list[Replica] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    next_chat: int = 100_000
    turn: int = 0  # the proxy's round robin
    sent: dict[int, list[float]] = field(default_factory=dict)
    events: dict[int, asyncio.Event] = field(default_factory=dict)


def free_port() -> int:
    from tests.bots.replica_support import free_port as free

    return free()


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    from tests.bots.replica_support import listening

    deadline = time.monotonic() + 300
    while not listening(port):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited before listening (exit {process.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} never listened on {port}")
        time.sleep(0.1)


def base_env(home: Path, chroma_port: int) -> dict[str, str]:
    """What every SkillAudit process here runs with: no language model, the Chroma server."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE", "SKILLAUDIT_", "OPENAI_", "CHROMA_"))
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        SKILLAUDIT_HOME=str(home), CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_port),
        PYTHONPATH=str(ROOT), PTB_TIMEDELTA="1", ANONYMIZED_TELEMETRY="False",
    )  # fmt: skip
    return env


def schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def start(label: str, count: int, env: dict[str, str], logs: Path, paced: bool) -> Deployment:
    """A fresh schema, migrated once (`skillaudit migrate`), and `count` replicas on it;
    unpaced, their sends are not spaced to Telegram's 30 messages a second (UNPACED)."""
    from sqlalchemy import create_engine, text

    from tests.fakes.telegram_server import FakeTelegram

    schema = f"bench_replicas_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    fake = FakeTelegram(TOKEN)
    fake.start()
    deployment = Deployment(label, schema, fake)
    env = dict(env, DATABASE_URL=schema_url(schema), TELEGRAM_BOT_TOKEN=TOKEN,
               TELEGRAM_API_BASE_URL=fake.url, TELEGRAM_WEBHOOK_SECRET=SECRET)  # fmt: skip
    subprocess.run([str(BIN / "skillaudit"), "migrate"], env=env, check=True, capture_output=True)
    began = time.perf_counter()
    for number in range(count):
        name = f"{label}-{number + 1}"
        port = free_port()
        program = [str(BIN / "skillaudit")] if paced else [sys.executable, "-c", UNPACED]
        command = [
            *program, "telegram", "--webhook", "--url", "https://bench.invalid/telegram",
            "--listen", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        with (logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                command, env=dict(env, SKILLAUDIT_REPLICA=name), cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deployment.replicas.append(Replica(name, port, process))
    for replica in deployment.replicas:
        wait_listening(replica.port, replica.process, f"replica {replica.name}")
        replica.start_s = time.perf_counter() - began
        replica.rss_started = rss_mb(replica.process.pid)
    return deployment


def stop(deployment: Deployment) -> None:
    from sqlalchemy import create_engine, text

    for replica in deployment.replicas:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGINT)  # run_webhook stops cleanly on SIGINT
    for replica in deployment.replicas:
        try:
            replica.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait()
    deployment.fake.on_call = None
    deployment.fake.stop()
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {deployment.schema} CASCADE"))
    engine.dispose()


def expected_parts(home: Path, chroma_port: int) -> list[int]:
    """How many Telegram messages each answer's reply is, from the engine alone."""
    from knowledge.base import default_knowledge
    from tests.bots.replica_support import parts, reference

    os.environ.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_port))
    replies, _ = reference(default_knowledge(), home, None)
    return [len(parts([reply])) for reply in replies]


def listen(deployment: Deployment, loop: asyncio.AbstractEventLoop) -> None:
    """Note every message sent to a chat (the fake calls this in its own threads)."""

    def noted(chat: int, at: float) -> None:
        deployment.sent.setdefault(chat, []).append(at)
        event = deployment.events.get(chat)
        if event is not None:
            event.set()

    def hook(method: str, params: dict[str, Any], phase: str) -> None:
        if method == "sendMessage" and phase == "after":
            chat = int(str(params.get("chat_id")))
            loop.call_soon_threadsafe(noted, chat, time.perf_counter())

    deployment.fake.on_call = hook


async def person(
    deployment: Deployment, client: Any, chat: int, script: list[str], counts: list[int],
    latencies: list[float], pinned: Replica | None = None,
) -> None:  # fmt: skip
    """One whole audit: each answer waits for the whole reply to the one before; each goes
    to the proxy's next replica (or all to `pinned`)."""
    event = deployment.events.setdefault(chat, asyncio.Event())
    expected = 0
    for text, count in zip(script, counts, strict=True):
        update = deployment.fake.user_says(chat, text)
        replica = pinned or deployment.replicas[deployment.turn % len(deployment.replicas)]
        deployment.turn += pinned is None
        began = time.perf_counter()
        deadline = time.monotonic() + REPLY_GUARD_S
        while True:
            response = await client.post(
                f"http://127.0.0.1:{replica.port}/telegram", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )  # fmt: skip
            if response.status_code == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"update {update['update_id']} refused: {response.status_code}")
            await asyncio.sleep(0.05)  # refused (a busy store): a proxy or Telegram retries
        first = expected
        expected += count
        deadline = time.monotonic() + REPLY_GUARD_S
        while len(deployment.sent.get(chat, [])) < expected:
            event.clear()
            await asyncio.wait_for(event.wait(), max(0.0, deadline - time.monotonic()))
        latencies.append((deployment.sent[chat][first] - began) * 1000)


async def one_run(deployment: Deployment, script: list[str], counts: list[int], people: int) -> Run:
    import httpx

    chats = list(range(deployment.next_chat, deployment.next_chat + people))
    deployment.next_chat += people
    latencies: list[float] = []
    pids = [r.process.pid for r in deployment.replicas]
    load = os.getloadavg()[0]
    limits = httpx.Limits(max_connections=people, max_keepalive_connections=people)
    async with httpx.AsyncClient(limits=limits, timeout=REPLY_GUARD_S) as client:
        cpu0 = sum(cpu_ns(pid) for pid in pids)
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        wall0 = time.perf_counter()
        await asyncio.gather(
            *(person(deployment, client, c, script, counts, latencies) for c in chats)
        )
        wall = time.perf_counter() - wall0
        await asyncio.sleep(0.3)  # the outbox bookkeeping after the last replies
        bot_cpu = (sum(cpu_ns(pid) for pid in pids) - cpu0) / 1e6
        self1 = resource.getrusage(resource.RUSAGE_SELF)
    harness = (self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime) * 1000
    updates, messages = len(chats) * len(script), len(chats) * sum(counts)
    return Run(len(chats), updates, messages, wall, bot_cpu, harness, latencies, load)


async def warm_up(deployment: Deployment, script: list[str], counts: list[int]) -> None:
    """A whole audit at each replica before measuring: first-use costs (the embedding model,
    query vectors, caches) are not an update's."""
    import httpx

    async with httpx.AsyncClient(timeout=REPLY_GUARD_S) as client:
        for number, replica in enumerate(deployment.replicas):
            await person(deployment, client, 90_000 + number, script, counts, [], replica)


def lost_audits(deployment: Deployment, chats: range) -> int:
    """Chats of the measured runs without exactly one stored audit."""
    from agent.store import Store

    store = Store(schema_url(deployment.schema))
    try:
        lost = 0
        for chat in chats:
            with store.known_user(f"tg:{chat}") as scope:
                lost += scope is None or len(scope.audits()) != 1
        return lost
    finally:
        store.dispose()


def schema_size(deployment: Deployment) -> tuple[float, float, int]:
    """KB on disk per person: every table (with indexes) and processed_updates alone."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            sizes: dict[str, int] = dict(
                conn.execute(
                    text(
                        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = :schema AND c.relkind = 'r'"
                    ),
                    {"schema": deployment.schema},
                ).all()
            )
            people = conn.execute(text(f"SELECT count(*) FROM {deployment.schema}.users")).scalar()
    finally:
        engine.dispose()
    count = int(people or 1)
    return (
        sum(sizes.values()) / 1024 / count,
        sizes.get("processed_updates", 0) / 1024 / count,
        count,
    )


def chroma_server(path: Path, logs: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    with (logs / "chroma.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, ANONYMIZED_TELEMETRY="False"),
        )  # fmt: skip
    wait_listening(port, server, "the Chroma server")
    return server, port


def measure(
    paced: bool, env: dict[str, str], logs: Path, counts: list[int], people: int, runs: int
) -> tuple[list[Deployment], dict[str, int], list[tuple[str, float, float, float, float]], Any]:
    """One replica and two, side by side, their runs alternating; then what each replica
    holds (RSS), audits lost, and the database's size per person."""
    from tests.bots.replica_support import SCRIPT

    suffix = "" if paced else "-unpaced"
    deployments: list[Deployment] = []
    try:
        deployments = [
            start(f"one{suffix}", 1, env, logs, paced),
            start(f"two{suffix}", 2, env, logs, paced),
        ]
        loop = asyncio.new_event_loop()
        for deployment in deployments:
            listen(deployment, loop)
            loop.run_until_complete(warm_up(deployment, SCRIPT, counts))
        first_chats = {d.label: d.next_chat for d in deployments}
        for number in range(runs):
            for deployment in deployments:
                run = loop.run_until_complete(one_run(deployment, SCRIPT, counts, people))
                deployment.runs.append(run)
                print(
                    f"run {number + 1} {deployment.label}: {run.per_s:.1f} updates/s, "
                    f"{run.cpu_per_update:.2f} ms CPU/update, load {run.load:.2f}",
                    flush=True,
                )
        loop.close()
        rss = [
            (r.name, r.start_s, r.rss_started, rss_mb(r.process.pid), vm_hwm(r.process.pid))
            for d in deployments for r in d.replicas
        ]  # fmt: skip
        lost = {
            d.label: lost_audits(d, range(first_chats[d.label], d.next_chat)) for d in deployments
        }
        size = schema_size(deployments[-1])
    finally:
        for deployment in deployments:
            stop(deployment)
    return deployments, lost, rss, size


def main() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        logs = Path(os.environ.get("BENCH_REPLICA_LOGS") or Path(tmp) / "logs")
        logs.mkdir(parents=True, exist_ok=True)
        server, chroma_port = chroma_server(Path(tmp) / "chroma-server", logs)
        try:
            env = base_env(home, chroma_port)
            build_began = time.perf_counter()
            built = subprocess.run(
                [str(BIN / "skillaudit"), "kb", "build"], env=env, capture_output=True,
                text=True, check=True,
            )  # fmt: skip
            print(f"{built.stdout.strip()} in {time.perf_counter() - build_began:.1f} s")
            counts = expected_parts(Path(tmp) / "reference", chroma_port)
            unpaced = measure(False, env, logs, counts, CHATS, RUNS)
            paced = measure(True, env, logs, counts, PACED_CHATS, 1)
        finally:
            server.terminate()
            server.wait(timeout=60)
    report(unpaced, paced, time.perf_counter() - started)


def vm_hwm(pid: int) -> float:
    """The process's peak resident set so far (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc")


Measured = tuple[
    list[Deployment], dict[str, int], list[tuple[str, float, float, float, float]], Any
]


def summary(d: Deployment) -> dict[str, float]:
    latencies = [lat for run in d.runs for lat in run.latencies]
    return {
        "per_s": statistics.median(r.per_s for r in d.runs),
        "cpu": statistics.median(r.cpu_per_update for r in d.runs),
        "p95": p95(latencies),
        "median": statistics.median(latencies),
        "harness": statistics.median(r.harness_cpu_ms / r.updates for r in d.runs),
        "messages": statistics.median(r.messages / r.wall_s for r in d.runs),
        "share": statistics.median(r.cpu_share for r in d.runs),
    }


def report(unpaced: Measured, paced: Measured, took: float) -> None:
    from bots.telegram_send import MESSAGES_PER_S

    cores = os.cpu_count()
    rows = []
    ratios = {}
    loads = []
    for (deployments, lost, _, _), how in ((unpaced, "unpaced"), (paced, "paced")):
        one, two = (summary(d) for d in deployments)
        ratios[how] = two["per_s"] / one["per_s"]
        for d, figures, n in ((deployments[0], one, 1), (deployments[1], two, 2)):
            loads += [run.load for run in d.runs]
            rows.append([
                str(n), how, f"{d.runs[0].chats} x {len(d.runs)}",
                f"{figures['per_s']:.1f}", " / ".join(f"{r.per_s:.1f}" for r in d.runs),
                f"{figures['messages']:.1f}", f"{figures['cpu']:.2f}", f"{figures['share']:.0%}",
                f"{figures['median']:.0f} / {figures['p95']:.0f}", f"{figures['harness']:.2f}",
                str(lost[d.label]),
            ])  # fmt: skip
        for figures, n in ((one, 1), (two, 2)):
            plural = "s" if n > 1 else ""
            record(f"Replicas on PostgreSQL, {how}: updates per second, {n} replica{plural} "
                   f"({cores} cores)", "-", figures["per_s"], None, "updates/s")  # fmt: skip
            record(f"Replicas on PostgreSQL, {how}: replicas' CPU per update, {n} "
                   f"replica{plural}", "-", figures["cpu"], None, "ms")  # fmt: skip
            record(f"Replicas on PostgreSQL, {how}: reply latency, {n} replica{plural}",
                   "-", figures["median"], figures["p95"], "ms")  # fmt: skip
        record(f"Replicas on PostgreSQL, {how}: updates/s of 2 replicas / 1 (same cores)",
               "-", ratios[how], None, "x")  # fmt: skip
    lost_total = sum(sum(m[1].values()) for m in (unpaced, paced))
    rss = unpaced[2]
    record("Replicas on PostgreSQL: replica resident memory after the load", "-",
           statistics.median(r[3] for r in rss), None, "MB")  # fmt: skip
    record("Replicas on PostgreSQL: audits lost or duplicated", "0", lost_total, None,
           "audits", met=lost_total == 0)  # fmt: skip
    print_table(
        f"Telegram replicas in webhook mode on PostgreSQL ({cores} cores, {dt.date.today()}; "
        f"load average {min(loads):.2f}-{max(loads):.2f} at the runs' starts)",
        ["replicas", "sends", "chats x runs", "updates/s (median)", "runs", "messages sent/s",
         "replicas' CPU ms/update", "replicas' CPU, share of all cores",
         "latency median / p95 ms", "harness CPU ms/update", "audits lost"],
        rows,
    )  # fmt: skip
    first = unpaced[0][0].runs[0]
    print(
        f"\n2 replicas / 1 replica, updates per second: {ratios['unpaced']:.2f}x unpaced, "
        f"{ratios['paced']:.2f}x paced (all on the same {cores} cores); "
        f"{first.messages / first.updates:.2f} messages per update; paced: each replica spaces "
        f"its own sends to {MESSAGES_PER_S:g} messages/s (bots/telegram_send.py)"
    )
    print_table(
        "Replicas: start-up (a deployment's replicas start together) and resident memory (MB)",
        ["replica", "start to listening (s)", "RSS listening, no update yet",
         "RSS after the runs", "peak RSS (VmHWM)"],
        [[name, f"{t:.1f}", f"{a:.0f}", f"{b:.0f}", f"{c:.0f}"]
         for name, t, a, b, c in unpaced[2] + paced[2]],
    )  # fmt: skip
    per_person, updates_part, people = unpaced[3]
    print(
        f"\nPostgreSQL on disk after {people} whole audits: {per_person:.1f} KB per person "
        f"(tables and indexes), of which processed_updates {updates_part:.1f} KB (kept 7 days)"
    )
    print(f"\nload average now {os.getloadavg()}; the whole script took {took:.0f} s")


if __name__ == "__main__":
    main()
