"""Builders of small run histories with known answers for the insights tests (plain dicts, as the API returns them)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, RunUpsert

T0 = 1_780_000_000  # the tests' "now" (2026-05-28, a Thursday)
_ids = itertools.count(1)

CONDITIONS = {  # outcome -> (condition status, reason)
    "ok": ("True", "Succeeded"), "fail": ("False", "Failed"), "timeout": ("False", "PipelineRunTimeout"),
    "cancel": ("False", "PipelineRunCancelled"), "running": ("Unknown", "Running"), "none": (None, None),
}
TR_REASONS = {"timeout": "TaskRunTimeout", "cancel": "TaskRunCancelled"}


def new_uid() -> str:
    return str(uuid.UUID(int=next(_ids) + (2 << 100)))


def _status(outcome: str, start: int | None, end: int | None, kind: str) -> dict[str, Any]:
    cstatus, reason = CONDITIONS[outcome]
    if kind == "TaskRun":
        reason = TR_REASONS.get(outcome, reason)
    st: dict[str, Any] = {}
    if cstatus is not None:
        st["conditions"] = [{"type": "Succeeded", "status": cstatus, "reason": reason, "message": "",
                             "lastTransitionTime": format_time(end or start or T0)}]
    if start is not None:
        st["startTime"] = format_time(start)
    if end is not None and cstatus in ("True", "False"):
        st["completionTime"] = format_time(end)
    return st


def pipelinerun(name: str, outcome: str = "ok", *, created: int, start: int | None = None, end: int | None = None,
                pipeline: str | None = "build", ns: str = "ci", revision: str | None = None,
                labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
                params: list[dict] | None = None, spec_tasks: list[dict] | None = None,
                finally_tasks: list[dict] | None = None, skipped: list[str] | None = None) -> dict:
    lab = {"tekton.dev/pipeline": pipeline} if pipeline else {}
    lab.update(labels or {})
    ps = list(params or [])
    if revision is not None:
        ps.append({"name": "revision", "value": revision})
    status = _status(outcome, start, end, "PipelineRun")
    if spec_tasks is not None:
        status["pipelineSpec"] = {"tasks": spec_tasks, **({"finally": finally_tasks} if finally_tasks else {})}
    if skipped:
        status["skippedTasks"] = [{"name": s, "reason": "When Expressions evaluated to false"} for s in skipped]
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": ns, "uid": new_uid(), "resourceVersion": "10",
                         "creationTimestamp": format_time(created), "labels": lab, "annotations": dict(annotations or {})},
            "spec": {"pipelineRef": {"name": pipeline or "inline"}, "params": ps}, "status": status}


def taskrun(parent: dict | None, ptask: str, outcome: str = "ok", *, created: int, start: int | None = None,
            end: int | None = None, task: str | None = None, steps: list[tuple] | None = None,
            retries: int | None = None, failed_attempts: int = 0, name: str | None = None, ns: str = "ci") -> dict:
    """A TaskRun of `parent` (None: standalone). steps: (name, start, end|None) tuples."""
    lab: dict[str, str] = {"tekton.dev/pipelineTask": ptask, "tekton.dev/task": task or ptask}
    meta: dict[str, Any] = {"name": name or (f"{parent['metadata']['name']}-{ptask}" if parent else ptask),
                            "namespace": parent["metadata"]["namespace"] if parent else ns, "uid": new_uid(),
                            "resourceVersion": "11", "creationTimestamp": format_time(created), "labels": lab}
    if parent is not None:
        lab.update({k: v for k, v in parent["metadata"]["labels"].items() if k.startswith("tekton.dev/pipeline")})
        lab["tekton.dev/pipelineRun"] = parent["metadata"]["name"]
        meta["ownerReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": parent["metadata"]["name"],
                                    "uid": parent["metadata"]["uid"], "controller": True}]
    status = _status(outcome, start, end, "TaskRun")
    if steps is not None:
        status["steps"] = []
        for sname, s0, s1 in steps:
            st: dict[str, Any] = {"name": sname, "container": f"step-{sname}"}
            if s1 is not None:
                st["terminated"] = {"exitCode": 0, "reason": "Completed", "startedAt": format_time(s0),
                                    "finishedAt": format_time(s1)}
            elif s0 is not None:
                st["running"] = {"startedAt": format_time(s0)}
            else:
                st["waiting"] = {"reason": "PodInitializing"}
            status["steps"].append(st)
    if failed_attempts:
        status["retriesStatus"] = [{"conditions": [{"type": "Succeeded", "status": "False", "reason": "Failed"}]}
                                   for _ in range(failed_attempts)]
    spec: dict[str, Any] = {"taskRef": {"name": task or ptask}}
    if retries is not None:
        spec["retries"] = retries
    return {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": meta, "spec": spec, "status": status}


def store(h: History, *objs: dict) -> None:
    h.apply([RunUpsert(o) for o in objs])
