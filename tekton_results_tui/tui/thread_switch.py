"""How often the interpreter lets another thread run while the TUI runs: every 1 ms instead of 5 ms.

The default mode's watcher writes the history from a thread of the app's process, and the store reads of
the tree, counts and panes run in worker threads. A key arriving while one of them runs waited up to the
switch interval for the interpreter lock at each step between the key and its frame. Measured with
bench/tui_bench.py (120k records, a writer thread storing 200 run updates/s, 4 x 200 presses): keypress
to frame p95 17-20 ms at 5 ms, 15.3-15.9 ms at 1 ms (the writer kept its 200 updates/s).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

UI_SWITCH_INTERVAL_S = 0.001


@contextmanager
def prompt_switches() -> Iterator[None]:
    """Run the app with the shorter switch interval; the previous one is back afterwards."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
