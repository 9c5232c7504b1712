"""Copy, $PAGER/$EDITOR, export, config.toml (theme, default filter, columns, keymap, saved filters)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tekton_results_tui.tui.config import COLUMN_NAMES, UiConfig, config_path, load_config
from tekton_results_tui.tui.widgets.results_tree import ResultItem

from .conftest import SIZE
from .test_app_tree import screen_text


def shown_rows(app):
    return [n.data.row for n in app.tree.root.children if isinstance(n.data, ResultItem)]


async def test_copy_name_uid_and_yaml(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        row = app.tree.cursor_node.data.row
        await pilot.press("c")
        assert app.clipboard == row.display_name
        await pilot.press("U")
        assert app.clipboard == row.uid
        await pilot.press("Y")
        assert app.clipboard.startswith("apiVersion: tekton.dev/v1\nkind: PipelineRun\n")
        assert f"namespace: {row.parent}\n" in app.clipboard


async def test_pager_without_a_terminal_says_where_the_text_is(make_app, monkeypatch) -> None:
    monkeypatch.setenv("PAGER", "cat")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        said = next(m for m in notes if "could not open $PAGER" in m)
        path = Path(said.rsplit("the text is in ", 1)[1])
        try:
            assert path.read_text().startswith("apiVersion: tekton.dev/v1")
        finally:
            path.unlink()


async def test_export_the_filtered_list_as_csv_and_json(make_app, tmp_path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"status:failed", "enter")
        want = app.history.count_results("status:failed")
        for name in ("out.csv", "out.json"):
            await pilot.press("x")
            dialog_input = app.screen.query_one("#path-input")
            dialog_input.value = str(tmp_path / name)
            await pilot.press("enter")
            await pilot.pause()
        with open(tmp_path / "out.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == want and {r["status"] for r in rows} == {"FAILURE"}
        data = json.loads((tmp_path / "out.json").read_text())
        assert [d["uid"] for d in data] == [r["uid"] for r in rows]


def test_config_file_is_read_and_problems_are_named(tmp_path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "tekton-results-tui" / "config.toml"
    assert config_path({"HOME": "/home/u"}) == Path("/home/u/.config/tekton-results-tui/config.toml")
    assert load_config(tmp_path / "missing.toml") == UiConfig(path=tmp_path / "missing.toml")
    p = tmp_path / "config.toml"
    p.write_text('theme = "nord"\nfilter = "status:failed"\ncolumns = ["pipeline", "bogus"]\nspeed = 3\n'
                 '[keymap]\n"app.tab_yaml" = "f2"\n[filters]\n"1" = "ns:ci"\n"2" = 5\n')
    cfg = load_config(p)
    assert cfg.theme == "nord" and cfg.filter == "status:failed" and cfg.columns == ("pipeline",)
    assert cfg.keymap == {"app.tab_yaml": "f2"} and cfg.saved_filters == {"1": "ns:ci"}
    assert any("bogus" in m for m in cfg.problems) and any("speed" in m for m in cfg.problems)
    assert any("[filters] 2" in m for m in cfg.problems)
    p.write_text("theme = ")
    assert "not TOML" in load_config(p).problems[0]
    assert UiConfig().columns == COLUMN_NAMES


async def test_config_applies_theme_filter_columns_keymap_and_saved_filters(make_app) -> None:
    cfg = UiConfig(theme="nord", filter="status:failed", columns=("namespace",),
                   keymap={"app.tab_yaml": "f2"}, saved_filters={"1": "ns:ci", "2": "ns:dev"})
    app = make_app(config=cfg)
    async with app.run_test(size=(200, 50)) as pilot:
        assert app.theme == "nord"
        assert app.filter_bar.text == "status:failed"
        assert shown_rows(app) and all(r.status == "FAILURE" for r in shown_rows(app))
        assert app.tree.line_layout.columns == ("namespace",)
        await pilot.press("f2")
        assert app.detail.active_tab == "yaml"
        app.tree.focus()
        await pilot.press("1")
        await pilot.pause(0.3)  # the filter bar's debounce does not apply: the filter is set at once
        await pilot.pause()
        assert app.filter_bar.text == "ns:ci"
        assert shown_rows(app) and all(r.parent == "ci" for r in shown_rows(app))
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Filter: ns:ci" in screen_text(app) and "Copy YAML" in screen_text(app)


async def test_bad_config_is_said_and_the_tui_opens(make_app) -> None:
    app = make_app(config=UiConfig(theme="no-such-theme", filter="statsu:x", problems=("x.toml: unknown setting",)))
    async with app.run_test(size=SIZE):
        notes = "\n".join(str(n.message) for n in app._notifications)
        assert "no-such-theme" in notes and "statsu" in notes and "unknown setting" in notes
        assert len(shown_rows(app)) == 50  # no filter applied
