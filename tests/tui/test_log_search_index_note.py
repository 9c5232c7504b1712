"""The Search-logs screen's status line about step logs the index lacks: being indexed (a watcher is building
the index), else how to build it (reindex-logs, for a history nothing writes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tekton_results_tui.store import log_index as li
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.tui.screens.log_search import LogSearchScreen

from .insight_data import insight_apps


@pytest.fixture
def app_factory(tmp_path: Path):
    yield from insight_apps(tmp_path)


def _empty_index(path: Path, batches: int) -> int:
    """Empty the log index, then run `batches` backfill batches of one step log; the step logs left."""
    db = open_database("sqlite:///" + str(path))
    try:
        li.empty_index(db)
        h = History(db)
        for _ in range(batches):
            h.reindex_logs_batch(1)
        return h.log_index_pending()
    finally:
        db.close()


async def _status(pilot) -> str:
    await pilot.pause()
    await pilot.press("G")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LogSearchScreen)
    await pilot.press(*"FAIL", "enter")
    await pilot.pause()
    assert screen.searches >= 1 and screen.error is None
    return str(screen.query_one("#logsearch-status").render())


@pytest.mark.parametrize("batches", [0, 1])
async def test_the_status_says_whether_the_rest_is_being_indexed(app_factory, tmp_path: Path, batches: int):
    left = _empty_index(tmp_path / "history.db", batches)
    assert left > 0
    app = app_factory()
    async with app.run_test(size=(200, 30)) as pilot:
        status = await _status(pilot)
    if batches:  # a batch was just committed: as while a watcher builds the index
        assert f"{left:,} older step logs are being indexed, not searched yet" in status
    else:
        assert f"{left:,} older step logs are not indexed: run tekton-results-tui reindex-logs" in status
