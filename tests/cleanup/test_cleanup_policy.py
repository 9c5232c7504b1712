"""--delete-after / --delete-selector and --finalizers / --store-deadline against the sim with the real watcher."""

from __future__ import annotations

import json
import time

import pytest

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import ClassifiedRun, History, RunUpsert
from tekton_results_tui.watcher.cleanup import ResultTarget, plan
from tekton_results_tui.watcher.cleanup_policy import FINALIZER, CleanupPolicy, finalizer_mark_key, parse_selector
from tekton_results_tui.watcher.messages import StoredRun
from tekton_results_tui.watcher.service import WatcherService

from .helpers import CLUSTER, done, make_run, running, settings, store_run, wait_for


class CommitHook(History):
    """The history as the watcher's writer sees it, calling policy.on_stored after each committed batch.

    This is the integration point: Writer._flush -> policy.on_stored(runs of the batch).
    """

    policy: CleanupPolicy | None = None

    def apply(self, changes, cluster=""):  # noqa: ANN001, ANN201
        changes = list(changes)
        res = super().apply(changes, cluster=cluster)
        if self.policy is not None:
            self.policy.on_stored([StoredRun(c.info, json.loads(c.raw)) if isinstance(c, ClassifiedRun)
                                   else StoredRun(g.classify(c.obj), c.obj)
                                   for c in changes if isinstance(c, (ClassifiedRun, RunUpsert))])
        return res


@pytest.fixture
def hooked(history: History) -> CommitHook:
    return CommitHook(history.db)


@pytest.fixture
def running_services():
    made: list = []
    yield made
    for x in reversed(made):
        x.stop(5.0)


def start(kubeconfig, hooked, target, running_services, **kw):
    s = settings(kubeconfig, **kw).replace(read_timeout_s=5.0, backoff_cap_s=0.5, batch_wait_s=0.05)
    policy = CleanupPolicy(s, hooked, target.new_api_client, CLUSTER, tick_s=0.1, release_list_s=0.2)
    hooked.policy = policy
    svc = WatcherService(s, hooked)
    svc.start()
    running_services.append(svc)
    policy.start()
    running_services.append(policy)
    return svc, policy


def test_selector_syntax():
    sel = parse_selector("app=web, tier!=db, team in (a, b), !tmp, keep")
    assert sel({"app": "web", "tier": "fe", "team": "a", "keep": ""})
    assert not sel({"app": "web", "tier": "db", "team": "a", "keep": ""})
    assert not sel({"app": "web", "team": "c", "keep": ""})
    assert not sel({"app": "web", "team": "a", "keep": "", "tmp": "1"})
    with pytest.raises(ValueError):
        parse_selector("a=(b")


def test_delete_after_deletes_stored_runs_matching_the_selector(sim, kubeconfig, hooked, target, running_services):
    a, ak = make_run(sim, "old-a", labels={"cleanup": "yes"})  # completed 2026-01-01: long past DURATION
    b, bk = make_run(sim, "old-b")  # not selected
    c, ck = make_run(sim, "busy-c", labels={"cleanup": "yes"}, pr_status=running(), tr_status=running())
    svc, policy = start(kubeconfig, hooked, target, running_services, delete_after_s=60.0, delete_selector="cleanup=yes")
    wait_for(lambda: sim.get("pipelineruns", "ci", "old-a") is None, what="old-a deleted by the policy")
    assert sim.get("pipelineruns", "ci", "old-b") is not None
    assert sim.get("pipelineruns", "ci", "busy-c") is not None
    assert [t["metadata"]["name"] for t in sim.list_objects("taskruns") if t["metadata"]["name"].startswith("old-a")] == []
    wait_for(lambda: not hooked.get_record(uid=a["metadata"]["uid"]).in_cluster, what="old-a marked gone")
    # busy-c finishes now: its completion is "now", so it waits DURATION (60 s) — nothing happens yet
    for k in ck:
        sim.patch_status("taskruns", "ci", k["metadata"]["name"], done())
    now_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sim.patch_status("pipelineruns", "ci", "busy-c", {**done(end=now_iso), "childReferences": sim.get(
        "pipelineruns", "ci", "busy-c")["status"]["childReferences"]})
    uid = c["metadata"]["uid"]
    wait_for(lambda: uid in policy.due(), what="busy-c due")
    assert policy.due()[uid] > time.time() + 30
    assert policy.tick(time.time()) == [] and sim.get("pipelineruns", "ci", "busy-c") is not None
    out = policy.tick(time.time() + 61)  # DURATION later (the clock is the caller's)
    assert [(o.run.name, o.result) for o in out] == [("busy-c", "deleted")]


