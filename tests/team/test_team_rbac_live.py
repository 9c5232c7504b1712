"""The ClusterRoles against real traffic: the watcher runs against the simulated cluster with
everything the role does not grant forbidden (403), and must still store every run.

The static check (test_team_manifests) compares rules with the client calls in the code;
this one compares them with the requests the running watcher actually makes. It turns on
by itself once the watcher service (issue 4) is in the tree.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

service_mod = pytest.importorskip("tekton_results_tui.watcher.service", reason="the watcher service (issue 4) is not in the tree yet")

from tekton_results_tui.kinds import RUN_KINDS  # noqa: E402
from tekton_results_tui.settings import Settings  # noqa: E402
from tekton_results_tui.sim.cluster import SimCluster  # noqa: E402
from tekton_results_tui.store.db import open_database  # noqa: E402
from tekton_results_tui.store.history import History  # noqa: E402

BASE = Path(__file__).resolve().parents[2] / "config" / "base"
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
RESOURCES = (*(k.plural for k in RUN_KINDS), *(f"{k.plural}/status" for k in RUN_KINDS), "pods", "pods/log", "events",
             "namespaces", "selfsubjectaccessreviews")


def role_grants(file: str) -> set[tuple[str, str]]:
    role = next(d for d in yaml.safe_load_all((BASE / file).read_text()) if d and d["kind"] == "ClusterRole")
    return {(v, r) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def run_with_role(tmp_path: Path, role_file: str) -> tuple[SimCluster, set[tuple[str, str]]]:
    grants = role_grants(role_file)
    sim = SimCluster(port=0).start()
    sim.preload(pipelineruns=6, taskruns_per=2, namespaces=("ci", "dev"), finished=True, seed=7)
    for verb in VERBS:
        for res in RESOURCES:
            if (verb, res) not in grants:
                sim.faults.forbid(verb, res)
    kubeconfig = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    url = "sqlite:///" + str(tmp_path / "history.db")
    settings = Settings.of(db_url=url, kubeconfig=kubeconfig, context="sim", cluster_name="sim")
    db = open_database(url)
    history = History(db)
    svc = service_mod.WatcherService(settings, history)
    uids = [o["metadata"]["uid"] for kind in ("pipelineruns", "taskruns") for o in sim.list_objects(kind)]
    svc.start()
    try:
        wait_until(lambda: len(history.stored_versions(uids, "sim")) == len(uids), 60, "every run stored")
        if ("patch", "pipelineruns") in grants:
            wait_until(lambda: all(o["metadata"].get("annotations", {}).get("results.tekton.dev/stored") == "true"
                                   for k in ("pipelineruns", "taskruns") for o in sim.list_objects(k)
                                   if any(c.get("type") == "Succeeded" and c.get("status") in ("True", "False")
                                          for c in o.get("status", {}).get("conditions", []))),
                       60, "the stored annotation on every finished run")
    finally:
        svc.stop()
        db.close()
        sim.stop()
    return sim, grants


def used(sim: SimCluster) -> list[tuple[str, str, int]]:
    return [(r.verb, r.resource, r.status) for r in sim.requests if r.resource and r.verb]


def test_full_role_is_enough_and_everything_used_is_granted(tmp_path) -> None:
    sim, grants = run_with_role(tmp_path, "rbac.yaml")
    reqs = used(sim)
    assert reqs, "the sim recorded no requests"
    denied = sorted({(v, r) for v, r, s in reqs if s == 403})
    assert not denied, f"the watcher needed permissions the ClusterRole lacks: {denied}"
    assert {(v, r) for v, r, _ in reqs} <= grants


def test_readonly_role_stores_everything_and_writes_nothing(tmp_path) -> None:
    sim, grants = run_with_role(tmp_path, "rbac-readonly.yaml")
    reqs = used(sim)
    writes_done = [(v, r, s) for v, r, s in reqs if v in ("patch", "update", "delete", "create") and s < 400
                   and r != "selfsubjectaccessreviews"]
    assert not writes_done, f"a read-only watcher changed the cluster: {writes_done}"
