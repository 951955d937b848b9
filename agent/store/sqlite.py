"""SQLite set-up shared by the store and the erasure check: pragmas, transactions, file modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

SQLITE_BUSY_TIMEOUT_S = 15


def sqlite_pragmas(dbapi_connection: Any, busy_s: float = SQLITE_BUSY_TIMEOUT_S) -> None:
    """Set up one new connection: WAL, the busy timeout, foreign keys, secure deletes."""
    # Autocommit at the driver level; SQLAlchemy's begin event below opens each transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Overwrite deleted content with zeros, so erased personal data leaves no trace in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def sqlite_begin(conn: Connection) -> None:
    # Take the write lock up front: a deferred transaction that later writes can fail with
    # "database is locked" without waiting, since SQLite cannot upgrade it safely. Reads that
    # never write ask for a deferred transaction, which takes no lock at all in WAL mode.
    if conn.get_execution_options().get("sqlite_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def private_file(path: Path) -> None:
    """Create `path` readable by its owner only (0600), or take others' access away from it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    info = path.stat()
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.getuid():
        # A store made by an older version under a loose umask: every user's answers are in it.
        path.chmod(0o600)
