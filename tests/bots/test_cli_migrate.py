"""`skillaudit migrate`: applies the pending schema migrations once and says which, on SQLite
and (when reachable) on a fresh PostgreSQL schema; a bad DATABASE_URL is one line, exit 2."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from agent.store import MIGRATIONS, Store
from tests.agent.test_store import PG_SKIP
from tests.cli_process import run_cli
from tests.postgres import throwaway_schema

ROOT = Path(__file__).resolve().parents[2]
LATEST = max(version for version, _, _ in MIGRATIONS)


def migrate(home: Path, database: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SKILLAUDIT_HOME=str(home), PYTHONPATH=str(ROOT))
    if database:
        env["DATABASE_URL"] = database
    return run_cli(["migrate"], env, home.parent, timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    if PG_SKIP:
        pytest.skip(PG_SKIP)
    with throwaway_schema("sa_migrate") as url:
        yield url


def test_migrate_applies_each_pending_migration_once_and_says_which(
    tmp_path: Path, database: str | None
) -> None:
    home = tmp_path / "home"
    first = migrate(home, database)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[:-1] == [f"applied {v}: {about}" for v, about, _ in MIGRATIONS]
    dialect = "postgresql" if database else "sqlite"
    assert lines[-1] == f"schema version {LATEST} ({dialect}); {len(MIGRATIONS)} migrations applied"
    again = migrate(home, database)
    assert again.returncode == 0 and again.stdout.splitlines() == [
        f"schema version {LATEST} ({dialect}); no migrations applied"
    ], again.stdout
    # A store one version behind gets that version only.
    url = database or f"sqlite:///{home / 'skillaudit.db'}"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM schema_migrations WHERE version = :v"), {"v": LATEST})
    store.dispose()
    last = migrate(home, database)
    assert last.stdout.splitlines()[0] == f"applied {LATEST}: {MIGRATIONS[-1][1]}", last.stdout
    assert "1 migration applied" in last.stdout


def test_an_unreachable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = migrate(tmp_path / "home", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert done.returncode == 2, done.stderr
    assert "database is unreachable" in done.stderr and "Traceback" not in done.stderr
