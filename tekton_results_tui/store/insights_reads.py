"""The SQL reads statistics, flaky detection and ETAs need (insights/ turns them into answers).

Percentiles are exact: every duration (queue time) of a group's runs is gathered as an integer —
durations are whole seconds — and the values at the ranks a percentile needs are found among all of
them: sorted once per group, or (long sorted stat_day arrays, `--by task`) selected from the arrays
as they are (runs_ranks); insights/percentiles.py interpolates between them (percentile_cont's rule;
SQLite has no percentile_cont, and the same code runs on both engines). The values come from two
places, merged: clean whole days (and weeks) from the writer-kept `stat_day` rows (schema v6,
store/stat_days.py: per day and dimensions, the runs' values as sorted int64 arrays), and
everything else — a window's partial edge days, days a write left dirty, any filter on something
stat_day does not keep — from the runs, as a (group, status, value) -> count histogram the
database groups (`GROUP BY`). Both sides describe disjoint sets of runs read in one snapshot, so
the merged values are exactly the filtered runs' (tests/insights/test_stat_days.py compares the
two paths; tests/insights/test_stats.py compares with brute force).

The rank rule (shared with insights/percentiles.py): for a group of n sorted values and an integer
percent p, the 0-based ranks `lo = (n-1)*p/100` (integer division) and `lo+1` are fetched, so the
interpolation `v[lo] + (v[lo+1]-v[lo]) * frac((n-1)*p/100)` is percentile_cont's exactly.

Everything these reads group and rank is kept by the writer (schema v3): a Result's summary
columns and its source `revision`/`repository`, and per run a narrow `run_stat` row (status,
times, duration, pipeline, task, retries). On SQLite a Record's index columns sit after its ~4 KB
object in the row, so reading a TaskRun's status or duration from `record` walks the object's
overflow pages; `run_stat` rows hold ~100 bytes (bench/insights_bench.py measures both).
A history opened read-only at an older schema has neither: its reads take the older way, with
the revision, repository and retries parsed per row by the database's JSON functions (SQLite
json1, PostgreSQL jsonb), never by Python; so does a user-named `--revision-key`.

Why one module over 500 lines: its three sections (grouped statistics, flaky evidence, one run's
siblings and ETA durations) share the key expressions and the choice between the writer-kept
columns (schema v3) and the older JSON reads; splitting would pass that choice between modules.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store import stat_days as sd
from tekton_results_tui.store.db import has_run_stats, is_sqlite
from tekton_results_tui.store.grouping import REPOSITORY_LABEL, REPOSITORY_PARAMS, REVISION_LABEL, REVISION_PARAMS
from tekton_results_tui.store.models import Label, Record, Result, RunStat, database_proxy
from tekton_results_tui.store.query import Filter
from tekton_results_tui.store.sql import chunks

GROUP_KEYS = ("pipeline", "task", "namespace", "repository", "cluster", "day", "week")
NONE_KEY = "(none)"
PERCENTS = (50, 95)  # the percentiles statistics show

_SOURCE_KEYS = (REPOSITORY_LABEL, REPOSITORY_PARAMS, REVISION_LABEL, REVISION_PARAMS)  # re-exported: insights reads them here

PASSED = (g.SUCCESS,)
FAILED = (g.FAILURE, g.TIMEOUT)  # a cancel is a person's decision, not an outcome of the code
FINISHED = (g.SUCCESS, g.FAILURE, g.TIMEOUT, g.CANCELLED)
_TASKRUN = kinds.TASK_RUN.name
_MONDAY_OFFSET = 3 * 86400  # 1970-01-01 was a Thursday: shifting by 3 days starts weeks on Monday 00:00 UTC


@dataclass
class GroupCounts:
    """What one group's rows add up to (counts by status, the newest start and its status)."""

    key: Any
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    timeout: int = 0
    running: int = 0
    max_duration: int | None = None
    last_start: int | None = None
    last_status: str | None = None


@dataclass
class RankedValues:
    """Per group: n values and the values at the 0-based ranks percentiles need (rank -> value)."""

    n: int
    at: dict[int, int] = field(default_factory=dict)


@dataclass
class EvidenceRow:
    """One finished run as flaky detection sees it (ids and keys, no object)."""

    id: int
    key: Any  # its statistics group (None when out of the filtered scope)
    in_scope: bool
    identity: tuple  # what makes two runs "the same pipeline" (or the same pipeline task)
    revision: str | None
    status: str
    retries: int  # failed attempts before this one (TaskRuns: len(status.retriesStatus))
    name: str


@dataclass
class StatsReads:
    """Everything statistics read for one grouping, before any arithmetic."""

    by: str
    counts: list[GroupCounts]
    durations: dict[Any, RankedValues]
    queues: dict[Any, RankedValues]
    task_p95: dict[tuple[Any, str], RankedValues] = field(default_factory=dict)  # (pipeline key, task) -> ranks
    task_failed: dict[tuple[Any, str], int] = field(default_factory=dict)


# --- key expressions -------------------------------------------------------------------------------


