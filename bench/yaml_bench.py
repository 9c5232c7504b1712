"""YAML pane of a 5,000-line record: time from `show_record` to the first render of its lines.

Target (issue 5): < 150 ms from selection to visible. Printed next to a raw baseline
measured in the same run on the same record: read the JSON from SQLite + json.loads +
YAML dump + Pygments lexing (the work that cannot be skipped), and the ratio.

    .venv/bin/python bench/yaml_bench.py [--lines 5000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from pygments.lexers.data import YamlLexer
from textual.app import App, ComposeResult
from textual.worker import WorkerCancelled

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.tui.widgets.detail import DetailPane
from tekton_results_tui.tui.widgets.line_view import LineView
from tekton_results_tui.tui.widgets.yaml_view import to_yaml

T0 = 1_780_000_000


def big_taskrun(i: int, lines: int) -> dict:
    """A TaskRun whose YAML is about `lines` lines (many steps with full state, like a big matrix run)."""
    steps = []
    n = max(1, (lines - 20) // 9)  # 9 YAML lines per step, ~20 for the rest
    for k in range(n):
        steps.append({"name": f"step-{k}", "container": f"step-step-{k}", "imageID": f"docker.io/lib/golang@sha256:{k:064x}",
                      "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": format_time(T0 - 600 + k),
                                     "finishedAt": format_time(T0 - 590 + k), "containerID": f"containerd://{k:064x}"}})
    return {
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": f"big-run-{i}", "namespace": "ci", "uid": f"00000000-0000-4000-8000-{i:012d}",
                     "resourceVersion": "5", "creationTimestamp": format_time(T0 - 700), "labels": {}, "annotations": {}},
        "spec": {"taskRef": {"name": "matrix"}},
        "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded",
                                   "lastTransitionTime": format_time(T0)}],
                   "startTime": format_time(T0 - 650), "completionTime": format_time(T0), "podName": "p", "steps": steps},
    }


class BenchApp(App):
    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history

    def compose(self) -> ComposeResult:
        yield DetailPane(self.history, clock=lambda: float(T0), id="detail")


async def measure(history: History, ids: list[int], rounds: int) -> tuple[list[float], int]:
    first_render: dict[str, float] = {}
    original = LineView.render_line

    def render_line(self: LineView, y: int):  # noqa: ANN202 - stamp the first paint of loaded lines
        if self.line_count and "t" not in first_render:
            first_render["t"] = time.perf_counter()
        return original(self, y)

    LineView.render_line = render_line  # type: ignore[method-assign]
    times: list[float] = []
    app = BenchApp(history)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(DetailPane)
        pane.switch_tab("yaml")
        await pilot.pause()
        n_lines = 0
        for r in range(rounds + 1):
            rec = history.get_record(id=ids[r % len(ids)])
            pane.show_record(None)
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                pass
            await pilot.pause()
            first_render.clear()
            t0 = time.perf_counter()
            pane.show_record(rec)
            while "t" not in first_render:
                await asyncio.sleep(0.001)
            if r:  # the first round warms caches (imports, styles)
                times.append(first_render["t"] - t0)
            n_lines = pane.views["yaml"].lines_view.line_count
    LineView.render_line = original  # type: ignore[method-assign]
    return times, n_lines


def raw_baseline(history: History, ids: list[int], rounds: int) -> list[float]:
    times = []
    for r in range(rounds):
        t0 = time.perf_counter()
        obj = json.loads(history.record_data(ids[r % len(ids)]) or "{}")
        text = to_yaml(obj)
        list(YamlLexer(stripnl=False, ensurenl=False).get_tokens(text))
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database("sqlite:///" + str(Path(tmp) / "bench.db"))
        history = History(db, clock=lambda: T0)
        history.apply([RunUpsert(big_taskrun(i, args.lines)) for i in range(2)])
        ids = [r.id for r in history.list_records().items]
        baseline = raw_baseline(history, ids, args.rounds)
        times, n_lines = asyncio.run(measure(history, ids, args.rounds))
        db.close()
    med, base = statistics.median(times), statistics.median(baseline)
    print(f"YAML pane, {n_lines} lines: show_record -> first render  median {med * 1000:.1f} ms  "
          f"max {max(times) * 1000:.1f} ms  (target < 150 ms: {'OK' if med < 0.150 else 'MISSED'})")
    print(f"raw baseline (SQLite read + json.loads + YAML dump + Pygments lex): median {base * 1000:.1f} ms")
    print(f"ratio pane / raw: {med / base:.2f}x")


if __name__ == "__main__":
    main()