def test_delete_after_waits_for_logs_and_events_when_stored(sim, history):
    pr, kids = make_run(sim, "needs-logs", tasks=1)
    store_run(history, pr, kids)
    rid = history.get_record(uid=pr["metadata"]["uid"]).result_id
    p = plan(history, [ResultTarget(rid)], CLUSTER, require_logs=True)
    assert [s.reason for s in p.skipped] == ["child TaskRun needs-logs-t0: logs not stored yet"]
    p = plan(history, [ResultTarget(rid)], CLUSTER, require_events=True)
    assert [s.reason for s in p.skipped] == ["events not stored yet"]


def test_finalizer_while_the_watcher_is_up_stores_first_then_releases(sim, kubeconfig, hooked, target, running_services):
    svc, policy = start(kubeconfig, hooked, target, running_services, finalizers=True)
    pr, _ = make_run(sim, "fin-up", tasks=0, pr_status=running())
    wait_for(lambda: FINALIZER in (sim.get("pipelineruns", "ci", "fin-up")["metadata"].get("finalizers") or []),
             what="finalizer added")
    sim.delete("pipelineruns", "ci", "fin-up")  # kubectl delete: held by our finalizer until stored
    wait_for(lambda: sim.get("pipelineruns", "ci", "fin-up") is None, what="released and deleted")
    rec = hooked.get_record(uid=pr["metadata"]["uid"])
    stored = hooked.record_object(rec.id)
    assert stored["metadata"].get("deletionTimestamp")  # the state at deletion was stored before the release
    assert FINALIZER in stored["metadata"]["finalizers"]
    wait_for(lambda: not hooked.get_record(uid=pr["metadata"]["uid"]).in_cluster, what="marked gone")
    # the service runs its own policy too (on its writer's commits): either may release first
    both = [policy, svc._policy]
    assert sum(p.counts["finalizers_released"] for p in both) >= 1
    assert sum(p.counts["released_at_deadline"] for p in both) == 0


def test_finalizer_of_a_run_deleted_while_the_watcher_is_down_is_released_at_the_deadline(
        sim, kubeconfig, hooked, target, running_services):
    svc, policy = start(kubeconfig, hooked, target, running_services, finalizers=True, store_deadline_s=600.0)
    pr, _ = make_run(sim, "fin-down", tasks=0, pr_status=running())
    wait_for(lambda: FINALIZER in (sim.get("pipelineruns", "ci", "fin-down")["metadata"].get("finalizers") or []),
             what="finalizer added")
    for x in reversed(running_services):  # the watcher and its policy thread go down
        x.stop(5.0)
    running_services.clear()
    sim.delete("pipelineruns", "ci", "fin-down")
    # what a restarted watcher (or another replica) does with its release pass, before and after the deadline
    late = CleanupPolicy(settings(kubeconfig, finalizers=True, store_deadline_s=600.0), hooked,
                         target.new_api_client, CLUSTER)
    running_services.append(late)
    assert late.release_due(time.time() + 10) == 0
    held = sim.get("pipelineruns", "ci", "fin-down")
    assert held is not None and held["metadata"]["deletionTimestamp"]
    assert late.release_due(time.time() + 601) == 1
    assert sim.get("pipelineruns", "ci", "fin-down") is None
    assert late.counts["released_at_deadline"] == 1


def test_stale_finalizers_are_removed_at_start_up(sim, kubeconfig, hooked, target, running_services):
    pr, _ = make_run(sim, "stale", tasks=0)
    live = sim.get("pipelineruns", "ci", "stale")
    live["metadata"]["finalizers"] = [FINALIZER, "other.example/keep"]
    sim.update("pipelineruns", live)
    hooked.set_value(finalizer_mark_key(CLUSTER), "on")  # a watcher on THIS database used --finalizers before
    policy = CleanupPolicy(settings(kubeconfig), hooked, target.new_api_client, CLUSTER)  # --finalizers off now
    running_services.append(policy)
    assert policy.remove_stale_finalizers() == 1
    assert sim.get("pipelineruns", "ci", "stale")["metadata"]["finalizers"] == ["other.example/keep"]


def test_the_policy_refuses_read_only(kubeconfig, history, target):
    from tekton_results_tui.watcher.cleanup import ReadOnlyRefused

    with pytest.raises(ReadOnlyRefused):
        CleanupPolicy(settings(kubeconfig, read_only=True, delete_after_s=1.0), history, target.new_api_client, CLUSTER)
