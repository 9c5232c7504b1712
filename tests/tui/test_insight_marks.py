"""Flaky marks in the tree, the Summary's flaky and expected-end rows, the keys in `?` and the palette."""

from __future__ import annotations

from pathlib import Path

import pytest

from tekton_results_tui.tui.flaky_marks import FLAKY_MARK
from tekton_results_tui.tui.screens.help import HelpScreen

from .conftest import SIZE
from .insight_data import FAILED_RUN, RUNNING_RUN, insight_apps
from .test_insight_snapshots import goto


@pytest.fixture
def app_factory(tmp_path: Path):
    yield from insight_apps(tmp_path)


def _labels(app) -> dict[str, str]:
    return {(n.data.row.display_name or n.data.row.name): str(n.label) for n in app.tree.root.children
            if getattr(n.data, "row", None) is not None}


async def test_flaky_results_are_marked_in_the_tree(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        labels = _labels(app)
        flaky = {name for name, label in labels.items() if label.startswith(FLAKY_MARK)}
        assert flaky == {FAILED_RUN, "release-train-ok-2"}  # one revision, both outcomes
        goto(app, FAILED_RUN)
        await pilot.press("space")  # a cleanup mark takes the mark column
        assert not _labels(app)[FAILED_RUN].startswith(FLAKY_MARK)


async def test_summary_says_why_flaky_and_when_a_running_run_ends(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        goto(app, FAILED_RUN)
        await pilot.pause()
        summary = _plain(app)
        assert "flaky: same revision passed in run release-train-ok-2" in summary
        goto(app, RUNNING_RUN)
        await pilot.pause()
        summary = _plain(app)
        assert "Expected end" in summary and "about 6m2s left" in summary and "45%" in summary


def _plain(app) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(app.detail.query_one("#summary-scroll").content)  # the renderable it shows
    return console.export_text()


async def test_keys_are_in_help_and_palette(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {desc for _, desc, _ in app.screen.rows}
        assert {"Stats", "Timeline", "Diff", "Search logs"} <= described
        await pilot.press("escape", "S")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        described = {desc for _, desc, _ in app.screen.rows}
        assert {"Group by", "Sort", "Window", "Filter to group"} <= described
        assert "Summary" not in described  # the tree's keys are off over the screen
        commands = {title for title, _, _ in app.insight_commands()}
        assert {"Statistics of the filtered runs", "Search logs",
                "Diff with the last successful run of this pipeline"} <= commands
