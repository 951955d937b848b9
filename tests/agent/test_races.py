"""One person in two processes at once (two terminals, two webhook replicas): their turns are
serialised across processes, so nothing crashes and no acknowledged answer is lost.

Two replica processes (`race_child.py`), each with its own engine and store, are released
together by a barrier, 50 times for a new person's first message and 50 times for two
different answers to one question. On PostgreSQL the store takes an advisory lock on the
person first in every transaction and creates people with an upsert; on SQLite the write
lock serialises everything. The outcome asserted does not depend on which replica wins.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.agent import race_child
from tests.postgres import postgres_skip_reason, throwaway_schema

TRIALS = 50
HANG_GUARD_S = 300


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    with throwaway_schema("sa_race") as url:
        yield url


class Replicas:
    """Two replica processes on one store."""

    def __init__(self, url: str, home: Path) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tests.agent.race_child"])
        # Kept as long as the replicas live: its semaphores go when the parent's object does.
        self.barrier = barrier = context.Barrier(2)
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for _ in range(2):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=race_child.serve, args=(url, str(home), barrier, theirs)
            )
            process.start()
            theirs.close()
            self.pipes.append(mine)
            self.processes.append(process)

    def send(self, replica: int, user: str, message: str) -> str:
        self.pipes[replica].send((user, message, False))
        return str(self.pipes[replica].recv())

    def together(self, user: str, first: str, second: str) -> list[str]:
        """Both replicas handle a message at the same moment; their replies."""
        self.pipes[0].send((user, first, True))
        self.pipes[1].send((user, second, True))
        replies = []
        for pipe in self.pipes:
            # A hang guard only: a replica that died would otherwise leave us waiting.
            assert pipe.poll(HANG_GUARD_S), "a replica stopped answering"
            replies.append(str(pipe.recv()))
        return replies

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(timeout=60)
            assert process.exitcode == 0


def rows(url: str, query: str, **params: object) -> list[Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = list(conn.execute(text(query), params).all())
    engine.dispose()
    return found


@pytest.mark.long(seconds=7)
def test_two_processes_racing_first_messages_and_answers(url: str, tmp_path: Path) -> None:
    from agent.store import Store

    Store(url).dispose()  # the schema first: these races are about a person's rows
    replicas = Replicas(url, tmp_path)
    try:
        for trial in range(TRIALS):
            user = f"first{trial}"
            replies = replicas.together(user, "/start", "/start")
            assert not any(r.startswith("CRASH") for r in replies), replies
            # The person exists once; one replica welcomed them, the other resumed.
            assert sum("automated assistant" in r for r in replies) == 1, replies
            assert sum("Welcome back" in r for r in replies) == 1, replies
            assert len(rows(url, "select id from users where external_id = :u", u=user)) == 1
            sessions = rows(
                url,
                "select s.id from sessions s join users u on u.id = s.user_id "
                "where u.external_id = :u and s.flow = 'interview'",
                u=user,
            )
            assert len(sessions) == 1, trial

        for trial in range(TRIALS):
            user = f"answers{trial}"
            for message in ("/start", "ml engineer", "mid"):
                replicas.send(0, user, message)
            replies = replicas.together(user, "5 years", "7 years")
            assert not any(r.startswith("CRASH") for r in replies), replies
            acknowledged = [
                m.group(1) for r in replies for m in re.finditer(r"Noted: (\d+) years", r)
            ]
            # One answer was taken for the years question; the other replica was told that
            # its message now met the next question (which it does not answer).
            assert len(acknowledged) == 1, replies
            other = next(r for r in replies if "Noted:" not in r)
            assert "Technical skills" in other or "Give 8 numbers" in other, other
            (answers,) = rows(
                url,
                "select s.answers from sessions s join users u on u.id = s.user_id "
                "where u.external_id = :u and s.flow = 'interview'",
                u=user,
            )[0]
            stored = answers if isinstance(answers, dict) else json.loads(answers)
            assert stored["years_experience"] == float(acknowledged[0]), (trial, replies)
    finally:
        replicas.close()
