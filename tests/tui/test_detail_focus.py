"""A detail tab made on demand takes the focus once mounted, unless the reader went elsewhere meanwhile."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("size", [(160, 40), (80, 24)])
@pytest.mark.parametrize("then", ["filter", "back"])
async def test_a_tab_being_made_does_not_take_the_focus_back(make_app, size, then) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await app.settle_reads()
        app.action_tab("events")  # not made yet: its content takes the focus once it is mounted...
        if then == "filter":
            app.action_focus_filter()  # ...unless the reader moved on in the same moment
        else:
            app.action_back()
        await pilot.pause()
        await app.settle_reads()
        await pilot.pause()
        if then == "filter":
            assert app.focused is app.filter_bar.input
        else:
            assert app.focused is app.tree


@pytest.mark.parametrize("size", [(160, 40), (80, 24)])
async def test_a_tab_key_focuses_the_new_tab_once_made(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await app.settle_reads()
        await pilot.press("e")
        await pilot.pause()
        await app.settle_reads()
        await pilot.pause()
        assert app.detail.active_tab == "events"
        assert app.focused is not None and app.detail.views["events"] in app.focused.ancestors_with_self
