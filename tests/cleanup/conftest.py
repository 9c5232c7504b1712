"""Fixtures for the cleanup tests: a simulated cluster over HTTP, a SQLite history, real clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tekton_results_tui.watcher.kube import KubeTarget, load_target

from simkit import db_path, history, kubeconfig, sim_fixture  # noqa: F401 - fixtures
from tuikit import pilot_settles_store_reads  # noqa: F401 - autouse fixture: Pilot waits settle store reads

sim = sim_fixture(compaction_window=200_000)  # this package has always used a wider window than the others


@pytest.fixture
def target(kubeconfig: str) -> KubeTarget:
    return load_target(kubeconfig, "sim")


@pytest.fixture
def api(target: KubeTarget) -> Iterator[client.ApiClient]:
    a = target.new_api_client()
    yield a
    a.close()


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"
