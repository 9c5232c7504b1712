"""The Timeline tab: where a run's time went, one bar per TaskRun (per step when expanded, `x`).

The run's objects are read in the tab's worker (the run and its children in two reads) and turned
into spans (insights/timeline.py); the geometry is laid out on the UI thread for the tab's width, so
a resize or the clock of a running run only redraws. Bars have eighth-cell precision (a bar starting
mid-cell is drawn in reverse video), queued time is shaded apart from running time, the critical
path is marked `*`, finally and skipped tasks are shown as such, and for a running PipelineRun the
expected end (ETA) is a progress bar above the axis and an `E` on it. Lines are virtual (LineView).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from tekton_results_tui import kinds
from tekton_results_tui.insights import timeline as tl
from tekton_results_tui.insights.diff_load import _owned_by as owned_by  # side_of's own test of ownership
from tekton_results_tui.insights.diff_load import side_of
from tekton_results_tui.insights.eta import Eta, progress_bar
from tekton_results_tui.insights.run_summary import RunInsights, run_insights
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.timeline_reads import result_records
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.widgets.detail_base import DetailTab, LoadError, Target, check_cancelled, resolve
from tekton_results_tui.tui.widgets.line_view import LineView

STATUS_COLOURS = {g.SUCCESS: "green", g.FAILURE: "red", g.TIMEOUT: "magenta", g.CANCELLED: "yellow",
                  g.UNKNOWN: "cyan", "SKIPPED": "bright_black"}
LIVE_S = 1.0  # a running run's bars grow this often
MIN_WIDTH = 40  # narrower than this the tab still draws, with a 10-column axis


@dataclass
class TimelinePayload:
    spans: tl.RunSpans | None
    message: str | None  # instead of bars (no run stored, not a run)
    insights: RunInsights | None
    deps: set[int]
    running: bool
    drawn: tuple[int, bool, int, Any, list[int]] | None = None  # (width, steps, now, rows, widths) from the worker
    family: set[int] | None = None  # all record ids of the Result (read once for deps; DetailTab.family)


def build_payload(history: Any, target: Target) -> TimelinePayload | LoadError:
    """The spans of the run a node is about (its children read in one pass) and its ETA."""
    got = _read_run(history, target)
    if got is None:
        got = _read_run_generally(history, target)
    if isinstance(got, (LoadError, TimelinePayload)):
        return got
    run, obj, children, deps = got
    check_cancelled()
    kind = kinds.run_kind(run.kind)
    if run.kind == kinds.PIPELINE_RUN.name:
        spans = tl.spans_of_pipelinerun(obj, [c for c in children if c.get("kind") == "TaskRun"])
    elif kind is not None and kind.step_logs:
        spans = tl.spans_of_taskrun(obj)
    else:
        return TimelinePayload(None, f"A {visible(run.kind)} has no timeline (no TaskRuns or steps).", None, deps,
                               False, family=deps)
    insights = run_insights(history, run) if run.status == g.UNKNOWN else None
    return TimelinePayload(spans, None, insights, deps, run.status == g.UNKNOWN and run.end is None, family=deps)


Read = tuple[Any, dict, list[dict], set[int]]  # (the run's RecordRow, its object, its children's objects, deps)


def _read_run(history: Any, target: Target) -> Read | TimelinePayload | LoadError | None:
    """The usual case in one read of the Result (store/timeline_reads.py): its run, and the run's children
    stored in the same Result. None when the node is not that simple (a record not among its Result's,
    several top-level runs, children stored elsewhere): `_read_run_generally` answers those."""
    if history.get_result(id=target.result_id) is None:
        return None
    recs = result_records(target.result_id)
    deps = {r.id for r in recs}
    if target.kind == "record":
        rec = next((r for r in recs if r.id == target.id), None)
        if rec is None:
            return None
        if not kinds.is_run(rec.kind):  # a document: its run
            rec = next((r for r in recs if r.uid == rec.run_uid), None)
    else:
        tops = [r for r in recs if r.top_level and kinds.is_run(r.kind)]
        if len(tops) > 1:  # which one resolve() picks depends on the tree's order
            return None
        rec = tops[0] if tops else None
    if rec is None:
        return TimelinePayload(None, "The run of this node is not stored yet.", None, deps, False, family=deps)
    run = history.get_record(id=rec.id)
    if run is None:
        return None
    child_kinds = {k.name for k in kinds.children_of(run.kind)}
    children = [r.obj for r in recs if r.kind in child_kinds and isinstance(r.obj, dict) and owned_by(r.obj, run)]
    if child_kinds and not children:  # maybe grouped under their owner's uid: side_of looks there
        return None
    return run, rec.obj if isinstance(rec.obj, dict) else {}, children, deps


def _read_run_generally(history: Any, target: Target) -> Read | TimelinePayload | LoadError:
    """What every detail tab reads (resolve), then the run and its children (insights.diff_load.side_of)."""
    res = resolve(history, target)
    if res.result is None and res.record is None:
        return LoadError("This node is no longer in the history (pruned?).")
    run = res.run_record()
    deps = {r.id for r in res.records}
    if run is None:
        return TimelinePayload(None, "The run of this node is not stored yet.", None, deps, False, family=deps)
    check_cancelled()
    side = side_of(history, run)
    return run, side.obj, side.children, deps


# --- drawing -------------------------------------------------------------------------------------


def _colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "white")


_STYLES: dict[tuple[str, bool | None, bool | None], Style] = {}


def _style(colour: str, dim: bool | None = None, reverse: bool | None = None) -> Style:
    """Style(color=colour, dim=dim, reverse=reverse), made once."""
    got = _STYLES.get((colour, dim, reverse))
    if got is None:
        got = _STYLES[colour, dim, reverse] = Style(color=colour, dim=dim, reverse=reverse)
    return got


NOTE = Style(dim=True, italic=True)
ETA_MARK = Style(color="cyan")
MARK = Style(bold=True, color="yellow")
BOLD, DIM = Style(bold=True), Style(dim=True)


def bar_segments(b: tl.Bar, width: int, eta_col: int | None = None) -> list[Segment]:
    """The bar area of one row as segments: queued shade, then the running bar in its status colour,
    exact to 1/8 cell; `eta_col` gets a ┊ where the row leaves it blank."""
    if b.skipped or (b.note and b.running is None and b.queued is None):
        note = set_cell_size(f"skipped: {visible(b.note or '')}" if b.skipped else visible(b.note or ""), width)
        if eta_col is not None and not b.skipped and note[eta_col:eta_col + 1] == " ":
            return [Segment(note[:eta_col], NOTE), Segment("┊", NOTE + ETA_MARK), Segment(note[eta_col + 1:], NOTE)]
        return [Segment(note, NOTE)]
    chars = [" "] * width
    styles: list[Style | None] = [None] * width
    colour = _colour(b.status)
    if b.queued is not None:
        queued = _style(colour, dim=True)
        for c, ch in tl.glyphs(b.queued, width, fill=tl.QUEUED).items():
            chars[c], styles[c] = ch, queued
    if b.running is not None:
        for c, ch, rev in tl.exact_cells(b.running, width):
            chars[c], styles[c] = ch, _style(colour, reverse=rev)
    if eta_col is not None and chars[eta_col] == " ":
        chars[eta_col], styles[eta_col] = "┊", ETA_MARK
    out = []
    run_start = 0
    for i in range(1, width + 1):  # one segment per run of cells in one style (most cells are blank)
        if i == width or styles[i] is not styles[run_start]:
            out.append(Segment("".join(chars[run_start:i]), styles[run_start]))
            run_start = i
    return out


def bar_cells(b: tl.Bar, width: int) -> Text:
    """The bar area of one row as Text (what `bar_segments` draws)."""
    return Text.assemble(*((seg.text, seg.style) for seg in bar_segments(b, width)))


def tick_line(t: tl.Timeline) -> Text:
    """The time axis: `|label` at each tick that fits, an `E` at the expected end."""
    text = Text(" " * t.width, style="dim")
    free = 0
    for col, label in t.ticks:
        mark = "|" + label
        if col < free or col + len(mark) > t.width:
            continue
        text = text[:col] + Text(mark, style="dim") + text[col + len(mark):]
        free = col + len(mark) + 1
    if t.eta_col is not None and text.plain[t.eta_col] == " ":
        text = text[:t.eta_col] + Text("E", style="bold cyan") + text[t.eta_col + 1:]
    return text


def eta_line(eta: Eta, width: int) -> Text:
    """"expected end: about 6m left  ██████▌     45%  p50 11m, 3 runs" in `width` columns."""
    when = "overdue" if eta.overdue else f"about {human_duration(eta.remaining_seconds)} left"
    tail = f" {eta.progress * 100:.0f}%"
    basis = f"  p50 {human_duration(eta.p50_seconds)}, {eta.basis} runs"
    head = f"expected end: {when}  "
    bar_w = max(8, min(40, width - len(head) - len(tail) - len(basis)))
    if len(head) + bar_w + len(tail) + len(basis) > width:
        basis = ""
        bar_w = max(8, min(40, width - len(head) - len(tail)))
    return Text.assemble("expected end: ", (when, "bold"), "  ",
                         (progress_bar(eta.progress, bar_w), Style(color="cyan", bgcolor="grey23")),
                         tail, (basis, "dim"))


def render(payload: TimelinePayload, total_width: int, now: int, steps: bool) -> "TimelineRows":
    """The tab's lines at `total_width` columns (drawn as they are shown)."""
    asked = total_width  # what the rows say they were drawn for (fit_width's figure)
    if payload.spans is None:
        return TimelineRows([Text(payload.message or "", style="italic")], 0, 0, None, asked)
    spans = payload.spans
    eta = payload.insights.eta.run if payload.insights is not None and payload.insights.eta is not None else None
    total_width = max(MIN_WIDTH, total_width)
    t = tl.timeline_at(spans, total_width, now, eta.expected_end if eta is not None else None, steps=steps)
    out: list[Text] = []
    head = Text.assemble((spans.kind, "bold"), " ", (visible(spans.name), "bold"), " ")
    head.append(tl.STATUS_WORDS.get(spans.status, "Running" if spans.status == g.UNKNOWN else spans.status),
                style=_colour(spans.status))
    if spans.start is not None:
        end = spans.end if spans.end is not None else now
        head.append(f"  {human_duration(max(0, end - spans.start))}", style="dim")
    out.append(head)
    if eta is not None:
        out.append(eta_line(eta, total_width))
    if t.message:
        out.append(Text(t.message, style="italic"))
        return TimelineRows(list(out), 0, 0, None, asked)
    lay_label = total_width - t.width - tl.Layout(0, 0).tail_width - 2
    pad = " " * (lay_label + 1)
    out.append(Text(pad) + tick_line(t))
    rows: list[Text | tuple[tl.Bar, str, str]] = list(out)
    shown_finally = False
    for b in sorted(t.bars, key=lambda b: b.is_finally):  # skipped tasks of the main part above `finally`
        if b.is_finally and not shown_finally:
            rows.append(Text("finally", style="bold dim"))
            shown_finally = True
        rows.append((b, "*" if b.critical else " ", ""))
        if steps:
            rows.extend((st, " ", "  ") for st in b.steps)
    legend = Text(pad)
    legend.append("█", style="green")
    legend.append(" running  ")
    legend.append(tl.QUEUED, style="dim")
    legend.append(" queued")
    if any(b.critical for b in t.bars):
        legend.append("  ")
        legend.append("*", style="bold yellow")
        legend.append(" critical path")
    if t.eta_col is not None:
        legend.append("  ")
        legend.append("┊", style="cyan")
        legend.append(" expected end")
    hint = "  x: " + ("hide" if steps else "show") + " steps"
    if spans.kind == "PipelineRun" and any(r.steps for r in spans.rows) and legend.cell_len + len(hint) <= total_width:
        legend.append(hint, style="dim")
    rows.append(legend)
    return TimelineRows(rows, lay_label, t.width, t.eta_col, asked)


