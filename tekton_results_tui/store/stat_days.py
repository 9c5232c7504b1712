"""Per-day statistics kept by the writer (schema v6): each day's runs as a few rows of sorted values.

Why: statistics over a month of a 1.2M-record history read ~67k top-level runs and ~333k TaskRuns
row by row (seconds on SQLite). Durations are whole seconds, but a (group, value) histogram does
not help at this scale: 30 pipelines x ~1,800 distinct durations is as many cells as a month has
runs. What does help is fewer, fatter rows: one `stat_day` row per (scope, day, dimensions,
status) holds how many runs it counts and their durations and queue times as SORTED int64
arrays (BLOBs), so a month is ~20k small rows whose arrays merge in Python. Percentiles stay
exact: they are ranks in the merged values of exactly the runs the filter selects.

Scopes (each with the dimensions a filter can be answered on; any other filter term reads rows):
- 'R' the top-level run of each Result (stats by pipeline/namespace/cluster/repository/day/week):
  day of Result.sort_time, cluster, namespace, pipeline, repository, summary status;
- 'T' TaskRuns on their own (stats by task): day of creation, cluster, pipeline task, task, status;
- 'X' TaskRuns by their Result (a pipeline's slowest and most failing task): the Result's day,
  cluster, pipeline and status, the TaskRun's pipeline task (else task); one row per pipeline task,
  `n` its failed TaskRuns and the durations its finished ones'.

How it stays right: the writer never updates these rows in place. Every write marks the days it
touched dirty (`stat_dirty`: a run's creation day, its Result's day before and after), as does a
prune, in the same transaction; `settle` rebuilds a dirty day from the rows. Readers take clean
days from here and everything else — dirty days, the partial days at a window's edges — from the
rows (insights_reads), so an answer never depends on when a day was settled. Writers settle old
days at once and the live ones (today, yesterday) at most every SETTLE_AFTER_S, so a busy watcher
rebuilds today's rows about twice a minute, not per batch; `History.optimize` settles everything.
The record-list summary's `summary_day` rows (schema v9, store/summary_days.py) are keyed by their runs'
creation day and rebuilt with it: the same marks keep them right.
"""

from __future__ import annotations

import dataclasses
import sys
from array import array
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store import summary_days
from tekton_results_tui.store.db import SCHEMA_VERSION, is_sqlite
from tekton_results_tui.store.models import BaseModel, Result, RunStat
from tekton_results_tui.store.query import STATUS_WORDS, Filter, _neg, _text_match, parse_when
from tekton_results_tui.store.sql import bulk_insert, chunks, select_in

STAT_DAYS_VERSION = 6  # the schema that added stat_day / stat_dirty
DAY = 86400
SETTLE_AFTER_S = 30  # a live day (today, yesterday) is rebuilt at most this often by writers
SETTLE_MAX_DAYS = 8  # days a write batch settles besides its live ones (an import in random order dirties many)
NONE_KEY = "(none)"
_FAILED = (g.FAILURE, g.TIMEOUT)  # as insights_reads counts a task's failures
_FINISHED = (g.SUCCESS, g.FAILURE, g.TIMEOUT, g.CANCELLED)
_TASKRUN = kinds.TASK_RUN.name


class StatDay(BaseModel):
    """One (scope, day, dimensions, status) group of runs: their count, sorted durations and queue times."""

    id = pw.BigAutoField()
    scope = pw.CharField(max_length=1)  # 'R', 'T' or 'X' (module docstring)
    day = pw.BigIntegerField()  # epoch seconds / 86400, as SQL computes it (a week: its Monday)
    span = pw.SmallIntegerField(default=1)  # 1: that day; 7: the week starting on `day` (merged day rows)
    cluster = pw.CharField(max_length=253, default="")
    parent = pw.CharField(max_length=253, null=True)  # R: namespace
    pipeline = pw.CharField(max_length=253, null=True)  # R, X: the Result's pipeline
    repository = pw.CharField(max_length=253, null=True)  # R
    owner_status = pw.CharField(max_length=16, null=True)  # X: the Result's status
    pipeline_task = pw.CharField(max_length=253, null=True)  # T; X: COALESCE(pipeline_task, task, '(none)')
    task = pw.CharField(max_length=253, null=True)  # T
    status = pw.CharField(max_length=16)  # X: '' (one row for every status)
    n = pw.IntegerField()  # runs; X: failed TaskRuns
    durations = pw.BlobField()  # sorted int64 little-endian, runs with a duration
    queues = pw.BlobField(null=True)  # sorted int64 little-endian, runs started at or after creation (R, T)
    last_start = pw.BigIntegerField(null=True)  # R, T: the newest start and its row's id (ties: the newest row)
    last_id = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "stat_day"
        indexes = ((("scope", "span", "day"), False),)


