"""`stats` and `timeline` through the CLI's own entry point, on a history file."""

from __future__ import annotations

import json
import time

import pytest
from insights_kit import pipelinerun, store, taskrun

from tekton_results_tui.cli import main
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History

NOW = int(time.time())  # the CLI reads the real clock: runs are placed relative to it
KEYS = {"key", "total", "succeeded", "failed", "cancelled", "timeout", "running", "success_rate", "p50_seconds",
        "p95_seconds", "max_seconds", "queue_p50_seconds", "queue_p95_seconds", "last_start_time", "last_status",
        "flaky", "flaky_rate"}


@pytest.fixture
def url(sqlite_url: str) -> str:
    global NOW
    NOW = int(time.time())  # when this test runs, not when the module was imported (a long suite drifts)
    db = open_database(sqlite_url)
    h = History(db)
    spec = [{"name": "compile"}, {"name": "test", "runAfter": ["compile"]}]
    a = pipelinerun("build-a", "ok", created=NOW - 900, start=NOW - 895, end=NOW - 795, revision="r1", spec_tasks=spec)
    b = pipelinerun("build-b", "fail", created=NOW - 700, start=NOW - 699, end=NOW - 499, revision="r1", spec_tasks=spec)
    evil = pipelinerun("evil", "ok", created=NOW - 600, start=NOW - 600, end=NOW - 590, pipeline="x\x1b]0;pwned\x07y")
    empty = pipelinerun("empty", "fail", created=NOW - 300, end=NOW - 290)
    running = pipelinerun("build-c", "running", created=NOW - 50, start=NOW - 50, revision="r2", spec_tasks=spec)
    untimed = pipelinerun("untimed", "none", created=NOW)
    untimed_tr = taskrun(untimed, "compile", "none", created=NOW)
    for o in (untimed, untimed_tr):
        del o["metadata"]["creationTimestamp"]
    store(h, a, b, evil, empty, untimed, untimed_tr, running,
          taskrun(running, "compile", "running", created=NOW - 50, start=NOW - 49),
          taskrun(a, "compile", created=NOW - 895, start=NOW - 894, end=NOW - 840),
          taskrun(a, "test", created=NOW - 840, start=NOW - 838, end=NOW - 796),
          taskrun(b, "compile", created=NOW - 699, start=NOW - 698, end=NOW - 640),
          taskrun(b, "test", "fail", created=NOW - 640, start=NOW - 630, end=NOW - 500),
          taskrun(None, "never", "none", created=NOW - 100, name="pending-tr"))
    db.close()
    return sqlite_url


