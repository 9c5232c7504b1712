"""Statistics over Results: per pipeline, namespace or day — counts per status, success rate,
and p50/p95/max duration, from index columns only (no JSON per row)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import peewee as pw

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.models import Result
from tekton_results_tui.store.query import Filter

AGGREGATE_KEYS = ("pipeline", "namespace", "day")


@dataclass
class Aggregate:
    key: str
    total: int
    succeeded: int
    failed: int
    cancelled: int
    timed_out: int
    running: int
    success_rate: float | None  # succeeded / finished
    p50: float | None
    p95: float | None
    max: int | None


def percentile(sorted_vals: list[int], q: float) -> float | None:
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def aggregate(by: str, f: Filter) -> list[Aggregate]:
    """Per pipeline / namespace / day (of the run's start), biggest groups first."""
    if by == "pipeline":
        key = pw.fn.COALESCE(Result.pipeline, "(none)")
    elif by == "namespace":
        key = Result.parent
    elif by == "day":
        key = (pw.fn.COALESCE(Result.summary_start, Result.sort_time) / 86400)
    else:
        raise ValueError(f"unknown aggregate {by!r}: expected pipeline, namespace or day")
    key = key.alias("k")
    st = Result.summary_status

    def count_if(cond: pw.Expression) -> pw.Node:
        return pw.fn.SUM(pw.Case(None, ((cond, 1),), 0))

    q = Result.select(
        key, pw.fn.COUNT(Result.id), count_if(st == g.SUCCESS), count_if(st == g.FAILURE),
        count_if(st == g.CANCELLED), count_if(st == g.TIMEOUT), count_if(st == g.UNKNOWN),
        pw.fn.MAX(Result.summary_duration),
    )
    w = f.for_results()
    if w is not None:
        q = q.where(w)
    rows = list(q.group_by(pw.SQL("1")).order_by(pw.SQL("2 DESC"), pw.SQL("1")).tuples())
    # percentiles: one pass over durations ordered by group (no JSON, index columns only)
    dq = Result.select(key, Result.summary_duration).where(Result.summary_duration.is_null(False))
    if w is not None:
        dq = dq.where(w)
    durs: dict[Any, list[int]] = {}
    for k, d in dq.tuples().iterator():
        durs.setdefault(k, []).append(int(d))
    out = []
    for k, total, ok, failed, cancelled, timeout, running, mx in rows:
        ds = sorted(durs.get(k, []))
        ok, failed, cancelled, timeout = int(ok or 0), int(failed or 0), int(cancelled or 0), int(timeout or 0)
        finished = ok + failed + cancelled + timeout
        label = k
        if by == "day" and k is not None:
            label = time.strftime("%Y-%m-%d", time.gmtime(int(k) * 86400))
        out.append(Aggregate(str(label), int(total), ok, failed, cancelled, timeout, int(running or 0),
                             (ok / finished) if finished else None,
                             percentile(ds, 0.5), percentile(ds, 0.95), int(mx) if mx is not None else None))
    return out
