"""The Timeline tab's drawing: rows fit the width they are drawn for, messages instead of bars."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from tekton_results_tui.insights import timeline as tl
from tekton_results_tui.tui.widgets.timeline_view import TimelinePayload, bar_cells, render

from .conftest import T0


def _payload(pr: dict, trs: list[dict]) -> TimelinePayload:
    return TimelinePayload(tl.spans_of_pipelinerun(pr, trs), None, None, set(), False)


def test_rows_are_as_wide_as_said_at_80_and_200_columns():
    from .insight_data import pipelinerun

    plan = {"fetch-source": (0, 40, True), "build-image": (45, 400, True), "lint": (45, 120, True),
            "unit-test": (405, 700, False), "report": (710, 730, True)}
    pr, trs = pipelinerun(3, "x", T0 - 3000, plan, False, "r", skipped={"push-image": "Parent Tasks were failed"})
    for width in (80, 200):
        for steps in (False, True):
            rows = render(_payload(pr, trs), width, T0, steps)
            widths = rows.widths()
            assert [cell_len(p) for p in rows.plain] == widths
            assert max(widths) <= width
    plain = list(render(_payload(pr, trs), 80, T0, False).plain)
    assert plain.index("finally") < next(i for i, p in enumerate(plain) if p.lstrip("* ").startswith("report"))
    assert any("skipped: Parent Tasks were failed" in p for p in plain)
    assert sum(p.startswith("*") for p in plain[2:]) == 4  # fetch-source, build-image, unit-test, report


def test_no_taskruns_and_no_timing_are_said():
    pr = {"kind": "PipelineRun", "metadata": {"name": "empty"}, "status": {}}
    assert list(render(_payload(pr, []), 80, T0, False).plain)[-1] == "no TaskRuns recorded for this PipelineRun"
    tr = {"kind": "TaskRun", "metadata": {"name": "t", "labels": {"tekton.dev/pipelineTask": "a"}}, "status": {}}
    assert list(render(_payload(pr, [tr]), 80, T0, False).plain)[-1] == tl.NO_TIMING


@pytest.mark.parametrize("start8,end8,expected", [(0, 16, "██  "), (4, 12, "▌▌  "), (0, 3, "▍   ")])
def test_bar_cells_have_eighth_precision(start8, end8, expected):
    bar = tl.Bar("a", "SUCCESS", None, tl.Segment(start8, end8), 1)
    cells = bar_cells(bar, 4)
    assert cells.plain == expected
    if start8 % 8:  # a bar starting mid-cell: the cell's left part is drawn in reverse video
        assert any(span.style.reverse for span in cells.spans if span.start == 0)


def _many_tasks(monkeypatch, n: int) -> dict:
    """A plan of `n` tasks of one step each, 10 s apart."""
    from . import insight_data

    for k in range(n):
        monkeypatch.setitem(insight_data.STEPS, f"t{k:02d}", ["s"])
    return {f"t{k:02d}": (10 * k, 10 * k + 30, True) for k in range(n)}


def test_rows_are_drawn_for_the_width_the_scrollbar_leaves(monkeypatch):
    from .insight_data import pipelinerun

    from tekton_results_tui.tui.widgets.timeline_view import Box, fit_width, render_fit

    plan = _many_tasks(monkeypatch, 20)
    long_run = _payload(*pipelinerun(5, "long", T0 - 3000, plan, True, "r"))
    short_run = _payload(*pipelinerun(6, "short", T0 - 3000, dict(list(plan.items())[:2]), True, "r"))
    box = Box(100, 12, 2)
    assert fit_width(box, 12) == 99 and fit_width(box, 13) == 97 and fit_width(None, 5) == 79
    for payload, width in ((long_run, 97), (short_run, 99)):
        rows = render_fit(payload, box, T0, False)
        assert rows.total_width == width and max(rows.widths()) <= width
        assert (len(rows) > box.height) == (width == 97)
    assert render_fit(long_run, Box(100, 200, 2), T0, True).total_width == 99  # steps shown: 20 x 1 more lines, fit


async def test_a_long_timeline_after_a_short_one_is_laid_out_in_the_worker_for_the_narrower_view(
        sqlite_url, monkeypatch):
    """Drawn in the worker for the width left once the long timeline's scrollbar shows: the UI thread only
    swaps the rows in, and they fit (no horizontal scrollbar). The Result's records are read once, in the
    timeline's own read (store/timeline_reads.py)."""
    import threading

    from tekton_results_tui.store.history import RunUpsert
    from tekton_results_tui.tui.widgets import timeline_view

    from .insight_data import pipelinerun
    from .test_detail_data import HostApp, open_history, record_of, settle

    history = open_history(sqlite_url)
    plan = _many_tasks(monkeypatch, 40)
    short_pr, short_trs = pipelinerun(7, "short", T0 - 3000, dict(list(plan.items())[:2]), True, "r")
    long_pr, long_trs = pipelinerun(8, "long", T0 - 3000, plan, True, "r")
    history.apply([RunUpsert(o) for o in (short_pr, *short_trs, long_pr, *long_trs)])
    drawn_on: list[str] = []
    plain_render = timeline_view.render

    def render(*args, **kw):  # type: ignore[no-untyped-def]
        drawn_on.append(threading.current_thread().name)
        return plain_render(*args, **kw)

    monkeypatch.setattr(timeline_view, "render", render)
    app = HostApp(history)
    try:
        async with app.run_test(size=(100, 24)) as pilot:
            app.pane.show_record(record_of(history, short_pr))
            app.pane.switch_tab("timeline")
            await settle(pilot)
            view = app.pane.views["timeline"].lines_view
            assert view.line_count < view.size.height and not view.show_vertical_scrollbar
            drawn_on.clear()
            reads: list[tuple[str, int]] = []
            plain_records_of, plain_result_records = history.records_of, timeline_view.result_records
            monkeypatch.setattr(history, "records_of", lambda rid: reads.append(("records_of", rid))
                                or plain_records_of(rid))
            monkeypatch.setattr(timeline_view, "result_records", lambda rid: reads.append(("result_records", rid))
                                or plain_result_records(rid))
            app.pane.show_record(record_of(history, long_pr))
            await settle(pilot)
            long_rec = record_of(history, long_pr)
            assert reads == [("result_records", long_rec.result_id)]  # the Result read once: the tab's family too
            assert app.pane.views["timeline"].family == {r.id for r in plain_records_of(long_rec.result_id)}
            assert view.line_count > 40 and view.show_vertical_scrollbar
            assert drawn_on and threading.main_thread().name not in drawn_on  # the worker's rows, swapped in
            assert max(cell_len(p) for p in view.plain_lines) < view.scrollable_content_region.width
            assert not view.show_horizontal_scrollbar
    finally:
        history.db.close()


