"""The PostgreSQL on 127.0.0.1 that store tests also run on, when one is reachable: its URL,
why it is skipped when it is not, and a throwaway schema per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from agent.store import Store

PG_URL = os.environ.get("SKILLAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_skip_reason() -> str | None:
    """None when PostgreSQL answers; otherwise the reason a test skips, for its marker."""
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=2
        ):
            return None
    except Exception as exc:  # any failure to connect means: skip, and say why
        return f"PostgreSQL not reachable at 127.0.0.1:5432/test ({type(exc).__name__})"


@contextmanager
def throwaway_schema(prefix: str) -> Iterator[str]:
    """The URL of a new schema (its tables are the test's alone), dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@contextmanager
def throwaway_store(prefix: str) -> Iterator[Store]:
    """A store in a throwaway schema (`throwaway_schema`), disposed before it is dropped."""
    from agent.store import Store

    with throwaway_schema(prefix) as url:
        store = Store(url)
        try:
            yield store
        finally:
            store.dispose()
