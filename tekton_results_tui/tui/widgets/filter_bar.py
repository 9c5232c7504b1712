"""The filter bar: the filter language, applied as you type, errors inline, the match count.

It parses and reports; the app decides what to do with a valid filter (reload the tree).
"""

from __future__ import annotations

import time
from typing import Callable

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from tekton_results_tui.errors import UserError
from tekton_results_tui.store.query import Filter, parse_filter
from tekton_results_tui.textsafe import visible

DEBOUNCE_S = 0.25


class FilterInput(Input):
    """The text box; `up`/`down` walk this session's filter history."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous filter", id="filter.history_prev"),
        Binding("down", "history(1)", "Next filter", id="filter.history_next"),
        Binding("escape", "clear_filter", "Clear filter", id="filter.clear"),
    ]

    def action_history(self, step: int) -> None:
        bar = self.parent.parent if self.parent is not None else None  # type: ignore[union-attr]
        if isinstance(bar, FilterBar):
            bar.walk_history(step)

    def action_clear_filter(self) -> None:
        bar = self.parent.parent if self.parent is not None else None  # type: ignore[union-attr]
        if isinstance(bar, FilterBar):
            bar.clear_and_leave()


class FilterBar(Static):
    """`/` focuses it. Posts `FilterBar.Changed(filter)` for every valid filter (debounced)."""

    class Changed(Message):
        def __init__(self, flt: Filter) -> None:
            super().__init__()
            self.filter = flt

    class Done(Message):
        """The user left the bar (esc on an empty bar, or enter)."""

    def __init__(self, clock: Callable[[], float] = time.time, *, id: str | None = "filter-bar") -> None:
        super().__init__(id=id)
        self.clock = clock
        self.history: list[str] = []
        self._hist_pos: int | None = None
        self._timer: Timer | None = None
        self.error: str | None = None
        self.applied: Filter = Filter()
        self.posted = 0
        self._count_text = ""  # what the count shows
        self._count_w = 0  # the widest it has been (it keeps that width)

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Static(Text("/", style="bold"), id="filter-prompt")
            inp = FilterInput(placeholder="filter: status:failed ns:ci pipeline:build since:2h dur>5m -word",
                              id="filter-input", select_on_focus=False)
            inp.cursor_blink = False
            yield inp
            yield Static("", id="filter-count")
        yield Static("", id="filter-error")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    @property
    def text(self) -> str:
        return self.input.value

    def set_text(self, text: str, apply_now: bool = True) -> None:
        self.input.value = text
        self.input.cursor_position = len(text)
        if apply_now:
            self.apply_now()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self.apply_now)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_now()
        self.remember(self.text)
        self.post_message(self.Done())

    def apply_now(self) -> Filter | None:
        """Parse the text now; show the error or post the filter."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.text
        try:
            flt = parse_filter(text, now=self.clock())
        except (UserError, ValueError, OverflowError) as exc:  # FilterError, and anything else the text caused
            self.show_error(str(exc).strip() or type(exc).__name__)
            return None
        self.show_error(None)
        self.applied = flt
        self.posted += 1  # how many filters were applied (the debounce is judged by it)
        self.post_message(self.Changed(flt))
        return flt

    def show_error(self, message: str | None) -> None:
        """One line under the bar (the message quotes what was typed: controls shown as escapes)."""
        if message is not None:
            message = visible(message.splitlines()[0] if message.strip() else message)
        if message == self.error:
            return  # unchanged (every valid keystroke clears it): an update would lay the screen out again
        self.error = message
        err = self.query_one("#filter-error", Static)
        err.update(Text(message or "", style="bold red"))
        err.display = bool(message)
        self.set_class(bool(message), "-error")

    def show_count(self, n: int | None, total: int | None = None, exact: bool = True) -> None:
        """"n results", "n of total results", or "≥ n results" while the exact count is on its way."""
        at_least = "" if exact else "≥ "
        if n is None:
            text = Text("")
        elif total is not None and (total != n or not exact):
            text = Text(f"{at_least}{n:,} of {total:,} results")
        else:
            text = Text(f"{at_least}{n:,} results")
        # The count keeps the widest width it has had (right-aligned in it): a narrower count would move the
        # input's edge, a layout of the whole screen; live inserts recount every second, and those layouts
        # were among the slowest frames a keypress waited for.
        width = max(cell_len(text.plain), self._count_w)
        text = Text(" " * (width - cell_len(text.plain))) + text
        if text.plain == self._count_text:
            return  # unchanged: no repaint
        relayout = width != self._count_w
        self._count_w = width
        self._count_text = text.plain
        self.query_one("#filter-count", Static).update(text, layout=relayout)

    def remember(self, text: str) -> None:
        text = text.strip()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._hist_pos = None

    def walk_history(self, step: int) -> None:
        if not self.history:
            return
        if self._hist_pos is None:
            if self.text.strip():
                self.remember(self.text)
            pos = len(self.history) if step < 0 else len(self.history) - 1
        else:
            pos = self._hist_pos
        pos = max(0, min(len(self.history), pos + step))
        self._hist_pos = pos
        self.set_text(self.history[pos] if pos < len(self.history) else "")

    def clear_and_leave(self) -> None:
        """esc: clear a non-empty filter; on an empty one, leave the bar."""
        if self.text:
            self.remember(self.text)
            self.set_text("")
        else:
            self.post_message(self.Done())
