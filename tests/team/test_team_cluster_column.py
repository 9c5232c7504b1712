"""The cluster shown where a history holds several: a CLUSTER column in `results`/`records` tables
(and always with -o wide), and the cluster name on each Result line of the TUI tree (plain Text)."""

from __future__ import annotations

import random
import time

import pytest
from textual.app import App, ComposeResult

from tekton_results_tui.cli import main
from tekton_results_tui.sim import objects
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.tui.widgets.results_tree import ResultsTree, result_label


def runs(seed: int, n: int, prefix: str = "run") -> list[dict]:
    """n finished PipelineRuns with their TaskRuns; the same seed gives the same names and uids."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pr, trs = objects.finished_run(rng, "ci", f"{prefix}-{i}", time.time() - 600 + i, max_tasks=2)
        for o in (pr, *trs):
            o["metadata"]["resourceVersion"] = str(10 + i)
            out.append(o)
    return out


@pytest.fixture
def history(sqlite_url):
    db = open_database(sqlite_url)
    yield History(db)
    db.close()


def table(capsys, *args: str) -> list[list[str]]:
    """The CLI in this process (it binds the models to its own read-only database: reopen after)."""
    assert main(list(args)) == 0
    return [line.split() for line in capsys.readouterr().out.splitlines()]


def test_cluster_column_only_when_several_clusters_or_wide(history, sqlite_url, capsys) -> None:
    history.apply([RunUpsert(o) for o in runs(1, 3)], cluster="a")
    assert "CLUSTER" not in table(capsys, "results", "--db", sqlite_url)[0]
    assert "CLUSTER" not in table(capsys, "records", "--db", sqlite_url)[0]
    wide = table(capsys, "results", "-o", "wide", "--db", sqlite_url)
    assert wide[0][0] == "CLUSTER" and wide[0][-1] == "RESULT"
    assert {r[0] for r in wide[1:]} == {"a"} and all("/results/" in r[-1] for r in wide[1:])

    history = History(open_database(sqlite_url))
    history.apply([RunUpsert(o) for o in runs(1, 3)], cluster="b")  # the same uids in a second cluster
    rows = table(capsys, "results", "--db", sqlite_url)
    assert rows[0][0] == "CLUSTER" and len(rows) == 1 + 6
    assert sorted(r[0] for r in rows[1:]) == ["a"] * 3 + ["b"] * 3
    recs = table(capsys, "records", "--db", sqlite_url, "cluster:b")
    assert recs[0][0] == "CLUSTER" and {r[0] for r in recs[1:]} == {"b"} and len(recs) == 1 + 9


def test_result_label_names_the_cluster_as_plain_text(history) -> None:
    history.apply([RunUpsert(o) for o in runs(2, 1)], cluster="[b]prod[/]")
    row = history.list_results(None, limit=1).items[0]
    assert "prod" not in result_label(row, time.time()).plain
    shown = result_label(row, time.time(), show_cluster=True)
    assert "[b]prod[/]" in shown.plain  # never parsed as markup


class TreeApp(App):
    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history

    def compose(self) -> ComposeResult:
        yield ResultsTree(self.history)


async def test_tree_names_clusters_once_a_second_one_appears(history) -> None:
    history.apply([RunUpsert(o) for o in runs(3, 2)], cluster="a")
    app = TreeApp(history)
    async with app.run_test() as pilot:
        tree = app.query_one(ResultsTree)
        tree.load_page(None)
        await pilot.pause()
        assert not tree.show_cluster
        assert all(not str(n.label).lstrip(" ▶").split(" ", 1)[1].startswith("a ") for n in tree.root.children)

        seq = history.current_seq()
        history.apply([RunUpsert(o) for o in runs(3, 1, prefix="other")], cluster="b")
        new = [r for r in history.list_results("cluster:b", limit=10).items]
        assert new and history.current_seq() > seq
        tree.apply_changes(new, [])
        await pilot.pause()
        assert tree.show_cluster
        labels = [str(n.label) for n in tree.root.children]
        squeezed = [" ".join(t.split()) for t in labels]  # columns are padded to fixed widths
        assert any(" b other-0" in t for t in squeezed) and sum(" a run-" in t for t in squeezed) == 2, labels

        tree.load_page(None)  # a fresh load asks the store: still two clusters
        assert tree.show_cluster
