"""A CustomRun in the history: under its PipelineRun's Result in the tree (tagged), in the Summary's
child-runs table, markable, and its mark survives a live relabel."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tekton_results_tui import kinds
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.tui.app import ResultsApp
from tekton_results_tui.tui.widgets.results_tree import RecordItem, ResultItem

from .conftest import SIZE, T0, det_uid, make_pipelinerun
from .test_detail_data import screen_text, settle

WIDE = (200, 50)  # the Summary's child-runs table unfolded


def make_customrun(pr: dict, pipeline_task: str, rv: int = 10) -> dict:
    """A v1beta1 CustomRun owned by `pr` (an approval step run by another controller), succeeded."""
    meta = pr["metadata"]
    name = f"{meta['name']}-{pipeline_task}"
    return {
        "apiVersion": "tekton.dev/v1beta1", "kind": "CustomRun",
        "metadata": {"name": name, "namespace": meta["namespace"], "uid": det_uid(3, "cr", name),
                     "resourceVersion": str(rv), "creationTimestamp": format_time(T0 - 500),
                     "labels": {"tekton.dev/pipeline": meta["labels"]["tekton.dev/pipeline"],
                                "tekton.dev/pipelineRun": meta["name"], "tekton.dev/pipelineTask": pipeline_task},
                     "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": meta["name"],
                                          "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"customRef": {"apiVersion": "example.dev/v1", "kind": "Approval"}},
        "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Approved",
                                   "lastTransitionTime": format_time(T0 - 440)}],
                   "startTime": format_time(T0 - 499), "completionTime": format_time(T0 - 440)},
    }


@pytest.fixture
def history(tmp_path) -> Any:
    db = open_database("sqlite:///" + str(tmp_path / "history.db"))
    h = History(db, clock=lambda: T0)
    pr, trs = make_pipelinerun(3, 1, name="release-run-1", ns="ci", pipeline="release", created=T0 - 600,
                               outcome=("True", "Succeeded"), n_tasks=2)
    cr = make_customrun(pr, "approve")
    h.apply([RunUpsert(pr), *(RunUpsert(t) for t in trs), RunUpsert(cr)])
    h.custom_run = cr  # type: ignore[attr-defined]
    yield h
    db.close()


async def test_customrun_shows_under_its_pipelinerun_tagged_and_in_the_summary(history) -> None:
    app = ResultsApp(history, clock=lambda: float(T0), live=False)
    async with app.run_test(size=WIDE) as pilot:
        assert len(app.tree.result_nodes) == 1  # one Result: the CustomRun joined its PipelineRun's
        await pilot.press("enter")
        result = app.tree.cursor_node
        assert isinstance(result.data, ResultItem)
        children = [c.data.row.kind for c in result.children]
        assert children == ["PipelineRun", "TaskRun", "TaskRun", "CustomRun"]  # the registry's order
        cr_node = result.children[-1]
        label = cr_node.label.plain
        assert "approve" in label and f" {kinds.CUSTOM_RUN.tag} " in label and "release-run-1-approve" in label
        assert "✔" in label  # its status icon
        # the Summary of the Result lists it among the child runs, tagged
        app.tree.goto(result)
        app.show_node(result)
        await settle(pilot)
        text = screen_text(app)
        assert "TaskRuns and CustomRuns" in text
        assert "approve CR" in text and "release-run-1-approve" in text
        # its own Summary: a CustomRun, what it runs
        app.tree.goto(cr_node)
        await settle(pilot)
        text = screen_text(app)
        assert app.detail.current_name == "release-run-1-approve"
        assert "Pipeline task" in text and "Approved" in text  # what it runs; its reason
        app.action_tab("logs")  # a CustomRun runs no pod of Tekton's: no step logs (not its siblings')
        await settle(pilot)
        assert "No TaskRun here" in screen_text(app)


async def test_marked_customrun_keeps_its_mark_through_a_live_relabel(history) -> None:
    app = ResultsApp(history, clock=lambda: float(T0), live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        cr_node = app.tree.cursor_node.children[-1]
        app.tree.goto(cr_node)
        await pilot.press("space")
        assert isinstance(cr_node.data, RecordItem) and app.tree.marked_records == {cr_node.data.row.id}
        assert cr_node.label.plain.startswith("▶")
        newer = copy.deepcopy(history.custom_run)
        newer["metadata"]["resourceVersion"] = "11"
        newer["metadata"]["annotations"] = {"seen": "again"}
        history.apply([RunUpsert(newer)])
        await app.sync_now()
        await pilot.pause()
        assert cr_node.data.row.rv == 11  # the line was patched from the store ...
        assert cr_node.label.plain.startswith("▶")  # ... and still shows the mark
        await pilot.press("ctrl+u")  # unmark all
        assert not app.tree.has_marks and not cr_node.label.plain.startswith("▶")
