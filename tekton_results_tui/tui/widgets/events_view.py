"""The Events tab: the stored EventList(s) of the node as a table (type, reason, age, count, object, message).

A TaskRun shows its own events; a PipelineRun or a Result shows the events of every
run in the Result, oldest first, as `kubectl get events` would. All cells are `Text`.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tekton_results_tui import kinds
from tekton_results_tui.store.grouping import parse_time
from tekton_results_tui.tui.formatting import fmt_age
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.widgets.detail_base import DetailTab, Target, check_cancelled, resolve


def _event_time(e: dict) -> int | None:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        t = parse_time(e.get(key))
        if t is not None:
            return t
    return parse_time((e.get("metadata") or {}).get("creationTimestamp"))


def events_table(items: list[dict], now: float) -> EventsTable:
    rows = []
    for e in sorted(items, key=lambda e: _event_time(e) or 0):
        kind = str(e.get("type") or "")
        obj = e.get("involvedObject") or {}
        rows.append((Text(visible(kind), style="yellow" if kind == "Warning" else ""),
                     Text(visible(str(e.get("reason") or ""))),
                     Text(fmt_age(_event_time(e), now)),
                     Text(visible(str(e.get("count") or 1))),
                     Text(visible(f"{str(obj.get('kind') or '').lower()}/{obj.get('name') or ''}")),
                     Text(visible(str(e.get("message") or "")))))
    return EventsTable(rows)


class EventsTable:
    """The events laid out at the width they are drawn at: type, reason, age and count whole (up to CAPS,
    cut with an ellipsis past it), the object cut to at most a third of what is left, and the message the
    rest, wrapped by words. (rich's Table, left to share the width, squeezed the message to one letter a
    line at 96 columns and dropped it at 78: the message is what an event says.)"""

    HEADERS = ("TYPE", "REASON", "AGE", "COUNT", "OBJECT", "MESSAGE")
    GAP = 2
    # the short columns' caps (a hostile type or count must not take the message's room), then the object's
    CAPS = (10, 24, 5, 7)  # TYPE, REASON, AGE, COUNT
    OBJECT_MIN, OBJECT_MAX, MESSAGE_MIN = 10, 40, 16

    def __init__(self, rows: list[tuple[Text, ...]]) -> None:
        self.rows = rows

    def _natural(self, i: int) -> int:
        return max([cell_len(self.HEADERS[i])] + [r[i].cell_len for r in self.rows])

    def table(self, width: int) -> Table:
        fixed = [min(cap, self._natural(i)) for i, cap in enumerate(self.CAPS)]
        rest = width - sum(fixed) - self.GAP * (len(self.HEADERS) - 1)
        obj = max(self.OBJECT_MIN, min(self._natural(4), self.OBJECT_MAX, rest // 3))
        msg = max(self.MESSAGE_MIN, rest - obj)
        t = Table(box=None, padding=(0, self.GAP, 0, 0), show_edge=False, header_style="bold", expand=False,
                  pad_edge=False)
        for i, (head, w) in enumerate(zip(self.HEADERS, [*fixed, obj])):
            t.add_column(head, no_wrap=True, width=w, overflow="ellipsis", justify="right" if i in (2, 3) else "left")
        t.add_column("MESSAGE", width=msg, overflow="ellipsis")  # wraps by words; a longer word is cut
        for r in self.rows:
            t.add_row(*r)
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(options.max_width, options.max_width)


class EventsView(DetailTab):
    TAB = "events"
    DEFAULT_CSS = """
    EventsView > VerticalScroll { height: 1fr; }
    EventsView #events-body { padding: 0 1; width: 100%; }  /* drawn at the pane's width (auto: measured wider) */
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="events-scroll"):
            yield Static(Text("Nothing selected.", style="italic"), id="events-body")

    def build(self, target: Target) -> Any:
        res = resolve(self.history, target)
        rec = res.record
        lists = [r for r in res.records if r.kind == kinds.EVENT_LIST.name]
        run_kind = kinds.run_kind(rec.kind) if rec is not None else None
        if rec is not None and rec.kind == kinds.EVENT_LIST.name:
            lists = [rec]
        elif rec is not None and run_kind is not None and run_kind.parent is not None:
            lists = [r for r in lists if r.run_uid == rec.uid]  # a child run: its own events
        elif rec is not None and run_kind is None:
            lists = [r for r in lists if r.run_uid == rec.run_uid]  # another document (a Log): its run's events
        items: list[dict] = []
        for r in lists:
            check_cancelled()
            items += (self.history.record_object(r.id) or {}).get("items") or []
        deps = {r.id for r in res.records} | ({rec.id} if rec else set())
        if not items:
            return deps, Text("No events stored for this run (they are captured when a run finishes; "
                              "Kubernetes keeps events about an hour).", style="italic")
        what = rec.run_name if rec is not None else target.name
        head = Text.assemble((f"{len(items)} events", "bold"), " about ", visible(what),
                             "" if len(lists) < 2 else " and its TaskRuns")
        return deps, Group(head, events_table(items, self.clock()))

    def apply(self, payload: Any, keep_scroll: bool) -> None:
        body = self.query_one("#events-body", Static)
        if payload is None:
            self.deps = set()
            body.update(Text("Nothing selected.", style="italic"))
            return
        self.deps, renderable = payload if isinstance(payload, tuple) else (set(), Text(visible(payload.message, keep_newlines=True)))
        body.update(renderable)
        if not keep_scroll:
            self.query_one("#events-scroll", VerticalScroll).scroll_home(animate=False)

    def focus_content(self) -> None:
        self.query_one("#events-scroll", VerticalScroll).focus()

