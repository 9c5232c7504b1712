"""What the Summary of one run adds from the history: its flaky line and, while it runs, its ETA.

One call for a view that shows a selected run (run it off the UI thread: it reads the store).
"""

from __future__ import annotations

from dataclasses import dataclass

from tekton_results_tui.insights.eta import RunEta, progress_bar, run_eta
from tekton_results_tui.insights.flaky import run_flakiness
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.store.history import History, RecordRow


@dataclass(frozen=True)
class RunInsights:
    flaky: str | None  # "flaky: passed on retry 2 of 3" / "flaky: same revision passed in run X"
    eta: RunEta | None
    eta_line: str | None  # "expected end: about 3m left  ████▌      45%" / "expected end: overdue ..."


def run_insights(h: History, run: RecordRow, revision_key: str | None = None, bar_width: int = 20) -> RunInsights:
    found = run_flakiness(h, run, revision_key)
    eta = run_eta(h, run)
    line = None
    if eta is not None:
        e = eta.run
        when = "overdue" if e.overdue else f"about {human_duration(e.remaining_seconds)} left"
        line = (f"expected end: {when}  {progress_bar(e.progress, bar_width)} {e.progress * 100:.0f}% "
                f"(p50 {human_duration(e.p50_seconds)} of {e.basis} successful runs)")
    return RunInsights(found.line() if found else None, eta, line)
