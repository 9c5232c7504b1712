"""Forgetting old history: `prune` removes Results whose runs ended before a time, with their
Records, labels and step logs. By the run's completion time, never the row's; running Results
are never pruned. A prune is a change too: it bumps the change sequence and records it as
`last_prune_seq`, so live readers know to drop rows they hold.
"""

from __future__ import annotations

import time

import peewee as pw

from tekton_results_tui.store import stat_days
from tekton_results_tui.store.models import Label, Record, Result, StepLog
from tekton_results_tui.store.query import Filter
from tekton_results_tui.store.rows import INT64_MAX
from tekton_results_tui.store.sql import chunks, get_value, lock_seq, put_value, set_seq


def prunable(ended_before: int, f: Filter) -> tuple[list[int], int]:
    """(ids of the Results a prune would remove, how many Records they hold)."""
    ended_before = max(-INT64_MAX, min(int(ended_before), INT64_MAX))  # the column's range
    cond = Result.summary_end.is_null(False) & (Result.summary_end < ended_before)
    w = f.for_results()
    if w is not None:
        cond = cond & w
    ids = [i for (i,) in Result.select(Result.id).where(cond).tuples()]
    n_records = 0
    for chunk in chunks(ids):
        n_records += Record.select(pw.fn.COUNT(Record.id)).where(Record.result << list(chunk)).scalar() or 0
    return ids, int(n_records)


def delete_results(db: pw.Database, ids: list[int]) -> None:
    """Remove these Results and everything under them in one write transaction."""
    with db.write_txn():  # type: ignore[attr-defined]
        seq = lock_seq(db) + 1
        now = int(time.time())
        for chunk in chunks(ids):
            # the days whose statistics lose these runs (store/stat_days.py), before they are gone
            stat_days.mark_days(db, stat_days.result_days(db, chunk) | stat_days.run_days_of_results(db, chunk), now)
            rec_ids = Record.select(Record.id).where(Record.result << list(chunk))
            StepLog.delete().where(StepLog.record << rec_ids).execute()
            Label.delete().where(Label.result << list(chunk)).execute()
            Record.delete().where(Record.result << list(chunk)).execute()
            Result.delete().where(Result.id << list(chunk)).execute()
        stat_days.settle_due(db, now)
        set_seq(seq)  # readers must drop these rows
        put_value("last_prune_seq", str(seq))


def last_prune_seq() -> int:
    v = get_value("last_prune_seq")
    return int(v) if v else 0
