"""Leader election of headless replicas on the real PostgreSQL (advisory lock on a dedicated session).

Tests taking `pg_url` skip without a server (fail under TEKTON_RESULTS_TUI_REQUIRE_PG=1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator

import psycopg2
import pytest

from tekton_results_tui.watcher.leader import HaWatcher, LeaderElector, lock_key, with_leader
from tekton_results_tui.watcher.metrics import MetricsServer
from tekton_results_tui.watcher.status import LIVE, OFF, STANDBY, WatcherStatus

TAKEOVER_BUDGET_S = 15.0  # issue 7: a standby takes over within 15 s of the leader dying


class Replica:
    """An elector plus Events for its callbacks, as the headless wiring would hold it."""

    def __init__(self, url: str, cluster: str, name: str, **kw) -> None:
        self.elected = threading.Event()
        self.lost = threading.Event()
        self.elected_at: float | None = None
        self.elector = LeaderElector(url, cluster, self._on_elected, self._on_lost, identity=name, **kw)

    def _on_elected(self) -> None:
        self.elected_at = time.monotonic()
        self.lost.clear()
        self.elected.set()

    def _on_lost(self) -> None:
        self.elected.clear()
        self.lost.set()


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll with a deadline: for progress no callback reports (a standby's attempts)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def replicas(pg_url: str) -> Iterator[Callable[..., Replica]]:
    made: list[Replica] = []

    def make(cluster: str = "prod", name: str = "r", **kw) -> Replica:
        r = Replica(pg_url, cluster, name, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.elector.stop()


def terminate(pg_url: str, pid: int) -> None:
    conn = psycopg2.connect(pg_url.split("?")[0], connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert cur.fetchone()[0] is True
    conn.close()


def test_lock_key_is_stable_63_bit_and_scoped_by_schema() -> None:
    assert lock_key("prod") == lock_key("prod")  # same on every replica and every run
    # pinned: replicas of two versions during a rolling update must compete for the same lock
    assert lock_key("prod") == 7722429597076124204
    assert lock_key("prod", "s") == 8593004990878274959
    assert lock_key("prod") != lock_key("staging")
    assert lock_key("prod", "team_a") != lock_key("prod", "team_b")
    for name in ("", "x", "a" * 300, "prod/üñí"):
        assert 0 <= lock_key(name) < 2**63


def test_two_replicas_one_cluster_exactly_one_leads(replicas) -> None:
    a = replicas(name="a", poll_s=0.1)
    b = replicas(name="b", poll_s=0.1)
    a.elector.start()
    assert a.elected.wait(10), a.elector.last_error
    b.elector.start()
    wait_until(lambda: b.elector.attempts >= 5, 10, "the standby to try the lock 5 times")
    assert a.elector.is_leader and not b.elector.is_leader
    assert not b.elected.is_set()


def test_leader_session_terminated_standby_takes_over(replicas, pg_url) -> None:
    a = replicas(name="a")  # default 2 s poll, as deployed
    b = replicas(name="b")
    a.elector.start()
    assert a.elected.wait(10), a.elector.last_error
    b.elector.start()
    wait_until(lambda: b.elector.attempts >= 1, 10, "the standby's first attempt")
    assert not b.elector.is_leader

    t0 = time.monotonic()
    terminate(pg_url, a.elector.backend_pid())
    assert b.elected.wait(TAKEOVER_BUDGET_S), f"no takeover within {TAKEOVER_BUDGET_S} s"
    took = b.elected_at - t0
    print(f"\ntakeover after pg_terminate_backend: {took:.2f} s (budget {TAKEOVER_BUDGET_S} s)")
    # the old leader notices on its next check of its own session and steps down
    assert a.lost.wait(10), "the terminated leader did not step down"
    tried = a.elector.attempts
    assert not a.elector.is_leader
    assert b.elector.is_leader
    # ... and competes again from a new session, as a standby now
    wait_until(lambda: a.elector.attempts > tried, 15, "the old leader to reconnect and try again")
    assert not a.elector.is_leader


def test_lone_leader_reconnects_and_leads_again(replicas, pg_url) -> None:
    a = replicas(name="a", poll_s=0.1, check_s=0.1)
    a.elector.start()
    assert a.elected.wait(10)
    terminate(pg_url, a.elector.backend_pid())
    assert a.lost.wait(10)
    assert a.elected.wait(15), a.elector.last_error
    assert a.elector.is_leader


HOLDER = r"""
import sys, threading
from tekton_results_tui.watcher.leader import LeaderElector
e = LeaderElector(sys.argv[1], sys.argv[2], lambda: print("elected", flush=True), lambda: None, identity="child")
e.start()
threading.Event().wait()
"""


def test_sigkilled_leader_process_standby_takes_over(replicas, pg_url) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, pg_url, "prod"], stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # blocks until the child leads (or dies: then "")
        assert line.strip() == "elected", f"child did not lead (exit {child.poll()})"
        b = replicas(name="b")  # default 2 s poll
        b.elector.start()
        wait_until(lambda: b.elector.attempts >= 1, 10, "the standby's first attempt")
        assert not b.elector.is_leader

        t0 = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        assert b.elected.wait(TAKEOVER_BUDGET_S), f"no takeover within {TAKEOVER_BUDGET_S} s of SIGKILL"
        print(f"\ntakeover after SIGKILL of the leader process: {b.elected_at - t0:.2f} s (budget {TAKEOVER_BUDGET_S} s)")
        assert child.wait(5) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)


def test_different_clusters_both_lead(replicas) -> None:
    a = replicas(cluster="prod", name="a")
    b = replicas(cluster="staging", name="b")
    a.elector.start()
    b.elector.start()
    assert a.elected.wait(10) and b.elected.wait(10)
    assert a.elector.is_leader and b.elector.is_leader


def test_stop_steps_down_first_then_releases(replicas) -> None:
    order: list[str] = []
    a = replicas(name="a", poll_s=0.1)
    b = replicas(name="b", poll_s=0.1)
    a.elector.on_lost = lambda: order.append("a stopped writing")  # runs before the lock is released
    b_elected = b.elector.on_elected
    b.elector.on_elected = lambda: (order.append("b elected"), b_elected())
    a.elector.start()
    assert a.elected.wait(10)
    b.elector.start()
    wait_until(lambda: b.elector.attempts >= 1, 10, "the standby's first attempt")
    a.elector.stop()
    assert not a.elector.is_leader
    assert b.elected.wait(TAKEOVER_BUDGET_S)
    assert order == ["a stopped writing", "b elected"]


def test_failing_on_elected_releases_the_lock_for_another(replicas) -> None:
    a = replicas(name="a", poll_s=5.0)
    b = replicas(name="b", poll_s=0.1)

    def broken() -> None:
        raise RuntimeError("cannot reach the API")

    a.elector.on_elected = broken
    a.elector.start()
    wait_until(lambda: a.elector.last_error == "cannot reach the API", 10, "a's failed start")
    b.elector.start()
    assert b.elected.wait(10)
    assert not a.elector.is_leader


def test_sqlite_has_no_election_always_leader(sqlite_url) -> None:
    calls: list[str] = []
    e = LeaderElector(sqlite_url, "prod", lambda: calls.append("elected"), lambda: calls.append("lost"))
    assert not e.enabled
    e.start()
    assert e.is_leader and calls == ["elected"]  # at once, in the caller's thread
    e.stop()
    assert not e.is_leader and calls == ["elected", "lost"]


def test_with_leader_reports_standby_replica(replicas, sqlite_url) -> None:
    a = replicas(name="a")
    b = replicas(name="b")
    a.elector.start()
    assert a.elected.wait(10)
    b.elector.start()
    wait_until(lambda: b.elector.attempts >= 1, 10, "the standby's first attempt")
    off = WatcherStatus(state=OFF, cluster="prod")
    shown = with_leader(off, b.elector)
    assert shown.state == STANDBY and shown.leader is False and "another replica" in (shown.reason or "")
    assert with_leader(WatcherStatus(state=LIVE), a.elector).leader is True
    solo = LeaderElector(sqlite_url, "prod", lambda: None, lambda: None)
    assert with_leader(WatcherStatus(state=LIVE), solo).leader is None


class CountingService:
    """A stand-in watcher service with the real start/stop/status shape; records its life."""

    running: set[str] = set()
    guard = threading.Lock()

    def __init__(self, name: str) -> None:
        self.name = name
        self.st = WatcherStatus(state=LIVE, connected=True, cluster="prod", counts={"events": 3})

    def start(self) -> None:
        with self.guard:
            self.running.add(self.name)

    def stop(self) -> None:
        with self.guard:
            self.running.discard(self.name)

    def status(self) -> WatcherStatus:
        return self.st


def test_ha_watcher_runs_the_service_only_on_the_leader(pg_url) -> None:
    CountingService.running = set()
    a = HaWatcher(pg_url, "prod", lambda: CountingService("a"), poll_s=0.1, identity="a")
    b = HaWatcher(pg_url, "prod", lambda: CountingService("b"), poll_s=0.1, identity="b")
    mb = MetricsServer(0, b.status, host="127.0.0.1")
    mb.start()
    try:
        a.start()
        wait_until(lambda: a.elector.is_leader, 10, "a to lead")
        b.start()
        wait_until(lambda: b.elector.attempts >= 3, 10, "b to stand by")
        assert CountingService.running == {"a"}
        assert a.status().leader is True and a.status().state == LIVE
        sb = b.status()
        assert sb.state == STANDBY and sb.leader is False
        with urllib.request.urlopen(f"http://127.0.0.1:{mb.port}/metrics", timeout=5) as r:
            assert "tekton_results_tui_leader 0.0" in r.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{mb.port}/readyz", timeout=5) as r:
            assert r.status == 200  # a standby is ready

        a.stop()  # a clean shutdown hands over: a's service stops before b's starts
        assert a.status().state == OFF
        wait_until(lambda: b.elector.is_leader, TAKEOVER_BUDGET_S, "b to take over")
        assert CountingService.running == {"b"}
        with urllib.request.urlopen(f"http://127.0.0.1:{mb.port}/metrics", timeout=5) as r:
            assert "tekton_results_tui_leader 1.0" in r.read().decode()
    finally:
        a.stop()
        b.stop()
        mb.stop()
    assert CountingService.running == set()


def test_ha_watcher_on_sqlite_just_runs(sqlite_url) -> None:
    CountingService.running = set()
    h = HaWatcher(sqlite_url, "prod", lambda: CountingService("solo"))
    h.start()
    assert CountingService.running == {"solo"} and h.status().leader is None
    h.stop()
    assert CountingService.running == set() and h.status().state == OFF


def test_counts_add_up_over_reelections_and_never_dip(pg_url) -> None:
    """A replica elected again (its session dropped) exports counters that keep growing."""
    CountingService.running = set()

    def make() -> CountingService:
        svc = CountingService("a")
        svc.st = WatcherStatus(state=LIVE, connected=True, cluster="prod",
                               counts={"events": 3, "errors": {"403": 1}, "aux_pending": 7})
        return svc

    a = HaWatcher(pg_url, "prod", make, poll_s=0.1, check_s=0.1, identity="a")
    try:
        a.start()
        # the elector says "leader" just before its callback has started the service: wait for the service
        wait_until(lambda: a.elector.is_leader and a.service is not None, 10, "a to lead")
        assert a.status().counts == {"events": 3, "errors": {"403": 1}, "aux_pending": 7}
        pid = a.elector.backend_pid()
        seen: list[int] = []
        terminate(pg_url, pid)
        wait_until(lambda: seen.append(a.status().counts.get("events", 0)) or
                   (a.elector.is_leader and a.elector.backend_pid() not in (None, pid) and a.service is not None),
                   15, "a to lead again")
        assert seen == sorted(seen), f"the events count went backwards: {seen}"
        assert a.status().counts == {"events": 6, "errors": {"403": 2}, "aux_pending": 7}  # a level is not summed
    finally:
        a.stop()
    assert a.status().counts["events"] == 6
