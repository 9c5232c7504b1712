"""Diff of two PipelineRuns with 50 TaskRuns each and 2,000-line specs: time to the first screen.

Target (issue 14): < 200 ms to the first screen of a Diff view, i.e. the structured diff (both runs and
their TaskRuns read from the history, compared) plus the unified YAML diff below it. Printed next
to a raw baseline measured in the same run on the same objects: plain difflib over the two runs'
JSON texts (indented, keys sorted — the least work a line diff of these objects can be), and the ratio.

    .venv/bin/python bench/diff_bench.py [--tasks 50] [--spec-lines 2000] [--rounds 15] [--db URL] [--history N]

With --history N, the pair is stored in a history of N generated PipelineRuns x 5 TaskRuns (as
bench/store_bench.py builds one) spanning the 90 days between them, and `--last-success` is timed
too: for the newer run (its only earlier success is older than every generated run: the longest
walk back) and for the newest run of a common pipeline.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

from tekton_results_tui.insights import diff as d
from tekton_results_tui.insights.yaml_diff import to_yaml_lines, yaml_diff
from tekton_results_tui.insights.diff_load import last_success, side_of
from tekton_results_tui.insights.yaml_lines import yaml_lines
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, RunUpsert

T0 = 1_780_000_000
STEPS = 3


def _task(i: int, lines_per_task: int) -> dict:
    """A pipeline task with an embedded taskSpec of about `lines_per_task` YAML lines."""
    script_lines = max(1, (lines_per_task - 9 - STEPS * 8) // STEPS)  # ~9 lines of task, 8 per step + script
    steps = [{"name": f"s{k}", "image": f"registry.example/tools/t{k}:1.{i}",
              "env": [{"name": "MODE", "value": "ci"}, {"name": "TASK", "value": f"task-{i}"}],
              "script": "".join(f"echo task {i} step {k} line {n}\n" for n in range(script_lines))}
             for k in range(STEPS)]
    return {"name": f"task-{i}", "runAfter": [f"task-{i - 1}"] if i else [],
            "params": [{"name": "revision", "value": "$(params.revision)"}],
            "taskSpec": {"params": [{"name": "revision", "type": "string"}], "steps": steps}}


def pipelinerun(name: str, uid: str, t0: int, tasks: list[dict], revision: str) -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": "ci", "uid": uid, "resourceVersion": "10",
                         "creationTimestamp": format_time(t0), "labels": {"tekton.dev/pipeline": "big", "app": "web"},
                         "annotations": {"results.tekton.dev/record": f"ci/results/{uid}/records/{uid}"},
                         "managedFields": [{"manager": "controller", "operation": "Update"}]},
            "spec": {"pipelineRef": {"name": "big"}, "params": [{"name": "revision", "value": revision}],
                     "taskRunTemplate": {"serviceAccountName": "builder"}, "timeouts": {"pipeline": "1h"}},
            "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded",
                                       "lastTransitionTime": format_time(t0 + 3000)}],
                       "startTime": format_time(t0), "completionTime": format_time(t0 + 3000),
                       "pipelineSpec": {"params": [{"name": "revision"}], "tasks": tasks},
                       "childReferences": [{"kind": "TaskRun", "name": f"{name}-{t['name']}",
                                            "pipelineTaskName": t["name"]} for t in tasks]}}


def taskrun(pr: dict, task: dict, n: int, t0: int, took: int, digest: str) -> dict:
    name = f"{pr['metadata']['name']}-{task['name']}"
    start = t0 + n * 10
    return {"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
            "metadata": {"name": name, "namespace": "ci", "uid": f"{pr['metadata']['uid']}-{n:04d}", "resourceVersion": "11",
                         "creationTimestamp": format_time(start),
                         "labels": {"tekton.dev/pipeline": "big", "tekton.dev/pipelineRun": pr["metadata"]["name"],
                                    "tekton.dev/pipelineTask": task["name"]},
                         "ownerReferences": [{"kind": "PipelineRun", "name": pr["metadata"]["name"],
                                              "uid": pr["metadata"]["uid"], "controller": True}]},
            "spec": {"params": [{"name": "revision", "value": pr["spec"]["params"][0]["value"]}],
                     "taskSpec": task["taskSpec"]},
            "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded",
                                       "lastTransitionTime": format_time(start + took)}],
                       "startTime": format_time(start), "completionTime": format_time(start + took), "podName": name,
                       "taskSpec": task["taskSpec"],
                       "results": [{"name": "digest", "value": digest}],
                       "steps": [{"name": s["name"], "container": f"step-{s['name']}",
                                  "imageID": f"registry.example/tools/t{k}@sha256:{digest}{k}",
                                  "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": format_time(start),
                                                 "finishedAt": format_time(start + took // STEPS * (k + 1))}}
                                 for k, s in enumerate(task["taskSpec"]["steps"])]}}


def build_pair(n_tasks: int, spec_lines: int) -> tuple[list[dict], list[dict]]:
    """Run A and run B (a param changed, two scripts edited, a task swapped, three digests moved, slower)."""
    tasks_a = [_task(i, spec_lines // n_tasks) for i in range(n_tasks)]
    tasks_b = copy.deepcopy(tasks_a)
    for i in (3, 30):
        tasks_b[i]["taskSpec"]["steps"][1]["script"] += "echo one more line\n"
    tasks_b[40] = {**_task(40, spec_lines // n_tasks), "name": "task-40-new"}
    t_a, t_b = T0 - 100 * 86400, T0 + 5000  # around the 90 days a generated history spans (--history)
    a = pipelinerun("big-1", "00000000-0000-4000-8000-00000000000a", t_a, tasks_a, "r1")
    b = pipelinerun("big-2", "00000000-0000-4000-8000-00000000000b", t_b, tasks_b, "r2")
    trs_a = [taskrun(a, t, n, t_a, 60, f"{n:060x}") for n, t in enumerate(tasks_a)]
    trs_b = [taskrun(b, t, n, t_b, 60 + n, f"{n + (1 if n in (5, 6, 7) else 0):060x}") for n, t in enumerate(tasks_b)]
    return [a, *trs_a], [b, *trs_b]


def _timed(fn: Callable[[], object], rounds: int) -> tuple[list[float], object]:
    out, times = None, []
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, out


def _fmt(times: list[float]) -> str:
    s = sorted(times)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return f"median {statistics.median(s):7.1f} ms  p95 {p95:7.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--spec-lines", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--history", type=int, default=0, metavar="N",
                    help="also store N generated PipelineRuns around the pair and time --last-success")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or "sqlite:///" + str(Path(tmp) / "diff.db")
        db = open_database(url)
        h = History(db)
        side_a, side_b = build_pair(args.tasks, args.spec_lines)
        if args.history:
            _generated_history(h, args.history, tmp)
        h.apply([RunUpsert(o) for o in side_a + side_b])
        if args.history:
            h.optimize()
        ra = h.find_runs("big-1")[0]
        rb = h.find_runs("big-2")[0]
        spec_yaml = len(yaml_lines(side_a[0]["status"]["pipelineSpec"]))
        run_yaml = len(to_yaml_lines(side_a[0]))

        def structured() -> d.RunDiff:
            return d.diff_runs(side_of(h, ra), side_of(h, rb))

        t_diff, result = _timed(structured, args.rounds)
        assert isinstance(result, d.RunDiff)
        t_yaml, yd = _timed(lambda: yaml_diff(result.a.obj, result.b.obj, "a", "b"), args.rounds)
        assert isinstance(yd, d.YamlDiff)
        t_both, _ = _timed(lambda: (lambda r: yaml_diff(r.a.obj, r.b.obj, "a", "b"))(structured()), args.rounds)

        def raw() -> list[str]:
            ja = json.dumps(side_a[0], indent=2, sort_keys=True).splitlines()
            jb = json.dumps(side_b[0], indent=2, sort_keys=True).splitlines()
            return list(difflib.unified_diff(ja, jb, "a", "b", lineterm=""))

        t_raw, raw_lines = _timed(raw, args.rounds)
        assert isinstance(raw_lines, list)
        last: list[str] = []
        if args.history:
            t_last, found = _timed(lambda: last_success(h, rb), args.rounds)
            assert found is not None and found.run_name == "big-1", found
            last.append(f"  --last-success of big-2 (walks back past every generated run)  {_fmt(t_last)}")
            common = h.find_runs(_newest_run_name(h))[0]
            t_common, _ = _timed(lambda: last_success(h, common), args.rounds)
            last.append(f"  --last-success of the newest run of pipeline {common.pipeline:<11}       {_fmt(t_common)}")
        results, records = h.size()
        db.close()

    print(f"diff of two PipelineRuns, {args.tasks} TaskRuns each; pipelineSpec {spec_yaml} YAML lines, "
          f"the run {run_yaml} lines; {args.rounds} rounds on {url.split(':')[0]} ({results} Results, "
          f"{records} Records)")
    print(f"  changes {len(result.changes)}, tasks {len(result.tasks)}, YAML diff {len(yd.lines)} lines in "
          f"{len(yd.hunks)} hunks (raw JSON diff {len(raw_lines)} lines)")
    print(f"  structured diff (read both runs + children, compare)   {_fmt(t_diff)}")
    print(f"  unified YAML diff (dump both, difflib)                  {_fmt(t_yaml)}")
    print(f"  first screen (both, end to end)                         {_fmt(t_both)}   budget 200 ms")
    print(f"  raw baseline: difflib over the two runs' JSON texts     {_fmt(t_raw)}")
    ratio = statistics.median(t_both) / max(statistics.median(t_raw), 1e-6)
    print(f"  first screen / raw baseline: {ratio:.1f}x")
    for line in last:
        print(line)


def _generated_history(h: History, runs: int, tmp: str) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import store_bench as sb  # the same generated history as the store benchmark

    t = time.perf_counter()
    batches = sb.generate(runs, 7)
    dumps = sb.write_dumps(batches, str(Path(tmp) / "dump.json"), "compact")
    del batches
    sb.build_store(h, dumps)
    print(f"(built {runs} generated PipelineRuns in {time.perf_counter() - t:.0f} s)")


def _newest_run_name(h: History) -> str:
    page = h.list_records("kind:pipelinerun -pipeline:big", limit=1)
    return page.items[0].run_name


if __name__ == "__main__":
    main()
