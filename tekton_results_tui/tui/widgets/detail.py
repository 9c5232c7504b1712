"""The detail pane (right side): Summary, YAML, Logs and Events of the selected tree node.

The shell calls `show_result` / `show_record` on cursor moves, `refresh_from_store`
with the ids its change-feed poll saw, and `switch_tab` for `y`/`l` style keys. Only
the open tab loads (in its own exclusive worker); the others load when opened, and a tab's view
(module and widgets) is made the first time it is opened: the first screen builds the Summary only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import AwaitMount, Widget
from textual.widgets import TabbedContent, TabPane

from tekton_results_tui.store.history import History, RecordRow, ResultRow
from tekton_results_tui.tui.cluster import PodLogReader
from tekton_results_tui.tui.widgets.detail_base import DetailTab, Target

TABS = ("summary", "yaml", "logs", "events", "timeline")
TITLES = ("Summary", "YAML", "Logs", "Events", "Timeline")


class TabViews(dict[str, DetailTab]):
    """The tabs' views; a tab's view is made (its module imported, its widgets mounted) the first time it
    is asked for (the Summary when the first Result is shown): building them up front cost the first paint
    their imports and widget trees."""

    def __init__(self, make: Callable[[str], DetailTab]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, tab: str) -> DetailTab:
        if tab not in TABS:
            raise KeyError(tab)
        view = self[tab] = self._make(tab)
        return view


class DetailPane(Vertical):
    """Tabs about one Result or Record, loaded from the store off the UI thread."""

    DEFAULT_CSS = """
    DetailPane { height: 1fr; width: 1fr; }
    DetailPane > TabbedContent { height: 1fr; }
    DetailPane TabPane { padding: 0; height: 1fr; layout: vertical; }  /* empty until its view is made: blank */
    DetailPane DetailTab { height: 1fr; }
    """

    def __init__(self, history: History, pod_logs: PodLogReader | None = None,
                 clock: Callable[[], float] = time.time,
                 *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        """`pod_logs` reads a running step's log from its pod (None: no watcher here, stored logs only)."""
        super().__init__(name=name, id=id, classes=classes)
        self.history = history
        self.clock = clock
        self.target: Target | None = None
        self.pod_logs = pod_logs
        self._mounting: dict[str, AwaitMount] = {}  # views made after compose, until they are mounted
        self._focus_asked = 0  # the latest switch_tab (or forget_focus): an older one's deferred focus is dropped
        self.views = TabViews(self._make_view)

    def compose(self) -> ComposeResult:
        # Every tab's view is made when first shown, the Summary too: the first screen is the tree's first
        # page, and the Summary's modules (the insights) and widgets would cost that paint ~70 ms of CPU.
        with TabbedContent(id="detail-tabs", initial="summary"):
            for tab, title in zip(TABS, TITLES):
                yield TabPane(title, id=tab)

    def _make_view(self, tab: str) -> DetailTab:
        """A tab's view (imported here: only opened tabs pay for their modules); mounted in its pane when
        the pane exists already."""
        history, clock = self.history, self.clock
        view: DetailTab
        if tab == "summary":
            from tekton_results_tui.tui.widgets.summary_view import SummaryView
            view = SummaryView(history, clock, id="detail-summary")
        elif tab == "yaml":
            from tekton_results_tui.tui.widgets.yaml_view import YamlView
            view = YamlView(history, clock, id="detail-yaml")
        elif tab == "logs":
            from tekton_results_tui.tui.widgets.log_view import LogView
            view = LogView(history, clock, pod_logs=self.pod_logs, id="detail-logs")
        elif tab == "events":
            from tekton_results_tui.tui.widgets.events_view import EventsView
            view = EventsView(history, clock, id="detail-events")
        else:
            from tekton_results_tui.tui.widgets.timeline_view import TimelineView
            view = TimelineView(history, clock, id="detail-timeline")
        panes = self.query(f"TabPane#{tab}") if self.is_attached else None
        if panes:
            self._mounting[tab] = panes.first().mount(view)
        return view

    def set_pod_logs(self, pod_logs: PodLogReader | None) -> None:
        """Live pod logs from now on (a follower took over the watcher): the Logs tab, made or not yet."""
        self.pod_logs = pod_logs
        if "logs" in self.views:
            self.views["logs"].pod_logs = pod_logs  # type: ignore[attr-defined]

    # --- contract for the shell --------------------------------------------------------

    @property
    def current_name(self) -> str | None:
        """The shown run's name (a Result shows its top-level run's name)."""
        return self.target.name if self.target else None

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active or "summary"

    def show_result(self, row: ResultRow | None) -> None:
        self._show(Target.of_result(row) if row is not None else None)

    def show_record(self, row: RecordRow | None) -> None:
        self._show(Target.of_record(row) if row is not None else None)

    def switch_tab(self, tab: str, focus: bool = True) -> None:
        if tab not in TABS:
            raise ValueError(f"unknown detail tab {tab!r} (one of {', '.join(TABS)})")
        self.query_one(TabbedContent).active = tab
        self._ensure_loaded(tab)
        self._focus_asked += 1
        if focus:
            if tab in self._mounting:  # made just now: its widgets exist once it is mounted
                self.call_later(self._focus_when_mounted, tab, self._focus_asked, self.app.focused)
            else:
                self.views[tab].focus_content()

    def forget_focus(self) -> None:
        """The reader went elsewhere (back to the tree, the filter): a tab still being made must not take the
        focus when it is mounted."""
        self._focus_asked += 1

    async def _focus_when_mounted(self, tab: str, asked: int, focused_then: Widget | None) -> None:
        mounting = self._mounting.pop(tab, None)
        if mounting is not None:
            await mounting
        now = self.app.focused
        # the focus went elsewhere meanwhile (not merely off a pane that was hidden): it stays there
        moved = now is not None and now is not focused_then and self not in now.ancestors
        if self.active_tab == tab and asked == self._focus_asked and not moved:
            self.views[tab].focus_content()

    def refresh_from_store(self, changed_record_ids: set[int], changed_result_ids: set[int]) -> None:
        """Reload the open tab (keeping its scroll position) if what it shows changed."""
        if self.target is None:
            return
        view = self.views[self.active_tab]
        touched = bool(changed_record_ids & view.deps) or self.target.result_id in changed_result_ids
        if not touched and view.family and max(changed_record_ids, default=0) > max(view.family):
            # maybe a new record of this Result (a Log or EventList arrived): check off the UI thread
            self.run_worker(lambda: self._check_new(self.target, view), thread=True, exclusive=True,
                            group="detail-refresh", exit_on_error=False)
            return
        if touched:
            self._reload_open(view)

    # --- internals ---------------------------------------------------------------------

    def _show(self, target: Target | None) -> None:
        if target == self.target:
            return
        self.target = target
        for tab, view in self.views.items():
            view.reset()
        self._ensure_loaded(self.active_tab)

    def _ensure_loaded(self, tab: str) -> None:
        view = self.views[tab]
        if view.loaded != self.target or self.target is None:
            view.load(self.target)

    def _reload_open(self, view: DetailTab) -> None:
        for other in self.views.values():
            if other is not view:
                other.reset()  # stale; reloads when opened
        view.load(self.target, keep_scroll=True)

    def _check_new(self, target: Target | None, view: DetailTab) -> None:
        if target is None:
            return
        ids = {r.id for r in self.history.records_of(target.result_id)}
        if ids - view.family and target == self.target:
            try:
                self.app.call_from_thread(self._reload_if_current, target, view)
            except RuntimeError:
                pass

    def _reload_if_current(self, target: Target, view: DetailTab) -> None:
        if target == self.target and view is self.views[self.active_tab]:
            self._reload_open(view)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id != "detail-tabs":
            return
        event.stop()
        tab = event.pane.id or "summary"
        if tab in TABS and (self.target is not None or tab in self.views):
            self._ensure_loaded(tab)  # (the first tab is activated at mount, before anything is shown: made later)