def _json_param(db: pw.Database, result_id: pw.Node, names: Sequence[str]) -> pw.Node:
    """A correlated subquery: the first of `names` among the params of the Result's top-level run.

    Names are bound parameters (a `--revision-key` comes from the user)."""
    ph = db.param
    in_list = ", ".join([ph] * len(names))
    order = " ".join(f"WHEN {ph} THEN {i}" for i in range(len(names)))
    params = [*names, *names]
    if is_sqlite(db):
        head = ("(SELECT json_extract(p.value, '$.value') FROM record AS r2, json_each(r2.data, '$.spec.params') AS p "
                "WHERE r2.result_id = ")
        tail = (f" AND r2.top_level = 1 AND p.type = 'object' AND json_extract(p.value, '$.name') IN ({in_list}) "
                f"ORDER BY CASE json_extract(p.value, '$.name') {order} END LIMIT 1)")
    else:
        head = ("(SELECT p->>'value' FROM record AS r2 CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN "
                "jsonb_typeof(r2.data->'spec'->'params') = 'array' THEN r2.data->'spec'->'params' ELSE '[]'::jsonb END) "
                "AS p WHERE r2.result_id = ")
        tail = (f" AND r2.top_level AND jsonb_typeof(p) = 'object' AND p->>'name' IN ({in_list}) "
                f"ORDER BY CASE p->>'name' {order} END LIMIT 1)")
    return pw.NodeList((pw.SQL(head), result_id, pw.SQL(tail, params)), glue="")


def _json_annotation(db: pw.Database, result_id: pw.Node, key: str) -> pw.Node:
    """A correlated subquery: an annotation of the Result's top-level run."""
    if is_sqlite(db):
        return pw.NodeList((
            pw.SQL(f"(SELECT json_extract(r3.data, {db.param}) FROM record AS r3 WHERE r3.result_id = ",
                   ['$.metadata.annotations."' + key.replace('"', "") + '"']),
            result_id, pw.SQL(" AND r3.top_level = 1 LIMIT 1)")), glue="")
    return pw.NodeList((
        pw.SQL(f"(SELECT r3.data->'metadata'->'annotations'->>{db.param} FROM record AS r3 WHERE r3.result_id = ", [key]),
        result_id, pw.SQL(" AND r3.top_level LIMIT 1)")), glue="")


def _label(result_id: pw.Node, key: str) -> pw.Node:
    return (Label.select(pw.fn.MIN(Label.value)).where((Label.result == result_id) & (Label.key == key)))


def _result_column(db: pw.Database, result_id: pw.Node, column: pw.Field) -> pw.Node:
    """A writer-kept column of the Result `result_id` names (itself when that is Result.id)."""
    if result_id is Result.id:
        return column
    owner = Result.alias("src")
    return owner.select(getattr(owner, column.name)).where(owner.id == result_id)


def repository_expr(db: pw.Database, result_id: pw.Node) -> pw.Node:
    """The Pipelines-as-Code repository label, else the `repo-url`/`git-url` param of the top-level run."""
    if has_run_stats(db):
        return _result_column(db, result_id, Result.repository)
    return repository_from_objects(db, result_id)


def repository_from_objects(db: pw.Database, result_id: pw.Node) -> pw.Node:
    """repository_expr read from the label set and the stored object (older schemas, the v3 backfill)."""
    return pw.fn.COALESCE(_label(result_id, REPOSITORY_LABEL), _json_param(db, result_id, REPOSITORY_PARAMS))


def revision_expr(db: pw.Database, result_id: pw.Node, revision_key: str | None = None) -> pw.Node:
    """The source revision a Result's top-level run built.

    Default: the Pipelines-as-Code `sha` label, else the `revision`/`git-revision`/`commit` param,
    else the `sha` annotation — kept by the writer as Result.revision. A user-named key is looked up
    as a label, a param and an annotation (read from the stored object).
    """
    if not revision_key and has_run_stats(db):
        return _result_column(db, result_id, Result.revision)
    return revision_from_objects(db, result_id, revision_key)


def revision_from_objects(db: pw.Database, result_id: pw.Node, revision_key: str | None = None) -> pw.Node:
    """revision_expr read from the label set and the stored object (older schemas, the v3 backfill)."""
    if revision_key:
        return pw.fn.COALESCE(_label(result_id, revision_key), _json_param(db, result_id, (revision_key,)),
                              _json_annotation(db, result_id, revision_key))
    return pw.fn.COALESCE(_label(result_id, REVISION_LABEL), _json_param(db, result_id, REVISION_PARAMS),
                          _json_annotation(db, result_id, REVISION_LABEL))


def _retries_expr(db: pw.Database) -> pw.Node:
    """Failed attempts recorded in a TaskRun's status.retriesStatus."""
    if is_sqlite(db):
        # a substring test first: most TaskRuns were never retried, and instr() does not parse JSON
        return pw.Case(None, ((pw.fn.instr(Record.data, '"retriesStatus"') > 0,
                               pw.fn.COALESCE(pw.fn.json_array_length(Record.data, "$.status.retriesStatus"), 0)),), 0)
    path = pw.SQL("->'status'->'retriesStatus'")
    return pw.NodeList((pw.SQL("(CASE WHEN jsonb_typeof("), Record.data, path, pw.SQL(") = 'array' THEN jsonb_array_length("),
                        Record.data, path, pw.SQL(") ELSE 0 END)")), glue="")


def _runs(db: pw.Database) -> type[Record] | type[RunStat]:
    """Where TaskRuns' statistics columns are read: the narrow run_stat rows, or (older schemas) Records."""
    return RunStat if has_run_stats(db) else Record


def _created(src: type[Record] | type[RunStat]) -> pw.Field:
    return RunStat.created if src is RunStat else Record.create_time


