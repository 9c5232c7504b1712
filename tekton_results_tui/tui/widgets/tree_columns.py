"""The columns of a Results tree line, and which of them the tree's width can hold.

Status, name and age are always shown; then, as width allows and in this order: pipeline, duration,
namespace, cluster (only when the history holds several — knowing which cluster a run is from
matters more than its start time there), start time, reason. A line never needs a horizontal scroll:
the name column takes what is left (cut with an ellipsis when even that is too short; the Summary
shows the whole name); what whole names leave over widens the pipeline column to the longest
pipeline loaded (up to PIPELINE_MAX). Labels are `rich.text.Text` built from plain strings — never markup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from tekton_results_tui import kinds
from tekton_results_tui.store.history import RecordRow, ResultRow
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.formatting import fmt_age, fmt_duration, status_icon

NAME_W, NAME_MIN, NAME_MAX = 30, 12, 48
NAME_FLOOR = 20  # the name keeps at least this much (or its whole width) before optional columns are added
AGE_W = 4
GONE_W = 5  # " gone"
LEAD_W = 4 + 2 + 2  # the tree's expander and guide, the mark, the status icon and a space
TASK_W, TASK_MIN, RUN_W = 18, 10, 34
RECORD_LEAD_W = 6 + 2  # deeper guides, icon
PIPELINE_MAX = 32  # the pipeline column grows to this when a line has the room (pipeline names are often long)

# optional column -> (width, right-aligned); OPTIONAL is the order they are added in as width allows
WIDTHS = {"pipeline": 14, "duration": 7, "namespace": 9, "cluster": 10, "start": 11, "reason": 14}
OPTIONAL = ("pipeline", "duration", "namespace", "cluster", "start", "reason")
# the order they are drawn in, left to right
DRAWN = ("cluster", "name", "namespace", "pipeline", "reason", "duration", "start", "age")
DEFAULT_COLUMNS = OPTIONAL


@dataclass(frozen=True)
class Layout:
    """What a Result line shows at one width: the optional columns that fit and the name's width."""

    columns: tuple[str, ...]
    name_w: int
    pipeline_w: int = WIDTHS["pipeline"]

    def col_w(self, c: str) -> int:
        return self.pipeline_w if c == "pipeline" else WIDTHS[c]

    @property
    def width(self) -> int:
        return LEAD_W + self.name_w + sum(self.col_w(c) + 1 for c in self.columns) + (1 + AGE_W) + GONE_W


def pipeline_want(widest_pipeline: int) -> int:
    return max(WIDTHS["pipeline"], min(PIPELINE_MAX, widest_pipeline))


def layout_for(width: int, widest_name: int, wanted: tuple[str, ...] = DEFAULT_COLUMNS,
               show_cluster: bool = False, widest_pipeline: int = 0) -> Layout:
    """The columns that fit in `width` cells for names up to `widest_name` cells wide (and pipelines up to
    `widest_pipeline`: the pipeline column takes what whole names leave, up to that)."""
    name_want = max(NAME_MIN, min(NAME_MAX, widest_name))
    base = LEAD_W + (1 + AGE_W) + GONE_W
    floor = min(name_want, NAME_FLOOR)
    chosen: list[str] = []
    used = base + floor
    for col in OPTIONAL:
        if col not in wanted or (col == "cluster" and not show_cluster):
            continue
        if used + WIDTHS[col] + 1 <= width:
            chosen.append(col)
            used += WIDTHS[col] + 1
    name_w = max(NAME_MIN, min(name_want, width - (used - floor)))
    layout = Layout(tuple(c for c in DRAWN if c in chosen), name_w)
    spare = width - layout.width
    if "pipeline" in chosen and spare > 0 and widest_pipeline > layout.pipeline_w:
        layout = Layout(layout.columns, name_w, min(pipeline_want(widest_pipeline), layout.pipeline_w + spare))
    return layout


def natural_width(widest_name: int, wanted: tuple[str, ...] = DEFAULT_COLUMNS, show_cluster: bool = False,
                  widest_pipeline: int = 0) -> int:
    """The width a line wants to show every wanted column, whole names and pipelines (the split follows it)."""
    cols = tuple(c for c in wanted if c in WIDTHS and (c != "cluster" or show_cluster))
    return Layout(cols, max(NAME_MIN, min(NAME_MAX, widest_name)), pipeline_want(widest_pipeline)).width


def col(text: str, width: int, right: bool = False) -> str:
    """`text` fitted to `width` cells: cut with an ellipsis, padded with spaces (unicode-aware)."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def result_name(row: ResultRow) -> str:
    """The name shown for a Result: its top-level run's name, controls written as visible escapes."""
    return visible(row.display_name or row.name.rsplit("/", 1)[-1])


