"""Gone marks (found in review): a relist never marks a newer object gone, a newer resourceVersion
heals a false mark, a Result is gone only when none of its top-level runs is left, and logs or
events that arrive after their run left are gone with it."""

from __future__ import annotations

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import Events, Gone, Logs, RunUpsert, StepLogData


def _pr(name: str, uid: str, rv: int, **labels: str) -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": "ci", "uid": uid, "resourceVersion": str(rv), "labels": labels},
            "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]}}


def test_relist_gone_skips_objects_newer_than_the_list_snapshot(history) -> None:
    history.apply([RunUpsert(_pr("old", "u-old", 10)), RunUpsert(_pr("new", "u-new", 50))])
    history.apply([Gone("u-old", before_rv=40), Gone("u-new", before_rv=40)])
    assert history.get_record(uid="u-old").in_cluster is False
    assert history.get_record(uid="u-new").in_cluster is True  # seen after the snapshot: alive


def test_a_newer_resource_version_heals_a_false_gone_mark(history) -> None:
    history.apply([RunUpsert(_pr("r", "u-r", 10))])
    history.apply([Gone("u-r")])
    assert history.get_record(uid="u-r").in_cluster is False
    assert history.get_result(name="ci/results/u-r").in_cluster is False
    history.apply([RunUpsert(_pr("r", "u-r", 11))])
    rec = history.get_record(uid="u-r")
    assert rec.in_cluster is True and rec.deleted_at is None
    assert history.get_result(name="ci/results/u-r").in_cluster is True


def test_a_deleted_event_batch_still_ends_gone(history) -> None:
    history.apply([RunUpsert(_pr("r", "u-d", 10))])
    history.apply([RunUpsert(_pr("r", "u-d", 12)), Gone("u-d")])  # DELETED: final object, then gone
    rec = history.get_record(uid="u-d")
    assert rec.rv == 12 and rec.in_cluster is False


def test_result_is_gone_only_when_no_top_level_run_is_left(history) -> None:
    a = _pr("a", "u-a", 10, **{g.EVENTID_LABEL: "ev1"})
    b = _pr("b", "u-b", 11, **{g.EVENTID_LABEL: "ev1"})
    history.apply([RunUpsert(a), RunUpsert(b)])
    history.apply([Gone("u-a")])
    assert history.get_result(name="ci/results/ev1").in_cluster is True  # b is still there
    history.apply([Gone("u-b")])
    assert history.get_result(name="ci/results/ev1").in_cluster is False


def test_logs_and_events_arriving_after_the_run_left_are_gone_too(history) -> None:
    run = _pr("r", "u-l", 10)
    history.apply([RunUpsert(run)])
    history.apply([Gone("u-l")])
    history.apply([Logs(run, [StepLogData("s", "step-s", b"hi\n")]),
                   Events(run, [{"metadata": {"resourceVersion": "13"}, "reason": "Started"}])])
    aux = [r for r in history.records_of(history.get_record(uid="u-l").result_id) if r.kind in ("Log", "EventList")]
    assert len(aux) == 2 and all(not r.in_cluster for r in aux)
