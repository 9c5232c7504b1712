"""Log-search fixtures: run builders shared with the store suite, and a history on either engine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))  # store_objects: run builders

from store_objects import T0  # noqa: E402

from tekton_results_tui.store.history import History  # noqa: E402


@pytest.fixture
def h(history: History) -> History:
    """The shared `history` fixture (SQLite and PostgreSQL), on a fixed clock."""
    return History(history.db, clock=lambda: T0)
