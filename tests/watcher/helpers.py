"""Helpers for the watcher tests: object builders, deadline polling, store-vs-cluster comparison."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.models import Record


def pr(name: str, ns: str = "ci", **meta: Any) -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": ns, "labels": {"tekton.dev/pipeline": "p"}, **meta},
            "spec": {"pipelineRef": {"name": "p"}}}


def tr(name: str, parent: dict, ns: str = "ci", status: dict | None = None) -> dict:
    obj = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
           "metadata": {"name": name, "namespace": ns,
                        "labels": {"tekton.dev/pipelineRun": parent["metadata"]["name"], "tekton.dev/pipelineTask": "build"},
                        "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "controller": True,
                                             "name": parent["metadata"]["name"], "uid": parent["metadata"]["uid"]}]},
           "spec": {"taskRef": {"name": "t"}}}
    if status is not None:
        obj["status"] = status
    return obj


def done_status(reason: str = "Succeeded", pod: str | None = None, steps: list[str] | None = None) -> dict:
    ok = reason in ("Succeeded", "Completed")
    st: dict[str, Any] = {"startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:01:00Z",
                          "conditions": [{"type": "Succeeded", "status": "True" if ok else "False", "reason": reason,
                                          "message": "", "lastTransitionTime": "2026-01-01T00:01:00Z"}]}
    if pod:
        st["podName"] = pod
        st["steps"] = [{"name": s, "container": f"step-{s}", "terminated": {"exitCode": 0, "reason": "Completed"}}
                       for s in steps or []]
    return st


def wait_for(pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll a predicate until true (for store state, which has no event to await)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def stored_runs(cluster: str = "sim") -> dict[str, tuple[int, str, bool]]:
    """uid -> (rv, status, in_cluster) of every stored PipelineRun/TaskRun record."""
    q = Record.select(Record.uid, Record.rv, Record.status, Record.in_cluster).where(
        (Record.cluster == cluster) & (Record.kind << list(g.RUN_KINDS)))
    return {u: (int(rv), st, bool(ic)) for u, rv, st, ic in q.tuples()}


def cluster_runs(sim: SimCluster) -> dict[str, tuple[int, str]]:
    out = {}
    for kind in ("pipelineruns", "taskruns"):
        for o in sim.list_objects(kind):
            out[o["metadata"]["uid"]] = (int(o["metadata"]["resourceVersion"]), g.status_of(o).status)
    return out


def differences(sim: SimCluster, cluster: str = "sim") -> list[str]:
    """What the store gets wrong about the cluster: missing, stale or wrongly gone runs (empty = converged)."""
    live = cluster_runs(sim)
    stored = stored_runs(cluster)
    out = []
    for uid, (rv, st) in live.items():
        got = stored.get(uid)
        if got is None:
            out.append(f"missing {uid}")
        elif got[0] != rv or got[1] != st or not got[2]:
            out.append(f"{uid}: stored rv={got[0]} {got[1]} in_cluster={got[2]}, cluster rv={rv} {st}")
    for uid, (_, _, ic) in stored.items():
        if uid not in live and ic:
            out.append(f"{uid} left the cluster but is stored as in_cluster")
    return out


def converged(sim: SimCluster, cluster: str = "sim") -> bool:
    return not differences(sim, cluster)
