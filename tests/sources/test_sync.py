"""sync from a Results server: what lands in the store, incrementally, in both JSON spellings."""

from __future__ import annotations

import base64
import json

import pytest
from fake_results import FakeResults
from store_objects import pr, run, tr

from tekton_results_tui.sources import sync as sync_module
from tekton_results_tui.sources.client import ResultsClient
from tekton_results_tui.sources.sync import ResultsSync
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import is_sqlite

CLUSTER = "upstream"


@pytest.fixture(autouse=True, params=["in-process", "reader-process"])
def pages_read(request, monkeypatch) -> str:
    """Every test twice: pages read on a thread of the writing process, and (from the second page of a
    pass on) by the reader process, which a pass uses whenever its first page is full."""
    if request.param == "reader-process":
        monkeypatch.setattr(sync_module, "READER_MIN_PAGE_SIZE", 1)
        monkeypatch.setattr(sync_module, "MIN_BATCH_RUNS", 3)  # batches of several pages, not the whole pass
    else:
        monkeypatch.setattr(sync_module, "READER_MIN_PAGE_SIZE", 10**9)
    return request.param


def odd_text(obj: dict) -> str:
    """JSON text no serializer of ours would write (spaces, key order, escapes): proves byte identity."""
    return json.dumps(obj, indent=1, ensure_ascii=True, sort_keys=True).replace('": ', '" : ')


def tr_log(steps: dict[str, str]) -> bytes:
    """A TaskRun log as upstream's watcher writes it: every line prefixed with its step."""
    return b"".join(f"[{s}] {line}\n".encode() for s, text in steps.items() for line in text.splitlines())


def populate(fake: FakeResults) -> dict:
    p = pr("build-1", annotations={})
    t1 = tr("build-1-compile", p, pipeline_task="compile")
    t2 = tr("build-1-test", p, pipeline_task="test", cond="False", reason="Failed")
    c = run("CustomRun", "build-1-approve", owner=p, api="tekton.dev/v1beta1", task=None, pipeline="build")
    texts = {}
    for obj in (p, t1, t2, c):
        rec = fake.put_run(obj, odd_text(obj))
        texts[obj["metadata"]["uid"]] = rec.text
    fake.put_log(t1, tr_log({"build": "compiling\nok", "test": "PASS"}))
    fake.put_log(t2, tr_log({"build": "FAIL: boom"}))
    fake.put_log(p, tr_log({"compile": "pipeline-level log"}))  # upstream keeps PipelineRun logs too
    fake.put_events(t1, [{"metadata": {"name": "ev1", "resourceVersion": "7"}, "reason": "Started",
                          "involvedObject": {"kind": "TaskRun", "uid": t1["metadata"]["uid"]}}])
    return {"pr": p, "t1": t1, "t2": t2, "cr": c, "texts": texts}


def assert_stored_as_served(history, record_id: int, text: str) -> None:
    """SQLite keeps the served text byte for byte; PostgreSQL's JSONB keeps the same object in its own
    canonical text (key order and spacing are JSONB's), so there the object is compared."""
    stored = history.record_data(record_id)
    if is_sqlite(history.db):
        assert stored == text
    else:
        assert json.loads(stored) == json.loads(text)


def new_sync(history, fake: FakeResults, page_size: int = 2, **kw) -> ResultsSync:
    return ResultsSync(history, ResultsClient(fake.url, read_timeout_s=5), CLUSTER, page_size=page_size, **kw)


def test_sync_stores_runs_byte_identical_with_logs_and_events(history, fake):
    objs = populate(fake)
    stats = new_sync(history, fake).run_once()
    assert stats.skipped == 0, stats.skipped_names
    assert (stats.runs, stats.logs, stats.events) == (4, 2, 1)
    assert stats.other == 1  # the PipelineRun's own log: its TaskRuns' lines are stored as theirs
    p = objs["pr"]
    result_name = f"ci/results/{p['metadata']['uid']}"
    res = history.get_result(name=result_name, cluster=CLUSTER)
    assert res is not None and res.summary_type == g.TYPE_PIPELINERUN and res.status == "SUCCESS"
    for key in ("pr", "t1", "t2", "cr"):
        uid = objs[key]["metadata"]["uid"]
        row = history.get_record(uid=uid, cluster=CLUSTER)
        assert row is not None and row.name == f"{result_name}/records/{uid}"
        assert_stored_as_served(history, row.id, objs["texts"][uid])
    assert history.get_record(uid=objs["cr"]["metadata"]["uid"], cluster=CLUSTER).kind == "CustomRun"
    log = history.log_record_for(objs["t1"]["metadata"]["uid"], cluster=CLUSTER)
    steps = history.step_logs(log.id)
    assert [(s.step, s.container) for s in steps] == [("build", "step-build"), ("test", "step-test")]
    assert [history.step_log_text(s.id) for s in steps] == [b"compiling\nok\n", b"PASS\n"]
    ev = [r for r in history.records_of(res.id) if r.kind == "EventList"]
    assert len(ev) == 1 and ev[0].run_uid == objs["t1"]["metadata"]["uid"]
    assert history.record_object(ev[0].id)["items"][0]["reason"] == "Started"


