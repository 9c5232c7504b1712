"""What the detail pane shows (a Target) and the base of its tabs (load in a worker, apply on the UI).

Each tab builds its content from the store in a thread worker of its own named,
exclusive group, so a fast cursor cancels stale loads; the build returns plain data
(lines, rich renderables) and the UI thread only swaps it in. A generation counter
drops results that arrive after a newer load started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.containers import Vertical
from textual.worker import NoActiveWorker, get_current_worker

from tekton_results_tui import kinds
from tekton_results_tui.store.history import History, RecordRow, ResultRow


@dataclass(frozen=True)
class Target:
    """The node shown: a whole Result or one Record."""

    kind: str  # "result" | "record"
    id: int
    result_id: int
    name: str  # run name (what "copy name" copies)
    record_kind: str | None = None  # a run kind or a document kind (Log, EventList); None for a Result

    @classmethod
    def of_result(cls, row: ResultRow) -> Target:
        return cls("result", row.id, row.id, row.display_name or row.name)

    @classmethod
    def of_record(cls, row: RecordRow) -> Target:
        return cls("record", row.id, row.result_id, row.run_name, row.kind)


@dataclass
class Resolved:
    """A Target read back from the store: fresh rows for the node and its Result."""

    target: Target
    result: ResultRow | None
    record: RecordRow | None  # the record, or for a Result its top-level run (if stored)
    records: list[RecordRow] = field(default_factory=list)  # all records of the Result

    def run_record(self) -> RecordRow | None:
        """The run this node is about (a document such as a Log or an EventList -> its run)."""
        rec = self.record
        if rec is not None and not kinds.is_run(rec.kind):
            return next((r for r in self.records if r.uid == rec.run_uid), None)
        return rec

    def task_runs(self) -> list[RecordRow]:
        """Runs with step logs this node covers: itself, or the children of a PipelineRun/Result."""
        run = self.run_record()
        kind = kinds.run_kind(run.kind) if run is not None else None
        if run is not None and kind is not None and kind.parent is not None:  # a child run: its own logs only
            return [run] if kind.step_logs else []
        return [r for r in self.records if has_step_logs(r)]


def has_step_logs(rec: RecordRow) -> bool:
    kind = kinds.run_kind(rec.kind)
    return kind is not None and kind.step_logs


def resolve(history: History, target: Target) -> Resolved:
    result = history.get_result(id=target.result_id)
    records = history.records_of(target.result_id) if result is not None else []
    if target.kind == "record":
        record = next((r for r in records if r.id == target.id), None) or history.get_record(id=target.id)
    else:
        record = next((r for r in records if r.top_level and kinds.is_run(r.kind)), None)
    return Resolved(target, result, record, records)


class Cancelled(Exception):
    """The load was superseded; nothing to show."""


def check_cancelled() -> None:
    try:
        if get_current_worker().is_cancelled:
            raise Cancelled
    except NoActiveWorker:  # not in a worker (direct call in a benchmark or test)
        pass


class DetailTab(Vertical):
    """Base of a detail tab: `load(target)` builds in a thread, `apply(payload)` shows."""

    TAB = "tab"

    def __init__(self, history: History, clock: Callable[[], float] = time.time, **kw: Any) -> None:
        super().__init__(**kw)
        self.history = history
        self.clock = clock
        self.loaded: Target | None = None
        self.deps: set[int] = set()  # record ids the shown content came from
        self.family: set[int] = set()  # all record ids of the Result when it loaded (to spot new ones)
        self._gen = 0
        self._early: tuple[int, Any, set[int], bool] | None = None  # a load that finished before the mount

    def _on_mount(self) -> None:
        if self._early is not None:  # a tab made on first use: its first load may beat its widgets
            self.call_later(self._apply_if_current, *self._early)
            self._early = None

    def reset(self) -> None:
        """Forget what is shown (a new node was selected; this tab loads when it is opened)."""
        self._gen += 1
        self.loaded = None
        self.workers.cancel_group(self, f"detail-{self.TAB}")

    def load(self, target: Target | None, keep_scroll: bool = False) -> None:
        self._gen += 1
        gen = self._gen
        self.loaded = target
        if target is None:
            self.workers.cancel_group(self, f"detail-{self.TAB}")
            if self.is_mounted:  # else it is being mounted, empty
                self.apply(None, keep_scroll=False)
            return
        self.run_worker(lambda: self._load_thread(target, gen, keep_scroll), thread=True, exclusive=True,
                        group=f"detail-{self.TAB}", name=f"load {self.TAB} {target.name}", exit_on_error=False)

    def _load_thread(self, target: Target, gen: int, keep_scroll: bool) -> None:
        try:
            payload = self.build(target)
            family = getattr(payload, "family", None)  # a build that read all the Result's records says so
            if family is None:
                family = {r.id for r in self.history.records_of(target.result_id)}
        except Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - shown in words in the tab, never a traceback
            payload, family = LoadError(f"Could not load {target.name}: {exc}"), set()
        if gen != self._gen:
            return
        try:
            self.app.call_from_thread(self._apply_if_current, gen, payload, family, keep_scroll)
        except RuntimeError:  # app shutting down
            pass

    def _apply_if_current(self, gen: int, payload: Any, family: set[int], keep_scroll: bool) -> None:
        if gen == self._gen and not self.is_mounted and self.is_attached:
            self._early = (gen, payload, family, keep_scroll)  # applied on mount
            return
        if gen == self._gen and self.is_mounted:
            self.family = family
            self.apply(payload, keep_scroll=keep_scroll)

    # subclasses ------------------------------------------------------------------------
    def build(self, target: Target) -> Any:  # runs in a thread
        raise NotImplementedError

    def apply(self, payload: Any, keep_scroll: bool) -> None:  # runs on the UI thread
        raise NotImplementedError

    def focus_content(self) -> None:
        self.focus()


@dataclass
class LoadError:
    message: str
