"""SVG snapshots of the main screens at 80x24 (one pane at a time), 120x36 and 200x50 (side by side).

Plain `def` tests with `snap_compare` (fixed clock, data and size). The data is the fixed history plus
one failed PipelineRun with six TaskRuns (conftest.add_six_task_run), the newest Result.
"""

from __future__ import annotations

import pytest

from .conftest import SIX_TASKS, T0, add_six_task_run, fixed_histories

SIZES = [(80, 24), (120, 36), (200, 50)]


@pytest.fixture
def six_app(db_path):
    """Factory: the app on the fixed history with the six-TaskRun run added (read-only if asked)."""
    from tekton_results_tui.tui.app import ResultsApp

    with fixed_histories(db_path) as open_history:
        add_six_task_run(open_history(False))

        def factory(read_only: bool = False) -> ResultsApp:
            return ResultsApp(open_history(read_only), read_only=read_only, clock=lambda: float(T0), live=False)

        yield factory


async def _failed_child(pilot) -> None:
    """The newest failed Result with stored logs, expanded, the cursor on its failed TaskRun."""
    app = pilot.app
    await pilot.pause()
    for node in app.tree.root.children:
        row = getattr(node.data, "row", None)
        if row is None or row.status != "FAILURE" or row.display_name == SIX_TASKS:
            continue
        recs = app.history.records_of(row.id)
        if not any(r.kind == "Log" for r in recs):
            continue
        app.tree.goto(node)
        await pilot.press("enter")
        idx = next(i for i, r in enumerate(recs) if r.kind == "TaskRun" and r.status == "FAILURE")
        await pilot.press(*["down"] * (idx + 1))
        return
    raise AssertionError("no failed Result with logs in the fixed data")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_tree_expanded_failed_run(snap_compare, six_app, size):
    assert snap_compare(six_app(), terminal_size=size, run_before=_failed_child)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_summary_of_six_taskruns(snap_compare, six_app, size):
    async def run_before(pilot):
        await pilot.pause()
        assert pilot.app.tree.cursor_node.data.row.display_name == SIX_TASKS
        if pilot.app.narrow:
            await pilot.press("tab")
            await pilot.pause()
            pilot.app.detail.query_one("#summary-scroll").scroll_end(animate=False)  # the TaskRuns table
        await pilot.pause()

    assert snap_compare(six_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", ["y", "l"], ids=["yaml", "logs"])
def test_yaml_and_logs_of_a_failed_taskrun(snap_compare, six_app, size, key):
    async def run_before(pilot):
        await _failed_child(pilot)
        await pilot.press(key)
        await pilot.pause()  # the tab's read is settled by the Pilot wait (tuikit), then the view paints

    assert snap_compare(six_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, six_app, size):
    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("question_mark")

    assert snap_compare(six_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_read_only(snap_compare, six_app, size):
    assert snap_compare(six_app(read_only=True), terminal_size=size)
