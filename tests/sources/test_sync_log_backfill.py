"""A `--results-api` sync builds an existing history's log index between its polls (no reindex-logs)."""

from __future__ import annotations

from fake_results import FakeResults
from simkit import wait_for
from store_objects import pr, tr

from tekton_results_tui.bootstrap import Stack, open_history
from tekton_results_tui.settings import Settings
from tekton_results_tui.sources.service import SyncService
from tekton_results_tui.store import log_index as li


def test_the_background_sync_builds_the_log_index_between_polls(sqlite_url, fake: FakeResults):
    for n in range(3):
        p = pr(f"p{n}")
        t = tr(f"p{n}-t", p)
        fake.put_run(p)
        fake.put_run(t)
        fake.put_log(t, b"[build] needle %d\n" % n)
    stack = Stack()
    try:
        history = open_history(sqlite_url, read_only=False, stack=stack)
        settings = Settings.of(db_url=sqlite_url, results_api=fake.url, cluster_name="src", sync_interval_s=0.2)
        first = SyncService(settings, history)
        first.start()
        wait_for(lambda: len(history.search_logs("needle").hits) == 3, what="the logs synced (indexed as stored)")
        first.stop()
        li.empty_index(history.db)  # as a history from before the log index
        assert history.log_index_pending() == 3 and history.search_logs("needle").hits == []
        second = SyncService(settings, history)
        second.start()
        try:
            wait_for(lambda: history.log_index_pending() == 0, what="the log index built by the sync")
        finally:
            second.stop()
        assert len(history.search_logs("needle").hits) == 3
    finally:
        stack.close()
