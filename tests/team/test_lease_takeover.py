"""Leases that notice death, end to end: a `--headless` watcher (a real subprocess) on the simulated
cluster writes a SQLite file; a TUI (Pilot, in this process) on the same file follows it. kill -9 the
headless process: the TUI starts its own watcher (bootstrap's start, as when it finds no lease) within
15 s and stores the runs created afterwards; a read-only viewer says the owner died and that it will
not take over. And a new headless started right after a kill -9 — while the dead one is still a
zombie, or after it was reaped — starts at once instead of being refused."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from team_e2e import Headless, wait_for
from team_e2e import make_sim, spawn  # noqa: F401 - fixtures
from tekton_results_tui.bootstrap import Stack, open_history, tui_cluster
from tekton_results_tui.settings import Settings
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.tui.app import ResultsApp
from tekton_results_tui.tui.following import LeaseFollower
from tekton_results_tui.tui.widgets.status_header import StatusHeader
from tekton_results_tui.watcher.status import LIVE
from tekton_results_tui.watcher.writer_lease import ha_holder, lease_name

TAKEOVER_BUDGET_S = 15.0  # the acceptance: the follower runs the watcher within this of the owner's death
SIZE = (160, 30)


def new_run(name: str) -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": "ci", "labels": {"tekton.dev/pipeline": "p"}},
            "spec": {"pipelineRef": {"name": "p"}}}


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def kill_9(h: Headless, reap: bool) -> None:
    """SIGKILL, no cleanup; `reap=False` leaves the process a zombie (this test process is its parent)."""
    os.kill(h.pid, signal.SIGKILL)
    if reap:
        h.proc.wait(10)
    else:
        wait_for(lambda: is_zombie(h.pid), 10, f"process {h.pid} to become a zombie")


def msg_is(text: str) -> Callable[[dict], bool]:
    return lambda d: d.get("msg") == text


@pytest.fixture
def setup(make_sim, tmp_path: Path) -> tuple[SimCluster, str, str]:  # noqa: F811 - fixture
    sim = make_sim()
    sim.preload(pipelineruns=5, taskruns_per=1, seed=3)
    kc = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")
    return sim, kc, f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture
def stack() -> Iterator[Stack]:
    s = Stack()
    yield s
    s.close()


def owner_live(spawn, kc: str, db: str, name: str = "owner") -> Headless:  # noqa: F811 - fixture
    h = spawn(name, "--db", db, "--kubeconfig", kc)
    h.wait_line(msg_is("watcher live"), 30, "the headless watcher to be live")
    return h


def header(app: ResultsApp) -> str:
    return app.query_one(StatusHeader).content.plain  # type: ignore[union-attr] - the Text the header shows


async def until(pilot, cond: Callable[[], object], timeout: float, what: str, detail: Callable[[], str]) -> float:
    """Wait with a deadline, a frame at a time (the app's state changes on its own threads and timers);
    returns the seconds it took."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{detail()}")
        await pilot.pause(0.05)
    return time.monotonic() - t0


async def test_a_following_tui_takes_over_within_15_s_of_a_kill_9(setup, spawn, stack) -> None:  # noqa: F811
    sim, kc, db = setup
    owner = owner_live(spawn, kc, db)
    settings = Settings().replace(db_url=db, kubeconfig=kc)
    history = open_history(db, read_only=False, stack=stack)
    cluster = tui_cluster(settings, history, stack)
    assert isinstance(cluster, LeaseFollower) and cluster.following and cluster.takes_over
    holder = cluster.status().owner
    assert holder and f":{owner.pid}:" in holder

    app = ResultsApp(history, settings=settings, cluster=cluster)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "following" in header(app) and holder in header(app)
        assert app.deleter is None  # a follower cannot delete

        kill_9(owner, reap=True)
        took = await until(pilot, lambda: not app.cluster.following and app.cluster.status().state == LIVE,
                           TAKEOVER_BUDGET_S, "the TUI to run its own watcher, live",
                           lambda: f"header: {header(app)}\nowner's log:\n{owner.log_text()[-2000:]}")
        print(f"\nTUI takeover after kill -9 of the headless watcher: {took:.2f} s (budget {TAKEOVER_BUDGET_S} s)")
        assert cluster.took_over_from == holder
        assert cluster.took_over_because == f"the watcher {holder} died (process {owner.pid} is gone)"  # not expiry
        await until(pilot, lambda: "live" in header(app) and "following" not in header(app), 5,
                    "the header to show this TUI's watcher", lambda: header(app))
        assert app.deleter is not None  # the takeover's watcher is this TUI's: it may delete (once allowed)
        said = [str(n.message) for n in app._notifications]
        assert f"{cluster.took_over_because}: this TUI now runs the watcher" in said, said

        lease = history.lease(lease_name("sim"))
        assert lease is not None and lease["live"] and lease["info"]["pid"] == os.getpid()
        sim.create("pipelineruns", new_run("after-takeover"))
        await until(pilot, lambda: history.find_runs("after-takeover"), 20, "the new run to be stored by the TUI's watcher",
                    lambda: header(app))


async def test_a_read_only_viewer_says_the_owner_died_and_that_it_will_not_take_over(setup, spawn, stack) -> None:  # noqa: F811
    sim, kc, db = setup
    owner = owner_live(spawn, kc, db)
    settings = Settings().replace(db_url=db, kubeconfig=kc, read_only=True)
    history = open_history(db, read_only=True, stack=stack)
    cluster = tui_cluster(settings, history, stack)
    assert isinstance(cluster, LeaseFollower) and not cluster.takes_over

    app = ResultsApp(history, settings=settings, read_only=True, cluster=cluster)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "following" in header(app), 10, "the viewer to follow the headless watcher",
                    lambda: header(app))
        kill_9(owner, reap=False)
        await until(pilot, lambda: "died" in header(app), TAKEOVER_BUDGET_S, "the header to say the owner died",
                    lambda: header(app))
        text = header(app)
        assert "not taking over: read-only viewer" in text and "following" not in text, text
        assert f"process {owner.pid} is gone" in text, text
        assert app.cluster.deleter is None and app.cluster.status().state == "off"
        lease = history.lease(lease_name("sim"))
        assert lease is not None and lease["holder_dead"]  # nothing took it: the viewer wrote nothing


