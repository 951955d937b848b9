"""Scripted conversations: messages in, reply patterns and stored rows asserted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.engine import Engine
from agent.store import Store

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


def run_transcript(engine: Engine, script: dict[str, Any]) -> None:
    never = script.get("expect_never", [])  # patterns no reply of the script may contain
    for number, step in enumerate(script["steps"], 1):
        reply = engine.handle_sync(step["user"], step["say"])
        where = f"step {number} ({step['user']}: {step['say']!r}) replied:\n{reply.text}"
        assert reply.text.strip(), where
        for pattern in step.get("expect", []):
            assert re.search(pattern, reply.text, re.S), f"missing /{pattern}/ at {where}"
        for pattern in [*step.get("expect_not", []), *never]:
            assert not re.search(pattern, reply.text, re.S), f"unexpected /{pattern}/ at {where}"
        if "state" in step:
            assert reply.state == step["state"], where


def check_rows(store: Store, after: dict[str, Any]) -> None:
    for user, count in after.get("audits", {}).items():
        with store.user(user) as scope:
            assert len(scope.audits()) == count, user
    for user, state in after.get("states", {}).items():
        with store.user(user) as scope:
            latest = scope.latest_audit()
            assert latest is not None and latest.state == state, user
    for user, consents in after.get("consents", {}).items():
        with store.user(user) as scope:
            assert {k: v for k, v in scope.consents().items() if k in consents} == consents
    for user, count in after.get("active_flows", {}).items():
        with store.user(user) as scope:
            assert len(scope.active_flows()) == count, user
    for user, count in after.get("plans", {}).items():
        with store.user(user) as scope:
            assert len(scope.export()["plans"]) == count, user
    for user, answers in after.get("answers", {}).items():
        with store.user(user) as scope:
            interview = scope.last_flow("interview")
            assert interview is not None
            assert {k: interview.answers.get(k) for k in answers} == answers


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, engine: Engine, store: Store) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    run_transcript(engine, script)
    check_rows(store, script.get("after", {}))
