"""What the Search-logs screen keeps stays bounded: a megabyte-long matched line keeps a window around its
match (highlighted, and enter still opens the Logs tab there), and past MAX_HITS no more pages are fetched."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))  # store_objects: run builders

from store_objects import T0, pr, tr  # noqa: E402

from tekton_results_tui.store.db import open_database  # noqa: E402
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData  # noqa: E402
from tekton_results_tui.tui.screens import log_search as ls  # noqa: E402
from tekton_results_tui.tui.widgets.log_view import LogView  # noqa: E402

from .insight_data import insight_apps  # noqa: E402

LONG = "{" + "x" * 600_000 + " zqxneedle " + "y" * 600_000 + "}"


@pytest.fixture
def app_factory(tmp_path: Path):
    yield from insight_apps(tmp_path)


def _add_long_line_run(path: Path) -> None:
    db = open_database("sqlite:///" + str(path))
    try:
        p = pr("minified", created=T0 - 60)
        t = tr("minified-t", p, created=T0 - 59)
        body = ("before\n" + LONG + "\n" + "z" * 300_000 + "\n").encode()
        History(db, clock=lambda: T0).apply([RunUpsert(p), RunUpsert(t), Logs(t, [StepLogData("dump", "step-dump", body)])])
    finally:
        db.close()


async def _search(pilot, text: str) -> ls.LogSearchScreen:
    await pilot.pause()
    await pilot.press("G")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ls.LogSearchScreen)
    await pilot.press(*text, "enter")
    await pilot.pause()
    assert screen.error is None
    return screen


async def test_a_megabyte_line_keeps_a_window_around_its_match(app_factory, tmp_path: Path):
    _add_long_line_run(tmp_path / "history.db")
    app = app_factory()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _search(pilot, "zqxneedle")
        assert len(screen.hits) == 1
        hit = screen.hits[0]
        assert len(hit.text) <= ls.LINE_KEEP and len(hit.plain) <= ls.LINE_KEEP
        assert all(len(x) <= ls.LINE_KEEP for x in hit.before + hit.after) and len(hit.after) == 1
        a, b = hit.spans[0]
        assert hit.plain[a:b] == "zqxneedle" and hit.plain.startswith("…") and hit.line == 2
        t = ls.hit_text(hit)
        assert [(s.start, s.end) for s in t.spans if "on yellow" in str(s.style)] == [(a, b)]
        await pilot.press("enter", "enter")  # to the hits, then open the Logs tab at the hit
        await pilot.pause()
        logs = app.detail.query_one(LogView)
        await app.settle_reads()
        await pilot.pause()
        assert logs.lines_view.current_match_line == 1 and logs.lines_view.query_text == "zqxneedle"


async def test_past_max_hits_no_more_pages_are_fetched(app_factory, monkeypatch):
    monkeypatch.setattr(ls, "MAX_HITS", 10)
    monkeypatch.setattr(ls, "PAGE", 10)
    app = app_factory()
    async with app.run_test(size=(200, 30)) as pilot:
        screen = await _search(pilot, "downloading")
        assert len(screen.hits) == 10 and screen.next_token and screen.capped
        assert screen.option_list.get_option_at_index(screen.option_list.option_count - 1).id != ls.MORE
        n = screen.searches
        screen.action_more()
        await pilot.pause()
        assert screen.searches == n and len(screen.hits) == 10
        status = str(screen.query_one("#logsearch-status").render())
        assert "the first 10 kept: narrow the search (or logs --grep for all)" in status
