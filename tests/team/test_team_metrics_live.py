"""Issue 7 acceptance, end to end: a real `--headless` process's /metrics scraped while a workload
runs (the counters move), and /healthz flipping to 503 while the Kubernetes API is away (the
simulated server stopped) and back to 200 when it returns."""

from __future__ import annotations

from team_e2e import await_convergence, wait_for
from team_e2e import make_sim, spawn  # noqa: F401 - fixtures
from tekton_results_tui.sim import Workload
from tekton_results_tui.store.db import open_database


def test_metrics_move_and_healthz_flips(pg_url, make_sim, spawn, tmp_path) -> None:
    db = open_database(pg_url)
    sim = make_sim()
    kc = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")
    w = spawn("w", "--db", pg_url, "--kubeconfig", kc, "--cluster-name", "m", "--no-logs", "--no-events")
    w.wait_port()
    wait_for(lambda: w.get("/readyz")[0] == 200, 20, "ready (the first list done)", detail=w.log_text)
    # ready already as a standby replica: the only replica wins the election and goes live a moment later
    wait_for(lambda: w.get("/healthz") == (200, "ok: live\n"), 20, "/healthz live (elected)", detail=w.log_text)
    m0 = w.metrics()
    assert m0["tekton_results_tui_leader"] == 1 and m0["tekton_results_tui_connected"] == 1
    assert m0["tekton_results_tui_stored_total"] == 0  # an empty cluster

    wl = Workload(sim, rate=10, max_runs=10, seed=41, step_interval_s=0.05).start()
    try:
        m1 = wait_for(lambda: (m := w.metrics())["tekton_results_tui_stored_total"] > 0 and m, 20, "a first store")
        assert wl.wait_idle(30)
        await_convergence(sim, "m", 30)
        m2 = w.metrics()
    finally:
        wl.stop()
    assert m2["tekton_results_tui_events_total"] > m1["tekton_results_tui_events_total"] > 0
    assert m2["tekton_results_tui_stored_total"] > m1["tekton_results_tui_stored_total"]
    assert m2["tekton_results_tui_annotations_total"] > 0  # any counter the watcher keeps is exported
    assert "tekton_results_tui_lag_seconds" in m2 and m2["tekton_results_tui_backlog"] >= 0

    sim.stop()  # the API is gone: every watch ends, every request is refused
    wait_for(lambda: w.get("/healthz")[0] == 503, 20, "/healthz to fail", detail=w.log_text)
    code, body = w.get("/healthz")
    assert code == 503 and "reconnecting" in body, body
    m3 = w.metrics()
    assert m3["tekton_results_tui_connected"] == 0
    assert m3['tekton_results_tui_state{tekton_results_tui_state="reconnecting"}'] == 1
    assert w.get("/readyz")[0] == 200  # a blip after the first list keeps it ready (no restart by the probe)

    sim.start()  # the same port, the same objects
    wait_for(lambda: w.get("/healthz")[0] == 200, 30, "/healthz to recover", detail=w.log_text)
    assert w.metrics()["tekton_results_tui_connected"] == 1
    assert w.terminate() == 0
    db.close()
