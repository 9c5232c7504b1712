"""Where a run's time went: one bar per TaskRun (per step for a TaskRun) on a shared time axis.

Pure geometry: run objects in, positions out. Positions are in eighths of a terminal cell, so a
renderer draws bars with sub-cell precision (▏▎▍▌▋▊▉█); the time a run waited (creation -> start)
is a separate segment from the time it ran. The critical path is the chain that set the run's
end: from the task that ended last, back through the dependency it waited for longest (the one
that ended last), using the pipeline's `runAfter`, result references and `finally` ordering when
the PipelineRun carries its spec, else end times. Skipped tasks (status.skippedTasks) and finally
tasks are kept as such. `render_lines` is the plain-text form the CLI prints; the TUI draws the
same `Timeline` with colours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.store import grouping as g

EIGHTHS = " ▏▎▍▌▋▊▉█"  # EIGHTHS[n]: the left n/8 of a cell filled
QUEUED = "░"
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
              86400, 2 * 86400, 7 * 86400)
MIN_TICK_GAP = 10  # columns between time ticks
NO_TIMING = "no timing recorded"
STATUS_WORDS = {g.SUCCESS: "Succeeded", g.FAILURE: "Failed", g.TIMEOUT: "Timeout", g.CANCELLED: "Cancelled"}
_TASK_REF = re.compile(r"\$\(tasks\.([A-Za-z0-9_.-]+?)\.(?:results|status)")


@dataclass(slots=True)
class Span:
    """One row of a timeline before geometry: a TaskRun, a step, or a task that never ran."""

    name: str
    status: str  # SUCCESS | FAILURE | TIMEOUT | CANCELLED | UNKNOWN (running or pending) | SKIPPED
    created: int | None = None
    start: int | None = None
    end: int | None = None
    run_name: str | None = None
    is_finally: bool = False
    reason: str | None = None  # why it was skipped, or the run's reason
    deps: list[str] | None = None  # pipeline tasks it waits for (None: not known from a spec)
    steps: list["Span"] = field(default_factory=list)


@dataclass
class RunSpans:
    """A run and the rows of its timeline."""

    kind: str  # PipelineRun | TaskRun
    name: str
    status: str
    created: int | None
    start: int | None
    end: int | None
    rows: list[Span]
    has_spec: bool = False


# --- run objects -> spans ----------------------------------------------------------------------------


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []


def _times(obj: dict) -> tuple[int | None, int | None, int | None, str, str | None]:
    meta, status = _dict(obj.get("metadata")), _dict(obj.get("status"))
    st = g.status_of(obj)
    end = g.parse_time(status.get("completionTime")) if st.final else None
    return g.parse_time(meta.get("creationTimestamp")), g.parse_time(status.get("startTime")), end, st.status, st.reason


def _steps(tr: dict) -> list[Span]:
    status = tr.get("status")
    steps = status.get("steps") if isinstance(status, dict) else None
    if not isinstance(steps, list):
        return []
    out = []
    parse = g.parse_time
    for s in steps:
        if not isinstance(s, dict):
            continue
        name = str(s.get("name") or "?")
        term = s.get("terminated")
        if isinstance(term, dict) and term:
            code = term.get("exitCode")
            out.append(Span(name, g.SUCCESS if code in (0, None) else g.FAILURE, None, parse(term.get("startedAt")),
                            parse(term.get("finishedAt")), reason=term.get("reason")))
        else:
            running = s.get("running")
            out.append(Span(name, g.UNKNOWN, None, parse(running.get("startedAt")) if isinstance(running, dict) else None))
    return out


def _deps_of(task: dict) -> list[str]:
    deps = [d for d in _list(task.get("runAfter")) if isinstance(d, str)]
    refs: list[str] = []
    for k, v in task.items():
        if k not in ("name", "runAfter", "taskSpec", "pipelineSpec"):
            _task_refs(k, refs)
            _task_refs(v, refs)
    for ref in refs:
        if ref not in deps:
            deps.append(ref)
    return deps


def _task_refs(v: Any, out: list[str]) -> None:
    """`$(tasks.NAME.results...)` / `.status` references in the strings (keys too) of a task, in order: what
    a search of its JSON text finds (escapes never fall inside a name), without writing the text."""
    if isinstance(v, str):
        if "$(tasks." in v:
            out.extend(_TASK_REF.findall(v))
    elif isinstance(v, dict):
        for k, x in v.items():
            _task_refs(k, out)
            _task_refs(x, out)
    elif isinstance(v, list):
        for x in v:
            _task_refs(x, out)


def spans_of_pipelinerun(pr: dict, taskruns: Sequence[dict]) -> RunSpans:
    """A PipelineRun and its TaskRuns (as stored) -> timeline rows: TaskRuns, then finally tasks, then
    tasks of the spec that never ran (skipped, or not yet started)."""
    created, start, end, status, reason = _times(pr)
    pst = _dict(pr.get("status"))
    spec = _dict(pst.get("pipelineSpec"))
    tasks = [t for t in _list(spec.get("tasks")) if isinstance(t, dict) and isinstance(t.get("name"), str)]
    finals = [t for t in _list(spec.get("finally")) if isinstance(t, dict) and isinstance(t.get("name"), str)]
    main_names = [t["name"] for t in tasks]
    deps: dict[str, list[str]] = {t["name"]: _deps_of(t) for t in tasks}
    deps.update({t["name"]: list(main_names) for t in finals})
    final_names = {t["name"] for t in finals}
    child_task = {c.get("name"): c.get("pipelineTaskName") for c in _list(pst.get("childReferences")) if isinstance(c, dict)}
    rows: list[Span] = []
    seen: set[str] = set()
    for tr in taskruns:
        meta = _dict(tr.get("metadata"))
        labels = _dict(meta.get("labels"))
        run_name = str(meta.get("name") or "?")
        ptask = labels.get("tekton.dev/pipelineTask") or child_task.get(run_name) or run_name
        ptask = str(ptask)
        c, s, e, st, why = _times(tr)
        rows.append(Span(ptask, st, c, s, e, run_name=run_name, is_finally=ptask in final_names, reason=why,
                         deps=deps.get(ptask) if spec else None, steps=_steps(tr)))
        seen.add(ptask)
    skipped = {}
    for sk in _list(pst.get("skippedTasks")):
        if isinstance(sk, dict) and isinstance(sk.get("name"), str):
            skipped[sk["name"]] = sk.get("reason")
    for t in tasks + finals:
        n = t["name"]
        if n in seen:
            continue
        if n in skipped:
            rows.append(Span(n, "SKIPPED", is_finally=n in final_names, reason=str(skipped[n] or "skipped")))
        elif status == g.UNKNOWN:
            rows.append(Span(n, g.UNKNOWN, is_finally=n in final_names, reason="not started", deps=deps.get(n)))
        seen.add(n)
    for n, why in skipped.items():  # skipped tasks the stored spec does not name
        if n not in seen:
            rows.append(Span(n, "SKIPPED", reason=str(why or "skipped")))
    order = {n: i for i, n in enumerate(main_names + [t["name"] for t in finals])}
    rows.sort(key=lambda r: (r.status == "SKIPPED", r.is_finally, r.start is None,
                             r.start if r.start is not None else 0, order.get(r.name, len(order)), r.name))
    meta = _dict(pr.get("metadata"))
    return RunSpans("PipelineRun", str(meta.get("name") or "?"), status, created, start, end, rows, has_spec=bool(spec))


def spans_of_taskrun(tr: dict) -> RunSpans:
    """A TaskRun -> one row per step."""
    created, start, end, status, _ = _times(tr)
    meta = _dict(tr.get("metadata"))
    return RunSpans("TaskRun", str(meta.get("name") or "?"), status, created, start, end, _steps(tr))


# --- geometry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """[start8, end8) in eighths of a cell from the left edge of the bar area."""

    start8: int
    end8: int

    @property
    def col(self) -> int:
        return self.start8 // 8

    @property
    def width8(self) -> int:
        return self.end8 - self.start8

    def cells(self) -> list[tuple[int, int, int]]:
        """(column, first eighth covered, eighths covered) for every cell the segment touches."""
        out = []
        c = self.start8 // 8
        while c * 8 < self.end8:
            lo, hi = max(self.start8, c * 8), min(self.end8, c * 8 + 8)
            if hi > lo:
                out.append((c, lo - c * 8, hi - lo))
            c += 1
        return out


@dataclass(slots=True)
class Bar:
    label: str
    status: str
    queued: Segment | None
    running: Segment | None
    duration: int | None  # seconds running (to now for a running one)
    critical: bool = False
    is_finally: bool = False
    skipped: bool = False
    note: str | None = None  # skipped: the reason; not started: "not started"; no times: NO_TIMING
    run_name: str | None = None
    steps: list["Bar"] = field(default_factory=list)


@dataclass
class Timeline:
    kind: str
    name: str
    status: str
    width: int  # columns of the bar area
    t0: int | None
    t1: int | None
    bars: list[Bar]
    ticks: list[tuple[int, str]]  # (column, label: time since t0)
    message: str | None = None  # instead of bars: no TaskRuns / no timing recorded
    eta_col: int | None = None  # where an expected end falls on the axis


def _x8(t: int, t0: int, span: int, width: int) -> int:
    """Time -> eighths of a cell, rounded half up (integers only: the same on every machine)."""
    return ((t - t0) * width * 16 + span) // (2 * span)


def critical_path(rows: Sequence[Span], now: int, has_spec: bool) -> list[str]:
    """Names on the chain that set the run's end, last first.

    With a spec: from the row that ended last, step to the dependency that ended last. Without:
    to the row that ended last at or before this one started.
    """
    timed = {r.name: r for r in rows if r.start is not None and r.status != "SKIPPED"}
    if not timed:
        return []

    def end_of(r: Span) -> int:
        return r.end if r.end is not None else max(now, r.start or now)

    cur: Span | None = max(timed.values(), key=lambda r: (end_of(r), r.name))
    path: list[str] = []
    while cur is not None and cur.name not in path:
        path.append(cur.name)
        if has_spec and cur.deps is not None:
            preds = [timed[d] for d in cur.deps if d in timed and d not in path]
        else:
            preds = [r for r in timed.values() if r.name not in path and end_of(r) <= (cur.start or 0)]
        cur = max(preds, key=lambda r: (end_of(r), r.name)) if preds else None
    return path


def _ticks(span: int, width: int) -> list[tuple[int, str]]:
    step = next((s for s in NICE_STEPS if span / s * MIN_TICK_GAP <= width), NICE_STEPS[-1])
    out, k = [], 0
    while k * step <= span:
        out.append((round(k * step * width / span), "0" if k == 0 else human_duration(k * step)))
        k += 1
    return out


def _bar(r: Span, t0: int, span: int, width: int, now: int) -> Bar:
    if r.status == "SKIPPED":
        return Bar(r.name, r.status, None, None, None, is_finally=r.is_finally, skipped=True, note=r.reason,
                   run_name=r.run_name)
    queued = running = None
    duration = None
    if r.start is not None:
        end = r.end if r.end is not None else max(now, r.start)
        a, b = _x8(r.start, t0, span, width), _x8(end, t0, span, width)
        running = Segment(a, max(b, a + 1))
        duration = end - r.start
        if r.created is not None and r.created < r.start:
            qa = _x8(r.created, t0, span, width)
            if qa < a:
                queued = Segment(qa, a)
    elif r.created is not None and r.status == g.UNKNOWN:  # created, waiting to start
        qa, qb = _x8(r.created, t0, span, width), _x8(max(now, r.created), t0, span, width)
        queued = Segment(qa, max(qb, qa + 1))
    note = None if (r.start is not None or queued is not None) else (r.reason if r.reason == "not started" else NO_TIMING)
    return Bar(r.name, r.status, queued, running, duration, is_finally=r.is_finally, note=note, run_name=r.run_name)


def timeline_at(run: RunSpans, total_width: int, now: int, eta_end: int | None = None, steps: bool = True) -> Timeline:
    """`build_timeline` with the bar area `layout` leaves in `total_width` columns (the steps' labels
    count whether or not their bars are built, so showing them does not move the axis)."""
    labels = [r.name for r in run.rows] + [f"  {s.name}" for r in run.rows for s in r.steps]
    return build_timeline(run, layout(total_width, labels).bar_width, now, eta_end, steps=steps)


def build_timeline(run: RunSpans, width: int, now: int, eta_end: int | None = None, steps: bool = True) -> Timeline:
    """Bars of `run` on an axis `width` columns wide, from its first creation to its end (now while it
    runs, or the expected end when later). `steps=False` leaves every bar's `steps` empty (the TUI with
    steps hidden: 200 TaskRuns x 5 steps is 1,000 bars not drawn); the axis is the same either way."""
    width = max(1, int(width))
    tl = Timeline(run.kind, run.name, run.status, width, None, None, [], [])
    if not run.rows:
        tl.message = ("no TaskRuns recorded for this PipelineRun" if run.kind == "PipelineRun"
                      else "no steps recorded for this TaskRun")
        return tl
    times: list[int] = [t for t in (run.created, run.start, run.end) if t is not None]
    for r in run.rows:
        times += [t for t in (r.created, r.start, r.end) if t is not None]
        for s in r.steps:
            times += [t for t in (s.start, s.end) if t is not None]
    started = run.start is not None or any(r.start is not None for r in run.rows)
    if not times or not started:
        tl.message = NO_TIMING
        return tl
    t0 = min(times)
    t1 = max(times)
    if run.end is None and run.status == g.UNKNOWN:
        t1 = max(t1, now)
    if eta_end is not None:
        t1 = max(t1, eta_end)
    span = max(1, t1 - t0)
    tl.t0, tl.t1 = t0, t1
    crit = set(critical_path(run.rows, now, run.has_spec)) if run.kind == "PipelineRun" else set()
    for r in run.rows:
        b = _bar(r, t0, span, width, now)
        b.critical = r.name in crit
        if steps:
            b.steps = [_bar(s, t0, span, width, now) for s in r.steps]
        tl.bars.append(b)
    tl.ticks = _ticks(span, width)
    if eta_end is not None:
        tl.eta_col = min(width - 1, _x8(eta_end, t0, span, width) // 8)
    return tl


# --- plain text -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    label_width: int
    bar_width: int
    tail_width: int = 18  # " 12m30s Succeeded"


def layout(total_width: int, labels: Sequence[str]) -> Layout:
    """Columns for labels, bars and the duration/status tail in `total_width` (readable at 80, wider when given)."""
    tail = Layout(0, 0).tail_width
    longest = max((len(x) for x in labels), default=8) + 2  # a critical-path mark and a space
    label = max(10, min(longest, max(16, total_width // 4)))
    return Layout(label, max(10, total_width - label - tail - 2), tail)


def glyphs(seg: Segment, width: int, fill: str | None = None) -> dict[int, str]:
    """Column -> character for a segment: full cells █, the end's fraction as a left eighth block, a start
    mid-cell as the nearest right-aligned block (plain text has no right eighths; the TUI draws it exactly
    in reverse video). `fill` draws every cell covered half or more with one character instead."""
    out = {}
    for col, first, n in seg.cells():
        if col >= width:
            break
        if fill is not None:
            if n >= 4:
                out[col] = fill
        elif n == 8:
            out[col] = "█"
        elif first == 0 or first + n < 8:
            out[col] = EIGHTHS[n]
        else:
            out[col] = "█" if n >= 6 else ("▐" if n >= 3 else "▕")
    return out


def exact_cells(seg: Segment, width: int) -> list[tuple[int, str, bool]]:
    """(column, character, reverse) drawing a segment exactly where colours are available (the TUI):
    a cell covered from its left edge is a left eighth block; one covered up to its right edge from
    mid-cell is the complementary left block in reverse video (background and foreground swapped)."""
    out = []
    for col, first, n in seg.cells():
        if col >= width:
            break
        if n == 8:
            out.append((col, "█", False))
        elif first == 0 or first + n < 8:
            out.append((col, EIGHTHS[n], False))
        else:
            out.append((col, EIGHTHS[first], True))
    return out


def _bar_text(b: Bar, width: int, clean: Any = str) -> str:
    if b.skipped:
        return f"skipped: {clean(b.note or '')}"[:width].ljust(width)
    if b.note and b.running is None and b.queued is None:
        return clean(b.note)[:width].ljust(width)
    cells = [" "] * width
    if b.queued is not None:
        for c, ch in glyphs(b.queued, width, fill=QUEUED).items():
            cells[c] = ch
    if b.running is not None:
        for c, ch in glyphs(b.running, width).items():
            cells[c] = ch
    return "".join(cells)


def status_word(b: Bar) -> str:
    if b.skipped:
        return "Skipped"
    if b.status == g.UNKNOWN:
        return "Running" if b.running is not None else "Pending"
    return STATUS_WORDS.get(b.status, b.status.title())


def _tick_line(tl: Timeline) -> str:
    line = [" "] * tl.width
    free = 0
    for col, label in tl.ticks:
        text = "|" + label
        if col < free or col + len(text) > tl.width:
            continue
        for i, ch in enumerate(text):
            line[col + i] = ch
        free = col + len(text) + 1
    if tl.eta_col is not None and line[tl.eta_col] == " ":
        line[tl.eta_col] = "E"
    return "".join(line).rstrip()


def render_lines(tl: Timeline, total_width: int, steps: bool = False, clean: Any = str) -> list[str]:
    """The timeline as plain lines of at most `total_width` columns (`clean` makes text from data safe)."""
    if tl.message:
        return [tl.message]
    tail = Layout(0, 0).tail_width
    lay = Layout(total_width - tl.width - tail - 2, tl.width, tail)
    if lay.label_width < 4:
        raise ValueError(f"a timeline {tl.width} columns wide does not fit in {total_width}")
    pad = " " * (lay.label_width + 1)
    out = [pad + _tick_line(tl)]
    shown_finally = False
    for b in tl.bars:
        if b.is_finally and not shown_finally:
            out.append("finally".ljust(lay.label_width))
            shown_finally = True
        out.append(_line(b, lay, clean, "*" if b.critical else " "))
        if steps:
            for s in b.steps:
                out.append(_line(s, lay, clean, " ", indent="  "))
    legend = f"{EIGHTHS[8]} running  {QUEUED} queued"
    if any(b.critical for b in tl.bars):
        legend += "  * critical path"
    if tl.eta_col is not None:
        legend += "  E expected end"
    out.append(pad + legend)
    return [line.rstrip()[:total_width] for line in out]


def _line(b: Bar, lay: Layout, clean: Any, mark: str, indent: str = "") -> str:
    label = (mark + indent + clean(b.label))
    if len(label) > lay.label_width:
        label = label[: lay.label_width - 1] + "…"
    dur = human_duration(b.duration) if b.duration is not None else ""
    tail = f"{dur:>7} {status_word(b)}"
    return f"{label.ljust(lay.label_width)} {_bar_text(b, lay.bar_width, clean)} {tail}"
