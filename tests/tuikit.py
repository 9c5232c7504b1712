"""Test support shared by every package that drives the TUI with a Pilot (tests/tui, tests/cleanup)."""

from __future__ import annotations

import pytest


def settle_store_reads_in_pilot_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the store in workers; a Pilot wait (after a key, a pause, before a snapshot) also
    waits until the reads it started were applied, so tests see what a user sees once the data is there.
    A test about the waiting itself sets `app.settle_in_tests = False`."""
    from textual.pilot import Pilot

    plain = Pilot._wait_for_screen

    async def wait_for_screen(self: Pilot, timeout: float = 30.0) -> bool:
        done = await plain(self, timeout)
        settle = getattr(self.app, "settle_reads", None)
        if settle is not None and getattr(self.app, "settle_in_tests", True):
            for _ in range(5):  # an applied read can start another (a page -> the count, the detail tab)
                if not await settle():
                    break
                done = await plain(self, timeout)
        return done

    monkeypatch.setattr(Pilot, "_wait_for_screen", wait_for_screen)


@pytest.fixture(autouse=True)
def pilot_settles_store_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Autouse in a package's conftest (import it there): Pilot waits settle the app's store reads."""
    settle_store_reads_in_pilot_waits(monkeypatch)
