"""Scaffolding shared by the test packages that run against the simulated cluster.

A started SimCluster and its kubeconfig (as fixtures, or `start_sim()` for tests that make
several), a fresh SQLite history, a deadline poll for state that has no event to await, and
the store-vs-cluster comparison. Packages import what they use; conftests re-export the
fixtures (`from simkit import kubeconfig  # noqa: F401 - fixture`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tekton_results_tui.kinds import RUN_KINDS
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.store.models import Record

BOOKMARK_INTERVAL_S = 0.2  # short, so watchers see bookmarks within a test


def start_sim(compaction_window: int = 10_000) -> SimCluster:
    """A started SimCluster; the caller stops it."""
    return SimCluster(compaction_window=compaction_window, bookmark_interval_s=BOOKMARK_INTERVAL_S).start()


def sim_fixture(compaction_window: int = 10_000) -> Any:
    """A `sim` fixture: a started cluster per test, stopped at teardown."""

    @pytest.fixture
    def sim() -> Iterator[SimCluster]:
        s = start_sim(compaction_window)
        try:
            yield s
        finally:
            s.stop()

    return sim


sim = sim_fixture()


@pytest.fixture
def kubeconfig(sim: SimCluster, tmp_path: Path) -> str:
    """A kubeconfig file for `sim` (context "sim")."""
    return sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def history(db_path: Path) -> Iterator[History]:
    """A History on a fresh SQLite file at `db_path`."""
    db = open_database(f"sqlite:///{db_path}")
    yield History(db)
    db.close()


def wait_for(pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition", interval: float = 0.05,
             detail: Callable[[], str] | None = None) -> Any:
    """Poll a predicate until it is truthy (returned) or fail naming `what`: only for state that has no
    event to await (store contents, metrics). `detail()` is added to the failure message (a process's log)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                                 + (f"\n{detail()}" if detail else ""))
        time.sleep(interval)


def cluster_runs(sim: SimCluster) -> dict[str, tuple[int, str]]:
    """uid -> (rv, status) of every run (each kind in the registry) the cluster holds."""
    out = {}
    for kind in RUN_KINDS:
        for o in sim.list_objects(kind.plural):
            out[o["metadata"]["uid"]] = (int(o["metadata"]["resourceVersion"]), g.status_of(o).status)
    return out


def stored_runs(cluster: str = "sim") -> dict[str, tuple[int, str, bool]]:
    """uid -> (rv, status, in_cluster) of every stored run record of `cluster` (the bound database)."""
    q = Record.select(Record.uid, Record.rv, Record.status, Record.in_cluster).where(
        (Record.cluster == cluster) & (Record.kind << list(g.RUN_KINDS)))
    return {u: (int(rv), st, bool(ic)) for u, rv, st, ic in q.tuples()}


def differences(sim: SimCluster, cluster: str = "sim") -> list[str]:
    """What the store gets wrong about the cluster: missing, stale or wrongly gone runs (empty = converged)."""
    live = cluster_runs(sim)
    stored = stored_runs(cluster)
    out = []
    for uid, (rv, st) in live.items():
        got = stored.get(uid)
        if got is None:
            out.append(f"missing {uid}")
        elif got[0] != rv or got[1] != st or not got[2]:
            out.append(f"{uid}: stored rv={got[0]} {got[1]} in_cluster={got[2]}, cluster rv={rv} {st}")
    for uid, (_, _, ic) in stored.items():
        if uid not in live and ic:
            out.append(f"{uid} left the cluster but is stored as in_cluster")
    return out


def converged(sim: SimCluster, cluster: str = "sim") -> bool:
    return not differences(sim, cluster)
