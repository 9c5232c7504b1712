"""Logs and events captured into THIS database: failed reads are read again and never count as stored;
the decision comes from the database, not from the cluster-wide `stored` annotation."""

from __future__ import annotations

from tekton_results_tui.store import grouping as g
from tekton_results_tui.watcher.cleanup import ResultTarget, plan

from .helpers import done_status, pr, tr, wait_for


def _finished_taskrun(sim, name: str, steps: list[str], annotations: dict | None = None) -> dict:
    parent = sim.create("pipelineruns", pr(f"{name}-pr"))
    sim.patch_status("pipelineruns", "ci", f"{name}-pr", done_status())
    obj = tr(name, parent, status=done_status(pod=f"{name}-pod", steps=steps))
    if annotations:
        obj["metadata"]["annotations"] = annotations
    t = sim.create("taskruns", obj)
    for s in steps:
        sim.set_pod_log("ci", f"{name}-pod", f"step-{s}", f"log of {s}\n")
    return t


def _states(history, uid: str) -> list[str]:
    rec = history.log_record_for(uid, cluster="sim")
    return [s.state for s in history.step_logs(rec.id)] if rec else []


def _ann(sim, name: str) -> dict:
    return sim.get("taskruns", "ci", name)["metadata"].get("annotations") or {}


def test_a_failed_log_read_is_read_again_then_marked_stored(sim, make_service, history):
    t = _finished_taskrun(sim, "flaky", ["a", "b"])
    uid = t["metadata"]["uid"]
    sim.faults.http_error(500, times=3, verb="get", resource="pods/log")
    svc = make_service(capture_retry_s=0.2)
    svc.start()
    wait_for(lambda: _states(history, uid) == ["stored", "stored"], what="both steps stored after the re-read")
    rec = history.log_record_for(uid, cluster="sim")
    assert [history.step_log_text(s.id) for s in history.step_logs(rec.id)] == [b"log of a\n", b"log of b\n"]
    wait_for(lambda: _ann(sim, "flaky").get(g.STORED_ANNOTATION) == "true", what="stored annotation")
    assert svc.counters.get("capture_retries") >= 1


def test_while_log_reads_fail_the_run_is_neither_marked_stored_nor_deletable(sim, make_service, history):
    t = _finished_taskrun(sim, "broken", ["a"])
    uid = t["metadata"]["uid"]
    sim.faults.http_error(503, times=10_000, verb="get", resource="pods/log")
    svc = make_service(capture_retry_s=0.05)
    svc.start()
    wait_for(lambda: svc.counters.get("capture_given_up") >= 1, what="the re-reads given up")
    assert _states(history, uid) == ["error"]
    wait_for(lambda: g.RECORD_ANNOTATION in _ann(sim, "broken"), what="the record annotation")
    assert g.STORED_ANNOTATION not in _ann(sim, "broken")
    rid = history.get_record(uid=uid, cluster="sim").result_id
    p = plan(history, [ResultTarget(rid)], "sim", require_logs=True)
    assert not p.deletable
    assert any("logs not stored yet" in s.reason for s in p.skipped), p.skipped


def test_logs_are_captured_into_this_database_even_when_the_run_says_stored(sim, make_service, history):
    """`stored: "true"` is cluster-wide: another watcher, on another database, may have written it."""
    t = _finished_taskrun(sim, "elsewhere", ["a"], annotations={g.STORED_ANNOTATION: "true"})
    svc = make_service()
    svc.start()
    wait_for(lambda: _states(history, t["metadata"]["uid"]) == ["stored"], what="logs stored here too")
    wait_for(lambda: history.get_record(uid=g.derived_uid(t["metadata"]["uid"], "EventList"), cluster="sim"),
             what="events stored here too")


def test_relists_queue_no_follow_ups_for_runs_already_captured(sim, make_service, history):
    """With --no-annotate nothing on the run says "captured": the database must, or every relist queues a
    follow-up job for every finished run (and drops them once the queue is full)."""
    ts = [_finished_taskrun(sim, f"done-{i}", ["a"]) for i in range(5)]
    svc = make_service(annotate=False, relist_interval_s=0.3)
    svc.start()
    wait_for(lambda: all(_states(history, t["metadata"]["uid"]) == ["stored"] for t in ts), what="logs captured")
    wait_for(lambda: svc.status().counts.get("aux_pending", 0) == 0 and svc.wait_idle(5), what="follow-ups done")
    jobs = svc.counters.get("aux_jobs")
    assert jobs > 0
    relists = svc.counters.get("relists")
    wait_for(lambda: svc.counters.get("relists") >= relists + 4, what="a few relists")
    assert svc.wait_idle(10)
    assert svc.counters.get("aux_jobs") == jobs, "a relist queued follow-ups for runs already captured"
    assert svc.counters.get("aux_dropped") == 0
