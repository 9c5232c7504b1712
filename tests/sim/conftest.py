"""Fixtures: a started SimCluster per test and real kubernetes clients pointed at it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client, config

from simkit import kubeconfig, sim  # noqa: F401 - fixtures


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


