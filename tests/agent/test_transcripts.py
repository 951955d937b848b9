"""Scripted conversations: messages in, reply patterns and stored rows asserted.

A step says `say` (a message; `$name` is replaced by a value an earlier step captured), or
`answer_check: right|wrong` (the letter of the right, or a wrong, option of the skill-check
question the person was just shown, read from the reply and the question bank), or
`include: FILE` (another transcript, as this step's user). `repeat_until: PATTERN` sends the
step again (at most `max` times) until the reply matches; `capture: {name: PATTERN}` keeps
the pattern's first group for later steps.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Any

import pytest
import yaml

from agent.engine import Engine
from agent.store import Store
from knowledge.checks import default_checks

FOLDER = Path(__file__).parent / "transcripts"
TRANSCRIPTS = sorted(FOLDER.glob("*.yaml"))
OPTION = re.compile(r"^([A-D])\) (.*)$", re.M)


def run_transcript(engine: Engine, script: dict[str, Any]) -> None:
    never = script.get("expect_never", [])  # patterns no reply of the script may contain
    captured: dict[str, str] = {}
    last: dict[str, str] = {}  # each user's latest reply
    for number, step in enumerate(script["steps"], 1):
        if "include" in step:
            included = yaml.safe_load((FOLDER / step["include"]).read_text(encoding="utf-8"))
            for inner in included["steps"]:
                inner["user"] = step["user"]
            run_transcript(engine, included)
            continue
        for _ in range(int(step.get("max", 1))):
            said = _message(engine, step, captured, last)
            reply = engine.handle_sync(step["user"], said)
            last[step["user"]] = reply.text
            until = step.get("repeat_until")
            if until is None or re.search(until, reply.text, re.S):
                break
        else:
            raise AssertionError(
                f"step {number}: no reply matched /{until}/ in {step['max']} tries"
            )
        where = f"step {number} ({step['user']}: {said!r}) replied:\n{reply.text}"
        assert reply.text.strip(), where
        for pattern in step.get("expect", []):
            assert re.search(pattern, reply.text, re.S), f"missing /{pattern}/ at {where}"
        for pattern in [*step.get("expect_not", []), *never]:
            assert not re.search(pattern, reply.text, re.S), f"unexpected /{pattern}/ at {where}"
        if "state" in step:
            assert reply.state == step["state"], where
        if "choices" in step:
            assert [c.value for c in reply.choices] == step["choices"], where
        for name, pattern in step.get("capture", {}).items():
            found = re.search(pattern, reply.text, re.S)
            assert found is not None, f"nothing to capture as {name} at {where}"
            captured[name] = found.group(1)


def _message(
    engine: Engine, step: dict[str, Any], captured: dict[str, str], last: dict[str, str]
) -> str:
    if "answer_check" in step:
        return check_letter(
            engine.store, step["user"], last[step["user"]], step["answer_check"] == "right"
        )
    return Template(step["say"]).safe_substitute(captured)


def check_letter(store: Store, user: str, shown: str, right: bool) -> str:
    """The letter of the right (or a wrong) option of the question this user was just shown."""
    with store.user(user) as scope:
        flow = next(f for f in scope.active_flows() if f.flow == "check")
        skill, question_id = flow.answers["skill"], flow.position
    bank = default_checks().bank(skill)
    assert bank is not None and question_id is not None
    question = bank.get(question_id)
    assert question is not None
    correct = question.options[question.answer].text
    # The options of the last question in the reply (a reply may hold a verdict first).
    block = shown[shown.rfind(", question ") :]
    options = OPTION.findall(block)
    assert len(options) == 4, block
    return next(letter for letter, text in options if (text == correct) == right)


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
    for user, statuses in after.get("checks", {}).items():
        with store.user(user) as scope:
            scope.settle_checks()
            found = [row.status for row in scope.check_sessions()]
            assert {s: found.count(s) for s in statuses} == statuses, (user, found)
    for user, counts in after.get("endorsements", {}).items():
        with store.user(user) as scope:
            have = {
                "received": len(scope.endorsements_received()),
                "given": len(scope.endorsements_given()),
            }
            assert {k: have[k] for k in counts} == counts, user


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, engine: Engine, store: Store) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    run_transcript(engine, script)
    check_rows(store, script.get("after", {}))
