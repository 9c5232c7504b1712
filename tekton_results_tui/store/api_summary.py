"""The record-list summary `serve` answers (GetRecordListSummary): counts and durations per group,
from index columns over the Records a compiled filter selects.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.api_filter import Node, compile_node
from tekton_results_tui.store.api_reads import Scope, record_scope
from tekton_results_tui.store.models import Label, Record

TIME_GROUP_COLS = {"creationTimestamp": Record.create_time, "startTime": Record.start, "completionTime": Record.end}
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _floor_to(col: pw.Node, n: int) -> pw.Node:
    """`col` rounded down to a multiple of n (integer division on both engines; peewee's `%` is LIKE)."""
    return (col / n) * n


def _time_bucket(col: pw.Field, unit: str) -> pw.Node:
    """Start of the minute/hour/day/week (Monday, as PostgreSQL's date_trunc) holding an epoch second;
    month and year are rolled up from days by the caller."""
    if unit == "week":  # 1970-01-01 was a Thursday: Monday-based weeks are 7-day blocks from 1969-12-29
        return _floor_to(col + 3 * 86400, 7 * 86400) - 3 * 86400
    return _floor_to(col, _UNIT_SECONDS.get(unit, 86400))


def summarize(scope: Scope, node: Node, group: tuple[str, str | None] | None) -> list[dict[str, Any]]:
    """Per group (or once): total, succeeded, failed, cancelled, running, others, last start, and the
    duration sum/count/min/max of finished runs. Status buckets follow our status rules: timeouts are
    failures, every cancel reason is a cancel, a run with an Unknown condition is running."""
    runs = Record.kind.in_(list(kinds.RUN_KIND_NAMES))

    def count(cond: pw.Expression) -> pw.Node:
        return pw.fn.SUM(pw.Case(None, ((cond, 1),), 0))

    cols: list[pw.Node] = [
        pw.fn.COUNT(Record.id).alias("total"),
        count(runs & (Record.status == g.SUCCESS)).alias("succeeded"),
        count(runs & Record.status.in_([g.FAILURE, g.TIMEOUT])).alias("failed"),
        count(runs & (Record.status == g.CANCELLED)).alias("cancelled"),
        count(runs & (Record.status == g.UNKNOWN) & Record.reason.is_null(False)).alias("running"),
        count(runs & (Record.status == g.UNKNOWN) & Record.reason.is_null(True)).alias("others"),
        pw.fn.MAX(Record.start).alias("last_runtime"),
        pw.fn.SUM(Record.duration).alias("dur_sum"),
        pw.fn.COUNT(Record.duration).alias("dur_count"),
        pw.fn.MIN(Record.duration).alias("dur_min"),
        pw.fn.MAX(Record.duration).alias("dur_max"),
    ]
    gexpr: pw.Node | None = None
    if group is not None:
        what, time_field = group
        if what == "namespace":
            gexpr = Record.parent
        elif what == "pipeline":  # "<ns>/<pipeline>", "<ns>/" without one, as upstream groups
            gexpr = Record.parent.concat("/").concat(pw.fn.COALESCE(Record.pipeline, ""))
        elif what == "repository":  # Pipelines-as-Code labels its runs with the repository, as it annotates them
            repo = (Label.select(pw.fn.MIN(Label.value)).where(
                (Label.result == Record.result) & (Label.key == "pipelinesascode.tekton.dev/repository")))
            gexpr = Record.parent.concat("/").concat(pw.fn.COALESCE(repo, ""))
        else:
            # a Log or EventList object has no such timestamp: it groups under null, as upstream's JSON
            col = pw.Case(None, ((runs, TIME_GROUP_COLS[time_field or "creationTimestamp"]),), None)
            gexpr = _time_bucket(col, "day" if what in ("month", "year") else what)
        cols.append(gexpr.alias("group_value"))
    q = Record.select(*cols)
    for c in [*record_scope(scope), compile_node(node, "records")]:
        q = q.where(c)
    if gexpr is not None:
        q = q.group_by(gexpr)
    rows = []
    for d in q.dicts():
        for k in ("total", "succeeded", "failed", "cancelled", "running", "others", "dur_count"):
            d[k] = int(d[k] or 0)
        for k in ("last_runtime", "dur_sum", "dur_min", "dur_max"):
            d[k] = int(d[k]) if d[k] is not None else None
        rows.append(d)
    return rows
