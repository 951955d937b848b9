"""A person's files across bot replicas: a document sent through one replica is connected,
and erased, through another, as the proxy may send consecutive messages anywhere.

The replicas share the database and the people's folder (SKILLAUDIT_HOME/users, one volume
mounted into every bot container by docker-compose.yml; tests/test_deploy.py checks the
mount). Here each replica has its own home, as each container has its own /data, and the
second one's `users` is the first one's folder, as the shared volume makes it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from agent.config import Settings
from agent.engine import Engine
from agent.sources import Asker
from agent.store import Delivery, Store, Upload
from knowledge.base import KnowledgeBase

BOT = "123456"
CHAT = 7001
CV = b"Jane Doe. Skills: Python, Docker and Kubernetes.\n"
_ids = itertools.count(1)


def replica(home: Path, database: str, kb: KnowledgeBase) -> Engine:
    settings = Settings(SKILLAUDIT_HOME=home, DATABASE_URL=database)
    return Engine(Store(database), settings, kb)


def says(engine: Engine, text: str, upload: Upload | None = None) -> str:
    """One update through a replica, as its bot hands it to the engine."""
    kind = "upload" if upload else "text"
    delivery = Delivery(BOT, next(_ids), CHAT, kind, upload=upload)
    reply = engine.handle_sync(f"tg:{CHAT}", text, delivery, Asker.REMOTE)
    assert reply is not None
    return reply.text


def test_a_document_sent_through_one_replica_is_read_and_erased_through_another(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    first = replica(tmp_path / "replica-1", database, kb)
    (tmp_path / "replica-1" / "users").mkdir(parents=True)
    (tmp_path / "replica-2").mkdir()
    (tmp_path / "replica-2" / "users").symlink_to(tmp_path / "replica-1" / "users")
    second = replica(tmp_path / "replica-2", database, kb)
    try:
        says(first, "/start")
        assert "recorded" in says(second, "/consent grant cv")
        assert "I kept your file cv.md" in says(first, "", Upload("cv.md", CV))
        connected = says(second, "/connect cv cv.md")
        assert "The CV names" in connected and "you have not sent me" not in connected
        uploads = first.settings.user_dir(f"tg:{CHAT}") / "uploads"
        assert (uploads / "cv.md").read_bytes() == CV
        says(second, "/forget")
        assert "has been erased" in says(second, "yes")
        assert not first.settings.user_dir(f"tg:{CHAT}").exists()  # gone for every replica
    finally:
        first.store.dispose()
        second.store.dispose()
