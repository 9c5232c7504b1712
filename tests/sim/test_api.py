"""Server semantics through the real kubernetes client over HTTP."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tekton_results_tui.sim import SimCluster, Workload

from simhelpers import G, V, pr, tr, wait_for


def test_create_get_assigns_metadata(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    out = co.create_namespaced_custom_object(G, V, "ci", "pipelineruns", pr("a"))
    md = out["metadata"]
    assert md["uid"] and md["generation"] == 1 and md["creationTimestamp"].endswith("Z")
    assert int(md["resourceVersion"]) == sim.resource_version
    got = co.get_namespaced_custom_object(G, V, "ci", "pipelineruns", "a")
    assert got == out
    with pytest.raises(ApiException) as ei:
        co.create_namespaced_custom_object(G, V, "ci", "pipelineruns", pr("a"))
    assert ei.value.status == 409 and json.loads(ei.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as ei:
        co.get_namespaced_custom_object(G, V, "ci", "pipelineruns", "nope")
    body = json.loads(ei.value.body)
    assert ei.value.status == 404 and body["kind"] == "Status" and body["message"] == 'pipelineruns.tekton.dev "nope" not found'


def test_paged_list_is_consistent_snapshot(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    for i in range(25):
        sim.create("pipelineruns", pr(f"run-{i:02d}"))
    first = co.list_cluster_custom_object(G, V, "pipelineruns", limit=10)
    snap_rv = first["metadata"]["resourceVersion"]
    expected = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in sim.list_objects("pipelineruns")}
    # writes between pages: delete one not yet listed, modify one, create one at the end of key order
    sim.delete("pipelineruns", "ci", "run-15")
    cur = sim.get("pipelineruns", "ci", "run-20")
    cur["metadata"]["labels"] = {"changed": "yes"}
    sim.update("pipelineruns", cur)
    sim.create("pipelineruns", pr("run-99"))
    items = list(first["items"])
    token = first["metadata"]["continue"]
    while token:
        page = co.list_cluster_custom_object(G, V, "pipelineruns", limit=10, _continue=token)
        assert page["metadata"]["resourceVersion"] == snap_rv
        items += page["items"]
        token = page["metadata"].get("continue")
    got = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in items}
    assert got == expected
    assert [o["metadata"]["name"] for o in items] == sorted(got)


def test_label_selector_operators(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.create("pipelineruns", pr("a", labels={"app": "web", "tier": "fe"}))
    sim.create("pipelineruns", pr("b", labels={"app": "db"}))
    sim.create("pipelineruns", pr("c", ns="dev", labels={"app": "web"}))

    def names(sel: str, ns: str | None = None) -> list[str]:
        r = (co.list_namespaced_custom_object(G, V, ns, "pipelineruns", label_selector=sel) if ns
             else co.list_cluster_custom_object(G, V, "pipelineruns", label_selector=sel))
        return [o["metadata"]["name"] for o in r["items"]]

    assert names("app=web") == ["a", "c"]
    assert names("app==web", "ci") == ["a"]
    assert names("app!=web") == ["b"]
    assert names("app in (db, x)") == ["b"]
    assert names("app notin (db)") == ["a", "c"]
    assert names("tier") == ["a"]
    assert names("!tier") == ["b", "c"]
    assert names("app=web,tier=fe") == ["a"]
    with pytest.raises(ApiException) as ei:
        names("app=(")
    assert ei.value.status == 400


def test_watch_from_list_rv_sees_exactly_later_changes_in_order(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.create("pipelineruns", pr("before"))
    lst = co.list_cluster_custom_object(G, V, "pipelineruns")
    a = sim.create("pipelineruns", pr("a"))
    sim.patch_status("pipelineruns", "ci", "a", {"phase": "x"})
    sim.create("taskruns", tr("t", a))  # other resource: not in this watch
    sim.delete("pipelineruns", "ci", "before")
    w = watch.Watch()
    seen = []
    for ev in w.stream(co.list_cluster_custom_object, G, V, "pipelineruns",
                       resource_version=lst["metadata"]["resourceVersion"], timeout_seconds=1):
        seen.append((ev["type"], ev["object"]["metadata"]["name"], int(ev["object"]["metadata"]["resourceVersion"])))
        if len(seen) == 3:
            w.stop()
    assert [(t, n) for t, n, _ in seen] == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "before")]
    rvs = [r for _, _, r in seen]
    assert rvs == sorted(rvs) and rvs[-1] == sim.resource_version


def test_watch_without_rv_sends_current_state_then_live(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.create("pipelineruns", pr("x"))
    w = watch.Watch()
    seen = []
    for ev in w.stream(co.list_namespaced_custom_object, G, V, "ci", "pipelineruns", timeout_seconds=5):
        seen.append((ev["type"], ev["object"]["metadata"]["name"]))
        if len(seen) == 1:
            sim.create("pipelineruns", pr("y"))
            sim.create("pipelineruns", pr("z", ns="dev"))  # other namespace: filtered
            sim.create("pipelineruns", pr("w"))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "x"), ("ADDED", "y"), ("ADDED", "w")]


def test_bookmarks_arrive_with_current_rv(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    lst = co.list_cluster_custom_object(G, V, "taskruns")
    sim.create("pipelineruns", pr("other-kind"))  # moves the rv without a taskrun event
    w = watch.Watch()
    for ev in w.stream(co.list_cluster_custom_object, G, V, "taskruns", resource_version=lst["metadata"]["resourceVersion"],
                       allow_watch_bookmarks=True, timeout_seconds=5):
        assert ev["type"] == "BOOKMARK"
        assert ev["raw_object"]["metadata"]["resourceVersion"] == str(sim.resource_version)
        assert w.resource_version == str(sim.resource_version)
        w.stop()
        break
    else:
        pytest.fail("no bookmark")


def test_watch_timeout_ends_cleanly(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    events = list(watch.Watch().stream(co.list_cluster_custom_object, G, V, "pipelineruns",
                                       resource_version=str(sim.resource_version), timeout_seconds=1))
    assert events == []


def test_too_old_rv_is_410_in_both_forms(co: client.CustomObjectsApi) -> None:
    small = SimCluster(compaction_window=5).start()
    try:
        from kubernetes import config as kcfg
        import tempfile, os
        path = small.write_kubeconfig(os.path.join(tempfile.mkdtemp(), "k.yaml"))
        c = client.CustomObjectsApi(kcfg.new_client_from_config(path))
        for i in range(4):
            small.create("pipelineruns", pr(f"r{i}"))
        first = c.list_cluster_custom_object(G, V, "pipelineruns", limit=2)
        old_rv = first["metadata"]["resourceVersion"]
        for i in range(10):
            small.create("pipelineruns", pr(f"later{i}"))
        # watch: 200 + one ERROR event carrying a 410 Expired Status
        # (the client re-watches once on its own, then raises the 410 it saw in the ERROR event)
        with pytest.raises(ApiException) as ei:
            list(watch.Watch().stream(c.list_cluster_custom_object, G, V, "pipelineruns", resource_version=old_rv, timeout_seconds=2))
        assert ei.value.status == 410 and "Expired" in str(ei.value.reason)
        raw = urllib.request.urlopen(f"{small.url}/apis/{G}/{V}/pipelineruns?watch=true&resourceVersion={old_rv}")
        assert raw.status == 200
        lines = raw.read().splitlines()
        assert len(lines) == 1
        ev = json.loads(lines[0])
        assert ev["type"] == "ERROR" and ev["object"]["kind"] == "Status"
        assert ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
        # list with a continue token whose snapshot was compacted: HTTP 410
        with pytest.raises(ApiException) as ei:
            c.list_cluster_custom_object(G, V, "pipelineruns", limit=2, _continue=first["metadata"]["continue"])
        assert ei.value.status == 410
        body = json.loads(ei.value.body)
        assert body["reason"] == "Expired" and body["metadata"]["continue"]
        # explicit compaction makes the current rv too old as well; a fresh list works again
        rv_now = str(small.resource_version)
        small.compact()
        with pytest.raises(ApiException) as ei:
            list(watch.Watch().stream(c.list_cluster_custom_object, G, V, "pipelineruns", resource_version=rv_now, timeout_seconds=2))
        assert ei.value.status == 410
        fresh = c.list_cluster_custom_object(G, V, "pipelineruns")
        assert int(fresh["metadata"]["resourceVersion"]) > int(rv_now)
        assert list(watch.Watch().stream(c.list_cluster_custom_object, G, V, "pipelineruns",
                                         resource_version=fresh["metadata"]["resourceVersion"], timeout_seconds=1)) == []
    finally:
        small.stop()


def test_merge_and_json_patch(sim: SimCluster, co: client.CustomObjectsApi, api_client: client.ApiClient) -> None:
    sim.create("pipelineruns", pr("p"))
    out = co.patch_namespaced_custom_object(G, V, "ci", "pipelineruns", "p", {"metadata": {"annotations": {"a": "1"}}})
    assert out["metadata"]["annotations"] == {"a": "1"}
    rv = out["metadata"]["resourceVersion"]

    def jpatch(ops: list) -> dict:
        return co.patch_namespaced_custom_object(G, V, "ci", "pipelineruns", "p", ops,
                                                 _content_type="application/json-patch+json")

    out = jpatch([{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                  {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]}])
    assert out["metadata"]["finalizers"] == ["x/y"]
    with pytest.raises(ApiException) as ei:
        jpatch([{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                {"op": "remove", "path": "/metadata/finalizers"}])
    assert ei.value.status == 422 and json.loads(ei.value.body)["reason"] == "Invalid"
    # a merge patch naming a stale resourceVersion is an optimistic-concurrency conflict
    with pytest.raises(ApiException) as ei:
        co.patch_namespaced_custom_object(G, V, "ci", "pipelineruns", "p", {"metadata": {"resourceVersion": rv, "labels": {"x": "y"}}})
    assert ei.value.status == 409
    # the main resource ignores status; /status changes only status
    out = co.patch_namespaced_custom_object(G, V, "ci", "pipelineruns", "p", {"status": {"x": 1}})
    assert "status" not in out
    out = co.patch_namespaced_custom_object_status(G, V, "ci", "pipelineruns", "p", {"status": {"x": 1}, "metadata": {"labels": {"no": "no"}}})
    assert out["status"] == {"x": 1} and "no" not in (out["metadata"].get("labels") or {})
    # strategic merge patch is not supported for custom resources: 415
    with pytest.raises(ApiException) as ei:
        co.patch_namespaced_custom_object(G, V, "ci", "pipelineruns", "p", {"metadata": {}},
                                          _content_type="application/strategic-merge-patch+json")
    assert ei.value.status == 415


def test_delete_with_stale_precondition_is_409(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    o = sim.create("pipelineruns", pr("d"))
    sim.patch_status("pipelineruns", "ci", "d", {"x": 1})
    with pytest.raises(ApiException) as ei:
        co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "d",
                                           body=client.V1DeleteOptions(preconditions=client.V1Preconditions(
                                               uid=o["metadata"]["uid"], resource_version=o["metadata"]["resourceVersion"])))
    assert ei.value.status == 409
    body = json.loads(ei.value.body)
    assert body["reason"] == "Conflict" and "Precondition failed" in body["message"]
    with pytest.raises(ApiException) as ei:
        co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "d",
                                           body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="other")))
    assert ei.value.status == 409
    cur = sim.get("pipelineruns", "ci", "d")
    co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "d", body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=cur["metadata"]["uid"], resource_version=cur["metadata"]["resourceVersion"])))
    assert sim.get("pipelineruns", "ci", "d") is None


def test_finalizer_keeps_deleted_object_until_removed(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.create("pipelineruns", pr("f", finalizers=["results.tekton.dev/store"]))
    lst = co.list_cluster_custom_object(G, V, "pipelineruns")
    out = co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "f")
    assert out["metadata"]["deletionTimestamp"]
    got = co.get_namespaced_custom_object(G, V, "ci", "pipelineruns", "f")
    assert got["metadata"]["deletionTimestamp"] and got["metadata"]["finalizers"] == ["results.tekton.dev/store"]
    co.patch_namespaced_custom_object(G, V, "ci", "pipelineruns", "f", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as ei:
        co.get_namespaced_custom_object(G, V, "ci", "pipelineruns", "f")
    assert ei.value.status == 404
    evs = list(watch.Watch().stream(co.list_cluster_custom_object, G, V, "pipelineruns",
                                    resource_version=lst["metadata"]["resourceVersion"], timeout_seconds=1))
    assert [e["type"] for e in evs] == ["MODIFIED", "DELETED"]


def test_deleting_pipelinerun_removes_its_taskruns(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    p = sim.create("pipelineruns", pr("parent"))
    for i in range(3):
        sim.create("taskruns", tr(f"parent-t{i}", p))
    q = sim.create("pipelineruns", pr("keep"))
    sim.create("taskruns", tr("keep-t", q))
    co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "parent",
                                       body=client.V1DeleteOptions(propagation_policy="Background"))
    names = [o["metadata"]["name"] for o in co.list_namespaced_custom_object(G, V, "ci", "taskruns")["items"]]
    assert names == ["keep-t"]
    co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "keep", body=client.V1DeleteOptions(propagation_policy="Orphan"))
    orphan = co.get_namespaced_custom_object(G, V, "ci", "taskruns", "keep-t")
    assert "ownerReferences" not in orphan["metadata"]


def test_workload_runs_with_logs_and_events(sim: SimCluster, co: client.CustomObjectsApi, core: client.CoreV1Api) -> None:
    wl = Workload(sim, rate=50, seed=1, max_runs=6, step_interval_s=0.01).start()
    try:
        assert wl.wait_idle(20), (wl.runs_started, wl.runs_finished)
    finally:
        wl.stop()
    assert wl.runs_started == wl.runs_finished == 6
    prs = co.list_cluster_custom_object(G, V, "pipelineruns")["items"]
    trs = co.list_cluster_custom_object(G, V, "taskruns")["items"]
    assert len(prs) == 6 and trs
    for p in prs:
        c = p["status"]["conditions"][0]
        assert c["type"] == "Succeeded" and c["status"] in ("True", "False")
        assert p["status"]["childReferences"]
    t = trs[0]
    assert t["metadata"]["ownerReferences"][0]["kind"] == "PipelineRun"
    assert t["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "tekton-pipelines"
    served = 0
    for t in trs:
        for step in t["status"]["steps"]:
            if "terminated" in step and step["terminated"]["exitCode"] == 0:
                text = core.read_namespaced_pod_log(t["status"]["podName"], t["metadata"]["namespace"], container=step["container"])
                assert text
                served += 1
    assert served
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_pod_log("no-such-pod", "ci", container="step-x")
    assert ei.value.status == 404
    evs = core.list_namespaced_event(t["metadata"]["namespace"], field_selector=f"involvedObject.uid={t['metadata']['uid']}")
    assert evs.items and all(e.involved_object.uid == t["metadata"]["uid"] for e in evs.items)
    assert {e.reason for e in evs.items} >= {"Started"}
    all_evs = core.list_event_for_all_namespaces(field_selector=f"involvedObject.uid={prs[0]['metadata']['uid']}")
    assert all_evs.items and all_evs.items[0].involved_object.kind == "PipelineRun"


def test_container_not_started_is_400(sim: SimCluster, core: client.CoreV1Api) -> None:
    from tekton_results_tui.sim import objects
    p = sim.create("pipelineruns", pr("w"))
    t = sim.create("taskruns", tr("w-t", p))
    sim.patch_status("taskruns", "ci", "w-t", objects.tr_status("w-t", "golang-build", 0, 0, None, 0, pending=True))
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_pod_log("w-t-pod", "ci", container="step-build")
    assert ei.value.status == 400 and "waiting to start" in json.loads(ei.value.body)["message"]
    sim.set_pod_log("ci", "w-t-pod", "step-build", "hello\n")
    assert core.read_namespaced_pod_log("w-t-pod", "ci", container="step-build") == "hello\n"


def test_preload_and_derived_logs_events(sim: SimCluster, co: client.CustomObjectsApi, core: client.CoreV1Api) -> None:
    sim.preload(pipelineruns=30, taskruns_per=4, seed=3)
    prs = co.list_cluster_custom_object(G, V, "pipelineruns")["items"]
    assert len(prs) == 30
    reasons = {p["status"]["conditions"][0]["reason"] for p in prs}
    assert len(reasons) >= 2
    t = co.list_cluster_custom_object(G, V, "taskruns", limit=1)["items"][0]
    evs = core.list_namespaced_event(t["metadata"]["namespace"], field_selector=f"involvedObject.uid={t['metadata']['uid']}")
    assert [e.reason for e in evs.items][:1] == ["Started"]


def test_bad_input_and_unknown_paths(sim: SimCluster, api_client: client.ApiClient) -> None:
    import urllib.request, urllib.error
    req = urllib.request.Request(f"{sim.url}/apis/{G}/{V}/namespaces/ci/pipelineruns", data=b"{not json",
                                 method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req)
    assert ei.value.code == 400 and json.loads(ei.value.read())["kind"] == "Status"
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(f"{sim.url}/apis/nope/v1/things")
    assert ei.value.code == 404 and json.loads(ei.value.read())["reason"] == "NotFound"


def test_discovery(sim: SimCluster, api_client: client.ApiClient) -> None:
    res = client.CustomObjectsApi(api_client)
    groups = client.ApisApi(api_client).get_api_versions()
    assert "tekton.dev" in [g.name for g in groups.groups]
    assert client.VersionApi(api_client).get_code().git_version.startswith("v1.")
    import urllib.request
    rl = json.loads(urllib.request.urlopen(f"{sim.url}/apis/tekton.dev/v1").read())
    prs = next(r for r in rl["resources"] if r["name"] == "pipelineruns")
    assert prs["shortNames"] == ["pr"] and "tekton" in prs["categories"] and "watch" in prs["verbs"]
    assert res is not None


def test_request_log(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.clear_requests()
    co.list_namespaced_custom_object(G, V, "ci", "pipelineruns")
    with pytest.raises(ApiException):
        co.get_namespaced_custom_object(G, V, "ci", "pipelineruns", "x")
    recs = list(sim.requests)
    assert [(r.method, r.verb, r.resource, r.namespace, r.status) for r in recs] == [
        ("GET", "list", "pipelineruns", "ci", 200), ("GET", "get", "pipelineruns", "ci", 404)]
    assert not any(r.verb in ("create", "update", "patch", "delete") for r in recs)
