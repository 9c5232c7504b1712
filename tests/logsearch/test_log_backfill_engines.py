"""The writer's backfill (watcher/log_backfill.py) on both engines: small adaptive batches between live
writes build the same index as reindex-logs, and the heartbeat says the index is being built."""

from __future__ import annotations

from logkit import all_hits, index_rows, store_run
from store_objects import T0

from tekton_results_tui.store import log_index as li
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher import log_backfill as lb
from tekton_results_tui.watcher.counters import Counters


def test_batches_between_live_writes_build_the_whole_index(h: History, monkeypatch) -> None:
    monkeypatch.setattr(lb, "FIRST_STEP_LOGS", 2)
    for n in range(9):
        store_run(h, f"old{n}", {"a": b"alpha %d\n" % n, "b": b"error: old %d\n" % n}, created=T0 - 9000 + n * 60)
    reference = {(x.run_name, x.step, x.line) for x in all_hits(h, "error")}
    li.empty_index(h.db)
    counters = Counters()
    b = lb.LogIndexBackfill(h, counters, target_s=10.0)  # a generous target: batches grow, at most doubling
    b.step()
    assert b.pending == 18 and not b.done
    live = 0
    while not b.done:
        b.step()
        if not b.done:  # a live write between two batches (indexed by the writer itself)
            store_run(h, f"live{live}", {"s": b"error: live %d\n" % live})
            live += 1
    # step logs looked at: the old ones and the live ones stored after the backfill began (skipped: indexed)
    assert b.batches >= 3 and 18 <= counters.get("log_index_backfilled") <= 18 + live and b.pending == 0
    assert h.log_index_pending() == 0 and h.log_index_being_built()
    got = {(x.run_name, x.step, x.line) for x in all_hits(h, "error")}
    assert got == reference | {(f"live{n}-t", "s", 1) for n in range(live)}
    assert len(index_rows(h)) == 18 + live  # every step log indexed once


def test_a_read_only_history_is_never_written(h: History) -> None:
    store_run(h, "old", {"a": b"error: old\n"})
    li.empty_index(h.db)
    b = lb.LogIndexBackfill(History(h.db, read_only=True))
    b.step()
    assert b.done and b.due_in() == float("inf") and h.log_index_pending() == 1 and not h.log_index_being_built()
