"""The record-list summary with and without its writer-kept rollup (store/summary_days.py), for the tests
that hold the one against the other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tekton_results_tui.store import api_summary as summ


@contextmanager
def rollup_spied(monkeypatch: pytest.MonkeyPatch, answered: list[bool]) -> Iterator[None]:
    """Summaries as served; each appends whether summary_day answered it (False: it fell back to run_stat)."""
    real = summ._from_summary_days

    def spy(*a: Any) -> Any:
        r = real(*a)
        answered.append(r is not None)
        return r

    with monkeypatch.context() as m:
        m.setattr(summ, "_from_summary_days", spy)
        yield


@contextmanager
def scan_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Summaries from the run_stat scan alone (what the rollup must equal)."""
    with monkeypatch.context() as m:
        m.setattr(summ, "_from_summary_days", lambda *a: None)
        yield
