"""The app's keys for what the history can tell: statistics, a run's timeline, diffs, log search.

A mixin of ResultsApp (like CleanupActions): its bindings go into the app's BINDINGS, its palette
commands into ResultsCommands. Every screen it opens reads the store in thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual.binding import Binding

from tekton_results_tui.tui.background import read_then

if TYPE_CHECKING:
    from tekton_results_tui.tui.app import ResultsApp

SCREEN_WIDE_ACTIONS = frozenset({"quit", "help", "command_palette", "statistics", "search_logs"})

INSIGHT_BINDINGS = [
    Binding("S", "statistics", "Stats", id="app.statistics", tooltip="statistics of the filtered runs by group"),
    Binding("t", "tab('timeline')", "Timeline", id="app.tab_timeline", tooltip="where the run's time went"),
    Binding("d", "diff_last_success", "Diff", id="app.diff_last_success",
            tooltip="compare the run with the last successful run of its pipeline"),
    Binding("D", "diff_marked", "Diff marked", id="app.diff_marked", show=False,
            tooltip="compare the marked run (space) with the highlighted one"),
    Binding("G", "search_logs", "Search logs", id="app.search_logs", tooltip="search every stored step log"),
]


class InsightActions:
    """Statistics, diff and log-search screens of ResultsApp."""

    def insight_screen_allows(self: "ResultsApp", action: str) -> bool:  # type: ignore[misc]
        """Over a screen of this mixin, only the app's keys that make sense everywhere stay active."""
        from tekton_results_tui.tui.screens.insight_screen import InsightScreen

        return not isinstance(self.screen, InsightScreen) or action in SCREEN_WIDE_ACTIONS

    def action_statistics(self: "ResultsApp") -> None:  # type: ignore[misc]
        from tekton_results_tui.tui.screens.stats import StatsScreen

        if not isinstance(self.screen, StatsScreen):
            self.push_screen(StatsScreen())

    # --- diff ----------------------------------------------------------------------------------------

    def _run_of(self: "ResultsApp", node: Any) -> Callable[[], Any] | None:  # type: ignore[misc]
        """A store read giving the run a tree line is about (a Result line: its top-level run)."""
        from tekton_results_tui.tui.widgets.detail_base import Target, resolve
        from tekton_results_tui.tui.widgets.results_tree import RecordItem, ResultItem

        data = node.data if node is not None else None
        if isinstance(data, ResultItem):
            target = Target.of_result(data.row)
        elif isinstance(data, RecordItem):
            target = Target.of_record(data.row)
        else:
            return None
        history = self.history
        return lambda: resolve(history, target).run_record()

    def action_diff_last_success(self: "ResultsApp") -> None:  # type: ignore[misc]
        """d: the highlighted run against the last successful run of its pipeline (or task) before it."""
        from tekton_results_tui.insights.diff_load import NothingToMatch, last_success

        read = self._run_of(self.tree.cursor_node)
        if read is None:
            self.notify_plain("put the cursor on a run to compare it", severity="warning")
            return
        history = self.history

        def pair() -> tuple[Any, Any]:
            run = read()
            if run is None:
                raise LookupError("the run of this line is not stored yet")
            return last_success(history, run), run

        def done(got: tuple[Any, Any] | None, error: BaseException | None) -> None:
            if isinstance(error, NothingToMatch):
                self.notify_plain(f"{error}: there is no 'same pipeline' to compare with", severity="warning")
            elif error is not None or got is None:
                self.notify_plain(f"cannot compare: {error}", severity="error")
            elif got[0] is None:
                run = got[1]
                what = f"pipeline {run.pipeline}" if run.pipeline else f"task {run.task or run.pipeline_task}"
                self.notify_plain(f"no successful run of {what} in {run.parent} before {run.run_name}",
                                  severity="warning")
            else:
                self._open_diff(*got)

        read_then(self, history, pair, done, group="diff", exclusive=True, name="last success")

    def action_diff_marked(self: "ResultsApp") -> None:  # type: ignore[misc]
        """D: the one marked run (space) against the highlighted one."""
        from tekton_results_tui.tui.widgets.detail_base import Target, resolve

        tree = self.tree
        marks = [("result", i) for i in tree.marked] + [("record", i) for i in tree.marked_records]
        if len(marks) != 1:
            self.notify_plain("mark one run with space, then press D on another" if not marks else
                              f"{len(marks)} runs are marked: mark exactly one to compare", severity="warning")
            return
        kind, ident = marks[0]
        read_b = self._run_of(tree.cursor_node)
        if read_b is None:
            self.notify_plain("put the cursor on a run to compare it", severity="warning")
            return
        history = self.history

        def pair() -> tuple[Any, Any]:
            if kind == "result":
                a = resolve(history, Target("result", ident, ident, "")).run_record()
            else:
                rec = history.get_record(id=ident)
                a = resolve(history, Target.of_record(rec)).run_record() if rec is not None else None
            return a, read_b()

        def done(got: tuple[Any, Any] | None, error: BaseException | None) -> None:
            if error is not None or got is None or got[0] is None or got[1] is None:
                self.notify_plain(f"cannot compare: {error or 'a run is not stored'}", severity="error")
            elif got[0].id == got[1].id:
                self.notify_plain("that is the marked run: put the cursor on another one", severity="warning")
            else:
                self._open_diff(*got)

        read_then(self, history, pair, done, group="diff", exclusive=True, name="marked pair")

    def _open_diff(self: "ResultsApp", a: Any, b: Any) -> None:  # type: ignore[misc]
        from tekton_results_tui.tui.screens.diff import DiffScreen

        self.push_screen(DiffScreen(a, b))

    # --- log search ----------------------------------------------------------------------------------

    def action_search_logs(self: "ResultsApp") -> None:  # type: ignore[misc]
        from tekton_results_tui.tui.screens.log_search import LogSearchScreen

        if not isinstance(self.screen, LogSearchScreen):
            self.push_screen(LogSearchScreen())

    def open_log_at(self: "ResultsApp", result: Any, taskrun: Any, step: str, line: int,  # type: ignore[misc]
                    text: str) -> None:
        """The tree on the Result (when loaded), the detail on the TaskRun, its Logs tab on `step` at `line`
        with `text` highlighted there (a log search hit)."""
        from tekton_results_tui.tui.widgets.detail_base import Target

        node = self.tree.find_node(result.id)
        if node is not None:
            self._shown = ("result", result.id)  # the cursor's move must not replace the TaskRun shown below
            self.tree.goto(node)
        logs: Any = self.detail.views["logs"]  # a LogView (made on first use)
        logs.selected = (taskrun.uid, step)
        logs.reveal = ((taskrun.uid, step), line, text)
        self.detail.show_record(taskrun)
        self.action_tab("logs")
        logs.load(Target.of_record(taskrun))  # shown already or not: load so the hit is revealed

    def insight_commands(self: "ResultsApp") -> list[tuple[str, Callable[[], Any], str]]:  # type: ignore[misc]
        """(title, callback, key) for the palette."""
        cmds: list[tuple[str, Callable[[], Any], str]] = []
        for name, (title, key) in PALETTE.items():
            action = getattr(self, f"action_{name}", None)
            if action is not None:
                cmds.append((title, action, key))
        return cmds


PALETTE: dict[str, tuple[str, str]] = {
    "statistics": ("Statistics of the filtered runs", "S"),
    "diff_last_success": ("Diff with the last successful run of this pipeline", "d"),
    "diff_marked": ("Diff the marked run with the highlighted one", "D"),
    "search_logs": ("Search logs", "G"),
}
