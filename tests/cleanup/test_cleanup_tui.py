"""TUI cleanup against the sim with the real watcher: ctrl+d, marks, the palette command, RBAC, dry-run parity."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from textual.command import CommandList

from tekton_results_tui.settings import Settings
from tekton_results_tui.tui.cleanup_actions import DELETE_MATCHING_TITLE
from tekton_results_tui.tui.screens.delete_dialog import DeleteDialog, DeleteProgress
from tekton_results_tui.watcher.cleanup import plan, select_by_filter

from .helpers import CLUSTER, make_run, running, wait_for
from .tui_app import CleanupApp, CleanupService

SIZE = (120, 36)


@pytest.fixture
def service(kubeconfig, history):
    svc = CleanupService(Settings.of(db_url="unused", kubeconfig=kubeconfig, context="sim", cluster_name=CLUSTER,
                                     annotate=False, capture_logs=False, capture_events=False,
                                     read_timeout_s=5.0, backoff_cap_s=0.5, batch_wait_s=0.05), history)
    svc.start()
    yield svc
    svc.stop(5.0)


def stored(history, n: int) -> None:
    wait_for(lambda: history.count_results() >= n and all(
        r.final or r.status == "UNKNOWN" for r in history.list_records(limit=500).items), what="runs stored")


async def wait_screen(pilot, kind, timeout: float = 10.0):
    import time

    deadline = time.monotonic() + timeout
    # pushed is not enough: under load the test could query the dialog before its children mounted
    while not (isinstance(pilot.app.screen, kind) and pilot.app.screen.is_mounted):
        assert time.monotonic() < deadline, f"no {kind.__name__} on screen"
        await pilot.pause(0.02)
    return pilot.app.screen


async def wait_until(pilot, pred, timeout: float = 15.0, what: str = "condition"):
    import time

    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def palette_choice(app) -> str:
    """The command palette's highlighted hit ('' while it is still searching): what Enter runs."""
    lists = app.screen.query(CommandList)
    hit = lists.first().highlighted_option if lists else None
    return str(hit.prompt) if hit is not None else ""


def offered(app) -> set[str]:
    """The actions the Footer offers now (check_action False removes a binding)."""
    return {ab.binding.action.removeprefix("app.") for ab in app.screen.active_bindings.values() if ab.enabled}


async def test_ctrl_d_deletes_the_highlighted_run_after_the_dialog_and_it_shows_gone(sim, history, service):
    make_run(sim, "tui-1", tasks=2)
    stored(history, 1)
    app = CleanupApp(history, service=service, settings=service.settings, live=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app._can_delete is True, what="access review")
        await pilot.pause()
        assert {"delete", "mark"} <= offered(app)
        await pilot.press("ctrl+d")
        dialog = await wait_screen(pilot, DeleteDialog)
        assert app.focused is not None and app.focused.id == "cancel"  # Cancel has the focus
        assert dialog.lines[0] == '1 run to delete (1 PipelineRun, 2 TaskRuns) from cluster "sim"'
        await pilot.press("enter")  # Cancel
        await pilot.pause()
        assert not isinstance(app.screen, DeleteDialog) and sim.get("pipelineruns", "ci", "tui-1") is not None
        await pilot.press("ctrl+d")
        await wait_screen(pilot, DeleteDialog)
        await pilot.press("tab", "enter")  # to Delete, press it
        await wait_until(pilot, lambda: app.last_outcomes, what="outcomes")
        assert [o.result for o in app.last_outcomes] == ["deleted"]
        assert sim.get("pipelineruns", "ci", "tui-1") is None
        assert any("deleted 1 of 1 run" in str(n.message) for n in app._notifications)
        # the watcher marks it gone; the live tree shows it, the history keeps it
        await wait_until(pilot, lambda: "gone" in str(app.tree.root.children[0].label), what="gone mark in the tree")


