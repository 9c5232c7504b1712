"""The watcher keeps up: streams cut every ~25 events during a burst, with a small watch window.

A stream that delivered events and then dropped is reconnected at once from the last resourceVersion.
Backing off there (as for a connect that fails) would let the burst run past the server's event
window: the reconnect gets 410, the informer lists again, and runs created and pruned in between
are never stored. So: every run the workload created is stored once and the store equals the cluster."""

from __future__ import annotations

import time

import pytest

from tekton_results_tui.kinds import RUN_KINDS
from tekton_results_tui.sim import Workload

from .helpers import converged, differences, stored_runs, wait_for

WINDOW = 800  # changes (all kinds together) a watch can resume within; older: 410
CUT_EVERY = 25
RATE = 25  # runs/s: ~550 events/s; a 0.5 s pause per cut would fall ~500 events/s behind, past WINDOW in ~2 s


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streams_cut_every_25_events_in_a_burst_lose_no_run(sim, make_service, seed):
    created: list[str] = []
    create = sim.create

    def recording_create(kind: str, obj: dict) -> dict:
        got = create(kind, obj)
        created.append(got["metadata"]["uid"])
        return got

    sim.create = recording_create  # every run the workload makes, deleted or not
    svc = make_service(capture_logs=False, capture_events=False, annotate=False, read_timeout_s=5.0)
    svc.start()
    wait_for(lambda: svc.status().state == "live", what="the watcher live")
    sim.set_watch_window(WINDOW)
    sim.faults.drop_every_watch_after(CUT_EVERY, jitter=5, seed=seed)
    rv0, t0 = sim.resource_version, time.monotonic()
    wl = Workload(sim, rate=RATE, seed=seed, max_runs=200, step_interval_s=0.005, custom_runs_every=5,
                  prune_after_s=0.3).start()
    try:
        assert wl.wait_idle(120), "the workload did not finish"
    finally:
        wl.stop()
    rate = (sim.resource_version - rv0) / (time.monotonic() - t0)
    sim.faults.clear()
    wait_for(lambda: converged(sim), timeout=60, what="the store equal to the cluster: " + "; ".join(differences(sim)[:3]))
    stored = stored_runs()
    lost = [u for u in created if u not in stored]
    assert not lost, (f"{len(lost)} of {len(created)} runs never stored (workload at {rate:,.0f} events/s, "
                      f"{svc.counters.get('expired')} watches expired)")
    assert set(stored) == set(created) and len(created) == len(set(created))  # each run stored once, nothing else
    assert wl.runs_pruned > 0 and sim.faults.watches_dropped >= 10 * len(RUN_KINDS)
