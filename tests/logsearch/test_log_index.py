"""The log index stays right: re-stored and changed logs, prune, the backfill of older histories, old read-only files."""

from __future__ import annotations

import pytest
from logkit import all_hits, index_rows, store_run, where
from store_objects import T0

from tekton_results_tui.store import log_index as li
from tekton_results_tui.store.db import is_sqlite, open_database, schema_version
from tekton_results_tui.store.history import History, Logs, NoLogIndex, StepLogData


def _blocks(h: History) -> int:
    table = li.FTS if is_sqlite(h.db) else li.BLOCK_TABLE
    return h.db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_restored_logs_are_indexed_once_and_changed_logs_again(h: History) -> None:
    _, t = store_run(h, "r1", {"s": b"alpha marker\n"})
    rows = index_rows(h)
    res = h.apply([Logs(t, [StepLogData("s", "step-s", b"alpha marker\n")])])  # the same again: nothing changes
    assert res.changed == 0 and index_rows(h) == rows and len(all_hits(h, "marker")) == 1
    h.apply([Logs(t, [StepLogData("s", "step-s", b"beta marker\nmore\n")])])  # the log was read again and grew
    assert where(all_hits(h, "marker")) == [("r1-t", "s", 1)]
    assert all_hits(h, "alpha") == [] and len(all_hits(h, "beta")) == 1
    assert _blocks(h) == 1


def test_prune_takes_the_index_rows_with_the_logs(h: History) -> None:
    old = T0 - 40 * 86400
    store_run(h, "gone", {"a": b"needle one\n" * 100, "b": b"needle two\n"}, created=old)
    store_run(h, "kept", {"a": b"needle three\n"})
    assert len(all_hits(h, "needle")) == 102
    n_results, _ = h.prune(T0 - 30 * 86400)
    assert n_results == 1
    assert where(all_hits(h, "needle")) == [("kept-t", "a", 1)]
    # no row of the pruned logs is left behind in the index
    assert _blocks(h) == 1
    assert h.db.execute_sql("SELECT COUNT(*) FROM log_doc").fetchone()[0] == 1


def _history_with_logs(h: History) -> None:
    for n in range(7):
        store_run(h, f"run{n}", {"fetch": b"fetching sources %d\n" % n, "build": b"compiling %d\nerror: boom\n" % n},
                  created=T0 - 7000 + n * 600, failed=n % 2 == 1)


def test_backfill_interrupted_and_resumed_gives_the_same_index(h: History, db_url: str) -> None:
    _history_with_logs(h)
    reference = index_rows(h)
    reference_hits = [(x.run_name, x.step, x.line, x.text) for x in all_hits(h, "error")]
    li.empty_index(h.db)  # as a history from before the index, once migrated
    assert h.search_logs("error").hits == [] and h.log_index_pending() == 14
    assert not h.search_logs("error").index_complete
    # two batches, then the process "dies" (the database is closed mid-way)
    assert li.backfill_batch(h.db, batch=3) == 3
    assert li.backfill_batch(h.db, batch=3) == 3
    assert h.log_index_pending() == 8
    h.db.close()
    db = open_database(db_url)  # a new start: the backfill goes on where it was
    h2 = History(db, clock=lambda: T0)
    try:
        while h2.reindex_logs_batch() is not None:
            pass
        assert h2.log_index_pending() == 0 and h2.reindex_logs_batch() is None
        assert index_rows(h2) == reference
        page = h2.search_logs("error")
        assert page.index_complete
        assert [(x.run_name, x.step, x.line, x.text) for x in all_hits(h2, "error")] == reference_hits
    finally:
        db.close()


def test_logs_stored_while_the_backfill_runs_are_indexed_once(h: History) -> None:
    _history_with_logs(h)
    li.empty_index(h.db)  # as a history from before the index, once migrated
    li.backfill_batch(h.db, batch=4)
    store_run(h, "late", {"s": b"error: late one\n"})  # the writer indexes it itself
    while h.reindex_logs_batch() is not None:
        pass
    assert len(all_hits(h, "error")) == 8
    assert len(index_rows(h)) == 15


def _downgrade_to_v3(db) -> None:  # noqa: ANN001
    if is_sqlite(db):
        db.execute_sql("DROP TRIGGER IF EXISTS log_index_step_log_bd")
        db.execute_sql(f"DROP TABLE IF EXISTS {li.FTS}")
    else:
        db.execute_sql(f"DROP TABLE IF EXISTS {li.BLOCK_TABLE}")
    db.execute_sql("DROP TABLE IF EXISTS log_doc")
    db.execute_sql("DELETE FROM meta WHERE key = ?".replace("?", db.param), (li.BACKFILL_KEY,))
    db.execute_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


def test_an_older_history_is_migrated_then_backfilled(h: History, db_url: str) -> None:
    _history_with_logs(h)
    reference_hits = [(x.run_name, x.step, x.line) for x in all_hits(h, "compiling")]
    _downgrade_to_v3(h.db)
    h.db.close()
    # read-only: never migrated, and a search says what to do in one line
    ro = open_database(db_url, read_only=True)
    try:
        assert schema_version(ro) == 3
        with pytest.raises(NoLogIndex, match="^this history has no log index yet; open it writable once$"):
            History(ro, read_only=True).search_logs("compiling")
        assert History(ro, read_only=True).log_index_pending() == 0
    finally:
        ro.close()
    db = open_database(db_url)  # writable: the schema step makes the empty index, quickly
    h2 = History(db, clock=lambda: T0)
    try:
        assert schema_version(db) >= li.LOG_INDEX_VERSION and h2.log_index_pending() == 14  # v4 and later steps
        while h2.reindex_logs_batch() is not None:
            pass
        assert [(x.run_name, x.step, x.line) for x in all_hits(h2, "compiling")] == reference_hits
    finally:
        db.close()
