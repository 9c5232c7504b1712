"""The detail follows the tree's cursor: at once when the cursor moves from rest (leading edge), once it
rests again when keys repeat (trailing edge), so a burst of keys loads its first line and its last only.

The rest delay is set to a minute here so that no timer can end a burst by itself, whatever the machine's
load: a burst ends when the test says so (`flush_detail`, what the timer calls), and the pilot's settling
flushes too. Whether a show came at the leading edge is read from the app's state at the moment of the
show (the burst's timer still running), not from a clock.
"""

from __future__ import annotations

import pytest

import tekton_results_tui.tui.app as app_module
from tekton_results_tui.tui.widgets.detail import DetailPane
from tekton_results_tui.tui.widgets.results_tree import ResultItem

from .conftest import SIZE


@pytest.fixture
def shows(monkeypatch):
    """(result id, shown while the burst's timer ran) for every node the detail pane is asked to show."""
    monkeypatch.setattr(app_module, "DETAIL_DELAY_S", 60.0)
    seen: list[tuple[int | None, bool]] = []
    plain = DetailPane._show

    def spy(self, target):  # type: ignore[no-untyped-def]
        seen.append((target.result_id if target is not None else None, self.app._detail_timer is not None))
        return plain(self, target)

    monkeypatch.setattr(DetailPane, "_show", spy)
    return seen


def _result_id(app) -> int:  # type: ignore[no-untyped-def]
    data = app.tree.cursor_node.data
    assert isinstance(data, ResultItem)
    return data.row.id


async def test_a_move_from_rest_is_shown_at_once(make_app, shows) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.flush_detail()  # at rest
        shows.clear()
        await app._press_keys(["down"])  # the key only: no settling (which would flush a waiting node)
        moved_to = _result_id(app)
        assert shows == [(moved_to, True)]  # shown from the highlight itself, the timer just started
        assert app._pending_node is None
        assert app.detail.target is not None and app.detail.target.result_id == moved_to
        app.flush_detail()  # the rest: nothing was waiting, nothing more is shown
        assert shows == [(moved_to, True)]
        await app._press_keys(["down"])  # at rest again: at once again
        assert shows[-1] == (_result_id(app), True) and len(shows) == 2


async def test_a_burst_of_keys_shows_its_first_line_then_where_it_rests(make_app, shows) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.flush_detail()
        shows.clear()
        start = app.tree.cursor_line
        passed = []
        for _ in range(4):  # within the rest delay of each other: one burst
            await app._press_keys(["down"])
            passed.append(_result_id(app))
        assert app.tree.cursor_line == start + 4
        assert shows == [(passed[0], True)]  # the first line at once; the ones passed over not at all
        assert app._pending_node is not None and app.detail.target.result_id == passed[0]
        app.flush_detail()  # the cursor rested
        assert shows == [(passed[0], True), (passed[-1], False)]
        assert app.detail.target.result_id == passed[-1]
        await pilot.press("up")  # from rest: at once, and the pilot's settling shows nothing more
        assert shows[2:] == [(_result_id(app), True)]
