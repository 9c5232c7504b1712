"""--read-only: every key and palette command driven; no cluster write, no database write, deletes unreachable."""

from __future__ import annotations

import hashlib

import pytest

from tekton_results_tui.settings import Settings
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.tui.cleanup_actions import CLEANUP_ACTIONS, DELETE_MATCHING_TITLE
from tekton_results_tui.tui.screens.delete_dialog import DeleteDialog
from tekton_results_tui.watcher.cleanup import ReadOnlyRefused

from .helpers import CLUSTER, make_run, store_run
from .tui_app import CleanupApp, CleanupService

SIZE = (160, 40)
QUIT_KEYS = {"q", "ctrl+q", "ctrl+c", "ctrl+p"}  # ctrl+p: the palette is driven on its own below


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_read_only_drives_every_key_and_palette_command_without_any_write(sim, kubeconfig, history, db_path,
                                                                               db_url):
    for i in range(3):  # deletable runs: a bypass would really delete them
        store_run(history, *make_run(sim, f"ro-{i}"))
    history.db.close()
    before = sha(db_path)
    ro_db = open_database(db_url, read_only=True)
    ro = History(ro_db, read_only=True)
    seq0 = ro.current_seq()
    settings = Settings.of(db_url=db_url, kubeconfig=kubeconfig, context="sim", cluster_name=CLUSTER, read_only=True)
    service = CleanupService(settings, ro)  # never started: it could delete if anything let it
    sim.clear_requests()
    app = CleanupApp(ro, service=service, settings=settings, read_only=True, live=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for action in CLEANUP_ACTIONS | {"clear_marks"}:
                assert app.check_action(action, ()) is False  # layer 1: not offered
            offered = {ab.binding.action for ab in app.screen.active_bindings.values()}
            assert not {a.removeprefix("app.") for a in offered} & (CLEANUP_ACTIONS | {"clear_marks"})
            keys = set(app._merged_bindings.key_to_bindings) | set(app.tree._merged_bindings.key_to_bindings)
            keys |= {"ctrl+d", "space", "enter", "down", "up"}
            for key in sorted(keys - QUIT_KEYS):
                while len(app.screen_stack) > 1:  # help: close again
                    app.pop_screen()
                    await pilot.pause()
                app.screen.query_one("ResultsTree").focus()
                await pilot.press(key)
                await pilot.pause()
                assert not isinstance(app.screen, DeleteDialog), key
            while len(app.screen_stack) > 1:
                app.pop_screen()
                await pilot.pause()
            assert not app.tree.marked and not app.tree.marked_records
            # the palette: every command it lists, and the cleanup one by name
            titles = [t for t, _, _ in app.cleanup_commands()]
            assert titles == []
            await pilot.press("ctrl+p", *DELETE_MATCHING_TITLE[:20])
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert not isinstance(app.screen, DeleteDialog)
            while len(app.screen_stack) > 1:
                app.pop_screen()
                await pilot.pause()
            for action in sorted(CLEANUP_ACTIONS):  # layer 2: each action refuses when called directly
                getattr(app, f"action_{action}")()
            await pilot.pause()
            assert any("read-only" in str(n.message) for n in app._notifications)
            assert not isinstance(app.screen, DeleteDialog)
            # layer 3: the deletion path itself refuses a plan made here
            p = app.make_plan(app.cursor_targets())
            assert p.read_only
            with pytest.raises(ReadOnlyRefused):
                service.delete_runs(p)
    finally:
        ro_db.close()
    assert [r for r in sim.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")] == []
    assert len(sim.list_objects("pipelineruns")) == 3
    check = open_database(db_url, read_only=True)
    try:
        assert History(check, read_only=True).current_seq() == seq0
    finally:
        check.close()
    assert sha(db_path) == before  # not a byte of the database file changed
