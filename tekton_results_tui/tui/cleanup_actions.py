"""The TUI's cleanup keys: `space` marks runs, `ctrl+d` deletes the highlighted or marked runs,
and a palette command deletes every stored, finished run matching the filter.

A mixin for ResultsApp (which owns `tree`, `history`, `cluster`, `read_only`, `filter`,
`clock`). Textual merges BINDINGS only from DOMNode classes in the MRO, so the app lists
CLEANUP_BINDINGS in its own BINDINGS. Marks live in the tree. Nothing here deletes: plans
come from cleanup_plan (store reads only), deletes go through the cluster's `RunDeleter`,
which exists only when a watcher in this process can write (never in read-only mode), and
the tui never imports kubernetes. Three layers keep read-only safe: `check_action` hides the
keys (and RBAC that forbids delete hides them too), each action refuses, and there is no
deleter to call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from tekton_results_tui.tui.cluster import DeleteOutcome, RunDeleter, deletable_kinds_text
from tekton_results_tui.tui.widgets.results_tree import RecordItem, ResultItem, ResultsTree

if TYPE_CHECKING:
    from tekton_results_tui.watcher.cleanup_plan import CleanupPlan, Target
    from textual.app import App

    from tekton_results_tui.tui.screens.delete_dialog import DeleteProgress

    from tekton_results_tui.store.history import History
    from tekton_results_tui.store.query import Filter
    from textual.notifications import SeverityLevel

    from tekton_results_tui.tui.cluster import ClusterActions

    _AppBase = App[int]
else:
    _AppBase = object

def _planner():  # noqa: ANN202 - the module
    """The cleanup planner, loaded with the first cleanup key: a viewer's start does not pay for it."""
    from tekton_results_tui.watcher import cleanup_plan

    return cleanup_plan


CLEANUP_BINDINGS = [
    Binding("space", "mark", "Mark", id="app.mark", tooltip="mark/unmark the run for ctrl+d"),
    Binding("ctrl+d", "delete", "Delete", id="app.delete", tooltip="delete the highlighted or marked runs from the cluster"),
]
CLEANUP_ACTIONS = frozenset({"mark", "delete", "delete_matching"})
DELETE_MATCHING_TITLE = "Delete all stored, finished runs matching the filter"
RBAC_TTL_S = 60.0
PROGRESS_ABOVE = 1  # bulk deletes (more runs than this) show a progress screen
DETAIL_LINES = 8


def summarize_outcomes(outcomes: Sequence[DeleteOutcome], planned: int) -> tuple[str, list[str], bool]:
    """(one-line summary, lines for the runs not deleted, all deleted?) for the notification."""
    deleted = sum(1 for o in outcomes if o.ok)
    failed = [o for o in outcomes if not o.ok]
    summary = f"deleted {deleted} of {planned} run{'' if planned == 1 else 's'} from the cluster; the history keeps them"
    if len(outcomes) < planned:
        summary += f" (stopped: {planned - len(outcomes)} not tried)"
    details = [o.line() for o in failed[:DETAIL_LINES]]
    if len(failed) > DETAIL_LINES:
        details.append(f"… and {len(failed) - DETAIL_LINES} more not deleted")
    return summary, details, not failed and len(outcomes) == planned


