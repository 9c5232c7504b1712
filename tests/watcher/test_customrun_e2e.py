"""CustomRun end to end on the simulated cluster, with the real kubernetes client, the real watcher and cleanup:
watched at tekton.dev/v1beta1, stored under its PipelineRun's Result as a `tekton.dev/v1beta1.CustomRun` record,
and deleted from the cluster only once its final state is stored at the live resourceVersion."""

from __future__ import annotations

import subprocess
import sys

from tekton_results_tui.kinds import CUSTOM_RUN
from tekton_results_tui.sim import SimCluster, Workload, objects
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.watcher.cleanup import DELETED, ResultTarget, execute, plan
from tekton_results_tui.watcher.kube import load_target
from tekton_results_tui.watcher.status import LIVE

from .helpers import converged, differences, done_status, pr, tr, wait_for

CLUSTER = "sim"
RECORD_TYPE = "tekton.dev/v1beta1.CustomRun"


def custom_run(sim: SimCluster, parent: dict, custom: str = "wait", status: dict | None = None) -> dict:
    """A CustomRun owned by `parent`, as Tekton creates it for a custom pipeline task; running unless told."""
    name = parent["metadata"]["name"]
    sim.create("customruns", objects.customrun(parent["metadata"]["namespace"], name, parent["metadata"]["uid"], "p", custom))
    cr_name = f"{name}-{custom}"
    return sim.patch_status("customruns", parent["metadata"]["namespace"], cr_name,
                            status or objects.cr_status(cr_name, custom, 1_700_000_000, 1_700_000_000, None))


def finished_custom(name: str, reason: str = "Succeeded", custom: str = "wait") -> dict:
    return objects.cr_status(name, custom, 1_700_000_000, 1_700_000_060, reason)


def test_customrun_is_watched_and_stored_under_its_pipelineruns_result(sim, make_service, history):
    svc = make_service(capture_events=False)
    svc.start()
    wait_for(lambda: svc.status().state == LIVE, what="the watcher live")
    p = sim.create("pipelineruns", pr("gate"))
    cr = custom_run(sim, p)
    uid = cr["metadata"]["uid"]
    wait_for(lambda: history.get_record(uid=uid) is not None, what="the running CustomRun stored")
    assert not history.get_record(uid=uid).final
    sim.patch_status("customruns", "ci", "gate-wait", finished_custom("gate-wait"))
    sim.patch_status("pipelineruns", "ci", "gate", done_status())

    def stored_and_marked() -> bool:  # the watcher writes its annotations back, then stores that version too
        ann = sim.get("customruns", "ci", "gate-wait")["metadata"].get("annotations") or {}
        return ann.get("results.tekton.dev/stored") == "true" and converged(sim) and history.get_record(uid=uid).final

    wait_for(stored_and_marked, what="the final CustomRun stored and annotated: " + "; ".join(differences(sim)[:3]))
    rec = history.get_record(uid=uid)
    parent = history.get_record(uid=p["metadata"]["uid"])
    assert (rec.type, rec.kind, rec.status, rec.top_level) == (RECORD_TYPE, "CustomRun", "SUCCESS", False)
    assert rec.result_id == parent.result_id and parent.top_level
    assert rec.name.startswith(history.get_result(id=parent.result_id).name + "/records/")
    live = sim.get("customruns", "ci", "gate-wait")
    assert rec.rv == int(live["metadata"]["resourceVersion"])  # stored at the live version (annotations included)
    assert live["metadata"]["annotations"]["results.tekton.dev/record"] == rec.name
    data = history.record_object(rec.id)
    assert data["apiVersion"] == "tekton.dev/v1beta1" and data["spec"]["customRef"]["kind"] == "Wait"
    # listed and watched where the kind is served; no pod, so no step logs asked for
    served = [r for r in sim.requests if r.resource == "customruns" and r.verb in ("list", "watch")]
    assert {r.verb for r in served} == {"list", "watch"}
    assert all(r.path.startswith(f"/apis/tekton.dev/{CUSTOM_RUN.version}/") for r in served)
    assert not [r for r in sim.requests if r.resource == "pods/log" and "gate-wait" in r.path]
    assert [r.uid for r in history.list_records("kind:customrun").items] == [uid]


def test_workload_customruns_all_stored_with_their_pipelineruns(sim, make_service, history):
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wl = Workload(sim, rate=20, seed=11, max_runs=12, step_interval_s=0.02, custom_runs_every=2).start()
    try:
        assert wl.wait_idle(60)
    finally:
        wl.stop()
    crs = sim.list_objects("customruns")
    assert len(crs) == 6
    wait_for(lambda: converged(sim), timeout=60, what="every run stored: " + "; ".join(differences(sim)[:3]))
    for cr in crs:
        rec = history.get_record(uid=cr["metadata"]["uid"])
        owner = history.get_record(uid=cr["metadata"]["ownerReferences"][0]["uid"])
        assert rec.type == RECORD_TYPE and rec.final and rec.result_id == owner.result_id


