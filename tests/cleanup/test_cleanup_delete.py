"""The one deletion path against the simulated cluster with the real client (no mocks)."""

from __future__ import annotations

import pytest

from tekton_results_tui.settings import Settings
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher import cleanup
from tekton_results_tui.watcher.cleanup import (
    KeepRule,
    ReadOnlyRefused,
    RecordTarget,
    ResultTarget,
    execute,
    plan,
    select_by_filter,
)

from .helpers import CLUSTER, done, make_run, mark_gone, running, store, store_live, store_run, wait_for, writes


def rid(history: History, obj: dict) -> int:
    rec = history.get_record(uid=obj["metadata"]["uid"])
    assert rec is not None
    return rec.result_id


def test_deleting_a_stored_finished_run_removes_it_and_its_children_and_keeps_the_record(sim, kubeconfig, history, api):
    from tekton_results_tui.watcher.service import WatcherService

    pr, kids = make_run(sim, "build-1", tasks=3)
    svc = WatcherService(Settings.of(db_url="unused", kubeconfig=kubeconfig, context="sim", cluster_name=CLUSTER,
                                     annotate=False, capture_logs=False, capture_events=False,
                                     read_timeout_s=5.0, backoff_cap_s=1.0), history)
    svc.start()
    try:
        uids = [o["metadata"]["uid"] for o in (pr, *kids)]
        wait_for(lambda: all(v[1] for v in history.stored_versions(uids, CLUSTER).values())
                 and len(history.stored_versions(uids, CLUSTER)) == 4, what="the run stored final")
        p = plan(history, [ResultTarget(rid(history, pr))], CLUSTER)
        assert [r.name for r in p.deletable] == ["build-1"]
        assert p.pipelineruns == 1 and p.taskruns == 3
        sim.clear_requests()
        out = execute(p, api)
        assert [(o.result, o.message) for o in out] == [("deleted", "deleted with 3 TaskRuns")]
        assert [(r.method, r.resource, r.status) for r in writes(sim)] == [("DELETE", "pipelineruns", 200)]
        assert sim.get("pipelineruns", "ci", "build-1") is None
        assert sim.list_objects("taskruns") == []  # background propagation took the children
        # the history keeps every record; the watcher marks them gone from the DELETED events
        wait_for(lambda: all(not r.in_cluster for r in (history.get_record(uid=u) for u in uids)), what="gone marks")
        assert history.get_result(id=rid(history, pr)).in_cluster is False
        assert history.record_object(history.get_record(uid=uids[0]).id)["metadata"]["name"] == "build-1"
    finally:
        svc.stop(5.0)


def test_running_and_unstored_runs_are_refused(sim, history, api):
    pr, kids = make_run(sim, "run-1", pr_status=running(), tr_status=running())
    store_run(history, pr, kids)
    late, late_kids = make_run(sim, "late-1", pr_status=running(), tr_status=running())
    store_run(history, late, late_kids)  # stored while running ...
    sim.patch_status("pipelineruns", "ci", "late-1", {**done(), "childReferences": []})  # ... finished, not stored yet
    p = plan(history, [ResultTarget(rid(history, pr)), ResultTarget(rid(history, late)), RecordTarget(999_999)], CLUSTER)
    assert p.deletable == []
    assert [(s.run.name, s.reason) for s in p.skipped] == [
        ("record 999999", "not stored"), ("run-1", "running"), ("late-1", "running")]
    sim.clear_requests()
    assert execute(p, api) == []
    assert writes(sim) == []
    assert sim.get("pipelineruns", "ci", "late-1") is not None


def test_a_run_changed_after_it_was_stored_gets_409_and_stays(sim, history, api):
    pr, kids = make_run(sim, "changed-1")
    store_run(history, pr, kids)
    p = plan(history, [ResultTarget(rid(history, pr))], CLUSTER)
    assert len(p.deletable) == 1
    live = sim.get("pipelineruns", "ci", "changed-1")
    live["metadata"]["labels"]["touched"] = "yes"
    sim.update("pipelineruns", live)  # a newer version the store has not seen
    out = execute(p, api)
    assert [(o.result, o.message) for o in out] == [("conflict", "changed since it was stored — not deleted")]
    assert sim.get("pipelineruns", "ci", "changed-1") is not None
    assert len(sim.list_objects("taskruns")) == 2
    # once the new version is stored, the same selection deletes it
    store_live(history, sim, "ci", ("pipelineruns", "changed-1"))
    out = execute(plan(history, [ResultTarget(rid(history, pr))], CLUSTER), api)
    assert [o.result for o in out] == ["deleted"]


def test_a_pipelinerun_with_an_unstored_or_running_child_is_refused(sim, history, api):
    pr, kids = make_run(sim, "kids-1", tasks=2)
    store(history, pr, kids[0])  # the second child never reached the store
    pr2, kids2 = make_run(sim, "kids-2", tasks=2, tr_status=[done(), running()])
    store_run(history, pr2, kids2)
    p = plan(history, [ResultTarget(rid(history, pr)), ResultTarget(rid(history, pr2))], CLUSTER)
    assert p.deletable == []
    assert [(s.run.name, s.reason) for s in p.skipped] == [
        ("kids-1", "child TaskRun kids-1-t1 not stored"),
        ("kids-2", "child TaskRun kids-2-t1 running (final state not stored yet)")]
    sim.clear_requests()
    execute(p, api)
    assert writes(sim) == [] and len(sim.list_objects("taskruns")) == 4
    # a child TaskRun alone: refused while its PipelineRun runs, deletable once that is finished
    pr3, kids3 = make_run(sim, "kids-3", pr_status=running(), tr_status=[done(), running()])
    store_run(history, pr3, kids3)
    t = RecordTarget(history.get_record(uid=kids3[0]["metadata"]["uid"]).id)
    assert [s.reason for s in plan(history, [t], CLUSTER).skipped] == ["its PipelineRun kids-3 is still running"]