def fmt_start(epoch: int | None) -> str:
    """A start time in 11 cells (UTC, as fmt_time): 05-28 10:20."""
    return "-" if epoch is None else time.strftime("%m-%d %H:%M", time.gmtime(int(epoch)))


MARK = "▶ "


def result_label(row: ResultRow, now: float, marked: bool = False, show_cluster: bool = False,
                 name_w: int = NAME_W, layout: Layout | None = None) -> Text:
    """The Result line: status icon and the columns of `layout` (by default: namespace, pipeline,
    duration, and the cluster when `show_cluster`), "gone" when out of the cluster."""
    if layout is None:
        layout = Layout(tuple(c for c in DRAWN if c in ("namespace", "pipeline", "duration")
                              or (c == "cluster" and show_cluster)), name_w)
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(MARK if marked else "  ", style="bold magenta")
    t.append_text(status_icon(row.status, row.in_cluster, started=row.start is not None))
    if "cluster" in layout.columns:
        t.append(" " + col(visible(row.cluster or "-"), WIDTHS["cluster"]), style="magenta")
    t.append(" " + col(result_name(row), layout.name_w), style="bold" if row.in_cluster else "")
    for c in layout.columns:
        w = layout.col_w(c)
        if c == "namespace":
            t.append(" " + col(visible(row.parent), w), style="cyan")
        elif c == "pipeline":
            t.append(" " + col(visible(row.pipeline or ""), w), style="blue")
        elif c == "reason":
            t.append(" " + col(visible(row.reason or ""), w), style="dim")
        elif c == "duration":
            dur = row.duration
            if dur is None and row.start is not None and row.end is None:
                dur = int(now - row.start)  # running: time so far
            t.append(" " + col(fmt_duration(dur), w, right=True))
        elif c == "start":
            t.append(" " + col(fmt_start(row.start), w), style="dim")
    t.append(" " + col(fmt_age(row.sort_time, now), AGE_W, right=True), style="dim")
    if not row.in_cluster:
        t.append(" gone", style="dim italic")
    return t


# Child lines of a PipelineRun name its task; kinds other than the usual child (TaskRun) carry their tag.
_USUAL_CHILD = {parent: kinds.children_of(parent)[0].name
                for parent in {k.parent for k in kinds.RUN_KINDS if k.parent}}
_DOCUMENT_ICONS = {kinds.LOG.name: "≡ "}  # other documents (events): "⚑ "
_DOCUMENT_TAGS = {d.name: d.tag for d in kinds.DOCUMENT_KINDS}


def record_widths(tree_width: int) -> tuple[int, int]:
    """(task, run name) widths of child lines at `tree_width`: the run name shrinks first, then the task."""
    fixed = RECORD_LEAD_W + 1 + (1 + WIDTHS["duration"]) + 6  # spaces, duration, "  gone"
    task_w = TASK_W if tree_width - fixed - TASK_W >= 20 else max(TASK_MIN, tree_width - fixed - 20)
    run_w = max(8, min(44, tree_width - fixed - task_w))
    return task_w, run_w


def record_label(rec: RecordRow, now: float, run_w: int = RUN_W, marked: bool = False, task_w: int = TASK_W) -> Text:
    """A child line: status icon, kind or task, run name, duration; "gone" when out of the cluster."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if marked:
        t.append(MARK, style="bold magenta")
    kind = kinds.run_kind(rec.kind)
    if kind is not None:
        t.append_text(status_icon(rec.status, rec.in_cluster, started=rec.start is not None))
        t.append(" ")
        run_name = visible(rec.run_name)
        if kind.parent is None:  # the Result's own run
            t.append(col(kind.name, task_w), style="blue")
            t.append(" " + col(run_name, run_w), style="bold" if rec.in_cluster else "")
        else:
            task = visible(rec.pipeline_task or rec.task or rec.run_name)
            if kind.name != _USUAL_CHILD.get(kind.parent):
                t.append(col(task, task_w - len(kind.tag) - 1), style="bold" if rec.in_cluster else "")
                t.append(" " + kind.tag, style="magenta")
            else:
                t.append(col(task, task_w), style="bold" if rec.in_cluster else "")
            t.append(" " + col(run_name, run_w), style="dim")
        dur = rec.duration
        if dur is None and rec.start is not None and rec.end is None:
            dur = int(now - rec.start)
        t.append(" " + col(fmt_duration(dur), WIDTHS["duration"], right=True))
        if not rec.in_cluster:
            t.append("  gone", style="dim italic")
    else:
        t.append(_DOCUMENT_ICONS.get(rec.kind, "⚑ "), style="yellow")
        t.append(_DOCUMENT_TAGS.get(rec.kind) or visible(rec.kind), style="yellow")
        t.append(f"  {visible(rec.run_name)}", style="dim")
    return t
