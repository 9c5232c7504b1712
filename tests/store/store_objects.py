"""Builders of realistic Tekton run objects for the store tests (plain dicts, as the API returns them)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from tekton_results_tui.store.grouping import format_time

T0 = 1_780_000_000  # a fixed "now" for the tests (2026-05-28)
_counter = itertools.count(1)


def new_uid() -> str:
    return str(uuid.UUID(int=next(_counter) + (1 << 100)))


def condition(status: str | None, reason: str | None, at: int) -> list[dict]:
    if status is None:
        return []
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": f"{reason or ''} message",
             "lastTransitionTime": format_time(at)}]


def run(kind: str, name: str, *, ns: str = "ci", uid: str | None = None, rv: int = 1, cond: str | None = "True",
        reason: str | None = "Succeeded", created: int = T0 - 600, start: int | None = None, end: int | None = None,
        labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
        owner: dict | None = None, api: str = "tekton.dev/v1", pipeline: str | None = "build",
        task: str | None = None, pipeline_task: str | None = None) -> dict:
    """A PipelineRun or TaskRun; `owner` is the parent PipelineRun object (adds an ownerReference)."""
    uid = uid or new_uid()
    start = created + 1 if start is None else start
    if end is None and cond in ("True", "False"):
        end = start + 120
    lab: dict[str, str] = {}
    if pipeline:
        lab["tekton.dev/pipeline"] = pipeline
        lab["tekton.dev/pipelineRun"] = owner["metadata"]["name"] if owner else name
    if kind == "TaskRun":
        if task:
            lab["tekton.dev/task"] = task
        if pipeline_task:
            lab["tekton.dev/pipelineTask"] = pipeline_task
    lab.update(labels or {})
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": str(rv),
                            "creationTimestamp": format_time(created), "labels": lab,
                            "annotations": dict(annotations or {})}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                    "controller": True, "blockOwnerDeletion": True}]
    status: dict[str, Any] = {"conditions": condition(cond, reason, end or start), "startTime": format_time(start)}
    if end is not None:
        status["completionTime"] = format_time(end)
    spec: dict[str, Any]
    if kind == "PipelineRun":
        spec = {"pipelineRef": {"name": pipeline or "build"}, "params": [{"name": "revision", "value": "main"}]}
    else:
        spec = {"taskRef": {"name": task or "golang-build", "kind": "Task"}, "serviceAccountName": "default"}
        status["podName"] = f"{name}-pod"
        status["steps"] = [{"name": "build", "container": "step-build"}, {"name": "test", "container": "step-test"}]
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec, "status": status}


def pr(name: str, **kw: Any) -> dict:
    return run("PipelineRun", name, **kw)


def tr(name: str, parent: dict | None = None, **kw: Any) -> dict:
    if parent is not None:
        kw.setdefault("ns", parent["metadata"]["namespace"])
        kw.setdefault("pipeline", (parent["metadata"].get("labels") or {}).get("tekton.dev/pipeline"))
    kw.setdefault("task", "golang-build")
    return run("TaskRun", name, owner=parent, **kw)


def bump(obj: dict, rv: int, **status_changes: Any) -> dict:
    """A copy with a new resourceVersion (and optionally a new Succeeded condition)."""
    import copy

    o = copy.deepcopy(obj)
    o["metadata"]["resourceVersion"] = str(rv)
    if "cond" in status_changes:
        at = status_changes.get("at", T0)
        o["status"]["conditions"] = condition(status_changes["cond"], status_changes.get("reason"), at)
        if status_changes["cond"] in ("True", "False"):
            o["status"]["completionTime"] = format_time(at)
        else:
            o["status"].pop("completionTime", None)
    return o
