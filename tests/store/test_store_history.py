"""Store semantics on both engines: apply, idempotency, resourceVersion order, change feed, gone, logs, events."""

from __future__ import annotations

import json

from store_objects import T0, bump, pr, tr

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import Events, Gone, History, Logs, RunUpsert, StepLogData


def uid(o: dict) -> str:
    return o["metadata"]["uid"]


def test_pipeline_with_taskruns_groups_into_one_result(h: History) -> None:
    p = pr("build-1", rv=10)
    kids = [tr(f"build-1-{t}", p, rv=11 + i, pipeline_task=t, task=f"{t}-task") for i, t in enumerate(["fetch", "test"])]
    res = h.apply([RunUpsert(p)] + [RunUpsert(k) for k in kids])
    assert res.stored == 3 and not res.skipped and res.seq == 1
    page = h.list_results()
    assert len(page.items) == 1 and page.next_token is None
    r = page.items[0]
    assert r.name == f"ci/results/{uid(p)}"
    assert (r.status, r.display_name, r.pipeline, r.summary_type) == (g.SUCCESS, "build-1", "build", g.TYPE_PIPELINERUN)
    assert r.summary_record == f"{r.name}/records/{uid(p)}"
    recs = h.records_of(r.id)
    assert [x.run_name for x in recs] == ["build-1", "build-1-fetch", "build-1-test"]
    assert [x.kind for x in recs] == ["PipelineRun", "TaskRun", "TaskRun"]
    assert {x.name for x in recs} == {f"{r.name}/records/{uid(o)}" for o in [p, *kids]}
    assert recs[1].pipeline_task == "fetch" and recs[1].task == "fetch-task"
    assert json.loads(h.record_data(recs[0].id)) == p
    assert h.record_object(recs[2].id) == kids[1]
    assert h.get_result(name=r.name).id == r.id
    assert h.get_result(uid=r.uid).id == r.id
    assert h.get_record(uid=uid(kids[0])).run_name == "build-1-fetch"
    assert h.get_record(name=recs[2].name).id == recs[2].id
    assert h.size() == (1, 3)


def test_child_before_parent_gets_summary_when_parent_arrives(h: History) -> None:
    p = pr("late-parent", rv=20, cond="False", reason="Failed")
    child = tr("early-child", p, rv=21)
    h.apply([RunUpsert(child)])
    r = h.list_results().items[0]
    assert r.name == f"ci/results/{uid(p)}"
    assert r.status == g.UNKNOWN and r.display_name is None and r.summary_record is None  # no summary yet
    h.apply([RunUpsert(p)])
    after = h.get_result(name=r.name)
    assert after.id == r.id  # same Result, now summarized
    assert (after.status, after.display_name, after.reason) == (g.FAILURE, "late-parent", "Failed")
    assert h.size() == (1, 2)


def test_child_status_never_writes_the_summary(h: History) -> None:
    p = pr("p", rv=1, cond="Unknown", reason="Running")
    h.apply([RunUpsert(p), RunUpsert(tr("c", p, rv=2, cond="False", reason="StepFailed"))])
    assert h.list_results().items[0].status == g.UNKNOWN


def test_all_outcomes_reach_the_result_summary(h: History) -> None:
    cases = {"ok": ("True", "Succeeded", g.SUCCESS), "bad": ("False", "StepOOM", g.FAILURE),
             "slow": ("False", "PipelineRunTimeout", g.TIMEOUT), "stop": ("False", "PipelineRunCancelled", g.CANCELLED),
             "live": ("Unknown", "Running", g.UNKNOWN), "v1b1": ("False", "CouldntGetPipeline", g.FAILURE)}
    objs = {n: pr(n, cond=c, reason=r, api="tekton.dev/v1beta1" if n == "v1b1" else "tekton.dev/v1")
            for n, (c, r, _) in cases.items()}
    h.apply([RunUpsert(o) for o in objs.values()])
    got = {r.display_name: r for r in h.list_results(limit=100).items}
    for n, (_, reason, status) in cases.items():
        assert (got[n].status, got[n].reason) == (status, reason), n
    assert got["live"].end is None and got["live"].duration is None
    assert got["v1b1"].summary_type == "tekton.dev/v1beta1.PipelineRun"
    assert h.count_results("status:running") == 1


