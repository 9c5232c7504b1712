"""The TUI and headless modes with `--results-api`: the sync runs beside them, nothing offers to delete."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fake_results import FakeResults
from store_objects import pr, tr

from tekton_results_tui.bootstrap import Stack, open_history, tui_cluster
from tekton_results_tui.cli import main
from tekton_results_tui.settings import Settings
from tekton_results_tui.watcher.status import LIVE


def source_settings(url: str, db_url: str, **kw) -> Settings:
    return Settings.of(db_url=db_url, results_api=url, cluster_name="src", sync_interval_s=0.1, **kw)


def add_pipeline(fake: FakeResults, name: str) -> dict:
    p = pr(name)
    fake.put_run(p)
    t = tr(f"{name}-t", p)
    fake.put_run(t)
    fake.put_log(t, b"[build] hi\n")
    return p


async def test_tui_follows_the_sync_live_and_offers_no_delete(sqlite_url, fake):
    from tekton_results_tui.tui.app import ResultsApp
    from tekton_results_tui.tui.widgets.results_tree import ResultItem

    add_pipeline(fake, "first")
    settings = source_settings(fake.url, sqlite_url)
    stack = Stack()
    try:
        history = open_history(sqlite_url, read_only=False, stack=stack)
        cluster = tui_cluster(settings, history, stack)
        assert cluster.deleter is None and cluster.pod_logs is None
        app = ResultsApp(history, settings=settings, live=True, cluster=cluster)
        async with app.run_test(size=(140, 40)) as pilot:
            async def shown(name: str) -> None:
                names: list[str] = []
                for _ in range(1200):  # up to 30 s: on a loaded machine the first sync took over 10 s
                    await pilot.pause(0.025)  # also settles the app's store reads (tuikit)
                    # Result nodes only: "loading…" and "load more" lines carry no row
                    names = [c.data.row.display_name for c in app.tree.root.children if isinstance(c.data, ResultItem)]
                    if name in names:
                        return
                raise AssertionError(f"{name} never shown; tree has {names}")

            await shown("first")
            assert cluster.status().state == LIVE and (cluster.status().reason or "").startswith("synced: ")
            assert cluster.status().context == fake.url
            add_pipeline(fake, "second")  # appears on the source while the TUI runs
            await shown("second")
            assert app.check_action("delete", ()) is False and app.check_action("delete_matching", ()) is False
            assert app.deleter is None
    finally:
        stack.close()


def test_headless_with_results_api_syncs_until_stopped(db_url, fake, capsys):
    from tekton_results_tui.headless import run_headless

    add_pipeline(fake, "h1")
    settings = source_settings(fake.url, db_url)
    stack = Stack()
    h = open_history(db_url, read_only=False, stack=stack)  # the history exists before both open it
    stop = threading.Event()
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(run_headless(settings, summary_interval_s=60, stop_event=stop)))
    t.start()
    try:
        try:
            for _ in range(400):
                if h.find_runs("h1-t", cluster="src"):
                    break
                stop.wait(0.025)
            assert h.find_runs("h1-t", cluster="src")
            add_pipeline(fake, "h2")
            for _ in range(400):
                if h.find_runs("h2", cluster="src"):
                    break
                stop.wait(0.025)
            assert h.find_runs("h2", cluster="src")
        finally:
            stack.close()
    finally:
        stop.set()
        t.join(30)
    assert got == [0]
    err = capsys.readouterr().err
    assert "sync started" in err and f"server={fake.url}" in err


@pytest.mark.parametrize("mode", ["--read-only", "--demo"])
def test_results_api_is_not_for_read_only_or_demo(sqlite_url, mode, capsys):
    assert main(["--db", sqlite_url, "--results-api", "http://127.0.0.1:1", mode]) == 2
    assert f"--results-api syncs into the history: not with {mode}" in capsys.readouterr().err


def test_headless_source_down_keeps_running_and_says_why(sqlite_url, capsys):
    from tekton_results_tui.headless import run_headless

    settings = source_settings("http://127.0.0.1:9", sqlite_url)
    stop = threading.Event()
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(run_headless(settings, summary_interval_s=60, stop_event=stop)))
    t.start()
    try:
        for _ in range(400):
            if "cannot reach http://127.0.0.1:9" in capsys.readouterr().err:
                break
            stop.wait(0.025)
        else:
            raise AssertionError("the headless sync never said the source is down")
    finally:
        stop.set()
        t.join(30)
    assert got == [0]


__all__ = ["asyncio"]


def test_a_database_failure_stops_the_background_sync_and_says_why(sqlite_url, fake):
    from tekton_results_tui.sources.service import SyncService
    from tekton_results_tui.watcher.status import OFF

    add_pipeline(fake, "x")
    stack = Stack()
    try:
        history = open_history(sqlite_url, read_only=False, stack=stack)

        def broken(*a, **kw):
            raise RuntimeError("disk I/O error")

        history.apply = broken  # type: ignore[method-assign]
        service = SyncService(source_settings(fake.url, sqlite_url), history)
        service.start()
        service._thread.join(30)
        st = service.status()
        assert st.state == OFF and st.reason == "sync stopped: RuntimeError: disk I/O error"
        service.stop()
    finally:
        stack.close()
