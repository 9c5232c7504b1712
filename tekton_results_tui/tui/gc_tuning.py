"""The collector's settings while the TUI runs: the young generation collected every 7,000 allocations
instead of 700, and what was alive before the app started (modules, classes, the CSS) frozen out of it.

Measured on the timeline benchmark (a 200-TaskRun PipelineRun selected, bench/timeline_bench.py): by
default a selection paid ~21 young collections, ~2 middle ones (~5 ms each) and every ~5th selection a
full collection of ~110k objects (100-300 ms under load: the max figures); the parsed objects of a run and
Textual's strips are mostly short-lived, so fewer young collections scan fewer survivors, and a full
collection no longer walks the imports. GC per selection went ~45 ms -> ~10 ms (same machine, load ~6).
Only young garbage cycles wait longer to be freed (at most 7,000 allocations).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 7_000


@contextmanager
def tuned_gc() -> Iterator[None]:
    """Run the app under these settings; the previous ones are back afterwards (and nothing stays frozen)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
