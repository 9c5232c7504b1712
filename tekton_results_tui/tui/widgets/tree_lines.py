"""Drawing one line of the Results tree: what Textual's `Tree._render_line` draws, at a fraction of its cost.

Tree renders each line from scratch: it copies the label, stylizes it, assembles it with the expand icon
and the guides in a new `Text` and renders that (~0.34 ms a line at 120x36: a new listing's 34 lines
were ~11 ms of its frame, a live drain's new lines as much of a keypress's). Here a label is rendered to
segments once per label (labels change only through `set_label`), and a line is those segments with the
line's styles added: the same cells and styles as Tree draws (tests/tui/test_tree_lines.py compares them
line by line). What is not drawn: Tree's {"line": y} and {"node": id} style meta — the mouse reads the
line from the pointer's position (ResultsTree._on_click) and nothing reads the node meta; the expand
icon keeps its {"toggle": True} meta. Valid for the tree as ResultsTree shows it: no root line, guides
shown, guide depth 2 (Textual pinned in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets._tree import TOGGLE_STYLE

if TYPE_CHECKING:
    from textual.widgets import Tree
    from textual.widgets._tree import _TreeLine


@dataclass(frozen=True)
class LineStyles:
    """The component styles a frame's lines share (worked out once a frame)."""

    guide: tuple[Style, bool]  # style, hidden
    guide_hover: tuple[Style, bool]
    guide_selected: tuple[Style, bool]
    label: Style
    highlight: Style
    cursor: Style
    highlight_line: Style

    @classmethod
    def of(cls, tree: Tree[Any]) -> LineStyles:
        base = tree.get_component_rich_style("tree--guides", partial=True)
        hidden = {name: tree.get_component_styles(name).color.a == 0
                  for name in ("tree--guides", "tree--guides-hover", "tree--guides-selected")}
        return cls(
            guide=(base, hidden["tree--guides"]),
            guide_hover=(base + tree.get_component_rich_style("tree--guides-hover", partial=True),
                         hidden["tree--guides-hover"]),
            guide_selected=(base + tree.get_component_rich_style("tree--guides-selected", partial=True),
                            hidden["tree--guides-selected"]),
            label=tree.get_component_rich_style("tree--label", partial=True),
            highlight=tree.get_component_rich_style("tree--highlight", partial=True),
            cursor=tree.get_component_rich_style("tree--cursor", partial=False),
            highlight_line=tree.get_component_rich_style("tree--highlight-line"),
        )


def _guides(tree: Tree[Any], style: Style, hidden: bool) -> tuple[str, str, str, str]:
    """Tree's guide strings for a guide style (Tree._render_line's get_guides)."""
    if tree.show_guides and not hidden:
        chars = tree.LINES["bold"] if style.bold else tree.LINES["double"] if style.underline2 else tree.LINES["default"]
    else:
        chars = ("  ", "  ", "  ", "  ")
    depth = max(0, tree.guide_depth - 2)
    space, vertical, terminator, cross = (f"{c[0]}{c[1] * depth} " for c in chars)
    return space, vertical, terminator, cross


def label_segments(tree: Tree[Any], node: Any) -> list[Segment]:
    """The node's label as segments, rendered once per label (kept on the node with the label it is of)."""
    label = node._label
    drawn = getattr(node, "_drawn_label", None)
    if drawn is not None and drawn[0] is label:
        return drawn[1]
    if label._spans:
        segments = list(label.render(tree.app.console))  # its own style is the base of each span's
    else:  # Text.render leaves a span-less text unstyled (its caller applies the style): do it here
        style = tree.app.console.get_style(label.style) if label.style else None
        segments = [Segment(label.plain, style)]
    node._drawn_label = (label, segments)
    return segments


def draw_line(tree: Tree[Any], y: int, line: _TreeLine[Any], base_style: Style, styles: LineStyles) -> Strip:
    """Line `y` of the tree as Tree._render_line draws it (without its line/node meta), uncropped."""
    path = line.path
    node = path[-1]
    is_hover = tree.hover_line >= 0 and any(n._hover for n in path)
    line_style = styles.highlight_line if is_hover else base_style
    segments: list[Segment] = []
    if len(path) > 1:
        hover = path[0]._hover
        selected = path[0]._selected and tree.has_focus
        guide_style, hidden = styles.guide[0], True
        for n in path[1:]:
            guide_style, hidden = styles.guide
            if hover:
                guide_style, hidden = styles.guide_hover
            if selected:
                guide_style, hidden = styles.guide_selected
            space, vertical, _, _ = _guides(tree, guide_style, hidden)
            if n is not node:
                segments.append(Segment(space if n.is_last else vertical, line_style + guide_style))
            hover = hover or n._hover
            selected = (selected or n._selected) and tree.has_focus
        _, _, terminator, cross = _guides(tree, guide_style, hidden)
        segments.append(Segment(terminator if line.last else cross, line_style + guide_style))
    label_style = styles.label
    if tree.hover_line == y:
        label_style += styles.highlight
    if tree.cursor_line == y:
        label_style += styles.cursor
    if node._allow_expand:
        icon = tree.ICON_NODE_EXPANDED if node.is_expanded else tree.ICON_NODE
        segments.append(Segment(icon, line_style + (line_style + TOGGLE_STYLE)))
    for seg in label_segments(tree, node):
        style = line_style + seg.style + label_style if seg.style is not None else line_style + label_style
        segments.append(Segment(seg.text, style))
    width = Segment.get_line_length(segments)
    pad = max(tree.virtual_size.width, tree.size.width) - width
    if pad > 0:
        segments.append(Segment(" " * pad, line_style))
    return Strip(segments)
