"""The hostile corpus on every TUI screen: nothing from the data reaches the terminal as a control character,
nothing is read as markup, nothing crashes.

The history holds the corpus' runs (hostile text in labels, pipeline/task/step names, reasons, messages,
annotations), runs whose own names carry the attacks (as a history written before names were validated may),
hostile step logs and events. The app opens it read-only and every screen is visited; then a writable app
with a cluster that may delete shows the delete dialog. Each time, the whole frame the compositor renders is
checked: the text of its segments, and the terminal bytes it becomes once Textual's own SGR and cursor
positioning are taken out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import CONTROL_RE, hostile_runs, hostile_strings, pipeline_run, task_run
from textual.command import CommandList
from textual.widgets import TabbedContent

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import Events, History, Logs, RunUpsert, StepLogData
from tekton_results_tui.tui.app import ResultsApp
from tekton_results_tui.tui.cluster import DeleteOutcome, NoCluster, ProgressFn, RunDeleter, StopFn
from tekton_results_tui.tui.screens.delete_dialog import DeleteDialog
from tekton_results_tui.tui.screens.help import HelpScreen
from tekton_results_tui.tui.widgets.results_tree import RecordItem, ResultItem
from tekton_results_tui.watcher.cleanup_plan import CleanupPlan
from tekton_results_tui.watcher.status import OFF, WatcherStatus

from .test_detail_data import settle, until

SIZE = (160, 50)
NOW = 1_767_265_200  # 2026-01-01T11:00:00Z, an hour after the corpus' runs
# What Textual itself writes between the segments of a frame: SGR and cursor positioning.
TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;:]*[mHfABCDGJK]")


def frame_problems(app: ResultsApp, where: str) -> list[str]:
    """Control characters in what the current screen renders now: segment text, then the terminal bytes."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert update is not None
    problems = []
    for y, line in enumerate(update.strips):  # type: ignore[attr-defined]
        text = "".join(seg.text for strip in line for seg in strip if not seg.control)
        found = CONTROL_RE.findall(text)
        if found:
            problems.append(f"{where}: line {y} carries {sorted(set(map(ascii, found)))}: {text.strip()[:120]!r}")
    written = TEXTUAL_OWN.sub("", update.render_segments(app.console)).replace("\n", "")
    found = CONTROL_RE.findall(written)
    if found:
        problems.append(f"{where}: the terminal would get {sorted(set(map(ascii, found)))}")
    return problems


def check(app: ResultsApp, where: str) -> None:
    problems = frame_problems(app, where)
    assert not problems, "\n".join(problems[:10])


def named_runs() -> list[dict]:
    """Runs whose names, namespaces and pipelines are the attacks themselves (no API server would take
    them; an old history or another writer could hold them)."""
    runs = []
    for i, (key, text) in enumerate(hostile_strings().items()):
        if key in ("long_text", "forty_digits"):
            continue
        pr = pipeline_run(f"named{text}", f"00000000-0000-4000-8aaa-{i:012d}", text=text, namespace=f"ns{text}")
        tr = task_run(f"named{text}-task", f"00000000-0000-4000-8bbb-{i:012d}", text=text, owner=pr,
                      namespace=f"ns{text}")
        runs += [pr, tr]
    return runs


def documents(runs: Sequence[dict]) -> list[Any]:
    """A hostile step log and event list for every TaskRun."""
    out: list[Any] = []
    s = hostile_strings()
    body = "".join(f"{k}: {v}\n" for k, v in s.items() if k != "long_text").encode("utf-8", "surrogatepass")
    for obj in runs:
        if obj["kind"] != "TaskRun":
            continue
        step = obj["status"]["steps"][0]["name"]
        out.append(Logs(obj, [StepLogData(step, "step-x", body)]))
        out.append(Events(obj, [{"type": f"Warning{s['osc8_link']}", "reason": f"Failed{s['csi_clear_screen']}",
                                 "message": f"{obj['metadata']['name']} {s['osc52_clipboard']}{s['bidi_override']}",
                                 "count": s["c1_csi"],
                                 "involvedObject": {"kind": f"TaskRun{s['c1_osc']}", "name": obj["metadata"]["name"]},
                                 "lastTimestamp": "2026-01-01T10:04:00Z"}]))
    return out


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = "sqlite:///" + str(tmp_path / "hostile.db")
    db = open_database(url)
    history = History(db, clock=lambda: NOW)
    runs = hostile_runs() + named_runs()
    history.apply([RunUpsert(r) for r in runs] + documents(runs))
    top_level = [r for r in runs if not r["metadata"].get("ownerReferences")]
    assert history.size()[0] == len(top_level)  # the corpus is in: nothing was refused
    db.close()
    return url


def open_app(db_url: str, read_only: bool, **kw: Any) -> ResultsApp:
    history = History(open_database(db_url, read_only=read_only), read_only=read_only, clock=lambda: NOW)
    return ResultsApp(history, clock=lambda: float(NOW), read_only=read_only, live=False, **kw)


