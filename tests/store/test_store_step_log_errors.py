"""A database error while a Log's step logs are written reaches the caller as the store's (peewee's) error,
as every other statement's does: the watcher retries OperationalError (a full disk, a lock) and the CLI
prints DATABASE_ERRORS as one line; a bare sqlite3 error was taken for a poison object (skipped) or a
traceback."""

from __future__ import annotations

import peewee as pw
import pytest
from store_objects import pr, tr

from tekton_results_tui.store.changes import Logs, StepLogData
from tekton_results_tui.store.db import CONNECTION_ERRORS, is_sqlite
from tekton_results_tui.store.history import History, RunUpsert


def test_a_failing_step_log_insert_raises_the_stores_error(history: History) -> None:
    if not is_sqlite(history.db):
        pytest.skip("PostgreSQL's step logs go through peewee's own execute")
    p = pr("run-0")
    t = tr("run-0-a", p, task="build")
    history.apply([RunUpsert(p), RunUpsert(t)])
    # a statement failing inside the step logs' insert (a trigger's RAISE stands for a full disk or an I/O error)
    history.db.execute_sql("CREATE TRIGGER full_disk BEFORE INSERT ON step_log BEGIN "
                           "SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(pw.DatabaseError) as got:
        history.apply([Logs(t, [StepLogData("build", "step-build", b"hello\n")])])
    assert isinstance(got.value, pw.IntegrityError) or isinstance(got.value, CONNECTION_ERRORS)
    history.db.execute_sql("DROP TRIGGER full_disk")
    history.apply([Logs(t, [StepLogData("build", "step-build", b"hello\n")])])  # the transaction was rolled back
    assert [s.step for s in history.step_logs(history.log_record_for(t["metadata"]["uid"]).id)] == ["build"]


def test_a_failing_log_index_insert_raises_the_stores_error(history: History) -> None:
    """The same for the log index's rows (SQLite FTS5 rows, PostgreSQL log_block rows, written by the driver)."""
    p = pr("run-1")
    t = tr("run-1-a", p, task="build")
    history.apply([RunUpsert(p), RunUpsert(t)])
    db = history.db
    if is_sqlite(db):  # an FTS5 table takes no trigger: a plain table with one stands in for it
        db.execute_sql("ALTER TABLE log_fts RENAME TO log_fts_kept")
        db.execute_sql("CREATE TABLE log_fts (body TEXT)")
        db.execute_sql("CREATE TRIGGER full_disk BEFORE INSERT ON log_fts BEGIN "
                       "SELECT RAISE(ABORT, 'database or disk is full'); END")
    else:
        db.execute_sql("CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION 'could not extend file'; END $$")
        db.execute_sql("CREATE TRIGGER full_disk BEFORE INSERT ON log_block FOR EACH ROW EXECUTE FUNCTION full_disk()")
    with pytest.raises(pw.DatabaseError):
        history.apply([Logs(t, [StepLogData("build", "step-build", b"hello\n")])])
    assert history.log_record_for(t["metadata"]["uid"]) is None  # rolled back
