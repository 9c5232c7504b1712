"""Live updates from the store's change sequence: in-process writes, another process, prunes."""

from __future__ import annotations

import json
import subprocess
import sys

from tekton_results_tui.store.history import RunUpsert
from tekton_results_tui.tui.widgets.results_tree import ResultItem

from .conftest import SIZE, T0, make_pipelinerun
from .test_app_filter import until


def top_names(app, n: int) -> list[str]:
    return [c.data.row.display_name for c in app.tree.root.children[:n]]


def new_runs(count: int, start_i: int = 1000, outcome=("Unknown", "Running")):
    return [make_pipelinerun(99, start_i + k, name=f"live-run-{k}", ns="ci", pipeline="build",
                             created=T0 - 60 + k, outcome=outcome) for k in range(count)]


async def insert_three_live_runs(app, pilot) -> None:
    """Another writer stores three new runs; the app follows the feed: they are the top three lines."""
    changes = []
    for pr, trs in new_runs(3):
        changes += [RunUpsert(pr)] + [RunUpsert(t) for t in trs]
    app.history.apply(changes)
    await app.sync_now()
    await pilot.pause()
    assert top_names(app, 3) == ["live-run-2", "live-run-1", "live-run-0"]


async def test_live_insert_keeps_cursor_on_the_same_run(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "down")
        chosen = app.tree.cursor_node.data.row.id
        seq0 = app.history.current_seq()
        changes = []
        for pr, trs in new_runs(2):
            changes += [RunUpsert(pr)] + [RunUpsert(t) for t in trs]
        app.history.apply(changes)  # another writer (the watcher) in this process
        await app.sync_now()
        await pilot.pause()
        assert top_names(app, 2) == ["live-run-1", "live-run-0"]  # newest first, at the top
        assert app.tree.cursor_node.data.row.id == chosen
        assert app.tree.cursor_line == 5
        assert app.feed.seq > seq0
        assert app.query_one("#filter-count").render().plain.strip().startswith("122")


