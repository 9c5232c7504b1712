"""Fixtures for the cleanup tests: a simulated cluster over HTTP, a SQLite history, real clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.kube import KubeTarget, load_target


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    s = SimCluster(compaction_window=200_000, bookmark_interval_s=0.2).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def kubeconfig(sim: SimCluster, tmp_path: Path) -> str:
    return sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")


@pytest.fixture
def target(kubeconfig: str) -> KubeTarget:
    return load_target(kubeconfig, "sim")


@pytest.fixture
def api(target: KubeTarget) -> Iterator[client.ApiClient]:
    a = target.new_api_client()
    yield a
    a.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def history(db_url: str) -> Iterator[History]:
    db = open_database(db_url)
    yield History(db)
    db.close()
