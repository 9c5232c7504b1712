"""Robustness of the writer and the informers: poison objects, a dead writer, duplicate scopes,
gone-marking that races a relist, label selectors, quick empty watch ends."""

from __future__ import annotations

import pytest

from tekton_results_tui.settings import Settings
from tekton_results_tui.store.history import ClassifiedRun, History
from tekton_results_tui.watcher.service import WatcherService
from tekton_results_tui.watcher.status import LIVE

from .helpers import converged, differences, pr, stored_runs, wait_for


def _live(svc) -> bool:
    return svc.status().state == LIVE


def _service(kubeconfig: str, history: History, made: list, **kw) -> WatcherService:
    s = Settings.of(db_url="unused", kubeconfig=kubeconfig, capture_logs=False, capture_events=False, annotate=False,
                    read_timeout_s=5.0, backoff_cap_s=1.0)
    svc_kw = {}
    for k, v in kw.items():
        if k in Settings.names():
            s = s.replace(**{k: v})
        else:
            svc_kw[k] = v
    svc = WatcherService(s, history, **svc_kw)
    made.append(svc)
    return svc


@pytest.fixture
def services():
    made: list[WatcherService] = []
    yield made
    for svc in made:
        svc.stop(5.0)


class RefusingHistory(History):
    """A history whose database refuses any batch holding a run labelled `note: poison` (the store takes every
    string a run can hold by now, so the refusal is simulated: a constraint, a driver limit, a bug)."""

    def apply(self, changes, cluster="", **kw):  # noqa: ANN001, ANN201
        changes = list(changes)
        if any(isinstance(c, ClassifiedRun) and c.info.labels.get("note") == "poison" for c in changes):
            raise ValueError("the database refuses this object")
        return super().apply(changes, cluster=cluster, **kw)


def test_a_poison_object_is_skipped_by_name_and_storing_goes_on(sim, kubeconfig, history, services):
    """An object the store cannot take must not block every later write while the status says LIVE: the
    failed batch is stored item by item, the poison skipped by name."""
    sim.create("pipelineruns", pr("good-before"))
    poison = sim.create("pipelineruns", pr("poison", labels={"tekton.dev/pipeline": "p", "note": "poison"}))
    svc = _service(kubeconfig, RefusingHistory(history.db), services, batch_wait_s=0.05)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    for i in range(3):
        sim.create("pipelineruns", pr(f"good-after-{i}"))
    poison_uid = poison["metadata"]["uid"]

    def stored_all_but_poison() -> bool:
        return [d for d in differences(sim) if poison_uid not in d] == []

    wait_for(stored_all_but_poison, what="every other run stored")
    assert poison_uid not in stored_runs()
    assert svc.counters.get("errors.poison") >= 1 and svc.counters.get("skipped") >= 1
    st = svc.status()
    assert st.last_error and "ci/poison" in st.last_error, st.last_error
    assert st.state == LIVE


def test_a_dead_writer_is_reported_and_the_state_is_not_live(sim, make_service):
    """Whatever ends the writer thread (here a malformed queue item), the status must say so and stay off
    LIVE even when the streams reconnect (nothing is stored any more)."""
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    svc._writer.q.put("not a message")
    wait_for(lambda: svc.status().state != LIVE, what="the state leaving LIVE")
    st = svc.status()
    assert st.state == "off" and "writer stopped" in (st.reason or ""), st
    assert "writer stopped" in (st.last_error or "")
    sim.faults.drop_watches_after(1)
    sim.create("pipelineruns", pr("after-the-writer"))
    wait_for(lambda: svc.counters.get("reconnects") >= 1 and all(svc._live.values()), what="streams live again")
    assert svc.status().state == "off"


def test_a_stale_relist_does_not_mark_newer_runs_gone(sim, make_service, history):
    """A list snapshot's gone marks apply only to runs stored before it: a run created after the snapshot
    and already stored (by a watch event or another writer) is not in the list but is not gone."""
    from tekton_results_tui.kinds import PIPELINE_RUN
    from tekton_results_tui.watcher.messages import Relisted

    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    old = sim.create("pipelineruns", pr("listed"))
    snapshot_rv = int(sim.resource_version)
    snapshot = {old["metadata"]["uid"]}
    newer = sim.create("pipelineruns", pr("after-the-snapshot"))
    wait_for(lambda: converged(sim), what="both stored")
    gone_before = svc.counters.get("gone_marked")
    svc._writer.q.put(Relisted(PIPELINE_RUN, None, snapshot, snapshot_rv))  # the marker arrives late
    later = sim.create("pipelineruns", pr("behind-the-marker"))  # the writer takes items in order
    wait_for(lambda: later["metadata"]["uid"] in stored_runs(), what="the marker processed")
    assert stored_runs()[newer["metadata"]["uid"]][2], "a run newer than the list was marked gone"
    assert svc.counters.get("gone_marked") == gone_before
    # a run that really left before the snapshot is still marked gone
    sim.delete("pipelineruns", "ci", "listed")
    wait_for(lambda: not stored_runs()[old["metadata"]["uid"]][2], what="the deleted run marked gone")


def test_with_a_label_selector_a_run_leaving_the_selector_is_not_marked_gone(sim, make_service):
    svc = make_service(label_selector="team=a", capture_logs=False, capture_events=False, annotate=False,
                       relist_interval_s=0.3)
    svc.start()
    wait_for(lambda: _live(svc), what="live")
    a = sim.create("pipelineruns", pr("team-a", labels={"tekton.dev/pipeline": "p", "team": "a"}))
    b = sim.create("pipelineruns", pr("team-a-deleted", labels={"tekton.dev/pipeline": "p", "team": "a"}))
    wait_for(lambda: a["metadata"]["uid"] in stored_runs() and b["metadata"]["uid"] in stored_runs(), what="stored")
    live = sim.get("pipelineruns", "ci", "team-a")
    live["metadata"]["labels"]["team"] = "b"  # leaves the selector: the watch sends DELETED
    sim.update("pipelineruns", live)
    sim.delete("pipelineruns", "ci", "team-a-deleted")
    wait_for(lambda: not stored_runs()[b["metadata"]["uid"]][2], what="the deleted run marked gone")
    relists = svc.counters.get("relists")
    wait_for(lambda: svc.counters.get("relists") >= relists + 2, what="relists without team-a")
    later = sim.create("pipelineruns", pr("behind-the-relists", labels={"tekton.dev/pipeline": "p", "team": "a"}))
    wait_for(lambda: later["metadata"]["uid"] in stored_runs(), what="the relists processed")
    assert stored_runs()[a["metadata"]["uid"]][2], "a run that only left the selector was marked gone"
