"""The watcher's threads and the database: let go of a dead connection, retry on a fresh one.

Each watcher thread (writer, follow-up workers, lease renewal, cleanup policy) has its own
connection; after a database restart that connection is dead and must be dropped, or every
later statement on the thread fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tekton_results_tui.store.db import CONNECTION_ERRORS, DATABASE_ERRORS, is_sqlite

__all__ = ["CONNECTION_ERRORS", "DATABASE_ERRORS", "release_connection", "reset_connection", "retrying_db"]


def reset_connection(db: Any) -> None:
    """After a database error: let go of this thread's connection so the next call opens a fresh one.

    peewee keeps a thread's connection until it is closed, and a pooled PostgreSQL connection
    whose server session died (restart, pg_terminate_backend) fails every later query; closing
    it makes the pool discard it. SQLite connections are kept (their errors are locks, not
    dead sessions, and the writer's tuned page cache lives on its connection)."""
    if is_sqlite(db):
        return
    try:
        db.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail: forget it instead
        try:
            db._state.reset()
        except Exception:  # noqa: BLE001
            pass


def release_connection(db: Any) -> None:
    """At the end of a thread that used the store: return its pooled connection (threads come and go
    with each election; a connection left checked out would count against the pool for good)."""
    try:
        if not db.is_closed():
            db.close()
    except Exception:  # noqa: BLE001
        reset_connection(db)


def retrying_db(db: Any, fn: Callable[[], Any], attempts: int = 4) -> Any:
    """fn() with a fresh connection after each connection-level failure (a pool may hold several
    dead sessions after a database restart: each failure discards one)."""
    for i in range(attempts):
        try:
            return fn()
        except CONNECTION_ERRORS:
            reset_connection(db)
            if i == attempts - 1:
                raise
            time.sleep(0.05 * (i + 1))
    return None
