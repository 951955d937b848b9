"""The store under faults and load: processes killed with SIGKILL at chosen moments, and
a hundred people interviewed at once on one SQLite file.

These generalise `tests/bots/test_chat_repl.py::test_killed_process_resumes_at_the_next_question`
(one kill at a known point, through the REPL) and `test_store.py::test_concurrent_users_do_not_collide`
(12 users, position only).

The kills are driven by the child's own progress reports (`crash_child.py`), never by sleeping:
every kind of moment is reached on any machine, however loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import random
import shutil
import sqlite3
import threading
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from sqlalchemy import text

from agent.config import Settings
from agent.engine import Engine
from agent.interview import questions
from agent.recommend import Recommender
from agent.store import FlowSession, Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tests.agent import crash_child

ORDER = [q.id for q in questions()]  # the full audit script answers every question, in order
ORDINARY = 6  # kills at each kind of moment in ordinary turns (one more in the final turn)
# Where a kill lands. "+" kills right after letting the child go on from that checkpoint, so
# it lands somewhere inside the work that follows (reads, scoring, writes, the COMMIT itself).
KINDS = ("turn", "commit", "replied", "acked", "turn+", "commit+")
HANG_GUARD_S = 300  # only a child that stopped reporting altogether fails on this


def interviews(database: Path) -> dict[str, tuple[str, dict[str, object], list[str]]]:
    """Each user's latest interview: (status, answers, history), read straight from the file."""
    with sqlite3.connect(database) as raw:
        if not raw.execute("select 1 from sqlite_master where name = 'sessions'").fetchone():
            return {}  # killed before the first migration committed
        rows = raw.execute(
            "select u.external_id, s.status, s.answers, s.history from sessions s "
            "join users u on u.id = s.user_id where s.flow = 'interview' order by s.id"
        ).fetchall()
    return {user: (status, json.loads(a), json.loads(h)) for user, status, a, h in rows}


def audits_of(database: Path, user: str) -> int:
    with sqlite3.connect(database) as raw:
        return int(
            raw.execute(
                "select count(*) from audits a join users u on u.id = a.user_id "
                "where u.external_id = ?",
                (user,),
            ).fetchone()[0]
        )


def interview_of(store: Store, user: str) -> FlowSession | None:
    with store.user(user) as scope:
        rows = scope.session.query(FlowSession).filter_by(user_id=scope.user.id, flow="interview")
        return rows.order_by(FlowSession.id.desc()).first()


def schedule(rng: random.Random) -> list[tuple[str, bool, int]]:
    """(where to kill, whether in the final scoring turn, whole turns to let pass first):
    the schema's migration first, then every kind of moment, six times in an ordinary turn
    and once in the final one, in a seeded random order."""
    kills = [(kind, False, rng.randint(0, 2)) for kind in KINDS for _ in range(ORDINARY)]
    kills += [(kind, True, 0) for kind in KINDS]
    rng.shuffle(kills)
    return [("migrate", False, 0), *kills]


def kill_at(
    child: multiprocessing.process.BaseProcess,
    control: Connection,
    kind: str,
    final: bool,
    skip: int,
) -> crash_child.Step:
    """Let the child work until the chosen checkpoint, kill it there; return that step."""
    wanted = kind.rstrip("+")
    while True:
        assert control.poll(HANG_GUARD_S), f"the child stopped reporting (waiting for {kind})"
        step = control.recv()
        checkpoint, _, position, _ = step
        due = checkpoint == wanted and (position == ORDER[-1] if final else skip == 0)
        if due:
            if kind.endswith("+"):
                control.send("go")
            child.kill()
            child.join()
            return step  # type: ignore[no-any-return]
        if checkpoint == "acked" and not final:
            skip -= 1
        control.send("go")


