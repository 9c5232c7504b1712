"""The Diff screen: what changed between two runs (A, the older or the one that passed, and B).

On top, the structured summary (params, results, tasks with their statuses and duration deltas,
images and digests, labels and annotations, the resolved spec); below, the two runs' YAML diff,
unified or side by side (`v`), Pygments-highlighted once and drawn a visible line at a time
(LineView). `n`/`N` jump between changes. Everything is read and prepared in a thread worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from tekton_results_tui.insights import diff as d
from tekton_results_tui.insights.yaml_diff import YamlDiff, yaml_diff
from tekton_results_tui.insights.diff_load import side_of
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.store.history import History, RecordRow
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.background import read_then
from tekton_results_tui.tui.formatting import status_style, status_word
from tekton_results_tui.tui.screens.insight_screen import InsightScreen
from tekton_results_tui.tui.widgets.line_view import LineView
from tekton_results_tui.tui.widgets.yaml_view import highlight_yaml

if TYPE_CHECKING:
    from tekton_results_tui.tui.app import ResultsApp

VALUE_WIDTH = 60  # a changed value is cut here in the summary (the YAML below has it whole)
MARKS = {d.ADDED: ("+", "green"), d.REMOVED: ("-", "red"), d.CHANGED: ("~", "yellow")}
ADD_BG, DEL_BG, HUNK = Style(bgcolor="#12361b"), Style(bgcolor="#3d1418"), Style(color="cyan", bold=True)
TASK_STATUS = {d.SKIPPED: ("Skipped", "dim"), d.NOT_RUN: ("Not run", "dim")}


@dataclass
class DiffPayload:
    a: RecordRow
    b: RecordRow
    diff: d.RunDiff
    yaml: YamlDiff
    a_segments: list[list[Segment]]  # the highlighted lines of A's YAML
    b_segments: list[list[Segment]]


def build_diff(history: History, a: RecordRow, b: RecordRow) -> DiffPayload:
    """Both runs read (two reads each), compared, and their YAML highlighted once (runs in a worker)."""
    sa, sb = side_of(history, a), side_of(history, b)
    result = d.diff_runs(sa, sb)
    yd = yaml_diff(sa.obj, sb.obj, f"A {a.run_name}", f"B {b.run_name}")
    a_seg = highlight_yaml("".join(ln + "\n" for ln in yd.a_lines))[0] if yd.groups else []
    b_seg = highlight_yaml("".join(ln + "\n" for ln in yd.b_lines))[0] if yd.groups else []
    return DiffPayload(a, b, result, yd, a_seg, b_seg)


# --- the summary -------------------------------------------------------------------------------------


def _status(s: str | None) -> Text:
    if s is None:
        return Text("—", style="dim")
    if s in TASK_STATUS:
        word, style = TASK_STATUS[s]
        return Text(word, style=style)
    return Text(status_word(s), style=status_style(s))


def _secs(v: int | None) -> str:
    return "" if v is None else human_duration(v)


def _delta(a: int | None, b: int | None) -> Text:
    if a is None or b is None:
        return Text("")
    diff = b - a
    if diff == 0:
        return Text("±0s", style="dim")
    pct = f" ({diff / a * 100:+.0f}%)" if a else ""
    return Text(f"{'+' if diff > 0 else '-'}{human_duration(abs(diff))}{pct}", style="red" if diff > 0 else "green")


def _value(v: Any) -> str:
    text = v if isinstance(v, str) and "\n" not in v else json.dumps(v, ensure_ascii=False, sort_keys=True)
    text = visible(text)
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def _head(tag: str, run: RecordRow, status: str, secs: int | None) -> Text:
    t = Text.assemble((tag, "bold reverse"), " ", (f"{visible(run.parent)}/{visible(run.run_name)}", "bold"), "  ")
    t.append_text(_status(status))
    if secs is not None:
        t.append(f"  {human_duration(secs)}", style="dim")
    if not run.in_cluster:
        t.append("  gone from the cluster", style="dim italic")
    return t


def summary(p: DiffPayload) -> RenderableType:
    r = p.diff
    parts: list[RenderableType] = [_head("A", p.a, r.a_status, r.a_seconds), _head("B", p.b, r.b_status, r.b_seconds)]
    n = len(r.changes)
    line = Text(f"{n} change{'s' if n != 1 else ''}", style="bold")
    delta = _delta(r.a_seconds, r.b_seconds)
    if delta.plain:
        line.append("; duration ")
        line.append_text(delta)
    parts.append(line)
    sections = r.by_section()
    for section in d.SECTIONS:
        if section == d.TASKS and r.tasks:
            parts += [Text(""), Text(d.SECTION_TITLES[section], style="bold underline"), _task_table(r)]
            continue
        if section not in sections:
            continue
        parts += [Text(""), Text(d.SECTION_TITLES[section], style="bold underline")]
        for c in sections[section]:
            mark, style = MARKS.get(c.kind, ("~", "yellow"))
            t = Text.assemble((f" {mark} ", style), (visible(c.path), "bold"), ": ", no_wrap=True, overflow="ellipsis")
            if c.kind == d.ADDED:
                t.append(_value(c.b), style="green")
            elif c.kind == d.REMOVED:
                t.append(_value(c.a), style="red")
            else:
                t.append(_value(c.a), style="red")
                t.append(" → ")
                t.append(_value(c.b), style="green")
            parts.append(t)
    if not r.changes and not any(t.a_status != t.b_status for t in r.tasks):
        parts.append(Text("The runs do not differ (apart from their names, times and the system's labels).",
                          style="italic"))
    return Group(*parts)


def _task_table(r: d.RunDiff) -> Table:
    t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for col, right in (("TASK", False), ("A", False), ("B", False), ("A-TIME", True), ("B-TIME", True),
                       ("DELTA", True)):
        t.add_column(col, justify="right" if right else "left", no_wrap=True, overflow="ellipsis")
    steps = len(r.tasks) == 1  # a TaskRun diff: its steps are the detail there is
    for task in r.tasks:
        differs = task.a_status != task.b_status
        t.add_row(Text(visible(task.task), style="bold" if differs else ""), _status(task.a_status),
                  _status(task.b_status), _secs(task.a_seconds), _secs(task.b_seconds),
                  _delta(task.a_seconds, task.b_seconds))
        if steps:
            for s in task.steps:
                t.add_row(Text("  " + visible(s.step), style="dim"), _status(s.a_status), _status(s.b_status),
                          _secs(s.a_seconds), _secs(s.b_seconds), _delta(s.a_seconds, s.b_seconds))
    return t


# --- the YAML diff -----------------------------------------------------------------------------------


def _line(prefix: list[Segment], segs: list[Segment], bg: Style | None) -> list[Segment]:
    body = [Segment(visible(s.text), s.style) for s in segs]
    out = prefix + body
    return [Segment(s.text, (s.style or Style()) + bg) for s in out] if bg is not None else out


def unified_lines(p: DiffPayload) -> tuple[list[list[Segment]], list[str], list[int]]:
    """The unified diff, highlighted: (lines, plain lines, indexes of the hunk headers)."""
    yd = p.yaml
    lines: list[list[Segment]] = []
    plain: list[str] = []
    hunks: list[int] = []
    for group in yd.groups:
        first, last = group[0], group[-1]
        hunks.append(len(lines))
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        lines.append([Segment(header, HUNK)])
        plain.append(header)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for i in range(i1, i2):
                    lines.append(_line([Segment("  ")], p.a_segments[i], None))
                    plain.append("  " + visible(yd.a_lines[i]))
                continue
            if tag in ("replace", "delete"):
                for i in range(i1, i2):
                    lines.append(_line([Segment("- ", Style(color="red", bold=True))], p.a_segments[i], DEL_BG))
                    plain.append("- " + visible(yd.a_lines[i]))
            if tag in ("replace", "insert"):
                for j in range(j1, j2):
                    lines.append(_line([Segment("+ ", Style(color="green", bold=True))], p.b_segments[j], ADD_BG))
                    plain.append("+ " + visible(yd.b_lines[j]))
    return lines, plain, hunks


def _crop(segs: list[Segment], width: int) -> list[Segment]:
    out = list(Segment.adjust_line_length(segs, width))
    return out


def side_lines(p: DiffPayload, width: int) -> tuple[list[list[Segment]], list[str], list[int]]:
    """A beside B in `width` columns: numbered, each half cropped to its width."""
    yd = p.yaml
    rows = yd.side_by_side()
    starts = set(yd.side_hunks())
    half = max(12, (width - 3) // 2)
    num_w = max(3, len(str(max(len(yd.a_lines), len(yd.b_lines)))))
    text_w = max(4, half - num_w - 1)
    lines: list[list[Segment]] = []
    plain: list[str] = []
    hunks: list[int] = []
    for k, row in enumerate(rows):
        if k in starts:
            hunks.append(len(lines))
            rule = "┄" * (half * 2 + 3)
            lines.append([Segment(rule, Style(color="cyan", dim=True))])
            plain.append(rule)
        a_bg = DEL_BG if row.tag in ("replace", "delete") else None
        b_bg = ADD_BG if row.tag in ("replace", "insert") else None
        left = _half(row.a_no, p.a_segments[row.a_no - 1] if row.a_no else [], num_w, text_w, a_bg)
        right = _half(row.b_no, p.b_segments[row.b_no - 1] if row.b_no else [], num_w, text_w, b_bg)
        sep = Segment(" │ ", Style(color="bright_black"))
        lines.append(left + [sep] + right)
        a_text = visible(row.a_text or "")[:text_w].ljust(text_w)
        b_text = visible(row.b_text or "")[:text_w]
        plain.append(f"{row.a_no or '':>{num_w}} {a_text} │ {row.b_no or '':>{num_w}} {b_text}")
    return lines, plain, hunks


def _half(no: int | None, segs: list[Segment], num_w: int, text_w: int, bg: Style | None) -> list[Segment]:
    number = Segment(f"{no or '':>{num_w}} ", Style(color="bright_black"))
    body = _crop([Segment(visible(s.text), s.style) for s in segs], text_w)
    out = [number, *body]
    return [Segment(s.text, (s.style or Style()) + bg) for s in out] if bg is not None else out


class DiffLines(LineView):
    """The YAML diff; `n`/`N` jump between changes (hunks), `v` switches unified / side by side."""

    BINDINGS = [
        Binding("n", "next_change", "Next change", id="diff.next"),
        Binding("N", "prev_change", "Prev change", id="diff.prev"),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.hunks: list[int] = []
        self.hunk_index = -1

    def action_next_change(self) -> None:
        self._jump(1)

    def action_prev_change(self) -> None:
        self._jump(-1)

    def _jump(self, step: int) -> None:
        if not self.hunks:
            return
        self.hunk_index = (self.hunk_index + step) % len(self.hunks) if self.hunk_index >= 0 else \
            (0 if step > 0 else len(self.hunks) - 1)
        self.scroll_to(y=self.hunks[self.hunk_index], animate=False)
        screen = self.screen
        if isinstance(screen, DiffScreen):
            screen.show_position()


class DiffScreen(InsightScreen):
    """Run A against run B: a summary on top, the YAML diff below."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="diff.close"),
        Binding("v", "toggle_view", "Side by side", id="diff.view", tooltip="unified / side by side"),
        Binding("tab", "switch_pane", "Summary/YAML", id="diff.pane", show=False),
        Binding("question_mark", "app.help", "Help", id="diff.help", key_display="?"),
    ]

    DEFAULT_CSS = """
    DiffScreen { layout: vertical; }
    DiffScreen #diff-summary { height: auto; max-height: 45%; padding: 0 1; border-bottom: solid $primary 40%; }
    DiffScreen #diff-summary:focus { border-bottom: solid $primary; }
    DiffScreen #diff-status { height: 1; padding: 0 1; background: $boost; }
    DiffScreen DiffLines { height: 1fr; }
    """

    def __init__(self, a: RecordRow, b: RecordRow) -> None:
        super().__init__()
        self.a, self.b = a, b
        self.payload: DiffPayload | None = None
        self.side = False
        self.error: str | None = None
        self._drawn_width = 0

    @property
    def results_app(self) -> "ResultsApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="diff-summary"):
            yield Static(Text(f"comparing {visible(self.a.run_name)} with {visible(self.b.run_name)}…",
                              style="italic"), id="diff-summary-body")
        yield Static(id="diff-status")
        yield DiffLines(id="diff-lines")
        yield Footer()

    def on_mount(self) -> None:
        app = self.results_app
        a, b = self.a, self.b
        read_then(self, app.history, lambda: build_diff(app.history, a, b), self._arrived, group="diff",
                  exclusive=True, name=f"diff {a.run_name} {b.run_name}")
        self.query_one(DiffLines).focus()

    def _arrived(self, payload: DiffPayload | None, error: BaseException | None) -> None:
        body = self.query_one("#diff-summary-body", Static)
        if error is not None or payload is None:
            msg = str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "no answer"
            self.error = visible(msg)
            body.update(Text(f"could not compare the runs: {self.error}", style="red"))
            return
        self.payload = payload
        body.update(summary(payload))
        self.redraw()

    @property
    def lines(self) -> DiffLines:
        return self.query_one(DiffLines)

    def redraw(self) -> None:
        p = self.payload
        if p is None:
            return
        view = self.lines
        if not p.yaml.groups:
            view.set_lines([Text("The two runs' YAML is the same (apart from what the system writes).",
                                 style="italic")], ["same"])
            view.hunks = []
            self.show_position()
            return
        width = view.scrollable_content_region.width or view.size.width or 80
        self._drawn_width = width
        lines, plain, hunks = side_lines(p, width - 1) if self.side else unified_lines(p)
        view.set_lines(lines, plain)  # type: ignore[arg-type]
        view.hunks = hunks
        view.hunk_index = -1
        self.show_position()

    def show_position(self) -> None:
        view = self.lines
        n = len(view.hunks)
        mode = "side by side" if self.side else "unified"
        where = f"change {view.hunk_index + 1} of {n}" if view.hunk_index >= 0 else f"{n} change{'s' if n != 1 else ''}"
        self.query_one("#diff-status", Static).update(Text.assemble(
            ("YAML ", "bold"), (mode, "cyan"), f" · {where} · ", ("n", "bold"), "/", ("N", "bold"),
            " next/previous · ", ("v", "bold"), " unified/side by side"))

    def on_resize(self) -> None:
        if self.side:
            self.call_after_refresh(self._redraw_if_width_changed)

    def _redraw_if_width_changed(self) -> None:
        view = self.lines
        if (view.scrollable_content_region.width or 80) != self._drawn_width:
            self.redraw()

    def action_toggle_view(self) -> None:
        self.side = not self.side
        self.redraw()

    def action_switch_pane(self) -> None:
        summary_box = self.query_one("#diff-summary", VerticalScroll)
        if self.lines.has_focus:
            summary_box.focus()
        else:
            self.lines.focus()

    def action_close(self) -> None:
        self.app.pop_screen()
