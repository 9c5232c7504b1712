"""A line-virtualized text view: only the visible lines are rendered.

Used for YAML and logs. Lines arrive prepared off the UI thread (per-line styled
segments or `rich.text.Text`), so showing a 5,000-line document costs a few dozen
`render_line` calls, not a layout of the whole text (DESIGN §6: rich `Syntax` in a
`Static` took 1.5-2.6 s for 5,000 lines). Search, match highlighting, optional
character wrap and "keep my scroll position on reload" live here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from tekton_results_tui.textsafe import visible

Line = Text | Sequence[Segment]


class LineView(ScrollView, can_focus=True):
    """Virtual lines with search (`/`, `n`, `N`); hosts handle `SearchRequested`."""

    BINDINGS = [
        Binding("slash", "search", "Search", id="detail.search"),
        Binding("n", "next_match", "Next match", id="detail.next_match"),
        Binding("N", "prev_match", "Prev match", id="detail.prev_match"),
    ]

    COMPONENT_CLASSES = {"line-view--match", "line-view--match-line"}

    DEFAULT_CSS = """
    LineView {
        background: $surface;
        height: 1fr;
        width: 1fr;
    }
    LineView > .line-view--match {
        background: $warning 60%;
        color: $text;
    }
    LineView > .line-view--match-line {
        background: $accent 30%;
    }
    """

    class SearchRequested(Message):
        """The user pressed `/` in this view."""

        def __init__(self, view: LineView) -> None:
            super().__init__()
            self.view = view

    class MatchMoved(Message):
        """The current match changed (index is 0-based, or -1 with no match)."""

        def __init__(self, view: LineView, index: int, total: int) -> None:
            super().__init__()
            self.view = view
            self.index = index
            self.total = total

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[Line] = []
        self._plain: list[str] = []
        self._folded: list[str] = []  # lower-cased plain lines, built on the first search
        self._widths: list[int] = []
        self._max_width = 0
        self._wrap = False
        self._row_start: list[int] = []  # wrap: first row of each line
        self._wrap_width = 0
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self._frame: tuple[Offset, int, Style] | None = None  # set while render_lines draws a frame
        self.query_text = ""
        self.matches: list[int] = []
        self.match_index = -1

    # --- content -------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def plain_lines(self) -> list[str]:
        return self._plain

    def set_lines(self, lines: list[Line], plain: list[str], widths: list[int] | None = None,
                  keep_scroll: bool = False, follow_tail: bool = False) -> None:
        """Replace the content; `keep_scroll` keeps the view where it was (live refresh)."""
        at_bottom = self.scroll_y >= self.max_scroll_y and self.scroll_y > 0
        old_x, old_y = self.scroll_x, self.scroll_y
        self._lines = lines
        self._plain = plain
        self._folded = []
        self._widths = widths if widths is not None else [cell_len(p) for p in plain]
        self._max_width = max(self._widths, default=0)
        self._cache.clear()
        self._relayout()
        if self.query_text:
            self._find(self.query_text, keep_index=keep_scroll)
        if keep_scroll:
            y = self.max_scroll_y if (follow_tail and at_bottom) else old_y
            self.scroll_to(old_x, y, animate=False, immediate=True)
        else:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def clear_lines(self) -> None:
        self.set_lines([], [], [])

    # --- wrap ------------------------------------------------------------------------

    @property
    def wrap(self) -> bool:
        return self._wrap

    @wrap.setter
    def wrap(self, value: bool) -> None:
        if value == self._wrap:
            return
        top_line = self._line_of_row(int(self.scroll_y))
        self._wrap = value
        self._relayout()
        self.scroll_to(0, self._row_of_line(top_line), animate=False, immediate=True)
        self.refresh()

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width or 80)

    def _relayout(self) -> None:
        if self._wrap:
            w = self._text_width()
            self._wrap_width = w
            self._row_start = [0, *accumulate(max(1, -(-cw // w)) for cw in self._widths)]
            self.virtual_size = Size(w, self._row_start[-1] if self._lines else 0)
        else:
            self._row_start = []
            self.virtual_size = Size(self._max_width, len(self._lines))

    def on_resize(self) -> None:
        if self._wrap and self._text_width() != self._wrap_width:
            top_line = self._line_of_row(int(self.scroll_y))
            self._relayout()
            self.scroll_to(0, self._row_of_line(top_line), animate=False, immediate=True)
            self.refresh()

    def _row_of_line(self, line: int) -> int:
        if not self._wrap or not self._row_start:
            return line
        return self._row_start[min(line, len(self._row_start) - 1)]

    def _line_of_row(self, row: int) -> int:
        if not self._wrap or not self._row_start:
            return row
        return max(0, bisect_right(self._row_start, row) - 1)

    # --- rendering -------------------------------------------------------------------

    def _full_strip(self, index: int) -> Strip:
        strip = self._cache.get(index)
        if strip is None:
            line = self._lines[index]
            if isinstance(line, Text):
                segments = list(line.render(self.app.console))
            else:
                segments = list(line)
            strip = Strip(segments, self._widths[index])
            self._cache[index] = strip
        return strip

    def _highlighted(self, index: int, strip: Strip) -> Strip:
        """Mark the query's occurrences in a line, and the whole current-match line."""
        if not self.query_text or not self.matches:
            return strip
        folded = self._folded[index] if self._folded else self._plain[index].lower()
        q = self.query_text.lower()
        pos = folded.find(q)
        if pos < 0:
            return strip
        match_style = self.get_component_rich_style("line-view--match", partial=True)
        plain = self._plain[index]
        cuts: list[int] = []
        while pos >= 0:
            start = cell_len(plain[:pos])
            cuts += [start, start + cell_len(plain[pos:pos + len(q)])]
            pos = folded.find(q, pos + max(1, len(q)))
        parts = strip.divide([c for c in cuts] + [strip.cell_length])
        out: list[Strip] = []
        for i, part in enumerate(parts):
            out.append(part.apply_style(match_style) if i % 2 == 1 else part)
        strip = Strip.join(out)
        if self.match_index >= 0 and self.matches[self.match_index] == index:
            strip = strip.apply_style(self.get_component_rich_style("line-view--match-line", partial=True))
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of a frame shares, worked out once a frame: the style alone walks the ancestors
        # (~1/3 of a line's time: 45 new lines of a timeline cost ~20 ms a frame)
        self._frame = (self.scroll_offset, self.scrollable_content_region.width or self.size.width, self.rich_style)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        if self._frame is not None:
            (scroll_x, scroll_y), width, base = self._frame
        else:
            scroll_x, scroll_y = self.scroll_offset
            width = self.scrollable_content_region.width or self.size.width
            base = self.rich_style
        row = scroll_y + y
        if self._wrap:
            index = self._line_of_row(row)
            if not self._lines or row >= (self._row_start[-1] if self._row_start else 0):
                return Strip.blank(width, base)
            chunk = row - self._row_start[index]
            strip = self._highlighted(index, self._full_strip(index))
            w = self._wrap_width
            strip = strip.crop(chunk * w, (chunk + 1) * w)
            return strip.apply_style(base).extend_cell_length(width, base).apply_offsets(0, row)
        if row >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._highlighted(row, self._full_strip(row))
        return strip.apply_style(base).crop_extend(scroll_x, scroll_x + width, base).apply_offsets(scroll_x, row)

    def visible_strips(self) -> list[Strip]:
        """The strips currently on screen (for tests and screenshots of content)."""
        return [self.render_line(y) for y in range(self.size.height)]

    # --- search ----------------------------------------------------------------------

    def search(self, query: str) -> int:
        """Find `query` (case-insensitive substring); jump to the first match at or below the top line."""
        self.query_text = query
        self._find(query, keep_index=False)
        if self.matches:
            top = self._line_of_row(int(self.scroll_y))
            self.match_index = next((i for i, ln in enumerate(self.matches) if ln >= top), 0)
            self._show_match()
        self.refresh()
        self.post_message(self.MatchMoved(self, self.match_index, len(self.matches)))
        return len(self.matches)

    def _find(self, query: str, keep_index: bool) -> None:
        old = self.matches[self.match_index] if keep_index and 0 <= self.match_index < len(self.matches) else None
        if not query:
            self.matches, self.match_index = [], -1
            return
        if not self._folded:
            self._folded = [p.lower() for p in self._plain]
        q = query.lower()
        self.matches = [i for i, p in enumerate(self._folded) if q in p]
        if old is not None and self.matches:
            self.match_index = min(bisect_right(self.matches, old) - 1, len(self.matches) - 1)
            self.match_index = max(self.match_index, 0)
        else:
            self.match_index = 0 if self.matches else -1

    def _show_match(self) -> None:
        if self.match_index < 0:
            return
        row = self._row_of_line(self.matches[self.match_index])
        height = self.scrollable_content_region.height or self.size.height or 1
        if not (self.scroll_y <= row < self.scroll_y + height):
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)

    def _step(self, delta: int) -> None:
        if not self.matches:
            if self.query_text:
                self.notify(visible(f"No match for {self.query_text!r}"), severity="warning", timeout=2, markup=False)
            self.post_message(self.MatchMoved(self, -1, 0))
            return
        self.match_index = (self.match_index + delta) % len(self.matches)
        self._show_match()
        self.refresh()
        self.post_message(self.MatchMoved(self, self.match_index, len(self.matches)))

    @property
    def current_match_line(self) -> int | None:
        return self.matches[self.match_index] if 0 <= self.match_index < len(self.matches) else None

    def action_search(self) -> None:
        self.post_message(self.SearchRequested(self))

    def action_next_match(self) -> None:
        self._step(1)

    def action_prev_match(self) -> None:
        self._step(-1)


