"""A table that lays itself out at the width it is drawn at: one line per row, cut by ellipsis.

rich's Table shrinks columns by wrapping their cells, which turns a long name into a letter-by-letter
column in a narrow pane. Here each column has a natural width (its widest cell), a floor and a
shrink order: when the line is too wide, columns give way in that order down to their floors (a name
is cut with an ellipsis), so from 80 to 250 columns every row stays one readable line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text


@dataclass
class FitColumn:
    header: str
    min_width: int = 4
    max_width: int = 200
    shrink: int = 0  # higher gives way first
    right: bool = False


@dataclass
class FitTable:
    columns: list[FitColumn]
    rows: list[list[Text]] = field(default_factory=list)
    gap: int = 2

    def add_row(self, *cells: Text | str) -> None:
        self.rows.append([c if isinstance(c, Text) else Text(c) for c in cells])

    def widths(self, width: int) -> list[int]:
        """Each column's width when the table is drawn `width` cells wide."""
        natural = []
        for i, col in enumerate(self.columns):
            w = max([cell_len(col.header)] + [r[i].cell_len for r in self.rows if i < len(r)])
            natural.append(min(col.max_width, w))
        widths = list(natural)
        budget = width - self.gap * (len(widths) - 1)
        order = sorted(range(len(widths)), key=lambda i: -self.columns[i].shrink)
        for i in order:
            excess = sum(widths) - budget
            if excess <= 0:
                break
            floor = min(widths[i], self.columns[i].min_width)
            widths[i] = max(floor, widths[i] - excess)
        return widths

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = sum(self.widths(10_000)) + self.gap * (len(self.columns) - 1)
        return Measurement(min(full, options.max_width), min(full, options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self.widths(options.max_width)
        header = [Text(c.header, style="bold") for c in self.columns]
        for cells in [header, *self.rows]:
            line = Text(no_wrap=True, overflow="ellipsis")
            for i, (col, w) in enumerate(zip(self.columns, widths)):
                cell = cells[i].copy() if i < len(cells) else Text("")
                cell.no_wrap = True
                if cell.cell_len > w:
                    cell.truncate(w, overflow="ellipsis")
                pad = " " * (w - cell.cell_len)
                if i:
                    line.append(" " * self.gap)
                if col.right:
                    line.append(pad)
                    line.append_text(cell)
                else:
                    line.append_text(cell)
                    if i < len(self.columns) - 1:
                        line.append(pad)
            line.truncate(options.max_width, overflow="ellipsis")
            yield line
