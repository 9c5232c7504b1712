"""ResultsApp with the cleanup integration applied exactly as proposed for app.py / commands.py / service.py.

(Until those lines land in the shared files, the tests drive this subclass; afterwards it
can become ResultsApp itself.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

import tekton_results_tui.tui.app as app_mod
from tekton_results_tui.tui.app import ResultsApp
from tekton_results_tui.tui.cleanup_actions import CLEANUP_ACTIONS, CLEANUP_BINDINGS, CleanupActions
from tekton_results_tui.tui.commands import ResultsCommands
from tekton_results_tui.watcher import cleanup
from tekton_results_tui.watcher.service import WatcherService


class CleanupCommands(ResultsCommands):
    def _static(self) -> list[tuple[str, object, str]]:
        return super()._static() + self.results_app.cleanup_commands()  # type: ignore[attr-defined]


class CleanupApp(CleanupActions, ResultsApp):
    CSS_PATH = str(Path(app_mod.__file__).with_name("app.tcss"))
    COMMANDS = App.COMMANDS | {CleanupCommands}
    BINDINGS = CLEANUP_BINDINGS

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.cleanup_init()

    def on_mount(self) -> None:
        super().on_mount()
        self.cleanup_mount()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CLEANUP_ACTIONS:
            return self.cleanup_check_action(action)
        return super().check_action(action, parameters)


class CleanupService(WatcherService):
    """WatcherService + the proposed delete_runs method."""

    def delete_runs(self, plan: cleanup.CleanupPlan, progress_cb: Any = None, should_stop: Any = None) -> list:
        return cleanup.delete_runs(self.target, plan, progress_cb, read_only=self.settings.read_only,
                                   history=self.history, should_stop=should_stop)
