"""The lease follower's decisions, one lease read at a time (`check()`), on a scripted lease row and clock:
whom it follows, when it takes over, when it waits for a standby replica, and what the header is told
when it will not or cannot take over. The end-to-end kill -9 tests are in tests/team/test_lease_takeover.py."""

from __future__ import annotations

from typing import Any

from tekton_results_tui.tui.following import LeaseFollower
from tekton_results_tui.watcher.status import LIVE, OFF, WatcherStatus
from tekton_results_tui.watcher.writer_lease import HA_HOLDER_PREFIX, ha_holder, lease_name

LEASE = lease_name("prod")


class _Db:
    def close(self) -> None:
        pass


class FakeHistory:
    """Only what the follower reads: lease rows by name."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.db = _Db()

    def set(self, holder: str | None, live: bool = True, dead: bool = False, pid: int = 4242) -> None:
        if holder is None:
            self.rows.pop(LEASE, None)
        else:
            self.rows[LEASE] = {"holder": holder, "live": live, "holder_dead": dead, "info": {"pid": pid}}

    def lease(self, name: str) -> dict[str, Any] | None:
        return self.rows.get(name)


class FakeService:
    cluster = "prod"

    def status(self) -> WatcherStatus:
        return WatcherStatus(state=LIVE, cluster="prod")

    def read_pod_log(self, namespace: str, pod: str, container: str) -> str:
        return ""

    def can_i(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        return True

    def delete_runs(self, plan: Any, progress_cb: Any = None, should_stop: Any = None) -> list:
        return []


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def following_note(holder: str) -> WatcherStatus:
    return WatcherStatus(state=OFF, owner=holder, cluster="prod", reason=f"a headless watcher ({holder}) owns this")


def make(history: FakeHistory, owner: str | None = "box:100:aa", outcomes: list | None = None, **kw: Any
         ) -> tuple[LeaseFollower, list[int]]:
    """A follower whose take_over answers from `outcomes` in turn (calls counted in the returned list)."""
    calls: list[int] = []

    def take_over() -> tuple[Any, WatcherStatus | None]:
        calls.append(1)
        return (outcomes or [(FakeService(), None)]).pop(0)

    note = following_note(owner) if owner else WatcherStatus(state=OFF, reason="no watcher")
    kw.setdefault("take_over", take_over)
    return LeaseFollower(history, [LEASE], note, standby_prefix=HA_HOLDER_PREFIX, **kw), calls


def test_follows_a_live_owner_and_takes_over_when_its_process_died() -> None:
    h = FakeHistory()
    h.set("box:100:aa")
    f, calls = make(h)
    f.check()
    assert f.following and f.status().owner == "box:100:aa" and "box:100:aa" in (f.status().reason or "")
    assert f.deleter is None and f.pod_logs is None and not calls
    h.set("box:100:aa", live=False, dead=True, pid=100)
    f.check()
    assert calls == [1] and not f.following
    assert f.status().state == LIVE and f.deleter is not None and f.pod_logs is not None
    assert f.took_over_from == "box:100:aa" and f.took_over_because == "the watcher box:100:aa died (process 100 is gone)"
    f.check()  # done: no more reads, no second start
    assert calls == [1]


def test_takes_over_when_the_lease_was_released_or_expired() -> None:
    for row, words in ((None, "stopped"), ("expired", "stopped renewing its lease")):
        h = FakeHistory()
        h.set("box:100:aa")
        f, calls = make(h)
        f.check()
        if row is None:
            h.set(None)
        else:
            h.set("box:100:aa", live=False)
        f.check()
        assert calls == [1] and f.took_over_because == f"the watcher box:100:aa {words}"


def test_follows_a_new_owner_instead_of_taking_over() -> None:
    h = FakeHistory()
    h.set("box:100:aa")
    f, calls = make(h)
    f.check()
    h.set("box:200:bb")  # the owner was replaced by another live watcher (e.g. restarted)
    f.check()
    assert not calls and f.following and f.status().owner == "box:200:bb"


def test_a_quicker_follower_wins_the_race_and_is_followed() -> None:
    h = FakeHistory()
    h.set("box:100:aa", live=False, dead=True)
    f, calls = make(h, outcomes=[(None, following_note("box:300:cc"))])
    f.check()
    assert calls == [1] and f.following and f.status().owner == "box:300:cc"


def test_a_failed_takeover_is_said_and_retried_later() -> None:
    h = FakeHistory()
    h.set("box:100:aa", live=False, dead=True, pid=100)
    clock = Clock()
    f, calls = make(h, outcomes=[(None, WatcherStatus(state=OFF, reason="cannot reach https://api:6443")),
                                 (FakeService(), None)], clock=clock, retry_s=15.0)
    f.check()
    st = f.status()
    assert calls == [1] and not f.following and st.state == OFF
    assert st.reason == ("the watcher box:100:aa died (process 100 is gone) — cannot take over: "
                         "cannot reach https://api:6443 (retrying every 15 s)")
    clock.t += 10
    f.check()
    assert calls == [1]
    clock.t += 6
    f.check()
    assert calls == [1, 1] and f.status().state == LIVE


def test_without_a_way_to_take_over_it_says_the_owner_died_and_why_not() -> None:
    h = FakeHistory()
    h.set("box:100:aa")
    f = LeaseFollower(h, [LEASE], WatcherStatus(state=OFF, reason="read-only viewer"), why_not="read-only viewer")
    assert not f.takes_over and not f.following
    f.check()
    assert f.following and f.status().owner == "box:100:aa"
    h.set("box:100:aa", live=False, dead=True, pid=100)
    f.check()
    st = f.status()
    assert not f.following and st.owner is None and f.deleter is None
    assert st.reason == "the watcher box:100:aa died (process 100 is gone) — not taking over: read-only viewer"
    h.set("box:200:bb")  # a new writer appears: followed again
    f.check()
    assert f.following and f.status().owner == "box:200:bb"


def test_an_old_lease_nobody_was_seen_holding_is_not_news() -> None:
    h = FakeHistory()
    h.set("box:100:aa", live=False, dead=True)  # e.g. a copied file
    f = LeaseFollower(h, [LEASE], WatcherStatus(state=OFF, reason="read-only viewer"), why_not="read-only viewer")
    f.check()
    assert f.status().reason == "read-only viewer" and not f.following


def test_replicas_under_leader_election_get_time_to_elect_a_standby() -> None:
    holder = ha_holder("prod")
    h = FakeHistory()
    h.set(holder)
    clock = Clock()
    f, calls = make(h, owner=holder, clock=clock, standby_grace_s=6.0)
    f.check()
    h.set(holder, live=False, dead=True, pid=100)  # the leader was killed
    f.check()
    assert not calls and "waiting for a standby replica" in (f.status().reason or "")
    clock.t += 3
    h.set(holder, pid=101)  # a standby was elected and renewed the shared holder id
    f.check()
    assert not calls and f.following
    h.set(holder, live=False, dead=True, pid=101)  # and died too, with no replica left
    f.check()
    clock.t += 5
    f.check()
    assert not calls
    clock.t += 2
    f.check()
    assert calls == [1] and f.status().state == LIVE and f.took_over_from == holder
