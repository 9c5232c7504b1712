"""Discovery documents and meta.k8s.io Tables, as kubectl expects them."""

from __future__ import annotations

import time
from typing import Any

from tekton_results_tui.kinds import PIPELINE_RUN, TASK_RUN
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.sim.store import GROUP, KINDS, SERVED, VERSION

SERVER_ADDR = [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]
VERSION_INFO = {"major": "1", "minor": "30", "gitVersion": "v1.30.0-sim", "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "2024-04-17T00:00:00Z", "goVersion": "go1.22.2", "compiler": "gc",
                "platform": "linux/amd64"}

_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]
# CRD facts the registry does not hold: Tekton's CRDs give PipelineRun and TaskRun a short name, CustomRun none
SHORT_NAMES = {PIPELINE_RUN.name: ["pr"], TASK_RUN.name: ["tr"]}


def api_versions() -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": SERVER_ADDR}


def core_resources() -> dict[str, Any]:
    return {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ev"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace", "verbs": ["get", "list"], "shortNames": ["ns"]},
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"], "shortNames": ["po"], "categories": ["all"]},
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
    ]}


def _group(name: str, versions: list[str], preferred: str) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": {"groupVersion": f"{name}/{preferred}", "version": preferred}}


def api_groups() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group("authorization.k8s.io", ["v1"], "v1"), _group(GROUP, list(SERVED), VERSION)]}


def api_group(name: str) -> dict[str, Any] | None:
    for g in api_groups()["groups"]:
        if g["name"] == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **g}
    return None


def tekton_resources(version: str = VERSION) -> dict[str, Any]:
    """The run resources served at tekton.dev/<version> (each kind at the version the registry watches)."""
    res = []
    for plural in SERVED.get(version, ()):
        kind = KINDS[plural]
        short = SHORT_NAMES.get(kind)
        res.append({"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind, "verbs": _VERBS,
                    **({"shortNames": short} if short else {}), "categories": ["tekton", "tekton-pipelines"],
                    "storageVersionHash": "sim" + plural[:5]})
        res.append({"name": f"{plural}/status", "singularName": "", "namespaced": True, "kind": kind,
                    "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{GROUP}/{version}", "resources": res}


def authz_resources() -> dict[str, Any]:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "authorization.k8s.io/v1", "resources": [
        {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
         "kind": "SelfSubjectAccessReview", "verbs": ["create"]}]}


def _age(ts: str | None, now: float) -> str | None:
    if not ts:
        return None
    try:
        t = time.mktime(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    except ValueError:
        return ts
    return human_duration(now - t)


COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0},
    {"name": "Succeeded", "type": "string", "format": "", "description": "", "priority": 0},
    {"name": "Reason", "type": "string", "format": "", "description": "", "priority": 0},
    {"name": "StartTime", "type": "date", "format": "", "description": "", "priority": 0},
    {"name": "CompletionTime", "type": "date", "format": "", "description": "", "priority": 0},
]


def table(objs: list[dict[str, Any]], list_meta: dict[str, Any], now: float) -> dict[str, Any]:
    """The Table Tekton's additionalPrinterColumns give (Name, Succeeded, Reason, StartTime, CompletionTime)."""
    rows = []
    for o in objs:
        st = o.get("status") or {}
        c = next((c for c in st.get("conditions") or () if c.get("type") == "Succeeded"), {})
        rows.append({"cells": [o["metadata"]["name"], c.get("status"), c.get("reason"), _age(st.get("startTime"), now),
                               _age(st.get("completionTime"), now)],
                     "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": COLUMNS, "rows": rows}
