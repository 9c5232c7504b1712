"""Aggregates (counts, success rate, p50/p95/max) and prune on both engines."""

from __future__ import annotations

import pytest
from store_objects import T0, pr, tr

from tekton_results_tui.store import models as m
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData
from tekton_results_tui.store.query import FilterError

DAY = 86400


def _run(name: str, ns: str, pipeline: str, outcome: str, dur: int | None, days_ago: float) -> dict:
    cond, reason = {"ok": ("True", "Succeeded"), "fail": ("False", "Failed"), "cancel": ("False", "Cancelled"),
                    "timeout": ("False", "PipelineRunTimeout"), "run": ("Unknown", "Running")}[outcome]
    created = int(T0 - days_ago * DAY)
    return pr(name, ns=ns, pipeline=pipeline, cond=cond, reason=reason, created=created, start=created,
              end=None if dur is None else created + dur)


def test_aggregate_per_pipeline_namespace_and_day(h: History) -> None:
    runs = [
        *[_run(f"a-ok-{d}", "x", "agg", "ok", d, 1) for d in (10, 20, 30, 40, 50)],
        _run("a-f1", "x", "agg", "fail", 100, 1), _run("a-f2", "y", "agg", "fail", 200, 2),
        _run("a-c", "x", "agg", "cancel", 5, 2), _run("a-t", "x", "agg", "timeout", 1000, 2),
        _run("a-r", "x", "agg", "run", None, 0),
        _run("b-ok", "y", "other", "ok", 7, 40),
    ]
    h.apply([RunUpsert(r) for r in runs])
    by_p = {a.key: a for a in h.aggregate("pipeline")}
    a = by_p["agg"]
    assert (a.total, a.succeeded, a.failed, a.cancelled, a.timed_out, a.running) == (10, 5, 2, 1, 1, 1)
    assert a.success_rate == pytest.approx(5 / 9)
    # durations 5,10,20,30,40,50,100,200,1000 -> linear-interpolated percentiles
    assert a.p50 == 40 and a.p95 == pytest.approx(200 + 0.6 * 800) and a.max == 1000
    assert (by_p["other"].total, by_p["other"].success_rate, by_p["other"].p50) == (1, 1.0, 7)
    assert [x.key for x in h.aggregate("pipeline")] == ["agg", "other"]  # biggest first

    recent = {x.key: x for x in h.aggregate("pipeline", "since:30d")}
    assert set(recent) == {"agg"} and recent["agg"].total == 10

    by_ns = {x.key: x for x in h.aggregate("namespace")}
    assert (by_ns["x"].total, by_ns["y"].total, by_ns["y"].failed) == (9, 2, 1)

    by_day = {x.key: x.total for x in h.aggregate("day", "pipeline:agg")}
    assert sum(by_day.values()) == 10 and all(len(k) == 10 and k.startswith("2026-05") for k in by_day)

    with pytest.raises(ValueError, match="unknown aggregate"):
        h.aggregate("weekday")
    with pytest.raises(FilterError):
        h.aggregate("pipeline", "status:bogus")


def test_aggregate_without_finished_runs_has_no_rate(h: History) -> None:
    h.apply([RunUpsert(_run("r", "x", "only-running", "run", None, 0))])
    (a,) = h.aggregate("pipeline")
    assert (a.total, a.running, a.success_rate, a.p50, a.max) == (1, 1, None, None, None)
    assert h.aggregate("pipeline", "pipeline:absent") == []


def _table_count(model) -> int:
    return model.select().count()


def test_prune_by_completion_time_with_records_and_logs(h: History) -> None:
    old = _run("old", "ci", "p", "ok", 60, 40)
    old_child = tr("old-child", old, created=T0 - 40 * DAY, labels={"app": "web"})
    old_other_ns = _run("old-other", "team", "p", "fail", 60, 45)
    recent = _run("recent", "ci", "p", "ok", 60, 10)
    # started long ago, still running: never pruned, whatever the date
    running = _run("forever", "ci", "p", "run", None, 90)
    h.apply([RunUpsert(o) for o in (old, old_child, old_other_ns, recent, running)]
            + [Logs(old_child, [StepLogData("s", "step-s", b"log text")])])
    assert (_table_count(m.StepLog), _table_count(m.Label)) == (1, 10)  # label sets per Result

    cutoff = T0 - 30 * DAY
    seq = h.current_seq()
    assert h.prune(cutoff, dry_run=True) == (2, 4)  # old(+child +log) and old-other
    assert h.size() == (4, 6) and h.current_seq() == seq  # a dry run changes nothing

    assert h.prune(cutoff, "ns:ci") == (1, 3)
    assert h.current_seq() == seq + 1 and h.last_prune_seq() == seq + 1
    names = {r.display_name for r in h.list_results(limit=100).items}
    assert names == {"old-other", "recent", "forever"}
    assert _table_count(m.StepLog) == 0
    assert h.log_record_for(old_child["metadata"]["uid"]) is None
    assert h.get_record(uid=old_child["metadata"]["uid"]) is None
    assert h.count_results("label:app=web") == 0
    assert m.Label.select().where(m.Label.key == "app").count() == 0

    assert h.prune(T0 + 365 * DAY) == (2, 2)  # everything finished goes
    assert [r.display_name for r in h.list_results().items] == ["forever"]  # the running one stays
    assert h.prune(T0 + 365 * DAY) == (0, 0)
