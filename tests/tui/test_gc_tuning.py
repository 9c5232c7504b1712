"""The collector's settings while the TUI runs (tui/gc_tuning.py) are the app's only: back afterwards."""

from __future__ import annotations

import gc

import pytest

from tekton_results_tui.tui.gc_tuning import YOUNG, tuned_gc


def test_young_collections_are_fewer_and_the_startup_objects_frozen_while_the_app_runs():
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with tuned_gc():
        assert gc.get_threshold() == (YOUNG, before[1], before[2])
        assert gc.get_freeze_count() > 1000  # what the imports made
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_settings_come_back_when_the_app_crashes():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), tuned_gc():
        raise RuntimeError("crash")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
