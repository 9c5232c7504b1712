"""CustomRun (tekton.dev/v1beta1) on the simulated cluster: served from the registry of run kinds, owned by a
PipelineRun, finished by a fake custom-task controller; the PipelineRuns and TaskRuns of a seed do not change."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from simhelpers import G, V, pr, tr
from tekton_results_tui import kinds
from tekton_results_tui.sim import SimCluster, Workload, objects
from tekton_results_tui.store import grouping

CR = kinds.CUSTOM_RUN
CV = CR.version  # v1beta1
FINAL = set(objects.CUSTOM_OUTCOMES)


def cr(name: str, parent: dict, ns: str = "ci", custom: str = "wait") -> dict:
    obj = objects.customrun(ns, parent["metadata"]["name"], parent["metadata"]["uid"], "p", custom)
    obj["metadata"]["name"] = name
    return obj


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url) as r:
        return json.loads(r.read())


def test_discovery_serves_every_registry_kind_at_its_version(sim: SimCluster) -> None:
    group = get_json(f"{sim.url}/apis/{G}")
    assert group["preferredVersion"]["version"] == "v1"
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    served: dict[str, dict] = {}
    for v in ("v1", "v1beta1"):
        for r in get_json(f"{sim.url}/apis/{G}/{v}")["resources"]:
            if "/" not in r["name"]:
                served[f"{G}/{v}/{r['name']}"] = r
    assert set(served) == {f"{k.api_version}/{k.plural}" for k in kinds.RUN_KINDS}
    crr = served[f"{CR.api_version}/customruns"]
    assert crr["kind"] == "CustomRun" and crr["namespaced"] is True and "watch" in crr["verbs"] and "shortNames" not in crr
    # each kind only where it is served: no conversion between versions
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(f"{sim.url}/apis/{G}/v1/customruns")
    assert ei.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(f"{sim.url}/apis/{G}/v1beta1/pipelineruns")
    assert ei.value.code == 404


def test_crud_list_watch_patch_delete(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    p = sim.create("pipelineruns", pr("parent"))
    rv0 = str(sim.resource_version)
    out = co.create_namespaced_custom_object(G, CV, "ci", "customruns", cr("c1", p))
    assert out["apiVersion"] == "tekton.dev/v1beta1" and out["kind"] == "CustomRun" and out["metadata"]["uid"]
    assert "status" not in out  # the main resource ignores status on create, as the real server does
    assert co.get_namespaced_custom_object(G, CV, "ci", "customruns", "c1") == out
    lst = co.list_namespaced_custom_object(G, CV, "ci", "customruns")
    assert lst["apiVersion"] == "tekton.dev/v1beta1" and lst["kind"] == "CustomRunList"
    assert [o["metadata"]["name"] for o in lst["items"]] == ["c1"]
    # a v1 body is refused on the v1beta1 resource
    wrong = cr("c2", p)
    wrong["apiVersion"] = "tekton.dev/v1"
    with pytest.raises(ApiException) as ei:
        co.create_namespaced_custom_object(G, CV, "ci", "customruns", wrong)
    assert ei.value.status == 400
    sim.patch_status("customruns", "ci", "c1", objects.cr_status("c1", "wait", 0, 5, "Succeeded"))
    co.patch_namespaced_custom_object(G, CV, "ci", "customruns", "c1", {"metadata": {"annotations": {"a": "b"}}})
    cur = co.get_namespaced_custom_object(G, CV, "ci", "customruns", "c1")
    with pytest.raises(ApiException) as ei:
        co.delete_namespaced_custom_object(G, CV, "ci", "customruns", "c1",
                                           body=client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1")))
    assert ei.value.status == 409
    co.delete_namespaced_custom_object(G, CV, "ci", "customruns", "c1", body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=cur["metadata"]["uid"], resource_version=cur["metadata"]["resourceVersion"])))
    evs = [(e["type"], e["object"]["apiVersion"], e["object"]["kind"]) for e in watch.Watch().stream(
        co.list_cluster_custom_object, G, CV, "customruns", resource_version=rv0, timeout_seconds=1)]
    assert evs == [("ADDED", "tekton.dev/v1beta1", "CustomRun")] + [("MODIFIED", "tekton.dev/v1beta1", "CustomRun")] * 2 + [
        ("DELETED", "tekton.dev/v1beta1", "CustomRun")]
    assert sim.list_objects("customruns") == []


def test_bookmarks_carry_the_kinds_api_version(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    resp = co.list_cluster_custom_object(G, CV, "customruns", watch=True, allow_watch_bookmarks=True,
                                         resource_version=str(sim.resource_version), timeout_seconds=1, _preload_content=False)
    lines = [json.loads(x) for x in resp.read().splitlines()]
    marks = [e["object"] for e in lines if e["type"] == "BOOKMARK"]
    assert marks and all(m["apiVersion"] == "tekton.dev/v1beta1" and m["kind"] == "CustomRun" for m in marks)


def test_owner_cascade_deletes_customruns_with_taskruns(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    gone = sim.create("pipelineruns", pr("gone"))
    keep = sim.create("pipelineruns", pr("keep"))
    sim.create("taskruns", tr("gone-t", gone))
    sim.create("customruns", cr("gone-c", gone))
    sim.create("customruns", cr("keep-c", keep))
    co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "gone", body=client.V1DeleteOptions(propagation_policy="Background"))
    assert [o["metadata"]["name"] for o in sim.list_objects("customruns")] == ["keep-c"]
    assert sim.list_objects("taskruns") == []
    co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "keep", body=client.V1DeleteOptions(propagation_policy="Orphan"))
    orphan = co.get_namespaced_custom_object(G, CV, "ci", "customruns", "keep-c")
    assert "ownerReferences" not in orphan["metadata"]


def test_customrun_has_no_pod(sim: SimCluster, core: client.CoreV1Api) -> None:
    p = sim.create("pipelineruns", pr("np"))
    c = sim.create("customruns", cr("np-c", p))
    status = objects.cr_status("np-c", "wait", 0, 5, "Succeeded")
    status["podName"] = "np-c-pod"  # even a stray podName in a CustomRun's status gives it no pod
    sim.patch_status("customruns", "ci", "np-c", status)
    assert all(key[0] != "customruns" for key in sim.store.pods.values())
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_pod_log("np-c-pod", "ci", container="step-x")
    assert ei.value.status == 404
    assert c["metadata"]["ownerReferences"][0]["uid"] == p["metadata"]["uid"]


def test_workload_custom_runs_are_owned_finished_and_grouped(sim: SimCluster, co: client.CustomObjectsApi,
                                                            core: client.CoreV1Api) -> None:
    wl = Workload(sim, rate=100, seed=4, max_runs=12, step_interval_s=0.01, custom_runs_every=2).start()
    try:
        assert wl.wait_idle(30), (wl.runs_started, wl.runs_finished)
    finally:
        wl.stop()
    crs = co.list_cluster_custom_object(G, CV, "customruns")["items"]
    prs = {o["metadata"]["uid"]: o for o in co.list_cluster_custom_object(G, V, "pipelineruns")["items"]}
    assert len(crs) == wl.custom_runs_started == 6  # runs 2, 4, ..., 12
    assert {c["spec"]["customRef"]["kind"] for c in crs} == {"Wait", "ApprovalTask"}
    for c in crs:
        cond = c["status"]["conditions"][0]
        assert cond["type"] == "Succeeded" and cond["reason"] in FINAL and c["status"]["completionTime"]
        assert (cond["status"] == "True") == (cond["reason"] == "Succeeded")
        owner = prs[c["metadata"]["ownerReferences"][0]["uid"]]
        assert c["metadata"]["labels"]["tekton.dev/pipelineRun"] == owner["metadata"]["name"]
        assert {"apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun", "name": c["metadata"]["name"],
                "pipelineTaskName": c["metadata"]["labels"]["tekton.dev/pipelineTask"]} in owner["status"]["childReferences"]
        pcond = owner["status"]["conditions"][0]
        assert pcond["status"] in ("True", "False")
        if cond["reason"] != "Succeeded":
            assert pcond["status"] == "False"  # a failed custom task fails its PipelineRun
        # the store groups it under its PipelineRun's Result with its own record type
        info = grouping.classify(c)
        assert info.record_type == "tekton.dev/v1beta1.CustomRun" and not info.top_level
        assert grouping.result_name_for(c) == grouping.result_name_for(owner)
        evs = core.list_namespaced_event(c["metadata"]["namespace"], field_selector=f"involvedObject.uid={c['metadata']['uid']}")
        assert evs.items and {e.involved_object.kind for e in evs.items} == {"CustomRun"}
        assert {e.involved_object.api_version for e in evs.items} == {"tekton.dev/v1beta1"}


def test_custom_status_reasons() -> None:
    for reason in objects.CUSTOM_OUTCOMES:
        for custom in objects.CUSTOM_TASKS:
            obj = {"apiVersion": CR.api_version, "kind": "CustomRun", "metadata": {"name": "x", "uid": "u", "namespace": "ci"},
                   "status": objects.cr_status("x", custom, 0, 10, reason)}
            want = {"Succeeded": "SUCCESS", "Failed": "FAILURE", "CustomRunTimedOut": "TIMEOUT", "CustomRunCancelled": "CANCELLED"}
            assert grouping.classify(obj).status == want[reason]


def run_writes(seed: int, every: int) -> list[tuple[str, str, str, str | None]]:
    """(type, kind, name, Succeeded reason) of every PipelineRun/TaskRun write of one run at a fixed clock."""
    sim = SimCluster(clock=lambda: 1_700_000_000.0)
    wl = Workload(sim, rate=1000, seed=seed, max_runs=1, step_interval_s=0.001, custom_runs_every=every).start()
    try:
        assert wl.wait_idle(20)
    finally:
        wl.stop()
    out = []
    for ch in sim.store.history:
        if ch.kind == "taskruns" or (ch.kind == "pipelineruns" and ch.type == "ADDED"):
            o = ch.entry.obj()
            conds = (o.get("status") or {}).get("conditions") or [{}]
            out.append((ch.type, ch.kind, o["metadata"]["name"], conds[0].get("reason")))
    return out


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_custom_runs_do_not_change_a_seeds_taskruns(seed: int) -> None:
    assert run_writes(seed, 1) == run_writes(seed, 0)


def test_preload_with_custom_runs_keeps_the_seeds_runs() -> None:
    plain = SimCluster(clock=lambda: 1_700_000_000.0)
    plain.preload(pipelineruns=20, taskruns_per=3, seed=8)
    mixed = SimCluster(clock=lambda: 1_700_000_000.0)
    mixed.preload(pipelineruns=20, taskruns_per=3, seed=8, customruns_every=3)
    assert mixed.list_objects("taskruns") == plain.list_objects("taskruns")
    assert [p["metadata"]["name"] for p in mixed.list_objects("pipelineruns")] == [
        p["metadata"]["name"] for p in plain.list_objects("pipelineruns")]
    crs = mixed.list_objects("customruns")
    assert len(crs) == 7  # PipelineRuns 0, 3, ..., 18
    prs = {p["metadata"]["uid"]: p for p in mixed.list_objects("pipelineruns")}
    for c in crs:
        assert c["status"]["conditions"][0]["reason"] in FINAL
        owner = prs[c["metadata"]["ownerReferences"][0]["uid"]]
        assert owner["status"]["childReferences"][0]["name"] == c["metadata"]["name"]
    assert plain.list_objects("customruns") == []