async def test_a_frame_draws_the_lines_as_each_line_alone_would(sqlite_url, monkeypatch):
    """LineView works out the style, scroll offset and width once a frame (render_lines); the lines are
    the ones render_line draws alone, scrolled or not."""
    from textual.geometry import Region
    from textual.widget import Widget

    from tekton_results_tui.store.history import RunUpsert

    from .insight_data import pipelinerun
    from .test_detail_data import HostApp, open_history, record_of, settle

    history = open_history(sqlite_url)
    pr, trs = pipelinerun(9, "long", T0 - 3000, _many_tasks(monkeypatch, 40), True, "r")
    history.apply([RunUpsert(o) for o in (pr, *trs)])
    app = HostApp(history)
    try:
        async with app.run_test(size=(100, 24)) as pilot:
            app.pane.show_record(record_of(history, pr))
            app.pane.switch_tab("timeline")
            await settle(pilot)
            view = app.pane.views["timeline"].lines_view
            region = Region(0, 0, view.size.width, view.size.height)
            for scroll in ((0, 0), (0, 7)):  # (the rows fit the width: no horizontal scroll)
                view.scroll_to(*scroll, animate=False, immediate=True)
                await pilot.pause()
                view._styles_cache.clear()
                alone = Widget.render_lines(view, region)  # LineView's frame not set: each line works it out
                assert view._frame is None
                view._styles_cache.clear()
                framed = view.render_lines(region)
                assert view._frame is None
                assert [list(s) for s in framed] == [list(s) for s in alone]
                x, y = scroll
                assert framed[0].text.startswith(view.plain_lines[y][x:x + 20])  # scrolled as asked
    finally:
        history.db.close()


def test_the_one_read_answers_as_the_general_reads_for_every_node(tmp_path):
    """_read_run (one read of the Result) against what every detail tab reads then side_of, for every
    Result and Record of the fixed history with the insight runs (PipelineRuns with TaskRuns, skipped and
    running ones, Logs, EventLists): the same run, objects, children and deps, or a hand-over to the general
    reads."""
    from collections import Counter

    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History
    from tekton_results_tui.tui.widgets import timeline_view as tv
    from tekton_results_tui.tui.widgets.detail_base import Target

    from tekton_results_tui.store.history import RunUpsert

    from .conftest import write_fixed_db
    from .insight_data import add_insight_runs, pipelinerun

    db = open_database("sqlite:///" + str(write_fixed_db(tmp_path / "history.db")))
    try:
        h = History(db, clock=lambda: T0)
        add_insight_runs(h)
        pending, _ = pipelinerun(10, "no-taskruns-yet", T0 - 100, {}, None, "r")  # children looked for elsewhere
        h.apply([RunUpsert(pending)])
        targets = []
        for k, row in enumerate(h.list_results(limit=1000).items):
            targets.append(Target.of_result(row))
            if k % 10 == 0 or (row.display_name or "").startswith(("release-train", "no-taskruns")):
                targets += [Target.of_record(r) for r in h.records_of(row.id)]
        answered: Counter[str] = Counter()
        for target in targets:
            fast, general = tv._read_run(h, target), tv._read_run_generally(h, target)
            if fast is None:
                answered["general"] += 1
                continue
            if isinstance(fast, tv.TimelinePayload):
                assert isinstance(general, tv.TimelinePayload) and (fast.message, fast.deps) == (general.message, general.deps)
            else:
                assert not isinstance(general, (tv.TimelinePayload, tv.LoadError))
                (run, obj, children, deps), (grun, gobj, gchildren, gdeps) = fast, general
                assert (run.id, obj, children, deps) == (grun.id, gobj, gchildren, gdeps), target
                if target.kind == "result" and run.kind == "PipelineRun":
                    assert tv.build_payload(h, target).spans == tl.spans_of_pipelinerun(
                        gobj, [c for c in gchildren if c.get("kind") == "TaskRun"])
            answered[target.record_kind or "result"] += 1
        assert answered["result"] > 100 and answered["PipelineRun"] > 10 and answered["TaskRun"] > 30, answered
        assert answered["Log"] and answered["EventList"] and 2 <= answered["general"] < len(targets) // 10, answered
    finally:
        db.close()
