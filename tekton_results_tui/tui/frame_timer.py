"""A changed screen is drawn at the next frame slot, not the one after it.

Textual draws a screen from a 60 Hz interval timer that pauses while nothing changed. Its `Timer`
(8.2.8, pinned in pyproject.toml) catches up after a pause by jumping to the *second* slot after
now: `count = int(elapsed / interval + 1)` and then waits for slot `count + 1`. So the frame after any
frame that followed a pause waited 1-2 intervals (17-33 ms) instead of at most one. On a live cluster
(drains, the Summary's reloads, ticking durations) a keypress usually lands in that window: keypress
to frame p95 went from 31 to 16 ms with the next slot (bench/tui_bench.py, 120k records, a writer
process). `install()` gives every Timer the next slot; the rest of `Timer._run` is Textual's.
"""

from __future__ import annotations

import math

import textual
from textual import _time
from textual import timer as textual_timer
from textual.timer import EventTargetGone, Timer

__all__ = ["install", "next_slot"]


def next_slot(start: float, interval: float, count: int, now: float) -> tuple[int, float]:
    """(count, time) of the first slot of a timer started at `start` that is not before `now`: the
    timer's own slot `count + 1` when it is not late, else the slot right after now."""
    due = start + (count + 1) * interval
    if due < now:
        count = max(count, math.ceil((now - start) / interval) - 1)  # now on a slot: that slot, not the next
        due = start + (count + 1) * interval
    return count, due


async def _run(self: Timer) -> None:
    """Timer._run (Textual 8.2.8) with the late case going to the next slot (next_slot)."""
    count = 0
    _repeat = self._repeat
    _interval = self._interval
    self._active  # noqa: B018 - Textual's: makes the event in this thread
    await self._active.wait()
    start = _time.get_time()
    while _repeat is None or count <= _repeat:
        if self._skip:
            count, next_timer = next_slot(start, _interval, count, _time.get_time())
            if _repeat is not None and count > _repeat:
                break  # as Textual's: a limited timer that fell past its last slot ends
        else:
            next_timer = start + (count + 1) * _interval
        await textual_timer.sleep(max(0, next_timer - _time.get_time()))
        count += 1
        await self._active.wait()
        if self._reset:
            start = _time.get_time()
            count = 0
            self._reset = False
            continue
        try:
            await self._tick(next_timer=next_timer, count=count)
        except EventTargetGone:
            break


PATCHED_TEXTUAL = "8.2.8"  # the Timer._run this replaces (pyproject.toml pins textual to it)


def install() -> None:
    """Make every Textual timer (the screens' frame timers among them) catch up to the next slot. Only on
    the Textual whose Timer._run this is: another release keeps its own (and its own catch-up)."""
    if Timer._run is not _run and textual.__version__ == PATCHED_TEXTUAL:
        Timer._run = _run  # type: ignore[method-assign]
