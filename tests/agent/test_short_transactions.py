"""Nothing slow runs while a message's transaction holds the store.

A fresh engine (its course index not loaded, as in a new `skillaudit chat` process) runs a
whole guided audit. Every query the embedding model computes, and the loading of the index,
are watched: each must happen while no transaction is open. The final turn still answers
with its plan: its transaction was rolled back, the slow work done outside, and the turn run
again (which finds the work done).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event

from agent.config import Settings
from agent.engine import Engine
from agent.store import Store
from knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]
STEPS = yaml.safe_load((ROOT / "tests" / "agent" / "transcripts" / "full_audit.yaml").read_text())[
    "steps"
]


def test_the_index_loads_and_queries_embed_outside_every_transaction(
    tmp_path: Path, index_home: Path, retriever: object, kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import knowledge.memory
    from knowledge.bundled import bundled_model

    shutil.copytree(index_home / "chroma", tmp_path / "chroma")
    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(settings.resolved_database_url())
    engine = Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28))
    assert not engine.recommender.ready
    open_transactions: list[int] = [0]
    event.listen(store.engine, "begin", lambda conn: open_transactions.__setitem__(0, 1))
    event.listen(store.engine, "commit", lambda conn: open_transactions.__setitem__(0, 0))
    event.listen(store.engine, "rollback", lambda conn: open_transactions.__setitem__(0, 0))
    slow: list[tuple[str, int]] = []  # (what, transactions open at that moment)
    model = bundled_model()
    real_query, real_load = model.query, knowledge.memory.load_snapshot

    def query(texts: list[str]) -> object:  # the library's call, recorded then made
        slow.append(("embed", open_transactions[0]))
        return real_query(texts)

    def load_snapshot(*args: object, **kwargs: object) -> object:
        slow.append(("load", open_transactions[0]))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(model, "query", query)
    monkeypatch.setattr(knowledge.memory, "load_snapshot", load_snapshot)
    monkeypatch.setattr("knowledge.index.load_snapshot", load_snapshot, raising=False)
    reply = engine.handle_sync("ana", "/start")
    for step in STEPS[1:]:
        reply = engine.handle_sync("ana", step["say"])
    assert "Your audit as Machine Learning Engineer" in reply.text
    assert engine.recommender.ready
    assert [w for w, _ in slow].count("load") == 1 and any(w == "embed" for w, _ in slow)
    assert all(opened == 0 for _, opened in slow), slow
    with store.user("ana") as scope:  # the plan the final turn made is stored once
        latest = scope.latest_audit()
        assert latest is not None and scope.latest_plan(latest) is not None
        assert len(scope.audits()) == 1 and len(scope.export()["plans"]) == 1
    store.dispose()


def test_charts_are_drawn_after_the_transaction(
    tmp_path: Path, index_home: Path, retriever: object, kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from matplotlib.figure import Figure

    from tests.agent.test_review_flow import audited

    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    store = Store(settings.resolved_database_url())
    engine = Engine(store, settings, kb, today=lambda: dt.date(2026, 11, 28))
    audited(engine, "ana")
    opened = [0]
    event.listen(store.engine, "begin", lambda conn: opened.__setitem__(0, 1))
    event.listen(store.engine, "commit", lambda conn: opened.__setitem__(0, 0))
    event.listen(store.engine, "rollback", lambda conn: opened.__setitem__(0, 0))
    drawn: list[int] = []
    real = Figure.savefig

    def savefig(self: Figure, *args: object, **kwargs: object) -> None:  # the library's call
        drawn.append(opened[0])
        real(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    report = engine.handle_sync("ana", "/report")
    progress = engine.handle_sync("ana", "/progress")
    assert drawn == [0, 0], drawn  # the radar and the progress chart, no transaction open
    for reply in (report, progress):
        images = [a.path for a in reply.attachments if a.kind == "image"]
        assert images and all(p.is_file() for p in images)  # there when the reply is shown
    store.dispose()
