"""Fixtures: a started SimCluster per test and real kubernetes clients pointed at it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from tekton_results_tui.sim import SimCluster



@pytest.fixture
def sim() -> Iterator[SimCluster]:
    s = SimCluster(compaction_window=10_000, bookmark_interval_s=0.2).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def kubeconfig(sim: SimCluster, tmp_path: Path) -> str:
    return sim.write_kubeconfig(str(tmp_path / "kubeconfig.yaml"))


@pytest.fixture
def api_client(kubeconfig: str) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(kubeconfig)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def co(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


