"""Read-only: mutating actions hidden (check_action/Footer), refused by each action, refused by the store."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest

from tekton_results_tui import kinds
from tekton_results_tui.store.history import ReadOnlyError, RunUpsert
from tekton_results_tui.tui.app import MUTATING_ACTIONS
from tekton_results_tui.tui.cluster import NoCluster, WatcherCluster
from tekton_results_tui.watcher.status import LIVE, WatcherStatus

from .conftest import SIZE, T0, make_pipelinerun


def footer_text(app) -> str:
    svg = app.export_screenshot()
    lines = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return html.unescape(" ".join(lines)).replace("\xa0", " ")


async def test_read_only_hides_and_refuses_every_mutating_action(make_app, db_path):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        seq0 = app.history.current_seq()
        assert app.read_only and app.history.read_only
        for action in MUTATING_ACTIONS:
            assert app.check_action(action, ()) is False  # layer 1: hidden, not run by keys
        active = {ab.binding.action for ab in app.screen.active_bindings.values() if ab.enabled}
        assert not {a for a in active if a.removeprefix("app.") in MUTATING_ACTIONS}
        await pilot.pause()
        assert "Quit" in footer_text(app) and "Mark" not in footer_text(app)
        await pilot.press("space", "ctrl+u")  # the keys do nothing
        assert not app.tree.marked
        for action in MUTATING_ACTIONS:
            await app.run_action(action)
            getattr(app, f"action_{action}")()  # layer 2: each action refuses when called directly
        await pilot.pause()
        assert not app.tree.marked
        assert any("read-only" in str(n.message) for n in app._notifications)
        with pytest.raises(ReadOnlyError):  # layer 3: the store refuses
            pr, _ = make_pipelinerun(5, 5, name="x", ns="ci", pipeline="p", created=T0, outcome=("True", "Succeeded"))
            app.history.apply([RunUpsert(pr)])
        assert app.history.current_seq() == seq0
        assert "READ-ONLY" in footer_text(app)
    raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)  # nothing was written to the file either
    try:
        assert raw.execute("select value from meta where key='change_seq'").fetchone()[0] == str(seq0)
    finally:
        raw.close()


async def test_writable_app_shows_mark_in_footer(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.check_action("mark", ()) is True
        assert "Mark" in footer_text(app)


class CountingWatcher:
    """A watcher service of this process that would delete: counts every call that reaches it."""

    cluster = "c"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def status(self) -> WatcherStatus:
        return WatcherStatus(state=LIVE)

    def read_pod_log(self, namespace: str, pod: str, container: str) -> str:
        self.calls.append("read_pod_log")
        return ""

    def can_i(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        self.calls.append("can_i")
        return True

    def delete_runs(self, plan, progress_cb=None, should_stop=None):  # noqa: ANN001, ANN201
        self.calls.append("delete_runs")
        return []


async def test_read_only_app_gets_the_null_cluster_even_when_given_a_watcher(make_app):
    watcher = CountingWatcher()
    app = make_app(read_only=True, service=watcher)
    assert isinstance(app.cluster, NoCluster) and app.cluster.deleter is None and app.deleter is None
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+d")
        app.action_delete()
        app._confirmed(app.make_plan(app.cursor_targets()))  # even a confirmed plan finds no way to delete
        await pilot.pause()
        assert not [w for w in app.workers if w.group == "cleanup-delete"]
    assert watcher.calls == []  # not even an access review


async def test_writable_app_reaches_the_watcher_through_the_adapter(make_app):
    watcher = CountingWatcher()
    app = make_app(service=watcher)
    assert isinstance(app.cluster, WatcherCluster) and app.deleter is app.cluster
    async with app.run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert app._can_delete is True and app.check_action("delete", ()) is True
    assert watcher.calls.count("can_i") == len(kinds.RUN_KINDS)  # delete asked for every run kind
