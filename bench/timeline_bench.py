#!/usr/bin/env python3
"""Timeline tab benchmark: a PipelineRun with 200 TaskRuns x 5 steps, from selection to visible.

Target (issue 13): < 100 ms from the cursor landing on the run (the Timeline tab open) to its bars
on screen. Measured headless (`App.run_test`, 160x45) on a SQLite history holding the big run among
the fixed TUI test history, as the median and max of --reps selections: the cursor moves away and
back each time, so every selection reads the store again, and it moves from rest (the detail follows
a cursor at rest at once; while keys repeat it waits for the cursor to rest, app.DETAIL_DELAY_S), under
the collector settings the app runs with (tui/gc_tuning.py; --default-gc: Python's). Also reported:
the pieces — the worker's read and span building (`build_payload`), and the drawing of a screenful
(`render`: the geometry of every row, the text of the rows shown) at 80 and 200 columns, with steps
expanded — the collector's time per selection, and the load average before and after.

usage: bench/timeline_bench.py [--tasks 200] [--steps 5] [--reps 15] [--default-gc]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))  # tuikit

from tekton_results_tui.store.db import open_database  # noqa: E402
from tekton_results_tui.store.grouping import format_time  # noqa: E402
from tekton_results_tui.store.history import History, RunUpsert  # noqa: E402

T0 = 1_780_000_000
NAME = "big-timeline-run"


def big_run(tasks: int, steps: int, now: int = T0) -> tuple[dict, list[dict]]:
    """A finished PipelineRun with `tasks` TaskRuns of `steps` steps each, a spec chaining them in waves."""
    start = now - 3 * 3600
    uid = "00000000-0000-4000-8000-00000000b16b"
    names = [f"task-{k:03d}" for k in range(tasks)]
    spec = {"tasks": [{"name": n, "runAfter": [names[k - 10]] if k >= 10 else [], "taskRef": {"name": "t"}}
                      for k, n in enumerate(names)]}
    trs = []
    for k, n in enumerate(names):
        t_start = start + (k // 10) * 300 + k % 10
        t_end = t_start + 120 + (k * 7) % 150
        step_len = (t_end - t_start) // steps
        trs.append({
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
            "metadata": {"name": f"{NAME}-{n}", "namespace": "bench", "uid": f"00000000-0000-4000-8000-{k:012d}",
                         "resourceVersion": "1", "creationTimestamp": format_time(t_start - 3),
                         "labels": {"tekton.dev/pipeline": "big", "tekton.dev/pipelineRun": NAME,
                                    "tekton.dev/pipelineTask": n, "tekton.dev/task": "t"},
                         "ownerReferences": [{"kind": "PipelineRun", "name": NAME, "uid": uid, "controller": True}]},
            "spec": {"taskRef": {"name": "t"}},
            "status": {"startTime": format_time(t_start), "completionTime": format_time(t_end),
                       "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                       "steps": [{"name": f"s{j}", "container": f"step-s{j}",
                                  "terminated": {"exitCode": 0, "reason": "Completed",
                                                 "startedAt": format_time(t_start + j * step_len),
                                                 "finishedAt": format_time(t_start + (j + 1) * step_len)}}
                                 for j in range(steps)]},
        })
    end = start + (tasks // 10) * 300 + 400
    pr = {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
          "metadata": {"name": NAME, "namespace": "bench", "uid": uid, "resourceVersion": "1",
                       "creationTimestamp": format_time(start - 2), "labels": {"tekton.dev/pipeline": "big"}},
          "spec": {"pipelineRef": {"name": "big"}},
          "status": {"startTime": format_time(start), "completionTime": format_time(end), "pipelineSpec": spec,
                     "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]}}
    return pr, trs


def build_history(path: Path, tasks: int, steps: int) -> None:
    from tests.tui.conftest import write_fixed_db

    write_fixed_db(path)
    db = open_database("sqlite:///" + str(path))
    pr, trs = big_run(tasks, steps)
    History(db, clock=lambda: T0).apply([RunUpsert(pr), *[RunUpsert(t) for t in trs]])
    db.close()


def pieces(path: Path, reps: int) -> dict[str, float]:
    """ms of the worker's part (read + spans) and of drawing, without Textual."""
    from tekton_results_tui.tui.widgets.detail_base import Target
    from tekton_results_tui.tui.widgets.timeline_view import build_payload, render

    db = open_database("sqlite:///" + str(path))
    h = History(db, clock=lambda: T0)
    res = h.get_result(id=next(r.result_id for r in h.find_runs(NAME, limit=5) if r.run_name == NAME))
    assert res is not None
    target = Target.of_result(res)
    out: dict[str, list[float]] = {"build_payload": [], "render_80": [], "render_200": [], "render_200_steps": []}
    for _ in range(reps):
        t = time.perf_counter()
        p = build_payload(h, target)
        out["build_payload"].append((time.perf_counter() - t) * 1000)
        for key, width, steps in (("render_80", 80, False), ("render_200", 200, False), ("render_200_steps", 200, True)):
            t = time.perf_counter()
            rows = render(p, width, T0, steps)  # type: ignore[arg-type]
            rows.widths()
            for i in range(min(45, len(rows))):  # what a 45-line screen draws
                rows[i]
            out[key].append((time.perf_counter() - t) * 1000)
    db.close()
    return {k: statistics.median(v) for k, v in out.items()}


