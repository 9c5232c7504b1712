"""Grouping rules, record names and summary status: pure functions over run dicts (no database)."""

from __future__ import annotations

import json

import pytest
from store_objects import T0, pr, tr

from tekton_results_tui.store import grouping as g

# --- the four grouping rules, first that applies wins -------------------------------------


def test_rule1_result_annotation_wins_over_everything() -> None:
    parent = pr("p")
    t = tr("t", parent, labels={g.EVENTID_LABEL: "evt-1"}, annotations={g.RESULT_ANNOTATION: "ci/results/chosen"})
    info = g.classify(t)
    assert info.result_name == "ci/results/chosen"
    assert info.record_name == f"ci/results/chosen/records/{t['metadata']['uid']}"
    assert info.result_id == "chosen"


def test_rule2_triggers_eventid_label_beats_owner() -> None:
    parent = pr("p")
    t = tr("t", parent, labels={g.EVENTID_LABEL: "evt-1"})
    assert g.result_name_for(t) == "ci/results/evt-1"


def test_rule3_pipelinerun_owner_uid() -> None:
    parent = pr("p", ns="team-a")
    t = tr("t", parent)
    assert g.result_name_for(t) == f"team-a/results/{parent['metadata']['uid']}"
    info = g.classify(t)
    assert not info.top_level
    assert info.record_name == f"team-a/results/{parent['metadata']['uid']}/records/{t['metadata']['uid']}"


def test_rule3_ignores_owners_that_are_not_pipelineruns() -> None:
    t = tr("t")
    t["metadata"]["ownerReferences"] = [{"kind": "Run", "uid": "other-uid", "name": "x", "apiVersion": "tekton.dev/v1"}]
    assert g.result_name_for(t) == f"ci/results/{t['metadata']['uid']}"
    assert not g.classify(t).top_level  # it has an owner, so it never writes a summary


def test_rule4_own_uid_for_a_top_level_run() -> None:
    p = pr("p")
    info = g.classify(p)
    assert info.result_name == f"ci/results/{p['metadata']['uid']}"
    assert info.record_name == f"{info.result_name}/records/{p['metadata']['uid']}"
    assert info.top_level and info.record_type == g.TYPE_PIPELINERUN


def test_standalone_taskrun_is_its_own_result() -> None:
    t = tr("lonely")
    info = g.classify(t)
    assert info.top_level and info.record_type == g.TYPE_TASKRUN
    assert info.result_name == f"ci/results/{t['metadata']['uid']}"


def test_malformed_result_annotation_falls_through_with_a_warning() -> None:
    parent = pr("p")
    t = tr("t", parent, annotations={g.RESULT_ANNOTATION: "other-ns/results/x"})  # wrong namespace
    info = g.classify(t)
    assert info.result_name == f"ci/results/{parent['metadata']['uid']}"
    assert any(g.RESULT_ANNOTATION in w for w in info.warnings)


def test_missing_namespace_means_default() -> None:
    p = pr("p")
    del p["metadata"]["namespace"]
    assert g.classify(p).result_name.startswith("default/results/")


# --- status from the Succeeded condition ------------------------------------------------

# The reasons DESIGN §2 names, kept literally so a shrinking reason set cannot hide one.
DESIGN_REASONS = [
    ("True", "Succeeded", g.SUCCESS), ("True", "Completed", g.SUCCESS),
    ("False", "Failed", g.FAILURE), ("False", "StepFailed", g.FAILURE), ("False", "StepOOM", g.FAILURE),
    ("False", "PodEvicted", g.FAILURE), ("False", "TaskRunImagePullFailed", g.FAILURE),
    ("False", "CouldntGetPipeline", g.FAILURE),
    ("False", "PipelineRunTimeout", g.TIMEOUT), ("False", "TaskRunTimeout", g.TIMEOUT),
    ("False", "Cancelled", g.CANCELLED), ("False", "TaskRunCancelled", g.CANCELLED),
    ("False", "PipelineRunCancelled", g.CANCELLED),
    ("Unknown", "Started", g.UNKNOWN), ("Unknown", "Running", g.UNKNOWN), ("Unknown", "Pending", g.UNKNOWN),
    ("Unknown", "StoppingRunningFinally", g.UNKNOWN),
    ("False", "SomeReasonTektonAddsNextYear", g.FAILURE),  # anything terminal and not success/cancel/timeout
    ("False", None, g.FAILURE),
    ("True", None, g.SUCCESS),
]
SET_REASONS = (
    [("True", r, g.SUCCESS) for r in sorted(g.SUCCESS_REASONS)]
    + [("False", r, g.FAILURE) for r in sorted(g.FAILURE_REASONS)]
    + [("False", r, g.TIMEOUT) for r in sorted(g.TIMEOUT_REASONS)]
    + [("False", r, g.CANCELLED) for r in sorted(g.CANCEL_REASONS)]
    + [("Unknown", r, g.UNKNOWN) for r in sorted(g.RUNNING_REASONS)]
)


@pytest.mark.parametrize(("cond", "reason", "expected"), DESIGN_REASONS + SET_REASONS,
                         ids=lambda v: str(v))