def test_summary_follows_a_run_to_its_end(h: History) -> None:
    p = pr("p", rv=1, cond="Unknown", reason="Running")
    h.apply([RunUpsert(p)])
    assert h.list_results().items[0].status == g.UNKNOWN
    h.apply([RunUpsert(bump(p, 2, cond="False", reason="PipelineRunTimeout", at=T0))])
    r = h.list_results().items[0]
    assert (r.status, r.end) == (g.TIMEOUT, T0)
    rec = h.records_of(r.id)[0]
    assert rec.final and rec.rv == 2 and rec.status == g.TIMEOUT


def test_annotations_valid_and_malformed(h: History) -> None:
    good = pr("good", annotations={g.RESULT_ANNOTATIONS_INPUT: '{"repo": "web"}',
                                   g.SUMMARY_ANNOTATIONS_INPUT: '{"branch": "main"}'})
    bad = pr("bad", annotations={g.RESULT_ANNOTATIONS_INPUT: "{oops", g.SUMMARY_ANNOTATIONS_INPUT: "[1]"})
    res = h.apply([RunUpsert(good), RunUpsert(bad)])
    assert res.stored == 2 and not res.skipped  # malformed JSON is not fatal
    assert len(res.warnings) == 2
    rows = {r.display_name: r for r in h.list_results().items}
    d = h.result_details(rows["good"].id)
    assert d == {"annotations": {"repo": "web"}, "summary_annotations": {"branch": "main"}, "warnings": []}
    d = h.result_details(rows["bad"].id)
    assert d["annotations"] == {} and d["summary_annotations"] == {}
    assert len(d["warnings"]) == 2 and all("ci/bad" in w for w in d["warnings"])
    seq = h.current_seq()
    assert h.apply([RunUpsert(bad)]).changed == 0  # the same warning is not added twice
    assert h.current_seq() == seq and len(h.result_details(rows["bad"].id)["warnings"]) == 2


def test_bad_objects_are_skipped_not_fatal(h: History) -> None:
    good = pr("good")
    res = h.apply([RunUpsert({"kind": "ConfigMap", "metadata": {"name": "x"}}), RunUpsert(good), RunUpsert("junk")])
    assert res.stored == 1
    assert [s.why for s in res.skipped][0].startswith("kind 'ConfigMap'")
    assert len(res.skipped) == 2
    assert h.size() == (1, 1)


# --- idempotency and resourceVersion ---------------------------------------------------------


def _mixed_batch() -> list:
    p = pr("p", rv=5)
    t = tr("t", p, rv=6)
    gone_p = pr("gone", rv=7)
    return [
        RunUpsert(p), RunUpsert(t), RunUpsert(gone_p), Gone(uid(gone_p), T0 - 5),
        Logs(t, [StepLogData("build", "step-build", b"compiling\n"), StepLogData("test", "step-test", b"ok\n")]),
        Events(t, [{"metadata": {"name": "e1", "resourceVersion": "8"}, "reason": "Pulled", "message": "pulled"}]),
    ]


def test_same_batch_twice_changes_nothing_and_keeps_the_sequence(h: History) -> None:
    batch = _mixed_batch()
    first = h.apply(batch)
    assert first.changed > 0 and first.seq == 1
    snapshot = (h.list_results(limit=100).items, h.list_records(limit=100).items)
    second = h.apply(_copy(batch))
    assert second.changed == 0
    assert second.seq == 1 and h.current_seq() == 1
    assert (h.list_results(limit=100).items, h.list_records(limit=100).items) == snapshot
    cs = h.changes_since(1)
    assert cs.results == [] and cs.records == [] and cs.seq == 1


def _copy(batch: list) -> list:
    import copy

    return copy.deepcopy(batch)


