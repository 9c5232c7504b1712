"""The record-list summary `serve` answers (GetRecordListSummary): counts and durations per group,
from index columns over the Records a compiled filter selects.

When the filter can only match runs (a time, duration or reason condition: what dashboards send) and
names only columns a run's `run_stat` row holds, the sums read those ~100-byte rows instead of the
Records: on SQLite a Record's index columns sit after its ~4 KB object, so every row read walks the
object's overflow pages (measured on 120k records, 30 days grouped by pipeline: 566 -> 280 ms loaded).

When the filter is a data.status.startTime window (ANDed with namespace or condition-status terms) and the
grouping is none, namespace, pipeline or day-or-coarser on startTime, the whole clean days come from the
writer-kept summary_day sums (store/summary_days.py) and only the rest from run_stat (1.2M records, 30 days
by pipeline over HTTP: p50 ~1,100-1,500 -> ~80-120 ms loaded; bench/api_bench.py).
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.api_filter import (
    RUN_ONLY_FIELDS, AllOf, AnyOf, Cond, Const, Negate, Node, UnsupportedFilter, _all, _any, _cmp, _text_op,
    compile_node,
)
from tekton_results_tui.store.api_reads import Scope, record_scope
from tekton_results_tui.store.db import has_run_stats
from tekton_results_tui.store.models import Label, Record, Result, RunStat
from tekton_results_tui.store.stat_days import DAY, StatDirty, in_ranges, snapshot
from tekton_results_tui.store.storable import storable_text
from tekton_results_tui.store.summary_days import SummaryDay, day_ranges, has_summary_days

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


def _runs_only(node: Node) -> bool:
    """Whether the filter is false on every Log/EventList Record (it requires a run-only field)."""
    if isinstance(node, Cond):
        return node.field in RUN_ONLY_FIELDS
    if isinstance(node, AllOf):
        return any(_runs_only(n) for n in node.items)
    if isinstance(node, AnyOf):
        return bool(node.items) and all(_runs_only(n) for n in node.items)
    return isinstance(node, Const) and not node.value


_STAT_COLS = {
    "parent": RunStat.parent, "data.metadata.namespace": RunStat.parent, "data.metadata.name": RunStat.run_name,
    "data.metadata.creationTimestamp": RunStat.created, "data.status.startTime": RunStat.start,
    "data.status.completionTime": RunStat.end, "duration": RunStat.duration,
    "data.status.conditions[0].reason": RunStat.reason,
}
_STAT_TEXT = frozenset({"parent", "data.metadata.namespace", "data.metadata.name", "data.status.conditions[0].reason"})
_COND_STATUS = {"True": [g.SUCCESS], "False": [g.FAILURE, g.TIMEOUT, g.CANCELLED], "Unknown": [g.UNKNOWN]}


def _stat_cond(node: Node) -> pw.Node:
    """The filter over run_stat columns, equal to api_filter's SQL on the Records that are runs (there
    a run-only field is present, a Log's name alternative is false); UnsupportedFilter otherwise."""
    if isinstance(node, Const):
        return pw.SQL("1 = 1") if node.value else pw.SQL("1 = 0")
    if isinstance(node, AllOf):
        return _all([_stat_cond(n) for n in node.items])
    if isinstance(node, AnyOf):
        return _any([_stat_cond(n) for n in node.items])
    if isinstance(node, Negate):
        return ~_stat_cond(node.item)
    if not isinstance(node, Cond):
        raise UnsupportedFilter(type(node).__name__)
    if node.field == "data.status.conditions[0].status":
        if node.op not in ("==", "!=", "in"):
            raise UnsupportedFilter(f"operator {node.op} on data.status.conditions[0].status")
        vals = list(node.value) if node.op == "in" else [node.value]
        expr = _any([RunStat.status.in_(_COND_STATUS[x]) for x in vals if x in _COND_STATUS])
        return pw.Case(None, ((RunStat.reason.is_null(False), ~expr if node.op == "!=" else expr),), None)
    col = _STAT_COLS.get(node.field)
    if col is None:
        raise UnsupportedFilter(node.field)
    if node.field == "data.metadata.name" and node.op in ("==", "!="):
        expr = _text_op(col, "in", [node.value])
        return ~expr if node.op == "!=" else expr
    return _text_op(col, node.op, node.value) if node.field in _STAT_TEXT else _cmp(col, node.op, node.value)


