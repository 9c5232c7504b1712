"""The Results tree: Result -> Records, a page at a time, children loaded on expand.

Textual's Tree rebuilds every visible line on each add/remove (DESIGN §6), so the
tree holds only what was paged in (50 Results per page, a "load more…" node at the
end), children appear only when a Result is expanded, a batch of live changes is
applied in one handler, and status changes go through `set_label`. Labels are
`rich.text.Text` built from plain strings — cluster data is never parsed as markup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tekton_results_tui import kinds
from tekton_results_tui.store.history import History, RecordRow, ResultRow
from tekton_results_tui.store.query import Filter
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.formatting import fmt_age, fmt_duration, status_icon

PAGE_SIZE = 50


def cluster_sample(history: History) -> set[str]:
    """Up to two cluster names of the stored Results: two index probes, not a scan."""
    try:
        return history.cluster_sample()
    except Exception:  # noqa: BLE001 - only a display hint: never break the tree over it
        return set()


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


# Column widths (cells) of a Result line: fixed so lines read as a table, as in k9s; the name
# column takes what the tree's width leaves (name_width_for), between NAME_MIN and NAME_MAX.
NAME_W, NAME_MIN, NAME_MAX, NS_W, PIPELINE_W, DUR_W, AGE_W, CLUSTER_W = 30, 12, 48, 9, 14, 7, 4, 10
TASK_W, RUN_W = 18, 34
GONE_W = 5  # " gone"
FIXED_W = 4 + 2 + 2 + (1 + NS_W) + (1 + PIPELINE_W) + (1 + DUR_W) + (1 + AGE_W) + GONE_W + 3  # expander, mark, icon, columns, slack
RECORD_FIXED_W = 6 + 2 + TASK_W + 1 + (1 + DUR_W) + 3  # deeper guides, icon, task, duration, slack


def run_width_for(tree_width: int) -> int:
    return max(12, min(44, tree_width - RECORD_FIXED_W))


def name_width_for(tree_width: int, show_cluster: bool = False) -> int:
    extra = (CLUSTER_W + 1) if show_cluster else 0
    return max(NAME_MIN, min(NAME_MAX, tree_width - FIXED_W - extra))


def _col(text: str, width: int, right: bool = False, cut: bool = True) -> str:
    """`text` fitted to `width` cells: cut with an ellipsis (unless `cut` is False: names are shown
    whole), padded with spaces (unicode-aware)."""
    if cut and cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def result_name(row: ResultRow) -> str:
    """The name shown for a Result: its top-level run's name, controls written as visible escapes."""
    return visible(row.display_name or row.name.rsplit("/", 1)[-1])


MARK = "▶ "


def result_label(row: ResultRow, now: float, marked: bool = False, show_cluster: bool = False,
                 name_w: int = NAME_W) -> Text:
    """status icon, [cluster,] run name, namespace, pipeline, duration, age, and "gone" when out of
    the cluster, in fixed-width columns. The cluster is shown when the history holds several."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(MARK if marked else "  ", style="bold magenta")
    t.append_text(status_icon(row.status, row.in_cluster))
    t.append(" ")
    if show_cluster:
        t.append(_col(visible(row.cluster or "-"), CLUSTER_W) + " ", style="magenta")
    t.append(_col(result_name(row), name_w, cut=False), style="bold" if row.in_cluster else "")
    t.append(" " + _col(visible(row.parent), NS_W), style="cyan")
    t.append(" " + _col(visible(row.pipeline or ""), PIPELINE_W), style="blue")
    dur = row.duration
    if dur is None and row.start is not None and row.end is None:
        dur = int(now - row.start)  # running: time so far
    t.append(" " + _col(fmt_duration(dur), DUR_W, right=True))
    t.append(" " + _col(fmt_age(row.sort_time, now), AGE_W, right=True), style="dim")
    if not row.in_cluster:
        t.append(" gone", style="dim italic")
    return t


# Child lines of a PipelineRun name its task; kinds other than the usual child (TaskRun) carry their tag.
_USUAL_CHILD = {parent: kinds.children_of(parent)[0].name
                for parent in {k.parent for k in kinds.RUN_KINDS if k.parent}}
_DOCUMENT_ICONS = {kinds.LOG.name: "≡ "}  # other documents (events): "⚑ "
_DOCUMENT_TAGS = {d.name: d.tag for d in kinds.DOCUMENT_KINDS}


def record_label(rec: RecordRow, now: float, run_w: int = RUN_W, marked: bool = False) -> Text:
    """A child line: status icon, kind or task, run name, duration; "gone" when out of the cluster."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if marked:
        t.append(MARK, style="bold magenta")
    kind = kinds.run_kind(rec.kind)
    if kind is not None:
        t.append_text(status_icon(rec.status, rec.in_cluster))
        t.append(" ")
        run_name = visible(rec.run_name)
        if kind.parent is None:  # the Result's own run
            t.append(_col(kind.name, TASK_W), style="blue")
            t.append(" " + _col(run_name, run_w, cut=False), style="bold" if rec.in_cluster else "")
        else:
            task = visible(rec.pipeline_task or rec.task or rec.run_name)
            if kind.name != _USUAL_CHILD.get(kind.parent):
                t.append(_col(task, TASK_W - len(kind.tag) - 1), style="bold" if rec.in_cluster else "")
                t.append(" " + kind.tag, style="magenta")
            else:
                t.append(_col(task, TASK_W), style="bold" if rec.in_cluster else "")
            t.append(" " + _col(run_name, run_w, cut=False), style="dim")
        dur = rec.duration
        if dur is None and rec.start is not None and rec.end is None:
            dur = int(now - rec.start)
        t.append(" " + _col(fmt_duration(dur), DUR_W, right=True))
        if not rec.in_cluster:
            t.append("  gone", style="dim italic")
    else:
        t.append(_DOCUMENT_ICONS.get(rec.kind, "⚑ "), style="yellow")
        t.append(_DOCUMENT_TAGS.get(rec.kind) or visible(rec.kind), style="yellow")
        t.append(f"  {visible(rec.run_name)}", style="dim")
    return t


