"""A PipelineRun's children go with it (background propagation), but the delete's precondition covers only
the PipelineRun: every child the cluster has for it must be stored final, at its live resourceVersion."""

from __future__ import annotations

from tekton_results_tui.watcher.cleanup import CONFLICT, DELETED, UNSTORED, ResultTarget, execute, plan

from .helpers import CLUSTER, done, make_run, running, store_run


def test_a_child_changed_since_it_was_stored_keeps_its_pipelinerun(sim, history, api):
    pr, kids = make_run(sim, "kid-moved", tasks=2)
    store_run(history, pr, kids)
    live = sim.get("taskruns", "ci", "kid-moved-t1")
    live["metadata"].setdefault("annotations", {})["late"] = "write"  # a write the store has not seen
    sim.update("taskruns", live)
    rid = history.get_record(uid=pr["metadata"]["uid"]).result_id
    p = plan(history, [ResultTarget(rid)], CLUSTER)
    assert [r.name for r in p.deletable] == ["kid-moved"]  # the store believes everything is stored
    out = execute(p, api)
    assert [(o.result, o.message) for o in out] == [
        (CONFLICT, "child TaskRun kid-moved-t1 changed since it was stored — not deleted")]
    assert sim.get("pipelineruns", "ci", "kid-moved") is not None
    assert sim.get("taskruns", "ci", "kid-moved-t1") is not None
    # once the newer child is stored, the delete goes through
    store_run(history, sim.get("taskruns", "ci", "kid-moved-t1"), [])
    out = execute(plan(history, [ResultTarget(rid)], CLUSTER), api)
    assert [o.result for o in out] == [DELETED]


def late_child(sim, pr: dict, name: str, status: dict | None = None) -> dict:
    """A TaskRun the PipelineRun's controller creates after the history stored the PipelineRun."""
    pname = pr["metadata"]["name"]
    return sim.create("taskruns", {
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": "ci",
                     "labels": {"tekton.dev/pipeline": "build", "tekton.dev/pipelineRun": pname,
                                "tekton.dev/pipelineTask": "late"},
                     "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": pname,
                                          "uid": pr["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"taskRef": {"name": "late"}}, "status": status or done()})


def test_a_child_created_after_its_pipelinerun_was_stored_blocks_the_delete(sim, history, api):
    """The store has never seen the late child, so the plan (store only) would delete the PipelineRun and the
    owner cascade would take an unstored TaskRun with it: the executor asks the cluster first."""
    pr, kids = make_run(sim, "late-kid", tasks=2)
    store_run(history, pr, kids)
    late = late_child(sim, pr, "late-kid-late")
    rid = history.get_record(uid=pr["metadata"]["uid"]).result_id
    p = plan(history, [ResultTarget(rid)], CLUSTER)
    assert [r.name for r in p.deletable] == ["late-kid"]
    sim.clear_requests()
    out = execute(p, api, history=history)
    assert [(o.result, o.message) for o in out] == [
        (UNSTORED, "child TaskRun late-kid-late is not stored with its final state — not deleted")]
    assert [r.method for r in sim.requests] == ["GET"] * len(sim.requests)  # listed, nothing deleted
    assert {o["metadata"]["name"] for o in sim.list_objects("taskruns")} == {"late-kid-t0", "late-kid-t1", "late-kid-late"}
    assert history.get_record(uid=pr["metadata"]["uid"]).in_cluster  # not deleted: not marked gone
    # once the late child's final state is stored, the PipelineRun goes, its three children with it
    store_run(history, sim.get("taskruns", "ci", "late-kid-late"), [])
    out = execute(plan(history, [ResultTarget(rid)], CLUSTER), api, history=history)
    assert [(o.result, o.message) for o in out] == [(DELETED, "deleted with 3 TaskRuns")]
    assert sim.list_objects("taskruns") == []
    # and the history knows at once (no watcher runs here to see the DELETED events)
    for uid in (pr["metadata"]["uid"], late["metadata"]["uid"], *(k["metadata"]["uid"] for k in kids)):
        assert not history.get_record(uid=uid).in_cluster


def test_a_child_stored_running_but_finished_in_the_cluster_blocks_the_delete(sim, history, api):
    pr, kids = make_run(sim, "stale-kid", tasks=1, tr_status=running())
    store_run(history, pr, kids)
    sim.patch_status("taskruns", "ci", "stale-kid-t0", done())  # finished, but the store has it running
    rid = history.get_record(uid=pr["metadata"]["uid"]).result_id
    p = plan(history, [ResultTarget(rid)], CLUSTER)
    assert p.deletable == [] and "running" in p.skipped[0].reason  # the plan already refuses it
    late = late_child(sim, pr, "stale-kid-other")  # and a child the store never saw, while the first is stored final
    store_run(history, sim.get("taskruns", "ci", "stale-kid-t0"), [])
    out = execute(plan(history, [ResultTarget(rid)], CLUSTER), api)
    assert [o.result for o in out] == [UNSTORED] and "stale-kid-other" in out[0].message
    assert sim.get("taskruns", "ci", late["metadata"]["name"]) is not None


def test_a_child_owned_by_another_run_of_the_same_name_does_not_block(sim, history, api):
    """Only what the owner cascade would take counts: a TaskRun labelled with the name but owned by another
    (an earlier PipelineRun of that name, orphaned) stays and does not stop the delete."""
    pr, kids = make_run(sim, "same-name", tasks=1)
    store_run(history, pr, kids)
    stray = late_child(sim, {"metadata": {"name": "same-name", "uid": "an-earlier-uid"}}, "same-name-orphan")
    rid = history.get_record(uid=pr["metadata"]["uid"]).result_id
    out = execute(plan(history, [ResultTarget(rid)], CLUSTER), api)
    assert [o.result for o in out] == [DELETED]
    assert sim.get("taskruns", "ci", stray["metadata"]["name"]) is not None
