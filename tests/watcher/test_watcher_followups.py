"""What the watcher does after storing: step logs, events, annotations written back; grouping via the real path."""

from __future__ import annotations

import pytest

from tekton_results_tui.sim import Workload
from tekton_results_tui.store import grouping as g
from tekton_results_tui.watcher.kube import KubeError

from .helpers import converged, differences, done_status, pr, tr, wait_for


def _patches(sim) -> list:
    return [r for r in sim.requests if r.method == "PATCH"]


def _all_marked_stored(sim) -> bool:
    objs = sim.list_objects("pipelineruns") + sim.list_objects("taskruns")
    return bool(objs) and all((o["metadata"].get("annotations") or {}).get(g.STORED_ANNOTATION) == "true" for o in objs)


def test_finished_runs_get_logs_events_and_annotations(sim, make_service, history):
    wl = Workload(sim, rate=10, max_runs=4, seed=3, step_interval_s=0.02).start()
    svc = make_service()
    svc.start()
    assert wl.wait_idle(30)
    wl.stop()
    wait_for(lambda: _all_marked_stored(sim) and converged(sim), what="every run stored and annotated")
    for o in sim.list_objects("taskruns"):
        md = o["metadata"]
        ann = md["annotations"]
        rec = history.get_record(uid=md["uid"])
        assert ann[g.RECORD_ANNOTATION] == rec.name and ann[g.RESULT_ANNOTATION] == rec.name.split("/records/")[0]
        log = history.log_record_for(md["uid"], cluster="sim")
        assert log is not None, f"no logs for {md['name']}"
        steps = history.step_logs(log.id)
        assert [s.container for s in steps] == [s["container"] for s in o["status"]["steps"]]
        stored = [s for s in steps if s.state == "stored"]
        assert stored and all(history.step_log_text(s.id) for s in stored if s.size)
        assert history.get_record(uid=g.derived_uid(md["uid"], "EventList"), cluster="sim") is not None
    for o in sim.list_objects("pipelineruns"):
        assert history.get_record(uid=g.derived_uid(o["metadata"]["uid"], "EventList"), cluster="sim") is not None
    # no patch loop: our own patches come back as MODIFIED events and cause no new patch
    n_objs = len(sim.list_objects("pipelineruns")) + len(sim.list_objects("taskruns"))
    n = len(_patches(sim))
    assert 0 < n <= 2 * n_objs
    svc.stop()
    assert converged(sim), differences(sim)


def test_log_states_pod_gone_and_not_started(sim, make_service, history):
    parent = sim.create("pipelineruns", pr("states"))
    gone = sim.create("taskruns", tr("states-gone", parent, status=done_status("Failed", pod="gc-pod", steps=["build"])))
    with sim.store.lock:  # the pod was garbage-collected (the sim has no pod API to delete it)
        sim.store.pods.pop(("ci", "gc-pod"), None)
    waiting = done_status("TaskRunImagePullFailed", pod="states-wait-pod", steps=["pull"])
    waiting["steps"][0] = {"name": "pull", "container": "step-pull", "waiting": {"reason": "ImagePullBackOff"}}
    sim.create("taskruns", tr("states-wait", parent, status=waiting))
    svc = make_service(annotate=False)
    svc.start()

    def states(name: str) -> list[str]:
        uid = sim.get("taskruns", "ci", name)["metadata"]["uid"]
        rec = history.log_record_for(uid, cluster="sim")
        return [s.state for s in history.step_logs(rec.id)] if rec else []

    wait_for(lambda: states("states-gone") and states("states-wait"), what="log records")
    assert states("states-gone") == ["pod-gone"]
    assert states("states-wait") == ["not-started"]
    assert gone["metadata"]["uid"]
    assert not _patches(sim), "--no-annotate must not patch"


def test_no_logs_no_events(sim, make_service, history):
    parent = sim.create("pipelineruns", pr("quiet"))
    sim.patch_status("pipelineruns", "ci", "quiet", done_status())
    t = sim.create("taskruns", tr("quiet-t", parent, status=done_status(pod="quiet-pod", steps=["a"])))
    svc = make_service(capture_logs=False, capture_events=False)
    svc.start()
    wait_for(lambda: _all_marked_stored(sim), what="annotations")
    assert history.log_record_for(t["metadata"]["uid"]) is None
    assert not [r for r in sim.requests if r.resource in ("pods/log", "events")]


