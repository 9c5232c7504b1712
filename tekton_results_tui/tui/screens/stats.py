"""The Statistics screen: the runs the filter bar selects, grouped by pipeline (or task, namespace, ...).

One line per group with its status counts, success rate, p50/p95 duration, queue time, last run and
flaky rate, and a sparkline of runs per day; the highlighted group's trends below as Textual
Sparklines. Sorted by any column (`o` moves the sort to the next column, `O` reverses, or click a
header). `enter` filters the tree to the group. Read in a thread worker; refreshed when the app's
change feed applies changes while the screen is open.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Sparkline, Static

from tekton_results_tui.insights.stats import GROUP_KEYS, GroupStats, Stats, Trend, sparkline, statistics, trends
from tekton_results_tui.store.insights_reads import NONE_KEY
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.background import read_then
from tekton_results_tui.tui.formatting import fmt_duration, status_style, status_word
from tekton_results_tui.tui.screens.insight_screen import InsightScreen

if TYPE_CHECKING:
    from tekton_results_tui.tui.app import ResultsApp

WINDOWS: tuple[tuple[str, float | None], ...] = (("30d", 30 * 86400), ("7d", 7 * 86400), ("1d", 86400),
                                                   ("90d", 90 * 86400), ("all", None))
TREND_DAYS = 14  # days drawn in a table line (the panel below shows the whole window)
GROUP_MAX = 40  # cells of the group column (longer keys end in an ellipsis)
REFRESH_S = 1.0  # how often the screen looks whether the change feed applied something
# what a group key becomes in the filter language (repository has no term)
FILTER_TERMS = {"pipeline": "pipeline", "task": "task", "namespace": "ns", "cluster": "cluster"}


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    value: Callable[[GroupStats], Any]  # what the column sorts by (None sorts last)
    right: bool = True


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.0f}%"


def _dur(v: float | None) -> str:
    return "-" if v is None else fmt_duration(v)


COLUMNS = (  # what matters most first: at 80 columns the counts and times of the tail scroll into view
    Column("key", "GROUP", lambda g: g.key.lower(), right=False),
    Column("total", "RUNS", lambda g: g.total),
    Column("success_rate", "OK%", lambda g: g.success_rate),
    Column("p50", "P50", lambda g: g.p50_seconds),
    Column("p95", "P95", lambda g: g.p95_seconds),
    Column("flaky", "FLAKY", lambda g: g.flaky_rate),
    Column("trend", f"RUNS/DAY {TREND_DAYS}d", lambda g: None, right=False),
    Column("succeeded", "OK", lambda g: g.succeeded),
    Column("failed", "FAIL", lambda g: g.failed),
    Column("cancelled", "CANC", lambda g: g.cancelled),
    Column("timeout", "T/O", lambda g: g.timeout),
    Column("running", "RUN", lambda g: g.running),
    Column("queue", "QUEUE P50", lambda g: g.queue_p50_seconds),
    Column("last", "LAST RUN", lambda g: g.last_start_time, right=False),
)
SORTABLE = tuple(c.key for c in COLUMNS if c.key != "trend")


def sort_groups(groups: list[GroupStats], column: str, descending: bool) -> list[GroupStats]:
    """Groups ordered by one column; groups without a value go last either way."""
    col = next(c for c in COLUMNS if c.key == column)
    have = [g for g in groups if col.value(g) is not None]
    lack = [g for g in groups if col.value(g) is None]
    have.sort(key=lambda g: (col.value(g), g.key), reverse=descending)
    return have + sorted(lack, key=lambda g: g.key)


def group_filter(by: str, key: str) -> str | None:
    """The filter term that selects one group's runs (None: the filter language cannot say it)."""
    if key == NONE_KEY:
        return None
    if by in FILTER_TERMS:
        return f"{FILTER_TERMS[by]}:{shlex.quote(key)}"
    if by == "day":
        day = datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return f"since:{key} before:{(day + timedelta(days=1)).strftime('%Y-%m-%d')}"
    if by == "week":
        start = datetime.strptime(key + "-1", "%G-W%V-%u").replace(tzinfo=timezone.utc)
        return f"since:{start:%Y-%m-%d} before:{start + timedelta(days=7):%Y-%m-%d}"
    return None


def _last(g: GroupStats) -> Text:
    if not g.last_start_time:
        return Text("-", style="dim")
    when = g.last_start_time.replace("T", " ").rstrip("Z")[:16]
    text = Text(visible(when) + " ")
    if g.last_status:
        text.append(status_word(g.last_status).lower(), style=status_style(g.last_status))
    return text


