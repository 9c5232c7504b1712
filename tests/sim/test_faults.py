"""Each injected fault, as the real kubernetes client observes it."""

from __future__ import annotations

import json
import threading
import time

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from simhelpers import G, V, pr, tr
from tekton_results_tui.sim import SimCluster


def _raw_watch(co: client.CustomObjectsApi, rv: str, **kw: object) -> urllib3.HTTPResponse:
    return co.list_cluster_custom_object(G, V, "pipelineruns", watch=True, resource_version=rv,
                                         _preload_content=False, **kw)


def test_dropped_stream_is_protocol_error(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    rv = str(sim.resource_version)
    for i in range(5):
        sim.create("pipelineruns", pr(f"d{i}"))
    sim.faults.drop_watches_after(3)
    w = watch.Watch()
    got = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for ev in w.stream(co.list_cluster_custom_object, G, V, "pipelineruns", resource_version=rv, timeout_seconds=5):
            got.append(ev["object"]["metadata"]["name"])
    assert got == ["d0", "d1", "d2"]
    # the fault was used up: the next watch from the last rv seen resumes with the rest
    rest = [ev["object"]["metadata"]["name"] for ev in watch.Watch().stream(
        co.list_cluster_custom_object, G, V, "pipelineruns", resource_version=w.resource_version, timeout_seconds=1)]
    assert rest == ["d3", "d4"]


def test_stall_sends_nothing_then_resumes(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    rv = str(sim.resource_version)
    sim.faults.stall_watches(1.5)
    sim.create("pipelineruns", pr("s"))
    resp = _raw_watch(co, rv, allow_watch_bookmarks=True, timeout_seconds=10, _request_timeout=(5, 0.7))
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        resp.read(1)  # nothing at all (not even a bookmark, though they are every 0.2 s) within the read timeout
    resp.release_conn()
    t0 = time.monotonic()
    evs = []
    for ev in watch.Watch().stream(co.list_cluster_custom_object, G, V, "pipelineruns", resource_version=rv, timeout_seconds=5):
        evs.append(ev)
        break
    assert evs[0]["type"] == "ADDED" and time.monotonic() - t0 < 1.0  # stall used up: the next watch is live


def test_gone_on_next_watch(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.faults.gone_on_next_watch()
    resp = _raw_watch(co, str(sim.resource_version), timeout_seconds=5)
    assert resp.status == 200
    lines = resp.read().splitlines()
    ev = json.loads(lines[0])
    assert len(lines) == 1 and ev["type"] == "ERROR" and ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
    # consumed: the next watch is normal
    assert list(watch.Watch().stream(co.list_cluster_custom_object, G, V, "pipelineruns",
                                     resource_version=str(sim.resource_version), timeout_seconds=1)) == []


def test_http_500_and_410_on_list(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    sim.faults.http_error(500, verb="list")
    with pytest.raises(ApiException) as ei:
        co.list_cluster_custom_object(G, V, "pipelineruns")
    assert ei.value.status == 500 and json.loads(ei.value.body)["reason"] == "InternalError"
    sim.faults.http_error(410, verb="list", resource="taskruns")
    co.list_cluster_custom_object(G, V, "pipelineruns")  # other resource unaffected
    with pytest.raises(ApiException) as ei:
        co.list_cluster_custom_object(G, V, "taskruns")
    assert ei.value.status == 410 and json.loads(ei.value.body)["reason"] == "Expired"
    co.list_cluster_custom_object(G, V, "taskruns")  # used up


def test_http_429_with_retry_after(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    import urllib.error
    import urllib.request
    sim.faults.http_error(429, retry_after=3, verb="watch")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(f"{sim.url}/apis/{G}/{V}/pipelineruns?watch=true&timeoutSeconds=1")
    assert ei.value.code == 429 and ei.value.headers["Retry-After"] == "3"
    body = json.loads(ei.value.read())
    assert body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 3
    # the real client's urllib3 honours Retry-After on 429 by itself: it waits, then retries
    sim.clear_requests()
    sim.faults.http_error(429, retry_after=1, verb="list")
    t0 = time.monotonic()
    co.list_cluster_custom_object(G, V, "pipelineruns")
    assert time.monotonic() - t0 >= 0.9
    assert [r.status for r in sim.requests if r.verb == "list"] == [429, 200]


def test_forbid_with_consistent_access_review(sim: SimCluster, co: client.CustomObjectsApi, api_client: client.ApiClient) -> None:
    sim.create("pipelineruns", pr("x"))
    sim.faults.forbid("delete", "pipelineruns", namespace="ci")
    with pytest.raises(ApiException) as ei:
        co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "x")
    body = json.loads(ei.value.body)
    assert ei.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('pipelineruns.tekton.dev "x" is forbidden: User "sim-user" cannot delete resource '
                               '"pipelineruns" in API group "tekton.dev" in the namespace "ci"')
    assert sim.get("pipelineruns", "ci", "x") is not None
    authz = client.AuthorizationV1Api(api_client)

    def allowed(verb: str, ns: str) -> bool:
        r = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb=verb, group="tekton.dev", resource="pipelineruns", namespace=ns))))
        return r.status.allowed

    assert allowed("delete", "ci") is False
    assert allowed("delete", "dev") is True
    assert allowed("list", "ci") is True
    sim.faults.clear()
    assert allowed("delete", "ci") is True
    co.delete_namespaced_custom_object(G, V, "ci", "pipelineruns", "x")