def test_403_on_patch_turns_annotations_off_once_and_storing_goes_on(sim, make_service):
    sim.faults.forbid("patch", "pipelineruns")
    sim.faults.forbid("patch", "taskruns")
    errors: list[str] = []
    svc = make_service(capture_logs=False, capture_events=False)
    svc.add_listener(lambda st: errors.append(st.last_error or ""))
    svc.start()
    for i in range(5):
        sim.create("pipelineruns", pr(f"nopatch-{i}"))
    wait_for(lambda: not svc.status().annotate, what="annotations turned off")
    for i in range(5, 10):
        sim.create("pipelineruns", pr(f"nopatch-{i}"))
    wait_for(lambda: converged(sim), what="storing goes on")
    st = svc.status()
    assert "403" in st.last_error and "patch" in st.last_error and "annotations turned off" in st.last_error
    assert len({e for e in errors if "annotations turned off" in e}) == 1
    assert len([r for r in _patches(sim) if r.status == 403]) <= 4  # in-flight ones only, then none


def test_taskruns_join_their_pipelinerun_result_also_when_seen_first(sim, make_service, history):
    parent = sim.create("pipelineruns", pr("grp"))
    kids = [sim.create("taskruns", tr(f"grp-{i}", parent)) for i in range(3)]
    # first watcher sees only the TaskRuns (the PipelineRun lacks the label)
    first = make_service(label_selector="tekton.dev/pipelineTask", capture_logs=False, capture_events=False, annotate=False)
    first.start()
    want = f"ci/results/{parent['metadata']['uid']}"
    wait_for(lambda: all(history.get_record(uid=k["metadata"]["uid"]) for k in kids), what="TaskRuns stored")
    res = history.get_result(name=want, cluster="sim")
    assert res is not None and res.status == "UNKNOWN"
    first.stop()
    second = make_service(capture_logs=False, capture_events=False, annotate=False)
    second.start()
    sim.patch_status("pipelineruns", "ci", "grp", done_status())
    wait_for(lambda: converged(sim), what="the PipelineRun stored")
    res = history.get_result(name=want, cluster="sim")
    assert res.status == "SUCCESS"
    uids = {r.uid for r in history.records_of(res.id)}
    assert uids == {parent["metadata"]["uid"], *(k["metadata"]["uid"] for k in kids)}


def test_read_pod_log_and_can_i(sim, make_service):
    parent = sim.create("pipelineruns", pr("live"))
    sim.create("taskruns", tr("live-t", parent, status=done_status(pod="live-t-pod", steps=["build"])))
    sim.set_pod_log("ci", "live-t-pod", "step-build", "hello\nworld\n")
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    assert svc.read_pod_log("ci", "live-t-pod", "step-build") == "hello\nworld\n"
    with pytest.raises(KubeError, match="gone"):
        svc.read_pod_log("ci", "no-pod", "step-build")
    assert svc.can_i("delete", "pipelineruns.tekton.dev", "ci")
    sim.faults.forbid("delete", "pipelineruns")
    assert not svc.can_i("delete", "pipelineruns.tekton.dev", "ci")


def test_a_finished_customrun_gets_its_events_and_no_log_read(sim, make_service, history):
    """A CustomRun has no pod of Tekton's: its events are captured like any run's, its logs are never asked for."""
    from tekton_results_tui.sim import objects

    parent = sim.create("pipelineruns", pr("custom"))
    cr = sim.create("customruns", objects.customrun("ci", "custom", parent["metadata"]["uid"], "p", "wait"))
    md = cr["metadata"]
    sim.add_event("ci", objects.event(md, "CustomRun", "Normal", "Started", "the wait began", None, 0))
    svc = make_service(annotate=False)
    svc.start()
    sim.patch_status("customruns", "ci", md["name"], objects.cr_status(md["name"], "wait", 1_700_000_000,
                                                                        1_700_000_060, "Succeeded"))
    events = g.derived_uid(md["uid"], "EventList")
    wait_for(lambda: history.get_record(uid=events, cluster="sim") is not None, what="the CustomRun's events stored")
    assert history.get_record(uid=md["uid"]).final
    assert history.log_record_for(md["uid"], cluster="sim") is None
    assert not [r for r in sim.requests if r.resource == "pods/log"]
    assert [e["reason"] for e in history.record_object(history.get_record(uid=events, cluster="sim").id)["items"]] \
        == ["Started"]
