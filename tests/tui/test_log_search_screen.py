"""The Search-logs screen: hits grouped by run with highlighted matches; enter opens the Logs tab there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tekton_results_tui.tui.screens.log_search import LogSearchScreen, hit_text
from tekton_results_tui.tui.widgets.log_view import LogView

from .conftest import SIZE
from .insight_data import insight_apps


@pytest.fixture
def app_factory(tmp_path: Path):
    yield from insight_apps(tmp_path)


async def search(pilot, text: str) -> LogSearchScreen:
    await pilot.pause()
    await pilot.press("G")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LogSearchScreen)
    await pilot.press(*text, "enter")
    await pilot.pause()
    return screen


async def test_hits_are_grouped_by_run_with_matches_highlighted(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await search(pilot, "FAIL")
        assert screen.error is None and screen.hits
        # newest runs first; every hit line holds the word (any case), highlighted where it is
        for hit in screen.hits:
            assert "fail" in hit.plain.lower()
            t = hit_text(hit)
            assert t.plain == hit.plain
            assert [(s.start, s.end) for s in t.spans if "on yellow" in str(s.style)] == hit.spans
        headers = [o for o in screen.option_list._options if o.disabled and str(o.prompt).startswith("●")]
        assert len(headers) == len({(h.cluster, h.result_name) for h in screen.hits})


async def test_a_query_the_index_cannot_take_is_one_line(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await search(pilot, "-")
        assert screen.error and "\n" not in screen.error and not screen.hits


async def test_enter_opens_the_logs_tab_at_the_line_with_the_match_highlighted(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await search(pilot, "connection refused")
        assert len(screen.hits) == 1
        hit = screen.hits[0]
        await pilot.press("enter")  # from the field to the hits (the first hit is highlighted)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, LogSearchScreen)
        assert app.detail.active_tab == "logs"
        logs = app.detail.query_one(LogView)
        assert logs.selected == (hit.run_uid, hit.step)
        view = logs.lines_view
        assert view.current_match_line == hit.line - 1
        assert "connection" in view.plain_lines[hit.line - 1]
        assert view.query_text == "connection"
