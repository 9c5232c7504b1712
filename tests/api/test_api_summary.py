"""GetRecordListSummary: each aggregate, grouping and order, with upstream's duration strings and our
status rules (a timeout is a failure; every cancel reason a cancel; an Unknown condition running)."""

from __future__ import annotations

import calendar
from datetime import datetime, timezone

import pytest
from apikit import T0

from tekton_results_tui.api.summary import interval

ALL = "total,succeeded,failed,cancelled,running,others,last_runtime,avg_duration,min_duration,max_duration,total_duration"


def test_every_aggregate_over_the_corpus(api) -> None:
    (s,) = api.json("/-/results/-/records/summary", summary=ALL)["summary"]
    # PipelineRun/TaskRun pairs: build-1 Succeeded, build-2 Failed, test-1 PipelineRunTimeout, test-2 Running,
    # deploy-1 Cancelled, deploy-2 Completed; each pair has a Log record (counted in total only)
    assert (s["total"], s["succeeded"], s["failed"], s["cancelled"], s["running"], s["others"]) == (18, 4, 4, 2, 2, 0)
    assert s["last_runtime"] == T0 - 10_000 + 500 + 3
    # durations: PipelineRuns 59,159,259,459,559 s; TaskRuns 57,157,257,457,557 s (the running pair has none)
    assert s["min_duration"] == "00:00:57" and s["max_duration"] == "00:09:19"
    assert s["total_duration"] == "00:49:40" and s["avg_duration"] == "00:04:58"
    assert set(s) == set(ALL.split(","))


def test_default_is_total_and_filter_applies(api) -> None:
    assert api.json("/-/results/-/records/summary")["summary"] == [{"total": 18}]
    body = api.json("/-/results/-/records/summary", summary="total,failed", filter="data_type == PIPELINE_RUN")
    assert body["summary"] == [{"total": 6, "failed": 2}]
    rn = api.corpus.result_name(api.corpus.prs[0])
    assert api.json(f"/{rn}/records/summary", summary="total,succeeded")["summary"] == [{"total": 3, "succeeded": 2}]
    assert api.json("/prod/results/-/records/summary")["summary"] == [{"total": 6}]


def test_group_by_fields_and_order(api) -> None:
    body = api.json("/-/results/-/records/summary", summary="total,succeeded,avg_duration", group_by="pipeline",
                    order_by="DESC avg_duration")
    groups = [g["group_value"] for g in body["summary"]]
    assert groups == ["prod/deploy", "ci/test", "ci/build"]
    assert body["summary"][0] == {"total": 6, "succeeded": 2, "avg_duration": "00:08:28", "group_value": "prod/deploy"}
    asc = api.json("/-/results/-/records/summary", summary="total,avg_duration", group_by="pipeline",
                   order_by="avg_duration asc")
    assert [g["group_value"] for g in asc["summary"]] == groups[::-1]
    ns = api.json("/-/results/-/records/summary", summary="total,running", group_by="namespace", order_by="ASC running")
    assert ns["summary"] == [{"total": 6, "running": 0, "group_value": "prod"}, {"total": 12, "running": 2, "group_value": "ci"}]
    repo = api.json("/-/results/-/records/summary", group_by="repository")
    assert sorted(g["group_value"] for g in repo["summary"]) == ["ci/", "prod/"]


def _epoch(y: int, m: int = 1, d: int = 1) -> int:
    return calendar.timegm((y, m, d, 0, 0, 0))


@pytest.mark.parametrize("group", ["minute", "hour", "day", "week", "month", "year",
                                   "day startTime", "hour completionTime"])
