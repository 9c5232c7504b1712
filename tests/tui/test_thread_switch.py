"""The switch interval while the TUI runs (tui/thread_switch.py) is the app's only: back afterwards."""

from __future__ import annotations

import sys

import pytest

from tekton_results_tui.tui.thread_switch import UI_SWITCH_INTERVAL_S, prompt_switches


def test_the_ui_gets_the_lock_sooner_while_the_app_runs_and_the_interval_comes_back():
    before = sys.getswitchinterval()
    assert before != UI_SWITCH_INTERVAL_S
    with prompt_switches():
        assert sys.getswitchinterval() == pytest.approx(UI_SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), prompt_switches():
        raise RuntimeError("crash")
    assert sys.getswitchinterval() == before