def test_stop_closes_open_watches_promptly(co: client.CustomObjectsApi, tmp_path) -> None:
    from kubernetes import config
    s = SimCluster().start()
    c = client.CustomObjectsApi(config.new_client_from_config(s.write_kubeconfig(str(tmp_path / "k"))))
    ended = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in watch.Watch().stream(c.list_cluster_custom_object, G, V, "pipelineruns", timeout_seconds=60):
                pass
        except Exception as exc:  # noqa: BLE001 - a dropped connection is the expected end
            errors.append(exc)
        ended.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while not any(r.verb == "watch" for r in s.requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    s.stop()
    assert ended.wait(5) and time.monotonic() - t0 < 3


# ---- knobs for the watcher keep-up test: streams cut every N events, a small watch window, a burst ----


def _names_until_cut(co: client.CustomObjectsApi, rv: str, plural: str = "pipelineruns",
                     version: str = V) -> tuple[list[str], str, bool]:
    """Events of one watch from rv: (names, last rv seen, whether the stream was cut)."""
    w = watch.Watch()
    got: list[str] = []
    try:
        for ev in w.stream(co.list_cluster_custom_object, G, version, plural, resource_version=rv, timeout_seconds=1):
            got.append(ev["object"]["metadata"]["name"])
    except urllib3.exceptions.ProtocolError:
        return got, w.resource_version, True
    return got, w.resource_version or rv, False


def test_drop_every_watch_cuts_each_stream_until_cleared(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    rv = str(sim.resource_version)
    for i in range(60):
        sim.create("pipelineruns", pr(f"e{i:02d}"))
    sim.faults.drop_every_watch_after(25)
    seen: list[str] = []
    per_stream = []
    while True:
        got, rv, cut = _names_until_cut(co, rv)
        seen += got
        per_stream.append(len(got))
        if not cut:
            break
    assert per_stream == [25, 25, 10]  # the last stream had only 10 left: it ended at its timeout, not cut
    assert seen == [f"e{i:02d}" for i in range(60)]  # resuming from the last rv loses and repeats nothing
    assert sim.faults.watches_dropped == 2
    sim.faults.clear()
    for i in range(30):
        sim.create("pipelineruns", pr(f"f{i:02d}"))
    got, _, cut = _names_until_cut(co, rv)
    assert not cut and len(got) == 30


def test_drop_every_watch_with_jitter_applies_to_every_kind(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    parent = sim.create("pipelineruns", pr("owner"))
    rv = str(sim.resource_version)
    for i in range(80):
        sim.create("taskruns", tr(f"t{i:02d}", parent))
    sim.faults.drop_every_watch_after(10, jitter=3, seed=5)
    sizes = []
    seen: list[str] = []
    cut = True
    while cut:
        got, rv, cut = _names_until_cut(co, rv, "taskruns")
        seen += got
        if cut:
            sizes.append(len(got))
    assert seen == [f"t{i:02d}" for i in range(80)]
    assert all(7 <= n <= 13 for n in sizes) and len(set(sizes)) > 1, sizes


def test_small_watch_window_gives_410_to_a_late_reconnect(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    import urllib.request
    sim.set_watch_window(30)
    assert sim.watch_window == 30
    rv = str(sim.resource_version)
    for i in range(40):
        sim.create("pipelineruns", pr(f"w{i:02d}"))
    sim.faults.drop_every_watch_after(25)
    with pytest.raises(ApiException) as ei:  # 40 changes back is outside the window: 410 at once
        _names_until_cut(co, rv)
    assert ei.value.status == 410
    raw = urllib.request.urlopen(f"{sim.url}/apis/{G}/{V}/pipelineruns?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    ev = json.loads(raw.read().splitlines()[0])
    assert ev["type"] == "ERROR" and ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
    # from within the window: replayed, then cut after 25
    inside = str(sim.resource_version - 28)
    got, last, cut = _names_until_cut(co, inside)
    assert cut and got == [f"w{i:02d}" for i in range(12, 37)]
    # the burst goes on while the client waits before reconnecting: its rv falls out of the window
    for i in range(31):
        sim.create("pipelineruns", pr(f"x{i:02d}"))
    with pytest.raises(ApiException) as ei:  # the client turns the ERROR event into a 410 ApiException
        _names_until_cut(co, last)
    assert ei.value.status == 410
    # a reconnect at once stays inside the window
    rv = str(sim.resource_version)
    for i in range(20):
        sim.create("pipelineruns", pr(f"y{i:02d}"))
    got, _, cut = _names_until_cut(co, rv)
    assert got == [f"y{i:02d}" for i in range(20)] and not cut


def test_shrinking_the_window_expires_old_continue_tokens(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    for i in range(10):
        sim.create("pipelineruns", pr(f"c{i}"))
    first = co.list_cluster_custom_object(G, V, "pipelineruns", limit=3)
    for i in range(5):
        sim.create("pipelineruns", pr(f"d{i}"))
    co.list_cluster_custom_object(G, V, "pipelineruns", limit=3, _continue=first["metadata"]["continue"])  # still inside
    sim.set_watch_window(3)
    with pytest.raises(ApiException) as ei:
        co.list_cluster_custom_object(G, V, "pipelineruns", limit=3, _continue=first["metadata"]["continue"])
    assert ei.value.status == 410


def test_burst_with_cut_streams_loses_nothing_for_a_prompt_client(sim: SimCluster, co: client.CustomObjectsApi) -> None:
    """A burst of workload writes (all kinds) through streams cut every 25 events: a client that reconnects at once
    from its last rv sees every change once, in order. (Rate figures: bench, not here.)"""
    from tekton_results_tui.kinds import RUN_KINDS
    from tekton_results_tui.sim import Workload
    sim.set_watch_window(100_000)
    start = sim.resource_version
    sim.faults.drop_every_watch_after(25, jitter=5, seed=1)
    wl = Workload(sim, rate=1000, seed=3, max_runs=30, step_interval_s=0.001, custom_runs_every=3).start()
    try:
        assert wl.wait_idle(30)
    finally:
        wl.stop()
    want = {k.plural: [(ch.rv, ch.type) for ch in sim.store.history if ch.rv > start and ch.kind == k.plural]
            for k in RUN_KINDS}
    assert sum(len(v) for v in want.values()) >= 30 * 10  # a run makes a dozen-odd writes
    for k in RUN_KINDS:
        rv, got, cut = str(start), [], True
        while cut:
            w = watch.Watch()
            cut = False
            try:
                for ev in w.stream(co.list_cluster_custom_object, G, k.version, k.plural, resource_version=rv, timeout_seconds=1):
                    got.append((int(ev["object"]["metadata"]["resourceVersion"]), ev["type"]))
            except urllib3.exceptions.ProtocolError:
                cut = True
                rv = w.resource_version
        assert got == want[k.plural], k.name
    assert sim.faults.watches_dropped >= sum(len(v) for v in want.values()) // 30


def test_prune_after_and_the_ledger_of_runs_that_left(sim: SimCluster) -> None:
    """prune_after_s deletes each finished PipelineRun (children by the owner cascade); the ledger still knows
    every run and its last live resourceVersion, which is what a watcher must have stored."""
    from tekton_results_tui.kinds import RUN_KINDS
    from tekton_results_tui.sim import Workload
    sim.start_ledger()
    wl = Workload(sim, rate=200, seed=7, max_runs=10, step_interval_s=0.005, custom_runs_every=2, prune_after_s=0.05).start()
    try:
        assert wl.wait_idle(30)
    finally:
        wl.stop()
    assert wl.runs_pruned == 10
    assert all(sim.list_objects(k.plural) == [] for k in RUN_KINDS)
    ledger = sim.ledger()
    by_kind = {k.plural: [e for e in ledger.values() if e.kind == k.plural] for k in RUN_KINDS}
    assert len(by_kind["pipelineruns"]) == 10 and len(by_kind["customruns"]) == 5 and by_kind["taskruns"]
    assert all(e.deleted for e in ledger.values())
    last_live: dict[str, int] = {}
    for ch in sim.store.history:
        if ch.type != "DELETED":
            last_live[ch.entry.uid] = ch.rv
    assert {uid: e.rv for uid, e in ledger.items()} == last_live
    # final states: what was deleted had finished
    for ch in sim.store.history:
        if ch.type == "DELETED":
            conds = (ch.entry.obj().get("status") or {}).get("conditions") or [{}]
            assert conds[0].get("status") in ("True", "False"), ch.key