async def test_read_only_viewer_shows_every_screen_without_a_control_character(db_url: str) -> None:
    app = open_app(db_url, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        tree = app.tree
        await settle(pilot)
        check(app, "tree")
        while tree.load_more_node is not None:  # every Result
            tree.load_more()
        results = [n for n in tree.root.children if isinstance(n.data, ResultItem)]
        assert len(results) == app.history.size()[0]
        for node in results:
            node.expand()
        await settle(pilot)
        records = [c for n in results for c in n.children if isinstance(c.data, RecordItem)]
        assert {"PipelineRun", "TaskRun", "CustomRun", "Log", "EventList"} <= {r.data.row.kind for r in records}
        # every line of the tree, page by page
        for top in range(0, len(tree._tree_lines), SIZE[1] - 10):
            tree.scroll_to(y=top, animate=False, immediate=True)
            await pilot.pause()
            check(app, f"tree from line {top}")
        # the detail pane: the summary of every Result (its run and child-runs table); the summary and YAML
        # of every child run that carries the corpus' strings; the logs and events of a few (every step log
        # and event list holds every string), and the summary of their Logs (step names)
        children = [r for r in records if r.data.row.kind in ("TaskRun", "CustomRun")
                    and r.data.row.run_name.startswith("hostile-")]
        logs = [r for r in records if r.data.row.kind == "Log"][:3]
        for node in results + children + logs:
            tree.goto(node)
            app.show_node(node)
            await settle(pilot)
            check(app, f"summary of {node.data.row.id}")
        for i, node in enumerate(children):
            tree.goto(node)
            app.show_node(node)
            for tab in ("yaml", "logs", "events") if i < 3 else ("yaml",):
                app.detail.switch_tab(tab, focus=False)
                await settle(pilot)
                check(app, f"{tab} of {node.data.row.run_name!a}")
        assert app.detail.query_one(TabbedContent).active == "yaml"
        # help
        tree.focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        check(app, "help")
        await pilot.press("escape")
        # the palette, finding runs by their names
        await pilot.press("ctrl+p", *"named")

        def jump_hits() -> list[str]:
            found = app.screen.query(CommandList)
            options = found.first().options if found else []
            return [str(o.prompt) for o in options if "Jump to" in str(o.prompt)]

        await until(pilot, lambda: len(jump_hits()) >= 5)
        check(app, "palette")
        await pilot.press("escape")
        await pilot.pause()
        # notifications quoting data and markup: copy a hostile name; a YAML search with no match
        hostile = next(n for n in results if "\x1b" in (n.data.row.display_name or ""))
        tree.goto(hostile)
        app.action_copy_name()
        await pilot.pause()
        copied = [str(n.message) for n in app._notifications]
        assert any(m.startswith("copied named\\e") for m in copied), copied
        app.detail.switch_tab("yaml")
        await settle(pilot)
        await pilot.press("slash", *"[/x] [bold]no such text", "enter", "n")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("No match for '[/x] [bold]no such text'" in m for m in messages), messages
        check(app, "notifications")
        # a filter with a number no database holds: one line under the bar, the app stays up
        await pilot.press("escape", "escape")
        app.action_focus_filter()
        await pilot.press(*"dur>99999999999999999999", "enter")
        await pilot.pause()
        assert app.filter_bar.error and "\n" not in app.filter_bar.error
        check(app, "filter error")
    assert app.return_code in (None, 0)


class AllowAll:
    """A cluster that may delete (it never does here: the dialog is only looked at)."""

    def __init__(self) -> None:
        self.calls = 0

    def can_delete(self) -> bool:
        return True

    def delete_runs(self, plan: CleanupPlan, progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> Sequence[DeleteOutcome]:
        self.calls += 1
        return []


class DeletingCluster(NoCluster):
    def __init__(self, deleter: RunDeleter) -> None:
        super().__init__(WatcherStatus(state=OFF, reason=hostile_strings()["osc0_title"], cluster="hostile"))
        self._deleter = deleter

    @property
    def deleter(self) -> RunDeleter:  # type: ignore[override]
        return self._deleter


async def test_delete_dialog_and_header_of_a_writable_app_show_no_control_character(db_url: str) -> None:
    deleter = AllowAll()
    app = open_app(db_url, read_only=False, cluster=DeletingCluster(deleter))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        check(app, "header with a hostile reason")
        assert app._can_delete is True
        tree = app.tree
        marked = 0
        for node in list(tree.root.children):
            if isinstance(node.data, ResultItem) and any(c in (node.data.row.display_name or "") for c in "\x1b\x9b\u202e"):
                tree.goto(node)
                await pilot.press("space")
                marked += 1
        assert marked >= 3
        await pilot.press("ctrl+d")
        while not (isinstance(app.screen, DeleteDialog) and app.screen.is_mounted):
            await pilot.pause(0.02)
        dialog = app.screen
        assert len(dialog.plan.items) == marked
        check(app, "delete dialog")
        await pilot.press("escape")
        await pilot.pause()
    assert deleter.calls == 0
