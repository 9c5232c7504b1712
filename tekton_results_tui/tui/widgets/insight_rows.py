"""What the Summary adds from the history about one run: why it is flaky, and while it runs, its ETA."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tekton_results_tui.insights.eta import progress_bar
from tekton_results_tui.insights.run_summary import run_insights
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.store.history import History, RecordRow
from tekton_results_tui.textsafe import visible

BAR_WIDTH = 20


def insight_rows(history: History, run: RecordRow) -> list[tuple[str, Text]]:
    """(name, value) rows for the Summary's run table; none when there is nothing to say.
    Reads the store: call it in the tab's worker. A failure to judge is left out, never raised."""
    try:
        found = run_insights(history, run)
    except Exception:  # noqa: BLE001 - a hint; the Summary shows without it
        return []
    rows: list[tuple[str, Text]] = []
    if found.flaky:
        rows.append(("Flaky", Text(visible(found.flaky), style="yellow")))
    if found.eta is not None:
        e = found.eta.run
        when = "overdue" if e.overdue else f"about {human_duration(e.remaining_seconds)} left"
        rows.append(("Expected end", Text.assemble(
            (when, "bold"), "  ", (progress_bar(e.progress, BAR_WIDTH), Style(color="cyan", bgcolor="grey23")),
            f" {e.progress * 100:.0f}%", (f"  p50 {human_duration(e.p50_seconds)} of {e.basis} successful runs", "dim"))))
    return rows
