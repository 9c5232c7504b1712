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
