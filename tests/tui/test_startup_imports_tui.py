"""The TUI on a read-only history paints without the write, cleanup or insights-command paths
(tests/importkit.py says why)."""

from __future__ import annotations

from pathlib import Path

from importkit import NOT_AT_START, loaded_after


def test_the_tui_on_a_read_only_history_loads_no_write_or_cleanup_path(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    loaded_after(f"from tekton_results_tui.store.db import open_database\n"
                 f"from tekton_results_tui.store.history import History\n"
                 f"History(open_database('sqlite:///{db}'))")  # the history's schema, made by another process
    loaded = loaded_after(f"from tekton_results_tui import cli\n"
                          f"from tekton_results_tui.store.db import open_database\n"
                          f"from tekton_results_tui.store.history import History\n"
                          f"from tekton_results_tui.tui.app import ResultsApp\n"
                          f"ResultsApp(History(open_database('sqlite:///{db}', read_only=True), read_only=True), "
                          f"read_only=True)")
    assert "tekton_results_tui.tui.app" in loaded
    assert not loaded & NOT_AT_START, sorted(loaded & NOT_AT_START)