def test_group_by_time(api, group: str) -> None:
    body = api.json("/-/results/-/records/summary", summary="total", group_by=group)
    got = {g["group_value"]: g["total"] for g in body["summary"]}
    unit, _, field = group.partition(" ")
    times = []
    for p, t in zip(api.corpus.prs, api.corpus.trs):
        for o in (p, t):
            key = {"": "creationTimestamp", "startTime": "startTime", "completionTime": "completionTime"}[field]
            raw = o["metadata"]["creationTimestamp"] if key == "creationTimestamp" else o["status"].get(key)
            times.append(None if raw is None else int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()))

    def trunc(e: int | None) -> int | None:
        if e is None:
            return None
        d = datetime.fromtimestamp(e, tz=timezone.utc)
        if unit == "minute":
            return e - e % 60
        if unit == "hour":
            return e - e % 3600
        if unit == "day":
            return e - e % 86400
        if unit == "week":
            day = e - e % 86400
            return day - d.weekday() * 86400
        if unit == "month":
            return _epoch(d.year, d.month)
        return _epoch(d.year)

    want: dict = {}
    for e in times:
        want[trunc(e)] = want.get(trunc(e), 0) + 1
    # a Log record has no creation, start or completion time of a run: it groups under null
    assert got.pop(None, 0) - want.pop(None, 0) == 6
    assert got == want
    assert sum(got.values()) + 6 + sum(1 for e in times if e is None) == 18


@pytest.mark.parametrize("params,msg", [
    ({"summary": "total,bogus"}, "invalid aggregate query"),
    ({"group_by": "fortnight"}, "group_by does not recognize"),
    ({"group_by": "day endTime"}, "group_by does not recognize"),
    ({"group_by": "pipeline", "order_by": "DESC failed"}, "not allowed, must be one of summary"),
    ({"group_by": "pipeline", "order_by": "total"}, "order_by does not recognize"),
    ({"order_by": "sideways"}, "order_by does not recognize"),  # no groups to order: still refused
])
def test_bad_summary_parameters(api, params: dict, msg: str) -> None:
    r = api.get("/-/results/-/records/summary", **params)
    assert r.status_code == 400 and msg in r.json()["message"], r.text


def test_interval_strings() -> None:
    assert interval(76.21875) == "00:01:16.21875"
    assert interval(0) == "00:00:00"
    assert interval(7317) == "02:01:57"
    assert interval(40.5) == "00:00:40.5"
    assert interval(100 * 3600 + 1) == "100:00:01"
    assert interval(None) is None


RUNS_ONLY_FILTERS = [
    "data.status.startTime > timestamp(\"1970-01-01T00:00:01Z\")",
    "data.status.completionTime - data.status.startTime > duration(\"2m\") && data.metadata.namespace == \"ci\"",
    "data.status.conditions[0].reason in [\"Failed\", \"PipelineRunTimeout\"]"
    " || data.status.startTime < timestamp(\"2100-01-01T00:00:00Z\")",
    "data.status.conditions[0].status != \"True\" && data.status.startTime > timestamp(\"1970-01-01T00:00:01Z\")",
    "data.status.conditions[0].reason != \"Succeeded\" && !(data.metadata.name.startsWith(\"build\"))",
    "data.metadata.creationTimestamp > timestamp(\"1970-01-01T00:00:01Z\") && data.metadata.name != \"test-1\"",
]


@pytest.mark.parametrize("flt", RUNS_ONLY_FILTERS)
def test_runs_only_filters_read_run_stats_with_the_same_answer(api, flt: str) -> None:
    """A filter only runs can match is summed from run_stat rows; the answer equals the Records' sums
    (a `data_type != "x"` term, true on every Record, sends the same filter down the Records path)."""
    from tekton_results_tui.api.cel_filter import compile_filter
    from tekton_results_tui.store.api_reads import Scope
    from tekton_results_tui.store.api_summary import _stat_where

    assert _stat_where(Scope(), compile_filter(flt, "records")) is not None
    assert _stat_where(Scope(), compile_filter(f"({flt}) && data_type != \"x\"", "records")) is None
    for group in ["", "namespace", "pipeline", "repository", "day", "hour completionTime", "week startTime"]:
        for parent in ["-", "ci", f"{api.corpus.result_name(api.corpus.prs[0])}"]:
            path = f"/{parent}/results/-/records/summary" if "/" not in parent else f"/{parent}/records/summary"
            fast = api.json(path, summary=ALL, group_by=group, filter=flt)["summary"]
            slow = api.json(path, summary=ALL, group_by=group, filter=f"({flt}) && data_type != \"x\"")["summary"]
            key = lambda d: str(d.get("group_value"))  # noqa: E731
            assert sorted(fast, key=key) == sorted(slow, key=key), (group, parent)
    if flt == RUNS_ONLY_FILTERS[0]:  # every run has started: the 12 runs, none of the 6 Logs
        assert api.json("/-/results/-/records/summary", filter=flt)["summary"] == [{"total": 12}]
