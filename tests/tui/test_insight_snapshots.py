"""SVG snapshots of the insight views (plain `def` tests; fixed clock, data and sizes): the Statistics
screen, the timeline of a finished run with a failed task and of a running run with its ETA, the Diff
screen, the Search-logs screen with hits and the Logs tab opened at a hit — each at 80x24 and 160x45."""

from __future__ import annotations

from pathlib import Path

import pytest


from .insight_data import FAILED_RUN, RUNNING_RUN, insight_apps

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 45), id="160x45")]


@pytest.fixture
def insight_app(tmp_path: Path):
    yield from insight_apps(tmp_path)


def goto(app, name: str) -> None:
    for node in app.tree.root.children:
        row = getattr(node.data, "row", None)
        if row is not None and (row.display_name or row.name) == name:
            app.tree.goto(node)
            return
    raise AssertionError(f"{name} is not in the tree")


def keys_after(name: str | None, *keys: str):
    async def run_before(pilot) -> None:
        await pilot.pause()  # the first page (the Pilot waits for the app's store reads)
        if name is not None:
            goto(pilot.app, name)
            await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_statistics_screen(snap_compare, insight_app, size):
    assert snap_compare(insight_app(), terminal_size=size, run_before=keys_after(None, "S"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_timeline_failed_run(snap_compare, insight_app, size):
    assert snap_compare(insight_app(), terminal_size=size, run_before=keys_after(FAILED_RUN, "t"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_timeline_running_run_with_eta(snap_compare, insight_app, size):
    assert snap_compare(insight_app(), terminal_size=size, run_before=keys_after(RUNNING_RUN, "t", "x"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_diff_screen(snap_compare, insight_app, size):
    assert snap_compare(insight_app(), terminal_size=size, run_before=keys_after(FAILED_RUN, "d"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_diff_side_by_side_at_second_change(snap_compare, insight_app, size):
    assert snap_compare(insight_app(), terminal_size=size, run_before=keys_after(FAILED_RUN, "d", "v", "n", "n"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_search_logs_with_hits(snap_compare, insight_app, size):
    assert snap_compare(insight_app(), terminal_size=size, run_before=keys_after(None, "G", *"FAIL", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_logs_tab_opened_at_a_hit(snap_compare, insight_app, size):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("G", *"connection refused", "enter")  # search
        await pilot.pause()
        await pilot.press("enter")  # to the hits
        await pilot.press("enter")  # open the first one
        await pilot.pause()

    assert snap_compare(insight_app(), terminal_size=size, run_before=run_before)