@pytest.mark.long(seconds=14)
def test_sigkill_at_chosen_moments_loses_no_acknowledged_answer(
    tmp_path: Path, index_home: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    """43 kills at every kind of moment, six of them inside the final scoring turn: the
    database stays intact, a turn is stored entirely or not at all, every acknowledged answer
    is kept, and the next message continues the interview exactly where it stopped."""
    home = tmp_path / "home"
    # A private copy of the session's index: a child killed while opening it must not harm it.
    shutil.copytree(index_home / "chroma", home / "chroma")
    database = tmp_path / "crash.db"
    url = f"sqlite:///{database}"
    acks = tmp_path / "acks.tsv"
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.agent.crash_child", "knowledge.index"])
    settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=url)
    seen = 0
    landed: Counter[tuple[str, bool]] = Counter()
    for kill, (kind, final, skip) in enumerate(schedule(random.Random(20261128))):
        control, child_end = context.Pipe()
        child = context.Process(target=crash_child.run, args=(url, str(home), str(acks), child_end))
        child.start()
        child_end.close()
        checkpoint, user, position, answered = kill_at(child, control, kind, final, skip)
        control.close()
        assert child.exitcode == -9, f"kill {kill}: the child ended by itself ({child.exitcode})"
        landed[(kind, final)] += 1

        with sqlite3.connect(database) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"kill {kill}"
        lines = acks.read_text().splitlines() if acks.exists() else []
        rows = interviews(database)
        if checkpoint == "migrate":
            assert rows == {}, "an uncommitted migration left tables behind"
        for line in lines[seen:]:
            acked_user, acked_position, _ = line.split("\t")
            assert acked_user in rows, f"kill {kill}: {acked_user} lost its interview"
            _, answers, history = rows[acked_user]
            if acked_position != "-":
                assert acked_position in answers and acked_position in history, (kill, line)
        for owner, (_, _, history) in rows.items():
            # No question answered twice or skipped: the history is a prefix of the script's order.
            assert history == ORDER[: len(history)], (kill, owner, history)
        if checkpoint != "migrate":
            # All of a turn or nothing: before its COMMIT nothing, after it everything.
            status, _, history = rows.get(user, ("none", {}, []))
            stored = len(history) - answered if position != "-" else int(user in rows)
            if kind in ("turn", "commit"):
                assert stored == 0, (kill, kind, user, position, history)
            elif kind in ("replied", "acked"):
                assert stored == 1, (kill, kind, user, position, history)
            else:
                assert stored in (0, 1), (kill, kind, user, position, history)
            if final:
                expected = {"turn": 0, "commit": 0, "replied": 1, "acked": 1}.get(kind)
                audits = audits_of(database, user)
                assert audits == (stored if expected is None else expected), (kill, kind, user)
                assert (status == "done") == (audits == 1), (kill, kind, status)
        seen = len(lines)
        store = Store(url)
        try:
            # The session resumes: the next message answers the next question.
            current = lines[-1].split("\t")[0] if lines else "c0"
            row = interview_of(store, current)
            if row is not None and row.status == "active":
                before = len(row.history)
                engine = Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28),
                                recommender=Recommender(settings, kb, retriever))  # fmt: skip
                reply = engine.handle_sync(current, crash_child.SCRIPT[1 + before])
                after = interview_of(store, current)
                assert after is not None and "Welcome back" not in reply.text
                assert len(after.history) == before + 1, (kill, current, reply.text[:200])
                assert f"({before + 2}/" in reply.text or after.status == "done", reply.text[:200]
        finally:
            store.dispose()
    # Every kind of moment was reached, in ordinary and in final scoring turns.
    assert {k for k, final in landed if not final} == {"migrate", *KINDS}, landed
    assert {k for k, final in landed if final} == set(KINDS), landed


def test_a_hundred_people_at_once_on_one_sqlite_file(
    tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    """Each person answers with values unique to them; every reply and row stays theirs."""
    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(settings.resolved_database_url())
    engine = Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28),
                    recommender=Recommender(settings, kb, retriever))  # fmt: skip
    people = 100
    errors: list[str] = []
    start = threading.Barrier(people)

    def talk(i: int) -> None:
        user = f"p{i:03d}"
        years = f"{i / 4:g}"  # unique: 0, 0.25, ... 24.75
        clients = str(i + 1)
        script = [
            ("/start", "Which role"),
            ("data scientist", "Noted: Data Scientist"),
            ("junior", "Noted: Junior"),
            (f"{years} years", f"Noted: {years} year{'' if years == '1' else 's'}"),
            ("3 3 3 3 3 3 3 3", "Model lifecycle"),
            ("2 2 2 2 2 2", "Ethical governance"),
            ("1 1 1 1 1", "real project"),
            ("none", "Power skills"),
            ("3 3 3 3 3", "Any other skills"),
            ("none", "clients"),
            (clients, f"Noted: {clients} client{'' if clients == '1' else 's'}"),
        ]
        try:
            start.wait()
            for message, expected in script:
                reply = engine.handle_sync(user, message)
                if expected not in reply.text:
                    errors.append(f"{user} sent {message!r}, got {reply.text[:300]!r}")
                    return
        except Exception as exc:  # collected and reported by the main thread
            errors.append(f"{user}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=talk, args=(i,)) for i in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from users")).scalar() == people
        assert conn.execute(text("select count(*) from sessions")).scalar() == people
        assert conn.execute(text("select count(*) from audits")).scalar() == 0
        owners = conn.execute(
            text("select u.external_id, s.answers from sessions s join users u on u.id = s.user_id")
        ).all()
    for external_id, answers in owners:
        i = int(external_id[1:])
        data = json.loads(answers)
        assert data["years_experience"] == i / 4 and data["clients"] == i + 1, external_id
    with store.user("p042") as scope:
        flow = scope.active_flows()[0]
        assert flow.position == "top_client_share" and len(flow.history) == 10
    store.dispose()


def test_a_hundred_people_through_the_async_entry_point(
    tmp_path: Path, kb: KnowledgeBase, retriever: Retriever
) -> None:
    """The same through `Engine.handle` (what the bots call), all messages in flight at once."""
    import asyncio

    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(settings.resolved_database_url())
    engine = Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28),
                    recommender=Recommender(settings, kb, retriever))  # fmt: skip

    async def person(i: int) -> list[str]:
        replies = []
        for message in ("/start", "mlops engineer", "senior", f"{i / 2:g} years"):
            replies.append((await engine.handle(f"a{i}", message)).text)
        return replies

    async def everyone() -> list[list[str]]:
        return await asyncio.gather(*(person(i) for i in range(people)))

    people = 100
    results = asyncio.run(everyone())
    for i, replies in enumerate(results):
        said = f"Noted: {i / 2:g} year{'' if i == 2 else 's'}."
        assert said in replies[-1], (i, replies[-1][:200])
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("select u.external_id, s.answers from sessions s join users u on u.id = s.user_id")
        ).all()
    assert len(rows) == people
    assert all(json.loads(a)["years_experience"] == int(u[1:]) / 2 for u, a in rows)
    store.dispose()