@pytest.mark.parametrize("kind", ["PipelineRun", "TaskRun"])
def test_every_reason_maps_to_its_status(kind: str, cond: str, reason: str | None, expected: str) -> None:
    obj = pr("p", cond=cond, reason=reason) if kind == "PipelineRun" else tr("t", cond=cond, reason=reason)
    st = g.status_of(obj)
    assert st.status == expected
    assert st.reason == reason
    assert st.final == (cond != "Unknown")
    info = g.classify(obj)
    assert info.status == expected
    if cond == "Unknown":  # running: no end, no duration, not final
        assert info.end is None and info.duration is None and not info.final
    else:
        assert info.end is not None and info.duration == 120 and info.final


def test_reason_sets_do_not_overlap() -> None:
    sets = [g.SUCCESS_REASONS, g.FAILURE_REASONS, g.TIMEOUT_REASONS, g.CANCEL_REASONS, g.RUNNING_REASONS]
    for i, a in enumerate(sets):
        for b in sets[i + 1:]:
            assert not (a & b), a & b


def test_no_condition_is_unknown_and_not_final() -> None:
    obj = pr("p", cond=None)
    obj["status"] = {}
    st = g.status_of(obj)
    assert (st.status, st.final) == (g.UNKNOWN, False)


# --- v1beta1 objects --------------------------------------------------------------------


def test_v1beta1_pipelinerun_and_taskrun() -> None:
    p = pr("old", api="tekton.dev/v1beta1", cond="False", reason="PipelineRunCancelled")
    p["spec"] = {"pipelineRef": {"name": "legacy"}, "status": "PipelineRunCancelled"}
    p["metadata"]["labels"].pop("tekton.dev/pipeline")
    p["status"].pop("completionTime")  # v1beta1 cancels were seen without completionTime
    p["status"]["taskRuns"] = {"old-build": {"pipelineTaskName": "build", "status": {}}}
    info = g.classify(p)
    assert info.status == g.CANCELLED and info.final
    assert info.pipeline == "legacy"  # from spec.pipelineRef when the label is absent
    assert info.end is not None  # from the condition's lastTransitionTime
    assert info.record_type == "tekton.dev/v1beta1.PipelineRun"

    t = tr("old-build", p, api="tekton.dev/v1beta1", cond="False", reason="TaskRunTimeout", task=None)
    t["metadata"]["labels"].pop("tekton.dev/task", None)
    t["spec"] = {"taskRef": {"name": "legacy-task", "kind": "ClusterTask"}}
    info = g.classify(t)
    assert info.status == g.TIMEOUT
    assert info.task == "legacy-task"
    assert info.result_name == f"ci/results/{p['metadata']['uid']}"
    assert info.record_type == "tekton.dev/v1beta1.TaskRun"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o.update(kind="Pod"), "kind 'Pod'"),
        (lambda o: o.update(apiVersion="tekton.dev/v1alpha1"), "apiVersion"),
        (lambda o: o["metadata"].pop("uid"), "metadata.uid missing"),
        (lambda o: o["metadata"].pop("name"), "metadata.name missing"),
        (lambda o: o.update(metadata="x"), "no metadata"),
        (lambda o: o["metadata"].update(labels=["a"]), "not maps"),
    ],
)
def test_objects_that_are_not_runs_are_refused_with_a_reason(mutate, message: str) -> None:
    obj = pr("p")
    mutate(obj)
    with pytest.raises(g.GroupingError, match=message):
        g.classify(obj)


# --- user annotations -----------------------------------------------------------------------


def test_result_and_summary_annotations_are_parsed() -> None:
    p = pr("p", annotations={g.RESULT_ANNOTATIONS_INPUT: json.dumps({"repo": "web", "n": 3}),
                             g.SUMMARY_ANNOTATIONS_INPUT: json.dumps({"branch": "main"})})
    info = g.classify(p)
    assert info.result_annotations == {"repo": "web", "n": 3}
    assert info.summary_annotations == {"branch": "main"}
    assert info.warnings == []


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", "\"text\""])
def test_malformed_annotations_become_warnings(bad: str) -> None:
    p = pr("p", annotations={g.RESULT_ANNOTATIONS_INPUT: bad, g.SUMMARY_ANNOTATIONS_INPUT: bad})
    info = g.classify(p)
    assert info.result_annotations == {} and info.summary_annotations == {}
    assert len(info.warnings) == 2
    assert all("ci/p" in w for w in info.warnings)


def test_times_and_duration() -> None:
    p = pr("p", created=T0 - 100, start=T0 - 90, end=T0 - 30)
    info = g.classify(p)
    assert (info.created, info.start, info.end, info.duration) == (T0 - 100, T0 - 90, T0 - 30, 60)
    assert g.parse_time("2026-05-28T00:00:00Z") == g.parse_time("2026-05-28T00:00:00+00:00")
    assert g.parse_time("not a time") is None
    assert g.format_time(g.parse_time("2026-05-28T01:02:03Z")) == "2026-05-28T01:02:03Z"
