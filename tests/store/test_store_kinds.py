"""Run kinds from the registry in the store: a CustomRun is stored under its PipelineRun's Result,
filtered as `kind:customrun`, sorted by the registry's rank, and found by the store's batch reads
(the reads the CLI shapes and the tree use instead of the models)."""

from __future__ import annotations

from store_objects import T0, new_uid, pr, tr

from tekton_results_tui import kinds
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.query import FilterError, parse_filter


def custom_run(name: str, parent: dict, **kw) -> dict:
    created = kw.pop("created", T0 - 300)
    return {
        "apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
        "metadata": {"name": name, "namespace": parent["metadata"]["namespace"], "uid": kw.pop("uid", new_uid()),
                     "resourceVersion": str(kw.pop("rv", 5)), "creationTimestamp": "2026-05-28T20:21:40Z",
                     "labels": {"tekton.dev/pipeline": "build", "tekton.dev/pipelineTask": "approve"},
                     "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                                          "name": parent["metadata"]["name"], "uid": parent["metadata"]["uid"],
                                          "controller": True}]},
        "spec": {"customRef": {"apiVersion": "example.dev/v1", "kind": "Approval", "name": "manual-approval"}},
        "status": {"startTime": "2026-05-28T20:21:41Z", "completionTime": "2026-05-28T20:23:41Z",
                   "conditions": [{"type": "Succeeded", "status": "False", "reason": "CustomRunTimedOut",
                                   "message": "no approval", "lastTransitionTime": "2026-05-28T20:23:41Z"}]},
        **kw,
    }


def test_a_custom_run_is_stored_under_its_pipeline_run_and_filtered_as_customrun(h: History) -> None:
    parent = pr("release-1")
    child_tr = tr("release-1-build", parent)
    cr = custom_run("release-1-approve", parent, created=T0 - 300)
    res = h.apply([RunUpsert(parent), RunUpsert(child_tr), RunUpsert(cr)])
    assert res.skipped == [] and res.stored == 3

    rec = h.get_record(uid=cr["metadata"]["uid"])
    assert rec is not None
    assert (rec.kind, rec.type, rec.status, rec.reason, rec.task) == (
        "CustomRun", "tekton.dev/v1beta1.CustomRun", "TIMEOUT", "CustomRunTimedOut", "manual-approval")
    result = h.get_result(uid=None, name=f"ci/results/{parent['metadata']['uid']}")
    assert result is not None and rec.result_id == result.id

    for word in ("kind:customrun", "kind:customruns", "kind:cr", "kind:CustomRun"):
        page = h.list_records(word)
        assert [r.run_name for r in page.items] == ["release-1-approve"], word
        assert h.count_records(word) == 1
    assert [r.display_name for r in h.list_results("kind:customrun").items] == ["release-1"]
    assert h.count_records("-kind:customrun") == 2
    assert [r.run_name for r in h.find_runs("release-1-approve")] == ["release-1-approve"]
    assert h.stored_versions([cr["metadata"]["uid"]]) == {cr["metadata"]["uid"]: (5, True)}
    assert h.in_cluster_uids("CustomRun") == {cr["metadata"]["uid"]}

    # tree order: the registry's rank (PipelineRun, TaskRun, CustomRun), whatever the start times
    assert [r.kind for r in h.records_of(result.id)] == [k.name for k in kinds.RUN_KINDS]


def test_every_kind_word_of_the_registry_is_a_filter_and_an_unknown_one_names_them() -> None:
    for kind in (*kinds.RUN_KINDS, *kinds.DOCUMENT_KINDS):
        for word in kind.aliases:
            parse_filter(f"kind:{word}")
    try:
        parse_filter("kind:approval")
    except FilterError as exc:
        assert exc.term == "kind:approval" and "customrun" in str(exc)
    else:
        raise AssertionError("kind:approval must be a FilterError")


def test_batch_reads_for_a_page_of_rows(h: History) -> None:
    """What `results -o json` and the tree read for a page: details, counts, objects, matching ids."""
    a = pr("alpha", annotations={"results.tekton.dev/resultAnnotations": '{"team": "blue"}',
                                 "results.tekton.dev/recordSummaryAnnotations": "not json"})
    b = pr("beta")
    h.apply([RunUpsert(a), RunUpsert(b), RunUpsert(tr("alpha-t1", a)), RunUpsert(tr("alpha-t2", a))])
    ra, rb = (h.get_result(name=f"ci/results/{x['metadata']['uid']}") for x in (a, b))
    assert ra is not None and rb is not None

    details = h.result_details_of([ra.id, rb.id, 999_999])
    assert set(details) == {ra.id, rb.id}
    assert details[ra.id]["annotations"] == {"team": "blue"}
    assert any("recordSummaryAnnotations" in w for w in details[ra.id]["warnings"])
    assert details[rb.id] == {"annotations": {}, "summary_annotations": {}, "warnings": []}
    assert h.result_details(ra.id) == details[ra.id]
    assert h.record_counts([ra.id, rb.id]) == {ra.id: 3, rb.id: 1}

    recs = h.records_of(ra.id)
    objs = h.record_objects([r.id for r in recs])
    assert {o["metadata"]["name"] for o in objs.values()} == {"alpha", "alpha-t1", "alpha-t2"}

    assert h.result_ids_matching([ra.id, rb.id], "alpha") == {ra.id}
    assert h.result_ids_matching([ra.id, rb.id], parse_filter("-alpha")) == {rb.id}
    assert h.result_ids_matching([], "alpha") == set()


def test_cluster_sample_says_whether_there_is_more_than_one_cluster(h: History) -> None:
    assert h.cluster_sample() == set() and not h.many_clusters()
    h.apply([RunUpsert(pr("one"))], cluster="east")
    h.apply([RunUpsert(pr("one-again"))], cluster="east")
    assert h.cluster_sample() == {"east"} and not h.many_clusters()
    h.apply([RunUpsert(pr("two"))], cluster="west")
    assert h.cluster_sample() == {"east", "west"} and h.many_clusters()
