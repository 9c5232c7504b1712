"""A Log record whose steps could not be read does not count as "logs stored" for cleanup."""

from __future__ import annotations

from tekton_results_tui.store.history import Logs, StepLogData
from tekton_results_tui.watcher.cleanup import ResultTarget, plan

from .helpers import CLUSTER, make_run, store_run


def test_a_log_with_a_failed_step_is_not_stored_logs(sim, history):
    pr, kids = make_run(sim, "half-read", tasks=1)
    store_run(history, pr, kids)
    history.apply([Logs(kids[0], [StepLogData("a", "step-a", b"ok\n", False, "stored"),
                                  StepLogData("b", "step-b", b"500 from get pods/log", False, "error")])], cluster=CLUSTER)
    rid = history.get_record(uid=pr["metadata"]["uid"]).result_id
    p = plan(history, [ResultTarget(rid)], CLUSTER, require_logs=True)
    assert not p.deletable
    assert [s.reason for s in p.skipped] == [
        "child TaskRun half-read-t0: logs not stored yet (a step's log could not be read; retrying)"]
    history.apply([Logs(kids[0], [StepLogData("a", "step-a", b"ok\n", False, "stored"),
                                  StepLogData("b", "step-b", b"", False, "pod-gone")])], cluster=CLUSTER)
    assert [r.name for r in plan(history, [ResultTarget(rid)], CLUSTER, require_logs=True).deletable] == ["half-read"]