def test_second_sync_fetches_only_what_changed(history, fake):
    objs = populate(fake)
    s = new_sync(history, fake, page_size=3)
    first = s.run_once()
    n_records = len(fake.records)
    assert first.records == n_records
    fake.requests.clear()
    again = s.run_once()
    # one list request: the records at the cursor's timestamp come back and are recognised, nothing applied
    assert len(fake.list_requests()) == 1 and fake.log_requests() == []
    assert again.applied == 0 and again.changed == 0 and again.records <= 1
    seq = history.current_seq()
    # a TaskRun changes upstream, a new PipelineRun appears
    t2 = objs["t2"]
    t2b = json.loads(json.dumps(t2))
    t2b["metadata"]["resourceVersion"] = "99"
    t2b["metadata"]["labels"]["retried"] = "yes"
    fake.put_run(t2b, odd_text(t2b))
    p2 = pr("build-2")
    fake.put_run(p2, odd_text(p2))
    fake.requests.clear()
    third = s.run_once()
    assert third.applied == 2 and third.runs == 2
    assert third.records <= 3  # the two changes (and at most the record at the old cursor time)
    assert len(fake.list_requests()) == 1
    flt = fake.list_requests()[0].get("filter")
    assert flt and "update_time >= timestamp(" in flt[0]
    assert history.current_seq() > seq
    row = history.get_record(uid=t2["metadata"]["uid"], cluster=CLUSTER)
    assert row.rv == 99
    assert_stored_as_served(history, row.id, odd_text(t2b))


def test_records_sharing_a_timestamp_across_pages_are_neither_lost_nor_applied_twice(history, fake):
    same = FakeResults.now_ns(fake)
    objs = [pr(f"same-{i}") for i in range(7)]
    for o in objs:
        fake.put_run(o, update_ns=same)
    s = new_sync(history, fake, page_size=2)
    first = s.run_once()
    assert first.runs == 7 and first.pages == 4
    assert all(history.get_record(uid=o["metadata"]["uid"], cluster=CLUSTER) for o in objs)
    # a new record at that same timestamp (a server with coarse clocks): found, the others skipped
    late = pr("same-late")
    fake.put_run(late, update_ns=same)
    again = s.run_once()
    assert again.applied == 1 and again.runs == 1
    assert history.get_record(uid=late["metadata"]["uid"], cluster=CLUSTER) is not None
    assert s.run_once().applied == 0


def test_server_without_update_time_filter_on_records(history, spelling):
    """Upstream's Records filter has no update_time: the sync lists everything and applies only changes."""
    fake = FakeResults(spelling=spelling, time_filter=False).start()
    try:
        populate(fake)
        s = new_sync(history, fake, page_size=50)
        assert s.run_once().runs == 4
        fake.requests.clear()
        again = s.run_once()
        assert again.applied == 0 and again.changed == 0
        # the refused filter was asked once, then never again
        filters = [q.get("filter", [""])[0] for q in fake.list_requests()]
        assert filters[0].startswith("update_time >= timestamp(") and filters[1:] == [""]
        fake.requests.clear()
        assert s.run_once().applied == 0
        assert [q.get("filter", [""])[0] for q in fake.list_requests()] == [""]
    finally:
        fake.stop()


def test_log_before_its_taskrun_waits_for_it(history, fake):
    p = pr("early")
    t = tr("early-t", p)
    fake.put_run(p)
    fake.put_log(t, tr_log({"build": "hello"}))  # updated before the TaskRun's last version
    s = new_sync(history, fake, page_size=1)
    first = s.run_once()
    fake.put_run(t)
    assert first.waiting in (0, 1)
    second = s.run_once()
    assert second.waiting == 0
    log = history.log_record_for(t["metadata"]["uid"], cluster=CLUSTER)
    assert log is not None
    assert [history.step_log_text(x.id) for x in history.step_logs(log.id)] == [b"hello\n"]


