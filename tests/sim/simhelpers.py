"""Helpers shared by the sim tests (object builders; the deadline poll is simkit's)."""

from __future__ import annotations

from simkit import wait_for  # noqa: F401 - re-exported for the sim tests

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
