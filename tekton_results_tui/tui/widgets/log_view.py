"""The Logs tab: stored step logs with a step picker; live from the pod while a TaskRun runs.

Log text is untrusted: it goes through `text_safety` (only SGR colour survives) and
is shown in a line-virtualized view, never one big Static. States are said in words
(pod gone, not started, truncated at N). Live logs are polled every ~2 s through the
cluster's `PodLogReader` (the watcher's); the TUI itself never talks to Kubernetes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Select, Static

from tekton_results_tui.store.history import History, RecordRow, StepLogInfo
from tekton_results_tui.tui.cluster import PodLogReader
from tekton_results_tui.tui.formatting import fmt_bytes
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.text_safety import ansi_lines
from tekton_results_tui.tui.widgets.detail_base import DetailTab, LoadError, Target, check_cancelled, resolve
from tekton_results_tui.tui.widgets.line_view import LineView, SearchableLines, reveal_line

LIVE_INTERVAL_S = 2.0

STATE_WORDS = {
    "pod-gone": "The pod was gone before this step's log was read: no log stored.",
    "not-started": "This step never started: no log.",
    "error": "The log could not be read when the run finished.",
}


class LogLines(LineView):
    """Log lines; adds `w` to toggle wrapping."""

    BINDINGS = [Binding("w", "toggle_wrap", "Wrap", id="detail.wrap")]

    class WrapToggled(Message):
        def __init__(self, wrap: bool) -> None:
            super().__init__()
            self.wrap = wrap

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.post_message(self.WrapToggled(self.wrap))


@dataclass
class StepChoice:
    taskrun: RecordRow
    step: str
    container: str
    info: StepLogInfo | None  # the stored log, if any
    exit_code: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.taskrun.uid, self.step)


@dataclass
class LogPayload:
    choices: list[StepChoice]
    chosen: StepChoice | None
    lines: list[Text]
    plain: list[str]
    widths: list[int]
    note: Text
    live: tuple[str, str, str] | None  # (namespace, pod, container) to poll
    deps: set[int]


def text_to_lines(data: bytes | str) -> tuple[list[Text], list[str], list[int]]:
    lines: list[Text] = []
    plain: list[str] = []
    widths: list[int] = []
    for n, t in enumerate(ansi_lines(data)):
        if not n % 5000:
            check_cancelled()
        lines.append(t)
        p = t.plain
        plain.append(p)
        widths.append(len(p) if p.isascii() else cell_len(p))
    if plain == [""]:
        return [], [], []
    return lines, plain, widths


class LogView(DetailTab):
    TAB = "logs"
    DEFAULT_CSS = """
    LogView > #log-bar { height: 3; background: $boost; }
    LogView #log-step { width: 1fr; max-width: 50; min-width: 20; }
    LogView #log-note { width: 1fr; min-width: 16; padding: 1 1 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, history: History, clock: Callable[[], float] = time.time, *,
                 pod_logs: PodLogReader | None = None, **kw: Any) -> None:
        super().__init__(history, clock, **kw)
        self.pod_logs = pod_logs  # None: no watcher in this process, no live logs
        self.lines_view = LogLines(id="log-lines")
        self.selected: tuple[str, str] | None = None
        self.choices: list[StepChoice] = []
        self.live_source: tuple[str, str, str] | None = None
        self._live_token: object | None = None
        self._note = Text()
        self.reveal: tuple[tuple[str, str], int, str] | None = None  # (step key, line, text): a search hit to show

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-bar"):
            yield Select[tuple[str, str]]([], prompt="step", id="log-step")
            yield Static("", id="log-note")
        yield SearchableLines(self.lines_view)

    # --- building (thread) ------------------------------------------------------------

    def _choices(self, trs: list[RecordRow]) -> list[StepChoice]:
        out: list[StepChoice] = []
        for tr in trs:
            check_cancelled()
            obj = self.history.record_object(tr.id) or {}
            steps = (obj.get("status") or {}).get("steps") or []
            codes = {s.get("name"): (s.get("terminated") or {}).get("exitCode") for s in steps}
            log = self.history.log_record_for(tr.uid, cluster=tr.cluster)
            infos = self.history.step_logs(log.id) if log is not None else []
            if infos:
                out += [StepChoice(tr, i.step, i.container, i, codes.get(i.step)) for i in infos]
            else:
                out += [StepChoice(tr, str(s.get("name") or "?"), str(s.get("container") or f"step-{s.get('name')}"),
                                   None, codes.get(s.get("name"))) for s in steps]
        return out

    def build(self, target: Target) -> Any:
        res = resolve(self.history, target)
        trs = res.task_runs()
        deps = {r.id for r in res.records} | ({res.record.id} if res.record else set())
        if not trs:
            return LoadError("No TaskRun here: logs belong to TaskRuns (pick one in the tree).")
        choices = self._choices(trs)
        if not choices:
            return LogPayload([], None, [], [], [], Text("No steps recorded for this TaskRun yet.", style="italic"),
                              None, deps)
        chosen = next((c for c in choices if c.key == self.selected), None)
        if chosen is None:  # first failed step, else the first step
            chosen = next((c for c in choices if c.exit_code not in (None, 0)), choices[0])
        return self._build_text(choices, chosen, deps)

    def _build_text(self, choices: list[StepChoice], chosen: StepChoice, deps: set[int]) -> LogPayload:
        tr, info = chosen.taskrun, chosen.info
        lines: list[Text] = []
        plain: list[str] = []
        widths: list[int] = []
        live = None
        note = Text()
        if info is not None and info.state == "stored":
            lines, plain, widths = text_to_lines(self.history.step_log_text(info.id))
            if info.truncated:
                note.append("stored · ", style="dim").append(f"truncated at {fmt_bytes(info.size)}", style="yellow")
            else:
                note.append(f"stored · {fmt_bytes(info.size)}", style="dim")
            if not plain:
                note.append(" · empty log", style="dim")
        elif info is not None:
            note.append(STATE_WORDS.get(info.state, info.state), style="yellow")
        running = not tr.final and tr.in_cluster
        if (info is None or info.state != "stored") and running:
            pod = self._pod_name(tr)
            if self.pod_logs is not None and pod:
                live = (tr.parent, pod, chosen.container)
                note = Text.assemble(("● live", "yellow"), f" from pod {visible(pod)}", (" · every 2 s", "dim"))
            elif info is None:
                note = Text("Running: live logs come from the watcher, which is off (read-only or no cluster).",
                            style="italic")
        elif info is None:
            note = Text("No logs stored for this TaskRun (it ended before the watcher saw it, or it is still "
                        "being captured).", style="italic")
        return LogPayload(choices, chosen, lines, plain, widths, note, live, deps)

    def _pod_name(self, tr: RecordRow) -> str | None:
        obj = self.history.record_object(tr.id) or {}
        return (obj.get("status") or {}).get("podName")

    # --- applying (UI) ----------------------------------------------------------------

    def apply(self, payload: Any, keep_scroll: bool) -> None:
        select = self.query_one("#log-step", Select)
        if payload is None or isinstance(payload, LoadError):
            self._stop_live()
            self.deps, self.choices = set(), []
            select.set_options([])
            self._set_note(Text(visible(payload.message, keep_newlines=True) if payload else "Nothing selected.",
                               style="italic"))
            self.lines_view.clear_lines()
            return
        p: LogPayload = payload
        self.deps = p.deps
        multi = len({c.taskrun.uid for c in p.choices}) > 1
        options = [(self._label(c, multi), c.key) for c in p.choices]
        if [c.key for c in p.choices] != [c.key for c in self.choices]:
            select.set_options(options)
        self.choices = p.choices
        if p.chosen is not None:
            self.selected = p.chosen.key
            if select.value != p.chosen.key:
                select.value = p.chosen.key
        self._set_note(p.note)
        if p.live is not None and p.live == self.live_source:
            return  # the poller keeps showing the pod's log
        self._stop_live()
        self.lines_view.set_lines(p.lines, p.plain, p.widths, keep_scroll=keep_scroll, follow_tail=True)
        if self.reveal is not None and p.chosen is not None and p.chosen.key == self.reveal[0]:
            _, line, text = self.reveal
            self.reveal = None
            reveal_line(self.lines_view, line - 1, text)
        if p.live is not None:
            self._start_live(p.live)

    @staticmethod
    def _label(c: StepChoice, multi: bool) -> Text:
        t = Text()
        if multi:
            t.append(visible(c.taskrun.pipeline_task or c.taskrun.run_name))
            t.append(" › ", style="dim")
        t.append(visible(c.step))
        if c.exit_code not in (None, 0):
            t.append(f" ✖{c.exit_code}", style="red")
        return t

    def _set_note(self, note: Text) -> None:
        self._note = note
        extra = Text("  wrap", style="dim") if self.lines_view.wrap else Text()
        self.query_one("#log-note", Static).update(Text.assemble(note, extra))

    def on_log_lines_wrap_toggled(self, event: LogLines.WrapToggled) -> None:
        event.stop()
        self._set_note(self._note)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        if value is Select.BLANK or not isinstance(value, tuple) or value == self.selected:
            return
        self.selected = value
        if self.loaded is not None:
            self.load(self.loaded)

    def reset(self) -> None:
        self._stop_live()
        super().reset()

    def load(self, target: Target | None, keep_scroll: bool = False) -> None:
        if target != self.loaded:
            self._stop_live()
        super().load(target, keep_scroll)

    def focus_content(self) -> None:
        self.lines_view.focus()

    # --- live -------------------------------------------------------------------------

    def _stop_live(self) -> None:
        self.live_source = None
        self._live_token = None
        self.workers.cancel_group(self, "detail-logs-live")

    def _start_live(self, source: tuple[str, str, str]) -> None:
        self.live_source = source
        token = self._live_token = object()
        self.run_worker(self._poll(token, source), exclusive=True, group="detail-logs-live",
                        name=f"live log {source[1]}/{source[2]}", exit_on_error=False)

    async def _poll(self, token: object, source: tuple[str, str, str]) -> None:
        ns, pod, container = source
        reader = self.pod_logs
        if reader is None:
            return
        first = True
        while self._live_token is token:
            try:
                data = await asyncio.to_thread(reader.read_pod_log, ns, pod, container)
                lines, plain, widths = await asyncio.to_thread(text_to_lines, data or b"")
                error = None
            except Exception as exc:  # noqa: BLE001 - a state to show, not a crash
                msg = str(exc).strip()
                lines, plain, widths, error = [], [], [], msg.splitlines()[0] if msg else repr(exc)
            if self._live_token is not token:
                return
            if error is not None:
                self._set_note(Text.assemble(("live log unavailable: ", "yellow"), visible(error)))
            else:
                self.lines_view.set_lines(lines, plain, widths, keep_scroll=not first, follow_tail=True)
                if first:  # start at the tail, as `kubectl logs -f` does
                    self.lines_view.scroll_end(animate=False, immediate=True)
                first = False
            await asyncio.sleep(LIVE_INTERVAL_S)