def test_plain_text_logs_and_own_log_records_split_by_step_sizes(history, spelling):
    """A server answering text/plain logs, with Log records listing their steps (this program's shape)."""
    fake = FakeResults(spelling=spelling, log_style="text").start()
    try:
        p = pr("own")
        t = tr("own-t", p)
        fake.put_run(p)
        fake.put_run(t)
        rid = g.derived_uid(t["metadata"]["uid"], "Log")
        rec = fake.put_log(t, b"line one\nno newline at end" + b"second step\n", record_id=rid)
        doc = json.loads(rec.text)
        doc["status"]["steps"] = [
            {"name": "a", "container": "step-a", "size": 26, "truncated": True, "state": "stored"},
            {"name": "b", "container": "step-b", "size": 12, "truncated": False, "state": "stored"},
            {"name": "c", "container": "step-c", "size": 0, "truncated": False, "state": "not-started"}]
        fake.put(rec.name, rec.type, json.dumps(doc))
        assert new_sync(history, fake).run_once().logs == 1
        log = history.log_record_for(t["metadata"]["uid"], cluster=CLUSTER)
        assert log.uid == rid
        steps = history.step_logs(log.id)
        assert [(s.step, s.container, s.truncated, s.state) for s in steps] == [
            ("a", "step-a", True, "stored"), ("b", "step-b", False, "stored"), ("c", "step-c", False, "not-started")]
        assert [history.step_log_text(s.id) for s in steps] == [b"line one\nno newline at end", b"second step\n", b""]
    finally:
        fake.stop()


def test_runs_deleted_from_the_source_are_kept(history, fake):
    objs = populate(fake)
    s = new_sync(history, fake)
    s.run_once()
    fake.records.clear()
    s.run_once()
    row = history.get_record(uid=objs["t1"]["metadata"]["uid"], cluster=CLUSTER)
    assert row is not None and row.in_cluster and row.deleted_at is None


def test_filter_and_parent_reach_the_server(history, fake):
    populate(fake)
    other = pr("elsewhere", ns="other")
    fake.put_run(other)
    s = new_sync(history, fake, parent="other", user_filter='data_type == "tekton.dev/v1.PipelineRun"')
    stats = s.run_once()
    assert stats.runs == 1
    assert history.get_record(uid=other["metadata"]["uid"], cluster=CLUSTER) is not None
    path, q = fake.requests[0]
    assert path.endswith("/parents/other/results/-/records")
    assert q["filter"] == ['(data_type == "tekton.dev/v1.PipelineRun")']
    assert q["order_by"] == ["update_time asc"]
    s.run_once()
    flt = fake.list_requests()[-1]["filter"][0]
    assert flt.startswith('(data_type == "tekton.dev/v1.PipelineRun") && update_time >= timestamp("')


def test_unreadable_records_are_skipped_and_named(history, fake):
    populate(fake)
    fake.mode = "bad-records"
    stats = new_sync(history, fake, page_size=50).run_once()
    assert stats.runs == 4 and stats.skipped == 2
    assert any("not base64" in w for w in stats.skipped_names)
    assert any("a str where a Record was expected" in w for w in stats.skipped_names)


def test_a_timestamp_the_server_clock_is_well_past_is_not_fetched_again(history, spelling):
    """An old history (timestamps far behind the server's Date): the next pass asks for `>` the cursor,
    so a bulk-written second on a second-precision server is not read again on every pass."""
    from fake_results import T0_NS

    fake = FakeResults(spelling=spelling, base_ns=T0_NS).start()
    try:
        same = fake.now_ns()
        for i in range(5):
            fake.put_run(pr(f"old-{i}"), update_ns=same)
        s = new_sync(history, fake, page_size=2)
        assert s.run_once().runs == 5
        fake.requests.clear()
        again = s.run_once()
        assert again.records == 0 and again.applied == 0
        assert 'update_time > timestamp("' in fake.list_requests()[0]["filter"][0]
        fake.put_run(pr("new-one"))  # later than the cursor: found
        assert s.run_once().runs == 1
    finally:
        fake.stop()


