"""'What should I learn next?' after an audit, from a topic, and on the command line."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.store import Store
from tests.agent.test_review_flow import audited
from tests.cli_process import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_audit_ends_with_recommendations_and_a_plan(engine: Engine, store: Store) -> None:
    audited(engine, "gil")
    with store.user("gil") as scope:
        audit = scope.latest_audit()
        plans = scope.export()["plans"]
    assert audit is not None and len(plans) == 1
    gaps = [g["skill"] for g in audit.result["top_gaps"]]
    recs = plans[0]["recommendations"]
    own = [r for r in recs if r["role"] != "prerequisite"]  # prerequisites serve the picks
    assert len(recs) >= 3 and all(r["for_skill"] in gaps for r in own)
    served = {r["for_skill"] for r in own} | {s for r in own for s in r["also_for"]}
    nothing_fits = {u["skill"] for u in plans[0]["plan"]["uncovered"]}
    assert set(gaps[:5]) <= served | nothing_fits  # every top gap gets a pick or a plain answer
    assert len(served) >= 2  # spread over the most severe gaps


def test_next_after_an_audit(engine: Engine, store: Store) -> None:
    audited(engine, "hal")
    reply = engine.handle_sync("hal", "what should I learn next?")
    assert (
        "From your audit of 2026-11-28" in reply.text and "Learning plan at 4 h/week" in reply.text
    )
    # Hours read as the reasons write them: "(3 h)", never "(3.0 h)".
    assert re.search(r"\(\d+(?:\.\d)? h\)", reply.text)
    assert not re.search(r"\d\.0 h\b", reply.text), reply.text
    assert reply.data is not None and reply.state == "draft"
    recs = reply.data["recommendations"]
    assert len(recs) >= 3
    for rec in recs:
        assert {"id", "title", "url", "skills", "level", "hours", "cost_usd", "reason"} <= set(rec)
        assert "gap" in rec["reason"] or rec["role"] == "prerequisite"
        assert "h/week" in rec["reason"]
        assert rec["cost_usd"] == 0  # the budget given in the interview was "free only"
    items = reply.data["plan"]["items"]
    assert items[0]["start"] == "2026-11-30"
    for before, after in itertools.pairwise(items):
        assert dt.date.fromisoformat(after["start"]) > dt.date.fromisoformat(before["end"])


def test_topic_mid_interview_is_answered_later(engine: Engine) -> None:
    engine.handle_sync("ivy", "hi")
    reply = engine.handle_sync("ivy", "/next docker")
    assert (
        "Docker" in reply.text
        and "Back to where we were" in reply.text
        and "Which role" in reply.text
    )


def test_a_topics_header_names_the_skills_its_picks_serve(engine: Engine) -> None:
    """ "evaluate a fraud model" also matched LLM safety evaluation by its words; no pick is
    for it, so the header does not name it."""
    reply = engine.handle_sync(
        "jo", "/next how do I evaluate a fraud model with very few positives"
    )
    header = next(line for line in reply.text.splitlines() if line.startswith("For "))
    assert reply.data is not None
    served = {r["for_skill"] for r in reply.data["recommendations"]}
    assert "Model Evaluation" in header and "LLM" not in header, header
    assert served == {"model_evaluation"}


def test_cli_next_json(index_home: Path, retriever: object) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SKILLAUDIT_HOME=str(index_home), PYTHONPATH=str(ROOT))
    command = [
        "next",
        "I want to deploy models with Docker",
        "--user",
        "jo",
        "--json",
    ]
    done = run_cli(command, env, index_home)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    assert "docker" in data["skills"]
    first = data["recommendations"][0]
    assert {"id", "title", "url", "skills", "level", "hours", "cost_usd", "reason"} <= set(first)
    assert any("docker" in r["skills"] for r in data["recommendations"])
    empty = run_cli(["next", "--user", "jo"], env, index_home)
    assert empty.returncode == 2 and "no audit yet" in empty.stderr


def test_an_index_server_that_goes_away_is_said_plainly(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Chroma server that stops after the index was opened: /next TOPIC says recommendations
    are unavailable (it gave the generic apology), and the conversation goes on."""
    from knowledge.index import VectorIndex

    index = engine.recommender.retriever().index  # opened while the server was up
    monkeypatch.setattr(index, "memory", None)  # no local snapshot: every query goes to it
    monkeypatch.setattr(VectorIndex, "resources", property(lambda self: _Down()), raising=False)
    monkeypatch.setattr(VectorIndex, "skills", property(lambda self: _Down()), raising=False)
    reply = engine.handle_sync("ned", "/next deploy models with docker")
    assert "recommendations are unavailable right now" in reply.text.lower(), reply.text
    assert "course index server cannot be reached (ConnectError)" in reply.text
    assert "something went wrong" not in reply.text.lower()


class _Down:
    """A Chroma collection whose server is gone."""

    def count(self) -> int:
        import httpx

        raise httpx.ConnectError("connection refused")


def test_a_learning_question_after_the_quick_questions_is_answered_within_its_budget(
    engine: Engine,
) -> None:
    """ "what should I learn for kubernetes?" was read as the start of a full audit (and with
    "max 20 euros" as the answer to its role question); the quick path offered the audit twice."""
    for text in ("/next", "mlops", "python, sql"):
        engine.handle_sync("kim", text)
    reply = engine.handle_sync("kim", "5")
    assert "Noted: 5 hours a week." in reply.text
    assert [c.value for c in reply.choices] == ["/audit"]
    reply = engine.handle_sync("kim", "what should I learn for kubernetes?")
    assert reply.text.startswith('For "what should I learn for kubernetes?" (Kubernetes)')
    assert reply.data is not None
    paid = [r for r in reply.data["recommendations"] if (r["cost_usd"] or 0) > 22]
    capped = engine.handle_sync("kim", "what should I learn for kubernetes, max 20 euros?")
    assert capped.data is not None and "Which role" not in capped.text
    assert all((r["cost_usd"] or 0) <= 22 for r in capped.data["recommendations"])
    assert paid, "the uncapped picks hold a paid one, so the cap is what removed it"
