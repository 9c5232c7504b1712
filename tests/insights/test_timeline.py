"""Timeline geometry: bar positions and widths for known times at 80 and 200 columns, critical path,
finally and skipped tasks, and runs with nothing to draw."""

from __future__ import annotations

import pytest
from insights_kit import T0, pipelinerun, taskrun

from tekton_results_tui.insights.timeline import (
    NO_TIMING, Segment, build_timeline, critical_path, glyphs, layout, render_lines, spans_of_pipelinerun,
    spans_of_taskrun, timeline_at,
)

SPEC = [{"name": "a"}, {"name": "c"}, {"name": "b", "runAfter": ["c"]}]


def three_tasks(spec: list[dict] | None = SPEC, outcome: str = "ok") -> tuple[dict, list[dict]]:
    """A 100 s PipelineRun: a runs 0-50 s; c runs 5-25 s; b waits from 50 s, runs 60-100 s."""
    p = pipelinerun("p", outcome, created=T0 - 100, start=T0 - 100, end=T0, spec_tasks=spec)
    return p, [taskrun(p, "a", created=T0 - 100, start=T0 - 100, end=T0 - 50),
               taskrun(p, "c", created=T0 - 100, start=T0 - 95, end=T0 - 75),
               taskrun(p, "b", outcome, created=T0 - 50, start=T0 - 40, end=T0)]


def bars(tl) -> dict:  # noqa: ANN001
    return {b.label: b for b in tl.bars}


@pytest.mark.parametrize("columns, width, a, b_queued, b_running, c", [
    # 50 columns of bars for 100 s: 4 eighths per second
    (80, 50, Segment(0, 200), Segment(200, 240), Segment(240, 400), Segment(20, 100)),
    # 170 columns: 13.6 eighths per second, rounded half up
    (200, 170, Segment(0, 680), Segment(680, 816), Segment(816, 1360), Segment(68, 340)),
])
def test_bar_positions_and_widths(columns: int, width: int, a: Segment, b_queued: Segment, b_running: Segment,
                                  c: Segment) -> None:
    p, trs = three_tasks()
    assert layout(columns, ["a", "b", "c"]).bar_width == width
    tl = timeline_at(spans_of_pipelinerun(p, trs), columns, now=T0)
    assert tl.width == width and (tl.t0, tl.t1) == (T0 - 100, T0)
    got = bars(tl)
    assert [b.label for b in tl.bars] == ["a", "c", "b"]  # by start
    assert got["a"].running == a and got["a"].queued is None
    assert got["b"].queued == b_queued and got["b"].running == b_running
    assert got["c"].running == c
    assert (got["a"].duration, got["b"].duration, got["c"].duration) == (50, 40, 20)
    lines = render_lines(tl, columns)
    assert all(len(line) <= columns for line in lines)


def test_eighth_cell_glyphs_at_80_columns() -> None:
    p, trs = three_tasks()
    tl = timeline_at(spans_of_pipelinerun(p, trs), 80, now=T0)
    # c runs over eighths 20-100: half of cell 2 (right-aligned), cells 3-11 whole, the left half of cell 12;
    # it waited 5 s before (queued cells 0-1)
    assert glyphs(bars(tl)["c"].running, tl.width) == {2: "▐", **{i: "█" for i in range(3, 12)}, 12: "▌"}
    assert glyphs(Segment(8, 11), 10) == {1: "▍"}  # a sliver starting on a cell edge: left 3/8
    assert glyphs(Segment(0, 17), 10) == {0: "█", 1: "█", 2: "▏"}
    lines = render_lines(tl, 80)
    assert lines[0] == " " * 11 + "|0" + " " * 13 + "|30s" + " " * 11 + "|60s" + " " * 11 + "|90s"
    c_line = next(line for line in lines if line.startswith("*c "))  # on the critical path: b runs after c
    assert c_line[11:24] == "░░▐█████████▌" and c_line.endswith("20s Succeeded")
    b_line = next(line for line in lines if line.startswith("*b "))
    assert b_line[11 + 25: 11 + 35] == "░░░░░█████"  # queued 50-60 s (cells 25-29), then running


def test_critical_path_follows_the_spec_else_end_times() -> None:
    p, trs = three_tasks()
    spans = spans_of_pipelinerun(p, trs)
    assert critical_path(spans.rows, T0, has_spec=True) == ["b", "c"]  # b runs after c, per the spec
    assert {b.label for b in build_timeline(spans, 50, T0).bars if b.critical} == {"b", "c"}
    p2, trs2 = three_tasks(spec=None)
    spans2 = spans_of_pipelinerun(p2, trs2)
    assert not spans2.has_spec
    assert critical_path(spans2.rows, T0, has_spec=False) == ["b", "a"]  # a ended last before b started


