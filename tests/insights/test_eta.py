"""ETAs of running PipelineRuns from their pipeline's recent successful runs."""

from __future__ import annotations

from insights_kit import T0, pipelinerun, store, taskrun

from tekton_results_tui.insights.eta import Eta, eta_for, run_eta
from tekton_results_tui.store.history import History


def test_eta_from_the_median_of_past_durations() -> None:
    e = eta_for(start=T0 - 100, now=T0, durations=[400, 100, 300])  # p50 300
    assert e == Eta(expected_end=T0 + 200, p50_seconds=300.0, progress=100 / 300, remaining_seconds=200.0,
                    overdue=False, basis=3)
    late = eta_for(start=T0 - 500, now=T0, durations=[100, 200])  # p50 150, already 500 s in
    assert late is not None and late.overdue and late.progress == 1.0 and late.remaining_seconds == 0.0
    assert eta_for(T0, T0, []) is None
    assert eta_for(T0 - 10, T0, [0]).progress == 1.0  # type: ignore[union-attr]


def test_run_eta_learns_from_successful_runs_of_the_same_pipeline(h: History) -> None:
    past = []
    for i, (d, outcome) in enumerate([(100, "ok"), (200, "ok"), (900, "fail"), (300, "ok")]):
        t = T0 - 10_000 + i * 1000
        p = pipelinerun(f"old{i}", outcome, created=t, start=t, end=t + d)
        past += [p, taskrun(p, "compile", outcome, created=t, start=t, end=t + d // 2)]
    other = pipelinerun("other", created=T0 - 5000, start=T0 - 5000, end=T0 - 10, pipeline="deploy")
    now_run = pipelinerun("now", "running", created=T0 - 50, start=T0 - 50)
    tr = taskrun(now_run, "compile", "running", created=T0 - 50, start=T0 - 40)
    store(h, *past, other, now_run, tr)
    got = run_eta(h, h.find_runs("now")[0])
    assert got is not None
    # successful build runs took 100, 200, 300 s (the failed one and the deploy run do not count)
    assert (got.run.p50_seconds, got.run.basis, got.run.expected_end) == (200.0, 3, T0 + 150)
    assert got.run.document()["expected_end"] == "2026-05-28T20:29:10Z"
    # its compile TaskRun: successful compiles took 50, 100, 150 s
    assert got.tasks["compile"].p50_seconds == 100.0 and got.tasks["compile"].expected_end == T0 + 60
    assert run_eta(h, h.find_runs("old3")[0]) is None  # finished: no ETA


def test_no_eta_without_history(h: History) -> None:
    store(h, pipelinerun("lonely", "running", created=T0 - 50, start=T0 - 50))
    assert run_eta(h, h.find_runs("lonely")[0]) is None


def test_progress_bar_eighths() -> None:
    from tekton_results_tui.insights.eta import progress_bar

    assert progress_bar(0.5, 10) == "█████     "
    assert progress_bar(0.55, 10) == "█████▌    "  # 44 of 80 eighths
    assert progress_bar(0.5375, 10) == "█████▍    "  # 43
    assert progress_bar(2.0, 4) == "████" and progress_bar(-1, 3) == "   " and progress_bar(0.5, 0) == ""


def test_run_insights_for_a_summary(h: History) -> None:
    from tekton_results_tui.insights.run_summary import run_insights

    a = pipelinerun("a", "ok", created=T0 - 900, start=T0 - 900, end=T0 - 800, revision="r1")
    b = pipelinerun("b", "fail", created=T0 - 700, start=T0 - 700, end=T0 - 650, revision="r1")
    c = pipelinerun("c", "running", created=T0 - 25, start=T0 - 25, revision="r2")
    store(h, a, b, c)
    got = run_insights(h, h.find_runs("b")[0])
    assert got.flaky == "flaky: same revision passed in run a" and got.eta is None and got.eta_line is None
    running = run_insights(h, h.find_runs("c")[0], bar_width=8)
    assert running.flaky is None
    assert running.eta_line == "expected end: about 75s left  ██       25% (p50 100s of 1 successful runs)"


def test_page_etas_for_a_results_listing(h: History) -> None:
    from tekton_results_tui.insights.eta import page_etas

    done = [pipelinerun(f"p{i}", created=T0 - 5000 + i, start=T0 - 5000 + i, end=T0 - 5000 + i + d)
            for i, d in enumerate((60, 120, 180))]
    run1 = pipelinerun("run1", "running", created=T0 - 30, start=T0 - 30)
    run2 = pipelinerun("run2", "running", created=T0 - 200, start=T0 - 200)
    other = pipelinerun("other", "running", created=T0 - 10, start=T0 - 10, pipeline="nothing-learned")
    store(h, *done, run1, run2, other)
    rows = h.list_results(limit=50).items
    got = {r.display_name: page_etas(h, rows).get(r.id) for r in rows}
    assert got["run1"] is not None and got["run1"].expected_end == T0 + 90 and got["run1"].basis == 3
    assert got["run2"] is not None and got["run2"].overdue  # 200 s in, p50 is 120 s
    assert got["other"] is None and got["p0"] is None  # nothing to learn from; finished