def test_older_resource_version_never_overwrites_newer(h: History) -> None:
    p = pr("p", rv=1, cond="Unknown", reason="Running")
    done = bump(p, 10, cond="True", reason="Succeeded", at=T0)
    h.apply([RunUpsert(done)])
    res = h.apply([RunUpsert(p)])  # a stale event arrives late
    assert res.changed == 0 and res.seq == 1
    r = h.list_results().items[0]
    assert r.status == g.SUCCESS
    rec = h.records_of(r.id)[0]
    assert rec.rv == 10 and rec.status == g.SUCCESS
    assert h.record_object(rec.id)["metadata"]["resourceVersion"] == "10"


def test_older_resource_version_loses_within_one_batch(h: History) -> None:
    p = pr("p", rv=3, cond="Unknown", reason="Running")
    newer = bump(p, 9, cond="False", reason="StepFailed", at=T0)
    older_again = bump(p, 4, cond="Unknown", reason="Running")
    h.apply([RunUpsert(p), RunUpsert(newer), RunUpsert(older_again)])
    r = h.list_results().items[0]
    assert r.status == g.FAILURE
    assert h.records_of(r.id)[0].rv == 9
    # and in the other order too
    q = pr("q", rv=9, cond="True", reason="Succeeded")
    h.apply([RunUpsert(q), RunUpsert(bump(q, 2, cond="Unknown", reason="Running"))])
    assert h.get_result(name=f"ci/results/{uid(q)}").status == g.SUCCESS


def test_newer_version_bumps_sequence_and_feeds_changes(h: History) -> None:
    p = pr("p", rv=1, cond="Unknown", reason="Running")
    other = pr("other", rv=1)
    s1 = h.apply([RunUpsert(p), RunUpsert(other)]).seq
    s2 = h.apply([RunUpsert(bump(p, 2, cond="True", reason="Succeeded"))]).seq
    assert s2 == s1 + 1 == h.current_seq()
    cs = h.changes_since(s1)
    assert cs.seq == s2
    assert [r.display_name for r in cs.results] == ["p"]
    assert [r.run_name for r in cs.records] == ["p"]
    all_changes = h.changes_since(0)
    assert {r.display_name for r in all_changes.results} == {"p", "other"}
    assert h.changes_since(s2).results == []


def test_changes_since_pages_by_whole_sequences(h: History) -> None:
    for i in range(6):
        h.apply([RunUpsert(pr(f"p{i}", rv=1))])
    seen, seq = [], 0
    while True:
        cs = h.changes_since(seq, limit=4)
        if cs.seq == seq:
            break
        seen += [r.display_name for r in cs.results]
        seq = cs.seq
    assert sorted(seen) == [f"p{i}" for i in range(6)]
    assert seq == h.current_seq()


# --- gone, logs, events -------------------------------------------------------------------------


def test_gone_marks_records_and_result_and_keeps_history(h: History) -> None:
    p = pr("p", rv=1)
    t = tr("t", p, rv=2)
    h.apply([RunUpsert(p), RunUpsert(t), Logs(t, [StepLogData("s", "step-s", b"x")])])
    assert h.in_cluster_uids("PipelineRun") == {uid(p)}
    assert h.in_cluster_uids("TaskRun", namespaces=["ci"]) == {uid(t)}
    assert h.in_cluster_uids("TaskRun", namespaces=["elsewhere"]) == set()
    res = h.apply([Gone(uid(t), T0 - 1), Gone(uid(p), T0)])
    assert res.changed >= 3
    r = h.list_results().items[0]
    assert not r.in_cluster and r.gone_at == T0
    recs = {x.kind: x for x in h.records_of(r.id)}
    assert not recs["TaskRun"].in_cluster and recs["TaskRun"].deleted_at == T0 - 1
    assert not recs["Log"].in_cluster  # a run's Log goes with it
    assert h.in_cluster_uids("PipelineRun") == set() and h.in_cluster_uids("TaskRun") == set()
    assert h.size() == (1, 3)  # nothing forgotten
    assert h.apply([Gone(uid(p), T0 + 50)]).changed == 0  # already gone: no change, first time kept
    assert h.list_results().items[0].gone_at == T0