def test_result_references_and_finally_are_dependencies() -> None:
    spec = [{"name": "build"}, {"name": "scan"},
            {"name": "deploy", "params": [{"name": "img", "value": "$(tasks.scan.results.digest)"}]}]
    p = pipelinerun("p", "fail", created=T0 - 100, start=T0 - 100, end=T0, spec_tasks=spec,
                    finally_tasks=[{"name": "notify"}], skipped=["deploy"])
    trs = [taskrun(p, "build", created=T0 - 100, start=T0 - 99, end=T0 - 30),
           taskrun(p, "scan", "fail", created=T0 - 100, start=T0 - 99, end=T0 - 60),
           taskrun(p, "notify", created=T0 - 30, start=T0 - 20, end=T0)]
    spans = spans_of_pipelinerun(p, trs)
    rows = {r.name: r for r in spans.rows}
    assert rows["deploy"].status == "SKIPPED"
    assert rows["notify"].is_finally and rows["notify"].deps == ["build", "scan", "deploy"]
    assert [r.name for r in spans.rows] == ["build", "scan", "notify", "deploy"]  # finally after, skipped last
    assert critical_path(spans.rows, T0, has_spec=True) == ["notify", "build"]
    tl = build_timeline(spans, 50, T0)
    skipped = bars(tl)["deploy"]
    assert skipped.skipped and skipped.running is None and skipped.note == "When Expressions evaluated to false"
    lines = render_lines(tl, 80)
    assert "finally" in [line.strip() for line in lines]
    assert any("skipped: When Expressions" in line and line.endswith("Skipped") for line in lines)
    spec2 = [{"name": "x", "when": [{"input": "$(tasks.y.results.ok)", "operator": "in", "values": ["true"]}]},
             {"name": "y"}]
    waiting = spans_of_pipelinerun(pipelinerun("q", "running", created=T0, spec_tasks=spec2), [])
    assert {r.name: r.deps for r in waiting.rows} == {"x": ["y"], "y": []}  # a when input is a dependency too
    done = spans_of_pipelinerun(pipelinerun("q", created=T0, start=T0, end=T0 + 1, spec_tasks=spec2), [])
    assert done.rows == []  # a finished run lists only what ran or was skipped


def test_running_run_extends_to_now_and_lists_unstarted_tasks() -> None:
    spec = [{"name": "a"}, {"name": "b", "runAfter": ["a"]}]
    p = pipelinerun("p", "running", created=T0 - 60, start=T0 - 60, spec_tasks=spec)
    trs = [taskrun(p, "a", "running", created=T0 - 60, start=T0 - 58)]
    spans = spans_of_pipelinerun(p, trs)
    tl = build_timeline(spans, 60, now=T0, eta_end=T0 + 60)
    assert (tl.t0, tl.t1) == (T0 - 60, T0 + 60)  # to the expected end
    a, b = tl.bars
    assert a.running == Segment(8, 240) and a.duration == 58  # 4 eighths per second, to now
    assert b.label == "b" and b.running is None and b.note == "not started"
    assert tl.eta_col == 59
    text = render_lines(tl, 90)  # 60 columns of bars, 10 of labels, the tail
    assert any(line.rstrip().endswith("Running") for line in text)
    assert any("not started" in line and line.endswith("Pending") for line in text)


def test_no_taskruns_and_no_timing() -> None:
    p = pipelinerun("p", "fail", created=T0 - 10, end=T0)
    tl = timeline_at(spans_of_pipelinerun(p, []), 80, T0)
    assert tl.message == "no TaskRuns recorded for this PipelineRun" and tl.bars == []
    assert render_lines(tl, 80) == ["no TaskRuns recorded for this PipelineRun"]
    # TaskRuns that never started and a PipelineRun without times: nothing to place on an axis
    bare = pipelinerun("q", "none", created=T0)
    bare["metadata"].pop("creationTimestamp")
    tr = taskrun(bare, "a", "none", created=T0)
    tr["metadata"].pop("creationTimestamp")
    tl = timeline_at(spans_of_pipelinerun(bare, [tr]), 80, T0)
    assert tl.message == NO_TIMING and render_lines(tl, 80) == [NO_TIMING]
    assert timeline_at(spans_of_pipelinerun({"kind": "PipelineRun"}, [{"status": 7}]), 80, T0).message == NO_TIMING