def _key_expr(db: pw.Database, by: str, tasks: bool) -> pw.Node:
    """The group key of a top-level run (Result row) or, with `tasks`, of a TaskRun (run_stat or Record row)."""
    src = _runs(db)
    if by == "pipeline":
        return pw.fn.COALESCE(src.pipeline if tasks else Result.pipeline, NONE_KEY)
    if by == "task":
        return pw.fn.COALESCE(src.task, src.pipeline_task, NONE_KEY)
    if by == "namespace":
        return src.parent if tasks else Result.parent
    if by == "cluster":
        return src.cluster if tasks else Result.cluster
    created = _created(src) if tasks else Result.sort_time
    if by == "day":
        return created / 86400
    if by == "week":
        return (created + _MONDAY_OFFSET) / (7 * 86400)
    if by == "repository":
        return pw.fn.COALESCE(repository_expr(db, src.result if tasks else Result.id), NONE_KEY)
    raise ValueError(f"unknown group key {by!r}: expected one of {', '.join(GROUP_KEYS)}")


def week_start(week_index: int) -> int:
    """Epoch seconds of the Monday 00:00 UTC that starts a `week` key."""
    return week_index * 7 * 86400 - _MONDAY_OFFSET


# --- the scoped rows ---------------------------------------------------------------------------------


def _base(db: pw.Database, by: str, f: Filter, within: list[tuple[int, int | None]] | None = None) -> pw.Select:
    """One row per run in scope: k (group), s (status), d (duration), q (queue), st (start), id, c (created).

    `--by task` looks at TaskRuns with the filter applied to them (`status:failed` = failed TaskRuns);
    every other key looks at top-level runs (a Result's summary) with the filter applied to Results.
    `within`: only runs created in these [lo, hi) ranges (the days stat_day does not answer).
    """
    tasks = by == "task"
    key = _key_expr(db, by, tasks).alias("k")
    if tasks:
        src = _runs(db)
        created = _created(src)
        queue = pw.Case(None, ((src.start >= created, src.start - created),), None)
        q = (src.select(key, src.status.alias("s"), src.duration.alias("d"), queue.alias("q"),
                        src.start.alias("st"), src.id.alias("id"), created.alias("c"))
             .where(src.kind == _TASKRUN))
        w = f.for_run_stats() if src is RunStat else f.for_records()
    else:
        created = Result.sort_time
        queue = pw.Case(None, ((Result.summary_start >= Result.sort_time, Result.summary_start - Result.sort_time),), None)
        q = (Result.select(key, Result.summary_status.alias("s"), Result.summary_duration.alias("d"),
                           queue.alias("q"), Result.summary_start.alias("st"), Result.id.alias("id"),
                           Result.sort_time.alias("c"))
             .where(Result.summary_record.is_null(False)))
        w = f.for_results()
    if within is not None:
        q = q.where(sd.in_ranges(created, within))
    return q.where(w) if w is not None else q


def _run(db: pw.Database, sql: str, params: Sequence[Any]) -> list[tuple]:
    return list(db.execute_sql(sql, list(params)).fetchall())


class _Groups:
    """What statistics add up per group, from stat_day rows and from run rows alike: counts by status,
    the finished runs' durations and the queue times (every value, to be sorted once: exact ranks),
    and the newest start (ties: the newest row) with its status."""

    def __init__(self) -> None:
        self.counts: dict[Any, GroupCounts] = {}
        self.durations: dict[Any, array] = {}
        self.queues: dict[Any, array] = {}
        self.runs: dict[tuple[bool, Any], list[array]] = {}  # (queues?, k) -> sorted arrays kept apart
        self.lasts: dict[Any, tuple[int, int, str]] = {}

    def sorted_run(self, queues: bool, k: Any, blob: Any) -> None:
        """A stat_day row's packed array (sorted), kept as its own run: ranks are selected from the runs."""
        if blob:
            a = array("q")
            sd.unpack(blob, a)
            self.runs.setdefault((queues, k), []).append(a)

    def count(self, k: Any, status: str, n: int) -> None:
        c = self.counts.get(k) or self.counts.setdefault(k, GroupCounts(k))
        c.total += n
        if status == g.SUCCESS:
            c.succeeded += n
        elif status == g.FAILURE:
            c.failed += n
        elif status == g.CANCELLED:
            c.cancelled += n
        elif status == g.TIMEOUT:
            c.timeout += n
        elif status == g.UNKNOWN:
            c.running += n

    def last(self, k: Any, start: int, rid: int, status: str) -> None:
        cur = self.lasts.get(k)
        if cur is None or (start, rid) > cur[:2]:
            self.lasts[k] = (start, rid, status)

    def result(self) -> tuple[list[GroupCounts], dict[Any, RankedValues], dict[Any, RankedValues]]:
        for k, (st, _, status) in self.lasts.items():
            self.counts[k].last_start, self.counts[k].last_status = st, status
        ranked: tuple[dict[Any, RankedValues], dict[Any, RankedValues]] = ({}, {})
        for queues, loose in ((False, self.durations), (True, self.queues)):
            for k in {*loose, *(k for q, k in self.runs if q == queues)}:
                r = runs_ranks(self.runs.get((queues, k), []), loose.get(k), PERCENTS)
                if r is not None:
                    ranked[queues][k] = r
        for k, r in ranked[0].items():
            self.counts[k].max_duration = r.at[r.n - 1]
        return list(self.counts.values()), ranked[0], ranked[1]


def _values(into: dict[Any, array], k: Any) -> array:
    a = into.get(k)
    if a is None:
        a = into[k] = array("q")
    return a


