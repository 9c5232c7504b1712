"""The Textual app: header, filter bar, Results tree | detail pane, Footer.

It reads through the store API and reaches the cluster only through `ClusterActions`
(tui/cluster.py); it never writes rows itself. Live updates come from the store's change sequence (see live.py), so a
watcher in this process and a headless one in another look the same.

Read-only has three layers: `check_action` hides mutating actions (no Footer key),
each mutating action refuses again, and the store opened read-only raises on writes;
the read-only app also gets the null cluster, which has no way to delete at all.

Why one module over 500 lines: it is the App itself — compose, the bindings table every screen's keys
are declared in (ids for the keymap), check_action's read-only layer, and the handlers that route
messages between tree, detail and header; the actions live in mixins (user_actions, cleanup_actions,
insight_actions) and the store reads in tui/background.py.
"""

from __future__ import annotations

import inspect
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Callable, TypeVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Footer, Tree
from textual.widgets.tree import TreeNode
from textual.timer import Timer
from textual.worker import get_current_worker

from tekton_results_tui.errors import UserError
from tekton_results_tui.settings import Settings
from tekton_results_tui.store.history import History
from tekton_results_tui.store.query import Filter, parse_filter
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.background import read_then, reads_in_flight
from tekton_results_tui.tui.cleanup_actions import CLEANUP_ACTIONS, CLEANUP_BINDINGS, CleanupActions
from tekton_results_tui.tui.cluster import ClusterActions, NoCluster, WatcherCalls, WatcherCluster
from tekton_results_tui.tui.commands import ResultsCommands
from tekton_results_tui.tui.config import UiConfig
from tekton_results_tui.tui.user_actions import USER_BINDINGS, UserActions
from tekton_results_tui.tui.insight_actions import INSIGHT_BINDINGS, InsightActions
from tekton_results_tui.tui import frame_timer, strip_caches
from tekton_results_tui.tui.flaky_marks import refresh_flaky_marks
from tekton_results_tui.tui.following import LeaseFollower
from tekton_results_tui.tui.live import ChangeFeed, ChangesPending
from tekton_results_tui.tui.screens.help import HelpScreen
from tekton_results_tui.tui.widgets.detail import DetailPane
from tekton_results_tui.tui.widgets.filter_bar import FilterBar
from tekton_results_tui.tui.widgets.keys_footer import KeysFooter
from tekton_results_tui.tui.widgets.results_tree import RecordItem, ResultItem, ResultsTree, read_first_page
from tekton_results_tui.tui.widgets.status_header import StatusHeader
from tekton_results_tui.watcher.status import OFF, WatcherStatus

POLL_S = 0.5  # change-feed poll interval
HEADER_S = 1.0  # header refresh interval
RELABEL_S = 15.0  # ages/durations of loaded lines
# What a filter can make a store query raise: the store's user errors, and numbers a database cannot hold
# (the parser bounds them; this keeps the app up if one slips through).
QUERY_ERRORS = (UserError, ValueError, OverflowError)
MUTATING_ACTIONS = frozenset({"mark", "clear_marks", "delete", "delete_matching"})  # lead to cluster writes
PANES = ("both", "tree", "detail")
NARROW_BELOW = 120  # columns: below this one pane at a time
TREE_MIN_SHARE, TREE_MAX_SHARE = 0.35, 0.5  # of the width, side by side
TREE_CHROME = 5  # the tree's border, padding and scrollbar
# A new listing whose names want a few cells less keeps the split: moving it lays out the whole screen and
# redraws every line of both panes (a 50-90 ms frame at 120x36), and filters typed one after another
# would move it back and forth. Wider names always widen it (names are never cut for want of a cell).
SPLIT_SHRINK_SLACK = 8
# While keys repeat the detail waits for the cursor to rest this long. A held key repeats every 30-90 ms
# (X11's 25/s, macOS defaults): at 50 ms a repeat slowed by one busy frame (a live drain) let the Summary
# lay out and paint between two keys, which made the next keys slower still; 100 ms keeps a held key on
# the tree. A move from rest (a single key, a click) is shown at once (leading edge): the delay was most
# of the 100 ms a selection may take to show (issue 13: a 200-TaskRun timeline).
DETAIL_DELAY_S = 0.1
FIRST_PAGE_WAIT_S = 0.05  # at mount, before the first frame: how long the first page may be waited for
RECOUNT_S = 1.0  # live inserts recount the filter's Results at most this often
SIZE_COST_FACTOR = 10  # the header's history size is recounted at most every 10x what its last count took
QUICK_COUNT = 1_000  # a count past this shows as "≥ 1,000" until the exact figure arrives