def reveal_line(view: LineView, index: int, text: str) -> None:
    """Show line `index` (0-based) with `text` highlighted there as the current match (a log search hit)."""
    view.search(text)
    if index in view.matches:
        view.match_index = view.matches.index(index)
        view._show_match()
        view.refresh()
        view.post_message(view.MatchMoved(view, view.match_index, len(view.matches)))
    else:
        view.scroll_to(y=max(0, index - 3), animate=False, immediate=True)


# --- a line view with its inline search bar -------------------------------------------



class SearchInput(Input):
    """The inline `/` search field; `esc` closes it without searching."""

    BINDINGS = [Binding("escape", "close", "Close search", id="detail.search_close")]

    class Closed(Message):
        pass

    def action_close(self) -> None:
        self.post_message(self.Closed())


class SearchableLines(Vertical):
    """A LineView plus its search field and a one-line match counter."""

    DEFAULT_CSS = """
    SearchableLines { height: 1fr; }
    SearchableLines > SearchInput { display: none; height: 3; }
    SearchableLines.-searching > SearchInput { display: block; }
    SearchableLines > .search-status { display: none; height: 1; background: $boost; color: $text-muted; }
    SearchableLines.-has-query > .search-status { display: block; }
    """

    def __init__(self, view: LineView, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view = view

    def compose(self) -> ComposeResult:
        yield SearchInput(placeholder="search (enter: find · esc: close)")
        yield Static("", classes="search-status")
        yield self.view

    def open_search(self) -> None:
        self.add_class("-searching")
        field = self.query_one(SearchInput)
        field.value = self.view.query_text
        field.focus()

    def _close(self) -> None:
        self.remove_class("-searching")
        self.view.focus()

    def on_line_view_search_requested(self, event: LineView.SearchRequested) -> None:
        event.stop()
        self.open_search()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close()
        self.view.search(event.value)

    def on_search_input_closed(self, event: SearchInput.Closed) -> None:
        event.stop()
        self._close()

    def on_line_view_match_moved(self, event: LineView.MatchMoved) -> None:
        event.stop()
        self._update_status(event.index, event.total)

    def _update_status(self, index: int, total: int) -> None:
        q = self.view.query_text
        self.set_class(bool(q), "-has-query")
        if not q:
            return
        where = f"{index + 1}/{total}" if total else "no match"
        self.query_one(".search-status", Static).update(
            Text.assemble(" /", (visible(q), "bold"), f"  {where}  ", ("n next · N previous · / new search", "dim")))