def _stat_where(scope: Scope, node: Node) -> list[pw.Node] | None:
    """The WHERE over run_stat answering this scope and filter, or None to read the Records."""
    if scope.kinds is not None or scope.types or not _runs_only(node) or not has_run_stats(Record._meta.database):
        return None
    try:
        conds = [_stat_cond(node)]
    except UnsupportedFilter:
        return None
    if scope.namespace is not None:
        conds.append(RunStat.parent == storable_text(scope.namespace))
    if scope.result_name is not None:
        named = Result.select(Result.id).where(Result.name == storable_text(scope.result_name))
        conds.append(RunStat.result.in_(named))
    elif scope.result_id is not None:
        return None
    return conds


def summarize(scope: Scope, node: Node, group: tuple[str, str | None] | None) -> list[dict[str, Any]]:
    """Per group (or once): total, succeeded, failed, cancelled, running, others, last start, and the
    duration sum/count/min/max of finished runs. Status buckets follow our status rules: timeouts are
    failures, every cancel reason is a cancel, a run with an Unknown condition is running."""
    stat_where = _stat_where(scope, node)
    if stat_where is not None:
        rolled = _from_summary_days(scope, node, group, stat_where)
        if rolled is not None:
            return rolled
        return _summarize(RunStat, None, stat_where, group)
    runs = Record.kind.in_(list(kinds.RUN_KIND_NAMES))
    return _summarize(Record, runs, [*record_scope(scope), compile_node(node, "records")], group)


def _summarize(T: Any, runs: pw.Node | None, where: list[pw.Node],
               group: tuple[str, str | None] | None) -> list[dict[str, Any]]:
    """The sums over table T: Record (`runs` tells its runs apart) or RunStat (every row a run: None)."""

    def run(cond: pw.Expression) -> pw.Expression:
        return cond if runs is None else runs & cond

    def count(cond: pw.Expression) -> pw.Node:
        return pw.fn.SUM(pw.Case(None, ((run(cond), 1),), 0))

    cols: list[pw.Node] = [
        pw.fn.COUNT(T.id).alias("total"),
        count(T.status == g.SUCCESS).alias("succeeded"),
        count(T.status.in_([g.FAILURE, g.TIMEOUT])).alias("failed"),
        count(T.status == g.CANCELLED).alias("cancelled"),
        count((T.status == g.UNKNOWN) & T.reason.is_null(False)).alias("running"),
        count((T.status == g.UNKNOWN) & T.reason.is_null(True)).alias("others"),
        pw.fn.MAX(T.start).alias("last_runtime"),
        pw.fn.SUM(T.duration).alias("dur_sum"),
        pw.fn.COUNT(T.duration).alias("dur_count"),
        pw.fn.MIN(T.duration).alias("dur_min"),
        pw.fn.MAX(T.duration).alias("dur_max"),
    ]
    gexpr: pw.Node | None = None
    if group is not None:
        what, time_field = group
        if what == "namespace":
            gexpr = T.parent
        elif what == "pipeline":  # "<ns>/<pipeline>", "<ns>/" without one, as upstream groups
            gexpr = T.parent.concat("/").concat(pw.fn.COALESCE(T.pipeline, ""))
        elif what == "repository":  # Pipelines-as-Code labels its runs with the repository, as it annotates them
            repo = (Label.select(pw.fn.MIN(Label.value)).where(
                (Label.result == T.result) & (Label.key == "pipelinesascode.tekton.dev/repository")))
            gexpr = T.parent.concat("/").concat(pw.fn.COALESCE(repo, ""))
        else:
            time_cols = {"creationTimestamp": T.create_time if T is Record else T.created, "startTime": T.start,
                         "completionTime": T.end}
            col = time_cols[time_field or "creationTimestamp"]
            if runs is not None:  # a Log or EventList has no such timestamp: it groups under null, as upstream's
                col = pw.Case(None, ((runs, col),), None)
            gexpr = _time_bucket(col, "day" if what in ("month", "year") else what)
        cols.append(gexpr.alias("group_value"))
    q = T.select(*cols)
    for c in where:
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


# --- the writer-kept per-day sums (store/summary_days.py, schema v9) ------------------------------------

_START = "data.status.startTime"
_ROLLUP_TIME_GROUPS = ("day", "week", "month", "year")
_SUMS = ("total", "succeeded", "failed", "cancelled", "running", "others", "dur_count")


def _conjuncts(node: Node) -> list[Node]:
    """The terms a filter ANDs at its top (nested ANDs flattened)."""
    if isinstance(node, AllOf):
        return [t for n in node.items for t in _conjuncts(n)]
    return [node]