def _one_pass(db: pw.Database, base: pw.Select, into: _Groups) -> None:
    """Counts, the newest start, durations and queue times per group in ONE statement over the scoped rows.

    The rows are read once into a common table expression (both engines materialize one that is used
    more than once) and each answer is a branch of a UNION ALL: on SQLite, reading TaskRun rows is most
    of the cost, so separate statements cost separate reads. Branches (tag, k, s, x, n):
    'h' a (status, duration) histogram, 'q' a queue-time histogram, 'l' the rows at a group's newest start.
    """
    sql, params = base.sql()
    hist = "SELECT 'h' AS tag, k, s, d AS x, COUNT(*) AS n FROM b GROUP BY k, s, d"
    queue = "SELECT 'q', k, NULL, q, COUNT(*) FROM b WHERE q IS NOT NULL GROUP BY k, q"
    last = ("SELECT 'l', b.k, b.s, b.st, b.id FROM b JOIN (SELECT k AS mk, MAX(st) AS mst FROM b "
            "WHERE st IS NOT NULL GROUP BY k) AS m ON b.k = m.mk AND b.st = m.mst")
    rows = _run(db, f"WITH b AS ({sql}) {hist} UNION ALL {queue} UNION ALL {last}", params)
    for tag, k, status, x, n in rows:
        if tag == "h":
            n = int(n)
            into.count(k, status, n)
            if x is not None and status in FINISHED:
                _values(into.durations, k).extend([int(x)] * n)
        elif tag == "q":
            _values(into.queues, k).extend([int(x)] * int(n))
        else:  # the newest start; among runs that started at once, the newest row
            into.last(k, int(x), int(n), status)


def _day_key(by: str) -> str:
    """A stat_day row's group key in SQL, as _key_expr computes it from the runs."""
    return {"pipeline": "COALESCE(pipeline, '(none)')", "namespace": "parent", "cluster": "cluster",
            "repository": "COALESCE(repository, '(none)')", "day": "day",
            "week": f"(day * 86400 + {_MONDAY_OFFSET}) / {7 * 86400}",
            "task": "COALESCE(task, pipeline_task, '(none)')"}[by]


def _concat(db: pw.Database, col: str) -> str:
    """An aggregate joining a group's packed arrays, so Python sees a group once: PostgreSQL concatenates
    bytea. SQLite's group_concat joins text: in a UTF-8 database (every history this program creates)
    a BLOB's bytes are taken as they are (group_concat appends sqlite3_value_bytes of each value, NULs
    included, and a cast between TEXT and BLOB does not convert), so the joined bytes come back as one
    BLOB; measured at 1.2M records, the (pipeline, task) rows' join 32 -> 22 ms of CPU, with no hex
    to decode. Another encoding would transcode the bytes: there the arrays travel as hex (`_unhex`)."""
    if not is_sqlite(db):
        return f"string_agg({col}, ''::bytea)"
    if _sqlite_utf8(db):
        return f"CAST(group_concat({col}, '') AS BLOB)"
    return f"group_concat(hex({col}), '')"


def _sqlite_utf8(db: pw.Database) -> bool:
    """Whether a SQLite history's text encoding is UTF-8 (fixed when the file was created; asked once)."""
    known = getattr(db, "_stats_utf8", None)
    if known is None:
        (enc,) = db.execute_sql("PRAGMA encoding").fetchone()
        known = str(enc).upper() == "UTF-8"
        db._stats_utf8 = known  # type: ignore[attr-defined]
    return known


def _unhex(v: Any) -> Any:
    return bytes.fromhex(v) if isinstance(v, str) else v


def _newest(db: pw.Database) -> str:
    """The newest (start, row id) of a group as one comparable value (MAX picks it; ties: the newest row):
    SQLite, a text of both numbers zero-padded; PostgreSQL, an int8 array (compared element by element;
    measured at 1.2M records: the R rows' aggregate ~6 ms faster than building lpad texts per row)."""
    if is_sqlite(db):
        return "MAX(CASE WHEN last_start IS NOT NULL THEN printf('%020d %020d', last_start, last_id) END)"
    return "MAX(CASE WHEN last_start IS NOT NULL THEN ARRAY[last_start, last_id] END)"


def _from_days(db: pw.Database, by: str, where: pw.Expression, into: _Groups) -> None:
    """Add the stat_day rows `where` selects (scope R, or T for `--by task`) to the groups: one row per
    (group, status), its arrays joined by the database. Except `--by task`: its rows are few (~560 a month
    at 1.2M records) and long (~600 values), so each row's sorted array is kept as a run and the ranks are
    selected from the runs without sorting every value (runs_ranks)."""
    if by == "task":
        sel = f"{_day_key(by)} AS k, status, n, durations, queues, last_start, last_id"
        sql, params = sd.StatDay.select(pw.SQL(sel)).where(where).sql()
        for k, status, n, durations, queues, last_start, last_id in db.execute_sql(sql, params):
            into.count(k, status, int(n))
            if status in FINISHED:
                into.sorted_run(False, k, durations)
            into.sorted_run(True, k, queues)
            if last_start is not None:
                into.last(k, int(last_start), int(last_id), status)
        return
    sel = (f"{_day_key(by)} AS k, status, SUM(n), {_concat(db, 'durations')}, {_concat(db, 'queues')}, "
           f"{_newest(db)}")
    sql, params = sd.StatDay.select(pw.SQL(sel)).where(where).group_by(pw.SQL("1, 2")).sql()
    for k, status, n, durations, queues, newest in db.execute_sql(sql, params):
        into.count(k, status, int(n))
        if status in FINISHED:
            sd.unpack(_unhex(durations), _values(into.durations, k))
        sd.unpack(_unhex(queues), _values(into.queues, k))
        if newest:
            start, rid = newest.split() if isinstance(newest, str) else newest
            into.last(k, int(start), int(rid), status)


