"""One fixed history and one app factory for every TUI test and snapshot (fixed clock, fixed data).

`build_runs(n, seed)` makes realistic PipelineRun/TaskRun objects (deterministic uids and
times), `fill_history(history, ...)` applies them with logs and events through the store
API. scripts/screenshots.py uses the same builders.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import Events, Gone, History, Logs, RunUpsert, StepLogData

from tuikit import pilot_settles_store_reads  # noqa: F401 - autouse fixture: Pilot waits settle store reads

T0 = 1_780_000_000  # the fixed "now" of every TUI test (2026-05-28)
SIZE = (120, 36)

NAMESPACES = ("ci", "dev", "release")
PIPELINES = ("build", "deploy", "nightly-e2e", "lint")
TASKS = ("git-clone", "golang-build", "unit-test", "image-push", "deploy")
TRICKY = ("build [linux]", "step [/x]", "déploiement-ü-🚀")  # markup-looking and unicode names


def det_uid(seed: int, *parts: Any) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/" + "/".join(map(str, parts))))


def _cond(status: str | None, reason: str | None, at: int, message: str = "") -> list[dict]:
    if status is None:
        return []
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": message or f"{reason}",
             "lastTransitionTime": format_time(at)}]


OUTCOMES = [("True", "Succeeded")] * 6 + [("False", "Failed"), ("False", "PipelineRunTimeout"),
                                          ("False", "Cancelled"), ("Unknown", "Running")]


def make_pipelinerun(seed: int, i: int, *, name: str, ns: str, pipeline: str, created: int, outcome: tuple,
                     rv: int = 10, n_tasks: int = 3) -> tuple[dict, list[dict]]:
    """A PipelineRun and its TaskRuns (a failed run fails in its last task)."""
    cond, reason = outcome
    uid = det_uid(seed, "pr", i)
    start = created + 2
    running = cond == "Unknown"
    end = None if running else start + 30 + (i * 37) % 600
    labels = {"tekton.dev/pipeline": pipeline, "tekton.dev/pipelineRun": name, "app": "web" if i % 2 else "api"}
    pr = {
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": name, "namespace": ns, "uid": uid, "resourceVersion": str(rv),
                     "creationTimestamp": format_time(created), "labels": labels, "annotations": {}},
        "spec": {"pipelineRef": {"name": pipeline}, "params": [{"name": "revision", "value": f"v1.{i}"}]},
        "status": {"conditions": _cond(cond, reason, end or start, f"Tasks Completed: {n_tasks}"),
                   "startTime": format_time(start)},
    }
    if end is not None:
        pr["status"]["completionTime"] = format_time(end)
    trs = []
    t = start
    for k in range(n_tasks):
        task = TASKS[k % len(TASKS)]
        tname = f"{name}-{task}"
        last = k == n_tasks - 1
        if running and last:
            tcond, treason, tend = "Unknown", "Running", None
        elif cond == "False" and last:
            tcond, treason = "False", {"Failed": "StepFailed", "PipelineRunTimeout": "TaskRunTimeout",
                                       "Cancelled": "TaskRunCancelled"}.get(reason, "Failed")
            tend = t + 20
        else:
            tcond, treason, tend = "True", "Succeeded", t + 5 + (i + k) % 40
        tr = {
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
            "metadata": {"name": tname, "namespace": ns, "uid": det_uid(seed, "tr", i, k), "resourceVersion": str(rv),
                         "creationTimestamp": format_time(t),
                         "labels": {"tekton.dev/pipeline": pipeline, "tekton.dev/pipelineRun": name,
                                    "tekton.dev/task": task, "tekton.dev/pipelineTask": task},
                         "annotations": {},
                         "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": name,
                                              "uid": uid, "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"taskRef": {"name": task, "kind": "Task"}, "serviceAccountName": "default"},
            "status": {"conditions": _cond(tcond, treason, tend or t), "startTime": format_time(t),
                       "podName": f"{tname}-pod",
                       "steps": [{"name": "prepare", "container": "step-prepare"},
                                 {"name": "run", "container": "step-run"}]},
        }
        if tend is not None:
            tr["status"]["completionTime"] = format_time(tend)
        trs.append(tr)
        t = (tend or t) + 1
    return pr, trs


def build_runs(n: int = 120, seed: int = 7, now: int = T0) -> list[tuple[dict, list[dict]]]:
    """n PipelineRuns over the last ~2 days, newest last; a few with tricky names; fixed outcomes."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        created = now - (n - i) * 1200 - rnd.randint(0, 600)
        pipeline = PIPELINES[i % len(PIPELINES)]
        ns = NAMESPACES[(i // 2) % len(NAMESPACES)]
        name = f"{pipeline}-run-{i:04d}"
        if i >= n - len(TRICKY):
            name = TRICKY[i - (n - len(TRICKY))]
        outcome = OUTCOMES[rnd.randrange(len(OUTCOMES))] if i < n - 6 else OUTCOMES[(n - i) % len(OUTCOMES)]
        if i == n - 5:
            outcome = ("False", "Failed")  # a failed run near the top, for the expanded-run shots
        out.append(make_pipelinerun(seed, i, name=name, ns=ns, pipeline=pipeline, created=created, outcome=outcome))
    return out


def log_text(tr: dict) -> bytes:
    name = tr["metadata"]["name"]
    lines = [f"\x1b[32m+\x1b[0m cloning into /workspace/{name}", "go: downloading example.com/mod v1.2.3",
             "ok  \texample.com/pkg  0.42s", "[/x] not markup, [bold]not bold[/bold]"]
    if tr["status"]["conditions"] and tr["status"]["conditions"][0]["status"] == "False":
        lines += ["--- FAIL: TestThing (0.01s)", "    thing_test.go:12: expected 2, got 3", "FAIL"]
    return ("\n".join(lines) + "\n").encode()


def fill_history(history: History, n: int = 120, seed: int = 7, now: int = T0, gone_every: int = 5) -> None:
    """Apply build_runs() with step logs, events, and some runs marked gone from the cluster."""
    runs = build_runs(n, seed, now)
    changes: list = []
    for i, (pr, trs) in enumerate(runs):
        changes.append(RunUpsert(pr))
        changes.extend(RunUpsert(tr) for tr in trs)
        if pr["status"]["conditions"][0]["status"] != "Unknown" and i % 3 == 0:
            for tr in trs:
                changes.append(Logs(tr, [StepLogData("prepare", "step-prepare", b"prepared\n"),
                                         StepLogData("run", "step-run", log_text(tr))]))
            changes.append(Events(pr, [{"type": "Normal", "reason": "Started", "message": "PipelineRun started",
                                        "involvedObject": {"kind": "PipelineRun", "name": pr["metadata"]["name"],
                                                           "uid": pr["metadata"]["uid"]},
                                        "lastTimestamp": pr["status"]["startTime"], "count": 1}]))
    history.apply(changes)
    gone = [Gone(pr["metadata"]["uid"], at=now - 3600) for i, (pr, _) in enumerate(runs[: n - 10]) if i % gone_every == 0]
    gone += [Gone(tr["metadata"]["uid"], at=now - 3600) for i, (_, trs) in enumerate(runs[: n - 10])
             if i % gone_every == 0 for tr in trs]
    history.apply(gone)


SIX_TASKS = "release-six-tasks"


def add_six_task_run(history: History, seed: int = 7, now: int = T0) -> None:
    """A failed PipelineRun with six TaskRuns (a Summary's TaskRuns table at full size), newest of all."""
    pr, trs = make_pipelinerun(seed, 500, name=SIX_TASKS, ns="release", pipeline="release-train",
                               created=now - 300, outcome=("False", "Failed"), n_tasks=6)
    history.apply([RunUpsert(pr), *[RunUpsert(tr) for tr in trs]])


@pytest.fixture
def fixed_clock() -> Callable[[], float]:
    return lambda: float(T0)


def write_fixed_db(path: Path) -> Path:
    """A SQLite history at `path` filled with the fixed data."""
    db = open_database("sqlite:///" + str(path))
    fill_history(History(db, clock=lambda: T0))
    db.close()
    return path


@contextmanager
def fixed_histories(path: Path) -> Iterator[Callable[[bool], History]]:
    """open(read_only) -> a History on the file at `path` with the fixed clock; all closed on exit."""
    opened = []

    def open_history(read_only: bool = False) -> History:
        db = open_database("sqlite:///" + str(path), read_only=read_only)
        opened.append(db)
        return History(db, read_only=read_only, clock=lambda: T0)

    try:
        yield open_history
    finally:
        for db in opened:
            db.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A SQLite history filled with the fixed data."""
    return write_fixed_db(tmp_path / "history.db")


@pytest.fixture
def make_app(db_path: Path):
    """Factory: the app on the fixed history (writable unless read_only), fixed clock, no live thread unless asked."""
    from tekton_results_tui.tui.app import ResultsApp

    with fixed_histories(db_path) as open_history:

        def factory(read_only: bool = False, live: bool = False, watcher_note=None, **kw: Any) -> ResultsApp:
            return ResultsApp(open_history(read_only), read_only=read_only, clock=lambda: float(T0), live=live,
                              watcher_note=watcher_note, **kw)

        yield factory
