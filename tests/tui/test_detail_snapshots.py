"""SVG snapshots of the detail pane's tabs (plain `def` tests; fixed data, clock and size)."""

from __future__ import annotations

from .test_detail_data import SIZE, HostApp, fill, open_history, record_of, settle


def _app_showing(sqlite_url: str, which: str, tab: str, search: str | None = None):
    history = open_history(sqlite_url)
    data = fill(history)
    app = HostApp(history)
    target = getattr(data, which)

    async def run_before(pilot) -> None:
        if which == "result":
            pass
        app.pane.show_record(record_of(history, target))
        app.pane.switch_tab(tab)
        await settle(pilot)
        if search:
            await pilot.press("slash", *search, "enter", "n")
            await settle(pilot)

    return app, run_before


def test_snapshot_detail_summary_pipelinerun(snap_compare, sqlite_url):
    app, run_before = _app_showing(sqlite_url, "pr", "summary")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_detail_yaml_with_search(snap_compare, sqlite_url):
    app, run_before = _app_showing(sqlite_url, "test", "yaml", search="exitcode")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_detail_logs_attack_sanitised(snap_compare, sqlite_url):
    history = open_history(sqlite_url)
    data = fill(history)
    app = HostApp(history)

    async def run_before(pilot) -> None:
        app.pane.show_record(record_of(history, data.test))
        app.pane.switch_tab("logs")
        await settle(pilot)
        view = app.pane.views["logs"]
        view.query_one("#log-step").value = next(c.key for c in view.choices if c.step == "prepare")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_detail_events(snap_compare, sqlite_url):
    app, run_before = _app_showing(sqlite_url, "pr", "events")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
