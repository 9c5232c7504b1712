"""The Statistics screen: groups of the filtered runs, sorting, `enter` filters the tree, live refresh."""

from __future__ import annotations

import pytest

from tekton_results_tui.insights.stats import GroupStats
from tekton_results_tui.tui.screens.stats import StatsScreen, group_filter, sort_groups

from .conftest import SIZE


def _g(key: str, total: int, rate: float | None) -> GroupStats:
    return GroupStats(key, total, 0, 0, 0, 0, 0, rate, None, None, None, None, None, None, None, 0, None)


def test_sort_groups_puts_missing_values_last_both_ways():
    groups = [_g("a", 3, 0.5), _g("b", 1, None), _g("c", 2, 0.9)]
    assert [g.key for g in sort_groups(groups, "success_rate", True)] == ["c", "a", "b"]
    assert [g.key for g in sort_groups(groups, "success_rate", False)] == ["a", "c", "b"]
    assert [g.key for g in sort_groups(groups, "key", False)] == ["a", "b", "c"]


def test_group_filter_terms():
    assert group_filter("pipeline", "build") == "pipeline:build"
    assert group_filter("namespace", "ci") == "ns:ci"
    assert group_filter("task", "my task") == "task:'my task'"
    assert group_filter("day", "2026-05-28") == "since:2026-05-28 before:2026-05-29"
    assert group_filter("week", "2026-W22") == "since:2026-05-25 before:2026-06-01"
    assert group_filter("repository", "x") is None
    assert group_filter("pipeline", "(none)") is None


@pytest.mark.asyncio
async def test_stats_screen_follows_filter_sorts_and_filters_tree(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"ns:ci", "enter")
        await pilot.pause()
        await pilot.press("S")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert screen.stats is not None and screen.stats.by == "pipeline"
        assert sum(g.total for g in screen.stats.groups) == app.history.count_results(app.filter)
        first = [g.key for g in screen._rows]
        assert [g.total for g in screen._rows] == sorted((g.total for g in screen._rows), reverse=True)
        await pilot.press("o")  # sort by the next column (success rate)
        rates = [g.success_rate for g in screen._rows if g.success_rate is not None]
        assert rates == sorted(rates, reverse=True)
        await pilot.press("b")  # group by task
        await pilot.pause()
        assert screen.stats.by == "task"
        await pilot.press("b")
        await pilot.pause()
        assert screen.stats.by == "namespace" and {g.key for g in screen.stats.groups} == {"ci"}
        while screen.by != "pipeline":
            await pilot.press("b")
            await pilot.pause()
        key = screen._current_key()
        assert key in first
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, StatsScreen)
        assert app.filter.text == f"ns:ci pipeline:{key}"
        rows = [n.data.row for n in app.tree.root.children if hasattr(n.data, "row")]
        assert rows and all(r.pipeline == key and r.parent == "ci" for r in rows)


@pytest.mark.asyncio
async def test_stats_screen_refreshes_when_changes_are_applied(make_app, monkeypatch):
    from .conftest import T0, make_pipelinerun
    from tekton_results_tui.store.history import RunUpsert
    from tekton_results_tui.tui.screens import stats

    monkeypatch.setattr(stats, "REFRESH_S", 3600.0)  # the test calls what the interval does, once, itself
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        await pilot.pause()
        screen = app.screen
        before = {g.key: g.total for g in screen.stats.groups}
        pr, trs = make_pipelinerun(9, 1, name="fresh-run", ns="ci", pipeline="build", created=T0 - 60,
                                   outcome=("True", "Succeeded"))
        app.history.apply([RunUpsert(pr), *[RunUpsert(t) for t in trs]])
        await app.sync_now()
        loads = screen.loads
        screen._maybe_refresh()  # what its interval does
        await pilot.pause()
        assert screen.loads == loads + 1
        assert {g.key: g.total for g in screen.stats.groups}["build"] == before["build"] + 1
