"""The Results tree draws its lines itself (tui/widgets/tree_lines.py): the same cells and styles as
Textual's Tree._render_line, for every line and state (cursor, mouse, expanded children, focus)."""

from __future__ import annotations

from rich.style import Style
from textual.widgets import Tree

from .conftest import SIZE


def _look(strip) -> list[tuple[str, Style | None]]:
    """A strip's cells and styles, one entry per cell, meta left out (Tree's line/node meta is not drawn)."""
    out = []
    for seg in strip:
        style = Style.from_color(seg.style.color, seg.style.bgcolor) + Style(
            bold=seg.style.bold, dim=seg.style.dim, italic=seg.style.italic, underline=seg.style.underline,
            reverse=seg.style.reverse, strike=seg.style.strike) if seg.style is not None else None
        out += [(ch, style) for ch in seg.text]
    return out


def _same_as_textual(tree) -> int:
    style = tree.rich_style
    width = max(tree.virtual_size.width, tree.size.width)
    tree._node_lines.clear()
    checked = 0
    for y in range(len(tree._tree_lines)):
        ours = tree._render_line(y, 0, width, style)
        tree._line_cache.clear()
        theirs = Tree._render_line(tree, y, 0, width, style)
        assert _look(ours) == _look(theirs), (y, ours.text, theirs.text)
        checked += 1
    return checked


async def test_lines_are_drawn_as_textual_draws_them(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        await pilot.pause()
        assert _same_as_textual(tree) > 40  # Results, cursor on the first
        await pilot.press("down", "down", "enter")  # expand the third: its child lines and guides
        await app.settle_reads()
        await pilot.pause()
        assert any(len(line.path) > 1 for line in tree._tree_lines)
        assert _same_as_textual(tree) > 40
        await pilot.press("down")  # the cursor on a child line: the selected guides
        tree.hover_line = tree.cursor_line + 2  # the mouse over a line
        await pilot.pause()
        assert _same_as_textual(tree) > 40
        app.set_focus(None)  # blurred: other cursor and guide styles
        await pilot.pause()
        assert _same_as_textual(tree) > 40
