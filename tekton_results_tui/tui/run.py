"""Run the TUI app until it quits; a crash restores the terminal, says one line and where the traceback is.

The parts it shows (the history, the watcher or why there is none) are started by bootstrap.run_tui;
this module only runs the app, so the tui package never starts a cluster client itself.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from rich.console import Console

from tekton_results_tui import exitcodes
from tekton_results_tui.settings import Settings, data_dir
from tekton_results_tui.store.history import History
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.cluster import ClusterActions
from tekton_results_tui.tui.gc_tuning import tuned_gc
from tekton_results_tui.tui.thread_switch import prompt_switches


def run_app(history: History, settings: Settings, cluster: ClusterActions) -> int:
    """Run the TUI on `history`, reaching the cluster through `cluster` (bootstrap.tui_cluster).

    Returns the exit code: 0 on quit; on a crash exitcodes.CRASH after the terminal is restored and one
    line naming the error and the log file holding its traceback is printed.
    """
    from tekton_results_tui.tui.app import ResultsApp

    from tekton_results_tui.tui.config import load_config

    # A prompt lock for the UI from the app's creation on: it starts reading the first page on a thread, and
    # at the default 5 ms switch interval that read waited for the lock at each step while Textual built the
    # screen, so the first frame came without the page (+0.12 s at 1.2M records). Fewer collections while
    # it runs (tui/gc_tuning.py, thread_switch.py).
    with prompt_switches():
        app = ResultsApp(history, settings=settings, read_only=settings.read_only, cluster=cluster,
                         config=load_config())  # the user's config.toml: theme, default filter, columns, keys
        # Textual prints a crash's traceback (with locals) on this console once the terminal is restored:
        # keep it for the log file instead of the user's screen.
        errors = io.StringIO()
        app.error_console = Console(file=errors, markup=False, highlight=False, width=120, color_system=None)
        with tuned_gc():
            app.run()
    code = app.return_code or exitcodes.OK
    if code == exitcodes.OK:
        return exitcodes.OK
    exc = getattr(app, "_exception", None)  # Textual keeps the first unhandled exception here
    what = f"{type(exc).__name__}: {exc}" if exc is not None else "the app stopped with an error"
    where = write_crash_log(errors.getvalue())
    line = visible(what.splitlines()[0] if what.strip() else what)[:300]
    print(f"tekton-results-tui: crashed: {line}" + (f" (traceback in {where})" if where else ""), file=sys.stderr)
    return exitcodes.CRASH


def write_crash_log(text: str) -> Path | None:
    """The traceback text in a file under the data dir (or the temp dir); None when none can be written."""
    import tempfile

    stamp = time.strftime("%Y%m%dT%H%M%S")
    for base in (data_dir() / "crashes", Path(tempfile.gettempdir())):
        try:
            base.mkdir(parents=True, exist_ok=True)
            path = base / f"tekton-results-tui-crash-{stamp}.log"
            path.write_text(text or "(no traceback was recorded)\n", encoding="utf-8", errors="backslashreplace")
            return path
        except OSError:
            continue
    return None
