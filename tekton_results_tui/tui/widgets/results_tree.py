"""The Results tree: Result -> Records, a page at a time, children loaded on expand.

Textual's Tree rebuilds every visible line on each add/remove (DESIGN §6), so the
tree holds only what was paged in (50 Results per page, a "load more…" node at the
end), children appear only when a Result is expanded, a batch of live changes is
applied in one handler, and status changes go through `set_label`. Labels are
`rich.text.Text` built from plain strings — cluster data is never parsed as markup.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tekton_results_tui import kinds
from tekton_results_tui.store.history import History, Page, RecordRow, ResultRow
from tekton_results_tui.store.query import Filter
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.background import read_then
from tekton_results_tui.tui.flaky_marks import flaky_label
from tekton_results_tui.tui.widgets.tree_lines import LineStyles, draw_line
from tekton_results_tui.tui.widgets.tree_columns import (DEFAULT_COLUMNS, MARK, NAME_MAX, NAME_MIN, NAME_W,
                                                         PIPELINE_MAX, RUN_W, TASK_W, Layout, layout_for,
                                                         natural_width, record_label, record_widths, result_label,
                                                         result_name)

__all__ = ["MARK", "NAME_W", "PAGE_SIZE", "LoadMoreItem", "RecordItem", "ResultItem", "ResultsTree",
           "record_label", "result_label", "result_name"]

PAGE_SIZE = 50
# Results live inserts may add above what the listing paged in before the oldest go back behind "load more…":
# a busy cluster's TUI left open for a day would otherwise hold every run since it started (and each insert
# and relabel walks the loaded lines). Trimmed in steps of LIVE_EXTRA // 5, not on every drain.
LIVE_EXTRA = 500


def _pipeline_w(row: ResultRow) -> int:
    """Cells of a Result's pipeline as its line shows it (up to PIPELINE_MAX)."""
    return min(PIPELINE_MAX, cell_len(visible(row.pipeline))) if row.pipeline else 0


def cluster_sample(history: History) -> set[str]:
    """Up to two cluster names of the stored Results: two index probes, not a scan."""
    try:
        return history.cluster_sample()
    except Exception:  # noqa: BLE001 - only a display hint: never break the tree over it
        return set()


def first_page(history: History, flt: Filter | None) -> tuple[Page, set[str]]:
    """What a listing starts from: its first page, and the clusters it may show (a cluster column or not)."""
    return history.list_results(flt, limit=PAGE_SIZE), cluster_sample(history)


def read_first_page(history: History, flt: Filter | None) -> Future[tuple[Page, set[str]]]:
    """Start reading `flt`'s first page on a thread of its own now: the app starts it before Textual builds
    the screen (compose, CSS, the first layout: ~0.4 s), so the page is there when the tree mounts and the
    first frame shows it, instead of a "loading…" frame and a second one ~0.2 s later."""
    fut: Future[tuple[Page, set[str]]] = Future()

    def read() -> None:
        try:
            fut.set_result(first_page(history, flt))
        except BaseException as exc:  # noqa: BLE001 - handed to the tree, which says it in the tree
            fut.set_exception(exc)
        finally:
            try:
                history.db.close()  # this thread's connection
            except Exception:  # noqa: BLE001
                pass

    threading.Thread(target=read, name="first-page", daemon=True).start()
    return fut


@dataclass
class ResultItem:
    row: ResultRow
    loaded: bool = False  # children fetched


@dataclass
class RecordItem:
    row: RecordRow


@dataclass
class LoadMoreItem:
    token: str


NodeData = ResultItem | RecordItem | LoadMoreItem


LOADING = "loading…"


