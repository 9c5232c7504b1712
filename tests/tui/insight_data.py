"""Fixed runs for the insight screens' tests and snapshots: a pipeline with a spec (runAfter, finally,
a skipped task), step times, queued TaskRuns, a failed run, a running run whose ETA rests on three
earlier successes, and two runs of one revision with different outcomes (flaky)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData

from .conftest import T0, det_uid, fixed_histories, write_fixed_db

PIPELINE = "release-train"
NS = "release"
FAILED_RUN = "release-train-failed"
RUNNING_RUN = "release-train-running"
SEED = 77

# task -> runAfter
TASKS = [("fetch-source", []), ("build-image", ["fetch-source"]), ("lint", ["fetch-source"]),
         ("unit-test", ["build-image"]), ("push-image", ["unit-test", "lint"])]
FINALLY = ["report"]
STEPS = {"fetch-source": ["clone"], "build-image": ["prepare", "build", "digest"], "lint": ["golangci"],
         "unit-test": ["setup", "go-test"], "push-image": ["push"], "report": ["notify"]}


def _cond(status: str, reason: str, at: int) -> list[dict]:
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": reason,
             "lastTransitionTime": format_time(at)}]


def _spec() -> dict:
    return {"tasks": [{"name": n, "runAfter": deps, "taskRef": {"name": n}} for n, deps in TASKS],
            "finally": [{"name": n, "taskRef": {"name": n}} for n in FINALLY]}


def _taskrun(i: int, pr_name: str, pr_uid: str, task: str, created: int, start: int | None, end: int | None,
             ok: bool | None, revision: str) -> dict:
    name = f"{pr_name}-{task}"
    steps: list[dict] = []
    if start is not None:
        names = STEPS[task]
        stop = end if end is not None else None
        span = ((stop if stop is not None else start + 60 * len(names)) - start) // len(names)
        t = start
        for k, s in enumerate(names):
            last = k == len(names) - 1
            if stop is None and last:
                steps.append({"name": s, "container": f"step-{s}", "running": {"startedAt": format_time(t)}})
                break
            fin = stop if last and stop is not None else t + span
            code = 1 if (ok is False and last) else 0
            steps.append({"name": s, "container": f"step-{s}", "imageID": f"docker.io/x/{s}@sha256:{k:064d}",
                          "terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                         "startedAt": format_time(t), "finishedAt": format_time(fin)}})
            t = fin
    status: dict[str, Any] = {"podName": f"{name}-pod", "steps": steps}
    if start is not None:
        status["startTime"] = format_time(start)
    if ok is None:
        status["conditions"] = _cond("Unknown", "Running" if start is not None else "Pending", start or created)
    else:
        status["conditions"] = _cond("True" if ok else "False", "Succeeded" if ok else "Failed", end or created)
        status["completionTime"] = format_time(end or created)
    return {
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": NS, "uid": det_uid(SEED, "tr", i, task), "resourceVersion": "5",
                     "creationTimestamp": format_time(created),
                     "labels": {"tekton.dev/pipeline": PIPELINE, "tekton.dev/pipelineRun": pr_name,
                                "tekton.dev/task": task, "tekton.dev/pipelineTask": task},
                     "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": pr_name,
                                          "uid": pr_uid, "controller": True}]},
        "spec": {"taskRef": {"name": task}, "params": [{"name": "revision", "value": revision}]},
        "status": status,
    }


def pipelinerun(i: int, name: str, created: int, plan: dict[str, tuple[int, int | None, bool | None]],
                outcome: bool | None, revision: str, skipped: dict[str, str] | None = None,
                image: str = "registry.example/app:v1") -> tuple[dict, list[dict]]:
    """plan: task -> (offset of its start from the run's start, its end offset or None, ok or None)."""
    uid = det_uid(SEED, "pr", i)
    start = created + 3
    ends = [start + e for _, e, _ in plan.values() if e is not None]
    end = max(ends) + 2 if outcome is not None and ends else None
    trs = [_taskrun(i, name, uid, task, start + s - 4, start + s, start + e if e is not None else None, ok, revision)
           for task, (s, e, ok) in plan.items()]
    status: dict[str, Any] = {"startTime": format_time(start), "pipelineSpec": _spec(),
                              "childReferences": [{"name": f"{name}-{t}", "pipelineTaskName": t, "kind": "TaskRun"}
                                                  for t in plan]}
    if skipped:
        status["skippedTasks"] = [{"name": n, "reason": why} for n, why in skipped.items()]
    if outcome is None:
        status["conditions"] = _cond("Unknown", "Running", start)
    else:
        status["conditions"] = _cond("True" if outcome else "False", "Succeeded" if outcome else "Failed", end or start)
        status["completionTime"] = format_time(end or start)
    pr = {
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": name, "namespace": NS, "uid": uid, "resourceVersion": "5",
                     "creationTimestamp": format_time(created),
                     "labels": {"tekton.dev/pipeline": PIPELINE, "tekton.dev/pipelineRun": name, "team": "payments"},
                     "annotations": {}},
        "spec": {"pipelineRef": {"name": PIPELINE}, "timeouts": {"pipeline": "1h0m0s"},
                 "params": [{"name": "revision", "value": revision}, {"name": "image", "value": image}]},
        "status": status,
    }
    return pr, trs


