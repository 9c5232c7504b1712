"""Pilot tests of the detail pane on a real SQLite history: tabs, search, wrap, save, live refresh, names."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from tekton_results_tui.store.history import Logs, RunUpsert, StepLogData
from tekton_results_tui.tui.widgets.yaml_view import SaveDialog

from .test_detail_data import SIZE, HostApp, fill, numbered_log, open_history, record_of, screen_text, settle, until


@pytest.fixture
def setup(sqlite_url: str):
    history = open_history(sqlite_url)
    data = fill(history)
    yield history, data
    history.db.close()


async def test_tabs_switch_and_load_lazily(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.pr))
        await settle(pilot)
        assert pane.current_name == "build [linux]"
        assert pane.views["summary"].loaded is not None
        assert pane.views["yaml"].loaded is None  # not opened yet: not loaded
        pane.switch_tab("yaml")
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "yaml"
        assert pane.views["yaml"].lines_view.plain_lines[:2] == ["apiVersion: tekton.dev/v1", "kind: PipelineRun"]
        assert app.focused is pane.views["yaml"].lines_view
        await pilot.click("#--content-tab-events")  # the mouse works too
        await settle(pilot)
        assert pane.active_tab == "events"
        assert "step [/x] exited with code 2" in screen_text(app)
        pane.switch_tab("logs")
        await settle(pilot)
        assert pane.views["logs"].selected is not None and pane.views["logs"].selected[1] == "test [/x]"
        with pytest.raises(ValueError, match="unknown detail tab"):
            pane.switch_tab("nope")
        pane.show_record(None)
        await settle(pilot)
        assert pane.current_name is None and pane.views["logs"].lines_view.line_count == 0


async def test_result_summary_lists_taskruns_with_step_exit_codes(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        result = history.get_result(id=record_of(history, data.pr).result_id)
        app.pane.show_result(result)
        await settle(pilot)
        shot = screen_text(app)
        for expected in ("Result", "build [linux]-clone", "build [linux]-step [/x]", "test [/x] ✖2", "clone ✔0",
                         "[/x] v1.2 ünï", "sha256:[abc]", "in cluster · stored final"):
            assert expected in shot, expected


async def test_names_with_brackets_and_unicode_render_intact(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.live_tr))
        await settle(pilot)
        assert "déploiement-ü-🚀-deploy" in screen_text(app)
        pane.show_record(record_of(history, data.test))
        await settle(pilot)
        shot = screen_text(app)
        assert "build [linux]-step [/x]" in shot and "test [/x]" in shot
        pane.switch_tab("logs")
        await settle(pilot)
        assert "test [/x] ✖2" in screen_text(app)  # the step picker label


async def test_yaml_search_next_and_previous(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.test))
        pane.switch_tab("yaml")
        await settle(pilot)
        view = pane.views["yaml"].lines_view
        await pilot.press("slash")
        assert app.focused is not view  # the inline search field took the keys
        await pilot.press(*"exitcode", "enter")
        await pilot.pause()
        assert app.focused is view
        plain = view.plain_lines
        expected = [i for i, line in enumerate(plain) if "exitcode" in line.lower()]
        assert len(expected) == 2 and view.matches == expected
        first = view.current_match_line
        await pilot.press("n")
        assert view.current_match_line == expected[(expected.index(first) + 1) % 2]
        await pilot.press("N")
        assert view.current_match_line == first
        assert "1/2" in screen_text(app) or "2/2" in screen_text(app)
        await pilot.press("slash", "escape")  # esc closes the field without searching
        assert app.focused is view and view.matches == expected


async def test_log_search_scrolls_to_matches(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.test))
        pane.switch_tab("logs")
        await settle(pilot)
        view = pane.views["logs"].lines_view
        assert view.line_count == 400
        view.search("needle")
        await pilot.pause()
        assert view.matches == list(range(0, 400, 50))
        for _ in range(3):
            await pilot.press("n")
        line = view.current_match_line
        assert line == 150
        assert view.scroll_y <= line < view.scroll_y + view.scrollable_content_region.height
        strips = view.visible_strips()
        shown = ["".join(s.text for s in strip) for strip in strips]
        assert any("0150 go test ./pkg/3 needle found" in s for s in shown)
        await pilot.press("N", "N", "N", "N")  # wraps around to the last match
        assert view.current_match_line == 350
        assert view.scroll_y <= 350 < view.scroll_y + view.scrollable_content_region.height


async def test_wrap_toggle(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.clone))
        pane.switch_tab("logs")
        await settle(pilot)
        view = pane.views["logs"].lines_view
        assert view.line_count == 3 and view.virtual_size.height == 3
        width = view.scrollable_content_region.width
        assert len(view.plain_lines[2]) > width
        await pilot.press("w")
        assert view.wrap
        rows = 2 + -(-len(view.plain_lines[2]) // width)
        assert view.virtual_size.height == rows
        shown = ["".join(s.text for s in strip) for strip in view.visible_strips()[:rows]]
        assert "".join(shown[2:]).rstrip() == view.plain_lines[2]  # nothing lost at the cuts
        await pilot.press("w")
        assert not view.wrap and view.virtual_size.height == 3


async def test_live_refresh_keeps_scroll(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.test))
        pane.switch_tab("logs")
        await settle(pilot)
        view = pane.views["logs"].lines_view
        view.scroll_to(y=120, animate=False, immediate=True)
        await pilot.pause()
        assert view.scroll_y == 120
        res = history.apply([Logs(data.test, [StepLogData("test [/x]", "step-test [/x]", numbered_log(450))])])
        changed = history.changes_since(res.seq - 1)
        pane.refresh_from_store({r.id for r in changed.records}, {r.id for r in changed.results})
        await settle(pilot)
        assert view.line_count == 450 and view.scroll_y == 120
        # YAML: a newer resourceVersion of the run shows, at the same place
        pane.switch_tab("yaml")
        await settle(pilot)
        yview = pane.views["yaml"].lines_view
        yview.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        newer = copy.deepcopy(data.test)
        newer["metadata"]["resourceVersion"] = "11"
        newer["metadata"]["annotations"]["results.tekton.dev/stored"] = "true"
        res = history.apply([RunUpsert(newer)])
        changed = history.changes_since(res.seq - 1)
        pane.refresh_from_store({r.id for r in changed.records}, {r.id for r in changed.results})
        await settle(pilot)
        assert "stored rv 11" in screen_text(app)
        assert yview.scroll_y == 10
        # unrelated changes do not reload
        loads = pane.views["yaml"]._gen
        pane.refresh_from_store({10_000}, {10_000})
        await settle(pilot)
        assert pane.views["yaml"]._gen == loads


async def test_fast_cursor_moves_show_the_last_one(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.switch_tab("yaml")
        for obj in (data.pr, data.clone, data.live_pr, data.test, data.live_tr, data.clone):
            pane.show_record(record_of(history, obj))
        await settle(pilot)
        assert pane.current_name == "build [linux]-clone"
        assert "  name: build [linux]-clone" in pane.views["yaml"].lines_view.plain_lines


async def test_ctrl_s_saves_yaml_and_reports_errors_in_words(setup, tmp_path: Path) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, data.pr))
        pane.switch_tab("yaml")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SaveDialog) and dialog.default == "./build_linux.yaml"
        target = tmp_path / "out" / "pr.yaml"
        field = dialog.query_one("#save-path")
        field.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert not target.exists()  # the folder does not exist: an error in words
        messages = [n.message for n in app._notifications]
        assert any(m.startswith(f"Could not save to {target}: No such file or directory") for m in messages)
        target.parent.mkdir()
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#save-path").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == pane.views["yaml"].text
        assert target.read_text(encoding="utf-8").startswith("apiVersion: tekton.dev/v1\nkind: PipelineRun\n")
        assert any(n.message == f"Saved YAML to {target}" for n in app._notifications)


async def test_footer_shows_the_pane_keys(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        app.pane.show_record(record_of(history, data.test))
        app.pane.switch_tab("logs")
        await settle(pilot)
        ids = {ab.binding.id for ab in app.screen.active_bindings.values()}
        assert {"detail.search", "detail.next_match", "detail.prev_match", "detail.wrap"} <= ids
        app.pane.switch_tab("yaml")
        await settle(pilot)
        ids = {ab.binding.id for ab in app.screen.active_bindings.values()}
        assert "detail.save_yaml" in ids and "detail.wrap" not in ids


async def test_log_and_eventlist_records_show_their_run(setup) -> None:
    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        log_rec = history.log_record_for(data.clone["metadata"]["uid"])
        pane.show_record(log_rec)
        pane.switch_tab("logs")
        await settle(pilot)
        assert [c.step for c in pane.views["logs"].choices] == ["clone"]
        assert pane.views["logs"].lines_view.plain_lines[0] == "+ git clone [linux]"
        events_rec = next(r for r in history.records_of(log_rec.result_id) if r.kind == "EventList")
        pane.show_record(events_rec)
        pane.switch_tab("events")
        await settle(pilot)
        assert "2 events about build [linux]" in screen_text(app)
        pane.switch_tab("summary")
        await settle(pilot)
        assert "EventList of build [linux]" in screen_text(app)


async def test_summary_that_cannot_be_made_says_why(setup, monkeypatch) -> None:
    """A Summary whose making fails (in the tab's worker) says so in words, instead of leaving the previous
    run's Summary on screen as if it were this one's."""
    from tekton_results_tui.tui.widgets import summary_view

    history, data = setup
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        app.pane.show_record(record_of(history, data.pr))
        await settle(pilot)
        assert "build [linux]" in "\n".join(app.pane.views["summary"].lines_view.plain_lines)

        real = summary_view.render_summary

        def broken(renderable, geometry):
            if threading.current_thread() is not threading.main_thread():  # the worker's making fails
                raise RuntimeError("no lines today")
            return real(renderable, geometry)

        monkeypatch.setattr(summary_view, "render_summary", broken)
        app.pane.show_result(history.get_result(id=record_of(history, data.pr).result_id))
        await settle(pilot)
        shown = "\n".join(app.pane.views["summary"].lines_view.plain_lines)
        assert "Could not load" in shown and "no lines today" in shown, shown
