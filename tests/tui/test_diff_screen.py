"""The Diff screen: `d` compares with the last success, `D` the marked run with the highlighted one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tekton_results_tui.tui.screens.diff import DiffScreen, side_lines, unified_lines

from .conftest import SIZE
from .insight_data import FAILED_RUN, insight_apps
from .test_insight_snapshots import goto


@pytest.fixture
def app_factory(tmp_path: Path):
    yield from insight_apps(tmp_path)


async def diff_of_failed_run(app, pilot, key: str) -> DiffScreen:
    """The Diff screen `key` opens on the failed run."""
    goto(app, FAILED_RUN)
    await pilot.press(key)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DiffScreen)
    return screen


async def test_d_compares_with_the_last_success_and_n_jumps_between_changes(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await diff_of_failed_run(app, pilot, "d")
        assert (screen.a.run_name, screen.b.run_name) == ("release-train-ok-2", FAILED_RUN)
        p = screen.payload
        assert p is not None
        assert any(c.path == "spec.params[name=image].value" for c in p.diff.changes)
        tasks = {t.task: (t.a_status, t.b_status) for t in p.diff.tasks}
        assert tasks["unit-test"] == ("SUCCESS", "FAILURE") and tasks["push-image"][1] == "SKIPPED"
        view = screen.lines
        assert len(view.hunks) == len(p.yaml.hunks) > 1
        await pilot.press("n")
        assert view.hunk_index == 0 and view.plain_lines[view.hunks[0]].startswith("@@")
        await pilot.press("n")
        assert view.hunk_index == 1 and int(view.scroll_y) == view.hunks[1]
        await pilot.press("N", "N")
        assert view.hunk_index == len(view.hunks) - 1  # wraps around
        await pilot.press("v")
        assert screen.side and view.hunks == [i for i, ln in enumerate(view.plain_lines) if ln.startswith("┄")]
        await pilot.press("escape")
        assert not isinstance(app.screen, DiffScreen)


async def test_d_without_an_earlier_success_says_so(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        goto(app, "release-train-ok-0")  # the first run of its pipeline
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, DiffScreen)
        assert any("no successful run of pipeline release-train" in str(n.message) for n in app._notifications)


async def test_D_compares_the_marked_run_with_the_highlighted_one(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("D")
        assert any("mark one run" in str(n.message) for n in app._notifications)
        goto(app, "release-train-ok-0")
        await pilot.press("space")
        screen = await diff_of_failed_run(app, pilot, "D")
        assert (screen.a.run_name, screen.b.run_name) == ("release-train-ok-0", FAILED_RUN)


def test_side_by_side_lines_fit_the_width(app_factory):
    from tekton_results_tui.tui.screens.diff import build_diff

    app = app_factory()
    h = app.history
    a = next(r for r in h.find_runs("release-train-ok-2", limit=5) if r.run_name == "release-train-ok-2")
    b = next(r for r in h.find_runs(FAILED_RUN, limit=5) if r.run_name == FAILED_RUN)
    p = build_diff(h, a, b)
    for width in (80, 160):
        lines, plain, hunks = side_lines(p, width)
        assert all(sum(len(s.text) for s in ln) <= width for ln in lines)
        assert len(hunks) == len(p.yaml.hunks)
    lines, plain, hunks = unified_lines(p)
    assert [plain[i] for i in hunks] == [p.yaml.lines[i] for i in p.yaml.hunks]