def _success_plan(scale: float) -> dict[str, tuple[int, int | None, bool | None]]:
    def s(x: float) -> int:
        return int(x * scale)
    return {"fetch-source": (0, s(40), True), "build-image": (s(45), s(400), True), "lint": (s(45), s(120), True),
            "unit-test": (s(405), s(600), True), "push-image": (s(605), s(640), True), "report": (s(645), s(660), True)}


def add_insight_runs(history: History, now: int = T0) -> None:
    """Three successes (11-12 min) of release-train, a failed run on the same revision as the newest
    success (flaky), and a run started 5 minutes ago that is still running."""
    runs = []
    for k, scale in enumerate((1.0, 1.1, 0.95)):
        runs.append(pipelinerun(k, f"release-train-ok-{k}", now - 20_000 + k * 3000, _success_plan(scale), True,
                                revision=f"abc{k}"))
    failed_plan = {"fetch-source": (0, 40, True), "build-image": (45, 400, True), "lint": (45, 120, True),
                   "unit-test": (405, 700, False), "report": (710, 730, True)}
    runs.append(pipelinerun(3, FAILED_RUN, now - 3000, failed_plan, False, revision="abc2",
                            skipped={"push-image": "Parent Tasks were failed"}, image="registry.example/app:v2"))
    running_plan = {"fetch-source": (0, 40, True), "build-image": (45, None, None), "lint": (45, 110, True)}
    runs.append(pipelinerun(4, RUNNING_RUN, now - 303, running_plan, None, revision="abc4"))
    changes: list = []
    for pr, trs in runs:
        changes.append(RunUpsert(pr))
        changes.extend(RunUpsert(tr) for tr in trs)
    pr, trs = runs[3]
    for tr in trs:
        steps = [s["name"] for s in tr["status"]["steps"]]
        data = [StepLogData(s, f"step-{s}", _log(tr["metadata"]["name"], s, tr)) for s in steps]
        changes.append(Logs(tr, data))
    history.apply(changes)


def insight_apps(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """For a fixture to `yield from`: new ResultsApps (fixed clock, not live) over the fixed history
    plus these runs, written under tmp_path."""
    path = write_fixed_db(tmp_path / "history.db")
    db = open_database("sqlite:///" + str(path))
    add_insight_runs(History(db, clock=lambda: T0))
    db.close()
    from tekton_results_tui.tui.app import ResultsApp

    with fixed_histories(path) as open_history:
        yield lambda: ResultsApp(open_history(False), clock=lambda: float(T0), live=False)


def _log(run: str, step: str, tr: dict) -> bytes:
    failed = tr["status"]["conditions"][0]["status"] == "False"
    lines = [f"step {step} of {run}", "go: downloading example.com/mod v1.2.3"]
    if failed and step == STEPS["unit-test"][-1]:
        lines += ["=== RUN   TestCheckout", "--- FAIL: TestCheckout (0.02s)",
                  "    checkout_test.go:41: connection refused: payments-db:5432", "FAIL"]
    return ("\n".join(lines) + "\n").encode()