class TimelineRows(Sequence[Any]):
    """The timeline's lines, each drawn when first shown: with 200 TaskRuns x 5 steps the view draws the
    few dozen rows on screen, not 1,200. A bar row is drawn as segments (no Text to lay out again);
    `plain` and `widths` are what LineView needs for the rest. `total_width`: the columns drawn for."""

    def __init__(self, rows: list[Text | tuple[tl.Bar, str, str]], label_w: int, width: int,
                 eta_col: int | None, total_width: int = 0) -> None:
        self.rows = rows
        self.label_w, self.width, self.eta_col, self.total_width = label_w, width, eta_col, total_width
        self._drawn: dict[int, list[Segment]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        row = self.rows[index]
        if isinstance(row, Text):
            return row
        got = self._drawn.get(index)
        if got is None:
            b, mark, indent = row
            got = self._drawn[index] = _row(b, self.label_w, self.width, mark, indent, self.eta_col)
        return got

    def plain_at(self, index: int) -> str:
        row = self[index]
        return row.plain if isinstance(row, Text) else "".join(seg.text for seg in row)

    @property
    def plain(self) -> "PlainRows":
        return PlainRows(self)

    def widths(self) -> list[int]:
        """Cells of every line without drawing it: a bar row is its mark, its label padded to the label
        column, a space, the bar area and its (ASCII) tail."""
        out = []
        fixed = 1 + (self.label_w - 1) + 1 + self.width
        for row in self.rows:
            if isinstance(row, Text):
                out.append(row.cell_len)
            else:
                out.append(fixed + len(_tail(row[0])))
        return out


class PlainRows(Sequence[str]):
    def __init__(self, rows: TimelineRows) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._rows.plain_at(index)


def _label(b: tl.Bar, label_w: int, indent: str) -> str:
    """A bar row's label column, exactly `label_w - 1` cells (cut with … when longer)."""
    text = indent + visible(b.label)
    if cell_len(text) > label_w - 1:
        return set_cell_size(text, label_w - 2) + "…"
    return set_cell_size(text, label_w - 1)


def _tail(b: tl.Bar) -> str:
    """Duration and status after the bars."""
    dur = human_duration(b.duration) if b.duration is not None else ""
    return f" {dur:>7} " + tl.status_word(b)


def _row(b: tl.Bar, label_w: int, width: int, mark: str, indent: str = "", eta_col: int | None = None) -> list[Segment]:
    word = tl.status_word(b)
    parts = [Segment(mark, MARK if mark.strip() else None),
             Segment(_label(b, label_w, indent), DIM if indent else (BOLD if b.critical else None)),
             Segment(" "),
             *bar_segments(b, width, None if b.skipped else eta_col),
             Segment(_tail(b)[:-len(word)]),
             Segment(word, _style(_colour("SKIPPED" if b.skipped else b.status)))]
    out: list[Segment] = []
    for seg in parts:  # unstyled neighbours as one segment, as a Text of the same row renders
        if seg.style is None and out and out[-1].style is None:
            out[-1] = Segment(out[-1].text + seg.text)
        elif seg.text:
            out.append(seg)
    return out


class TimelineLines(LineView):
    BINDINGS = [Binding("x", "toggle_steps", "Steps", id="detail.timeline_steps", tooltip="bars per step")]

    def action_toggle_steps(self) -> None:
        view = next((a for a in self.ancestors if isinstance(a, TimelineView)), None)
        if view is not None:
            view.steps = not view.steps
            view.redraw()


class TimelineView(DetailTab):
    TAB = "timeline"
    DEFAULT_CSS = """
    TimelineView > TimelineLines { height: 1fr; }
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.payload: TimelinePayload | None = None
        self.steps = False
        self._box: Box | None = None  # the lines' view as last seen on the UI thread (the worker draws for it)
        self._drawn_width = 0  # what the rows shown were drawn for

    def compose(self) -> ComposeResult:
        yield TimelineLines(id="timeline-lines")

    def reset(self) -> None:
        self.payload = None  # another node: nothing of this one is redrawn by the live tick
        super().reset()

    def on_mount(self) -> None:
        self.set_interval(LIVE_S, self._tick, name="timeline-live")

    @property
    def lines_view(self) -> TimelineLines:
        return self.query_one(TimelineLines)

    def _measure(self) -> Box | None:
        view = self.lines_view if self.is_mounted else None
        if view is None or not view.size.width:
            return self._box
        self._box = Box(view.size.width, view.size.height, view.styles.scrollbar_size_vertical)
        return self._box

    def load(self, target: Target | None, keep_scroll: bool = False) -> None:
        self._measure()  # on the UI thread: the worker lays the rows out for the view as it is now
        super().load(target, keep_scroll)

    def build(self, target: Target) -> Any:
        payload = build_payload(self.history, target)
        if isinstance(payload, TimelinePayload):  # lay it out here too, for the view's width
            steps, now = self.steps, int(self.clock())
            rows = render_fit(payload, self._box, now, steps)
            payload.drawn = (rows.total_width, steps, now, rows, rows.widths())
        return payload

    def apply(self, payload: Any, keep_scroll: bool) -> None:
        view = self.lines_view
        if payload is None:
            self.payload, self.deps = None, set()
            view.set_lines([Text("Nothing selected.", style="italic")], ["Nothing selected."])
            return
        if isinstance(payload, LoadError):
            self.payload, self.deps = None, set()
            view.set_lines([Text(visible(payload.message), style="italic")], [payload.message])
            return
        self.payload = payload
        self.deps = payload.deps
        self.redraw(keep_scroll=keep_scroll)

    def redraw(self, keep_scroll: bool = True) -> None:
        if self.payload is None:
            return
        view = self.lines_view
        box = self._measure()
        drawn, self.payload.drawn = self.payload.drawn, None
        if drawn is not None and drawn[1] == self.steps and drawn[0] == fit_width(box, len(drawn[3])):
            rows, widths = drawn[3], drawn[4]  # laid out in the worker for this view: only swap it in
        else:
            rows = render_fit(self.payload, box, int(self.clock()), self.steps)
            widths = rows.widths()
        self._drawn_width = rows.total_width
        view.set_lines(rows, rows.plain, widths, keep_scroll=keep_scroll)  # type: ignore[arg-type]

    def on_resize(self) -> None:
        if self.payload is not None:
            self.call_after_refresh(self._redraw_if_width_changed)

    def _redraw_if_width_changed(self) -> None:
        view = self.lines_view
        if self.payload is not None and fit_width(self._measure(), view.line_count) != self._drawn_width:
            self.redraw()

    def _tick(self) -> None:
        if self.payload is not None and self.payload.running and self.display:
            self.redraw()

    def focus_content(self) -> None:
        self.lines_view.focus()


@dataclass(frozen=True)
class Box:
    """The lines' view: its columns and lines, scrollbar included, and the vertical scrollbar's width."""

    width: int
    height: int
    scrollbar: int


def fit_width(box: Box | None, lines: int) -> int:
    """The columns a timeline of `lines` lines is drawn for: the view's less the vertical scrollbar that
    so many lines bring, less one. (Drawn for the width before the scrollbar came, a long timeline after
    a short one was two columns too wide: a horizontal scrollbar, or a second layout on the UI thread.)"""
    if box is None:
        return 79
    return max(1, box.width - (box.scrollbar if lines > box.height else 0) - 1)


def render_fit(payload: TimelinePayload, box: Box | None, now: int, steps: bool) -> TimelineRows:
    """`render` for the width `fit_width` gives the lines drawn: guessed from the rows, checked after."""
    spans = payload.spans
    guess = 4 + (len(spans.rows) + 1 + (sum(len(r.steps) for r in spans.rows) if steps else 0) if spans else 0)
    rows = render(payload, fit_width(box, guess), now, steps)
    if rows.total_width != fit_width(box, len(rows)):
        rows = render(payload, fit_width(box, len(rows)), now, steps)
    return rows
