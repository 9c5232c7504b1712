"""Statistics on small hand-made histories with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import statistics as pystats

import pytest
from insights_kit import T0, pipelinerun, store, taskrun

from tekton_results_tui.errors import UserError
from tekton_results_tui.insights.percentiles import percentile
from tekton_results_tui.insights.stats import GROUP_KEYS, UnknownGroupKey, statistics
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.history import History

REPO_LABEL = "pipelinesascode.tekton.dev/repository"


def build_history(h: History) -> None:
    """pipeline build (ns ci): ok, failed, timed out, cancelled before start, running, never started;
    pipeline deploy (ns prod): one ok run whose TaskRun passed on its second attempt; a standalone TaskRun;
    a build run 40 days old (outside the default window)."""
    b1 = pipelinerun("b1", "ok", created=T0 - 5000, start=T0 - 4990, end=T0 - 4890, revision="r1",
                     labels={REPO_LABEL: "repo-a"})
    b2 = pipelinerun("b2", "fail", created=T0 - 4000, start=T0 - 3970, end=T0 - 3770, revision="r1")
    b3 = pipelinerun("b3", "timeout", created=T0 - 3000, start=T0 - 2940, end=T0 - 2640, revision="r2")
    b4 = pipelinerun("b4", "cancel", created=T0 - 2000, end=T0 - 1990, revision="r3")
    b5 = pipelinerun("b5", "running", created=T0 - 1000, start=T0 - 990, revision="r4")
    b6 = pipelinerun("b6", "none", created=T0 - 500)
    d1 = pipelinerun("d1", "ok", created=T0 - 100, start=T0 - 95, end=T0 - 35, pipeline="deploy", ns="prod",
                     params=[{"name": "repo-url", "value": "https://git.example.com/deploy.git"}])
    old = pipelinerun("old", "fail", created=T0 - 40 * 86400, start=T0 - 40 * 86400 + 1, end=T0 - 40 * 86400 + 1001)
    trs = [
        taskrun(b1, "compile", created=T0 - 4990, start=T0 - 4989, end=T0 - 4939),  # 50 s
        taskrun(b1, "test", created=T0 - 4939, start=T0 - 4938, end=T0 - 4898),  # 40 s
        taskrun(b2, "compile", created=T0 - 3970, start=T0 - 3969, end=T0 - 3909),  # 60 s
        taskrun(b2, "test", "fail", created=T0 - 3909, start=T0 - 3900, end=T0 - 3800),  # 100 s, queued 9 s
        taskrun(b3, "compile", created=T0 - 2940, start=T0 - 2939, end=T0 - 2869),  # 70 s
        taskrun(b3, "test", "timeout", created=T0 - 2869, start=T0 - 2868, end=T0 - 2668),  # 200 s
        taskrun(d1, "push", created=T0 - 95, start=T0 - 94, end=T0 - 40, retries=2, failed_attempts=1),
        taskrun(None, "lint", created=T0 - 300, start=T0 - 299, end=T0 - 289, name="lint-standalone"),
    ]
    store(h, b1, b2, b3, b4, b5, b6, d1, old, *trs)


def groups(h: History, by: str, flt: str | None = None, **kw) -> dict[str, dict]:
    return {g["key"]: g for g in statistics(h, flt, by, **kw).document()["groups"]}


def test_by_pipeline_known_answers(h: History) -> None:
    build_history(h)
    doc = statistics(h, None, "pipeline").document()
    assert doc["by"] == "pipeline"
    assert [g["key"] for g in doc["groups"]] == ["build", "(none)", "deploy"]  # biggest first, then by name
    b = doc["groups"][0]
    assert {k: b[k] for k in ("total", "succeeded", "failed", "cancelled", "timeout", "running")} == {
        "total": 6, "succeeded": 1, "failed": 1, "cancelled": 1, "timeout": 1, "running": 2}
    assert b["success_rate"] == 0.25  # 1 of 4 finished
    # finished durations 100, 200, 300 (the cancelled run never started: no duration)
    assert (b["p50_seconds"], b["p95_seconds"], b["max_seconds"]) == (200.0, 290.0, 300)
    # queue times of started runs: 10, 30, 60, 10
    assert (b["queue_p50_seconds"], b["queue_p95_seconds"]) == (20.0, 55.5)
    assert (b["last_start_time"], b["last_status"]) == ("2026-05-28T20:10:10Z", "UNKNOWN")  # b5, still running
    assert (b["flaky"], b["flaky_rate"]) == (2, 0.5)  # b1 passed and b2 failed on revision r1
    # test: p95 of 40, 100, 200 = 190 beats compile's p95 of 50, 60, 70 = 69; test failed twice (fail + timeout)
    assert b["slowest_task"] == {"name": "test", "p95_seconds": 190.0}
    assert b["most_failing_task"] == {"name": "test", "failed": 2}
    assert set(b) == {"key", "total", "succeeded", "failed", "cancelled", "timeout", "running", "success_rate",
                      "p50_seconds", "p95_seconds", "max_seconds", "queue_p50_seconds", "queue_p95_seconds",
                      "last_start_time", "last_status", "flaky", "flaky_rate", "slowest_task", "most_failing_task"}
    d = doc["groups"][2]
    assert (d["total"], d["success_rate"], d["p50_seconds"], d["p95_seconds"], d["max_seconds"]) == (1, 1.0, 60.0, 60.0, 60)
    assert d["queue_p50_seconds"] == 5.0 and d["flaky"] == 0 and d["most_failing_task"] is None
    assert d["slowest_task"] == {"name": "push", "p95_seconds": 54.0}
    none = doc["groups"][1]  # the standalone TaskRun is a top-level run without a pipeline
    assert (none["total"], none["succeeded"], none["p50_seconds"]) == (1, 1, 10.0)


def test_window_and_filter(h: History) -> None:
    build_history(h)
    assert groups(h, "pipeline")["build"]["total"] == 6
    assert groups(h, "pipeline", since=None)["build"]["total"] == 7  # the 40-day-old run
    assert groups(h, "pipeline", since=3600)["build"]["total"] == 4  # b3..b6 were created in the last hour
    failed = groups(h, "pipeline", "status:failed")
    assert list(failed) == ["build"] and failed["build"]["total"] == 1
    # the passing rerun is outside the filter but still makes the failure flaky
    assert failed["build"]["flaky"] == 1 and failed["build"]["flaky_rate"] == 1.0
    assert list(groups(h, "pipeline", "ns:prod")) == ["deploy"]


def test_by_task_counts_taskruns(h: History) -> None:
    build_history(h)
    t = groups(h, "task")
    assert set(t) == {"compile", "test", "push", "lint"}
    assert (t["compile"]["total"], t["compile"]["succeeded"], t["compile"]["p50_seconds"]) == (3, 3, 60.0)
    assert (t["test"]["succeeded"], t["test"]["failed"], t["test"]["timeout"]) == (1, 1, 1)
    assert t["test"]["success_rate"] == pytest.approx(1 / 3)
    assert (t["test"]["queue_p50_seconds"], t["test"]["queue_p95_seconds"]) == (1.0, 8.2)  # queues 1, 9, 1
    assert t["test"]["flaky"] == 2  # passed in b1, failed in b2, both on revision r1
    assert t["push"]["flaky"] == 1 and t["push"]["flaky_rate"] == 1.0  # passed on its second attempt
    assert t["compile"]["flaky"] == 0
    assert "slowest_task" not in t["compile"]
    # the filter applies to TaskRuns themselves
    assert set(groups(h, "task", "status:failed,timeout")) == {"test"}


@pytest.mark.parametrize("by, expected", [
    ("namespace", {"ci": 7, "prod": 1}),
    ("cluster", {"": 8}),
    ("day", {"2026-05-28": 8}),
    ("week", {"2026-W22": 8}),
    ("repository", {"repo-a": 1, "https://git.example.com/deploy.git": 1, "(none)": 6}),
])
def test_group_keys(h: History, by: str, expected: dict[str, int]) -> None:
    build_history(h)
    assert {k: g["total"] for k, g in groups(h, by).items()} == expected


def test_days_and_weeks_split_at_utc_midnight_and_monday(h: History) -> None:
    monday = 1_779_667_200  # 2026-05-25T00:00:00Z, a Monday
    runs = [pipelinerun(f"w{i}", created=t, start=t + 1, end=t + 11) for i, t in
            enumerate((monday - 1, monday, monday + 86400 - 1, monday + 86400))]
    store(h, *runs)
    days = groups(h, "day", since=None)
    assert {k: g["total"] for k, g in days.items()} == {"2026-05-24": 1, "2026-05-25": 2, "2026-05-26": 1}
    assert list(days) == ["2026-05-24", "2026-05-25", "2026-05-26"]  # in time order
    weeks = groups(h, "week", since=None)
    assert {k: g["total"] for k, g in weeks.items()} == {"2026-W21": 1, "2026-W22": 3}


def test_empty_history_and_unknown_key(h: History) -> None:
    assert statistics(h, None, "pipeline").document() == {"by": "pipeline", "groups": []}
    with pytest.raises(UnknownGroupKey) as err:
        statistics(h, None, "colour")
    assert isinstance(err.value, UserError)
    msg = str(err.value)
    assert "colour" in msg and all(k in msg for k in GROUP_KEYS) and "\n" not in msg


def _brute(values: list[int], p: int) -> float:
    """An independent computation: Python's inclusive quantiles are percentile_cont's."""
    if len(values) == 1:
        return float(values[0])
    return pystats.quantiles(values, n=100, method="inclusive")[p - 1]


def test_percentiles_exact_against_brute_force(h: History) -> None:
    rng = random.Random(13)
    durations: dict[str, list[int]] = {}
    objs = []
    for name, n in (("many", 37), ("few", 2), ("one", 1), ("ties", 9)):
        for i in range(n):
            d = rng.choice([5, 5, 7]) if name == "ties" else rng.randrange(1, 5000)
            created = T0 - 80_000 + rng.randrange(70_000)
            objs.append(pipelinerun(f"{name}-{i}", rng.choice(["ok", "fail", "timeout"]), pipeline=name,
                                    created=created, start=created + 3, end=created + 3 + d))
            durations.setdefault(name, []).append(d)
    store(h, *objs)
    got = groups(h, "pipeline")
    for name, ds in durations.items():
        ds.sort()
        for p, col in ((50, "p50_seconds"), (95, "p95_seconds")):
            assert got[name][col] == percentile(ds, p)
            assert got[name][col] == pytest.approx(_brute(ds, p), abs=1e-9)
        assert got[name]["max_seconds"] == ds[-1]
    if not is_sqlite(h.db):
        # PostgreSQL's own percentile_cont agrees on the same rows
        rows = h.db.execute_sql("SELECT pipeline, percentile_cont(0.5) WITHIN GROUP (ORDER BY summary_duration), "
                                "percentile_cont(0.95) WITHIN GROUP (ORDER BY summary_duration) FROM result "
                                "GROUP BY pipeline").fetchall()
        for name, p50, p95 in rows:
            assert got[name]["p50_seconds"] == pytest.approx(p50, abs=1e-9)
            assert got[name]["p95_seconds"] == pytest.approx(p95, abs=1e-9)


def test_trends_per_day_and_sparkline(h: History) -> None:
    from tekton_results_tui.insights.stats import sparkline, trends

    day = 86400
    runs = [pipelinerun("t0", created=T0 - 2 * day, start=T0 - 2 * day, end=T0 - 2 * day + 100),
            pipelinerun("t1", created=T0 - 2 * day + 10, start=T0 - 2 * day + 10, end=T0 - 2 * day + 310),
            pipelinerun("t2", "fail", created=T0 - 10, start=T0 - 10, end=T0 - 5),
            pipelinerun("t3", "running", created=T0 - 5, start=T0 - 5)]
    store(h, *runs)
    got = trends(h, None, "pipeline", since=3 * day)
    t = got["build"]
    assert t.days == ["2026-05-25", "2026-05-26", "2026-05-27", "2026-05-28"]
    assert t.runs == [0, 2, 0, 2]
    assert t.p50_seconds == [None, 200.0, None, 5.0]  # the running run has no duration
    assert sparkline(t.runs) == " █ █" and sparkline([1, 2, 4, 8]) == "▂▃▅█"
    assert sparkline([None, 0]) == "  " and trends(h, "ns:nowhere", "pipeline") == {}


def test_odd_objects_never_break_the_json_reads(h: History) -> None:
    """Params and annotations of every shape a hostile or old object may carry: read as absent, never an error."""
    shapes = [{"name": "revision", "value": {"nested": True}}, "revision", 7, None, {"name": 5, "value": "x"},
              {"value": "no-name"}, {"name": "repo-url", "value": ["a", "b"]}, {"name": "git-url", "value": "g\x1b[2J"}]
    objs = []
    for i, shape in enumerate(shapes):
        p = pipelinerun(f"odd{i}", "ok" if i % 2 else "fail", created=T0 - 1000 + i, start=T0 - 999 + i, end=T0 - 900)
        p["spec"]["params"] = [shape]
        objs.append(p)
    weird = pipelinerun("weird", created=T0 - 500, start=T0 - 499, end=T0 - 400)
    weird["spec"]["params"] = {"name": "revision", "value": "r"}  # not a list
    weird["metadata"]["annotations"] = {"pipelinesascode.tekton.dev/sha": ""}
    objs.append(weird)
    store(h, *objs)
    for by in GROUP_KEYS:  # (no TaskRuns here: --by task counts none)
        assert sum(g["total"] for g in groups(h, by).values()) == (0 if by == "task" else len(objs))
    repos = groups(h, "repository")
    assert "g\x1b[2J" in repos  # data as stored; the CLI makes it visible, see test_insights_cli
    assert statistics(h, None, "pipeline", revision_key="no-such-key").groups[0].flaky == 0


def test_task_and_queue_percentiles_against_the_stored_records(h: History) -> None:
    """Brute force over what the store lists (not over what the test meant to write)."""
    rng = random.Random(29)
    objs = []
    for i in range(23):
        created = T0 - 50_000 + i * 1000
        p = pipelinerun(f"r{i}", created=created, start=created + rng.randrange(0, 90), end=created + 900)
        objs.append(p)
        for task in ("fetch", "build"):
            tc = created + rng.randrange(100, 200)
            ts = tc + rng.randrange(0, 60)
            objs.append(taskrun(p, task, rng.choice(["ok", "fail"]), created=tc, start=ts, end=ts + rng.randrange(1, 700)))
    store(h, *objs)
    page = h.list_records("kind:taskrun", limit=1000)
    assert len(page.items) == 46
    got = groups(h, "task")
    for task in ("fetch", "build"):
        rows = [r for r in page.items if r.task == task]
        durs = sorted(r.duration for r in rows)
        queues = sorted(r.start - r.create_time for r in rows)
        assert (got[task]["p50_seconds"], got[task]["p95_seconds"]) == (percentile(durs, 50), percentile(durs, 95))
        assert got[task]["p95_seconds"] == pytest.approx(_brute(durs, 95), abs=1e-9)
        assert (got[task]["queue_p50_seconds"], got[task]["queue_p95_seconds"]) == (percentile(queues, 50), percentile(queues, 95))
        assert got[task]["max_seconds"] == durs[-1]
    results = h.list_results(limit=1000).items
    queues = sorted(r.start - r.sort_time for r in results)
    top = groups(h, "pipeline")["build"]
    assert (top["queue_p50_seconds"], top["queue_p95_seconds"]) == (percentile(queues, 50), percentile(queues, 95))
