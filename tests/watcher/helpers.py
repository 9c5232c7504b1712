"""Helpers for the watcher tests: object builders (polling and the store-vs-cluster
comparison are simkit's, re-exported)."""

from __future__ import annotations

from typing import Any

from simkit import converged, differences, stored_runs, wait_for  # noqa: F401 - re-exported for the watcher tests


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