async def test_marks_and_bulk_delete_with_progress_and_typed_count(sim, history, service):
    for i in range(22):
        make_run(sim, f"bulk-{i:02d}", tasks=1)
    make_run(sim, "bulk-busy", tasks=1, pr_status=running(), tr_status=running())
    stored(history, 23)
    app = CleanupApp(history, service=service, settings=service.settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app._can_delete is True, what="access review")
        await pilot.press("space", "down", "space", "down", "space")  # mark three Results
        assert len(app.tree.marked) == 3
        await pilot.press("space")  # unmark the third
        assert len(app.tree.marked) == 2
        await pilot.press("ctrl+d")
        dialog = await wait_screen(pilot, DeleteDialog)
        assert len(dialog.plan.items) == 2
        await pilot.press("escape")
        # everything matching the filter: 22 deletable -> type the count
        app.action_delete_matching()
        dialog = await wait_screen(pilot, DeleteDialog)
        assert dialog.count == 22 and dialog.needs_typed_count
        assert "  PipelineRun ci/bulk-busy  — running" in dialog.lines
        delete = dialog.query_one("#delete")
        assert delete.disabled
        await pilot.press("shift+tab")  # from Cancel back to the count field
        assert app.focused is dialog.query_one("#count")
        await pilot.press(*"21")
        await pilot.pause()
        assert delete.disabled
        await pilot.press("backspace", "backspace", *"22")
        await pilot.pause()
        assert not delete.disabled
        await pilot.press("enter")  # Enter in the count field moves to Delete ...
        assert app.focused is delete
        await pilot.press("enter")  # ... and Enter presses it
        await wait_until(pilot, lambda: app.last_outcomes, what="bulk outcomes")
        assert sum(o.ok for o in app.last_outcomes) == 22
        assert app.last_progress is not None and app.last_progress.done == 22  # the bulk delete showed progress
        # App.notify posts a message: the notification is there once the app has handled it (a loaded
        # machine ran the check before that)
        await wait_until(pilot, lambda: any("deleted 22 of 22 runs" in str(n.message) for n in app._notifications),
                         what="the outcome's notification")
        assert [o["metadata"]["name"] for o in sim.list_objects("pipelineruns")] == ["bulk-busy"]
        assert not app.tree.marked


async def test_rbac_that_forbids_delete_hides_the_keys(sim, history, service):
    sim.faults.forbid("delete", "pipelineruns")
    make_run(sim, "nope-1")
    stored(history, 1)
    app = CleanupApp(history, service=service, settings=service.settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app._can_delete is False, what="access review")
        await pilot.pause()
        assert app.check_action("delete", ()) is False and app.check_action("mark", ()) is False
        assert app.cleanup_commands() == []
        assert not {"delete", "mark"} & offered(app)
        sim.clear_requests()
        await pilot.press("ctrl+d", "space")
        app.action_delete()  # called directly: refused in words
        await pilot.pause()
        assert any("does not allow deleting" in str(n.message) for n in app._notifications)
        assert not [r for r in sim.requests if r.method == "DELETE"]


async def test_dry_run_and_the_dialog_show_the_same_plan_for_the_same_filter(sim, history, service, db_url, kubeconfig):
    for i in range(4):
        make_run(sim, f"same-{i}", tasks=1, pipeline="build" if i % 2 else "lint")
    make_run(sim, "same-busy", pipeline="build", pr_status=running(), tr_status=running())
    make_run(sim, "same-dev", ns="dev", pipeline="build")
    stored(history, 6)
    flt = "pipeline:build"
    # the command in its own process (one database binding per process: the watcher here keeps writing)
    proc = subprocess.run([sys.executable, "-m", "tekton_results_tui", "cleanup", flt, "--dry-run", "--db", db_url,
                           "--kubeconfig", kubeconfig, "--context", "sim", "--cluster-name", CLUSTER],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cli_lines = proc.stdout.splitlines()
    app = CleanupApp(history, service=service, settings=service.settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app._can_delete is True, what="access review")
        await pilot.press("slash", *flt, "enter")
        await pilot.pause()
        await pilot.press("ctrl+p", *"Delete all stored")
        await wait_until(pilot, lambda: DELETE_MATCHING_TITLE in palette_choice(app), what="the palette's hit")
        await pilot.press("enter")
        dialog = await wait_screen(pilot, DeleteDialog)
        strip = lambda lines: [re.sub(r", ended \S+ ago", "", x) for x in lines]  # noqa: E731 - ages differ by clock
        assert strip(dialog.lines) == strip(cli_lines)
        assert dialog.plan.key() == plan(history, select_by_filter(history, flt), CLUSTER).key()
        assert {r.name for r in dialog.plan.deletable} == {"same-1", "same-3", "same-dev"}
        await pilot.press("escape")
    assert DELETE_MATCHING_TITLE.startswith("Delete all stored")