W = TypeVar("W", bound=Widget)


class ResultsApp(CleanupActions, UserActions, InsightActions, App[int]):
    """Explore the history as Result -> Records, live."""

    TITLE = "tekton-results-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ResultsCommands}
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]  # classes on the screen (app.tcss)

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("slash", "focus_filter", "Filter", id="app.filter", key_display="/"),
        Binding("escape", "back", "Back", id="app.back"),
        Binding("s", "tab('summary')", "Summary", id="app.tab_summary"),
        Binding("y", "tab('yaml')", "YAML", id="app.tab_yaml"),
        Binding("l", "tab('logs')", "Logs", id="app.tab_logs"),
        Binding("e", "tab('events')", "Events", id="app.tab_events"),
        Binding("ctrl+r", "reload", "Reload", id="app.reload"),
        Binding("ctrl+u", "clear_marks", "Unmark all", id="app.clear_marks", show=False),
        *CLEANUP_BINDINGS,  # space mark, ctrl+d delete (Textual merges BINDINGS only from DOMNode classes)
        *USER_BINDINGS,  # copy, $PAGER/$EDITOR, export
        *INSIGHT_BINDINGS,  # statistics, timeline, diff, log search
    ]

    def __init__(self, history: History, service: WatcherCalls | None = None, settings: Settings | None = None,
                 clock: Callable[[], float] = time.time, read_only: bool = False,
                 watcher_note: WatcherStatus | None = None, live: bool = True, *,
                 cluster: ClusterActions | None = None, config: UiConfig | None = None) -> None:
        """`cluster` is how the app reaches the cluster; without it, a watcher `service` of this process
        is adapted (WatcherCluster), else the null cluster shows `watcher_note` (why the watcher is off).
        A read-only app always gets the null cluster (or a lease follower that never takes over)."""
        frame_timer.install()  # a change is drawn at the next frame slot, not the one after (tui/frame_timer.py)
        strip_caches.install()  # a drawn line's Strips make their caches when used (tui/strip_caches.py)
        super().__init__()
        self.history = history
        self.settings = settings or Settings()
        self.clock = clock
        self.read_only = read_only or history.read_only
        if self.read_only and isinstance(cluster, LeaseFollower) and not cluster.takes_over:
            self.cluster: ClusterActions = cluster  # no way to write, but it says who writes and when they stop
        elif self.read_only or (cluster is None and service is None):
            self.cluster = NoCluster(watcher_note or WatcherStatus(
                state=OFF, reason="read-only" if self.read_only else "no watcher"))
        elif cluster is not None:
            self.cluster = cluster
        else:
            assert service is not None
            self.cluster = WatcherCluster(service, self.settings.cluster.namespaces)
        self.live_enabled = live
        self.feed = ChangeFeed(history)
        self.panes = "both"
        self.config = config or UiConfig()  # the user's config.toml (tui/config.py); defaults without one
        self.filter: Filter = Filter(now=clock())
        self._config_problems = list(self.config.problems)
        if self.config.filter.strip():
            try:
                self.filter = parse_filter(self.config.filter, now=clock())
            except QUERY_ERRORS as exc:
                self._config_problems.append(f"default filter {self.config.filter!r}: {one_line(exc)}")
        self._first_page = read_first_page(history, self.filter)  # read while Textual builds the screen
        self._stop = threading.Event()
        self._hist_size: tuple[int, int] | None = None
        self._hist_size_dirty = True
        self._counting_size = False
        self._size_counted_at = -1e9  # monotonic time of the last header count, and what it cost (s)
        self._size_cost = 0.0
        self._count: tuple[int, bool] | None = None  # (results matching the filter, exact) as last counted
        self._previous_filter: Filter | None = None  # kept until the new filter's first page arrives
        self._cursor_after_load: int | None = None  # a Result id to put the cursor on when the page arrives
        self._after_page_for: Filter | None = None  # the page whose follow-ups (_after_page) wait for its frame
        self._pending_node: TreeNode | None = None  # highlighted in a burst, shown in the detail when the cursor rests
        self._detail_timer: Timer | None = None  # running while keys repeat (the cursor moved < DETAIL_DELAY_S ago)
        self._recount_timer: Timer | None = None  # a recount after live inserts (coalesced)
        self._shown: tuple[str, int] | None = None  # what the detail pane shows ("result"|"record", id)
        self.live_errors = 0
        self.last_live_error: str | None = None
        self.changes_applied = 0  # drains handled (tests and bench wait on this)
        self._pod_logs = self.cluster.pod_logs  # changes when a follower takes over: see _cluster_changed
        self.cleanup_init()
        self._header_w: StatusHeader | None = None  # made by compose
        self._bar_w: FilterBar | None = None
        self._tree_w: ResultsTree | None = None
        self._split: tuple[int, int] | None = None  # (screen width, tree width) fit_split last set
        self._detail_w: DetailPane | None = None

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Held here rather than queried: a query walks every widget of the app (~0.5 ms), and the live
        # drain, the counts and the header asked for these several times a second (~7 % of the UI thread
        # under 200 updates/s at 120k records)
        self._header_w = StatusHeader()
        self._bar_w = FilterBar(clock=self.clock)
        self._tree_w = ResultsTree(self.history, clock=self.clock, columns=self.config.columns)
        self._detail_w = DetailPane(self.history, pod_logs=self.cluster.pod_logs, clock=self.clock, id="detail")
        yield self._header_w
        yield self._bar_w
        with Horizontal(id="main"):
            yield self._tree_w
            with Vertical(id="detail-box"):
                yield self._detail_w
        yield KeysFooter()

    @staticmethod
    def _attached(widget: W | None) -> W | None:
        """`widget` while it is in the app; None before compose and once the app is torn down (late
        messages and intervals still arrive then)."""
        return widget if widget is not None and widget.is_attached else None

    @property
    def tree(self) -> ResultsTree:
        return self._required(self._attached(self._tree_w), "the Results tree")

    @property
    def detail(self) -> DetailPane:
        return self._required(self._attached(self._detail_w), "the detail pane")

    def _detail_or_none(self) -> DetailPane | None:
        """The detail pane, or None while the app is being torn down (late messages still arrive)."""
        return self._attached(self._detail_w)

    @staticmethod
    def _required(widget: W | None, what: str) -> W:
        if widget is None:
            raise NoMatches(f"{what} is not mounted")
        return widget

    @property
    def filter_bar(self) -> FilterBar:
        return self._required(self._attached(self._bar_w), "the filter bar")

    def on_mount(self) -> None:
        self.apply_config()
        if not self._first_page.done():
            # Textual's first layout holds the interpreter lock while the page is read, and a read steps
            # through the lock at each row: the page, ~4 ms of work at 1.2M records, missed the first frame
            # in about half the starts and came ~0.1 s later. Before anything is on the screen a short wait
            # (the lock released) lets it finish; a slower database still gets "loading…" and the worker.
            futures.wait([self._first_page], timeout=FIRST_PAGE_WAIT_S)
        self.tree.load_page(self.filter, prefetched=self._first_page)  # the count follows the page (PageLoaded)
        self.tree.focus()
        self.refresh_header(recount=False)  # the size is counted once the first page is drawn (_after_page)
        self.set_interval(HEADER_S, self.refresh_header, name="header")
        self.set_interval(HEADER_S, self.tree.relabel_running, name="running")
        self.set_interval(RELABEL_S, self.tree.relabel_all, name="relabel")
        if self.live_enabled:
            self.run_worker(self._poll_loop, name="live-poll", group="live", exclusive=True, thread=True)
        self.cleanup_mount()

    async def on_unmount(self) -> None:
        self._stop.set()

    def apply_config(self) -> None:
        """Theme, keymap, saved-filter keys and the default filter from the config; what cannot be used is
        said in one notification (the TUI opens anyway)."""
        cfg = self.config
        if cfg.theme:
            if cfg.theme in self.available_themes:
                self.theme = cfg.theme
            else:
                self._config_problems.append(f"unknown theme {cfg.theme!r}")
        for key, text in cfg.saved_filters.items():
            binding = Binding(key, f"saved_filter({key!r})", f"Filter: {visible(text)}", show=False,
                              id=f"filters.{key}", tooltip="a saved filter (config.toml [filters])")
            self._bindings.key_to_bindings.setdefault(key, []).insert(0, binding)
        if cfg.keymap:
            self.set_keymap(cfg.keymap)
        if not self.filter.empty:
            self.filter_bar.set_text(self.filter.text, apply_now=False)
        if self._config_problems:
            self.notify_plain("\n".join(self._config_problems), title="config.toml", severity="warning", timeout=10)

    def apply_saved_filter(self, text: str) -> None:
        self.filter_bar.set_text(text)
        self.tree.focus()

    # --- live updates ----------------------------------------------------------------------

    def _poll_loop(self) -> None:
        """Thread worker: poll the change feed until cancelled; tell the UI with a coalescing message."""
        worker = get_current_worker()
        try:
            # the first poll after one interval: at start the first page is being read and drawn
            while not self._stop.wait(POLL_S) and not worker.is_cancelled:
                try:
                    if self.feed.poll():
                        self.post_message(ChangesPending())
                except Exception as exc:  # noqa: BLE001 - a flaky database must not kill live updates
                    self.live_errors += 1
                    self.last_live_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        finally:
            try:
                self.history.db.close()  # this thread's connection
            except Exception:  # noqa: BLE001
                pass

    def on_changes_pending(self, _: ChangesPending) -> None:
        self.apply_pending()

    def apply_pending(self) -> None:
        """Drain the feed in one handler: one tree rebuild for the whole batch."""
        if self._attached(self._tree_w) is None:  # a last poll's message while the app is torn down
            return
        pending = self.feed.drain()
        if pending.empty:
            return
        self.changes_applied += 1
        self._hist_size_dirty = True
        if pending.reload:
            self.action_reload(keep_cursor=True)
            return
        self.tree.apply_changes(pending.results, pending.records)  # inserts say so with ResultsTree.Inserted
        detail = self._detail_or_none()
        if detail is None:
            return
        try:
            detail.refresh_from_store({r.id for r in pending.records}, {r.id for r in pending.results})
        except Exception as exc:  # noqa: BLE001 - the detail pane's trouble must not stop the tree
            self.last_live_error = f"detail: {exc}"

    async def sync_now(self) -> None:
        """Poll once and apply now (tests, ctrl+r): the same path the poll thread takes."""
        import asyncio

        await asyncio.to_thread(self.feed.poll)
        self.apply_pending()
        await self.settle_reads()  # and what applying them asked the store for (a filter check, a reload)

    # --- header ------------------------------------------------------------------------------

    def watcher_status(self) -> WatcherStatus:
        return self.cluster.status()

    def history_size(self) -> tuple[int, int] | None:
        """(results, records) as last counted; recounted in a worker after changes (None until then), at most
        every SIZE_COST_FACTOR times as long as the last count took: at 1.2M records a count takes ~0.3 s of
        a core, and a busy watcher would have it recounted every second."""
        now = time.monotonic()
        due = now - self._size_counted_at >= SIZE_COST_FACTOR * self._size_cost
        if (self._hist_size_dirty or self._hist_size is None) and not self._counting_size and due:
            self._counting_size = True
            self._hist_size_dirty = False
            self._size_counted_at = now

            def count() -> tuple[int, int]:
                t = time.monotonic()
                size = self.history.size()
                self._size_cost = time.monotonic() - t
                return size

            read_then(self, self.history, count, self._size_arrived, group="header", exclusive=True,
                      name="history size")
        return self._hist_size

    def _size_arrived(self, size: tuple[int, int] | None, error: BaseException | None) -> None:
        self._counting_size = False
        if size is not None:
            self._hist_size = size
            self.refresh_header(recount=False)
            self.show_count()
        else:
            self._hist_size_dirty = True  # try again on the next tick

    def refresh_header(self, recount: bool = True) -> None:
        if self._attached(self._header_w) is None:  # the interval can fire once more while the app is torn down
            return
        if recount:
            self.history_size()
        if self.cluster.pod_logs is not self._pod_logs:
            self._cluster_changed()
        header = self._required(self._header_w, "the header")
        header.show(self.watcher_status(), self._hist_size, self.read_only, self.cluster.following)

    def _cluster_changed(self) -> None:
        """The watcher this TUI followed stopped and this TUI started its own: from now on it reads live pod
        logs and may delete (after asking the cluster), as if it had started with its watcher."""
        self._pod_logs = self.cluster.pod_logs
        detail = self._detail_or_none()
        if detail is not None:
            detail.set_pod_logs(self._pod_logs)
        if isinstance(self.cluster, LeaseFollower) and self.cluster.took_over_because:
            self.notify_plain(f"{self.cluster.took_over_because}: this TUI now runs the watcher", severity="warning")
        self.cleanup_mount()
        self.refresh_bindings()

    # --- filter ----------------------------------------------------------------------------------

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        if event.filter.text == self.filter.text:
            return
        if self._previous_filter is None:
            self._previous_filter = self.filter
        self.filter = event.filter
        self.load_listing()

    def load_listing(self) -> None:
        """Ask for the first page of the current filter; the feed restarts from the store's sequence
        in the same worker, before the page is read (a change in between is seen twice, never missed)."""
        self.tree.load_page(self.filter, before=self.feed.reset)

    @on(ResultsTree.PageLoaded)
    def _page_loaded(self, event: ResultsTree.PageLoaded) -> None:
        if event.filter is not self.filter:
            return  # an older listing's page (a newer one is on its way)
        if self._attached(self._tree_w) is None:
            return  # the page arrived while the app was being torn down
        previous, self._previous_filter = self._previous_filter, None
        if event.error is not None:
            if isinstance(event.error, QUERY_ERRORS) and previous is not None:
                # a filter the parser took but the database cannot run: say why, keep the old one
                self.filter_bar.show_error(one_line(event.error))
                self.filter = previous
                self.load_listing()
            else:
                self.notify_plain(f"could not read the history: {one_line(event.error)}", severity="error")
            return
        self.fit_split()
        rid, self._cursor_after_load = self._cursor_after_load, None
        if rid is not None and rid in self.tree.result_nodes:
            self.tree.goto(self.tree.result_nodes[rid])
            self._shown = None  # a reload: show it afresh
        # What follows the page (the cursor's detail, the count, the flaky marks) starts once the new page is
        # drawn: their reads and results compete with that frame for the UI thread (measured at 1.2M records:
        # started at once they left the tree to be drawn ~80 ms after it was filled).
        self._after_page_for = event.filter
        self.call_after_refresh(self._after_page, event.filter)

    def _after_page(self, flt: Filter) -> None:
        if self._after_page_for is not flt:
            return  # done already (settle_reads), or a newer page's follow-up is the one due
        self._after_page_for = None
        if flt is not self.filter or self._attached(self._tree_w) is None:
            return  # a newer listing replaced this one (its own page will follow it up)
        # The cursor may sit on the same line of a new listing (no highlight event): the detail follows it now.
        self._pending_node = None
        self.show_node(self.tree.cursor_node)
        self.update_count()
        refresh_flaky_marks(self.tree, self.history)
        if self._hist_size is None:
            self.refresh_header()  # the history's size, counted once the first page is drawn

    @on(ResultsTree.Inserted)
    def _inserted(self, _: ResultsTree.Inserted) -> None:
        """Live inserts recount at most every RECOUNT_S: a busy cluster inserts on every drain, and each
        count is a query (and an exact one over the whole filter when the quick one says "≥ N")."""
        if self._recount_timer is None:
            self._recount_timer = self.set_timer(RECOUNT_S, self._recount, name="recount")

    def _recount(self) -> None:
        if self._recount_timer is not None:
            self._recount_timer.stop()
            self._recount_timer = None
        self.update_count()

    @on(FilterBar.Done)
    def _filter_done(self) -> None:
        self.tree.focus()

    def update_count(self) -> None:
        """Count the Results matching the filter in a worker (a newer count cancels this one); where the
        store can answer "at least N" quickly, that shows first and the exact figure follows."""
        flt = self.filter
        read_then(self, self.history, lambda: quick_count(self.history, flt),
                  lambda got, err: self._count_arrived(flt, got, err, exact_next=True),
                  group="count", exclusive=True, name="count")

    def _count_arrived(self, flt: Filter, got: tuple[int, bool] | None, error: BaseException | None,
                       exact_next: bool) -> None:
        if flt is not self.filter:
            return
        self._count = got if error is None else None
        self.show_count()
        if got is not None and not got[1] and exact_next:
            read_then(self, self.history, lambda: (self.history.count_results(flt), True),
                      lambda exact, err: self._count_arrived(flt, exact, err, exact_next=False),
                      group="count", exclusive=True, name="exact count")

    def show_count(self) -> None:
        if self._attached(self._bar_w) is None:
            return
        total = None
        if not self.filter.empty and self._hist_size is not None:
            total = self._hist_size[0]
        if self._count is None:
            self.filter_bar.show_count(None, total)
        else:
            self.filter_bar.show_count(self._count[0], total, exact=self._count[1])

    # --- selection -> detail -------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        """The detail follows the cursor at once when it moves from rest (leading edge); moves within
        DETAIL_DELAY_S of the last one are coalesced and the detail follows once the cursor rests again
        (trailing edge): holding a key down moves the cursor at the keyboard's rate instead of laying
        out a Summary for every line passed, and a burst loads its first line and its last one only."""
        at_rest = self._detail_timer is None
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY_S, self.flush_detail, name="detail-follow")
        if at_rest:
            self._pending_node = None
            self.show_node(event.node)
        else:
            self._pending_node = event.node

    def flush_detail(self) -> None:
        """Show the node the cursor rests on now, if a burst left one waiting (the timer's end: the cursor
        is at rest again; tests and benchmarks settle with it)."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None
        node, self._pending_node = self._pending_node, None
        if node is not None:
            self.show_node(node)

    def show_node(self, node: TreeNode | None) -> None:
        data = node.data if node is not None else None
        detail = self._detail_or_none()
        if detail is None:
            return
        if isinstance(data, ResultItem):
            key = ("result", data.row.id)
            if key != self._shown:
                self._shown = key
                detail.show_result(data.row)
        elif isinstance(data, RecordItem):
            key = ("record", data.row.id)
            if key != self._shown:
                self._shown = key
                detail.show_record(data.row)

    # --- actions ------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.insight_screen_allows(action):
            return False  # a full screen of its own (statistics, diff, log search): the tree's keys are not here
        if action in CLEANUP_ACTIONS:
            return self.cleanup_check_action(action)
        if action in MUTATING_ACTIONS and self.read_only:
            return False  # hidden from the Footer and not run
        if action == "clear_marks" and not self.tree.has_marks:
            return None  # shown dimmed: nothing marked
        return True

    def notify_plain(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
                     timeout: float | None = None) -> None:
        """A notification whose text is shown as it is: never markup, controls as visible escapes."""
        self.notify(visible(message, keep_newlines=True), title=visible(title), severity=severity,
                    timeout=timeout, markup=False)

    def _refuse_if_read_only(self, what: str) -> bool:
        if self.read_only:
            self.notify_plain(f"read-only: {what} is not available", severity="warning")
            return True
        return False

    def action_clear_marks(self) -> None:
        if self._refuse_if_read_only("marking runs"):
            return
        self.tree.clear_marks()
        self.refresh_bindings()

    def action_help(self) -> None:
        """?: the keys of the current view — ours first (with ids), then the widgets' own."""
        ours: list[tuple[str, str, str]] = []
        theirs: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for ab in self.screen.active_bindings.values():
            b = ab.binding
            if not b.description or not ab.enabled:
                continue
            label = b.key_display or self.get_key_display(b)
            ident = f"{label}:{b.description}"
            if ident in seen:
                continue
            seen.add(ident)
            row = (label, b.description, b.tooltip or ("" if b.show else "not in footer"))
            (ours if b.id else theirs).append(row)
        focused = self.focused
        where = type(focused).__name__ if focused is not None else "app"
        self.push_screen(HelpScreen(ours + theirs, title=f"Keys — {where}"))

    def action_focus_filter(self) -> None:
        self.detail.forget_focus()
        self.filter_bar.input.focus()

    def action_back(self) -> None:
        """esc: close/step back — restore panes, leave the detail, climb to the Result, clear the filter."""
        self.detail.forget_focus()  # a tab still being made must not take the focus after this
        if self.panes != "both":
            self.set_panes("both")
            return
        tree = self.tree
        if self.focused is not tree:
            tree.focus()
            return
        node = tree.cursor_node
        if node is not None and isinstance(node.data, RecordItem) and node.parent is not None:
            parent = node.parent
            parent.collapse()
            tree.goto(parent)
            return
        if self.filter_bar.text:
            self.filter_bar.clear_and_leave()

    def action_tab(self, tab: str) -> None:
        if self.panes == "tree" or (self.narrow and self.panes != "detail"):
            # the tab's content takes the focus below: focusing the open tab first would open it again (a
            # TabPane whose content takes the focus becomes the active one)
            self.set_panes("detail" if self.narrow else "both", focus=False)
        self.detail.switch_tab(tab)

    def action_open_detail(self) -> None:
        """tab: below NARROW_BELOW columns, from the tree to the detail (esc comes back); else next widget."""
        if self.narrow and self.panes != "detail" and self.focused is self.tree:
            self.set_panes("detail")
        else:
            self.action_focus_next()

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected) -> None:
        """enter on a child line of a narrow screen opens its detail (a Result line expands, as everywhere)."""
        if self.narrow and isinstance(event.node.data, RecordItem):
            self.set_panes("detail")

    def action_reload(self, keep_cursor: bool = True) -> None:
        """ctrl+r: reload the first page (the cursor stays on its Result when it is still there)."""
        node = self.tree.cursor_node
        rid = None
        if keep_cursor and node is not None:
            res = self.tree.result_node_of(node)
            if res is not None and isinstance(res.data, ResultItem):
                rid = res.data.row.id
        self._hist_size_dirty = True
        self._cursor_after_load = rid
        self._shown = None
        self.load_listing()  # the cursor, the detail and the count follow the page (on PageLoaded)
        self.refresh_header()

    def action_copy_name(self) -> None:
        self.action_copy("name")

    # --- palette callbacks ------------------------------------------------------------------------------

    def set_panes(self, layout: str, focus: bool = True) -> None:
        """Show `layout`'s panes; `focus`: move the focus into them (the detail: its open tab's content)."""
        if layout not in PANES:
            return
        self.panes = layout  # app.tcss shows the panes from these classes (and the screen's width class)
        self.set_class(layout == "tree", "-tree-only")
        self.set_class(layout == "detail", "-detail-only")
        self.fit_split()
        if not focus:
            return
        if layout == "detail":
            # its content, not the tab bar: the keys a reader presses first (down, page down) scroll what is shown
            self.detail.switch_tab(self.detail.active_tab)
        else:
            self.detail.forget_focus()
            self.tree.focus()

    # --- layout by width ---------------------------------------------------------------------------------

    @property
    def narrow(self) -> bool:
        """One pane at a time (the k9s habit): the tree, or the detail of its selection."""
        return self.size.width < NARROW_BELOW

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_split)

    def fit_split(self) -> None:
        """Side by side, the tree takes what its lines want (every wanted column, whole names), between
        TREE_MIN_SHARE and TREE_MAX_SHARE of the width; the detail takes the rest. Narrow: the CSS decides."""
        tree = self._attached(self._tree_w)
        if tree is None:
            return
        for footer in self.query(Footer):  # narrow: the keys only (ctrl+p still opens the palette)
            footer.compact = self.narrow
            footer.show_command_palette = not self.narrow
        if self.narrow or self.panes != "both":
            tree.styles.width = None  # app.tcss: the whole width
            self._split = None
            return
        total = self.size.width
        lo, hi = int(total * TREE_MIN_SHARE), int(total * TREE_MAX_SHARE)
        width = max(lo, min(tree.natural_width() + TREE_CHROME, hi))
        if self._split is not None and self._split[0] == total and width < self._split[1] < width + SPLIT_SHRINK_SLACK:
            return
        self._split = (total, width)
        tree.styles.width = width

    def set_theme_named(self, theme: str) -> None:
        self.theme = theme

    def jump_to_result(self, result_id: int, name: str) -> None:
        """Palette: put the cursor on a Result; if it is not loaded, filter to its name."""
        node = self.tree.find_node(result_id)
        if node is None:
            self._cursor_after_load = result_id  # the cursor goes there when the filtered page arrives
            self.filter_bar.set_text(f"name:{visible(name)}")
        else:
            self.tree.goto(node)
        self.detail.forget_focus()
        self.tree.focus()

    async def settle_reads(self) -> bool:
        """Wait until the store reads started for the screen (tree, counts, header, detail tabs) have been
        applied; tests and benchmarks use it, the app itself never waits on the store. True if it waited."""
        waited = False
        for _ in range(50):
            if self._after_page_for is not None:  # a page's follow-ups (count, detail) wait for its frame: now
                self._after_page(self._after_page_for)
                waited = True
            if self._pending_node is not None:
                self.flush_detail()
                waited = True
            if self._recount_timer is not None:
                self._recount()
                waited = True
            pending = reads_in_flight(self)
            if not pending:
                return waited
            waited = True
            for worker in pending:
                try:
                    await worker.wait()
                except Exception:  # noqa: BLE001 - a failed or cancelled read is settled too
                    pass
        return waited

    # --- screenshots -----------------------------------------------------------------------------------

    def save_svg(self, path: str | Path) -> str:
        p = Path(path)
        return self.save_screenshot(filename=p.name, path=str(p.parent))


def quick_count(history: History, flt: Filter) -> tuple[int, bool]:
    """(count, exact): the store's bounded count where it has one ("at least N" first), else the exact one."""
    if "limit" in inspect.signature(history.count_results).parameters:
        n, exact = history.count_results(flt, limit=QUICK_COUNT)  # type: ignore[call-arg,misc]
        return int(n), bool(exact)
    return history.count_results(flt), True


def one_line(exc: BaseException) -> str:
    """An error in one line of words for the filter bar or a notification."""
    text = str(exc).strip()
    return visible(text.splitlines()[0] if text else type(exc).__name__)
