"""The frame timer catches up to the next slot after a pause (tui/frame_timer.py)."""

from __future__ import annotations

import asyncio

import pytest
from textual import _time
from textual import timer as textual_timer
from textual.app import App
from textual.timer import Timer

from tekton_results_tui.tui import frame_timer
from tekton_results_tui.tui.frame_timer import next_slot

INTERVAL = 1 / 60


@pytest.mark.parametrize("late_by", [0.01, 1.0, 1.5, 2.0, 37.3])
def test_a_late_timer_waits_for_the_next_slot_only(late_by: float) -> None:
    start, count = 100.0, 5
    now = start + (count + 1 + late_by) * INTERVAL  # its slot count + 1 has passed by late_by intervals
    new_count, due = next_slot(start, INTERVAL, count, now)
    assert now - 1e-9 <= due < now + INTERVAL + 1e-9  # Textual 8.2.8 waited until the slot after this one (up to 2 intervals)
    assert abs((due - start) / INTERVAL - round((due - start) / INTERVAL)) < 1e-9  # still on the timer's grid
    assert due == pytest.approx(start + (new_count + 1) * INTERVAL)


def test_a_timer_on_time_keeps_its_slot() -> None:
    start, count = 100.0, 5
    now = start + (count + 0.5) * INTERVAL
    assert next_slot(start, INTERVAL, count, now) == (count, start + (count + 1) * INTERVAL)


async def test_the_screen_timer_resumed_after_a_pause_waits_less_than_a_frame(monkeypatch) -> None:
    """Through Textual's own Timer with the app's install(): a clock that moves only when the timer sleeps
    (each wait recorded), a pause of 2.5 frames, then a resume right after the tick: the timer asks to sleep
    under one interval (with Textual's catch-up it asked for 1-2 intervals)."""
    clock = [1000.0]
    waits: list[float] = []

    async def sleep(secs: float) -> None:
        waits.append(secs)
        clock[0] += secs
        await asyncio.sleep(0)

    monkeypatch.setattr(_time, "get_time", lambda: clock[0])
    monkeypatch.setattr(textual_timer, "sleep", sleep)
    monkeypatch.setattr(Timer, "_run", Timer._run)  # undone after the test, whatever install() does
    frame_timer.install()
    ticks: list[float] = []
    app = App()
    async with app.run_test():
        timer = Timer(app, INTERVAL, callback=lambda: ticks.append(clock[0]), pause=True)
        timer._start()
        timer.resume()
        for _ in range(50):
            if ticks:
                break
            await asyncio.sleep(0)
        timer.pause()
        assert ticks, "the timer never ticked"
        clock[0] += 2.5 * INTERVAL  # nothing to draw for a while
        waits.clear()
        timer.resume()
        for _ in range(50):
            if len(ticks) >= 3:
                break
            await asyncio.sleep(0)
        timer.stop()
    assert len(ticks) >= 3
    assert waits and max(waits) < INTERVAL, waits


def test_now_exactly_on_a_slot_is_that_slot() -> None:
    start, interval = 0.0, 0.25  # exact in binary: now lands on slot 8 exactly
    assert next_slot(start, interval, 5, 2.0) == (7, 2.0)  # wait 0, not a whole interval