def run(capsys: pytest.CaptureFixture, url: str, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([*argv, "--db", url])
    out, err = capsys.readouterr()
    return rc, out, err


def test_stats_json_shape(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "stats", "--by", "namespace", "-o", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["by"] == "namespace" and [g["key"] for g in doc["groups"]] == ["ci"]
    g = doc["groups"][0]
    assert set(g) == KEYS
    assert (g["total"], g["succeeded"], g["failed"], g["running"]) == (7, 2, 2, 3)
    assert (g["success_rate"], g["flaky"], g["flaky_rate"]) == (0.5, 2, 0.5)  # build-a and build-b
    rc, out, _ = run(capsys, url, "stats", "pipeline:build", "-o", "json")
    b = json.loads(out)["groups"][0]
    assert (b["key"], b["p50_seconds"], b["p95_seconds"], b["max_seconds"]) == ("build", 150.0, 195.0, 200)
    assert b["slowest_task"] == {"name": "test", "p95_seconds": 125.6} and b["most_failing_task"]["name"] == "test"


def test_stats_table_and_yaml_show_data_safely(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "stats")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["PIPELINE", "RUNS", "OK", "FAILED"]
    assert any(line.startswith("build ") for line in lines)
    assert "\x1b" not in out and "\x07" not in out and "x\\e]0;pwned\\x07y" in out
    rc, out, _ = run(capsys, url, "stats", "-o", "yaml", "--by", "task")
    assert rc == 0 and "by: task" in out and "\x1b" not in out
    rc, out, _ = run(capsys, url, "stats", "--trend", "pipeline:build")
    header, row = out.splitlines()
    assert rc == 0 and header.endswith("RUNS/DAY") and row.endswith("█")  # both build runs today, the last day
    rc, out, err = run(capsys, url, "stats", "ns:nowhere")
    assert rc == 0 and out == "" and "No runs found in the last 30d" in err


@pytest.mark.parametrize("argv, needle", [
    (["stats", "--by", "colour"], "unknown --by 'colour': choose one of pipeline, task, namespace, repository, cluster, day, week"),
    (["stats", "--since", "lately"], "--since 'lately'"),
    (["stats", "stauts:failed"], 'unknown key "stauts"'),
    (["timeline", "no-such-run"], "no stored run"),
])
def test_bad_input_is_one_line(capsys: pytest.CaptureFixture, url: str, argv: list[str], needle: str) -> None:
    rc, out, err = run(capsys, url, *argv)
    assert rc == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_timeline_text_and_json(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "timeline", "build-b", "--width", "80")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "PipelineRun ci/build-b: Failed, 3m20s"
    assert lines[1] == "flaky: same revision passed in run build-a"
    assert lines[2].lstrip().startswith("|0")
    assert lines[3].startswith("*compile") and lines[3].endswith("58s Succeeded")
    assert lines[4].startswith("*test") and lines[4].endswith("2m10s Failed")
    assert all(len(line) <= 80 for line in lines)
    rc, out, _ = run(capsys, url, "timeline", "build-b", "--width", "200", "-o", "json")
    doc = json.loads(out)
    assert doc["width"] == 200 - 10 - 18 - 2 and [b["name"] for b in doc["bars"]] == ["compile", "test"]
    assert doc["bars"][1]["critical"] and doc["flaky"] == "flaky: same revision passed in run build-a"
    rc, out, _ = run(capsys, url, "timeline", "build-b", "--revision-key", "no-such-key")
    assert rc == 0 and "flaky" not in out  # by that key the two runs share no revision
    # a TaskRun's timeline is its steps; this one recorded none
    rc, out, _ = run(capsys, url, "timeline", "build-b-test")
    assert rc == 0 and "no steps recorded for this TaskRun" in out


def test_timeline_of_a_running_run_shows_its_eta(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "timeline", "build-c", "--width", "80")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "PipelineRun ci/build-c: Running"
    # the one successful build run took 100 s; this one started 50 s ago (give or take the test's own second)
    assert lines[1].startswith("expected end: about ") and "(p50 100s of 1 successful runs)" in lines[1]
    assert "  ██████████" in lines[1]  # half-way: 10 of 20 cells
    assert any(line.startswith("*compile") and line.endswith("Running") for line in lines)
    assert any(line.startswith(" test") and "not started" in line and line.endswith("Pending") for line in lines)
    assert lines[-1].endswith("E expected end")
    rc, out, _ = run(capsys, url, "timeline", "build-c", "-o", "json", "--width", "120")
    doc = json.loads(out)
    assert doc["eta"]["basis"] == 1 and doc["eta"]["p50_seconds"] == 100.0 and not doc["eta"]["overdue"]


def test_timeline_without_taskruns_or_timing(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "timeline", "empty")
    assert rc == 0, err
    assert out.splitlines()[-1] == "no TaskRuns recorded for this PipelineRun"
    rc, out, err = run(capsys, url, "timeline", "untimed")
    assert rc == 0, err
    assert out.splitlines()[-1] == "no timing recorded"


def test_results_json_carries_the_eta_of_running_pipelineruns(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "results", "-o", "json", "--limit", "0")
    assert rc == 0, err
    by_name = {r["display_name"]: r for r in json.loads(out)["results"]}
    eta = by_name["build-c"]["eta"]  # running since NOW - 50; the one successful build run took 100 s
    assert eta["basis"] == 1 and eta["p50_seconds"] == 100.0
    assert eta["expected_end"] == format_time(NOW - 50 + 100)
    assert by_name["build-a"]["eta"] is None  # finished
    assert by_name["evil"]["eta"] is None


def test_results_flaky_filter(capsys: pytest.CaptureFixture, url: str) -> None:
    rc, out, err = run(capsys, url, "results", "flaky:true", "-o", "name")
    assert rc == 0, err
    assert len(out.splitlines()) == 2  # build-a and build-b: one revision, both outcomes
    rc, out, err = run(capsys, url, "results", "flaky:perhaps")
    assert rc != 0 and "flaky:true or flaky:false" in err
