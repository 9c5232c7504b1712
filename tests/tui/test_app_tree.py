"""The Results tree: expand/collapse, paging, tab keys, names that look like markup."""

from __future__ import annotations

import html
import re

from textual.widgets import TabbedContent

from tekton_results_tui.tui.widgets.results_tree import PAGE_SIZE, LoadMoreItem, RecordItem, ResultItem

from .conftest import SIZE, TRICKY


def screen_text(app) -> str:
    """The rendered screen as plain text (from the SVG export, markup-free)."""
    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg))).replace("\xa0", " ")


def result_ids(tree) -> list[int]:
    return [n.data.row.id for n in tree.root.children if isinstance(n.data, ResultItem)]


async def test_expand_collapse_loads_children_once(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        first = tree.cursor_node
        assert isinstance(first.data, ResultItem) and not first.children
        await pilot.press("enter")
        assert first.is_expanded
        kinds = [c.data.row.kind for c in first.children]
        assert kinds[0] == "PipelineRun" and kinds.count("TaskRun") == 3
        assert kinds == sorted(kinds, key=["PipelineRun", "TaskRun", "Log", "EventList"].index)
        await pilot.press("enter")
        assert not first.is_expanded
        await pilot.press("enter")  # children are not loaded twice
        assert len(first.children) == len(kinds)


async def test_expanding_at_the_bottom_scrolls_the_children_into_view(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        height = tree.scrollable_content_region.height
        for _ in range(height - 1):  # the cursor to the last line in view
            await pilot.press("down")
        node = tree.cursor_node
        assert isinstance(node.data, ResultItem) and node.line == tree.scroll_offset.y + height - 1
        await pilot.press("enter")
        await app.settle_reads()
        await pilot.pause()
        last = node.line + len(node.children)
        assert len(node.children) >= 2 and tree.cursor_node is node
        top = tree.scroll_offset.y
        assert top <= node.line and last < top + height  # the Result and all its lines in view
        await pilot.press("enter", "enter")  # collapsed and expanded again (children loaded): the same
        await pilot.pause()
        assert tree.scroll_offset.y <= node.line and node.line + len(node.children) < tree.scroll_offset.y + height


async def test_paging_with_load_more(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        assert len(result_ids(tree)) == PAGE_SIZE
        assert isinstance(tree.root.children[-1].data, LoadMoreItem)
        tree.move_cursor(tree.load_more_node)
        await pilot.press("enter")
        ids = result_ids(tree)
        assert len(ids) == 2 * PAGE_SIZE and len(set(ids)) == len(ids)
        assert isinstance(tree.cursor_node.data, ResultItem)  # cursor on the first row of the new page
        assert tree.cursor_node.data.row.id == ids[PAGE_SIZE]
        tree.move_cursor(tree.load_more_node)
        await pilot.press("enter")
        ids = result_ids(tree)
        assert len(ids) == 120 and tree.load_more_node is None
        times = [n.data.row.sort_time for n in tree.root.children]
        assert times == sorted(times, reverse=True)  # newest first across pages


def current_tab(detail) -> str:
    return detail.query_one(TabbedContent).active


async def test_tab_keys_switch_detail_tabs(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for key, tab in (("y", "yaml"), ("l", "logs"), ("e", "events"), ("s", "summary")):
            await pilot.press(key)
            await pilot.pause()
            assert tab in current_tab(app.detail)


async def test_selection_shows_in_detail(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "down", "down")
        node = app.tree.cursor_node
        assert isinstance(node.data, RecordItem)
        await pilot.pause()
        assert app.detail.current_name and node.data.row.run_name in app.detail.current_name or \
            app.detail.current_name == node.data.row.name


async def test_markup_like_and_unicode_names_render_intact(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        labels = [n.label.plain for n in app.tree.root.children]
        text = screen_text(app)
        for name in TRICKY:
            assert any(name in lab for lab in labels), name
            assert name.split("-")[0] in text  # on screen, brackets included
        assert "build [linux]" in text and "step [/x]" in text and "déploiement-ü" in text


async def test_help_lists_keys_of_the_view(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        for words in ("Filter", "YAML", "Logs", "Mark", "Reload", "Quit", "Expand"):
            assert words in text, words
        await pilot.press("escape")
        assert not app.screen.is_modal


async def test_panes_toggle_and_escape_restores(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.set_panes("tree")
        await pilot.pause()
        assert not app.query_one("#detail-box").display
        await pilot.press("escape")
        assert app.query_one("#detail-box").display and app.tree.display
        app.set_panes("detail")
        await pilot.pause()
        assert not app.tree.display
        await pilot.press("y")  # a tab key keeps the detail visible
        assert app.query_one("#detail-box").display


async def test_mark_toggles_and_shows_in_label(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        node = app.tree.cursor_node
        await pilot.press("space")
        assert app.tree.marked == {node.data.row.id}
        assert node.label.plain.startswith("▶")
        await pilot.press("space")
        assert not app.tree.marked
