"""The Records the watcher builds about a run rather than copies from the cluster: its Log
(which step logs were captured, how big, whether cut) and its EventList (the Kubernetes events
about it). Pure functions of the run's classification, shaped as Tekton Results stores them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tekton_results_tui import kinds
from tekton_results_tui.store.grouping import RunInfo, derived_uid, parse_rv

if TYPE_CHECKING:
    from tekton_results_tui.store.changes import StepLogData


def log_document(info: RunInfo, steps: list[StepLogData]) -> dict[str, Any]:
    """The Log record of a TaskRun: Tekton Results' v1alpha3 Log, plus per-step size and state."""
    api_version, kind = kinds.LOG.record_type.rsplit(".", 1)
    return {
        "kind": kind, "apiVersion": api_version,
        "metadata": {"uid": derived_uid(info.uid, kind), "namespace": info.namespace, "name": f"{info.name}-log"},
        "spec": {"resource": {"kind": info.kind, "namespace": info.namespace, "name": info.name, "uid": info.uid},
                 "type": "File"},
        "status": {"path": f"{info.namespace}/{info.uid}/{info.name}-log", "size": sum(len(s.text) for s in steps),
                   "steps": [{"name": s.step, "container": s.container, "size": len(s.text),
                              "truncated": s.truncated, "state": s.state} for s in steps]},
    }


def events_version(items: list[dict]) -> int:
    """An EventList's resourceVersion: its newest event's (a later list replaces an older one)."""
    return max((parse_rv((e.get("metadata") or {}).get("resourceVersion")) for e in items), default=0)


def event_list_document(items: list[dict]) -> dict[str, Any]:
    api_version, kind = kinds.EVENT_LIST.record_type.rsplit(".", 1)
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": str(events_version(items))},
            "items": items}