def _key_cond(node: Node) -> pw.Node | None:
    """The filter over summary_day's key columns, equal per row to _stat_cond on each run the row sums (NULL
    where that is NULL); None when it names anything else."""
    S = SummaryDay
    if isinstance(node, Const):
        return pw.SQL("1 = 1") if node.value else pw.SQL("1 = 0")
    if isinstance(node, (AllOf, AnyOf)):
        parts = [_key_cond(n) for n in node.items]
        if any(p is None for p in parts):
            return None
        return _all(parts) if isinstance(node, AllOf) else _any(parts)  # type: ignore[arg-type]
    if isinstance(node, Negate):
        inner = _key_cond(node.item)
        return None if inner is None else ~inner
    if not isinstance(node, Cond):
        return None
    if node.field in ("parent", "data.metadata.namespace"):
        return _text_op(S.parent, node.op, node.value)
    if node.field == "data.status.conditions[0].status" and node.op in ("==", "!=", "in"):
        vals = list(node.value) if node.op == "in" else [node.value]
        expr = _any([S.status.in_(_COND_STATUS[x]) for x in vals if x in _COND_STATUS])
        return pw.Case(None, ((S.has_reason == 1, ~expr if node.op == "!=" else expr),), None)
    return None


def _start_window(terms: list[Node]) -> tuple[int | None, int | None, list[Node]] | None:
    """([lo, hi) of start seconds the terms on data.status.startTime allow, the other terms), or None
    without such a term."""
    lo: int | None = None
    hi: int | None = None
    rest: list[Node] = []
    for t in terms:
        if (isinstance(t, Cond) and t.field == _START and t.op in ("<", "<=", ">", ">=")
                and isinstance(t.value, int) and not isinstance(t.value, bool)):
            if t.op in (">", ">="):
                a = t.value + (1 if t.op == ">" else 0)
                lo = a if lo is None else max(lo, a)
            else:
                b = t.value + (1 if t.op == "<=" else 0)
                hi = b if hi is None else min(hi, b)
        else:
            rest.append(t)
    if lo is None and hi is None:
        return None
    return lo, hi, rest


