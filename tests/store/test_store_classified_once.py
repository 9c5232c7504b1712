"""A run is classified once: Logs/Events changes that carry the watcher's classification are stored
under it, without the store classifying the run object again."""

from __future__ import annotations

import pytest
from store_objects import pr, tr

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store import ingest
from tekton_results_tui.store.history import Events, History, Logs, RunUpsert, StepLogData


def _count_classify(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = g.classify

    def counting(obj):  # noqa: ANN001, ANN202
        calls.append(str((obj.get("metadata") or {}).get("name")))
        return real(obj)

    monkeypatch.setattr(ingest.g, "classify", counting)
    return calls


def test_logs_and_events_with_info_are_not_classified_again(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = pr("build")
    child = tr("build-compile", parent)
    h.apply([RunUpsert(parent), RunUpsert(child)])
    info = g.classify(child)
    calls = _count_classify(monkeypatch)
    res = h.apply([
        Logs(child, [StepLogData("compile", "step-compile", b"ok\n")], info),
        Events(child, [{"reason": "Started", "message": "m"}], info),
    ])
    assert calls == []
    assert not res.skipped
    log = h.log_record_for(info.uid)
    assert log is not None and log.result_id == h.get_record(uid=info.uid).result_id
    assert [s.step for s in h.step_logs(log.id)] == ["compile"]


def test_logs_without_info_are_classified_by_the_store(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = pr("build")
    child = tr("build-compile", parent)
    h.apply([RunUpsert(parent), RunUpsert(child)])
    calls = _count_classify(monkeypatch)
    h.apply([Logs(child, [StepLogData("compile", "step-compile", b"ok\n")])])
    assert calls == ["build-compile"]