def test_a_server_ignoring_the_order_still_gets_everything_and_the_cursor_moves_at_the_end(history, fake):
    objs = [pr(f"u-{i}") for i in range(6)]
    for o in objs:
        fake.put_run(o)
    real = fake._list

    def shuffled(h, parent, result, q):  # answers pages newest first, whatever order_by says
        q = {k: v for k, v in q.items() if k not in ("order_by", "orderBy")}
        with fake._lock:
            saved = dict(fake.records)
            fake.records = dict(sorted(saved.items(), key=lambda kv: -kv[1].update_ns))
        try:
            return real(h, parent, result, q)
        finally:
            with fake._lock:
                fake.records = {**saved, **{k: v for k, v in fake.records.items() if k not in saved}}

    fake._list = shuffled
    s = new_sync(history, fake, page_size=2)
    assert s.run_once().runs == 6
    assert all(history.get_record(uid=o["metadata"]["uid"], cluster=CLUSTER) for o in objs)
    again = s.run_once()
    assert again.applied == 0
    late = pr("u-late")
    fake.put_run(late)
    assert s.run_once().runs == 1


def test_long_logs_are_capped_per_step_and_marked_truncated(history, fake):
    p = pr("long")
    t = tr("long-t", p)
    fake.put_run(p)
    fake.put_run(t)
    fake.put_log(t, tr_log({"build": "x" * 100 + "\n" + "y" * 100, "test": "short"}))
    s = new_sync(history, fake, step_log_cap=50)
    assert s.run_once().logs == 1
    log = history.log_record_for(t["metadata"]["uid"], cluster=CLUSTER)
    steps = history.step_logs(log.id)
    assert [(x.step, x.truncated, history.step_log_text(x.id)) for x in steps] == [
        ("build", True, b"x" * 50), ("test", False, b"short\n")]


def test_a_log_cut_at_the_client_limit_keeps_whole_chunks(history, fake):
    """Upstream's JSON stream cut mid-object at the size limit: the chunks before the cut are kept."""
    from tekton_results_tui.sources.client import ResultsClient

    p = pr("huge")
    t = tr("huge-t", p)
    fake.put_run(p)
    fake.put_run(t)
    fake.put_log(t, ("[build] " + "z" * 500 + "\n").encode() * 20)  # ~10 kB in 1 kB JSON chunks
    s = ResultsSync(history, ResultsClient(fake.url, read_timeout_s=5, max_log_bytes=4000), CLUSTER)
    assert s.run_once().logs == 1
    log = history.log_record_for(t["metadata"]["uid"], cluster=CLUSTER)
    (step,) = history.step_logs(log.id)
    text = history.step_log_text(step.id)
    assert step.truncated and 1000 <= len(text) < 4000 and set(text) <= set(b"z\n")


def test_a_source_result_name_that_is_not_a_plain_id_is_not_adopted(history, fake):
    p = pr("odd")
    fake.put_run(p, result="ci/results/" + "x" * 600)  # longer than any Result name column holds
    t = pr("odd2")
    fake.put_run(t, result="other-ns/results/abc")  # another namespace's Result
    assert new_sync(history, fake).run_once().runs == 2
    for o in (p, t):
        row = history.get_record(uid=o["metadata"]["uid"], cluster=CLUSTER)
        assert row.name == f"ci/results/{o['metadata']['uid']}/records/{o['metadata']['uid']}"


def test_a_server_refusing_order_by_and_time_filters(history, spelling):
    """A server older than ordering: unordered passes, applying only what changed; the cursor moves at the end."""
    fake = FakeResults(spelling=spelling, time_filter=False).start()
    fake.order_by = False
    try:
        populate(fake)
        s = new_sync(history, fake, page_size=3)
        first = s.run_once()
        assert first.runs == 4 and first.logs == 2 and first.skipped == 0
        assert s.run_once().applied == 0
        fake.requests.clear()
        p2 = pr("later")
        fake.put_run(p2)
        third = s.run_once()
        assert third.applied == 1 and third.runs == 1
        assert all("order_by" not in q and "filter" not in q for q in fake.list_requests())
    finally:
        fake.stop()


