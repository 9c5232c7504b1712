"""GetRecordListSummary over HTTP as dashboards ask it (a startTime window, grouped, ordered): answered from the
writer-kept summary_day rows with the very JSON the run_stat scan gives, on SQLite and PostgreSQL, with a
day left dirty (its runs read from run_stat) and after it settles."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests
from apikit import API, T0, pr, served, tr
from rollupkit import rollup_spied, scan_only

from tekton_results_tui.store import stat_days as sd
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, RunUpsert

DAY = 86400
ALL = "total,succeeded,failed,cancelled,running,others,last_runtime,avg_duration,min_duration,max_duration,total_duration"
OUTCOMES = [("True", "Succeeded"), ("True", "Completed"), ("False", "Failed"), ("False", "PipelineRunTimeout"),
            ("False", "Cancelled"), ("Unknown", "Running")]


def _runs(rng: random.Random, n: int) -> list[Any]:
    out: list[Any] = []
    for i in range(n):
        created = T0 - rng.randrange(45 * DAY)
        start = created + rng.choice([0, 2, 4 * 3600, DAY + 1])
        cond, reason = rng.choice(OUTCOMES)
        end = None if cond == "Unknown" else start + rng.randrange(5, 4000)
        p = pr(f"run-{i}", ns=rng.choice(["ci", "prod"]), cond=cond, reason=reason, created=created, start=start,
               end=end, pipeline=rng.choice(["build", "test", "deploy"]))
        t = tr(f"run-{i}-compile", parent=p, cond=cond, reason=reason, created=created + 1, start=start + 1,
               end=end, pipeline_task="compile")
        out += [RunUpsert(p), RunUpsert(t)]
    return out


def _get(url: str, **params: str) -> dict:
    r = requests.get(url + API + "/-/results/-/records/summary", params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _sorted(body: dict) -> list[dict]:
    return sorted(body["summary"], key=lambda g: str(g.get("group_value")))


@pytest.mark.parametrize("settled", [False, True])
def test_dashboard_summaries_come_from_summary_days_unchanged(history: History, monkeypatch: pytest.MonkeyPatch,
                                                              settled: bool) -> None:
    h = History(history.db, clock=lambda: T0)
    h.apply(_runs(random.Random(8), 120))
    h.optimize()
    if not settled:  # a run of today: a live day stays dirty a while (stat_days.SETTLE_AFTER_S), read from run_stat
        h.apply([RunUpsert(pr("late", ns="ci", created=T0 - 600, start=T0 - 595, end=T0 - 500, pipeline="build"))])
        assert list(sd.StatDirty.select())
    answered: list[bool] = []
    queries = []
    for days in (30, 7, 1):
        since = f'data.status.startTime > timestamp("{format_time(T0 - days * DAY)}")'
        for group in ("pipeline", "namespace", "day startTime", "week startTime", "month startTime"):
            queries.append(dict(summary=ALL, group_by=group, order_by="DESC total", filter=since))
        queries.append(dict(summary=ALL, filter=since))
        queries.append(dict(summary="total,failed", group_by="pipeline", filter=since + ' && parent == "ci"'))
    with served() as url:
        for q in queries:
            with rollup_spied(monkeypatch, answered):
                got = _get(url, **q)
            with scan_only(monkeypatch):
                want = _get(url, **q)
            assert _sorted(got) == _sorted(want), q
            assert answered.pop() is True, q
            if q.get("order_by"):
                totals = [g["total"] for g in got["summary"]]
                assert totals == sorted(totals, reverse=True)
            if q is queries[0]:  # the query: 30 days by pipeline
                assert len(got["summary"]) == 6 and sum(g["total"] for g in got["summary"]) > 0
