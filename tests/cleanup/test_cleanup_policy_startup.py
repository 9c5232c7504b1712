"""The policy's start-up work: stale finalizers only when THIS database says its watcher added them;
due runs learned from the history even when the database is away at start."""

from __future__ import annotations

import sqlite3

from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.cleanup_policy import FINALIZER, CleanupPolicy, finalizer_mark_key
from tekton_results_tui.watcher.service import WatcherService

from .helpers import CLUSTER, make_run, running, settings, store_run, wait_for


def _with_finalizer(sim, name: str) -> None:
    live = sim.get("pipelineruns", "ci", name)
    live["metadata"]["finalizers"] = [FINALIZER, "other.example/keep"]
    sim.update("pipelineruns", live)


def _finalizers(sim, name: str) -> list[str]:
    return sim.get("pipelineruns", "ci", name)["metadata"].get("finalizers") or []


def test_a_watcher_on_another_database_leaves_a_team_watchers_finalizers_alone(sim, kubeconfig, history):
    """A TUI on its own SQLite (no --finalizers, no mark in its history) must not strip them, nor LIST for them."""
    make_run(sim, "team", tasks=0, pr_status=running())
    _with_finalizer(sim, "team")
    svc = WatcherService(settings(kubeconfig, read_timeout_s=5.0, backoff_cap_s=0.5), history)
    svc.start()
    try:
        policy = svc._policy
        assert policy is not None and policy._thread is not None
        policy._thread.join(10)
        assert not policy._thread.is_alive(), "the policy thread must end at once without work to do"
        wait_for(lambda: history.get_record(uid=sim.get("pipelineruns", "ci", "team")["metadata"]["uid"]),
                 what="the run stored")
    finally:
        svc.stop(5.0)
    assert _finalizers(sim, "team") == [FINALIZER, "other.example/keep"]
    assert not [r for r in sim.requests if r.method == "PATCH"]


def test_stale_finalizers_go_only_after_this_database_used_them_and_the_mark_is_cleared(sim, kubeconfig, history, target):
    make_run(sim, "was-held", tasks=0, pr_status=running())
    on = CleanupPolicy(settings(kubeconfig, finalizers=True), history, target.new_api_client, CLUSTER)
    try:
        assert on.handle_finalizer(sim.get("pipelineruns", "ci", "was-held"), 0.0) == "added"
    finally:
        on.stop(1.0)
    assert history.get_value(finalizer_mark_key(CLUSTER)) == "on"
    assert FINALIZER in _finalizers(sim, "was-held")
    # restarted WITHOUT --finalizers on the same database: ours go, and the mark with them
    off = CleanupPolicy(settings(kubeconfig), history, target.new_api_client, CLUSTER)
    try:
        assert off.remove_stale_finalizers() == 1
        assert FINALIZER not in _finalizers(sim, "was-held")
        assert history.get_value(finalizer_mark_key(CLUSTER)) == "off"
        # the next start finds no mark: no LIST of every run, nothing removed
        _with_finalizer(sim, "was-held")  # someone else's watcher puts it back
        sim.clear_requests()
        assert off.remove_stale_finalizers() == 0
        assert FINALIZER in _finalizers(sim, "was-held")
        assert not [r for r in sim.requests if r.verb == "list"]
    finally:
        off.stop(1.0)


def test_seed_is_retried_when_the_database_is_away_at_start(sim, kubeconfig, history, db_path, target):
    """A database error while learning what is due must not end the policy thread (it deletes nothing then)."""
    pr, kids = make_run(sim, "due-at-start")  # completed 2026-01-01: long past the 60 s
    store_run(history, pr, kids)
    con = sqlite3.connect(str(db_path), timeout=10)
    con.execute("ALTER TABLE record RENAME TO record_away")  # the table is unreachable for a moment
    con.commit()
    policy = CleanupPolicy(settings(kubeconfig, delete_after_s=60.0), history, target.new_api_client, CLUSTER,
                           tick_s=0.1)
    try:
        policy.start()
        wait_for(lambda: policy.counts.get("setup_errors", 0) >= 1, what="the seed failing once")
        assert policy._thread is not None and policy._thread.is_alive()
        con.execute("ALTER TABLE record_away RENAME TO record")
        con.commit()
        wait_for(lambda: sim.get("pipelineruns", "ci", "due-at-start") is None, timeout=30,
                 what="the due run deleted after the retried seed")
    finally:
        policy.stop(2.0)
        con.close()
