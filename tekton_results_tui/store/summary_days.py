"""Per-day sums the record-list summary (`serve`'s GetRecordListSummary) reads, kept by the writer (schema v9).

Why: dashboards ask "the last 30 days by pipeline" (a `data.status.startTime` window); summing that
from `run_stat` read ~400k rows at 1.2M records (~1 s on SQLite), and an index on start was slower
than the scan. `summary_day` holds, per (creation day, start day, namespace, pipeline, status, has a
reason), the runs' count, duration sum/count/min/max and newest start: exactly what
api_summary._summarize adds up, so a month is ~25k small rows.

How it stays right: it rides on stat_days' dirty days. A row is keyed by its runs' CREATION day as
well as their start day, and every write that changes a run_stat row marks that run's creation day
dirty in `stat_dirty` in the same transaction (stat_days.runs_written, a prune's run_days_of_results);
`stat_days.rebuild` rebuilds a settled creation day's rows here too. Keying by the start day alone
would need the start day before and after each write (a read of the old row per run) and an index on
run_stat(start) to rebuild a day; the creation day never changes and run_stat(kind, created) exists.
Readers (api_summary) take whole clean start days from here, minus rows of dirty creation days, and
read the rest from run_stat: the runs of dirty creation days, and the runs starting in the window's
partial edge days, found through the creation days this table lists for those start days. In one
snapshot, so an answer never depends on when a day was settled.

Days are floor(epoch / 86400) here and in the dirty marks (Python `//`); SQL's integer division
truncates, so the SQL below floors explicitly (a creation time before 1970 in an imported dump).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store.db import SCHEMA_VERSION
from tekton_results_tui.store.models import BaseModel

SUMMARY_DAYS_VERSION = 9  # the schema that added summary_day
DAY = 86400


class SummaryDay(BaseModel):
    """The started runs created on `cday` and started on `sday` with one (namespace, pipeline, status,
    has-a-reason) key: what the record-list summary sums per group."""

    id = pw.BigAutoField()
    cday = pw.BigIntegerField()  # floor(run_stat.created / 86400): the dirty unit (stat_dirty.day)
    sday = pw.BigIntegerField()  # floor(run_stat.start / 86400)
    parent = pw.CharField(max_length=253)  # namespace
    pipeline = pw.CharField(max_length=253, null=True)
    status = pw.CharField(max_length=16)
    has_reason = pw.SmallIntegerField()  # 1: the run has a Succeeded condition reason (Unknown: running)
    n = pw.BigIntegerField()
    dur_sum = pw.BigIntegerField(null=True)
    dur_count = pw.BigIntegerField()
    dur_min = pw.BigIntegerField(null=True)
    dur_max = pw.BigIntegerField(null=True)
    last_start = pw.BigIntegerField()

    class Meta:
        table_name = "summary_day"
        indexes = ((("sday", "cday"), False), (("cday",), False))


def has_summary_days(db: pw.Database) -> bool:
    """Whether this history keeps summary_day (a read-only older one does not; nor does a history while
    an earlier migration step runs: db.run_migrations sets the version each step starts from)."""
    return getattr(db, "schema_version", SCHEMA_VERSION) >= SUMMARY_DAYS_VERSION


def floor_day_sql(col: str) -> str:
    """SQL for floor(col / 86400) on both engines (their integer division truncates toward zero)."""
    return f'(CASE WHEN "{col}" >= 0 THEN "{col}" / {DAY} ELSE ("{col}" + 1) / {DAY} - 1 END)'


def _insert_select(db: pw.Database, where: str, params: Sequence[int]) -> None:
    runs = ", ".join(db.param for _ in kinds.RUN_KIND_NAMES)
    db.execute_sql(
        'INSERT INTO "summary_day" ("cday", "sday", "parent", "pipeline", "status", "has_reason", "n", "dur_sum", '
        '"dur_count", "dur_min", "dur_max", "last_start") '
        f'SELECT {floor_day_sql("created")}, {floor_day_sql("start")}, "parent", "pipeline", "status", '
        'CASE WHEN "reason" IS NULL THEN 0 ELSE 1 END, COUNT(*), SUM("duration"), COUNT("duration"), '
        'MIN("duration"), MAX("duration"), MAX("start") FROM "run_stat" '
        # kind IN (...): every run_stat row is a run; it lets run_stat(kind, created) find a day's runs
        f'WHERE "kind" IN ({runs}) AND "start" IS NOT NULL{where} GROUP BY 1, 2, 3, 4, 5, 6',
        [*kinds.RUN_KIND_NAMES, *params])


def day_ranges(days: Iterable[int]) -> list[tuple[int, int]]:
    """Days as [start, end) epoch-second ranges, consecutive days merged."""
    out: list[tuple[int, int]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d * DAY:
            out[-1] = (out[-1][0], (d + 1) * DAY)
        else:
            out.append((d * DAY, (d + 1) * DAY))
    return out


def rebuild(db: pw.Database, days: Sequence[int]) -> None:
    """Rebuild the rows of runs created on these days (stat_days.rebuild calls it for the days it settles,
    inside the writer's transaction)."""
    if not days or not has_summary_days(db):
        return
    SummaryDay.delete().where(SummaryDay.cday << sorted({int(d) for d in days})).execute()
    for lo, hi in day_ranges(days):
        _insert_select(db, f' AND "created" >= {db.param} AND "created" < {db.param}', [lo, hi])


def build_all(db: pw.Database) -> None:
    """Every row from run_stat (the v9 migration). Rows of dirty days are built too: readers skip them
    until the writer settles those days, as for any dirty day."""
    SummaryDay.delete().execute()  # idempotent
    _insert_select(db, "", [])