async def test_status_change_relabels_and_refreshes_children(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        (pr, trs), = new_runs(1)
        app.history.apply([RunUpsert(pr)] + [RunUpsert(t) for t in trs])
        await app.sync_now()
        node = app.tree.root.children[0]
        assert node.data.row.status == "UNKNOWN"
        app.tree.goto(node)
        await pilot.press("enter")  # expand: children loaded
        n_children = len(node.children)
        (done, done_trs), = new_runs(1, outcome=("False", "Failed"))
        for o in [done] + done_trs:
            o["metadata"]["resourceVersion"] = "50"
        app.history.apply([RunUpsert(done)] + [RunUpsert(t) for t in done_trs])
        await app.sync_now()
        assert node.data.row.status == "FAILURE"
        assert "✗" in node.label.plain or "✖" in node.label.plain or node.label.plain != ""
        assert [c.data.row.status for c in node.children if c.data.row.kind == "PipelineRun"] == ["FAILURE"]
        assert len(node.children) == n_children
        assert app.tree.cursor_node is node


async def test_filter_applies_to_live_inserts(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"ns:dev", "enter")
        top_before = app.tree.root.children[0].data.row.id
        changes = []
        for pr, trs in new_runs(2):  # namespace ci: must not show
            changes += [RunUpsert(pr)] + [RunUpsert(t) for t in trs]
        app.history.apply(changes)
        await app.sync_now()
        assert app.tree.root.children[0].data.row.id == top_before


async def test_prune_reloads_the_tree(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        (pr, trs), = new_runs(1)
        app.history.apply([RunUpsert(pr)] + [RunUpsert(t) for t in trs])
        await app.sync_now()
        removed, _ = app.history.prune(ended_before=T0 + 1)  # every finished run goes
        assert removed > 0
        await app.sync_now()
        rows = [c.data.row for c in app.tree.root.children if isinstance(c.data, ResultItem)]
        assert rows and all(r.end is None for r in rows)
        assert app.query_one("#filter-count").render().plain.strip().startswith(str(len(rows)))


WRITER = r"""
import json, sys
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History, RunUpsert
db = open_database(sys.argv[1])
objs = json.load(sys.stdin)
print(History(db).apply([RunUpsert(o) for o in objs]).seq)
"""


async def test_follows_a_writer_in_another_process_read_only(make_app, db_path):
    """A read-only viewer on the file a headless watcher (here: another process) writes."""
    app = make_app(read_only=True, live=True)
    async with app.run_test(size=SIZE) as pilot:
        chosen = app.tree.cursor_node.data.row.id
        objs = []
        for pr, trs in new_runs(3):
            objs += [pr] + trs
        out = subprocess.run([sys.executable, "-c", WRITER, "sqlite:///" + str(db_path)],
                             input=json.dumps(objs), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        await until(pilot, lambda: top_names(app, 1) == ["live-run-2"], "the other process's runs", limit=500)
        assert top_names(app, 3) == ["live-run-2", "live-run-1", "live-run-0"]
        assert app.tree.cursor_node.data.row.id == chosen
        assert app.changes_applied >= 1 and app.live_errors == 0


def _listed_ids(app) -> list[int]:
    return [c.data.row.id for c in app.tree.root.children if isinstance(c.data, ResultItem)]


async def test_live_inserts_let_the_oldest_go_behind_load_more_without_a_gap(make_app, monkeypatch):
    """A TUI left open on a busy cluster: past LIVE_EXTRA inserts above the paged rows, the bottom ones go back
    behind "load more…" (bounded memory); paging from there continues the listing with no gap and no repeat,
    and the cursor's Result is never let go."""
    from tekton_results_tui.tui.widgets import results_tree as rt

    monkeypatch.setattr(rt, "LIVE_EXTRA", 10)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert len(app.tree.result_nodes) == rt.PAGE_SIZE
        changes = []
        for pr, trs in new_runs(20):
            changes += [RunUpsert(pr)] + [RunUpsert(t) for t in trs]
        app.history.apply(changes)
        await app.sync_now()
        await pilot.pause()
        want = [r.id for r in app.history.list_results(limit=200).items]
        assert _listed_ids(app) == want[:rt.PAGE_SIZE + 10]  # 70 > 50 + 10 + 2: trimmed to 60, newest kept
        assert set(app.tree.result_nodes) == set(want[:60])
        more = app.tree.load_more_node
        assert more is not None and app.tree.root.children[-1] is more
        app.tree.goto(more)
        await pilot.press("enter")
        await app.settle_reads()
        assert _listed_ids(app) == want[:60 + rt.PAGE_SIZE]  # the next page starts right after the last kept

        # the cursor's Result at the bottom stays, with everything above it
        bottom = app.tree.result_nodes[want[60 + rt.PAGE_SIZE - 1]]
        app.tree.goto(bottom)
        changes = []
        for pr, trs in new_runs(20, start_i=2000):
            for o in [pr, *trs]:
                o["metadata"]["name"] += "-b"
                o["metadata"]["uid"] = o["metadata"]["uid"][:-4] + "b" + o["metadata"]["uid"][-3:]
            changes += [RunUpsert(pr)] + [RunUpsert(t) for t in trs]
        app.history.apply(changes)
        await app.sync_now()
        assert app.tree.cursor_node is bottom
        assert _listed_ids(app)[-1] == bottom.data.row.id
        assert len(app.tree.result_nodes) == 150  # over 100 paged + 10 + 2, but nothing below the cursor to let go
        app.tree.goto(app.tree.root.children[0])  # the cursor leaves: the next drain trims to 100 + 10
        (pr, trs), = new_runs(1, start_i=3000)
        for o in [pr, *trs]:
            o["metadata"]["name"] += "-c"
            o["metadata"]["uid"] = o["metadata"]["uid"][:-4] + "c" + o["metadata"]["uid"][-3:]
        app.history.apply([RunUpsert(pr)] + [RunUpsert(t) for t in trs])
        await app.sync_now()
        want = [r.id for r in app.history.list_results(limit=500).items]
        assert _listed_ids(app) == want[:110] and app.tree.root.children[-1] is app.tree.load_more_node


async def test_mouse_picks_the_line_under_it_after_an_insert_moved_the_lines(make_app):
    """Lines are drawn once per node and reused where the node moves to (ResultsTree._render_line); a
    click must pick the line under the pointer, not the line a reused drawing was first made at."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        await pilot.pause()  # every visible line drawn (and cached) at its first position
        await insert_three_live_runs(app, pilot)
        hits_before = tree._node_lines.hits
        tree.refresh()
        await pilot.pause()
        assert tree._node_lines.hits > hits_before  # the moved lines were reused, not drawn again
        offset = tree.content_region.offset - tree.region.offset
        await pilot.click(tree, offset=(offset.x + 8, offset.y + 4))  # the 5th line: a Result that moved down 3
        node = tree.root.children[4]
        assert tree.cursor_line == 4 and tree.cursor_node is node
        assert node.is_expanded  # a click selects, and selecting a Result expands it
        await pilot.hover(tree, offset=(offset.x + 8, offset.y + 2))
        assert tree.hover_line == 2
        await pilot.click(tree, offset=(offset.x, offset.y + 4))  # its expand icon: collapse again
        assert not node.is_expanded


async def test_live_insert_and_summary_reload_ask_for_no_layout(make_app, monkeypatch):
    """A live cluster inserts into the tree on every drain and reloads the Summary of the run under the
    cursor: neither may ask for a layout of the screen (each one re-measured every widget beside the tree),
    and the Summary's lines are made in its worker, not on the UI thread."""
    import threading

    from textual.widget import Widget

    from tekton_results_tui.tui.widgets import summary_view

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.settle_reads()
        layouts: list[str] = []
        real_refresh = Widget.refresh

        def refresh(self, *regions, layout=False, **kw):
            if layout:
                layouts.append(type(self).__name__)
            return real_refresh(self, *regions, layout=layout, **kw)

        renders: list[str] = []
        real_render = summary_view.render_summary

        def render(renderable, geometry):
            renders.append(threading.current_thread().name)
            return real_render(renderable, geometry)

        monkeypatch.setattr(Widget, "refresh", refresh)
        monkeypatch.setattr(summary_view, "render_summary", render)
        await insert_three_live_runs(app, pilot)
        summary = app.detail.views["summary"]
        shown = summary.lines_view.plain_lines
        summary.load(summary.loaded, keep_scroll=True)  # what a live change to the shown run does
        await app.settle_reads()
        await pilot.pause()
        assert summary.lines_view.plain_lines == shown
        assert renders and threading.main_thread().name not in renders
        assert "ResultsTree" not in layouts and "SummaryLines" not in layouts, layouts


async def test_a_new_listing_draws_its_own_lines(make_app):
    """Each listing's nodes are numbered from 1 again (Tree.clear): the lines drawn for the last listing's
    node 1, 2, ... must not be shown for the new one's."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        for text in ("ns:dev", "ns:ci"):
            app.filter_bar.set_text(text)
            await app.settle_reads()
            await pilot.pause()
            assert tree.filter is not None and tree.filter.text == text
            for y in range(min(10, len(tree._tree_lines))):
                node = tree._tree_lines[y].node
                drawn = "".join(seg.text for seg in tree.render_line(y - tree.scroll_offset.y))
                assert node.label.plain.strip()[:12] in drawn, (text, y, drawn)