class StatDirty(BaseModel):
    """A day whose stat_day rows no longer describe its runs (rebuilt by `settle`)."""

    day = pw.BigIntegerField(primary_key=True)
    marked_at = pw.BigIntegerField()  # when first marked since its last rebuild (the writer's clock)

    class Meta:
        table_name = "stat_dirty"


class StatRebuilt(BaseModel):
    """A (pipeline, revision) that more than one Result built (schema v7), so flaky detection compares only
    these runs instead of grouping every Result's pair at each read (~0.7 s at 200k Results). Kept by the
    writer: each batch's top-level runs are checked against result(pipeline, revision). A prune or a changed
    revision may leave a pair that no longer holds: readers compare the runs themselves, so a superset is
    harmless, and a missing pair impossible."""

    pipeline = pw.CharField(max_length=253)
    revision = pw.CharField(max_length=253)

    class Meta:
        table_name = "stat_rebuilt"
        primary_key = pw.CompositeKey("pipeline", "revision")


MODELS = [StatDay, StatDirty]
REBUILT_VERSION = 7


def has_rebuilt(db: pw.Database) -> bool:
    """Whether this history keeps stat_rebuilt (schema v7)."""
    return getattr(db, "schema_version", SCHEMA_VERSION) >= REBUILT_VERSION


def note_rebuilt(db: pw.Database, pairs: Iterable[tuple[str, str]]) -> None:
    """Record which of these (pipeline, revision) pairs more than one Result has built."""
    want = sorted({(p, r) for p, r in pairs if p is not None and r is not None})
    found: list[tuple[str, str]] = []
    ph = db.param
    for chunk in chunks(want, 200):
        cond = " OR ".join([f'("pipeline" = {ph} AND "revision" = {ph})'] * len(chunk))
        found += db.execute_sql(f'SELECT "pipeline", "revision" FROM "result" WHERE {cond} '
                                'GROUP BY "pipeline", "revision" HAVING COUNT(*) > 1',
                                [v for pr in chunk for v in pr]).fetchall()
    if found:
        bulk_insert(db, lambda r: StatRebuilt.insert_many(r, fields=[StatRebuilt.pipeline, StatRebuilt.revision])
                    .on_conflict_ignore(), [tuple(x) for x in found], key="stat_rebuilt")


def build_rebuilt(db: pw.Database) -> None:
    """Every pair built more than once, from result(pipeline, revision) (the v7 migration)."""
    db.execute_sql('DELETE FROM "stat_rebuilt"')  # idempotent: the whole set again
    db.execute_sql('INSERT INTO "stat_rebuilt" ("pipeline", "revision") SELECT "pipeline", "revision" FROM "result" '
                   'WHERE "pipeline" IS NOT NULL AND "revision" IS NOT NULL GROUP BY "pipeline", "revision" '
                   'HAVING COUNT(*) > 1')


def has_stat_days(db: pw.Database) -> bool:
    """Whether this history keeps stat_day rows (a read-only older one does not)."""
    return getattr(db, "schema_version", SCHEMA_VERSION) >= STAT_DAYS_VERSION


# --- values ------------------------------------------------------------------------------------------


_BIG_ENDIAN = sys.byteorder == "big"


def pack(values: list[int]) -> bytes:
    """Sorted int64 values, little-endian (a history file may move between machines)."""
    a = array("q", sorted(values))
    if _BIG_ENDIAN:
        a.byteswap()
    return a.tobytes()


def unpack(blob: Any, into: array) -> None:
    """Append a packed array's values to `into` (an array('q'))."""
    if not blob:
        return
    if _BIG_ENDIAN:
        a = array("q")
        a.frombytes(blob)
        a.byteswap()
        into.extend(a)
    else:
        into.frombytes(blob)


