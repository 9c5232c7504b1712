"""A slow database never holds the keys: the app's store reads run in workers (tui/background.py).

The history is wrapped so that its reads block until the test lets them through; keys pressed
meanwhile must be handled, and the rows must appear once the reads return.
"""

from __future__ import annotations

import threading
from typing import Any

from textual.widgets import Input

from tekton_results_tui.tui.app import ResultsApp
from tekton_results_tui.tui.widgets.results_tree import LOADING, RecordItem, ResultItem

from .conftest import SIZE, T0, fixed_histories

SLOW_READS = {"list_results", "records_of", "count_results", "size", "result_ids_matching", "cluster_sample",
              "get_result", "record_object", "get_record"}


class GatedHistory:
    """A History whose reads wait for `gate` (open by default); `blocked` counts reads waiting now."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.gate = threading.Event()
        self.gate.set()
        self.blocked = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in SLOW_READS:
            return attr

        def slow(*args: Any, **kw: Any) -> Any:
            with self._lock:
                self.blocked += 1
            try:
                if not self.gate.wait(30):
                    raise TimeoutError("the test never opened the gate")
                return attr(*args, **kw)
            finally:
                with self._lock:
                    self.blocked -= 1

        return slow


async def wait_until(pilot, cond, what: str) -> None:
    for _ in range(500):
        if cond():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_keys_are_handled_while_the_store_is_slow(db_path) -> None:
    with fixed_histories(db_path) as open_history:
        slow = GatedHistory(open_history(False))
        app = ResultsApp(slow, clock=lambda: float(T0), live=False)  # type: ignore[arg-type]
        app.settle_in_tests = False  # this test is about not waiting
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: len(app.tree.result_nodes) == 50, "the first page")
            first = app.tree.cursor_node
            assert isinstance(first.data, ResultItem)

            slow.gate.clear()  # from now on every read waits
            await pilot.press("enter")  # expand: its children are being read
            assert first.is_expanded
            assert [c.label.plain for c in first.children] == [LOADING]
            await wait_until(pilot, lambda: slow.blocked >= 1, "the children read to start")
            await pilot.press("down", "down")  # keys move the cursor while the read waits
            assert app.tree.cursor_line == 2
            assert slow.blocked >= 1 and [c.label.plain for c in first.children] == [LOADING]

            slow.gate.set()  # the database answers: the children replace "loading…"
            await wait_until(pilot, lambda: any(isinstance(c.data, RecordItem) for c in first.children),
                             "the children")
            assert LOADING not in [c.label.plain for c in first.children]

            before = [n.data.row.id for n in app.tree.root.children if isinstance(n.data, ResultItem)]
            slow.gate.clear()
            await pilot.press("slash", *"ns:ci")  # typing a filter while the database is slow
            assert isinstance(app.focused, Input) and app.focused.value == "ns:ci"
            await wait_until(pilot, lambda: slow.blocked >= 1, "the filtered page read to start")
            await pilot.press("left", "left")  # still typing: the bar answers
            assert app.focused.cursor_position == len("ns:ci") - 2
            shown = [n.data.row.id for n in app.tree.root.children if isinstance(n.data, ResultItem)]
            assert shown == before  # the old rows stay until the new page arrives

            slow.gate.set()
            await wait_until(pilot, lambda: app.tree.filter is not None and app.tree.filter.text == "ns:ci",
                             "the filtered page")
            rows = [n.data.row for n in app.tree.root.children if isinstance(n.data, ResultItem)]
            assert rows and all(r.parent == "ci" for r in rows)


class BoundedCountHistory(GatedHistory):
    """Bounded counts answer at once ("at least 3"); the exact count waits for the gate."""

    def __getattr__(self, name: str) -> Any:
        if name != "count_results":
            return getattr(self._inner, name)
        inner = self._inner.count_results

        def count_results(flt: Any = None, limit: int | None = None) -> Any:
            if limit is not None:
                n = inner(flt)
                return (min(n, 3), n <= 3)
            if not self.gate.wait(30):
                raise TimeoutError("the test never opened the gate")
            return inner(flt)

        return count_results


async def test_a_bounded_count_shows_first_and_the_exact_one_follows(db_path) -> None:
    with fixed_histories(db_path) as open_history:
        hist = BoundedCountHistory(open_history(False))
        hist.gate.clear()
        app = ResultsApp(hist, clock=lambda: float(T0), live=False)  # type: ignore[arg-type]
        app.settle_in_tests = False
        async with app.run_test(size=SIZE) as pilot:
            count = app.query_one("#filter-count")
            await wait_until(pilot, lambda: str(count.render()).startswith("≥ 3"), "the bounded count")
            hist.gate.set()
            await wait_until(pilot, lambda: str(count.render()).strip().startswith("120 results"), "the exact count")