class Approval:
    """A finished PipelineRun with a TaskRun and an approval CustomRun in the sim (no watcher): a test stores what a
    watcher would, step by step, and runs cleanup on the PipelineRun's Result with the real client."""

    def __init__(self, sim: SimCluster, history: History, kubeconfig: str) -> None:
        self.sim, self.history = sim, history
        p = sim.create("pipelineruns", pr("approve"))
        sim.create("taskruns", tr("approve-build", p, status=done_status()))
        self.running = custom_run(sim, p, "approval")
        sim.patch_status("customruns", "ci", "approve-approval", finished_custom("approve-approval", custom="approval"))
        self.final = self.live_cr()
        self.pr = sim.patch_status("pipelineruns", "ci", "approve", done_status())
        self.tr = sim.get("taskruns", "ci", "approve-build")
        self.api = load_target(kubeconfig, "sim").new_api_client()

    def live_cr(self) -> dict:
        return self.sim.get("customruns", "ci", "approve-approval")

    def store(self, *objs: dict) -> None:
        self.history.apply([RunUpsert(o) for o in objs], cluster=CLUSTER)

    def cleanup(self) -> list[str]:
        rid = self.history.get_record(uid=self.pr["metadata"]["uid"]).result_id
        return [o.result for o in execute(plan(self.history, [ResultTarget(rid)], CLUSTER), self.api)]

    def all_there(self) -> bool:
        return all(self.sim.get(k, "ci", n) is not None for k, n in (
            ("pipelineruns", "approve"), ("taskruns", "approve-build"), ("customruns", "approve-approval")))


def test_cleanup_refuses_while_a_customrun_is_not_stored_final_and_current(sim, history, kubeconfig):
    a = Approval(sim, history, kubeconfig)
    try:
        a.store(a.pr, a.tr, a.running)  # stored, but not its final state
        assert DELETED not in a.cleanup() and a.all_there(), "deleted a PipelineRun whose CustomRun is stored running"
        a.store(a.final)
        live = a.live_cr()
        live["metadata"].setdefault("annotations", {})["late"] = "write"  # changed after it was stored
        sim.update("customruns", live)
        assert DELETED not in a.cleanup() and a.all_there(), "deleted a PipelineRun whose CustomRun changed since stored"
        a.store(a.live_cr())
        assert a.cleanup() == [DELETED]
        assert sim.list_objects("customruns") == [] and sim.list_objects("taskruns") == []  # the owner cascade
        kept = history.get_record(uid=a.final["metadata"]["uid"])
        assert kept is not None and kept.type == RECORD_TYPE and kept.final  # the history keeps it
    finally:
        a.api.close()


def test_cleanup_refuses_while_a_customrun_is_not_stored_at_all(sim, history, kubeconfig):
    """The cluster holds a child the history never saw (created after the last store, or missed): the owner
    cascade would delete it unstored, so cleanup must ask the cluster for the PipelineRun's children."""
    a = Approval(sim, history, kubeconfig)
    try:
        a.store(a.pr, a.tr)
        assert DELETED not in a.cleanup() and a.all_there(), "deleted a PipelineRun whose CustomRun was never stored"
        a.store(a.final)
        assert a.cleanup() == [DELETED]
    finally:
        a.api.close()


def test_cli_cleanup_deletes_what_the_watcher_stored(sim, make_service, history: History, kubeconfig, db_path):
    """`tekton-results-tui cleanup` in its own process, beside the running watcher on the same history."""
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    p = sim.create("pipelineruns", pr("nightly"))
    cr = custom_run(sim, p, status=finished_custom("nightly-wait", "CustomRunTimedOut"))
    sim.patch_status("pipelineruns", "ci", "nightly", done_status("Failed"))
    wait_for(lambda: converged(sim), what="stored by the watcher: " + "; ".join(differences(sim)[:3]))
    assert history.get_record(uid=cr["metadata"]["uid"]).status == "TIMEOUT"
    r = subprocess.run([sys.executable, "-m", "tekton_results_tui", "cleanup", "--db", f"sqlite:///{db_path}",
                        "--kubeconfig", kubeconfig, "--context", "sim", "--cluster-name", CLUSTER, "--yes", "nightly"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PipelineRun ci/nightly: deleted" in r.stdout, r.stdout
    assert sim.list_objects("pipelineruns") == [] and sim.list_objects("customruns") == []
    wait_for(lambda: not history.get_record(uid=cr["metadata"]["uid"]).in_cluster, what="the CustomRun marked gone")
    assert history.get_record(uid=cr["metadata"]["uid"]).type == RECORD_TYPE
