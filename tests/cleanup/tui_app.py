"""The app and service the cleanup TUI tests drive: the product's own ResultsApp and
WatcherService (the cleanup integration lives in them; these names stay for the tests)."""

from __future__ import annotations

from tekton_results_tui.tui.app import ResultsApp as CleanupApp
from tekton_results_tui.watcher.service import WatcherService as CleanupService

__all__ = ["CleanupApp", "CleanupService"]