# --- the writer's side -------------------------------------------------------------------------------


def mark_days(db: pw.Database, days: Iterable[int], now: int) -> None:
    """Mark days dirty (inside the writer's transaction); a day already dirty keeps its first mark."""
    rows = [(int(d), int(now)) for d in sorted({int(d) for d in days if d is not None})]
    if rows:
        bulk_insert(db, lambda r: StatDirty.insert_many(r, fields=[StatDirty.day, StatDirty.marked_at])
                    .on_conflict_ignore(), rows, key="stat_dirty")


def result_days(db: pw.Database, result_ids: Iterable[int]) -> set[int]:
    """The days (of Result.sort_time) of these Results."""
    out: set[int] = set()
    for chunk in chunks(sorted(set(result_ids))):
        out.update(int(d) for (d,) in Result.select(Result.sort_time / DAY).where(Result.id << list(chunk)).tuples())
    return out


def result_days_by_name(db: pw.Database, cluster: str, names: list[str]) -> dict[str, int]:
    """Result name -> its day, for the Results with these names (read before a write moves them)."""
    return {name: int(st) // DAY for name, st in select_in(db, Result, (Result.name, Result.sort_time), Result.name,
                                                           cluster, names)}


def runs_written(db: pw.Database, infos: Sequence[Any], result_ids: dict[str, int], days_before: dict[str, int],
                 now: int, settle: bool = True, undated: Sequence[int] = ()) -> None:
    """The writer stored these runs (new or newer): mark the days whose statistics they change — each
    one's creation day, its Result's day now and before the batch — and settle what is due (unless
    `settle` is False: a bulk import settles every marked day once, at its end). `undated`: run_stat ids
    of runs without a creationTimestamp, whose stored creation time is when they were first written."""
    days = {(i.created or now) // DAY for i in infos}
    for chunk in chunks(sorted(undated)):
        days |= {int(c) // DAY for (c,) in RunStat.select(RunStat.created).where(RunStat.id << list(chunk)).tuples()}
    days |= {days_before[i.result_name] for i in infos if i.result_name in days_before}
    days |= result_days(db, {result_ids[i.result_name] for i in infos})
    mark_days(db, days, now)
    if settle:
        settle_due(db, now)
    if has_rebuilt(db):
        note_rebuilt(db, [(i.pipeline, i.revision) for i in infos if i.top_level])


def run_days_of_results(db: pw.Database, result_ids: Sequence[int]) -> set[int]:
    """The creation days of the runs of these Results (a prune removes them from 'T')."""
    out: set[int] = set()
    for chunk in chunks(sorted(set(result_ids))):
        q = RunStat.select(RunStat.created / DAY).where(RunStat.result << list(chunk)).distinct()
        out.update(int(d) for (d,) in q.tuples())
    # SQL's division truncates: a run created before 1970 is on the day before by `//` (summary_day's key)
    return out | {d - 1 for d in out if d <= 0}


def settle_due(db: pw.Database, now: int, everything: bool = False) -> int:
    """Rebuild the dirty days a writer should now: old days at once (at most SETTLE_MAX_DAYS a batch),
    a live day (today or yesterday by `now`) once it has been dirty SETTLE_AFTER_S. Returns days rebuilt."""
    rows = list(StatDirty.select(StatDirty.day, StatDirty.marked_at).order_by(StatDirty.day.desc()).tuples())
    if not rows:
        return 0
    if everything:
        due = [d for d, _ in rows]
    else:
        live_from = int(now) // DAY - 1
        live = [d for d, at in rows if d >= live_from and at <= now - SETTLE_AFTER_S]
        old = [d for d, _ in rows if d < live_from][:SETTLE_MAX_DAYS]
        due = live + old
    for chunk in chunks(sorted(due), 16):
        rebuild(db, list(chunk))
    return len(due)


def in_ranges(col: pw.Node, ranges: Sequence[tuple[int, int | None]]) -> pw.Expression:
    """`col` within any of the [lo, hi) ranges (hi None: unbounded)."""
    expr: pw.Expression | None = None
    for lo, hi in ranges:
        e = (col >= lo) if hi is None else ((col >= lo) & (col < hi))
        expr = e if expr is None else (expr | e)
    assert expr is not None
    return expr


@dataclass
class _Acc:
    n: int = 0
    last: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.durations: list[int] = []
        self.queues: list[int] = []

    def add(self, d: Any, q: Any, start: Any, rid: Any) -> None:
        self.n += 1
        if d is not None:
            self.durations.append(int(d))
        if q is not None:
            self.queues.append(int(q))
        if start is not None and (self.last is None or (int(start), int(rid)) > self.last):
            self.last = (int(start), int(rid))


def _rows(db: pw.Database, q: pw.Select) -> Any:
    """A query's rows straight from the driver: peewee's per-field conversion was most of a rebuild's time."""
    sql, params = q.sql()
    return db.execute_sql(sql, params)


def rebuild(db: pw.Database, days: list[int]) -> None:
    """Rebuild these days' stat_day rows from the runs (inside the writer's transaction)."""
    if not days:
        return
    ranges = summary_days.day_ranges(days)
    StatDay.delete().where((StatDay.span == 1) & (StatDay.day << days)).execute()
    groups: dict[tuple, _Acc] = {}

    def acc(key: tuple) -> _Acc:
        a = groups.get(key)
        if a is None:
            a = groups[key] = _Acc()
        return a

    # R: top-level runs (a Result's summary), as insights_reads._base reads them
    rq = Result.select(Result.sort_time / DAY, Result.cluster, Result.parent, Result.pipeline, Result.repository,
                       Result.summary_status, Result.summary_duration, Result.summary_start, Result.sort_time,
                       Result.id).where(Result.summary_record.is_null(False) & in_ranges(Result.sort_time, ranges))
    for day, cl, ns, pl, repo, st, d, start, created, rid in _rows(db, rq):
        q = start - created if start is not None and start >= created else None
        acc(("R", day, cl, ns, pl, repo, None, None, None, st)).add(d, q, start, rid)
    # T: TaskRuns on their own
    tq = (RunStat.select(RunStat.created / DAY, RunStat.cluster, RunStat.pipeline_task, RunStat.task, RunStat.status,
                         RunStat.duration, RunStat.start, RunStat.created, RunStat.id)
          .where((RunStat.kind == _TASKRUN) & in_ranges(RunStat.created, ranges)))
    for day, cl, pt, task, st, d, start, created, rid in _rows(db, tq):
        q = start - created if start is not None and start >= created else None
        acc(("T", day, cl, None, None, None, None, pt, task, st)).add(d, q, start, rid)
    # X: TaskRuns of the Results of these days, keyed by their Result
    owner = Result.alias("owner")
    xq = (RunStat.select(owner.sort_time / DAY, owner.cluster, owner.pipeline, owner.summary_status,
                         pw.fn.COALESCE(RunStat.pipeline_task, RunStat.task, NONE_KEY), RunStat.status, RunStat.duration)
          .join(owner, on=(RunStat.result == owner.id))
          .where(owner.summary_record.is_null(False) & in_ranges(owner.sort_time, ranges) & (RunStat.kind == _TASKRUN)))
    for day, cl, pl, ost, t, st, d in _rows(db, xq):
        # one row per pipeline task: n counts its failed TaskRuns, durations are its finished ones'
        a = acc(("X", day, cl, None, pl, None, ost, t, None, ""))
        if st in _FAILED:
            a.n += 1
        if d is not None and st in _FINISHED:
            a.durations.append(int(d))

    rows = []
    for (scope, day, cl, ns, pl, repo, ost, pt, task, st), a in groups.items():
        last = a.last if scope != "X" else None
        rows.append((scope, int(day), cl, ns, pl, repo, ost, pt, task, st, a.n, pack(a.durations),
                     pack(a.queues) if scope != "X" else None, last[0] if last else None, last[1] if last else None))
    fields = [StatDay.scope, StatDay.day, StatDay.cluster, StatDay.parent, StatDay.pipeline, StatDay.repository,
              StatDay.owner_status, StatDay.pipeline_task, StatDay.task, StatDay.status, StatDay.n, StatDay.durations,
              StatDay.queues, StatDay.last_start, StatDay.last_id]
    rows.sort(key=lambda r: (r[0], r[1]))
    bulk_insert(db, lambda r: StatDay.insert_many(r, fields=fields), rows)
    summary_days.rebuild(db, days)  # the record-list summary's rows of runs created on these days (schema v9)
    StatDirty.delete().where(StatDirty.day << days).execute()
    for w in sorted({week_of(d) for d in days}):
        _rebuild_week(db, w)


_FIELDS = ["scope", "day", "cluster", "parent", "pipeline", "repository", "owner_status", "pipeline_task", "task",
           "status", "n", "durations", "queues", "last_start", "last_id"]


def week_of(day: int) -> int:
    """The first day (a Monday, UTC) of the week holding `day`; 1970-01-01 was a Thursday."""
    return (day + 3) // 7 * 7 - 3


def _rebuild_week(db: pw.Database, w: int) -> None:
    """The week rows starting on day `w`: its day rows merged, kept only while none of its days is dirty
    (readers never use the week rows of a week with a dirty day)."""
    StatDay.delete().where((StatDay.span == 7) & (StatDay.day == w)).execute()
    if StatDirty.select().where((StatDirty.day >= w) & (StatDirty.day < w + 7)).exists():
        return
    c = StatDay
    q = (c.select(c.scope, c.cluster, c.parent, c.pipeline, c.repository, c.owner_status, c.pipeline_task, c.task,
                  c.status, c.n, c.durations, c.queues, c.last_start, c.last_id)
         .where((c.span == 1) & (c.day >= w) & (c.day < w + 7)))
    merged: dict[tuple, list] = {}
    sql, params = q.sql()
    for *key, n, durs, queues, last_start, last_id in db.execute_sql(sql, params):
        m = merged.get(tuple(key))
        if m is None:
            m = merged[tuple(key)] = [0, array("q"), array("q"), None]
        m[0] += int(n)
        unpack(durs, m[1])
        unpack(queues, m[2])
        if last_start is not None and (m[3] is None or (int(last_start), int(last_id)) > m[3]):
            m[3] = (int(last_start), int(last_id))
    rows = []
    for (scope, cl, ns, pl, repo, ost, pt, task, st), (n, durs, queues, last) in merged.items():
        rows.append((scope, w, 7, cl, ns, pl, repo, ost, pt, task, st, n, pack(list(durs)),
                     pack(list(queues)) if scope != "X" else None, last[0] if last else None, last[1] if last else None))
    fields = [getattr(StatDay, f) for f in _FIELDS]
    fields.insert(2, StatDay.span)
    bulk_insert(db, lambda r: StatDay.insert_many(r, fields=fields), rows)


def build_all(db: pw.Database, now: int) -> None:
    """Mark every day with runs dirty and rebuild them all (the migration of an existing history)."""
    days = {int(d) for (d,) in Result.select(Result.sort_time / DAY).distinct().tuples()}
    days |= {int(d) for (d,) in RunStat.select(RunStat.created / DAY).distinct().tuples()}
    mark_days(db, days, now)
    for chunk in chunks(sorted(days), 16):
        rebuild(db, list(chunk))


# --- the reader's side -------------------------------------------------------------------------------


@contextmanager
def snapshot(db: pw.Database) -> Iterator[None]:
    """One read snapshot for a statistic's several statements: stat_day rows, the dirty days and the
    rows read in their place must agree (a settle committed in between would count a day twice or
    never). SQLite: a deferred read transaction (WAL keeps its snapshot); PostgreSQL: REPEATABLE READ.
    Held only while one statistic is read."""
    if db.in_transaction():
        yield
        return
    with db.atomic():
        if not is_sqlite(db):
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


# The filter terms each scope's rows can answer, and the stat_day column each one tests.
_DIMS: dict[str, dict[str, tuple[str, ...]]] = {
    "R": {"status": ("status",), "ns": ("parent",), "pipeline": ("pipeline",), "cluster": ("cluster",)},
    "T": {"status": ("status",), "task": ("task", "pipeline_task"), "cluster": ("cluster",)},
    "X": {"status": ("owner_status",), "pipeline": ("pipeline",), "cluster": ("cluster",)},
}


@dataclass
class Plan:
    """How one scope's statistic is read: stat_day rows (`where`) for the clean whole days of the
    window, and the runs themselves (the filter plus `row_ranges` on their time column) for the rest."""

    where: pw.Expression  # on StatDay
    row_ranges: list[tuple[int, int | None]]  # [lo, hi) epoch seconds the row path must cover (may be empty)
    dirty: list[int] = dataclasses.field(default_factory=list)  # every dirty day (another plan of the snapshot reuses it)


def plan(db: pw.Database, scope: str, f: Filter, weeks: bool = True, dirty: Sequence[int] | None = None) -> Plan | None:
    """The plan for `scope` under filter `f`, or None when stat_day cannot answer it (an older
    schema, a term on anything but the scope's dimensions and time, a window inside one day).
    Whole weeks of the window come from week rows unless a day of theirs is dirty (or `weeks` is
    False: per-day groups need the day rows); other whole clean days from day rows. `dirty`: the
    dirty days another plan read in the same snapshot (Plan.dirty), else they are read here (on
    PostgreSQL a round trip is a few ms on a loaded machine)."""
    if not has_stat_days(db):
        return None
    dims = _DIMS[scope]
    lo: int | None = None
    hi: int | None = None
    conds: list[pw.Expression] = [StatDay.scope == scope]
    for t in f.terms:
        if t.key in ("since", "before"):
            if t.negated:
                return None
            at = parse_when(t.value, f.now)
            if t.key == "since":
                lo = at if lo is None else max(lo, at)
            else:
                hi = at if hi is None else min(hi, at)
            continue
        cols = dims.get(t.key)
        if cols is None:
            return None
        if t.key == "status":
            expr = getattr(StatDay, cols[0]) << sorted({STATUS_WORDS[x.lower()] for x in t.value.split(",")})
        else:
            expr = _text_match(getattr(StatDay, cols[0]), t.value)
            for c in cols[1:]:
                expr = expr | _text_match(getattr(StatDay, c), t.value)
        conds.append(_neg(t, expr))
    d0 = None if lo is None else -(-lo // DAY)  # the first whole day in the window
    d1 = None if hi is None else hi // DAY  # the day after the last whole one
    if d0 is not None and d1 is not None and d0 >= d1:
        return None
    edges: list[tuple[int, int | None]] = []
    if lo is not None and d0 is not None and lo < d0 * DAY:
        edges.append((lo, d0 * DAY))
    if hi is not None and d1 is not None and d1 * DAY < hi:
        edges.append((d1 * DAY, hi))
    every = sorted(int(d) for (d,) in StatDirty.select(StatDirty.day).tuples()) if dirty is None else list(dirty)
    dirty = [d for d in every if (d0 is None or d >= d0) and (d1 is None or d < d1)]
    day_rows = [StatDay.span == 1]
    if d0 is not None:
        day_rows.append(StatDay.day >= d0)
    if d1 is not None:
        day_rows.append(StatDay.day < d1)
    if dirty:
        day_rows.append(StatDay.day.not_in(dirty))
    rows_where = _all(day_rows)
    if weeks:
        w_a = None if d0 is None else (d0 if week_of(d0) == d0 else week_of(d0) + 7)  # the first whole week
        w_b = None if d1 is None else week_of(d1)  # the day after the last whole week
        if w_a is None or w_b is None or w_a < w_b:
            broken = sorted({week_of(d) for d in dirty})
            week_rows = [StatDay.span == 7]
            if w_a is not None:
                week_rows.append(StatDay.day >= w_a)
            if w_b is not None:
                week_rows.append(StatDay.day < w_b)
            if broken:
                week_rows.append(StatDay.day.not_in(broken))
            outside: list[pw.Expression] = []  # day rows only for days no good week row holds
            if w_a is not None:
                outside.append(StatDay.day < w_a)
            if w_b is not None:
                outside.append(StatDay.day >= w_b)
            if broken:
                outside.append(StatDay.day << [w + i for w in broken for i in range(7)])
            rows_where = _all(week_rows) | (rows_where & _any(outside)) if outside else _all(week_rows)
    ranges = edges + [(a, b) for a, b in summary_days.day_ranges(dirty)]
    return Plan(_all(conds) & rows_where, sorted(ranges, key=lambda r: r[0]), every)


def _all(exprs: list[pw.Expression]) -> pw.Expression:
    out = exprs[0]
    for e in exprs[1:]:
        out = out & e
    return out


def _any(exprs: list[pw.Expression]) -> pw.Expression:
    out = exprs[0]
    for e in exprs[1:]:
        out = out | e
    return out
