"""SVG snapshots of the app shell (plain `def` tests; fixed clock, data and size from conftest)."""

from __future__ import annotations

from textual.command import CommandPalette

from tekton_results_tui.tui.widgets import filter_bar
from tekton_results_tui.watcher.status import OFF, WatcherStatus

from .conftest import SIZE


def _goto_failed(app) -> None:
    for node in app.tree.root.children:
        if node.data.row.status == "FAILURE":
            app.tree.goto(node)
            return


async def palette_searched(pilot) -> None:
    """Wait until the command palette's search for what was typed has listed its hits."""
    for worker in list(pilot.app.workers):
        if worker.group == CommandPalette._GATHER_COMMANDS_GROUP:
            try:
                await worker.wait()
            except Exception:  # noqa: BLE001 - a search superseded by the next keystroke is done too
                pass
    await pilot.pause()


def test_snapshot_main_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_snapshot_expanded_failed_run(snap_compare, make_app):
    async def run_before(pilot):
        await pilot.pause()  # the first page arrives from its worker
        _goto_failed(pilot.app)
        await pilot.press("enter")  # its children arrive from a worker; the Pilot wait settles them
        await pilot.press("down", "down", "down", "down")  # then down into them, not past "loading…"
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_filter_in_use(snap_compare, make_app):
    async def run_before(pilot):
        await pilot.press("slash", *"status:failed ns:ci", "enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_filter_error(snap_compare, make_app, monkeypatch):
    # The picture is of a typo typed in one go: the tree keeps the listing from before it. Typed slower than
    # the bar's debounce (a loaded machine), a valid prefix such as "ns:ci statsu" is applied on the way.
    monkeypatch.setattr(filter_bar, "DEBOUNCE_S", 3600)

    async def run_before(pilot):
        await pilot.press("slash", *"ns:ci statsu:failed", "enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_help_screen(snap_compare, make_app):
    async def run_before(pilot):
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_read_only(snap_compare, make_app):
    assert snap_compare(make_app(read_only=True), terminal_size=SIZE)


def test_snapshot_watcher_off_header(snap_compare, make_app):
    note = WatcherStatus(state=OFF, context="prod-east",
                         reason="cannot reach https://10.0.0.1:6443: connection refused — showing stored history")
    assert snap_compare(make_app(watcher_note=note), terminal_size=SIZE)


def test_snapshot_following_headless_watcher(snap_compare, make_app):
    note = WatcherStatus(state=OFF, context="prod-east", owner="headless-7f9c@ci-box",
                         reason="a headless watcher (headless-7f9c@ci-box) owns this database — following its changes")
    assert snap_compare(make_app(watcher_note=note), terminal_size=SIZE)


def test_snapshot_palette_open(snap_compare, make_app):
    async def run_before(pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"panes")
        await palette_searched(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_tree_only_with_marks(snap_compare, make_app):
    async def run_before(pilot):
        await pilot.pause()  # the first page arrives from its worker (else space marks "loading…")
        pilot.app.set_panes("tree")
        await pilot.press("space", "down", "down", "space")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
