"""The layout at every width: one pane at a time below 120 columns, side by side above; tree lines
never need a horizontal scroll; Summary tables stay one line per row, cut by ellipsis."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text

from tekton_results_tui.tui.formatting import status_icon, status_word
from tekton_results_tui.tui.widgets.fit_table import FitColumn, FitTable
from tekton_results_tui.tui.widgets.results_tree import ResultItem
from tekton_results_tui.tui.widgets.summary_view import cluster_state
from tekton_results_tui.tui.widgets.tree_columns import layout_for, result_label

from .conftest import T0


def lines_fit(app) -> None:
    tree = app.tree
    width = tree.scrollable_content_region.width
    assert tree.virtual_size.width <= width + 1, (tree.virtual_size.width, width)  # no horizontal scroll


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 36), (160, 40), (250, 50)])
async def test_tree_lines_fit_the_width(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("enter")  # children lines too
        lines_fit(app)
        label = app.tree.cursor_node.label.plain
        assert "…" not in label.split()[0]  # status and name first
        narrow = size[0] < 120
        assert app.narrow is narrow
        assert app.query_one("#detail-box").display is not narrow
        if not narrow:
            share = app.tree.outer_size.width / size[0]
            assert 0.34 <= share <= 0.51


async def test_narrow_tab_opens_the_detail_and_escape_returns(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.tree.display and not app.query_one("#detail-box").display
        await pilot.press("tab")
        assert app.query_one("#detail-box").display and not app.tree.display
        await app.settle_reads()
        await pilot.pause()
        summary = app.detail.views["summary"].lines_view
        assert app.focused is summary  # its content, not the tab bar: the first keys scroll what is shown
        assert summary.max_scroll_y > 0  # taller than 24 lines (else the keys below would prove nothing)
        await pilot.press("pagedown")
        assert summary.scroll_y > 0
        await pilot.press("escape")
        assert app.tree.display and not app.query_one("#detail-box").display
        assert app.focused is app.tree
        await pilot.press("enter", "down")  # a child line: enter opens its detail
        await pilot.press("enter")
        assert app.query_one("#detail-box").display and not app.tree.display
        await pilot.press("escape", "y")  # a tab key opens the detail on that tab
        assert app.query_one("#detail-box").display and app.detail.active_tab == "yaml"


async def test_resizing_moves_between_layouts(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        assert app.query_one("#detail-box").display and app.tree.display
        wide_cols = app.tree.line_layout.columns
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        assert not app.query_one("#detail-box").display
        assert app.tree.line_layout.width <= app.tree.scrollable_content_region.width
        lines_fit(app)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert len(app.tree.line_layout.columns) < len(wide_cols)
        lines_fit(app)
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert app.query_one("#detail-box").display
        assert app.tree.line_layout.columns == wide_cols


def test_columns_by_width_keep_status_name_age() -> None:
    assert layout_for(40, 20).columns == ()
    assert layout_for(80, 20).columns[:2] == ("namespace", "pipeline")
    wide = layout_for(200, 20, show_cluster=True)
    assert set(wide.columns) == {"pipeline", "duration", "namespace", "cluster", "start", "reason"}
    assert "cluster" not in layout_for(200, 20).columns  # one cluster: not named
    for w in range(40, 251):
        assert layout_for(w, 60).width <= max(w, layout_for(40, 12).width)
        for name, pipe in ((12, 40), (30, 20), (60, 60)):
            assert layout_for(w, name, widest_pipeline=pipe).width <= max(w, layout_for(40, 12).width)


def test_the_pipeline_column_takes_what_whole_names_leave() -> None:
    """At 200 columns a 16-cell pipeline was cut to 14 with room to spare (the split gives the tree what it
    wants, so the room is there once the tree asks for it)."""
    roomy = layout_for(110, 24, widest_pipeline=22)
    assert roomy.pipeline_w == 22 and roomy.name_w == 24 and roomy.width <= 110
    assert layout_for(110, 24, widest_pipeline=80).pipeline_w <= 32  # PIPELINE_MAX
    assert layout_for(110, 24, widest_pipeline=9).pipeline_w == 14  # short pipelines: the usual column
    tight = layout_for(80, 40, widest_pipeline=22)
    assert tight.pipeline_w == 14  # names come first
    label = result_label(_row(pipeline="build-and-deploy-to-prod"), 0.0, layout=roomy).plain
    assert "build-and-deploy-to-p… " in label  # 22 cells, where 14 gave "build-and-dep…"


def _row(**kw):
    from tekton_results_tui.store.history import ResultRow

    base = dict(id=1, cluster="", parent="ci", name="ci/results/x", uid="x", display_name="a-run", pipeline=None,
                status="SUCCESS", reason=None, start=None, end=None, duration=60, sort_time=0, in_cluster=True)
    base.update(kw)
    fields = {f: base.get(f) for f in ResultRow.__dataclass_fields__}  # type: ignore[attr-defined]
    return ResultRow(**fields)


@pytest.mark.parametrize("width", [30, 50, 80, 120, 250])
def test_fit_table_rows_stay_one_line(width) -> None:
    t = FitTable([FitColumn("", min_width=1), FitColumn("TASK", min_width=8, shrink=1),
                  FitColumn("TASKRUN", min_width=8, shrink=3), FitColumn("DURATION", right=True),
                  FitColumn("STEPS (exit code)", min_width=12, shrink=2)], gap=1)
    for i in range(6):
        t.add_row(Text("✔"), f"golang-build-{i}", f"release-six-tasks-golang-build-{i}-abcdef", "1m2s",
                  Text("clone ✔0, build ✔0, test ✖2, push not started"))
    console = Console(width=width, record=True, color_system=None)
    console.print(t)
    lines = console.export_text().rstrip("\n").split("\n")
    assert len(lines) == 7  # header + six rows: nothing wrapped
    assert all(console.measure(Text(line)).maximum <= width for line in lines)
    if width >= 120:
        assert "release-six-tasks-golang-build-0-abcdef" in lines[1] and "push not started" in lines[1]


def test_unknown_is_not_running() -> None:
    assert status_word("UNKNOWN", True, started=False).startswith("Unknown")
    assert status_icon("UNKNOWN", True, started=False).plain == "?"
    assert status_word("UNKNOWN", True, started=True) == "Running"
    assert status_word("FAILURE", True, started=False) == "Failed"


async def test_never_started_run_shows_unknown_in_the_tree(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        node = app.tree.cursor_node
        row = node.data.row
        row.status, row.start, row.end, row.duration = "UNKNOWN", None, None, None
        app.tree.relabel_all()
        await pilot.pause()
        assert node.label.plain.lstrip().startswith("?")


def test_imported_runs_say_so() -> None:
    from tekton_results_tui.store.history import RecordRow

    rec = RecordRow(1, 1, "", "ci", "n", "u", "t", "TaskRun", "r", "u", "SUCCESS", None, None, None, None, None, None,
                    None, True, True, None, True, 1, T0 - 86400 * 700, T0, 1)
    assert cluster_state(rec, imported_at=T0 - 86400 * 700).plain.startswith("imported 2024-")
    assert cluster_state(rec).plain.startswith("in cluster")
    rec.in_cluster = False  # a relist of its cluster name marked it gone: it was still never there
    assert cluster_state(rec, imported_at=T0 - 86400 * 700).plain.startswith("imported 2024-")
    assert cluster_state(rec).plain.startswith("gone from the cluster")


async def test_rows_shown_are_results(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)):
        assert all(isinstance(n.data, ResultItem) for n in app.tree.root.children[:50])


async def test_split_widens_for_longer_names_and_keeps_for_a_few_cells_less(make_app) -> None:
    """Moving the split lays out the whole screen and redraws both panes: a listing whose names want a few
    cells less keeps it (filters typed one after another would move it back and forth); wider names widen
    it at once; much narrower ones narrow it; another screen width starts afresh."""
    from tekton_results_tui.tui.app import SPLIT_SHRINK_SLACK

    app = make_app()
    async with app.run_test(size=(260, 50)) as pilot:  # the tree may take 91..130 cells
        tree = app.tree

        def split(widest: int) -> int:
            tree.widest = widest
            app.fit_split()
            return int(tree.styles.width.value)

        base = split(20)
        assert 91 < base < 130
        assert split(26) == base + 6  # longer names: wider at once
        assert split(26 - SPLIT_SHRINK_SLACK + 1) == base + 6  # a few cells less: kept
        assert split(20 - 2) == base - 2  # much less: narrower
        assert split(20 - 2 + SPLIT_SHRINK_SLACK - 1) == base - 2 + SPLIT_SHRINK_SLACK - 1  # wider again at once
        tree.widest = 20
        await pilot.resize_terminal(250, 50)
        await pilot.pause()
        assert int(tree.styles.width.value) == base  # another screen width: fitted afresh, not kept


@pytest.mark.parametrize("width", [80, 96, 120, 160, 250])
def test_events_messages_wrap_by_words_at_every_width(width) -> None:
    """At 96 columns rich's Table gave the message one letter a line, at 78 it dropped it."""
    from tekton_results_tui.tui.widgets.events_view import events_table

    items = [{"type": "Warning", "reason": "FailedScheduling", "count": 3, "lastTimestamp": "2026-11-30T19:01:00Z",
              "involvedObject": {"kind": "Pod", "name": "build-and-deploy-100005-f9270-build-pod"},
              "message": "0/3 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint"},
             {"type": "Normal", "reason": "Started", "count": 1, "lastTimestamp": "2026-11-30T19:00:00Z",
              "involvedObject": {"kind": "TaskRun", "name": "go-ci-100001-1027c-fetch-source"},
              "message": "Pod was scheduled on node kind-worker2 and started its init containers"}]
    console = Console(width=width, record=True)
    console.print(events_table(items, 1795900000))
    lines = console.export_text().splitlines()
    assert all(len(ln) <= width for ln in lines)
    assert lines[0].split() == ["TYPE", "REASON", "AGE", "COUNT", "OBJECT", "MESSAGE"]
    words = " ".join(lines).split()
    for word in ("Insufficient", "untolerated", "FailedScheduling", "init", "containers"):
        assert word in words  # whole words: wrapped between words, never inside one
    assert len(lines) <= 1 + 2 * 4  # a message takes a few lines at most, not one a letter


def test_a_hostile_event_does_not_squeeze_the_others_messages() -> None:
    from tekton_results_tui.tui.widgets.events_view import events_table

    items = [{"type": "T" * 120, "reason": "R" * 300, "count": 10**60, "message": "the long one"},
             {"type": "Normal", "reason": "Started", "count": {"a": 1}, "message": "0/3 nodes are available: 3 Insufficient cpu"}]
    console = Console(width=96, record=True)
    console.print(events_table(items, 1795900000))
    lines = console.export_text().splitlines()
    assert all(len(ln) <= 96 for ln in lines)
    words = " ".join(lines).split()
    assert "Insufficient" in words and "available:" in words and len(lines) <= 5  # by words, a few lines
    assert lines[1].startswith("TTTTTTTTT…")  # the hostile type cut to its cap
