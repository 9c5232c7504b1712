"""The filter bar: valid, invalid and empty filters, the count, debounce, esc, session history."""

from __future__ import annotations

from tekton_results_tui.tui.widgets.filter_bar import FilterBar
from tekton_results_tui.tui.widgets.results_tree import ResultItem

from .conftest import SIZE


def shown_rows(app):
    return [n.data.row for n in app.tree.root.children if isinstance(n.data, ResultItem)]


def count_text(app) -> str:
    return str(app.query_one("#filter-count").render()).strip()  # right-aligned in the widest it has been


def error_text(app) -> str:
    return str(app.query_one("#filter-error").render())


async def until(pilot, cond, what: str, limit: int = 200) -> None:
    """Wait (a frame at a time) for something only a timer makes true; fail with `what`."""
    for _ in range(limit):
        if cond():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_valid_filter_on_enter_filters_tree_and_shows_count(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert app.focused is app.filter_bar.input
        await pilot.press(*"status:failed", "enter")
        rows = shown_rows(app)
        want = app.history.count_results("status:failed")
        assert 0 < want < 120
        assert len(rows) == min(want, 50) and all(r.status == "FAILURE" for r in rows)
        assert count_text(app).startswith(f"{want} of 120")
        assert not app.filter_bar.error and not app.query_one("#filter-error").display
        assert app.focused is app.tree  # enter hands the keys back to the tree


async def test_filter_applies_as_you_type_debounced(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        posted = app.filter_bar.posted
        await pilot.press("slash", *"ns:dev")
        await until(pilot, lambda: shown_rows(app) and all(r.parent == "dev" for r in shown_rows(app)),
                    "the debounced filter")
        # six keystrokes, not six reloads (a slow machine may let one early prefix through)
        assert 1 <= app.filter_bar.posted - posted <= 2
        await pilot.pause()  # the count is read after the page, in a worker of its own
        assert count_text(app).startswith(str(app.history.count_results("ns:dev")))


async def test_invalid_filter_names_the_term_and_keeps_the_tree(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        before = [r.id for r in shown_rows(app)]
        await pilot.press("slash")
        # pasted at once: typed key by key, the valid prefix "ns:ci" could apply on a slow machine
        app.filter_bar.set_text("ns:ci statsu:failed", apply_now=False)
        await pilot.press("enter")
        assert app.filter_bar.error and "statsu" in app.filter_bar.error
        assert "statsu" in error_text(app) and app.query_one("#filter-error").display
        assert [r.id for r in shown_rows(app)] == before
        await pilot.press("slash", "ctrl+u")  # fix it: empty again
        await pilot.press(*"dur>5x", "enter")
        assert "dur>5x" in app.filter_bar.error


async def test_empty_filter_and_escape_clear(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"pipeline:lint", "enter")
        assert all(r.pipeline == "lint" for r in shown_rows(app))
        await pilot.press("slash", "escape")  # esc in the bar clears it
        assert app.filter_bar.text == ""
        assert len(shown_rows(app)) == 50 and count_text(app).startswith("120 results")
        await pilot.press("escape")  # esc on an empty bar leaves it
        assert app.focused is app.tree


async def test_filter_history_up_down(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(FilterBar)
        await pilot.press("slash", *"ns:ci", "enter", "slash", "ctrl+u", *"status:failed", "enter", "slash", "ctrl+u")
        await pilot.press("up")
        assert bar.text == "status:failed"
        await pilot.press("up")
        assert bar.text == "ns:ci"
        await pilot.press("down")
        assert bar.text == "status:failed"
        assert all(r.status == "FAILURE" for r in shown_rows(app))


async def test_letters_typed_in_the_bar_are_not_keys(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"qyles ", "enter")  # q must not quit, y/l/e/s must not switch tabs
        assert app.is_running
        assert app.filter_bar.text == "qyles "


async def test_huge_number_in_the_filter_is_one_line_under_the_bar(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"dur>99999999999999999999", "enter")
        await pilot.pause()
        assert app.filter_bar.error and "\n" not in app.filter_bar.error
        assert "99999999999999999999" in error_text(app)
        assert len(shown_rows(app)) == 50  # the tree still shows the last good filter's Results


async def test_a_filter_the_database_cannot_run_keeps_the_previous_one(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        history = app.history
        real = history.list_results

        def list_results(flt=None, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
            if flt is not None and "ns:dev" in getattr(flt, "text", str(flt)):
                raise OverflowError("Python int too large to convert to SQLite INTEGER")
            return real(flt, *args, **kw)

        history.list_results = list_results  # type: ignore[method-assign]
        await pilot.press("slash", *"ns:ci", "enter")
        ci = [r.id for r in shown_rows(app)]
        assert ci and all(r.parent == "ci" for r in shown_rows(app))
        await pilot.press("slash", "ctrl+u", *"ns:dev", "enter")  # replace the text
        await pilot.pause()
        assert "too large" in app.filter_bar.error
        assert app.filter.text == "ns:ci" and [r.id for r in shown_rows(app)] == ci
        assert app.is_running


async def test_the_detail_follows_the_cursor_into_a_new_listing(make_app):
    """The cursor stays on line 0 when a filter replaces the listing (no highlight event): the detail
    must still show the Result now under it, not the one the previous listing had there."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"status:failed ns:ci", "enter")
        await pilot.pause()
        first = shown_rows(app)[0]
        assert app.tree.cursor_node.data.row.id == first.id
        assert app.detail.target is not None and app.detail.target.result_id == first.id


async def test_a_narrower_count_keeps_the_widest_width_so_a_recount_does_not_lay_the_screen_out() -> None:
    """Live inserts recount every second; a count that changed width moved the input's edge, a layout of
    the whole screen a keypress then waited for."""
    from textual.app import App, ComposeResult

    class Bar(App):
        def compose(self) -> ComposeResult:
            yield FilterBar()

    app = Bar()
    async with app.run_test(size=(80, 5)) as pilot:
        bar = app.query_one(FilterBar)
        count = app.query_one("#filter-count")
        layouts: list[bool] = []
        real = count.refresh

        def spy(*regions, layout: bool = False, **kw):  # noqa: ANN001, ANN202
            layouts.append(layout)
            return real(*regions, layout=layout, **kw)

        count.refresh = spy  # type: ignore[method-assign]
        bar.show_count(1_234, 120_000, exact=False)
        await pilot.pause()
        wide = str(count.render())
        assert wide == "≥ 1,234 of 120,000 results" and layouts[-1] is True  # grew: the input's edge moves
        layouts.clear()
        bar.show_count(7, 120_000)
        await pilot.pause()
        assert str(count.render()) == " " * (len(wide) - len("7 of 120,000 results")) + "7 of 120,000 results"
        assert layouts and not any(layouts)  # repainted in place
