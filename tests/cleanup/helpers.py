"""Builders for runs in the simulated cluster and a "watcher" that stores what the cluster holds."""

from __future__ import annotations

from tekton_results_tui.settings import Settings
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store.history import Gone, History, RunUpsert

from simkit import wait_for  # noqa: F401 - re-exported for the cleanup tests

CLUSTER = "sim"
T_START = "2026-01-01T00:00:00Z"


def cond(status: str, reason: str, at: str = "2026-01-01T00:05:00Z") -> list[dict]:
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": reason, "lastTransitionTime": at}]


def done(reason: str = "Succeeded", end: str = "2026-01-01T00:05:00Z") -> dict:
    ok = reason in ("Succeeded", "Completed")
    return {"startTime": T_START, "completionTime": end, "conditions": cond("True" if ok else "False", reason, end)}


def running() -> dict:
    return {"startTime": T_START, "conditions": cond("Unknown", "Running")}


def make_run(sim: SimCluster, name: str, ns: str = "ci", *, pipeline: str = "build", tasks: int = 2,
             pr_status: dict | None = None, tr_status: list[dict] | dict | None = None,
             labels: dict[str, str] | None = None) -> tuple[dict, list[dict]]:
    """A PipelineRun with `tasks` child TaskRuns in the sim; finished (Succeeded) unless told otherwise."""
    pr = sim.create("pipelineruns", {
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": name, "namespace": ns, "labels": {"tekton.dev/pipeline": pipeline, **(labels or {})}},
        "spec": {"pipelineRef": {"name": pipeline}}})
    kids = []
    for k in range(tasks):
        st = tr_status[k] if isinstance(tr_status, list) else (tr_status or done())
        kids.append(sim.create("taskruns", {
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
            "metadata": {"name": f"{name}-t{k}", "namespace": ns,
                         "labels": {"tekton.dev/pipeline": pipeline, "tekton.dev/pipelineRun": name,
                                    "tekton.dev/pipelineTask": f"t{k}", **(labels or {})},
                         "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": name,
                                              "uid": pr["metadata"]["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"taskRef": {"name": f"t{k}"}}, "status": st}))
    st = dict(pr_status or done())
    st["childReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": k["metadata"]["name"],
                              "pipelineTaskName": f"t{k_i}"} for k_i, k in enumerate(kids)]
    pr = sim.patch_status("pipelineruns", ns, name, st)
    return pr, kids


def store(history: History, *objs: dict) -> None:
    """What the watcher would do on seeing these objects."""
    history.apply([RunUpsert(o) for o in objs], cluster=CLUSTER)


def store_live(history: History, sim: SimCluster, ns: str, *names: tuple[str, str]) -> None:
    """Store the objects as the cluster holds them now ((kind, name) pairs)."""
    objs = [sim.get(kind, ns, name) for kind, name in names]
    history.apply([RunUpsert(o) for o in objs if o is not None], cluster=CLUSTER)


def store_run(history: History, pr: dict, kids: list[dict]) -> None:
    store(history, pr, *kids)


def mark_gone(history: History, *objs: dict) -> None:
    history.apply([Gone(o["metadata"]["uid"]) for o in objs], cluster=CLUSTER)


def settings(kubeconfig: str, **kw) -> Settings:
    """Watcher settings for the sim (no annotations, no log or event capture) with overrides."""
    return Settings.of(db_url="unused", kubeconfig=kubeconfig, context="sim", cluster_name=CLUSTER, annotate=False,
                       capture_logs=False, capture_events=False, **kw)


def writes(sim: SimCluster) -> list:
    """Every request that could change the cluster."""
    return [r for r in sim.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")
            and r.resource != "selfsubjectaccessreviews"]