def sorted_ranks(values: array, percents: Iterable[int]) -> RankedValues:
    """n and the values at the 0-based ranks the percentiles (and the maximum) need, from every value."""
    s = sorted(values)
    n = len(s)
    out = RankedValues(n)
    for r in {n - 1, *((n - 1) * int(p) // 100 + i for p in percents for i in (0, 1))}:
        if 0 <= r < n:
            out.at[r] = s[r]
    return out


_RUN_MIN = 64  # values per run (on average) from which selecting ranks in the runs beats one sort of all


def runs_ranks(runs: list[array], loose: array | None, percents: Iterable[int]) -> RankedValues | None:
    """n and the values at the ranks the percentiles (and the maximum) need, from sorted runs and loose
    values (sorted here). Short runs are joined and sorted at once (timsort's merging is cheap there);
    long ones stay apart and each rank is selected from them (`_select`): exact either way."""
    runs = [a for a in runs if a]
    if not runs:
        return sorted_ranks(loose, percents) if loose else None
    if loose:
        runs.append(array("q", sorted(loose)))
    n = sum(len(a) for a in runs)
    if len(runs) == 1 or n < _RUN_MIN * len(runs):
        every = array("q")
        for a in runs:
            every.extend(a)
        return sorted_ranks(every, percents)
    out = RankedValues(n)
    out.at[n - 1] = max(a[-1] for a in runs)
    for r in sorted({(n - 1) * int(p) // 100 for p in percents}):
        v = out.at[r] = _select(runs, r)
        if r + 1 < n:
            ends = [bisect_right(a, v) for a in runs]
            out.at[r + 1] = v if sum(ends) > r + 1 else min(a[e] for a, e in zip(runs, ends) if e < len(a))
    return out


def _select(runs: list[array], r: int) -> int:
    """The value at 0-based rank `r` of the union of sorted integer runs: a binary search on the value,
    each run's count at or below it bisected within the positions still open (lo..hi narrow together)."""
    lo = min(a[0] for a in runs)
    hi = max(a[-1] for a in runs)
    below = [0] * len(runs)  # per run: values < lo
    upto = [len(a) for a in runs]  # per run: values <= hi
    while lo < hi:  # invariant: fewer than r+1 values are < lo, more than r are <= hi
        mid = (lo + hi) // 2
        at = [bisect_right(a, mid, b, u) for a, b, u in zip(runs, below, upto)]
        if sum(at) > r:
            hi, upto = mid, at
        else:
            lo, below = mid + 1, at
    return lo


def _pipeline_tasks(db: pw.Database, f: Filter, within: list[tuple[int, int | None]] | None = None) -> pw.Select:
    """TaskRuns of the top-level runs in scope: k (their pipeline's key), t (pipeline task), d, s.

    SQLite: the Results in scope from their covering index, then their TaskRuns by the (result, start)
    index, each one's pipeline looked up by primary key — a join made it scan every Record, and a
    Record's index columns sit behind its stored object (measured 2-3x slower). PostgreSQL keeps the
    object out of line (TOAST) and hash-joins best (measured 4x faster than the lookups).
    `within`: only Results created in these [lo, hi) ranges (the days stat_day does not answer).
    """
    w = f.for_results()
    if within is not None:
        cond = sd.in_ranges(Result.sort_time, within)
        w = cond if w is None else (w & cond)
    if has_run_stats(db):
        # the Results in scope from their indexes, their TaskRuns' narrow rows by run_stat(result, kind)
        scope = Result.select(Result.id).where(Result.summary_record.is_null(False))
        if w is not None:
            scope = scope.where(w)
        owner = Result.alias("owner")
        k = owner.select(pw.fn.COALESCE(owner.pipeline, NONE_KEY)).where(owner.id == RunStat.result)
        t = pw.fn.COALESCE(RunStat.pipeline_task, RunStat.task, NONE_KEY)
        return (RunStat.select(k.alias("k"), t.alias("t"), RunStat.duration.alias("d"), RunStat.status.alias("s"))
                .where((RunStat.result << scope) & (RunStat.kind == _TASKRUN)))
    t = pw.fn.COALESCE(Record.pipeline_task, Record.task, NONE_KEY)
    if is_sqlite(db):
        scope = Result.select(Result.id).where(Result.summary_record.is_null(False))
        if w is not None:
            scope = scope.where(w)
        owner = Result.alias("owner")
        k = owner.select(pw.fn.COALESCE(owner.pipeline, NONE_KEY)).where(owner.id == Record.result)
        return (Record.select(k.alias("k"), t.alias("t"), Record.duration.alias("d"), Record.status.alias("s"))
                .where((Record.result << scope) & (Record.kind == _TASKRUN)))
    q = (Record.select(pw.fn.COALESCE(Result.pipeline, NONE_KEY).alias("k"), t.alias("t"),
                       Record.duration.alias("d"), Record.status.alias("s"))
         .join(Result, on=(Record.result == Result.id))
         .where(Result.summary_record.is_null(False) & (Record.kind == _TASKRUN)))
    return q.where(w) if w is not None else q


def stats_reads(db: pw.Database, by: str, f: Filter) -> StatsReads:
    """Counts, duration and queue ranks per group of `by` over the runs `f` selects.

    Whole clean days come from the writer-kept stat_day rows when the filter names only their
    dimensions (store/stat_days.py); the window's partial days, dirty days and every other filter
    read the runs. Both give every value of their runs, merged and sorted per group: exact ranks.
    """
    if by not in GROUP_KEYS:
        raise ValueError(f"unknown group key {by!r}: expected one of {', '.join(GROUP_KEYS)}")
    with sd.snapshot(db):
        groups = _Groups()
        plan = sd.plan(db, "T" if by == "task" else "R", f, weeks=by != "day")
        if plan is None:
            _one_pass(db, _base(db, by, f), groups)
        else:
            _from_days(db, by, plan.where, groups)
            if plan.row_ranges:
                _one_pass(db, _base(db, by, f, plan.row_ranges), groups)
        out = StatsReads(by, *groups.result())
        if by == "pipeline":
            out.task_p95, out.task_failed = _task_extremes(db, f, plan.dirty if plan is not None else None)
    return out


def _task_extremes(db: pw.Database, f: Filter, dirty: Sequence[int] | None = None) -> tuple[
        dict[tuple[Any, str], RankedValues], dict[tuple[Any, str], int]]:
    """Per (pipeline key, pipeline task) of the TaskRuns of the Results in scope: p95 duration ranks
    and failures — from stat_day's 'X' rows for clean whole days and weeks, else (and for the rest) the
    TaskRuns."""
    values: dict[tuple[Any, str], array] = {}
    fails: dict[tuple[Any, str], int] = {}
    plan = sd.plan(db, "X", f, dirty=dirty)
    if plan is not None:  # one row per (pipeline, task): n its failed TaskRuns, its finished durations joined
        sel = f"COALESCE(pipeline, '(none)'), pipeline_task, SUM(n), {_concat(db, 'durations')}"
        sql, params = sd.StatDay.select(pw.SQL(sel)).where(plan.where).group_by(pw.SQL("1, 2")).sql()
        for pl, t, n, blob in db.execute_sql(sql, params):
            if n:
                fails[(pl, t)] = fails.get((pl, t), 0) + int(n)
            sd.unpack(_unhex(blob), _values(values, (pl, t)))
    if plan is None or plan.row_ranges:
        tq = _pipeline_tasks(db, f, plan.row_ranges if plan is not None else None)
        sql, params = tq.sql()
        for k, t, status, d, n in _run(db, f"SELECT k, t, s, d, COUNT(*) FROM ({sql}) AS b GROUP BY k, t, s, d",
                                       params):
            if status in FAILED:
                fails[(k, t)] = fails.get((k, t), 0) + int(n)
            if d is not None and status in FINISHED:
                _values(values, (k, t)).extend([int(d)] * int(n))
    return {kt: sorted_ranks(v, (95,)) for kt, v in values.items() if v}, fails


@dataclass
class TrendReads:
    """Per (group, day of creation, UTC): runs, and the finished durations' p50 ranks."""

    counts: dict[tuple[Any, int], int]
    durations: dict[tuple[Any, int], RankedValues]


def trend_reads(db: pw.Database, by: str, f: Filter) -> TrendReads:
    """Per-day counts and p50 ranks of each group of `by` over the runs `f` selects: clean whole days from
    stat_day's day rows (as stats_reads, store/stat_days.py), the rest from the runs."""
    if by not in GROUP_KEYS:
        raise ValueError(f"unknown group key {by!r}: expected one of {', '.join(GROUP_KEYS)}")
    counts: dict[tuple[Any, int], int] = {}
    values: dict[tuple[Any, int], array] = {}
    with sd.snapshot(db):
        plan = sd.plan(db, "T" if by == "task" else "R", f, weeks=False)
        if plan is not None:
            sql, params = sd.StatDay.select(pw.SQL(f"{_day_key(by)}, day, status, n, durations")).where(plan.where).sql()
            for k, day, status, n, blob in db.execute_sql(sql, params):
                kd = (k, int(day))
                counts[kd] = counts.get(kd, 0) + int(n)
                if status in FINISHED:
                    sd.unpack(blob, _values(values, kd))
        if plan is None or plan.row_ranges:
            sql, params = _base(db, by, f, plan.row_ranges if plan is not None else None).sql()
            for k, day, status, d, n in _run(db, f"SELECT k, c / 86400 AS day, s, d, COUNT(*) FROM ({sql}) AS b "
                                                 "GROUP BY k, c / 86400, s, d", params):
                kd = (k, int(day))
                counts[kd] = counts.get(kd, 0) + int(n)
                if d is not None and status in FINISHED:
                    _values(values, kd).extend([int(d)] * int(n))
    return TrendReads(counts, {kd: sorted_ranks(v, (50,)) for kd, v in values.items() if v})


# --- flaky evidence --------------------------------------------------------------------------------


def flaky_evidence(db: pw.Database, by: str, f: Filter, since: int | None,
                   revision_key: str | None = None) -> list[EvidenceRow]:
    """The finished runs (since `since`) that may be flaky, each marked in or out of the filtered scope.

    The evidence is every finished run of the window, not only the filtered ones: `status:failed`
    must still see the passing rerun that makes a failure flaky. For `--by task` the rows are
    TaskRuns (with their retry counts), identified by pipeline task; otherwise top-level runs,
    identified by (cluster, namespace, pipeline). The database keeps only the runs that can be
    judged flaky (flaky.find_flaky gives the same answer on them as on all): a passed run retried
    before, and every run of an (identity, revision) group that both passed and failed — a month
    of runs sharing no revision costs a GROUP BY, not a Python object each.
    """
    tasks = by == "task"
    key = _key_expr(db, by, tasks).alias("k")
    if tasks and not has_run_stats(db):
        return _taskrun_evidence_v2(db, key, f, since, revision_key)
    if tasks:
        w = f.for_run_stats()
        scope = pw.Case(None, ((w, 1),), 0) if w is not None else pw.SQL("1")
        rev = revision_expr(db, Result.id, revision_key)
        q = (RunStat.select(RunStat.id.alias("id"), key, scope.alias("sc"), RunStat.cluster.alias("cl"),
                            RunStat.parent.alias("ns"), RunStat.pipeline.alias("pl"),
                            pw.fn.COALESCE(RunStat.pipeline_task, RunStat.task).alias("pt"), rev.alias("rev"),
                            RunStat.status.alias("st"), RunStat.retries.alias("rt"), RunStat.run_name.alias("nm"))
             .join(Result, pw.JOIN.LEFT_OUTER, on=(Result.id == RunStat.result))
             .where((RunStat.kind == _TASKRUN) & (RunStat.status << list(FINISHED))))
        if since is not None:
            q = q.where(RunStat.created >= since)
        if not revision_key:  # the retried TaskRuns and those of rebuilt Results, each from an index
            rb, rs, rt = Result.alias("rb"), RunStat.alias("rs"), RunStat.alias("rt")
            rebuilt = rs.select(rs.id).where(rs.result << rb.select(rb.id).where(_rebuilt(rb)))
            q = q.where(RunStat.id << (rt.select(rt.id).where(rt.retries > 0) | rebuilt))
    else:
        w = f.for_results()
        scope = pw.Case(None, ((w, 1),), 0) if w is not None else pw.SQL("1")
        rev = revision_expr(db, Result.id, revision_key)
        q = (Result.select(Result.id.alias("id"), key, scope.alias("sc"), Result.cluster.alias("cl"),
                           Result.parent.alias("ns"), Result.pipeline.alias("pl"), pw.SQL("NULL").alias("pt"),
                           rev.alias("rev"), Result.summary_status.alias("st"), pw.SQL("0").alias("rt"),
                           Result.display_name.alias("nm"))
             .where(Result.summary_record.is_null(False) & (Result.summary_status << list(FINISHED))))
        if since is not None:
            q = q.where(Result.sort_time >= since)
        if not revision_key and has_run_stats(db):
            q = q.where(_rebuilt(Result))
    return _evidence_rows(_flaky_candidates(db, q), tasks)


def _rebuilt(result: Any) -> pw.Expression:
    """The Result's (pipeline, revision) was built more than once: a revision built once has nothing to
    compare with (most are), so its runs are left out before any grouping. Schema v7 keeps these pairs
    (stat_days.StatRebuilt, a superset); before it they are grouped from result(pipeline, revision) alone.
    (Two TaskRuns of one pipeline task within a single run — a matrix — are not compared with each other.)"""
    if sd.has_rebuilt(database_proxy.obj):
        kept = sd.StatRebuilt
        pairs = kept.select(kept.pipeline, kept.revision)
    else:
        built = Result.alias("built")
        pairs = (built.select(built.pipeline, built.revision).where(built.revision.is_null(False))
                 .group_by(built.pipeline, built.revision).having(pw.fn.COUNT(pw.SQL("*")) > 1))
    return pw.Tuple(result.pipeline, result.revision) << pairs


def _flaky_candidates(db: pw.Database, q: pw.Select) -> list[tuple]:
    """The rows of `q` (id, k, sc, cl, ns, pl, pt, rev, st, rt, nm) that flaky detection can flag."""
    sql, params = q.sql()
    same = "IS" if is_sqlite(db) else "IS NOT DISTINCT FROM"  # NULL-safe: a run may have no pipeline task
    passed = " OR ".join(f"st = '{s}'" for s in PASSED)
    failed = " OR ".join(f"st = '{s}'" for s in FAILED)
    retried = f"(rt > 0 AND ({passed}))"
    groups = (f"SELECT cl AS gcl, ns AS gns, pl AS gpl, pt AS gpt, rev AS grev FROM ev WHERE rev IS NOT NULL "
              f"GROUP BY cl, ns, pl, pt, rev HAVING MAX(CASE WHEN {passed} THEN 1 ELSE 0 END) = 1 "
              f"AND MAX(CASE WHEN {failed} THEN 1 ELSE 0 END) = 1")
    cols = "id, k, sc, cl, ns, pl, pt, rev, st, rt, nm"
    return _run(db, f"WITH ev AS ({sql}) SELECT {cols} FROM ev WHERE {retried} UNION ALL "
                    f"SELECT {cols} FROM ev JOIN ({groups}) AS g ON cl {same} gcl AND ns {same} gns AND pl {same} gpl "
                    f"AND pt {same} gpt AND rev = grev WHERE NOT {retried}", params)


def _evidence_rows(rows: Iterable[tuple], tasks: bool) -> list[EvidenceRow]:
    out = []
    for rid, k, in_scope, cluster, ns, pipeline, ptask, revision, status, retries, name in rows:
        if revision is None and not retries:
            continue  # nothing to compare and nothing retried: cannot be judged
        ident = (cluster, ns, pipeline, ptask) if tasks else (cluster, ns, pipeline)
        out.append(EvidenceRow(int(rid), k if in_scope else None, bool(in_scope), ident,
                               None if revision is None else str(revision), status, int(retries or 0), name or ""))
    return out


def _taskrun_evidence_v2(db: pw.Database, key: pw.Node, f: Filter, since: int | None,
                         revision_key: str | None) -> list[EvidenceRow]:
    """Every finished TaskRun of the window from the Records (a history without run_stat rows)."""
    w = f.for_records()
    scope = pw.Case(None, ((w, 1),), 0) if w is not None else pw.SQL("1")
    q = (Record.select(Record.id, key, scope, Record.cluster, Record.parent, Record.pipeline,
                       pw.fn.COALESCE(Record.pipeline_task, Record.task), Record.result, Record.status,
                       _retries_expr(db), Record.run_name)
         .where((Record.kind == _TASKRUN) & (Record.status << list(FINISHED))))
    if since is not None:
        q = q.where(Record.create_time >= since)
    rows = list(q.tuples().iterator())
    revs = revisions(db, sorted({r[7] for r in rows}), revision_key)  # once per Result, not per TaskRun
    return _evidence_rows([(*r[:7], revs.get(r[7]), *r[8:]) for r in rows], True)


def revisions(db: pw.Database, result_ids: Sequence[int], revision_key: str | None = None) -> dict[int, str]:
    """Result id -> the revision its top-level run built (Results without one are left out)."""
    out: dict[int, str] = {}
    expr = revision_expr(db, Result.id, revision_key)
    for chunk in chunks(list(result_ids)):
        for rid, rev in Result.select(Result.id, expr).where(Result.id << list(chunk)).tuples():
            if rev is not None:
                out[int(rid)] = str(rev)
    return out


# --- one run -----------------------------------------------------------------------------------------


@dataclass
class SiblingRun:
    """Another finished run of the same pipeline (or pipeline task) on the same revision."""

    record_id: int
    result_id: int
    name: str
    status: str
    start: int | None


def run_revision(db: pw.Database, result_id: int, revision_key: str | None = None) -> str | None:
    """The revision of one Result's top-level run (None when none is recorded)."""
    v = Result.select(revision_expr(db, Result.id, revision_key)).where(Result.id == result_id).scalar()
    return None if v is None else str(v)


def _siblings(db: pw.Database, result_id: int, revision_key: str | None, kind_cond: pw.Expression,
              limit: int) -> list[SiblingRun]:
    me = Result.get_or_none(Result.id == result_id)
    if me is None or me.pipeline is None:
        return []
    rev = run_revision(db, result_id, revision_key)
    if rev is None:
        return []
    q = (Record.select(Record.id, Record.result, Record.run_name, Record.status, Record.start)
         .join(Result, on=(Record.result == Result.id))
         .where((Result.cluster == me.cluster) & (Result.parent == me.parent) & (Result.pipeline == me.pipeline)
                & (Result.id != result_id) & (Record.status << list(FINISHED)) & kind_cond
                & (revision_expr(db, Result.id, revision_key) == rev))
         .order_by(Record.start.desc(nulls="LAST"), Record.id.desc()).limit(limit))
    return [SiblingRun(int(i), int(r), n, s, st) for i, r, n, s, st in q.tuples()]


def same_revision_runs(db: pw.Database, result_id: int, revision_key: str | None = None,
                       limit: int = 50) -> list[SiblingRun]:
    """Other finished top-level runs of this Result's pipeline (same cluster and namespace) on its revision."""
    return _siblings(db, result_id, revision_key,
                     (Record.top_level == True) & (Record.kind << list(kinds.RUN_KIND_NAMES)), limit)  # noqa: E712


def same_revision_taskruns(db: pw.Database, result_id: int, pipeline_task: str, revision_key: str | None = None,
                           limit: int = 50) -> list[SiblingRun]:
    """Finished TaskRuns of the same pipeline task in other runs of this Result's pipeline on its revision."""
    return _siblings(db, result_id, revision_key,
                     (Record.kind == _TASKRUN) & (Record.pipeline_task == pipeline_task), limit)


def recent_durations(db: pw.Database, cluster: str, namespace: str, pipeline: str, before: int | None = None,
                     limit: int = 20) -> tuple[list[int], dict[str, list[int]]]:
    """Durations of the pipeline's `limit` newest successful runs, and of their TaskRuns per pipeline task.

    Newest by start, optionally only runs that started before `before` (an ETA judges by the past).
    """
    q = (Result.select(Result.id, Result.summary_duration)
         .where((Result.cluster == cluster) & (Result.parent == namespace) & (Result.pipeline == pipeline)
                & (Result.summary_status == g.SUCCESS) & Result.summary_duration.is_null(False)
                & (Result.summary_type << list(kinds.PIPELINE_RUN.record_types))))
    if before is not None:
        q = q.where(Result.summary_start < before)
    rows = list(q.order_by(Result.summary_start.desc(), Result.id.desc()).limit(limit).tuples())
    per_task: dict[str, list[int]] = {}
    ids = [i for i, _ in rows]
    if ids:
        src = _runs(db)
        tq = (src.select(pw.fn.COALESCE(src.pipeline_task, src.task), src.duration)
              .where((src.result << ids) & (src.kind == _TASKRUN) & (src.status == g.SUCCESS)
                     & src.duration.is_null(False)))
        for t, d in tq.tuples():
            if t is not None:
                per_task.setdefault(t, []).append(int(d))
    return [int(d) for _, d in rows], per_task