def _cells(g: GroupStats, trend: Trend | None) -> dict[str, Any]:
    """Column key -> cell (Text, or the trend's sparkline)."""
    rate = g.success_rate
    rate_style = "" if rate is None else ("green" if rate >= 0.9 else "yellow" if rate >= 0.6 else "red")
    runs = trend.runs[-TREND_DAYS:] if trend is not None else []
    spark = Text(sparkline(runs), style="cyan") if runs and any(runs) else Text("-", style="dim")
    cells: dict[str, Any] = {
        "key": Text(visible(g.key), no_wrap=True, overflow="ellipsis"),
        "success_rate": Text(_pct(rate), style=rate_style),
        "p50": Text(_dur(g.p50_seconds)), "p95": Text(_dur(g.p95_seconds)),
        "flaky": Text(_pct(g.flaky_rate), style="yellow" if g.flaky else "dim"),
        "trend": spark, "queue": Text(_dur(g.queue_p50_seconds)), "last": _last(g),
    }
    for key, n, style in (("total", g.total, "bold"), ("succeeded", g.succeeded, "green"), ("failed", g.failed, "red"),
                          ("cancelled", g.cancelled, "yellow"), ("timeout", g.timeout, "magenta"),
                          ("running", g.running, "cyan")):
        cells[key] = Text(str(n), style=style if n else "dim")
    return cells


def right_aligned(rows: list[dict[str, Any]], titles: dict[str, str]) -> None:
    """Pad the right-aligned columns' Text to one width (a DataTable cell keeps no alignment under the cursor)."""
    for c in COLUMNS:
        if not c.right:
            continue
        width = max([len(titles[c.key])] + [r[c.key].cell_len for r in rows])
        for r in rows:
            r[c.key].pad_left(width - r[c.key].cell_len)


