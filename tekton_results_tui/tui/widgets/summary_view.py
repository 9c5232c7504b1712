"""The Summary tab: status, times, params, results, child runs with step states, cluster state.

Built from the stored JSON in the tab's worker as rich `Text`/`Table` objects (never
markup strings), so `build [linux]`, `step [/x]` and unicode render as they are.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult

from tekton_results_tui import kinds
from tekton_results_tui.store.grouping import parse_time
from tekton_results_tui.store.history import History, RecordRow
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.formatting import fmt_bytes, fmt_duration, fmt_time, status_icon, status_style, status_word
from tekton_results_tui.tui.widgets.fit_table import FitColumn, FitTable
from tekton_results_tui.tui.widgets.insight_rows import insight_rows
from tekton_results_tui.tui.widgets.line_view import LineView, SearchableLines
from tekton_results_tui.tui.widgets.detail_base import (DetailTab, LoadError, Resolved, Target, check_cancelled,
                                                         resolve)


def _t(value: Any, style: str = "") -> Text:
    """Any value from the cluster as one-line Text, controls shown as visible escapes."""
    if value is None:
        return Text("-", style="dim")
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Text(visible(value), style=style)


def _succeeded(obj: dict) -> dict:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Succeeded":
            return c
    return {}


def _section(title: str) -> Text:
    return Text.assemble("\n", (title, "bold underline"))


def _kv_table(wrap: bool = True) -> Table:
    """Name/value lines. Values wrap by words (`wrap`) or stay on one line; a word wider than the pane
    is cut with an ellipsis — never wrapped letter by letter."""
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold", no_wrap=True, max_width=28, overflow="ellipsis")
    t.add_column(overflow="ellipsis", no_wrap=not wrap, ratio=1)
    return t


def cluster_state(rec: RecordRow, imported_at: int | None = None) -> Text:
    """In cluster / imported / gone since <time>, and whether the stored copy is the final state.

    `imported_at` (History.imported_at): an import stored the run and no watcher has written it
    since, so it was never seen in a cluster: that says more than "gone" (a watcher's relist marks
    such runs gone from a cluster they were never in) or "in cluster" (the import's default).
    """
    if imported_at is not None:
        where = Text(f"imported {fmt_time(imported_at)}, not seen in a cluster", style="yellow")
    elif not rec.in_cluster:
        where = Text(f"gone from the cluster since {fmt_time(rec.deleted_at)}" if rec.deleted_at
                     else "gone from the cluster", style="yellow")
    else:
        where = Text("in cluster", style="green")
    final = Text("stored final", style="green") if rec.final else Text(
        "stored (not final: last state seen)" if not rec.in_cluster else "stored (still changing)", style="dim")
    return Text.assemble(where, " · ", final)


def step_state(step: dict, now_style: bool = False) -> tuple[Text, Text, str]:
    """(state words, exit code, duration) of one `status.steps` entry."""
    term = step.get("terminated")
    if term:
        code = term.get("exitCode")
        ok = code == 0
        reason = term.get("reason") or ("Completed" if ok else "Error")
        start, end = parse_time(term.get("startedAt")), parse_time(term.get("finishedAt"))
        dur = fmt_duration(end - start) if start is not None and end is not None else "-"
        return (Text(visible(str(reason)), style="green" if ok else "red"),
                Text(str(code) if code is not None else "-", style="green" if ok else "bold red"), dur)
    if step.get("running"):
        return Text("running", style="yellow"), Text("-", style="dim"), "-"
    waiting = step.get("waiting")
    if waiting:
        return Text(f"waiting: {visible(str(waiting.get('reason') or ''))}".rstrip(": "), style="dim"), Text("-", style="dim"), "-"
    return Text("not started", style="dim"), Text("-", style="dim"), "-"


def _params(obj: dict) -> Table | None:
    params = (obj.get("spec") or {}).get("params") or []
    if not params:
        return None
    t = _kv_table(wrap=False)
    for p in params:
        t.add_row(_t(p.get("name")), _t(p.get("value")))
    return t


def _results(obj: dict) -> Table | None:
    st = obj.get("status") or {}
    results = st.get("results") or st.get("pipelineResults") or st.get("taskResults") or []
    if not results:
        return None
    t = _kv_table(wrap=False)
    for r in results:
        t.add_row(_t(r.get("name")), _t(r.get("value")))
    return t


def _steps_table(obj: dict) -> FitTable | None:
    steps = (obj.get("status") or {}).get("steps") or []
    if not steps:
        return None
    t = FitTable([FitColumn("STEP", min_width=8, shrink=2), FitColumn("STATE", min_width=8, shrink=1),
                  FitColumn("EXIT", right=True), FitColumn("DURATION", min_width=8, right=True)])
    for s in steps:
        state, code, dur = step_state(s)
        t.add_row(_t(s.get("name")), state, code, dur)
    return t


def _child_runs(res: Resolved, parent: str) -> list[RecordRow]:
    """The Result's runs of kinds a `parent` run owns, in the registry's order (TaskRuns, CustomRuns)."""
    child_kinds = {k.name: k.rank for k in kinds.children_of(parent)}
    children = [r for r in res.records if r.kind in child_kinds]
    return sorted(children, key=lambda r: child_kinds[r.kind])  # stable: store order within a kind


def children_title(children: list[RecordRow]) -> str:
    """"TaskRuns", or "TaskRuns and CustomRuns" when there are several kinds."""
    names = [k.name + "s" for k in kinds.RUN_KINDS if any(r.kind == k.name for r in children)]
    return " and ".join(names)


def _children_table(res: Resolved, history: History, parent: str) -> tuple[str, FitTable] | None:
    trs = _child_runs(res, parent)
    if not trs:
        return None
    title = children_title(trs)
    mixed = len({r.kind for r in trs}) > 1
    run_col = "RUN" if mixed else trs[0].kind.upper()
    # One line per child run at every width: the run name gives way first, then the steps, then the
    # task (each cut with an ellipsis) — never wrapped letter by letter; wide panes show everything.
    t = FitTable([FitColumn("", min_width=1), FitColumn("TASK", min_width=10, max_width=28, shrink=1),
                  FitColumn(run_col, min_width=10, shrink=3), FitColumn("DURATION", min_width=8, right=True),
                  FitColumn("STEPS (exit code)", min_width=16, shrink=2)], gap=1)
    usual = kinds.children_of(parent)[0].name
    for tr in trs:
        check_cancelled()
        obj = history.record_object(tr.id) or {}
        parts: list[Text] = []
        for s in (obj.get("status") or {}).get("steps") or []:
            term = s.get("terminated")
            if term:
                code = term.get("exitCode")
                parts.append(Text.assemble(_t(s.get("name")), " ",
                                           (("✔" if code == 0 else "✖") + str(code), "green" if code == 0 else "red")))
            else:
                parts.append(Text.assemble(_t(s.get("name")), " ",
                                           ("running", "yellow") if s.get("running") else ("not started", "dim")))
        steps = Text(", ").join(parts) if parts else Text("-", style="dim")
        task = _t(tr.pipeline_task or tr.task)
        kind = kinds.run_kind(tr.kind)
        if kind is not None and tr.kind != usual:  # a CustomRun among TaskRuns: say so
            task.append(" " + kind.tag, style="magenta")
        t.add_row(status_icon(tr.status, tr.in_cluster, started=tr.start is not None), task, _t(tr.run_name),
                  fmt_duration(tr.duration), steps)
    return title, t


def build_summary(history: History, target: Target) -> RenderableType | LoadError:
    res = resolve(history, target)
    result = res.result
    if result is None and res.record is None:
        return LoadError("This node is no longer in the history (pruned?).")
    parts: list[RenderableType] = []
    rec = res.record
    run = res.run_record()
    if target.kind == "result" and result is not None:
        head = Text.assemble(status_icon(result.status, result.in_cluster, started=result.start is not None), " ",
                             ("Result ", "bold"), visible(result.name), no_wrap=True, overflow="ellipsis")
        parts.append(head)
        if run is None:
            parts.append(Text("The top-level run of this Result is not stored yet (its children arrived first).",
                              style="italic"))
    if rec is not None and not kinds.is_run(rec.kind):  # a document about a run: its Log, its EventList
        parts.append(Text.assemble((visible(rec.kind), "bold"), " of ", visible(rec.run_name)))
        if rec.kind == kinds.LOG.name:
            t = _kv_table()
            for s in history.step_logs(rec.id):
                state = s.state if s.state != "stored" else f"{fmt_bytes(s.size)}" + (
                    f" (truncated at {fmt_bytes(s.size)})" if s.truncated else "")
                t.add_row(_t(s.step), _t(state))
            parts.append(t)
    if run is not None:
        check_cancelled()
        obj = history.record_object(run.id) or {}
        cond = _succeeded(obj)
        parts.append(Text.assemble(status_icon(run.status, run.in_cluster, started=run.start is not None), " ",
                                   (run.kind, "bold"), " ", (visible(run.run_name), "bold"),
                                   no_wrap=True, overflow="ellipsis"))
        info = _kv_table()
        started = run.start is not None
        status_text = Text(status_word(run.status, run.in_cluster, started),
                           style=status_style(run.status, run.in_cluster, started))
        if run.reason and run.reason.lower() not in status_text.plain.lower():
            status_text.append(f" ({visible(run.reason)})")
        info.add_row("Status", status_text)
        if cond.get("message"):
            info.add_row("Message", Text(visible(str(cond.get("message")), keep_newlines=True)))
        info.add_row("Namespace", _t(run.parent))
        if run.pipeline:
            info.add_row("Pipeline", _t(run.pipeline))
        run_kind = kinds.run_kind(run.kind)
        if run_kind is not None and run_kind.parent is not None:  # a child run: what it runs
            info.add_row("Task", _t(run.task))
            if run.pipeline_task:
                info.add_row("Pipeline task", _t(run.pipeline_task))
            pod = (obj.get("status") or {}).get("podName")
            if pod:
                info.add_row("Pod", _t(pod))
        info.add_row("Started", fmt_time(run.start))
        info.add_row("Finished", fmt_time(run.end))
        info.add_row("Duration", fmt_duration(run.duration))
        info.add_row("Cluster", cluster_state(run, history.imported_at(run.id)))
        info.add_row("Record", _t(run.name))
        info.add_row("UID", _t(run.uid))
        for name, value in insight_rows(history, run):  # flaky, expected end
            info.add_row(name, value)
        parts.append(info)
        for title, table in (("Params", _params(obj)), ("Results", _results(obj))):
            if table is not None:
                parts += [_section(title), table]
        if run_kind is not None and run_kind.step_logs:
            steps = _steps_table(obj)
            if steps is not None:
                parts += [_section("Steps"), steps]
    parents = [k.name for k in kinds.RUN_KINDS if kinds.children_of(k.name)]
    if result is not None and (run is None or run.kind in parents):
        children = _children_table(res, history, run.kind if run is not None else parents[0])
        if children is not None:
            title, table = children
            parts += [_section(title), table]
    return Group(*parts)


MARGIN = 1  # cells left blank on each side of the Summary's lines


Geometry = tuple[int, int, int]  # a view's (width without a scrollbar, height, scrollbar width)
Rendered = tuple[list[list[Segment]], list[str], list[int]]  # lines as segments, their text, their cells


def render_summary(renderable: RenderableType, geometry: Geometry) -> Rendered:
    """The Summary's lines for a view of `geometry`, with a blank cell of margin on each side: at the
    view's whole width when they fit its height, else beside the scrollbar they will need. Safe on any
    thread: a Console of its own, which only lays out (nothing is written to a terminal)."""
    width, height, bar = geometry
    lines = _lines_at(renderable, width)
    if len(lines) > height and bar:
        lines = _lines_at(renderable, width - bar)
    margin = Segment(" " * MARGIN)
    return ([[margin, *line] for line in lines], [" " * MARGIN + "".join(seg.text for seg in line) for line in lines],
            [MARGIN + Segment.get_line_length(line) for line in lines])


def _lines_at(renderable: RenderableType, width: int) -> list[list[Segment]]:
    inner = max(10, width - 2 * MARGIN)
    console = Console(width=inner, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      markup=False, emoji=False, highlight=False, legacy_windows=False)
    return console.render_lines(renderable, console.options.update_width(inner), pad=False, new_lines=False)


NOTHING = Text("Nothing selected.", style="italic")


class SummaryLines(LineView):
    """The Summary drawn as lines made in the tab's worker. A `Static` of tables re-measured its height at
    every layout of the screen (rendering every table again: ~a fifth of the UI thread's time with a live
    cluster at 120k records) and asked for a layout on every reload; these lines are made off the UI
    thread for the view's size and shown without a layout (made again here only when the size changes)."""

    DEFAULT_CSS = """
    SummaryLines { overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.content: RenderableType = NOTHING  # what is shown (tests print it at another width)
        self.rendered_for: Geometry | None = None

    def geometry(self) -> Geometry | None:
        """What the lines are made for; None before the first layout."""
        region = self.content_region
        if not region.width:
            return None
        return region.width, region.height, self.styles.scrollbar_size_vertical

    def show(self, renderable: RenderableType, rendered: tuple[Geometry, Rendered] | None = None,
             keep_scroll: bool = False) -> None:
        """Show `renderable`, using its lines made for `rendered[0]` when that is this view's geometry."""
        self.content = renderable
        geometry = self.geometry() or (80, 24, 2)
        if rendered is None or rendered[0] != geometry:
            rendered = (geometry, render_summary(renderable, geometry))
        self.rendered_for = geometry
        lines, plain, widths = rendered[1]
        self.set_lines(list(lines), plain, widths, keep_scroll=keep_scroll)

    def on_resize(self) -> None:
        super().on_resize()
        geometry = self.geometry()
        if geometry is not None and geometry != self.rendered_for:
            self.show(self.content, keep_scroll=True)


class SummaryView(DetailTab):
    TAB = "summary"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lines_view = SummaryLines(id="summary-scroll")
        self._geometry: Geometry | None = None  # the view's when the load started (read by the worker)

    def compose(self) -> ComposeResult:
        yield SearchableLines(self.lines_view)

    def load(self, target: Target | None, keep_scroll: bool = False) -> None:
        self._geometry = self.lines_view.geometry() if self.lines_view.is_mounted else None
        super().load(target, keep_scroll)

    def build(self, target: Target) -> Any:
        res = resolve(self.history, target)
        deps = {r.id for r in res.records}
        if res.record is not None:
            deps.add(res.record.id)
        renderable = build_summary(self.history, target)
        if isinstance(renderable, LoadError):
            return deps, renderable, None
        check_cancelled()
        geometry = self._geometry
        return deps, renderable, (geometry, render_summary(renderable, geometry)) if geometry else None

    def apply(self, payload: Any, keep_scroll: bool) -> None:
        if payload is None:
            self.deps = set()
            self.lines_view.show(NOTHING)
            return
        if isinstance(payload, LoadError):  # the build failed (DetailTab._load_thread says why in words)
            self.deps = set()
            self.lines_view.show(Text(visible(payload.message, keep_newlines=True), style="italic"))
            return
        deps, renderable, rendered = payload
        self.deps = deps
        if isinstance(renderable, LoadError):
            self.lines_view.show(Text(visible(renderable.message, keep_newlines=True), style="italic"))
        else:
            self.lines_view.show(renderable, rendered, keep_scroll=keep_scroll)

    def focus_content(self) -> None:
        self.lines_view.focus()