class ResultsTree(Tree[NodeData]):
    """Results newest first; `load_page` / `load_more` page; `apply_changes` patches live rows.

    Every store read runs in a named thread worker (tui/background.py): the tree keeps what it shows
    until the answer arrives, and an expanding Result shows "loading…" until its children do.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Expand", id="tree.expand", tooltip="expand/collapse; load more"),
        Binding("space", "app.mark", "Mark", id="tree.mark", tooltip="mark the Result for cleanup"),
        Binding("tab", "app.open_detail", "Detail", id="tree.open_detail", show=False,
                tooltip="narrow screens: the selection's detail (esc back); else the next pane"),
        Binding("j", "cursor_down", "Down", id="tree.down", show=False),
        Binding("k", "cursor_up", "Up", id="tree.up", show=False),
    ]

    # The tree's size comes from the CSS and the app's split (fit_split), never from its lines. Textual's
    # Tree asks for a layout of the whole screen on every add/remove and every line-count change; on a live
    # cluster that was a reflow per drain, each re-measuring the auto-height widgets beside the tree (the
    # Summary's tables). A line-count change only needs the scrollbar updated.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted:
            self._scroll_update(size)  # what a layout would have done for a scroll view (bar, offsets)

    def _invalidate(self) -> None:
        """Tree._invalidate without the layout (see virtual_size); once for a batch of adds (adding())."""
        self._clear_line_cache()
        self._updates += 1
        self.root._reset()
        if not self._adding:
            self.refresh()

    _adding = False

    @contextmanager
    def adding(self) -> Iterator[None]:
        """Add a page of lines with one repaint: Tree.add repaints (marks the whole tree dirty) per node."""
        self._adding = True
        try:
            yield
        finally:
            self._adding = False
            self.refresh()

    def process_label(self, label: str | Text) -> Text:
        """Tree keeps a label's first line (a copy made by splitting it): ours are one line already
        (cluster text has its controls escaped), so the Text is used as it is."""
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    class PageLoaded(Message):
        """A first page arrived for `filter` (`error`: the store could not run it; the tree kept its rows)."""

        def __init__(self, flt: Filter | None, count: int, error: BaseException | None = None) -> None:
            super().__init__()
            self.filter = flt
            self.count = count
            self.error = error

    class Inserted(Message):
        """Live changes put `count` new Results in the tree."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, history: History, clock: Callable[[], float] = time.time, *, id: str | None = "tree",
                 columns: tuple[str, ...] = DEFAULT_COLUMNS) -> None:
        super().__init__(Text("Results"), id=id)
        self.history = history
        self.clock = clock
        self.show_root = False
        self.guide_depth = 2
        self.show_cluster = False  # the history holds more than one cluster: name it on each Result line
        self.columns = columns  # the optional columns the user wants (as width allows)
        self.widest = NAME_MIN  # the longest name loaded (cells, up to NAME_MAX)
        self.widest_pipeline = 0  # the longest pipeline loaded (cells, up to PIPELINE_MAX)
        self.line_layout = Layout((), NAME_W)
        self._relabel_scheduled = False
        self._node_lines: LRUCache[tuple[object, ...], Strip] = LRUCache(2048)  # _render_line
        self._line_styles: dict[tuple[object, ...], LineStyles] = {}  # _render_line: per state and base style
        self.run_w = RUN_W  # the run-name column of child lines
        self.task_w = TASK_W
        self._clusters: set[str] = set()
        self.filter: Filter | None = None
        self.result_nodes: dict[int, TreeNode[NodeData]] = {}  # result id -> node (loaded ones only)
        self.record_nodes: dict[int, TreeNode[NodeData]] = {}  # record id -> node (expanded Results only)
        self.load_more_node: TreeNode[NodeData] | None = None
        self.empty_node: TreeNode[NodeData] | None = None  # "nothing here" / "loading…" line
        self._page_gen = 0  # drops pages and children of a listing that was replaced meanwhile
        self._paged = 0  # Results the listing's pages brought (live inserts come on top)
        # Marks (for ctrl+d) live here and only here: labels are built from them, so a live relabel keeps them.
        self.marked: set[int] = set()  # marked Results (ids)
        self.marked_records: set[int] = set()  # marked run Records (ids)
        self.flaky: set[int] = set()  # loaded Results judged flaky (tui/flaky_marks.py)

    @property
    def name_w(self) -> int:
        return self.line_layout.name_w

    def content_width(self) -> int:
        return self.scrollable_content_region.width or self.size.width or 80

    def natural_width(self) -> int:
        """Cells a line wants for every wanted column and whole names (the app sizes the split by it)."""
        return natural_width(self.widest, self.columns, self.show_cluster, self.widest_pipeline)

    # --- paging ---------------------------------------------------------------------

    def load_page(self, flt: Filter | None, before: Callable[[], object] | None = None,
                  prefetched: Future[tuple[Page, set[str]]] | None = None) -> None:
        """Ask for the first page for `flt`; the rows shown stay until it arrives, then the cursor goes to
        the first Result and `PageLoaded` is posted. `before` runs in the worker ahead of the read.
        `prefetched`: this page, being read already (read_first_page); when it is there, it goes into the
        tree now, else the worker waits for it."""
        self._page_gen += 1
        gen = self._page_gen
        if prefetched is not None and prefetched.done():
            exc = prefetched.exception()
            self._page_arrived(gen, flt, None if exc else prefetched.result(), exc)
            return
        if not self.result_nodes and self.empty_node is None:
            self.empty_node = self.root.add_leaf(Text(LOADING, style="dim italic"), data=None)

        def read() -> tuple[Page, set[str]]:
            if prefetched is not None:
                return prefetched.result()
            if before is not None:
                before()
            return first_page(self.history, flt)

        read_then(self, self.history, read, lambda got, err: self._page_arrived(gen, flt, got, err),
                  group="tree-page", exclusive=True, name=f"page {flt.text if flt is not None else ''}")

    def _page_arrived(self, gen: int, flt: Filter | None, got: tuple[Page, set[str]] | None,
                      error: BaseException | None) -> None:
        if gen != self._page_gen:
            return
        if error is not None or got is None:
            if self.empty_node is not None and not self.result_nodes:
                self.empty_node.set_label(Text("could not read the history", style="dim italic"))
            self.post_message(self.PageLoaded(flt, 0, error or RuntimeError("no page")))
            return
        page, clusters = got
        self.filter = flt
        self.clear()
        self.result_nodes.clear()
        self.record_nodes.clear()
        self.load_more_node = None
        self.empty_node = None
        self._clusters = clusters
        self.show_cluster = len(self._clusters) > 1
        self.widest = NAME_MIN  # a new listing sizes its name and pipeline columns afresh
        self.widest_pipeline = 0
        self._paged = len(page.items)
        self._append_rows(page.items, page.next_token)
        if not page.items:
            msg = "no Results match this filter" if flt is not None and not flt.empty else \
                "no runs stored yet — they appear here as the watcher sees them"
            self.empty_node = self.root.add_leaf(Text(msg, style="dim italic"), data=None)
        if self.root.children:
            self.goto(self.root.children[0])
        self.post_message(self.PageLoaded(flt, len(page.items)))

    def load_more(self) -> None:
        """Replace the "load more…" node with the next page (it says "loading…" until the page arrives)."""
        node = self.load_more_node
        if node is None or not isinstance(node.data, LoadMoreItem) or node.data.token == "":
            return
        token = node.data.token
        node.data = LoadMoreItem("")  # asked: a second enter does not ask again
        node.set_label(Text(LOADING, style="italic dim"))
        gen, flt = self._page_gen, self.filter
        read_then(self, self.history, lambda: self.history.list_results(flt, page_token=token, limit=PAGE_SIZE),
                  lambda page, err: self._more_arrived(gen, node, token, page, err),
                  group="tree-more", exclusive=True, name="next page")

    def _more_arrived(self, gen: int, node: TreeNode[NodeData], token: str, page: Page | None,
                      error: BaseException | None) -> None:
        if gen != self._page_gen or node is not self.load_more_node:
            return
        if error is not None or page is None:
            node.data = LoadMoreItem(token)
            node.set_label(Text("load more… (the last read failed: enter to retry)", style="italic dim"))
            return
        was_cursor = self.cursor_node is node
        node.remove()
        self.load_more_node = None
        self._paged += len(page.items)
        first = self._append_rows(page.items, page.next_token)
        if was_cursor and first is not None:
            self.goto(first)

    def _append_rows(self, rows: Iterable[ResultRow], token: str | None) -> TreeNode[NodeData] | None:
        now = self.clock()
        first = None
        rows = list(rows)
        widest = max((cell_len(result_name(r)) for r in rows), default=0)
        widest_pipeline = max((_pipeline_w(r) for r in rows), default=0)
        if min(NAME_MAX, widest) > self.widest or widest_pipeline > self.widest_pipeline:
            # size the columns before adding: one relabel at most
            self.widest = max(self.widest, min(NAME_MAX, widest))
            self.widest_pipeline = max(self.widest_pipeline, widest_pipeline)
            self._fit_layout(relabel=bool(self.result_nodes))
        else:
            self._fit_layout(relabel=False)
        with self.adding():
            for row in rows:
                if row.id in self.result_nodes:
                    continue  # a live insert already put it at the top
                n = self.root.add(self._result_label(row, now, row.id in self.marked), data=ResultItem(row),
                                  allow_expand=True)
                self.result_nodes[row.id] = n
                first = first or n
            if token:
                self.load_more_node = self.root.add_leaf(Text("load more…", style="italic dim"),
                                                         data=LoadMoreItem(token))
        return first

    # --- children ---------------------------------------------------------------------

    def ensure_children(self, node: TreeNode[NodeData]) -> None:
        """Load a Result's Records under it (once; live changes keep them current): "loading…" until they arrive."""
        item = node.data
        if not isinstance(item, ResultItem) or item.loaded:
            return
        item.loaded = True
        placeholder = node.add_leaf(Text(LOADING, style="dim italic"), data=None)
        rid = item.row.id
        read_then(self, self.history, lambda: self.history.records_of(rid),
                  lambda recs, err: self._children_arrived(node, placeholder, recs, err),
                  group="tree-children", exclusive=False, name=f"children {rid}")

    def _children_arrived(self, node: TreeNode[NodeData], placeholder: TreeNode[NodeData],
                          recs: list[RecordRow] | None, error: BaseException | None) -> None:
        item = node.data
        if not isinstance(item, ResultItem) or self.result_nodes.get(item.row.id) is not node:
            return  # the listing was replaced meanwhile
        if error is not None or recs is None:
            item.loaded = False  # collapse and expand again to retry
            placeholder.set_label(Text("could not read this Result's records", style="dim italic"))
            return
        placeholder.remove()
        now = self.clock()
        for rec in recs:
            if rec.id in self.record_nodes:
                continue  # a live change already put it there
            self.record_nodes[rec.id] = node.add_leaf(self.record_label_for(rec, now), data=RecordItem(rec))
        self.call_after_refresh(self._reveal_children, node)

    def _reveal_children(self, node: TreeNode[NodeData]) -> None:
        """The Result the cursor expanded, near the bottom: scroll up so its lines show (a screenful at most,
        the Result's own line kept in view); its children had opened below the fold."""
        if not node.is_expanded or self.cursor_node is not node or node.line < 0:
            return
        height = self.scrollable_content_region.height
        last = node.line + len(node.children)
        if height > 0 and last >= self.scroll_offset.y + height:
            self.scroll_to(y=min(node.line, last - height + 1), animate=False)

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        item = event.node.data
        if isinstance(item, ResultItem) and item.loaded:
            self.call_after_refresh(self._reveal_children, event.node)
        self.ensure_children(event.node)

    def _on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        if isinstance(event.node.data, LoadMoreItem):
            self.load_more()

    # --- live changes --------------------------------------------------------------------

    def apply_changes(self, results: list[ResultRow], records: list[RecordRow]) -> int:
        """Patch loaded nodes, insert new matching Results at the top. The cursor stays on its node.

        Returns how many Results were inserted now; under a filter the new ones are checked against it
        in a worker and inserted (with an `Inserted` message) when the answer arrives.
        """
        now = self.clock()
        if not self.show_cluster and results:
            self._clusters |= {r.cluster for r in results}
            if len(self._clusters) > 1:  # a second cluster's first run arrived: name the cluster on every line
                self.show_cluster = True
                self._fit_layout(relabel=True)
        new_rows: list[ResultRow] = []
        for row in results:
            node = self.result_nodes.get(row.id)
            if node is not None:
                assert isinstance(node.data, ResultItem)
                node.data.row = row
                self.relabel(node, self._result_label(row, now, row.id in self.marked))
            else:
                new_rows.append(row)
        inserted = 0
        candidates = self._candidates(new_rows)
        if candidates and self.filter is not None and not self.filter.empty:
            flt, gen = self.filter, self._page_gen
            ids = [r.id for r in candidates]
            read_then(self, self.history, lambda: self.history.result_ids_matching(ids, flt),
                      lambda matching, err: self._matching_arrived(gen, candidates, matching, err),
                      group="tree-live", exclusive=False, name="live filter check")
        elif candidates:
            inserted = self._insert_new(candidates, now)
            if inserted:
                self._trim_bottom()
                self.post_message(self.Inserted(inserted))
        for rec in records:
            rnode = self.record_nodes.get(rec.id)
            if rnode is not None:
                assert isinstance(rnode.data, RecordItem)
                rnode.data.row = rec
                self.relabel(rnode, self.record_label_for(rec, now))
                continue
            parent = self.result_nodes.get(rec.result_id)
            if parent is not None and isinstance(parent.data, ResultItem) and parent.data.loaded:
                self._insert_record(parent, rec, now)
        return inserted

    def _matching_arrived(self, gen: int, candidates: list[ResultRow], matching: set[int] | None,
                          error: BaseException | None) -> None:
        if gen != self._page_gen or error is not None or matching is None:
            return  # a new listing replaced this one (it has read the rows itself), or the check failed
        rows = [r for r in candidates if r.id in matching and r.id not in self.result_nodes]
        inserted = self._insert_new(self._candidates(rows), self.clock())
        if inserted:
            self._trim_bottom()
            self.post_message(self.Inserted(inserted))

    def _candidates(self, rows: list[ResultRow]) -> list[ResultRow]:
        """New rows that belong among what is loaded; rows older than the last loaded one are left for
        paging to reach."""
        if not rows:
            return []
        loaded = [c for c in self.root.children if isinstance(c.data, ResultItem)]
        if loaded and self.load_more_node is not None:
            last = loaded[-1].data.row  # type: ignore[union-attr]
            bottom = (last.sort_time, last.id)
            return [r for r in rows if (r.sort_time, r.id) > bottom]
        return rows

    def _insert_new(self, candidates: list[ResultRow], now: float) -> int:
        """Insert new Results in newest-first order among what is loaded (usually at the top)."""
        if not candidates:
            return 0
        loaded = [c for c in self.root.children if isinstance(c.data, ResultItem)]
        if self.empty_node is not None:
            self.empty_node.remove()
            self.empty_node = None
        cursor_res = self.result_node_of(self.cursor_node)
        cursor_key = (cursor_res.data.row.sort_time, cursor_res.data.row.id) \
            if cursor_res is not None and isinstance(cursor_res.data, ResultItem) else None
        above = 0
        scroll_before = self.scroll_y
        keys = [(c.data.row.sort_time, c.data.row.id) for c in loaded]  # type: ignore[union-attr]
        for row in sorted(candidates, key=lambda r: (r.sort_time, r.id), reverse=True):
            key = (row.sort_time, row.id)
            pos = next((i for i, k in enumerate(keys) if k < key), None)  # first older loaded row
            label = self._result_label(row, now, row.id in self.marked)
            if pos is not None:
                before_node = self._result_child_at(pos)
                n = self.root.add(label, data=ResultItem(row), before=before_node, allow_expand=True)
                keys.insert(pos, key)
            elif self.load_more_node is not None:
                n = self.root.add(label, data=ResultItem(row), before=self.load_more_node, allow_expand=True)
                keys.append(key)
            else:
                n = self.root.add(label, data=ResultItem(row), allow_expand=True)
                keys.append(key)
            self.result_nodes[row.id] = n
            if cursor_key is not None and key > cursor_key:
                above += 1
        if above and scroll_before > 0:
            # keep the rows the user is looking at where they were
            self.scroll_to(y=scroll_before + above, animate=False, immediate=True)
        if self.cursor_node is None and self.root.children:
            self.goto(self.root.children[0])
        return len(candidates)

    def _trim_bottom(self) -> None:
        """Let the oldest Results go back behind "load more…" once live inserts have put LIVE_EXTRA (and a
        step) more above what was paged in. Never the cursor's, an expanded or a marked one, nor anything
        above it: only a run of unused lines at the bottom goes, so the listing keeps no gap."""
        keep = self._paged + LIVE_EXTRA
        if len(self.result_nodes) <= keep + LIVE_EXTRA // 5:
            return
        if self.load_more_node is not None and isinstance(self.load_more_node.data, LoadMoreItem) \
                and self.load_more_node.data.token == "":
            return  # a next page is on its way: it continues from the current last line
        cursor_res = self.result_node_of(self.cursor_node)
        results = [c for c in self.root.children if isinstance(c.data, ResultItem)]
        cut_at = keep
        for i in range(len(results) - 1, keep - 1, -1):
            node = results[i]
            item = node.data
            assert isinstance(item, ResultItem)
            if node is cursor_res or node.is_expanded or item.row.id in self.marked or any(
                    isinstance(c.data, RecordItem) and c.data.row.id in self.marked_records for c in node.children):
                cut_at = i + 1
                break
        gone = results[cut_at:]
        if not gone:
            return
        for node in gone:
            item = node.data
            assert isinstance(item, ResultItem)
            for c in node.children:
                if isinstance(c.data, RecordItem):
                    self.record_nodes.pop(c.data.row.id, None)
            self.result_nodes.pop(item.row.id, None)
            self.flaky.discard(item.row.id)
            node.remove()
        last = results[cut_at - 1].data
        assert isinstance(last, ResultItem)
        token = self.history.token_after(last.row)
        if self.load_more_node is None:
            self.load_more_node = self.root.add_leaf(Text("load more…", style="italic dim"), data=LoadMoreItem(token))
        else:
            self.load_more_node.data = LoadMoreItem(token)

    def _result_child_at(self, pos: int) -> TreeNode[NodeData]:
        """The pos-th Result node among the root's children (skips non-Result lines)."""
        i = -1
        for c in self.root.children:
            if isinstance(c.data, ResultItem):
                i += 1
                if i == pos:
                    return c
        raise IndexError(pos)

    def _insert_record(self, parent: TreeNode[NodeData], rec: RecordRow, now: float) -> None:
        """Put a new child in the registry's order: the PipelineRun, its child runs, then documents."""
        last = max(kinds.RANK.values()) + 1
        key = kinds.RANK.get(rec.kind, last)
        before = None
        for child in parent.children:
            d = child.data
            if isinstance(d, RecordItem) and kinds.RANK.get(d.row.kind, last) > key:
                before = child
                break
        label = self.record_label_for(rec, now)
        if before is not None:
            n = parent.add_leaf(label, data=RecordItem(rec), before=before)
        else:
            n = parent.add_leaf(label, data=RecordItem(rec))
        self.record_nodes[rec.id] = n

    # --- marks and refresh ----------------------------------------------------------------

    @property
    def has_marks(self) -> bool:
        return bool(self.marked or self.marked_records)

    def toggle_mark(self, node: TreeNode[NodeData]) -> None:
        """Mark/unmark a run Record line, or else the Result `node` belongs to."""
        data = node.data
        if isinstance(data, RecordItem) and kinds.is_run(data.row.kind):
            self.marked_records.symmetric_difference_update({data.row.id})
            node.set_label(self.record_label_for(data.row))
            return
        res = self.result_node_of(node)
        if res is None or not isinstance(res.data, ResultItem):
            return
        rid = res.data.row.id
        self.marked.symmetric_difference_update({rid})
        res.set_label(self._result_label(res.data.row, self.clock(), rid in self.marked))

    def clear_marks(self) -> None:
        records = [self.record_nodes[i] for i in self.marked_records if i in self.record_nodes]
        self.marked.clear()
        self.marked_records.clear()
        for n in records:
            if isinstance(n.data, RecordItem):
                n.set_label(self.record_label_for(n.data.row))
        self.relabel_all()

    def result_node_of(self, node: TreeNode[NodeData] | None) -> TreeNode[NodeData] | None:
        while node is not None and not isinstance(node.data, ResultItem):
            node = node.parent
        return node

    def relabel_all(self) -> None:
        """Refresh ages/durations of what is loaded (cheap: labels only)."""
        now = self.clock()
        for rid, node in self.result_nodes.items():
            if isinstance(node.data, ResultItem):
                self.relabel(node, self._result_label(node.data.row, now, rid in self.marked))

    def goto(self, node: TreeNode[NodeData], scroll: bool = True) -> None:
        """Move the cursor to `node` right after adds/removes (lines are rebuilt first, else its line is stale)."""
        _ = self._tree_lines  # rebuilds the line cache if an add/remove invalidated it
        self.move_cursor(node)
        if scroll:
            self.scroll_to_node(node, animate=False)

    def relabel_running(self) -> None:
        """Tick the durations of running Results (few; the rest change only with the store)."""
        now = self.clock()
        for rid, node in self.result_nodes.items():
            if isinstance(node.data, ResultItem) and node.data.row.end is None and node.data.row.start is not None:
                self.relabel(node, self._result_label(node.data.row, now, rid in self.marked))

    # --- drawing ----------------------------------------------------------------------

    _pass_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual's Tree asks `rich_style` (a walk up every ancestor's background) for each line it draws;
        within one pass it is the same for all: worked out once. A new page draws every visible line, and
        this was ~a third of the tree's time per frame (profiled at 1.2M records, filter applied)."""
        self._pass_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = None

    def render_line(self, y: int) -> Strip:
        style = self._pass_style if self._pass_style is not None else self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A line drawn once per look of its node, wherever it sits. Textual's Tree keys each line by its
        position and by a tree-wide counter of adds/removes, so one live insert at the top redraws every
        visible line (~0.5 ms each: 20-30 ms of a frame with the detail pane beside it). Here a line is
        keyed by its node, the node path's updates (labels, hover, selection, expansion), whether the
        cursor or mouse is on it, focus and width: after an insert only the new lines are drawn.

        A miss is drawn by tree_lines.draw_line, which leaves out Tree's {"line": y} style meta (a drawing
        reused at another y would carry a stale one): the mouse reads the line from the pointer's position
        instead (_on_mouse_move, _on_click). Textual is pinned exactly in pyproject.toml: the size
        snapshots draw through here."""
        lines = self._tree_lines
        if y >= len(lines):
            return Strip.blank(self.size.width, base_style)
        line = lines[y]
        path = line.path
        key = (line.node._id, line.last, tuple(n._updates for n in path), line.node._expanded,
               self.hover_line >= 0 and any(n._hover for n in path), y == self.hover_line, y == self.cursor_line,
               self.has_focus, self.size.width, self.virtual_size.width, self._pseudo_class_state, base_style)
        strip = self._node_lines.get(key)
        if strip is None:
            # The component styles (guides, label, cursor...) change only with the tree's state (focus,
            # hover) and the CSS: kept per state, not worked out per pass (~1 ms: 7 component lookups).
            skey = (self._pseudo_class_state, base_style)
            styles = self._line_styles.get(skey)
            if styles is None:
                styles = self._line_styles[skey] = LineStyles.of(self)
            strip = self._node_lines[key] = draw_line(self, y, line, base_style, styles)
        return strip.crop(x1, x2)

    def notify_style_update(self) -> None:
        self._node_lines.clear()  # a theme or CSS change: every look is new
        self._line_styles.clear()
        super().notify_style_update()

    def clear(self) -> ResultsTree:
        """Tree.clear numbers the next listing's nodes from 1 again: their drawings must go with the old ones."""
        self._node_lines.clear()
        super().clear()
        return self

    def _line_under(self, event: events.MouseEvent) -> int:
        offset = event.get_content_offset(self)
        if offset is None:
            return -1
        line = offset.y + self.scroll_offset.y
        return line if 0 <= line < len(self._tree_lines) else -1

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        event.prevent_default()  # Tree's reads the line from the style, stale in a cached line
        self.hover_line = self._line_under(event)

    async def _on_click(self, event: events.Click) -> None:
        event.prevent_default()  # as Tree's, with the line from the pointer's position
        async with self.lock:
            line = self._line_under(event)
            if line < 0:
                return
            if event.style.meta.get("toggle", False):
                node = self.get_node_at_line(line)
                if node is not None:
                    self._toggle_node(node)
            else:
                self.cursor_line = line
                await self.run_action("select_cursor")

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        """A line's cells (its label and the expand icon) without rendering it: Tree renders every line's
        label to measure it on each rebuild, and a live insert rebuilds all lines — with a couple of
        thousand lines after some minutes of live inserts, that measuring was most of a frame."""
        icon = (self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE) if node.allow_expand else ""
        return node._label.cell_len + cell_len(icon)

    @staticmethod
    def relabel(node: TreeNode[NodeData], label: Text) -> None:
        """Set a line's label only when it reads or looks different: an unchanged line keeps its cached
        render (a live update or the 1 s tick of running durations repaints only the lines that changed)."""
        old = node._label
        if old.plain != label.plain or old.spans != label.spans or old.style != label.style:
            node.set_label(label)

    def _result_label(self, row: ResultRow, now: float, marked: bool = False) -> Text:
        want, want_pipeline = min(NAME_MAX, cell_len(result_name(row))), _pipeline_w(row)
        if want > self.widest or want_pipeline > self.widest_pipeline:
            # a longer name or pipeline arrived: widen the column for every line (labels only)
            self.widest = max(self.widest, want)
            self.widest_pipeline = max(self.widest_pipeline, want_pipeline)
            if not self._relabel_scheduled:
                self._relabel_scheduled = True
                self.call_later(self._relabel_for_width)
        label = result_label(row, now, marked, show_cluster=self.show_cluster, layout=self.line_layout)
        return flaky_label(label) if row.id in self.flaky and not marked else label

    def _relabel_for_width(self) -> None:
        self._relabel_scheduled = False
        self._fit_layout(relabel=True)

    def _fit_layout(self, relabel: bool) -> None:
        """Choose the columns for the current width and names; relabel when they changed (or asked)."""
        layout = layout_for(self.content_width(), self.widest, self.columns, self.show_cluster, self.widest_pipeline)
        changed = layout != self.line_layout
        self.line_layout = layout
        if changed or relabel:
            self.relabel_all()

    def set_columns(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self._fit_layout(relabel=True)

    def record_label_for(self, rec: RecordRow, now: float | None = None) -> Text:
        return record_label(rec, self.clock() if now is None else now, run_w=self.run_w,
                            marked=rec.id in self.marked_records, task_w=self.task_w)

    def on_resize(self) -> None:
        self._fit_layout(relabel=False)
        task_w, run_w = record_widths(self.content_width())
        if (task_w, run_w) != (self.task_w, self.run_w):
            self.task_w, self.run_w = task_w, run_w
            for node in self.record_nodes.values():
                if isinstance(node.data, RecordItem):
                    node.set_label(self.record_label_for(node.data.row))

    def find_node(self, result_id: int) -> TreeNode[NodeData] | None:
        return self.result_nodes.get(result_id)