def test_403_names_the_missing_permission_and_404_is_already_gone(sim, history, api):
    a, ak = make_run(sim, "forbid-1")
    b, bk = make_run(sim, "gone-1", ns="dev")
    store_run(history, a, ak)
    store_run(history, b, bk)
    p = plan(history, [ResultTarget(rid(history, a)), ResultTarget(rid(history, b))], CLUSTER)
    assert len(p.deletable) == 2
    sim.faults.forbid("delete", "pipelineruns", "ci")
    sim.delete("pipelineruns", "dev", "gone-1")  # someone else deleted it after the plan
    out = execute(p, api)
    assert [(o.run.name, o.result, o.message) for o in out] == [
        ("forbid-1", "forbidden", "not allowed: cannot delete pipelineruns.tekton.dev in namespace ci"),
        ("gone-1", "gone", "already gone")]
    assert sim.get("pipelineruns", "ci", "forbid-1") is not None
    assert cleanup.summarize(out) == "1 not allowed, 1 already gone"


def test_runs_gone_from_the_cluster_and_other_clusters_are_skipped(sim, history, api):
    pr, kids = make_run(sim, "old-1")
    store_run(history, pr, kids)
    mark_gone(history, pr, *kids)
    p = plan(history, [ResultTarget(rid(history, pr))], CLUSTER)
    assert [s.reason for s in p.skipped] == ["already gone from the cluster"]
    pr2, kids2 = make_run(sim, "other-1")
    store_run(history, pr2, kids2)
    p2 = plan(history, [ResultTarget(rid(history, pr2))], "prod")
    assert [s.reason for s in p2.skipped] == ['stored for cluster "sim", not "prod"']


def test_keep_and_keep_since_combine_per_pipeline(sim, history, api):
    # five finished runs of "build" ending 5h, 4h, 3h, 2h, 1h before now; two of "lint"
    now = 1_767_240_000.0  # 2026-01-01T04:00:00Z
    ends = {f"b{i}": f"2026-01-01T0{i}:00:00Z" for i in range(5)}  # b0 oldest ... b4 newest
    for name, end in ends.items():
        store_run(history, *make_run(sim, name, pr_status=done(end=end), tr_status=done(end=end)))
    for name in ("l0", "l1"):
        store_run(history, *make_run(sim, name, pipeline="lint"))
    targets = select_by_filter(history, "")
    assert len(targets) == 7
    # created in order b0..b4, l0, l1 (creation time and id): --keep 2 keeps b3, b4 and both lint runs;
    # --keep-since 2h keeps runs that ended at or after 02:00 (b2, b3, b4): either keeps it
    p = plan(history, targets, CLUSTER, now, keep=KeepRule(keep=2, keep_since_s=2 * 3600, keep_since_text="2h"))
    assert sorted(r.name for r in p.deletable) == ["b0", "b1"]
    reasons = {s.run.name: s.reason for s in p.skipped}
    assert reasons == {"b4": "kept by --keep 2 (per pipeline)", "b3": "kept by --keep 2 (per pipeline)",
                       "b2": "kept by --keep-since 2h", "l0": "kept by --keep 2 (per pipeline)",
                       "l1": "kept by --keep 2 (per pipeline)"}
    only_keep = plan(history, targets, CLUSTER, now, keep=KeepRule(keep=2))
    assert sorted(r.name for r in only_keep.deletable) == ["b0", "b1", "b2"]
    only_since = plan(history, targets, CLUSTER, now, keep=KeepRule(keep_since_s=2 * 3600, keep_since_text="2h"))
    assert sorted(r.name for r in only_since.deletable) == ["b0", "b1", "l0", "l1"]


def test_read_only_can_never_delete(sim, history, api, db_url):
    pr, kids = make_run(sim, "ro-1")
    store_run(history, pr, kids)
    ro_db = open_database(db_url, read_only=True)
    try:
        ro = History(ro_db, read_only=True)
        p = plan(ro, [ResultTarget(rid(ro, pr))], CLUSTER)
        assert p.read_only and len(p.deletable) == 1  # it can be shown ...
        sim.clear_requests()
        with pytest.raises(ReadOnlyRefused):  # ... never executed
            execute(p, api)
    finally:
        ro_db.close()
    writable = plan(history, [ResultTarget(rid(history, pr))], CLUSTER)
    with pytest.raises(ReadOnlyRefused):
        execute(writable, api, read_only=True)
    with pytest.raises(ReadOnlyRefused):
        execute(writable, api, history=History(history.db, read_only=True))
    assert sim.requests == [] and sim.get("pipelineruns", "ci", "ro-1") is not None