class StatsScreen(InsightScreen):
    """Statistics of the filtered runs by group; `enter` filters the tree to the highlighted group."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="stats.close"),
        Binding("enter", "filter_group", "Filter to group", id="stats.filter_group", priority=True),
        Binding("b", "next_by", "Group by", id="stats.by", tooltip="pipeline, task, namespace, repository, ..."),
        Binding("o", "sort_next", "Sort", id="stats.sort", tooltip="sort by the next column"),
        Binding("O", "sort_reverse", "Reverse", id="stats.reverse", show=False, tooltip="reverse the order"),
        Binding("w", "next_window", "Window", id="stats.window", tooltip="30d, 7d, 1d, 90d, all"),
        Binding("ctrl+r", "reload", "Reload", id="stats.reload", show=False),
        Binding("question_mark", "app.help", "Help", id="stats.help", key_display="?"),
    ]

    DEFAULT_CSS = """
    StatsScreen { layout: vertical; }
    StatsScreen #stats-head { height: 1; padding: 0 1; background: $boost; }
    StatsScreen #stats-table { height: 1fr; }
    StatsScreen #stats-trend { height: auto; max-height: 9; padding: 0 1; border-top: solid $primary 40%; }
    StatsScreen #stats-trend .trend-row { height: 3; }
    StatsScreen #stats-trend .trend-label { width: 26; height: 3; content-align: left middle; }
    StatsScreen #stats-trend Sparkline { width: 1fr; height: 3; }
    StatsScreen #stats-trend-title { height: 1; }
    StatsScreen.-short #stats-trend { display: none; }
    """

    def __init__(self, by: str = "pipeline", window: int = 0) -> None:
        super().__init__()
        self.by = by if by in GROUP_KEYS else "pipeline"
        self.window = window
        self.sort_column = "total"
        self.descending = True
        self.stats: Stats | None = None
        self.trends: dict[str, Trend] = {}
        self.error: str | None = None
        self.reading = True
        self._rows: list[GroupStats] = []
        self._seen_changes = -1
        self.loads = 0  # answers applied (tests wait on it)

    @property
    def results_app(self) -> "ResultsApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="stats-head")
        table: DataTable[Any] = DataTable(id="stats-table", cursor_type="row", zebra_stripes=True)
        yield table
        with Vertical(id="stats-trend"):
            yield Static(id="stats-trend-title")
            with Horizontal(classes="trend-row"):
                yield Static(Text("runs per day"), classes="trend-label", id="trend-runs-label")
                yield Sparkline([], id="trend-runs")
            with Horizontal(classes="trend-row"):
                yield Static(Text("p50 duration per day"), classes="trend-label", id="trend-p50-label")
                yield Sparkline([], id="trend-p50")
        yield Footer()

    def on_mount(self) -> None:
        self._seen_changes = self.results_app.changes_applied
        self.on_resize()
        self.reload()
        self.set_interval(REFRESH_S, self._maybe_refresh, name="stats-live")

    def on_resize(self) -> None:
        self.set_class(self.size.height < 30, "-short")

    # --- data ---------------------------------------------------------------------------------------

    @property
    def window_name(self) -> str:
        return WINDOWS[self.window][0]

    def reload(self) -> None:
        """Read the statistics of the app's current filter in a worker (a newer read cancels this one)."""
        app = self.results_app
        flt, by, since = app.filter.text, self.by, WINDOWS[self.window][1]

        def read() -> tuple[Stats, dict[str, Trend]]:
            return statistics(app.history, flt, by, since), trends(app.history, flt, by, since)

        self.reading = True
        self._show_head()
        read_then(self, app.history, read, self._arrived, group="stats", exclusive=True, name=f"stats by {by}")

    def _arrived(self, got: tuple[Stats, dict[str, Trend]] | None, error: BaseException | None) -> None:
        self.reading = False
        self.loads += 1
        if error is not None or got is None:
            text = str(error).strip().splitlines()[0] if error is not None and str(error).strip() else type(error).__name__
            self.error = visible(text)
        else:
            self.error = None
            self.stats, self.trends = got
        self._fill()

    def _maybe_refresh(self) -> None:
        n = self.results_app.changes_applied
        if n != self._seen_changes and not self.reading:
            self._seen_changes = n
            self.reload()

    # --- drawing ------------------------------------------------------------------------------------

    def _show_head(self) -> None:
        app = self.results_app
        head = Text.assemble(("Statistics", "bold"), " by ", (self.by, "bold cyan"), ", last ",
                             (self.window_name, "bold"), " · ")
        if app.filter.text.strip():
            head.append("filter: ")
            head.append(visible(app.filter.text), style="italic")
        else:
            head.append("all runs", style="dim")
        title = next(c.title for c in COLUMNS if c.key == self.sort_column)
        head.append(f" · sorted by {title.lower()} {'↓' if self.descending else '↑'}", style="dim")
        if self.reading:
            head.append(" · reading…", style="dim italic")
        if self.error:
            head.append(f" · {self.error}", style="red")
        self.query_one("#stats-head", Static).update(head)

    def _fill(self) -> None:
        self._show_head()
        table = self.query_one("#stats-table", DataTable)
        keep = self._current_key()
        table.clear(columns=True)
        titles = {c.key: c.title + ((" ↓" if self.descending else " ↑") if c.key == self.sort_column else "")
                  for c in COLUMNS}
        groups = self.stats.groups if self.stats is not None else []
        self._rows = sort_groups(groups, self.sort_column, self.descending)
        rows = [_cells(g, self.trends.get(g.key)) for g in self._rows]
        right_aligned(rows, titles)
        for c in COLUMNS:
            title = Text(titles[c.key])
            # the width from the cells themselves: a table measured before it has a size would cut them
            width = min(GROUP_MAX if c.key == "key" else 1000,
                        max([len(titles[c.key])] + [r[c.key].cell_len for r in rows]))
            if c.right:
                title.pad_left(width - len(titles[c.key]))
            table.add_column(title, key=c.key, width=width)
        for g, cells in zip(self._rows, rows):
            table.add_row(*[cells[c.key] for c in COLUMNS], key=g.key)
        if not self._rows:
            note = "no runs match this filter in the window" if self.error is None else "could not compute statistics"
            self.query_one("#stats-trend-title", Static).update(Text(note, style="dim italic"))
        if keep is not None and keep in {g.key for g in self._rows}:
            table.move_cursor(row=[g.key for g in self._rows].index(keep), animate=False)
        self._show_trend()

    def _current_key(self) -> str | None:
        table = self.query_one("#stats-table", DataTable)
        if not self._rows or table.cursor_row < 0 or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row].key

    def _show_trend(self) -> None:
        key = self._current_key()
        trend = self.trends.get(key) if key is not None else None
        runs = self.query_one("#trend-runs", Sparkline)
        p50 = self.query_one("#trend-p50", Sparkline)
        if key is None:
            runs.data, p50.data = [], []
            return
        title = Text.assemble((visible(key), "bold"), f" · {self.window_name}")
        if trend is not None and trend.days:
            title.append(f" · {trend.days[0]} to {trend.days[-1]}", style="dim")
            top = max(trend.runs, default=0)
            runs.data = [float(v) for v in trend.runs]
            durations = [v or 0.0 for v in trend.p50_seconds]
            p50.data = durations
            self.query_one("#trend-runs-label", Static).update(Text(f"runs per day (max {top})"))
            self.query_one("#trend-p50-label", Static).update(
                Text(f"p50 per day (max {fmt_duration(max(durations, default=0))})"))
        else:
            runs.data, p50.data = [], []
        self.query_one("#stats-trend-title", Static).update(title)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_trend()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key not in SORTABLE:
            return
        if key == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column, self.descending = key, key != "key"
        self._fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_filter_group()

    # --- actions ------------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.reload()

    def action_next_by(self) -> None:
        self.by = GROUP_KEYS[(GROUP_KEYS.index(self.by) + 1) % len(GROUP_KEYS)]
        self.reload()

    def action_next_window(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)
        self.reload()

    def action_sort_next(self) -> None:
        i = SORTABLE.index(self.sort_column)
        self.sort_column = SORTABLE[(i + 1) % len(SORTABLE)]
        self.descending = self.sort_column != "key"
        self._fill()

    def action_sort_reverse(self) -> None:
        self.descending = not self.descending
        self._fill()

    def action_filter_group(self) -> None:
        """Add the highlighted group to the filter bar's filter and go back to the tree."""
        key = self._current_key()
        if key is None:
            return
        term = group_filter(self.by, key)
        if term is None:
            self.results_app.notify_plain(f"the filter language cannot select {self.by} {key!r}", severity="warning")
            return
        app = self.results_app
        text = f"{app.filter.text.strip()} {term}".strip()
        app.pop_screen()
        app.filter_bar.set_text(text)
        app.tree.focus()
