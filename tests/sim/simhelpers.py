"""Helpers shared by the sim tests (object builders, a deadline poll)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

G, V = "tekton.dev", "v1"


def pr(name: str, ns: str = "ci", labels: dict[str, str] | None = None, **meta: object) -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, **meta},
            "spec": {"pipelineRef": {"name": "p"}}}


def tr(name: str, parent: dict, ns: str = "ci") -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
            "metadata": {"name": name, "namespace": ns, "labels": {"tekton.dev/pipelineRun": parent["metadata"]["name"]},
                         "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "controller": True,
                                              "name": parent["metadata"]["name"], "uid": parent["metadata"]["uid"]}]},
            "spec": {"taskRef": {"name": "t"}}}


def wait_for(pred: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    """Poll a predicate until true or fail with a message (for state that has no event to await)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
