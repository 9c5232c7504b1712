"""Store-suite fixtures: a History with a fixed clock on either engine."""

from __future__ import annotations

import pytest
from store_objects import T0

from tekton_results_tui.store.history import History


class Clock:
    """A settable clock so time filters and `now` columns are exact."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def h(history: History, clock: Clock) -> History:
    """The shared `history` fixture (SQLite and PostgreSQL), on a fixed clock."""
    return History(history.db, clock=clock)
