"""Insights fixtures: a History on a fixed clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from insights_kit import T0

from tekton_results_tui.store.history import History


@pytest.fixture
def h(history: History) -> History:
    """The shared `history` fixture (both engines) with the clock fixed at T0."""
    return History(history.db, clock=lambda: T0)