def _from_summary_days(scope: Scope, node: Node, group: tuple[str, str | None] | None,
                       stat_where: list[pw.Node]) -> list[dict[str, Any]] | None:
    """The summary from summary_day for the whole clean start days of a start-time window and from run_stat
    for the rest (module docstring of store/summary_days.py); None when summary_day cannot answer: an older
    schema, a term on anything but the start time, the namespace and the condition status, a group it does
    not key (repository, minute, hour, other time fields). Equal to _summarize over run_stat, group by group."""
    db = Record._meta.database.obj
    if not has_summary_days(db) or scope.kinds is not None or scope.types or scope.result_name is not None \
            or scope.result_id is not None:
        return None
    if group is not None and group[0] not in ("namespace", "pipeline") and not (
            group[0] in _ROLLUP_TIME_GROUPS and group[1] == "startTime"):
        return None
    window = _start_window(_conjuncts(node))
    if window is None:
        return None
    lo, hi, rest = window
    if group is not None and group[0] in _ROLLUP_TIME_GROUPS and (lo is None or lo < 0):
        return None  # the scan's buckets truncate toward zero; whole days floor (they agree from 1970 on)
    keys = [_key_cond(t) for t in rest]
    if any(k is None for k in keys):
        return None
    S = SummaryDay
    if scope.namespace is not None:
        keys.append(S.parent == storable_text(scope.namespace))
    with snapshot(db):
        dirty = sorted(int(d) for (d,) in StatDirty.select(StatDirty.day).tuples())
        whole: tuple[int | None, int | None] | None = None
        edges: list[tuple[int, int | None]] = []
        d0 = None if lo is None else -(-lo // DAY)  # the first whole day
        d1 = None if hi is None else hi // DAY  # the day after the last whole one
        if lo is not None and hi is not None and lo >= hi:
            pass  # an empty window
        elif d0 is not None and d1 is not None and d0 >= d1:
            edges = [(lo, hi)]  # type: ignore[list-item]
        else:
            whole = (d0, d1)
            if lo is not None and d0 is not None and lo < d0 * DAY:
                edges.append((lo, d0 * DAY))
            if hi is not None and d1 is not None and d1 * DAY < hi:
                edges.append((d1 * DAY, hi))
        parts: list[list[dict[str, Any]]] = []
        if whole is not None:
            parts.append(_summarize_days(whole, dirty, keys, group))
        clean_edge_days: list[int] = []
        if edges:
            edge_days = sorted({d for a, b in edges for d in range(a // DAY, (b - 1) // DAY + 1)})  # type: ignore[operator]
            q = S.select(S.cday).where(S.sday << edge_days).distinct()
            for k in keys + ([S.cday.not_in(dirty)] if dirty else []):
                q = q.where(k)
            clean_edge_days = [int(c) for (c,) in q.tuples()]
        if dirty or clean_edge_days:
            # runs of dirty creation days (any start in the window), and of the creation days whose runs
            # start on an edge day (only those starts): through run_stat(kind, created)
            rows_where = [*stat_where, RunStat.kind.in_(list(kinds.RUN_KIND_NAMES)),
                          in_ranges(RunStat.created, day_ranges([*dirty, *clean_edge_days]))]
            if clean_edge_days:
                at_edges = in_ranges(RunStat.start, edges)
                rows_where.append(in_ranges(RunStat.created, day_ranges(dirty)) | at_edges if dirty else at_edges)
            parts.append(_summarize(RunStat, None, rows_where, group))
    return _merged(parts, group)


def _summarize_days(whole: tuple[int | None, int | None], dirty: list[int], keys: list[pw.Node],
                    group: tuple[str, str | None] | None) -> list[dict[str, Any]]:
    """_summarize's sums over the summary_day rows of start days [d0, d1) (None: unbounded) whose creation
    day is clean."""
    S = SummaryDay

    def count(cond: pw.Expression) -> pw.Node:
        return pw.fn.SUM(pw.Case(None, ((cond, S.n),), 0))

    cols: list[pw.Node] = [
        pw.fn.SUM(S.n).alias("total"),
        count(S.status == g.SUCCESS).alias("succeeded"),
        count(S.status.in_([g.FAILURE, g.TIMEOUT])).alias("failed"),
        count(S.status == g.CANCELLED).alias("cancelled"),
        count((S.status == g.UNKNOWN) & (S.has_reason == 1)).alias("running"),
        count((S.status == g.UNKNOWN) & (S.has_reason == 0)).alias("others"),
        pw.fn.MAX(S.last_start).alias("last_runtime"),
        pw.fn.SUM(S.dur_sum).alias("dur_sum"),
        pw.fn.SUM(S.dur_count).alias("dur_count"),
        pw.fn.MIN(S.dur_min).alias("dur_min"),
        pw.fn.MAX(S.dur_max).alias("dur_max"),
    ]
    by: list[pw.Field] = []
    if group is not None:
        by = {"namespace": [S.parent], "pipeline": [S.parent, S.pipeline]}.get(group[0], [S.sday])
        cols += [f.alias(f"k{i}") for i, f in enumerate(by)]
    q = S.select(*cols)
    d0, d1 = whole
    if d0 is not None:
        q = q.where(S.sday >= d0)
    if d1 is not None:
        q = q.where(S.sday < d1)
    if dirty:
        q = q.where(S.cday.not_in(dirty))
    for k in keys:
        q = q.where(k)
    if by:
        q = q.group_by(*by)
    rows = []
    for d in q.dicts():
        if group is not None:
            what = group[0]
            if what == "namespace":
                d["group_value"] = d["k0"]
            elif what == "pipeline":  # as _summarize's "<ns>/<pipeline>"
                d["group_value"] = d["k0"] + "/" + (d["k1"] or "")
            elif what == "week":  # as _time_bucket's Monday-based weeks
                d["group_value"] = (int(d["k0"]) * DAY + 3 * DAY) // (7 * DAY) * (7 * DAY) - 3 * DAY
            else:  # day; month and year are rolled up from days by the caller
                d["group_value"] = int(d["k0"]) * DAY
            for i in range(len(by)):
                del d[f"k{i}"]
        rows.append(_typed(d))
    return rows


def _typed(d: dict[str, Any]) -> dict[str, Any]:
    """A row of sums as _summarize hands it out (ints; None where no run had the value)."""
    for k in _SUMS:
        d[k] = int(d[k] or 0)
    for k in ("last_runtime", "dur_sum", "dur_min", "dur_max"):
        d[k] = int(d[k]) if d[k] is not None else None
    return d


def _merged(parts: list[list[dict[str, Any]]], group: tuple[str, str | None] | None) -> list[dict[str, Any]]:
    """The sums of each group over several parts of the runs, in group order (SQLite's GROUP BY order).
    Ungrouped: one row, zeros and nulls when nothing matched (as an aggregate without GROUP BY)."""
    out: dict[Any, dict[str, Any]] = {}
    if group is None:
        out[None] = _typed({k: None for k in (*_SUMS, "last_runtime", "dur_sum", "dur_min", "dur_max")})
    for rows in parts:
        for r in rows:
            key = r.get("group_value")
            acc = out.get(key)
            if acc is None:
                out[key] = dict(r)
                continue
            for k in _SUMS:
                acc[k] += r[k]
            for k, pick in (("dur_sum", lambda a, b: a + b), ("last_runtime", max), ("dur_min", min),
                            ("dur_max", max)):
                a, b = acc[k], r[k]
                acc[k] = b if a is None else a if b is None else pick(a, b)
    if group is None:
        return [out[None]]
    return [out[k] for k in sorted(out)]
