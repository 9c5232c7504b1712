"""The app's keys for what the history can tell: statistics, a run's timeline, diffs, log search.

A mixin of ResultsApp (like CleanupActions): its bindings go into the app's BINDINGS, its palette
commands into ResultsCommands. Every screen it opens reads the store in thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual.binding import Binding

if TYPE_CHECKING:
    from tekton_results_tui.tui.app import ResultsApp

SCREEN_WIDE_ACTIONS = frozenset({"quit", "help", "command_palette", "statistics", "search_logs"})

INSIGHT_BINDINGS = [
    Binding("S", "statistics", "Stats", id="app.statistics", tooltip="statistics of the filtered runs by group"),
    Binding("t", "tab('timeline')", "Timeline", id="app.tab_timeline", tooltip="where the run's time went"),
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