async def test_a_tui_without_a_cluster_says_the_owner_died_and_why_it_will_not_take_over(setup, spawn, stack,  # noqa: F811
                                                                                         tmp_path) -> None:
    sim, kc, db = setup
    owner = owner_live(spawn, kc, db)
    history = open_history(db, read_only=False, stack=stack)
    wait_for(lambda: history.size()[0] > 0, 20, "the headless watcher to store the cluster's runs")
    missing = tmp_path / "no-such-kubeconfig"
    settings = Settings().replace(db_url=db, kubeconfig=str(missing))
    cluster = tui_cluster(settings, history, stack)  # its watcher cannot start: it follows the stored cluster's lease
    assert isinstance(cluster, LeaseFollower) and not cluster.takes_over

    app = ResultsApp(history, settings=settings, cluster=cluster)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "following" in header(app), 10, "the TUI to follow the headless watcher",
                    lambda: header(app))
        kill_9(owner, reap=True)
        await until(pilot, lambda: "died" in header(app), TAKEOVER_BUDGET_S, "the header to say the owner died",
                    lambda: header(app))
        text = header(app)
        assert f"not taking over: kubeconfig {missing} not found" in text and "following" not in text, text
        assert app.cluster.deleter is None


@pytest.mark.parametrize("reap", [True, False], ids=["reaped", "zombie"])
def test_a_new_headless_starts_at_once_after_a_kill_9(setup, spawn, reap) -> None:  # noqa: F811
    sim, kc, db = setup
    old = owner_live(spawn, kc, db, "old")
    kill_9(old, reap)
    new = spawn("new", "--db", db, "--kubeconfig", kc)
    # Refused, it would exit 2 at once with "cannot start: a watcher (...) already writes this database";
    # within the old lease's time to live (15 s after its last renewal) only the liveness check lets it in.
    took = new.wait_line(lambda d: d.get("msg", "").startswith("watcher: took over the writer lease of"), 20,
                         "the new watcher to take the dead one's lease")
    assert "its process is gone" in took["msg"], took
    new.wait_line(msg_is("watcher started"), 20, "the new watcher to start")
    new.wait_line(msg_is("watcher live"), 20, "the new watcher to be live")
    assert new.proc.poll() is None
    if not reap:
        assert is_zombie(old.pid)  # still unreaped while the new one took over
    sim.create("pipelineruns", new_run("after-restart"))
    h = History(open_database(db))
    try:
        wait_for(lambda: h.find_runs("after-restart"), 20, "the new watcher to store a new run", detail=new.log_text)
    finally:
        h.db.close()


@pytest.mark.postgres
async def test_on_postgresql_a_following_tui_leaves_the_takeover_to_a_standby_replica(pg_url, make_sim, spawn, stack,  # noqa: F811
                                                                                      tmp_path) -> None:
    history = open_history(pg_url, read_only=False, stack=stack)  # the schema exists before the replicas start
    sim = make_sim()
    kc = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")
    a, b = spawn("a", "--db", pg_url, "--kubeconfig", kc), spawn("b", "--db", pg_url, "--kubeconfig", kc)
    logs = lambda: a.log_text()[-1500:] + b.log_text()[-1500:]  # noqa: E731
    writer_pid = lambda: (lambda row: row["info"].get("pid") if row and row["live"] else None)(  # noqa: E731
        history.lease(lease_name("sim")))
    pid = wait_for(writer_pid, 30, "an elected replica to hold the lease", detail=logs)
    leader, standby = (a, b) if pid == a.pid else (b, a)
    standby.wait_line(lambda d: d.get("msg", "").startswith("watcher standby"), 30, "the other replica to stand by")

    settings = Settings().replace(db_url=pg_url, kubeconfig=kc)
    cluster = tui_cluster(settings, history, stack)
    assert isinstance(cluster, LeaseFollower) and cluster.following
    assert cluster.status().owner == ha_holder("sim")

    app = ResultsApp(history, settings=settings, cluster=cluster)
    async with app.run_test(size=SIZE) as pilot:
        kill_9(leader, reap=True)
        await until(pilot, lambda: writer_pid() == standby.pid, TAKEOVER_BUDGET_S, "the standby replica to take the lease",
                    logs)
        seen = cluster.checks
        await until(pilot, lambda: cluster.checks > seen, 10, "the TUI to read the lease again", lambda: header(app))
        assert app.cluster.following and cluster.took_over_from is None, header(app)  # the replica writes, not the TUI

        kill_9(standby, reap=True)  # no replica left: now the TUI steps in
        took = await until(pilot, lambda: not app.cluster.following and app.cluster.status().state == LIVE,
                           TAKEOVER_BUDGET_S, "the TUI to run its own watcher", lambda: header(app) + "\n" + logs())
        print(f"\nTUI takeover after kill -9 of the last replica (PostgreSQL): {took:.2f} s")
        assert cluster.took_over_because == f"the watcher {ha_holder('sim')} died (process {standby.pid} is gone)"
        sim.create("pipelineruns", new_run("after-replicas"))
        await until(pilot, lambda: history.find_runs("after-replicas"), 20, "the TUI's watcher to store a new run",
                    lambda: header(app))
