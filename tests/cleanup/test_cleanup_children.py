"""A PipelineRun's children go with it (background propagation), but the delete's precondition covers only
the PipelineRun: each child must still be at its stored resourceVersion."""

from __future__ import annotations

from tekton_results_tui.watcher.cleanup import CONFLICT, DELETED, ResultTarget, execute, plan

from .helpers import CLUSTER, make_run, store_run


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