def test_nan_and_bad_text_records_are_skipped_the_page_stored(history, fake):
    ok = pr("fine")
    fake.put_run(ok)
    bad = pr("nan")
    fake.put_run(bad, text=json.dumps(bad).replace('"annotations": {}', '"annotations": {}, "x": NaN'))
    worse = fake.put_run(pr("latin1"))
    real = fake._record_json

    def record_json(r):  # this one's data is served as bytes that are not UTF-8
        out = real(r)
        if r.name == worse.name:
            out["data"] = {"type": r.type, "value": base64.b64encode(b"\xff{").decode()}
        return out

    fake._record_json = record_json
    stats = new_sync(history, fake, page_size=10).run_once()
    assert stats.runs == 1 and stats.skipped == 2, stats.skipped_names
    assert any("NaN is not JSON" in w for w in stats.skipped_names)
    assert history.get_record(uid=ok["metadata"]["uid"], cluster=CLUSTER) is not None
    assert history.get_record(uid=bad["metadata"]["uid"], cluster=CLUSTER) is None


def test_a_taskrun_updated_after_its_log_is_fetched_so_the_log_does_not_wait(history, fake, pages_read):
    """Upstream's order: the TaskRun's last update (annotations) comes after its Log record."""
    p = pr("late-run")
    t = tr("late-run-t", p)
    fake.put_run(p)
    fake.put_run(t)
    fake.put_log(t, tr_log({"build": "early log"}))
    t2 = json.loads(json.dumps(t))
    t2["metadata"]["resourceVersion"] = "5"
    t2["metadata"]["annotations"]["results.tekton.dev/log"] = "x"
    fake.put_run(t2)  # the same Record, now after the Log in update_time order
    s = new_sync(history, fake, page_size=1)
    stats = s.run_once()
    assert stats.waiting == 0 and stats.logs == 1
    if pages_read == "in-process":  # read ahead, the run's page may be in the Log's batch: no need to ask
        assert any(p_.endswith("/records/" + t["metadata"]["uid"]) for p_, _ in fake.requests)
    log = history.log_record_for(t["metadata"]["uid"], cluster=CLUSTER)
    assert [history.step_log_text(x.id) for x in history.step_logs(log.id)] == [b"early log\n"]
    assert history.get_record(uid=t["metadata"]["uid"], cluster=CLUSTER).rv == 5



def test_a_pipelineruns_log_is_not_downloaded(history, fake):
    """A PipelineRun's Log holds its TaskRuns' lines (stored as theirs): it is never fetched, not even
    ahead of its page (the prefetch asked for every Log of a page, downloading each pipeline's lines
    twice), and each TaskRun's log is fetched once."""
    import threading
    import uuid

    objs = populate(fake)
    stats = new_sync(history, fake, page_size=100).run_once()
    for th in threading.enumerate():  # a log fetch still in flight reaches the server before it is asked
        if th.name.startswith("sync-log"):
            th.join()
    assert stats.logs == 2 and stats.other == 1
    log_id = {k: str(uuid.uuid5(uuid.NAMESPACE_URL, objs[k]["metadata"]["uid"] + "log")) for k in ("pr", "t1", "t2")}
    asked = sorted(p.rsplit("/logs/", 1)[1] for p in fake.log_requests())
    assert asked == sorted([log_id["t1"], log_id["t2"]])


def test_a_log_record_with_an_odd_spec_is_skipped_not_a_crash(history, fake):
    """A Log record whose `spec` is not an object (a string, a list) has no run to match: it waits like
    any Log whose run is unknown; the sync goes on (it raised AttributeError, every pass)."""
    objs = populate(fake)
    t1 = objs["t1"]
    result = f"ci/results/{objs['pr']['metadata']['uid']}"
    for i, spec in enumerate(["x", ["y"], {"resource": "z"}, {"resource": {"uid": {"a": 1}}}]):
        doc = {"kind": "Log", "apiVersion": "results.tekton.dev/v1alpha3", "metadata": {"uid": f"odd-{i}"},
               "spec": spec}
        fake.put(f"{result}/records/odd-{i}", "results.tekton.dev/v1alpha3.Log", json.dumps(doc))
    for i, items in enumerate([5, "x", [{"involvedObject": "y"}], [{"involvedObject": {"uid": {"b": 2}}}]]):
        fake.put(f"{result}/records/odd-ev-{i}", "results.tekton.dev/v1.EventList",
                 json.dumps({"kind": "EventList", "items": items}))
    s = new_sync(history, fake, page_size=50)
    stats = s.run_once()
    assert stats.runs == 4 and stats.logs == 2
    assert s.run_once().pages == 1  # the waiting ones are looked at again without a crash