def test_logs_are_stored_per_step_compressed_and_update(h: History) -> None:
    t = tr("t", rv=4)
    big = b"line of output\n" * 5000
    h.apply([RunUpsert(t), Logs(t, [StepLogData("build", "step-build", big),
                                    StepLogData("test", "step-test", b"", truncated=False, state="pod-gone"),
                                    StepLogData("push", "step-push", b"cut", truncated=True)])])
    log = h.log_record_for(uid(t))
    assert log is not None and log.kind == "Log" and log.type == g.TYPE_LOG and log.run_uid == uid(t)
    steps = h.step_logs(log.id)
    assert [(s.step, s.container, s.size, s.truncated, s.state) for s in steps] == [
        ("build", "step-build", len(big), False, "stored"), ("test", "step-test", 0, False, "pod-gone"),
        ("push", "step-push", 3, True, "stored")]
    assert h.step_log_text(steps[0].id) == big
    assert h.step_log_text(steps[2].id) == b"cut"
    seq = h.current_seq()
    res = h.apply([Logs(t, [StepLogData("build", "step-build", big + b"more\n")])])
    assert res.changed > 0 and res.seq == seq + 1
    assert h.step_log_text(h.step_logs(log.id)[0].id).endswith(b"more\n")
    assert log.id in {r.id for r in h.changes_since(seq).records}


def test_events_become_an_eventlist_record(h: History) -> None:
    t = tr("t", rv=4)
    items = [{"metadata": {"name": "e1", "resourceVersion": "30"}, "reason": "Scheduled", "message": "ok"}]
    h.apply([RunUpsert(t), Events(t, items)])
    r = h.list_results().items[0]
    ev = [x for x in h.records_of(r.id) if x.kind == "EventList"]
    assert len(ev) == 1 and ev[0].type == g.TYPE_EVENTLIST and ev[0].run_uid == uid(t)
    assert h.record_object(ev[0].id)["items"] == items
    more = items + [{"metadata": {"name": "e2", "resourceVersion": "31"}, "reason": "Pulled"}]
    assert h.apply([Events(t, more)]).changed == 1
    assert len(h.record_object(ev[0].id)["items"]) == 2
    assert h.apply([Events(t, items)]).changed == 0  # an older list never replaces a newer one
    assert len(h.record_object(ev[0].id)["items"]) == 2


def test_find_runs_newest_first_when_names_repeat(h: History) -> None:
    a = pr("nightly", created=T0 - 3000, rv=1)
    b = pr("nightly", created=T0 - 100, rv=2)
    c = pr("nightly", ns="other", created=T0 - 50, rv=3)
    h.apply([RunUpsert(a), RunUpsert(b), RunUpsert(c)])
    assert [uid(x) for x in (c, b, a)] == [r.uid for r in h.find_runs("nightly")]
    assert [r.uid for r in h.find_runs("nightly", namespace="ci")] == [uid(b), uid(a)]
    assert h.find_runs("absent") == []


def test_clusters_keep_separate_histories(h: History) -> None:
    p = pr("p", rv=1)
    h.apply([RunUpsert(p)], cluster="prod")
    h.apply([RunUpsert(p)], cluster="staging")
    assert h.count_results() == 2
    assert h.count_results("cluster:prod") == 1
    assert h.stored_versions([uid(p)], cluster="prod") == {uid(p): (1, True)}
    assert h.stored_versions([uid(p)], cluster="nope") == {}


def test_values_and_lease(h: History, clock) -> None:
    assert h.get_value("rv/pipelineruns") is None
    h.set_value("rv/pipelineruns", "123")
    h.set_value("rv/pipelineruns", "124")
    assert h.get_value("rv/pipelineruns") == "124"
    assert h.acquire_lease("writer", "a", 30)
    assert not h.acquire_lease("writer", "b", 30)
    assert h.lease("writer")["holder"] == "a" and h.lease("writer")["live"]
    clock.now += 31
    assert not h.lease("writer")["live"]
    assert h.acquire_lease("writer", "b", 30)
    h.release_lease("writer", "b")
    assert h.lease("writer") is None
