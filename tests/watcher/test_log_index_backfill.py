"""The log index of an existing history is built by the running watcher (no reindex-logs): between live
changes, one batch at a time, resumable across a restart, past database errors (watcher/log_backfill.py).

Real SQLite files and the simulated cluster over real HTTP; the index is emptied with
log_index.empty_index, which leaves the history as one from before the index, once migrated.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import peewee as pw
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))  # store_objects: run builders

from store_objects import T0, pr as store_pr, tr as store_tr  # noqa: E402

from tekton_results_tui.store import log_index as li  # noqa: E402
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData  # noqa: E402
from tekton_results_tui.watcher import log_backfill as lb  # noqa: E402

from .helpers import done_status, pr, wait_for  # noqa: E402

STEP_LOGS = 40  # 20 TaskRuns x 2 steps


def _old_history(h: History) -> None:
    """Runs with step logs stored under another cluster (the watcher's relists leave them alone), then the
    index emptied: a history from before the log index."""
    changes: list = []
    for n in range(STEP_LOGS // 2):
        p = store_pr(f"old-{n}", created=T0 - 9000 + n * 60)
        t = store_tr(f"old-{n}-t", p, created=T0 - 9000 + n * 60 + 1)
        body = b"".join(b"line %d of old-%d\n" % (i, n) for i in range(300))
        changes += [RunUpsert(p), RunUpsert(t),
                    Logs(t, [StepLogData("fetch", "step-fetch", body),
                             StepLogData("build", "step-build", body + b"error: needle%d here\n" % n)])]
    h.apply(changes, cluster="other")
    li.empty_index(h.db)
    assert h.log_index_pending() == STEP_LOGS and h.search_logs("needle3").hits == []


def _rows(h: History) -> list:
    docs = {k: sid for sid, k in h.db.execute_sql("SELECT step_log_id, key FROM log_doc").fetchall()}
    return sorted((docs.get(li.block_of(k)[0]), li.block_of(k)[1], body)
                  for k, body in h.db.execute_sql(f"SELECT rowid, body FROM {li.FTS}").fetchall())


@pytest.fixture
def one_step_log_batches(monkeypatch):
    """Batches of one step log each: a long backfill out of a small history."""
    monkeypatch.setattr(lb, "FIRST_STEP_LOGS", 1)
    monkeypatch.setattr(lb, "MAX_STEP_LOGS", 1)


def test_the_running_watcher_builds_the_index_and_logs_become_searchable(sim, make_service, history):
    _old_history(history)
    svc = make_service()
    svc.start()
    wait_for(lambda: history.log_index_pending() == 0, what="the index built by the watcher")
    assert svc.counters.get("log_index_backfilled") == STEP_LOGS
    assert "log_index_pending" not in svc.status().counts  # a level shown only while there is some
    hits = history.search_logs("needle3").hits
    assert [(x.run_name, x.step, x.line) for x in hits] == [("old-3-t", "build", 301)]
    page = history.search_logs("line 7 of old")
    assert page.index_complete and len(page.hits) == 50
    assert history.log_index_being_built()  # its heartbeat: a search says the index is being built, not what to run


def test_a_live_change_waits_behind_at_most_one_batch(sim, make_service, history, one_step_log_batches):
    _old_history(history)
    svc = make_service()
    gate, blocked = threading.Event(), threading.Event()
    calls: list[bool] = []  # per batch: was the live run stored when the batch began
    live: dict = {}
    real = history.reindex_logs_batch

    def batch(*a, **kw):
        calls.append(bool(live) and history.get_record(uid=live["metadata"]["uid"], cluster="sim") is not None)
        if len(calls) == 2:  # the second batch holds the writer until the live run is queued
            blocked.set()
            assert gate.wait(20)
        return real(*a, **kw)

    history.reindex_logs_batch = batch  # type: ignore[method-assign]
    svc.start()
    assert blocked.wait(20)
    # progress in the status and the metrics: one batch of one step log done
    assert svc.status().counts["log_index_pending"] == STEP_LOGS - 1
    assert svc.counters.get("log_index_backfilled") == 1
    from tekton_results_tui.watcher.metrics import PREFIX, StatusCollector

    got = {m.name: m.samples[0].value for m in StatusCollector(svc.status).collect() if m.samples}
    assert got[PREFIX + "log_index_pending"] == STEP_LOGS - 1 and got[PREFIX + "log_index_backfilled"] == 1
    live.update(sim.create("pipelineruns", pr("live")))
    wait_for(lambda: any(getattr(i, "obj", {}).get("metadata", {}).get("name") == "live" for i in list(svc._writer.q.queue)),
             what="the live run queued for the writer")
    gate.set()  # this batch ends; the next one may begin only once the live run is stored
    wait_for(lambda: len(calls) >= 3, what="the backfill going on after the live change")
    assert calls[:2] == [False, False] and calls[2], calls
    assert svc._writer.log_backfill.pending > 0  # the live run did not wait for the whole backfill
    wait_for(lambda: history.log_index_pending() == 0, what="the index completed")
    assert len(history.search_logs("needle").hits) == STEP_LOGS // 2


def test_live_runs_during_a_long_backfill_are_all_stored(sim, make_service, history, one_step_log_batches):
    _old_history(history)
    svc = make_service()
    gate, blocked = threading.Event(), threading.Event()
    queued: dict[str, int] = {}  # uid -> the resourceVersion the cluster had when the writer was let go
    stored_at_batch: list[bool] = []
    real = history.reindex_logs_batch

    def batch(*a, **kw):
        stored_at_batch.append(bool(queued) and all(_stored_rv(history, u) >= rv for u, rv in queued.items()))
        if len(stored_at_batch) == 3:  # hold the writer while the runs are created and change
            blocked.set()
            assert gate.wait(20)
        return real(*a, **kw)

    history.reindex_logs_batch = batch  # type: ignore[method-assign]
    svc.start()
    assert blocked.wait(20)
    uids = []
    for n in range(5):
        uids.append(sim.create("pipelineruns", pr(f"live-{n}"))["metadata"]["uid"])
        sim.patch_status("pipelineruns", "ci", f"live-{n}", done_status())
    latest = {u: _cluster_rv(sim, u) for u in uids}  # the writer is held: nothing annotates them meanwhile

    def all_queued() -> bool:
        seen = {(o["metadata"]["uid"], int(o["metadata"]["resourceVersion"]))
                for o in (getattr(i, "obj", None) for i in list(svc._writer.q.queue)) if isinstance(o, dict)}
        return all((u, rv) in seen for u, rv in latest.items())

    wait_for(all_queued, what="every run's latest change queued for the writer")
    queued.update(latest)
    gate.set()
    wait_for(lambda: history.log_index_pending() == 0, what="the index completed")
    # every creation and change queued while a batch ran was stored before the next batch began (the
    # watcher's own annotations of those runs come later, as new events: they are checked below)
    assert stored_at_batch[:4] == [False, False, False, True], stored_at_batch
    wait_for(lambda: all(_stored_current(sim, history, u) for u in uids), what="none lost (annotations too)")
    assert svc.counters.get("log_index_backfilled") == STEP_LOGS


def _cluster_rv(sim, uid: str) -> int:
    obj = next(o for o in sim.list_objects("pipelineruns") if o["metadata"]["uid"] == uid)
    return int(obj["metadata"]["resourceVersion"])


def _stored_rv(history: History, uid: str) -> int:
    rec = history.get_record(uid=uid, cluster="sim")
    return rec.rv if rec is not None else -1


def _stored_current(sim, history: History, uid: str) -> bool:
    """The run is stored at the resourceVersion the cluster has now."""
    rec = history.get_record(uid=uid, cluster="sim")
    obj = next((o for o in sim.list_objects("pipelineruns") if o["metadata"]["uid"] == uid), None)
    return rec is not None and obj is not None and rec.rv == int(obj["metadata"]["resourceVersion"])


def test_stopped_mid_backfill_then_started_again_resumes(sim, make_service, history, one_step_log_batches):
    _old_history(history)
    li.backfill_batch(history.db, batch=STEP_LOGS)  # the reference: the whole index, built in one go
    reference = _rows(history)
    li.empty_index(history.db)
    first = make_service()
    gate, reached = threading.Event(), threading.Event()
    real = history.reindex_logs_batch

    def batch(*a, **kw):
        if first._writer.log_backfill.batches == 5:  # hold the sixth batch until the stop was asked for
            reached.set()
            assert gate.wait(20)
        return real(*a, **kw)

    history.reindex_logs_batch = batch  # type: ignore[method-assign]
    first.start()
    assert reached.wait(20)
    stopper = threading.Thread(target=first.stop, args=(10.0,))
    stopper.start()
    wait_for(lambda: first._writer._stopping.is_set(), what="the stop asked for")
    gate.set()
    stopper.join(20)
    assert not stopper.is_alive()
    assert history.log_index_pending() == STEP_LOGS - 6 and li.backfill_state() not in (None, "0")
    del history.reindex_logs_batch  # the real one again
    second = make_service()
    second.start()
    wait_for(lambda: history.log_index_pending() == 0, what="the index completed by the next watcher")
    assert second.counters.get("log_index_backfilled") == STEP_LOGS - 6
    assert _rows(history) == reference


def test_database_errors_in_a_batch_are_retried_and_never_stop_the_writer(sim, make_service, history, monkeypatch):
    monkeypatch.setattr(lb, "RETRY_FIRST_S", 0.05)
    _old_history(history)
    real = history.reindex_logs_batch
    failures = iter([pw.OperationalError("database is locked"), pw.IntegrityError("something odd")])

    def batch(*a, **kw):
        exc = next(failures, None)
        if exc is not None:
            raise exc
        return real(*a, **kw)

    history.reindex_logs_batch = batch  # type: ignore[method-assign]
    svc = make_service()
    svc.start()
    wait_for(lambda: history.log_index_pending() == 0, what="the index built after the errors")
    assert svc.counters.get("db_errors") >= 1 and svc.counters.get("errors.log_index") == 1
    assert svc.status().last_error == "building the log index: IntegrityError: something odd"
    uid = sim.create("pipelineruns", pr("after"))["metadata"]["uid"]
    wait_for(lambda: history.get_record(uid=uid, cluster="sim"), what="a live run stored after the errors")
    assert svc._writer.dead is None


def test_a_backfill_that_keeps_failing_gives_up_and_says_so(history, monkeypatch):
    monkeypatch.setattr(lb, "RETRY_FIRST_S", 0.001)
    _old_history(history)
    errors: list[str] = []
    b = lb.LogIndexBackfill(history, on_error=errors.append)

    def broken(*a, **kw):
        raise ValueError("bad step log")

    history.reindex_logs_batch = broken  # type: ignore[method-assign]
    b.step()  # the first look counts what is left
    assert b.pending == STEP_LOGS
    while not b.done:
        wait_for(lambda: b.due_in() == 0, what="the next attempt due", interval=0.001)
        b.step()
    assert len(errors) == lb.GIVE_UP and errors[-1].endswith("stopped until the next start (tekton-results-tui reindex-logs)")
    assert b.due_in() == float("inf")


def test_headless_killed_mid_backfill_resumes_after_a_restart(sim, kubeconfig, db_path, history, tmp_path):
    """`--headless` as a user runs it: it builds the index by itself; kill -9 in the middle, start it again."""
    from .test_headless import _await_line, _spawn

    _old_history(history)
    for k in range(1, 4):  # 160 step logs in all: seconds of batches
        _more_old_logs(history, k, lines=4000)  # ~70 KB each: a batch stops at 1 MB, so ~10 batches, not 5
    total = history.log_index_pending()
    args = ["--db", f"sqlite:///{db_path}", "--kubeconfig", kubeconfig]
    proc = _spawn(args, tmp_path)
    seen: list[str] = []
    try:
        _await_line(proc, "watcher live", seen)
        wait_for(lambda: history.log_index_pending() < total - 4, what="the headless watcher under way", interval=0.01)
        proc.kill()  # kill -9: a batch in flight is rolled back, the ones committed stay
        proc.wait(10)
        left = history.log_index_pending()
        assert 0 < left < total, "killed mid-backfill"
        proc = _spawn(args, tmp_path)
        seen = []
        _await_line(proc, "watcher live", seen)
        wait_for(lambda: history.log_index_pending() == 0, what="the index completed after the restart", timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(history.search_logs("needle3").hits) == 4  # old-3-t of each of the four groups
    rows = _rows(history)
    assert len({(sid, block) for sid, block, _ in rows}) == len(rows)  # each block once


def _more_old_logs(h: History, k: int, lines: int = 300) -> None:
    """Another group of runs with step logs stored under another cluster, their index rows removed."""
    changes: list = []
    for n in range(STEP_LOGS // 2):
        p = store_pr(f"old{k}-{n}", created=T0 - 9000 + n * 60)
        t = store_tr(f"old{k}-{n}-t", p, created=T0 - 9000 + n * 60 + 1)
        body = b"".join(b"line %d of old%d-%d\n" % (i, k, n) for i in range(lines))
        changes += [RunUpsert(p), RunUpsert(t),
                    Logs(t, [StepLogData("fetch", "step-fetch", body),
                             StepLogData("build", "step-build", body + b"error: needle%d here\n" % n)])]
    h.apply(changes, cluster="other")
    li.empty_index(h.db)
