"""SVG snapshots of the delete dialog (plain def tests; fixed data, clock and size) and read-only without the keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tekton_results_tui.tui.screens.delete_dialog import DeleteDialog
from tekton_results_tui.watcher.cleanup_plan import select_by_filter

from tui.conftest import T0, fixed_histories, write_fixed_db  # the fixed data every TUI snapshot uses

from .tui_app import CleanupApp

SIZE = (120, 36)


@pytest.fixture
def fixed_db(tmp_path: Path) -> Path:
    return write_fixed_db(tmp_path / "history.db")


@pytest.fixture
def make(fixed_db: Path):
    with fixed_histories(fixed_db) as open_history:

        def factory(read_only: bool = False) -> CleanupApp:
            return CleanupApp(open_history(read_only), read_only=read_only, clock=lambda: float(T0), live=False)

        yield factory


def show(app: CleanupApp, targets) -> None:  # noqa: ANN001
    app.push_screen(DeleteDialog(app.make_plan(targets), T0))


def test_snapshot_delete_dialog_single(snap_compare, make):
    async def run_before(pilot):
        await pilot.pause()  # the first page arrives from its worker
        app = pilot.app
        node = next(n for n in app.tree.root.children if n.data.row.status == "SUCCESS" and n.data.row.in_cluster)
        app.tree.goto(node)
        show(app, app.cursor_targets())
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_delete_dialog_bulk_with_skips(snap_compare, make):
    async def run_before(pilot):
        app = pilot.app
        targets = select_by_filter(app.history, "ns:ci")[:12]
        show(app, targets)
        await pilot.pause()
        assert 1 < app.screen.count <= 20 and app.screen.plan.skipped

    assert snap_compare(make(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_delete_dialog_typed_count(snap_compare, make):
    async def run_before(pilot):
        app = pilot.app
        show(app, select_by_filter(app.history, ""))
        await pilot.pause()
        dialog = app.screen
        assert dialog.needs_typed_count
        await pilot.press("shift+tab", *str(dialog.count))
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_read_only_offers_no_mark_or_delete(snap_compare, make):
    assert snap_compare(make(read_only=True), terminal_size=(170, 30))
