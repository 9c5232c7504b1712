#!/usr/bin/env python3
"""Insights benchmark: `stats --by pipeline|task` over 30 days and a 200-TaskRun timeline, on a history
built as bench/store_bench.py builds one (the import command's path over generated PipelineRuns x 5 TaskRuns).

Prints, each with its target and PASS/MISS:
  - stats --by pipeline over 30 days (insights.stats.statistics: counts, exact percentiles from the
    writer-kept stat_day rows merged with the window's edge days read from the runs, the per-task
    extremes and flaky detection), and its parts: the counts and percentile ranks alone and the flaky
    evidence (the pairs built twice come from stat_rebuilt, schema v7). Target < 300 ms (issue 13
    states it at 200k PipelineRuns); beside it the same statistic from the runs alone (stat_day
    unused), timed in the same run, with the ratio and whether both answers are identical;
  - stats --by task over 30 days, target < 500 ms;
  - the raw-SQL baseline measured in the same run on the same file: plain sqlite3, one GROUP BY for the
    counts and one ORDER BY fetch of every duration (the simplest exact percentiles), over the Records
    and (schema v3) over the narrow run_stat rows the writer keeps;
  - the timeline of a PipelineRun with 200 TaskRuns x 5 steps: read from the store, geometry, text at
    160 columns; target < 100 ms.

usage: bench/insights_bench.py [--runs 20000 | --large] [--db URL] [--reuse PATH] [--keep PATH] [--seed 7]
  --large       200,000 PipelineRuns (1.2M records; the issue's size; takes a long while to build)
  --reuse PATH  time against an existing history built by this benchmark (a SQLite path, or a database URL)
  --keep PATH   leave the built SQLite history at PATH
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import store_bench as sb  # noqa: E402 - the same generated history as the store benchmark

from tekton_results_tui.insights import stats as stats_mod  # noqa: E402
from tekton_results_tui.insights import timeline as tl_mod  # noqa: E402
from tekton_results_tui.store import insights_reads as reads  # noqa: E402
from tekton_results_tui.store import stat_days as sd  # noqa: E402
from tekton_results_tui.store.db import has_run_stats, open_database, parse_db_url, schema_version  # noqa: E402
from tekton_results_tui.store.history import History, RunUpsert  # noqa: E402
from tekton_results_tui.store.query import parse_filter  # noqa: E402

NOW = sb.NOW
WINDOW = 30 * 86400
BIG_TASKS = 200
REPS = 5


CPU: dict[int, list[float]] = {}  # id(wall list) -> this process's CPU ms per repetition (SQLite runs in it)


def timed(fn, reps: int = REPS) -> tuple[list[float], object]:  # noqa: ANN001
    out, cpu, got = [], [], None
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        got = fn()
        out.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    CPU[id(out)] = cpu
    return out, got


def fmt(ms: list[float]) -> str:
    """Wall median and max, and the CPU median of this process (on a shared machine the wall time measures
    the load as well; the CPU is the program's own cost, SQLite's included, PostgreSQL's server not)."""
    cpu = CPU.get(id(ms))
    extra = f" (CPU {statistics.median(cpu):6.1f} ms)" if cpu else ""
    return f"median {statistics.median(ms):7.1f} ms, max {max(ms):7.1f} ms{extra}"


def load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def big_pipelinerun() -> list[dict]:
    """One PipelineRun with BIG_TASKS TaskRuns x 5 steps, a chain of 20 waves of 10 parallel tasks."""
    t0 = NOW - 3 * 3600
    names = [f"t{i:03d}" for i in range(BIG_TASKS)]
    spec = [{"name": n, "runAfter": [names[i - 10]] if i >= 10 else []} for i, n in enumerate(names)]
    pr = {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
          "metadata": {"name": "big-run", "namespace": "ci", "uid": "big-run-uid", "resourceVersion": "1",
                       "creationTimestamp": sb.ts(t0), "labels": {"tekton.dev/pipeline": "big"}},
          "spec": {"pipelineRef": {"name": "big"}},
          "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                     "startTime": sb.ts(t0 + 1), "completionTime": sb.ts(t0 + 20 * 300 + 60),
                     "pipelineSpec": {"tasks": spec}}}
    out = [pr]
    for i, n in enumerate(names):
        s = t0 + 2 + (i // 10) * 300 + (i % 10)
        steps = [{"name": f"s{k}", "container": f"step-s{k}",
                  "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": sb.ts(s + k * 50),
                                 "finishedAt": sb.ts(s + k * 50 + 45)}} for k in range(5)]
        out.append({"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
                    "metadata": {"name": f"big-run-{n}", "namespace": "ci", "uid": f"big-tr-{i}", "resourceVersion": "2",
                                 "creationTimestamp": sb.ts(s - 1),
                                 "labels": {"tekton.dev/pipeline": "big", "tekton.dev/pipelineRun": "big-run",
                                            "tekton.dev/pipelineTask": n, "tekton.dev/task": "work"},
                                 "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                                                      "name": "big-run", "uid": "big-run-uid", "controller": True}]},
                    "spec": {"taskRef": {"name": "work"}},
                    "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                               "startTime": sb.ts(s), "completionTime": sb.ts(s + 250), "steps": steps}})
    return out


def raw_baseline(path: str, since: int, run_stat: bool, reps: int = REPS) -> tuple[list[float], list[float], list[float]]:
    """Plain sqlite3 on the same file: counts per pipeline, then every finished duration in order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def by_pipeline() -> None:
        conn.execute("SELECT pipeline, COUNT(*), SUM(summary_status = 'SUCCESS'), SUM(summary_status = 'FAILURE'), "
                     "MAX(summary_duration) FROM result WHERE sort_time >= ? GROUP BY pipeline", (since,)).fetchall()
        conn.execute("SELECT pipeline, summary_duration FROM result WHERE sort_time >= ? AND summary_duration IS "
                     "NOT NULL ORDER BY pipeline, summary_duration", (since,)).fetchall()

    def by_task() -> None:
        conn.execute("SELECT task, COUNT(*), SUM(status = 'SUCCESS'), MAX(duration) FROM record "
                     "WHERE kind = 'TaskRun' AND create_time >= ? GROUP BY task", (since,)).fetchall()
        conn.execute("SELECT task, duration FROM record WHERE kind = 'TaskRun' AND create_time >= ? AND duration "
                     "IS NOT NULL ORDER BY task, duration", (since,)).fetchall()

    def by_task_narrow() -> None:
        conn.execute("SELECT task, COUNT(*), SUM(status = 'SUCCESS'), MAX(duration) FROM run_stat "
                     "WHERE kind = 'TaskRun' AND created >= ? GROUP BY task", (since,)).fetchall()
        conn.execute("SELECT task, duration FROM run_stat WHERE kind = 'TaskRun' AND created >= ? AND duration "
                     "IS NOT NULL ORDER BY task, duration", (since,)).fetchall()

    a, _ = timed(by_pipeline, reps)
    b, _ = timed(by_task, reps)
    c = timed(by_task_narrow, reps)[0] if run_stat else []
    conn.close()
    return a, b, c


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000, help="PipelineRuns to generate (each with 5 TaskRuns)")
    ap.add_argument("--large", action="store_true", help="200,000 PipelineRuns (the issue's 1.2M records)")
    ap.add_argument("--db", help="build into this database URL instead of a fresh SQLite file")
    ap.add_argument("--reuse", metavar="PATH", help="an existing history built by this benchmark (SQLite path or URL)")
    ap.add_argument("--keep", metavar="PATH", help="keep the built SQLite history at PATH")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    runs = 200_000 if args.large else args.runs

    work = tempfile.mkdtemp(prefix="insights-bench-")
    try:
        if args.reuse:
            url = args.reuse if "://" in args.reuse else "sqlite:///" + args.reuse
        else:
            url = args.db or "sqlite:///" + os.path.join(work, "history.db")
            print(f"building {runs} PipelineRuns x {sb.TASKS_PER_RUN} TaskRuns (seed {args.seed}) ...", flush=True)
            batches = sb.generate(runs, args.seed)
            dumps = sb.write_dumps(batches, os.path.join(work, "dump.json"), "compact")
            del batches
            db = open_database(url)
            h = History(db, clock=lambda: NOW)
            secs, _, _, new = sb.build_store(h, dumps)
            for dump in dumps:
                os.remove(dump)
            h.apply([RunUpsert(o) for o in big_pipelinerun()])
            h.optimize()
            print(f"  imported {new} records in {secs:.1f} s")
            db.close()
        db = open_database(url, read_only=parse_db_url(url).engine == "sqlite")
        h = History(db, clock=lambda: NOW)
        results, records = h.size()
        kept = has_run_stats(db)
        print(f"history: {results} Results, {records} Records ({parse_db_url(url).engine}, schema "
              f"v{schema_version(db)}: {'writer-kept run_stat rows' if kept else 'no writer-kept rows, JSON per row'})")
        if h.find_runs("big-run") == []:
            print("  (no 200-TaskRun run in this history: the timeline figure is skipped)")

        base_reps = 1 if results > 100_000 else 3  # the baselines take seconds each at 1.2M records
        since = int(NOW - WINDOW)
        f = parse_filter(f"since:{WINDOW}s", now=NOW)
        days = sd.has_stat_days(db)
        if days:
            dirty = sd.StatDirty.select().count()
            print(f"stat_day rows: {sd.StatDay.select().count()} ({dirty} dirty days: read from the runs)")
        for by, target in (("pipeline", 300), ("task", 500)):
            ms, st = timed(lambda by=by: stats_mod.statistics(h, None, by, WINDOW))
            n = sum(g.total for g in st.groups)  # type: ignore[union-attr]
            flaky = sum(g.flaky for g in st.groups)  # type: ignore[union-attr]
            print(f"stats --by {by:<8} over 30 days ({len(st.groups)} groups, {n} runs, {flaky} flaky): "  # type: ignore[union-attr]
                  f"{fmt(ms)}   target < {target} ms   {verdict(max(ms) < target)}   [{load()}]")
            ms_reads, _ = timed(lambda by=by: reads.stats_reads(h.db, by, f))
            ms_flaky, ev = timed(lambda by=by: reads.flaky_evidence(h.db, by, f, since))
            how = "Result.revision and run_stat.retries" if kept else "read from JSON per row"
            print(f"  parts: counts + percentile ranks {fmt(ms_reads)}; flaky evidence ({len(ev)} runs with a "  # type: ignore[arg-type]
                  f"revision, {how}) {fmt(ms_flaky)}")
            if days:  # the same statistic from the runs alone (no stat_day), in the same run: the ratio
                plain_plan = sd.plan
                sd.plan = lambda *a, **k: None  # type: ignore[assignment]
                try:
                    ms_rows, st_rows = timed(lambda by=by: stats_mod.statistics(h, None, by, WINDOW), base_reps)
                finally:
                    sd.plan = plain_plan  # type: ignore[assignment]
                same = st_rows.document() == st.document()  # type: ignore[union-attr]
                print(f"  the same from the runs alone: {fmt(ms_rows)}  ({statistics.median(ms_rows) / statistics.median(ms):.1f}x "
                      f"the stat_day path; answers {'identical' if same else 'DIFFER'})")
        ms_old, _ = timed(lambda: h.aggregate("pipeline", "since:30d"))
        print(f"  reference: History.aggregate('pipeline', since:30d) {fmt(ms_old)}")
        if parse_db_url(url).engine == "sqlite":
            path = parse_db_url(url).path or ""
            base_p, base_t, base_s = raw_baseline(path, since, kept, base_reps if base_reps == 1 else REPS)
            print(f"raw-SQL baseline (sqlite3: GROUP BY counts + ORDER BY fetch of every duration): --by pipeline "
                  f"{fmt(base_p)}; --by task over record {fmt(base_t)}"
                  + (f"; --by task over run_stat {fmt(base_s)}" if base_s else ""))

        big = h.find_runs("big-run")
        if big:
            def timeline() -> list[str]:
                run = h.find_runs("big-run")[0]
                pr = h.record_object(run.id) or {}
                ids = [r.id for r in h.records_of(run.result_id) if r.kind == "TaskRun"]
                objs = h.record_objects(ids)
                spans = tl_mod.spans_of_pipelinerun(pr, [objs[i] for i in ids])
                tl = tl_mod.timeline_at(spans, 160, NOW)
                return tl_mod.render_lines(tl, 160, steps=True)

            ms, lines = timed(timeline, 10)
            print(f"timeline of a PipelineRun with {BIG_TASKS} TaskRuns x 5 steps (store read + geometry + "
                  f"{len(lines)} lines at 160 columns): {fmt(ms)}   target < 100 ms   {verdict(max(ms) < 100)}")  # type: ignore[arg-type]
        db.close()
        if args.keep and not args.db and not args.reuse:
            sb.keep_history(os.path.join(work, "history.db"), args.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