class CleanupActions(_AppBase):
    """Mark / delete / delete-matching for the Results app."""

    # what the app provides
    history: History
    cluster: ClusterActions
    read_only: bool
    filter: Filter
    clock: Callable[[], float]
    tree: ResultsTree

    if TYPE_CHECKING:
        def notify_plain(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
                         timeout: float | None = None) -> None: ...

    _can_delete: bool | None = None  # None: not known yet (access review pending)
    _can_delete_at: float = 0.0
    last_outcomes: list[DeleteOutcome]
    last_plan: CleanupPlan | None = None
    last_progress: DeleteProgress | None = None

    # --- who may do what -------------------------------------------------------------------

    def cleanup_init(self) -> None:
        """Call from the app's __init__."""
        self.last_outcomes = []
        self._can_delete = None

    @property
    def deleter(self) -> RunDeleter | None:
        """The way to delete runs: none in read-only mode or without a watcher in this process."""
        if self.read_only:
            return None
        return self.cluster.deleter

    def cleanup_mount(self) -> None:
        """Call from the app's on_mount: ask the cluster (in a thread) whether deleting is allowed."""
        if self.deleter is not None:
            self.run_worker(self._review_access, name="cleanup-rbac", group="cleanup-rbac", exclusive=True,
                            thread=True)

    def _review_access(self) -> None:
        deleter = self.deleter
        allowed = deleter.can_delete() if deleter is not None else False
        self._can_delete, self._can_delete_at = allowed, time.monotonic()
        self.call_from_thread(self.refresh_bindings)

    def cleanup_check_action(self, action: str) -> bool:
        """For the app's check_action: False hides the key from the Footer and stops it running."""
        if self.read_only:
            return False
        if self._can_delete is False:  # the cluster said no
            return False
        if action == "mark":
            return True
        return self.deleter is not None and self._can_delete is True

    def cleanup_refuse(self, what: str) -> bool:
        """Second layer: every action refuses again (a call that bypasses check_action)."""
        if self.read_only:
            self.notify_plain(f"read-only: {what} is not available", severity="warning")
            return True
        if not self.cleanup_check_action("delete" if what != "marking runs" else "mark"):
            self.notify_plain(f"{what} is not available: " + self._why_not(), severity="warning")
            return True
        return False

    def _why_not(self) -> str:
        if self.deleter is None:
            return "no watcher connected to the cluster"
        if self._can_delete is False:
            return f"the cluster does not allow deleting {deletable_kinds_text()} here"
        return "checking permissions"

    # --- marks (kept by the tree) ----------------------------------------------------------

    def action_mark(self) -> None:
        """space: mark/unmark the highlighted Result or run Record."""
        if self.cleanup_refuse("marking runs"):
            return
        node = self.tree.cursor_node
        if node is None:
            return
        self.tree.toggle_mark(node)
        self.refresh_bindings()

    def marked_targets(self) -> list[Target]:
        cp = _planner()
        out: list[Target] = [cp.ResultTarget(i) for i in sorted(self.tree.marked)]
        out += [cp.RecordTarget(i) for i in sorted(self.tree.marked_records)]
        return out

    def cursor_targets(self) -> list[Target]:
        node: TreeNode | None = self.tree.cursor_node
        data = node.data if node is not None else None
        if isinstance(data, ResultItem):
            return [_planner().ResultTarget(data.row.id)]
        if isinstance(data, RecordItem):
            return [_planner().RecordTarget(data.row.id)]
        return []

    # --- delete --------------------------------------------------------------------------

    def action_delete(self) -> None:
        """ctrl+d: the marked runs, else the highlighted one — plan, then the dialog."""
        if self.cleanup_refuse("deleting runs"):
            return
        targets = self.marked_targets() or self.cursor_targets()
        if not targets:
            self.notify_plain("nothing selected to delete", severity="warning")
            return
        self._plan_then_confirm(lambda: targets)

    def action_delete_matching(self) -> None:
        """Palette: every stored, finished run matching the current filter."""
        if self.cleanup_refuse("deleting runs"):
            return
        flt = self.filter
        self._plan_then_confirm(lambda: _planner().select_by_filter(self.history, flt))

    def cleanup_commands(self) -> list[tuple[str, Callable[[], None], str]]:
        """Palette entries (title, callback, help) — none where the keys are not offered."""
        if not self.cleanup_check_action("delete_matching"):
            return []
        return [(DELETE_MATCHING_TITLE, self.action_delete_matching, "delete from the cluster; the history stays")]

    def make_plan(self, targets: list[Target]) -> CleanupPlan:
        return _planner().plan(self.history, targets, self.cluster.name, self.clock(), read_only=self.read_only)

    def _plan_then_confirm(self, targets_fn: Callable[[], list[Target]]) -> None:
        def work() -> None:
            try:
                p = self.make_plan(targets_fn())
            except Exception as exc:  # noqa: BLE001 - a history that cannot be read is said, never a crash
                why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self.call_from_thread(self.notify_plain, f"could not plan the delete: {why}", severity="error")
                return
            if not get_current_worker().is_cancelled:
                self.call_from_thread(self._confirm, p)

        self.run_worker(work, name="cleanup-plan", group="cleanup-plan", exclusive=True, thread=True)

    def _confirm(self, p: CleanupPlan) -> None:
        self.last_plan = p
        from tekton_results_tui.tui.screens.delete_dialog import DeleteDialog  # made on first use

        self.push_screen(DeleteDialog(p, self.clock()), self._confirmed)

    def _confirmed(self, p: CleanupPlan | None) -> None:
        if p is None or not p.deletable:
            return
        if self.cleanup_refuse("deleting runs"):
            return
        deleter = self.deleter
        if deleter is None:
            return
        from tekton_results_tui.tui.screens.delete_dialog import DeleteProgress

        progress = DeleteProgress(len(p.deletable)) if len(p.deletable) > PROGRESS_ABOVE else None
        self.last_progress = progress
        if progress is not None:
            self.push_screen(progress)

        def work() -> None:
            def cb(done: int, total: int, outcome: DeleteOutcome) -> None:
                if progress is not None:
                    self.call_from_thread(progress.advance, done, outcome.line())

            stop = (lambda: progress.stop_requested) if progress is not None else None
            outcomes: Sequence[DeleteOutcome] | Exception
            try:
                outcomes = deleter.delete_runs(p, cb, should_stop=stop)
            except Exception as exc:  # noqa: BLE001 - reported, never a crash
                outcomes = exc
            self.call_from_thread(self._deleted, p, outcomes, progress)

        self.run_worker(work, name="cleanup-delete", group="cleanup-delete", exclusive=False, thread=True)

    def _deleted(self, p: CleanupPlan, outcomes: Sequence[DeleteOutcome] | Exception,
                 progress: DeleteProgress | None) -> None:
        if progress is not None and progress.is_attached:
            progress.dismiss()
        if isinstance(outcomes, Exception):
            why = str(outcomes).splitlines()[0] if str(outcomes) else type(outcomes).__name__
            self.notify_plain(f"delete failed: {why}", severity="error", timeout=10)
            return
        self.last_outcomes = list(outcomes)
        summary, details, ok = summarize_outcomes(self.last_outcomes, len(p.deletable))
        self.notify_plain(summary + (("\n" + "\n".join(details)) if details else ""),
                          title="Cleanup", severity="information" if ok else "warning", timeout=8 if ok else 15)
        self.tree.clear_marks()
        self.refresh_bindings()
