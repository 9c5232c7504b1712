"""A database that stops answering (the record table locked by another session) while a busy
workload runs: the headless watcher's backlog stays bounded (the informers block on the writer's
bounded queue instead of buffering the cluster in memory), and once the lock goes the history
converges with nothing lost."""

from __future__ import annotations

import threading
import time

import psycopg2

from team_e2e import await_convergence, wait_for
from team_e2e import make_sim, spawn  # noqa: F401 - fixtures
from tekton_results_tui.sim import Workload
from tekton_results_tui.store.db import open_database

QUEUE, BATCH = 500, 500  # WatcherService defaults: the bound is the queue plus the batch held by the writer


def test_stalled_database_backlog_bounded_then_converges(pg_url, make_sim, spawn, tmp_path) -> None:
    db = open_database(pg_url)
    schema = pg_url.rsplit("schema=", 1)[1]
    sim = make_sim()
    kc = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")
    w = spawn("w", "--db", pg_url, "--kubeconfig", kc, "--cluster-name", "stall", "--no-logs", "--no-events")
    w.wait_port()
    wait_for(lambda: w.get("/readyz")[0] == 200, 20, "ready", detail=w.log_text)
    wl = Workload(sim, rate=25, max_runs=120, seed=51, step_interval_s=0.02).start()
    locker = psycopg2.connect(pg_url.split("?")[0], connect_timeout=3)
    peaks: list[float] = []
    stop = threading.Event()

    def scrape() -> None:
        while not stop.wait(0.1):
            peaks.append(w.metrics()["tekton_results_tui_backlog"])

    try:
        wait_for(lambda: w.metrics()["tekton_results_tui_stored_total"] > 0, 20, "the first store")
        with locker.cursor() as cur:
            cur.execute(f'LOCK TABLE "{schema}"."record" IN ACCESS EXCLUSIVE MODE')  # held until rollback
        stored_before = w.metrics()["tekton_results_tui_stored_total"]
        t = threading.Thread(target=scrape, daemon=True)
        t.start()
        wait_for(lambda: peaks and max(peaks) >= 200, 20, "a backlog to build up behind the lock")
        time.sleep(2.0)  # keep the database away while the workload goes on (the thing under test is time)
        assert w.metrics()["tekton_results_tui_stored_total"] == stored_before  # really stalled
        locker.rollback()  # the database answers again
        assert wl.wait_idle(60)
        await_convergence(sim, "stall", 60)
    finally:
        stop.set()
        locker.close()
        wl.stop()
    print(f"\npeak backlog while the database was away: {max(peaks):.0f} (bound {QUEUE + BATCH})")
    assert max(peaks) <= QUEUE + BATCH
    assert w.terminate() == 0, w.log_text()[-2000:]
    db.close()