def test_taskrun_timeline_is_its_steps() -> None:
    tr = taskrun(None, "build", "fail", created=T0 - 40, start=T0 - 40, end=T0,
                 steps=[("prepare", T0 - 39, T0 - 30), ("compile", T0 - 30, T0 - 1), ("push", None, None)])
    tr["status"]["steps"][1]["terminated"]["exitCode"] = 2
    spans = spans_of_taskrun(tr)
    assert [(r.name, r.status) for r in spans.rows] == [("prepare", "SUCCESS"), ("compile", "FAILURE"), ("push", "UNKNOWN")]
    tl = build_timeline(spans, 40, T0)
    got = bars(tl)
    assert got["prepare"].running == Segment(8, 80) and got["compile"].running == Segment(80, 312)
    assert got["push"].note == NO_TIMING
    assert timeline_at(spans_of_taskrun(taskrun(None, "x", created=T0, start=T0, end=T0 + 5)), 80, T0).message == \
        "no steps recorded for this TaskRun"


def test_steps_under_their_taskrun_and_hostile_names() -> None:
    p = pipelinerun("p", created=T0 - 100, start=T0 - 100, end=T0)
    tr = taskrun(p, "evil\x1b]0;owned\x07", created=T0 - 100, start=T0 - 90, end=T0 - 10,
                 steps=[("s1", T0 - 89, T0 - 50), ("s2", T0 - 50, T0 - 11)])
    tl = timeline_at(spans_of_pipelinerun(p, [tr]), 100, T0)
    assert [s.label for s in tl.bars[0].steps] == ["s1", "s2"]
    from tekton_results_tui.textsafe import visible

    lines = render_lines(tl, 100, steps=True, clean=visible)
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert any(line.startswith("   s1 ") for line in lines)  # indented under the TaskRun


def test_exact_cells_use_reverse_video_for_a_mid_cell_start() -> None:
    from tekton_results_tui.insights.timeline import exact_cells

    # eighths 20-36: cell 2 from its 5th eighth (reverse of the left half), cell 3 whole, cell 4's left half
    assert exact_cells(Segment(20, 36), 10) == [(2, "▌", True), (3, "█", False), (4, "▌", False)]
    assert exact_cells(Segment(3, 5), 10) == [(0, "▎", False)]  # inside one cell: its size, from the left
    assert exact_cells(Segment(70, 100), 10) == [(8, "▊", True), (9, "█", False)]  # clipped at the width


def test_task_references_are_found_as_in_the_tasks_json_text():
    """A task's dependencies: runAfter, then `$(tasks.X.results...)`/`.status` references anywhere in it
    (params, when expressions, matrix, keys), in the order its JSON text has them, each once."""
    import json
    import re

    from tekton_results_tui.insights.timeline import _deps_of

    def as_text(task: dict) -> list[str]:  # what the timeline did: a regex over the task's JSON text
        deps = [d for d in task.get("runAfter") or [] if isinstance(d, str)]
        body = {k: v for k, v in task.items() if k not in ("name", "runAfter", "taskSpec", "pipelineSpec")}
        for ref in re.findall(r"\$\(tasks\.([A-Za-z0-9_.-]+?)\.(?:results|status)", json.dumps(body)):
            if ref not in deps:
                deps.append(ref)
        return deps

    tasks = [
        {"name": "t", "runAfter": ["a", 3]},
        {"name": "t", "params": [{"name": "p", "value": "$(tasks.build.results.digest) é \"q\" $(tasks.lint.status)"}],
         "when": [{"input": "$(tasks.check.results.ok)", "operator": "in", "values": ["true", "$(tasks.a.results.x)"]}],
         "runAfter": ["a"]},
        {"name": "t", "matrix": {"params": [{"name": "m", "value": ["$(tasks.m-1.results.v)", 7, None, 1.5]}]},
         "$(tasks.in-a-key.results.k)": True, "taskSpec": {"steps": [{"script": "$(tasks.not-a-dep.results.z)"}]}},
        {"name": "t", "params": [{"name": "p", "value": "$(tasks.a.results\n$(tasks.b.c.results.d)\\$(tasks.e.status)"}]},
    ]
    for task in tasks:
        assert _deps_of(task) == as_text(task)
    assert _deps_of(tasks[1]) == ["a", "build", "lint", "check"]
    assert _deps_of(tasks[2]) == ["m-1", "in-a-key"]