class ResultsTree(Tree[NodeData]):
    """Results newest first; `load_page` / `load_more` page; `apply_changes` patches live rows."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Expand", id="tree.expand", tooltip="expand/collapse; load more"),
        Binding("space", "app.mark", "Mark", id="tree.mark", tooltip="mark the Result for cleanup"),
        Binding("j", "cursor_down", "Down", id="tree.down", show=False),
        Binding("k", "cursor_up", "Up", id="tree.up", show=False),
    ]

    def __init__(self, history: History, clock: Callable[[], float] = time.time, *, id: str | None = "tree") -> None:
        super().__init__(Text("Results"), id=id)
        self.history = history
        self.clock = clock
        self.show_root = False
        self.guide_depth = 2
        self.show_cluster = False  # the history holds more than one cluster: name it on each Result line
        self.name_w = NAME_MIN  # the name column: as wide as the longest name loaded (up to NAME_MAX)
        self._relabel_scheduled = False
        self.run_w = RUN_W  # the run-name column of child lines
        self._clusters: set[str] = set()
        self.filter: Filter | None = None
        self.result_nodes: dict[int, TreeNode[NodeData]] = {}  # result id -> node (loaded ones only)
        self.record_nodes: dict[int, TreeNode[NodeData]] = {}  # record id -> node (expanded Results only)
        self.load_more_node: TreeNode[NodeData] | None = None
        self.empty_node: TreeNode[NodeData] | None = None  # "nothing here" line of an empty page
        # Marks (for ctrl+d) live here and only here: labels are built from them, so a live relabel keeps them.
        self.marked: set[int] = set()  # marked Results (ids)
        self.marked_records: set[int] = set()  # marked run Records (ids)

    # --- paging ---------------------------------------------------------------------

    def load_page(self, flt: Filter | None) -> int:
        """Clear and load the first page for `flt`; the cursor goes to the first Result. Returns rows loaded."""
        self.filter = flt
        self.clear()
        self.result_nodes.clear()
        self.record_nodes.clear()
        self.load_more_node = None
        self.empty_node = None
        page = self.history.list_results(flt, limit=PAGE_SIZE)
        self._clusters = cluster_sample(self.history)
        self.show_cluster = len(self._clusters) > 1
        self.name_w = NAME_MIN  # a new listing sizes its name column afresh
        self._append_rows(page.items, page.next_token)
        if not page.items:
            msg = "no Results match this filter" if flt is not None and not flt.empty else \
                "no runs stored yet — they appear here as the watcher sees them"
            self.empty_node = self.root.add_leaf(Text(msg, style="dim italic"), data=None)
        if self.root.children:
            self.goto(self.root.children[0])
        return len(page.items)

    def load_more(self) -> int:
        """Replace the "load more…" node with the next page. Returns rows loaded."""
        node = self.load_more_node
        if node is None or not isinstance(node.data, LoadMoreItem):
            return 0
        page = self.history.list_results(self.filter, page_token=node.data.token, limit=PAGE_SIZE)
        was_cursor = self.cursor_node is node
        node.remove()
        self.load_more_node = None
        first = self._append_rows(page.items, page.next_token)
        if was_cursor and first is not None:
            self.goto(first)
        return len(page.items)

    def _append_rows(self, rows: Iterable[ResultRow], token: str | None) -> TreeNode[NodeData] | None:
        now = self.clock()
        first = None
        rows = list(rows)
        widest = max((cell_len(result_name(r)) for r in rows), default=0)
        if min(NAME_MAX, widest) > self.name_w:  # size the column before adding: one relabel at most
            self.name_w = min(NAME_MAX, widest)
            if self.result_nodes:
                self.relabel_all()
        for row in rows:
            if row.id in self.result_nodes:
                continue  # a live insert already put it at the top
            n = self.root.add(self._result_label(row, now, row.id in self.marked), data=ResultItem(row), allow_expand=True)
            self.result_nodes[row.id] = n
            first = first or n
        if token:
            self.load_more_node = self.root.add_leaf(Text("load more…", style="italic dim"), data=LoadMoreItem(token))
        return first

    # --- children ---------------------------------------------------------------------

    def ensure_children(self, node: TreeNode[NodeData]) -> None:
        """Load a Result's Records under it (once; live changes keep them current)."""
        item = node.data
        if not isinstance(item, ResultItem) or item.loaded:
            return
        item.loaded = True
        now = self.clock()
        for rec in self.history.records_of(item.row.id):
            self.record_nodes[rec.id] = node.add_leaf(self.record_label_for(rec, now), data=RecordItem(rec))

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        self.ensure_children(event.node)

    def _on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        if isinstance(event.node.data, LoadMoreItem):
            self.load_more()

    # --- live changes --------------------------------------------------------------------

    def apply_changes(self, results: list[ResultRow], records: list[RecordRow]) -> int:
        """Patch loaded nodes, insert new matching Results at the top. The cursor stays on its node.

        Returns how many Results were inserted.
        """
        now = self.clock()
        if not self.show_cluster and results:
            self._clusters |= {r.cluster for r in results}
            if len(self._clusters) > 1:  # a second cluster's first run arrived: name the cluster on every line
                self.show_cluster = True
                self.relabel_all()
        new_rows: list[ResultRow] = []
        for row in results:
            node = self.result_nodes.get(row.id)
            if node is not None:
                assert isinstance(node.data, ResultItem)
                node.data.row = row
                node.set_label(self._result_label(row, now, row.id in self.marked))
            else:
                new_rows.append(row)
        inserted = self._insert_new(new_rows, now)
        for rec in records:
            rnode = self.record_nodes.get(rec.id)
            if rnode is not None:
                assert isinstance(rnode.data, RecordItem)
                rnode.data.row = rec
                rnode.set_label(self.record_label_for(rec, now))
                continue
            parent = self.result_nodes.get(rec.result_id)
            if parent is not None and isinstance(parent.data, ResultItem) and parent.data.loaded:
                self._insert_record(parent, rec, now)
        return inserted

    def _insert_new(self, rows: list[ResultRow], now: float) -> int:
        """Insert new matching Results in newest-first order among what is loaded (usually at the top).

        Rows older than the last loaded one are left for paging to reach. Returns how many were inserted.
        """
        if not rows:
            return 0
        loaded = [c for c in self.root.children if isinstance(c.data, ResultItem)]
        bottom = None
        if loaded and self.load_more_node is not None:
            last = loaded[-1].data.row  # type: ignore[union-attr]
            bottom = (last.sort_time, last.id)
        candidates = [r for r in rows if bottom is None or (r.sort_time, r.id) > bottom]
        if not candidates:
            return 0
        if self.filter is not None and not self.filter.empty:
            matching = self.history.result_ids_matching([r.id for r in candidates], self.filter)
            candidates = [r for r in candidates if r.id in matching]
        if not candidates:
            return 0
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
                node.set_label(self._result_label(node.data.row, now, rid in self.marked))

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
                node.set_label(self._result_label(node.data.row, now, rid in self.marked))

    def _result_label(self, row: ResultRow, now: float, marked: bool = False) -> Text:
        want = min(NAME_MAX, cell_len(result_name(row)))
        if want > self.name_w:  # a longer name arrived: widen the column for every line (labels only)
            self.name_w = want
            if not self._relabel_scheduled:
                self._relabel_scheduled = True
                self.call_later(self._relabel_for_width)
        return result_label(row, now, marked, show_cluster=self.show_cluster, name_w=self.name_w)

    def _relabel_for_width(self) -> None:
        self._relabel_scheduled = False
        self.relabel_all()

    def record_label_for(self, rec: RecordRow, now: float | None = None) -> Text:
        return record_label(rec, self.clock() if now is None else now, run_w=self.run_w,
                            marked=rec.id in self.marked_records)

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        rw = run_width_for(width)
        if rw != self.run_w:
            self.run_w = rw
            for node in self.record_nodes.values():
                if isinstance(node.data, RecordItem):
                    node.set_label(self.record_label_for(node.data.row))

    def find_node(self, result_id: int) -> TreeNode[NodeData] | None:
        return self.result_nodes.get(result_id)
