"""The list+watch matrix against the simulated cluster, with the real kubernetes client over HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from tekton_results_tui.kinds import RUN_KINDS
from tekton_results_tui.watcher.informer import _shutdown
from tekton_results_tui.watcher.kube import KubeError
from tekton_results_tui.watcher.status import LIVE

from .helpers import converged, differences, pr, tr, wait_for


def _live(svc) -> bool:
    return svc.status().state == LIVE


def _watch_requests(sim, resource: str) -> list:
    return [r for r in sim.requests if r.verb == "watch" and r.resource == resource]


def _list_requests(sim, resource: str) -> list:
    return [r for r in sim.requests if r.verb == "list" and r.resource == resource]


def _informer(svc, plural: str):
    return next(i for i in svc._informers if i.plural == plural)


def test_list_pages_then_stores_everything(sim, make_service):
    sim.preload(pipelineruns=30, taskruns_per=3, seed=1)
    svc = make_service(page_size=7, capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: converged(sim), what="the preloaded runs stored")
    lists = _list_requests(sim, "pipelineruns")
    assert any(r.query.get("continue") for r in lists), "the LIST was not paged"
    assert all(r.query.get("limit") in ("7", "1") for r in lists)
    # the watch starts from the list's resourceVersion, as a string
    w = _watch_requests(sim, "pipelineruns")[0]
    assert w.query["resourceVersion"] != "" and int(w.query["resourceVersion"]) > 0
    assert w.query.get("allowWatchBookmarks") == "true"


def test_watch_resumes_from_last_rv_after_a_dropped_stream(sim, make_service):
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    sim.faults.drop_watches_after(2)
    for i in range(6):
        sim.create("pipelineruns", pr(f"drop-{i}"))
    wait_for(lambda: converged(sim) and svc.counters.get("reconnects") >= 1, what="all runs stored after a drop")
    watches = _watch_requests(sim, "pipelineruns")
    assert len(watches) >= 2
    resumed = int(watches[-1].query["resourceVersion"])
    assert resumed >= int(watches[0].query["resourceVersion"]), "did not resume from a later resourceVersion"
    assert len(_list_requests(sim, "pipelineruns")) == 2, "a dropped stream must not cause a relist"  # probe + first list


def test_bookmarks_advance_the_resource_version(sim, make_service):
    reasons: list[str] = []
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.add_listener(lambda st: reasons.append(st.reason or ""))
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    inf = _informer(svc, "taskruns")
    before = int(inf.rv)
    for i in range(5):
        sim.create("pipelineruns", pr(f"bm-{i}"))  # only the PipelineRun stream sees events
    wait_for(lambda: int(inf.rv) > before, what="a bookmark advancing the TaskRun watch")
    sim.compact(before)  # the old rv is now too old: only the bookmarked one can resume without a 410
    relists = svc.counters.get("relists")
    wait_for(lambda: inf._resp is not None, what="an open TaskRun stream")
    _shutdown(inf._resp)
    wait_for(lambda: len(_watch_requests(sim, "taskruns")) >= 2 and _live(svc), what="the TaskRun watch resumed")
    assert int(_watch_requests(sim, "taskruns")[-1].query["resourceVersion"]) > before
    assert svc.counters.get("expired") == 0 and svc.counters.get("relists") == relists, reasons


@pytest.mark.parametrize("how", ["error-event", "http-status"])
def test_410_relists(sim, make_service, how):
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    relists = svc.counters.get("relists")
    if how == "error-event":
        sim.faults.gone_on_next_watch()
    else:
        sim.faults.http_error(410, verb="watch", resource="pipelineruns")
    sim.faults.drop_watches_after(1)
    for i in range(3):
        sim.create("pipelineruns", pr(f"gone-{i}"))
    wait_for(lambda: svc.counters.get("relists") > relists and converged(sim), what="a relist after 410")
    assert svc.counters.get("expired") >= 1


@pytest.mark.parametrize("status", [503, 429])
def test_5xx_and_429_back_off_honouring_retry_after(sim, make_service, status):
    reasons: list[str] = []
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.add_listener(lambda st: reasons.append(st.reason or ""))
    sim.faults.http_error(status, times=2, retry_after=1, verb="watch")
    t0 = time.monotonic()
    svc.start()
    wait_for(lambda: _live(svc), what="live after the errors")
    assert time.monotonic() - t0 >= 1.0, "Retry-After: 1 was not honoured"
    assert svc.counters.get("errors") >= 2
    assert any(f"{status}" in r and "Retry-After" in r for r in reasons), reasons
    sim.create("pipelineruns", pr("after-backoff"))
    wait_for(lambda: converged(sim), what="storing after the backoff")


def test_stalled_stream_hits_the_read_timeout_and_reconnects(sim, make_service):
    reasons: list[str] = []
    svc = make_service(read_timeout_s=1.0, capture_logs=False, capture_events=False, annotate=False)
    svc.add_listener(lambda st: reasons.append(st.reason or ""))
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    sim.faults.stall_watches(4.0, times=2)
    wait_for(lambda: svc.counters.get("reconnects") >= 1, what="a reconnect after a read timeout")
    assert any("read timeout" in r for r in reasons), reasons
    sim.create("pipelineruns", pr("after-stall"))
    wait_for(lambda: converged(sim), what="storing after the reconnect")
    assert svc.counters.get("relists") == len(RUN_KINDS)  # one LIST per kind at start: resumed, not relisted


def test_stop_during_a_blocked_read_returns_within_2s(sim, make_service):
    svc = make_service(read_timeout_s=60.0, capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    sim.faults.stall_watches(30.0, times=2)
    wait_for(lambda: not sim.faults._stalls, what="both streams stalled")  # claimed = the streams are silent now
    t0 = time.monotonic()
    svc.stop(5.0)
    assert time.monotonic() - t0 < 2.0
    assert all(not (i._thread and i._thread.is_alive()) for i in svc._informers)


def test_403_on_list_names_the_verb_and_resource(sim, make_service):
    sim.faults.forbid("list", "taskruns")
    svc = make_service()
    with pytest.raises(KubeError) as ei:
        svc.start()
    msg = str(ei.value)
    assert "403" in msg and "list" in msg and "taskruns" in msg and "\n" not in msg
    assert svc.history.lease(f"watcher:{svc.cluster}") is None, "the lease must be released when start fails"


def test_403_on_watch_is_shown_in_the_status(sim, make_service):
    sim.faults.forbid("watch", "pipelineruns")
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    st = wait_for(lambda: (s := svc.status()).last_error and s, what="an error in the status")
    assert "403" in st.last_error and "watch" in st.last_error and "pipelineruns" in st.last_error
    assert st.state != LIVE
    sim.faults.clear()
    wait_for(lambda: _live(svc), timeout=10, what="live once allowed")


def test_deletions_while_not_watching_are_marked_gone_by_the_relist(sim, make_service, history):
    p = [sim.create("pipelineruns", pr(f"del-{i}")) for i in range(4)]
    sim.create("taskruns", tr("del-0-t", p[0]))
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: converged(sim), what="stored")
    svc.stop()
    sim.delete("pipelineruns", "ci", "del-0")  # takes its TaskRun along (background GC)
    sim.delete("pipelineruns", "ci", "del-1")
    sim.compact()
    svc2 = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc2.start()
    wait_for(lambda: converged(sim), what="gone runs marked by the relist: " + "; ".join(differences(sim)[:3]))
    gone = {r.uid for r in [history.get_record(uid=o["metadata"]["uid"]) for o in p[:2]] if r and not r.in_cluster}
    assert gone == {o["metadata"]["uid"] for o in p[:2]}, "history kept, marked gone"


def test_restart_resumes_with_no_duplicates(sim, make_service, history):
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    ps = [sim.create("pipelineruns", pr(f"rs-{i}")) for i in range(5)]
    wait_for(lambda: converged(sim), what="first run stored")
    svc.stop()
    for i, p in enumerate(ps):
        sim.create("taskruns", tr(f"rs-{i}-t", p))
    sim.patch_status("pipelineruns", "ci", "rs-0", {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]})
    svc2 = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc2.start()
    wait_for(lambda: converged(sim), what="converged after restart")
    n_results, n_records = history.size()
    assert n_records == 10 and n_results == 5


def test_a_second_watcher_on_the_same_history_is_refused_with_the_holder(sim, make_service):
    from tekton_results_tui.watcher.service import LeaseHeldError

    a = make_service(capture_logs=False, capture_events=False, annotate=False)
    a.start()
    b = make_service()
    with pytest.raises(LeaseHeldError) as ei:
        b.start()
    assert a.holder in str(ei.value) and ei.value.holder == a.holder
    a.stop()
    b.start()  # released on stop
    assert b.status().state in ("live", "starting", "reconnecting")


def test_stop_flushes_what_was_queued(sim, make_service, history):
    svc = make_service(capture_logs=False, capture_events=False, annotate=False, batch_wait_s=5.0, batch_max=100000)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    for i in range(20):
        sim.create("pipelineruns", pr(f"fl-{i}"))
    wait_for(lambda: svc.counters.get("events") >= 20, what="events received")
    svc.stop()
    assert converged(sim), differences(sim)
