"""Issue 7 acceptance, end to end: PostgreSQL connections dropped (pg_terminate_backend on every
session of the headless watcher, its leader-election session included) again and again while a
workload runs -> the watcher retries, competes again, and after convergence nothing is lost.

(A full server restart would hit every other test on this machine's shared server; terminating
the sessions is what a restart does to a client, without the collateral damage.)"""

from __future__ import annotations

import uuid

import psycopg2

from team_e2e import await_convergence, wait_for
from team_e2e import make_sim, spawn  # noqa: F401 - fixtures
from tekton_results_tui.sim import Workload
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

ROUNDS = 5


def terminate_sessions(base_url: str, app: str, spare_lock_holder: bool) -> int:
    """Terminate the watcher's sessions: all of them (what a restart does: the writer lock goes too,
    the watcher stands down and is elected again), or all but the election's (only the writer,
    the workers and the lease renewal lose theirs: they must retry)."""
    conn = psycopg2.connect(base_url, connect_timeout=3)
    conn.autocommit = True
    spare = ("AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
             if spare_lock_holder else "")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                        f"WHERE application_name = %s {spare}", (app,))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def sessions(base_url: str, app: str) -> tuple[int, bool]:
    """(the watcher's sessions, whether one of them holds the writer lock)."""
    conn = psycopg2.connect(base_url, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE pid IN (SELECT pid FROM pg_locks "
                        "WHERE locktype = 'advisory' AND granted)) FROM pg_stat_activity WHERE application_name = %s",
                        (app,))
            n, holders = cur.fetchone()
            return int(n), int(holders) == 1
    finally:
        conn.close()


def test_dropped_connections_during_a_live_workload_lose_nothing(pg_url, make_sim, spawn, tmp_path) -> None:
    base = pg_url.split("?")[0]
    app = "trt-drops-" + uuid.uuid4().hex[:8]  # every session of the watcher under test, and only those
    url = f"{pg_url}&application_name={app}"
    db = open_database(pg_url)
    history = History(db)
    sim = make_sim()
    sim.preload(pipelineruns=40, taskruns_per=2, seed=31)
    kc = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")
    wl = Workload(sim, rate=6, max_runs=60, seed=32, step_interval_s=0.1).start()
    w = spawn("w", "--db", url, "--kubeconfig", kc, "--cluster-name", "drops")
    try:
        w.wait_port()
        wait_for(lambda: w.metrics()["tekton_results_tui_stored_total"] > 0, 30, "the first batches stored")
        killed = []
        for i in range(ROUNDS):
            # the writer, its lease renewal, the follow-up workers and the election session all come back
            wait_for(lambda: sessions(base, app)[0] >= 2 and sessions(base, app)[1], 30,
                     "the watcher's sessions to come back, the writer lock held",
                     detail=lambda: w.log_text()[-3000:])
            before = w.metrics()["tekton_results_tui_stored_total"]
            killed.append(terminate_sessions(base, app, spare_lock_holder=i % 2 == 1))
            wait_for(lambda: w.metrics()["tekton_results_tui_leader"] == 1
                     and w.metrics()["tekton_results_tui_stored_total"] > before, 30,
                     "the watcher to lead and store again", detail=lambda: w.log_text()[-3000:])
        print(f"\nsessions terminated per round: {killed}")
        assert all(k >= 1 for k in killed)
        assert wl.wait_idle(60), "the workload did not finish"
        await_convergence(sim, "drops", 60)
        # the follow-ups too: every finished TaskRun's step logs are stored (retried, not dropped)
        finished = [o["metadata"]["uid"] for o in sim.list_objects("taskruns") if g.status_of(o).final]
        wait_for(lambda: all(history.log_record_for(u, cluster="drops") for u in finished), 30,
                 "the step logs of every finished TaskRun",
                 detail=lambda: f"{sum(1 for u in finished if not history.log_record_for(u, cluster='drops'))} "
                                f"of {len(finished)} missing")
        assert w.proc.poll() is None, "the watcher died"
        assert w.get("/healthz")[0] == 200
    finally:
        wl.stop()
    assert w.terminate() == 0, w.log_text()[-3000:]
    print(f"elections: {w.log_text().count('is the writer for cluster')}, "
          f"database errors retried: {w.log_text().count('storing a batch failed')}")
    db.close()