async def selection_to_visible(path: Path, reps: int) -> tuple[list[float], list[float], list[float]]:
    """(ms from the cursor landing on the run, ms from the detail pane being asked to show it) to the
    first refresh after the bars were applied, per selection; and the CPU time the process spent
    meanwhile (all threads: the worker and the UI take turns on the GIL, so on an idle machine the
    wall time is about this)."""
    from tests.tui.conftest import fixed_histories

    from tekton_results_tui.tui.app import ResultsApp
    from tekton_results_tui.tui.widgets.detail import DetailPane
    from tekton_results_tui.tui.widgets.timeline_view import TimelineView

    shown_at: list[float] = []
    plain_show = DetailPane._show

    def show(self, target):  # type: ignore[no-untyped-def]
        shown_at.append(time.perf_counter())  # the app may wait for the cursor to rest before this
        return plain_show(self, target)

    DetailPane._show = show  # type: ignore[method-assign]
    applied = asyncio.Event()
    plain_apply = TimelineView.apply

    def apply(self, payload, keep_scroll):  # type: ignore[no-untyped-def]
        plain_apply(self, payload, keep_scroll)
        if self.payload is not None and self.payload.spans is not None and self.payload.spans.name == NAME:
            applied.set()  # the big run's bars are in the view (the wait below needs no polling)

    TimelineView.apply = apply  # type: ignore[method-assign]
    from_cursor: list[float] = []
    from_show: list[float] = []
    cpu_ms: list[float] = []
    with fixed_histories(path) as open_history:
        app = ResultsApp(open_history(False), clock=lambda: float(T0), live=False)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            node = next(n for n in app.tree.root.children
                        if getattr(n.data, "row", None) is not None and (n.data.row.display_name or n.data.row.name) == NAME)
            other = next(n for n in app.tree.root.children if n is not node and getattr(n.data, "row", None) is not None)
            app.tree.goto(other)
            await pilot.press("t")
            await pilot.pause()
            view = app.detail.query_one(TimelineView)
            for _ in range(reps):
                app.tree.goto(other)
                while not (view.payload is not None and view.payload.spans is not None
                           and view.payload.spans.name != NAME):  # the other run shown: nothing of the big one left
                    await asyncio.sleep(0.002)
                await pilot.pause()
                while app._detail_timer is not None:  # the cursor at rest (a selection, not a key repeat)
                    await asyncio.sleep(0.005)
                shown_at.clear()
                applied.clear()
                painted = asyncio.Event()
                t, cpu = time.perf_counter(), time.process_time()
                app.tree.goto(node)
                await applied.wait()
                assert view.lines_view.line_count > 200
                app.call_after_refresh(painted.set)  # the frame with the bars
                await painted.wait()
                end = time.perf_counter()
                cpu_ms.append((time.process_time() - cpu) * 1000)
                from_cursor.append((end - t) * 1000)
                from_show.append((end - shown_at[-1]) * 1000 if shown_at else float("nan"))
    DetailPane._show = plain_show  # type: ignore[method-assign]
    TimelineView.apply = plain_apply  # type: ignore[method-assign]
    return from_cursor, from_show, cpu_ms


def main() -> int:
    from tekton_results_tui.tui.gc_tuning import tuned_gc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--default-gc", action="store_true", help="Python's collector settings, not the app's")
    args = ap.parse_args()
    load_before = os.getloadavg()
    gc_s: list[float] = []
    started: list[float] = []

    def gc_clock(phase: str, _info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            gc_s.append(time.perf_counter() - started[0])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        build_history(path, args.tasks, args.steps)
        parts = pieces(path, args.reps)
        gc.collect()
        gc.callbacks.append(gc_clock)
        with contextlib.nullcontext() if args.default_gc else tuned_gc():
            from_cursor, from_show, cpu_ms = asyncio.run(selection_to_visible(path, args.reps))
        gc.callbacks.remove(gc_clock)
    load_after = os.getloadavg()
    print(f"timeline of a PipelineRun with {args.tasks} TaskRuns x {args.steps} steps (SQLite, 160x45), "
          f"{'default' if args.default_gc else 'the app'}'s gc settings")
    print(f"  load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)")
    for k, v in parts.items():
        print(f"  {k:<18} median {v:7.1f} ms")
    print(f"  gc                 {sum(gc_s) * 1000 / max(1, 2 * args.reps):7.1f} ms per selection (the run's "
          f"{len(gc_s)} collections, max {max(gc_s, default=0) * 1000:.1f} ms)")
    for label, xs in (("cursor -> bars painted", from_cursor), ("detail asked -> painted", from_show)):
        print(f"  {label:<24} median {statistics.median(xs):7.1f} ms  max {max(xs):7.1f} ms")
    print(f"  {'CPU time meanwhile':<24} median {statistics.median(cpu_ms):7.1f} ms  max {max(cpu_ms):7.1f} ms  "
          "(what the selection costs whatever the load)")
    ok = statistics.median(from_cursor) < 100
    print(f"  target < 100 ms from selection: {'OK' if ok else 'MISSED'} (median of {len(from_cursor)}; the detail "
          "follows a cursor at rest at once)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
