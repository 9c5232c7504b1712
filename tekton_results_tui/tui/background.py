"""Store reads off the UI thread: each read runs in a named thread worker, its answer is applied on the UI.

A shared PostgreSQL across a network costs a round trip per query; the UI thread never pays it, so keys,
scrolling and the filter bar stay responsive while a page, a Result's children or a count is on its way.
Groups are named (DESIGN §6): an exclusive group cancels the stale read when a newer one starts (a filter
keystroke supersedes the previous one). The thread releases its connection when done: PostgreSQL's goes
back to the pool; SQLite's stays with the pool thread for its next read (History.release_connection).
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState, get_current_worker

from tekton_results_tui.store.history import History

T = TypeVar("T")

# Groups whose workers read for what the screen shows (tests and benchmarks wait for them to settle).
READ_GROUPS = ("tree-page", "tree-more", "tree-children", "tree-live", "count", "header", "user-read", "export",
               "stats", "diff", "log-search", "tree-flaky")


def read_then(node: DOMNode, history: History, read: Callable[[], T],
              done: Callable[[T | None, BaseException | None], None], *, group: str, exclusive: bool,
              name: str) -> Worker[None]:
    """Run `read()` in a thread worker of `group`; then call `done(value, error)` on the UI thread
    unless the worker was cancelled meanwhile (a newer read of an exclusive group superseded it)."""

    def work() -> None:
        worker = get_current_worker()
        value: Any = None
        error: BaseException | None = None
        try:
            value = read()
        except Exception as exc:  # noqa: BLE001 - handed to `done`, which says it in words
            error = exc
        finally:
            try:
                history.release_connection(failed=error is not None)  # PostgreSQL: to the pool; SQLite: kept
            except Exception:  # noqa: BLE001 - releasing is housekeeping
                pass
        if worker.is_cancelled:
            return
        try:
            node.app.call_from_thread(_apply, worker, done, value, error)
        except RuntimeError:  # the app is shutting down
            pass

    return node.run_worker(work, thread=True, group=group, exclusive=exclusive, name=name, exit_on_error=False)


def _apply(worker: Worker[None], done: Callable[[Any, BaseException | None], None], value: Any,
           error: BaseException | None) -> None:
    if not worker.is_cancelled:
        done(value, error)


def reads_in_flight(node: DOMNode) -> list[Worker[Any]]:
    """The app's unfinished read workers (the tree's, the counts', the header's, the detail tabs')."""
    return [w for w in node.workers
            if (w.group in READ_GROUPS or w.group.startswith("detail-"))
            and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
