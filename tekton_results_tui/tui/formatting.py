"""Small shared formatters for the TUI: status icons, kubectl-like ages and durations, times.

Everything returns plain `str` or `rich.text.Text` (never markup), so names and
reasons from the cluster render as they are.
"""

from __future__ import annotations

import time

from rich.text import Text

# status -> (icon, word, style)
_STATUS = {
    "SUCCESS": ("✔", "Succeeded", "green"),
    "FAILURE": ("✖", "Failed", "red"),
    "TIMEOUT": ("⏱", "Timed out", "red"),
    "CANCELLED": ("⊘", "Cancelled", "magenta"),
}


def _running(in_cluster: bool, started: bool) -> bool:
    """An unfinished run is "running" only while it is in the cluster and has started: with no
    Succeeded condition and no start time nothing says it ever ran (an old import, say)."""
    return in_cluster and started


def status_icon(status: str | None, in_cluster: bool = True, started: bool = True) -> Text:
    """One-cell icon for a run status: ● running, ? unknown."""
    known = _STATUS.get((status or "").upper())
    if known:
        icon, _, style = known
        return Text(icon, style=style)
    if _running(in_cluster, started):
        return Text("●", style="yellow")
    return Text("?", style="dim")


def status_word(status: str | None, in_cluster: bool = True, started: bool = True) -> str:
    """The status in words, as shown next to the icon."""
    known = _STATUS.get((status or "").upper())
    if known:
        return known[1]
    if _running(in_cluster, started):
        return "Running"
    if not in_cluster:
        return "Unknown (gone before it finished)"
    return "Unknown (no Succeeded condition, never started)"


def status_style(status: str | None, in_cluster: bool = True, started: bool = True) -> str:
    known = _STATUS.get((status or "").upper())
    if known:
        return known[2]
    return "yellow" if _running(in_cluster, started) else "dim"


def fmt_duration(seconds: float | int | None) -> str:
    """kubectl-like duration: 45s, 3m12s, 1h5m, 2d3h; '-' when unknown."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s}s" if s else f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d{h}h" if h else f"{d}d"


def fmt_age(epoch: float | int | None, now: float | int) -> str:
    """kubectl-like age of a timestamp: 5s, 3m, 2h, 4d, 1y; '-' when unknown."""
    if epoch is None:
        return "-"
    s = max(0, int(now - epoch))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 120:
        return f"{m}m"
    h = m // 60
    if h < 48:
        return f"{h}h"
    d = h // 24
    if d < 730:
        return f"{d}d"
    return f"{d // 365}y"


def fmt_time(epoch: float | int | None) -> str:
    """A timestamp in UTC, ISO-like and sortable: 2026-05-28 10:20:00Z; '-' when unknown."""
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(int(epoch)))


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
