"""The header line: context, scope, watcher state (and why), events/s, history size."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tekton_results_tui.textsafe import visible
from tekton_results_tui.watcher.status import LIVE, OFF, RECONNECTING, STANDBY, STARTING, WatcherStatus

STATE_STYLES = {LIVE: "bold green", RECONNECTING: "bold yellow", STARTING: "bold cyan", OFF: "bold red",
                STANDBY: "bold blue"}


def header_text(st: WatcherStatus, size: tuple[int, int] | None, read_only: bool = False,
                follower: bool = False) -> Text:
    """One line of Text (reasons come from the cluster: never markup, controls shown as escapes)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(" tekton-results ", style="bold reverse")
    t.append("  ctx ", style="dim")
    t.append(visible(st.context or "-"), style="bold")
    t.append("  scope ", style="dim")
    t.append(visible(st.scope or "all namespaces"))
    t.append("  watcher ", style="dim")
    if follower:
        t.append("following", style="bold blue")
    else:
        t.append(st.state, style=STATE_STYLES.get(st.state, "bold"))
    if st.state == LIVE and not follower:
        t.append(f"  {st.events_per_s:.1f} ev/s", style="")
    if st.reason:
        t.append(f" ({visible(st.reason)})", style="yellow" if st.state != OFF or follower else "dim")
    if size is not None:
        t.append("  history ", style="dim")
        t.append(f"{size[0]:,} results / {size[1]:,} records")
    if read_only:
        t.append("  READ-ONLY", style="bold reverse yellow")
    return t


class StatusHeader(Static):
    """Updated by the app (on a timer and after changes); renders `header_text`."""

    def __init__(self, *, id: str | None = "status-header") -> None:
        super().__init__("", id=id)
        self.status = WatcherStatus()
        self.history_size: tuple[int, int] | None = None
        self.read_only = False
        self.follower = False
        self._shown: Text | None = None

    def show(self, status: WatcherStatus, size: tuple[int, int] | None, read_only: bool, follower: bool) -> None:
        self.status, self.history_size, self.read_only, self.follower = status, size, read_only, follower
        text = header_text(status, size, read_only, follower)
        if text == self._shown:
            return  # refreshed every second: repaint only a change
        self._shown = text
        self.update(text, layout=False)  # one line of fixed height: never a relayout of the screen
