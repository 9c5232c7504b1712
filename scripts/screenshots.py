#!/usr/bin/env python3
"""Write the README's SVG screenshots into screenshots/ from fixed demo data under a fixed clock.

The data is the TUI tests' fixed history (tests/tui/conftest.py: generated runs, fixed seed,
logs and events, some runs gone from the cluster), so the pictures match what the tests check.

Each screen is shot at 80x24 (a laptop split: one pane at a time), 120x36 and 200x50 (side by side),
named <screen>-<cols>x<rows>.svg.

usage: scripts/screenshots.py [--out screenshots] [--only NAME] [--sizes 80x24,120x36,200x50]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((80, 24), (120, 36), (200, 50))


def load_fixture_module():
    sys.path.insert(0, str(ROOT / "tests"))  # the fixtures' helpers (tuikit) as pytest's rootdir conftest finds them
    spec = importlib.util.spec_from_file_location("tui_fixed_data", ROOT / "tests" / "tui" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


async def shoot(db_url: str, out: Path, name: str, T0: int, steps, read_only: bool = False,
                size: tuple[int, int] = SIZES[1]) -> None:
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History
    from tekton_results_tui.tui.app import ResultsApp

    db = open_database(db_url, read_only=read_only)
    app = ResultsApp(History(db, read_only=read_only, clock=lambda: T0), read_only=read_only,
                     clock=lambda: float(T0), live=False)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await steps(app, pilot)
        await settle(app, pilot)
        await pilot.pause(0.3)  # let the YAML/log views paint what their workers loaded
        await settle(app, pilot)
        fname = f"{name}-{size[0]}x{size[1]}.svg"
        app.save_screenshot(filename=fname, path=str(out))
    db.close()
    print(f"wrote {out / fname}")


async def settle(app, pilot) -> None:
    """Wait until the app applied the store reads it started (the tree, counts, detail tabs)."""
    for _ in range(3):
        await pilot.pause()
        await app.settle_reads()
    await pilot.pause()


SIX_TASKS = "release-six-tasks"  # tests/tui/conftest.py: add_six_task_run


def failed_with_logs(app):
    """The newest failed Result that has stored logs, and its failing TaskRun's index among its children."""
    for node in app.tree.root.children:
        row = getattr(node.data, "row", None)
        if row is None or row.status != "FAILURE":
            continue
        recs = app.history.records_of(row.id)
        if any(r.kind == "Log" for r in recs):
            for idx, r in enumerate(recs):
                if r.kind == "TaskRun" and r.status == "FAILURE":
                    return node, idx
    return None, 0


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "screenshots"))
    ap.add_argument("--only", help="one screen by name")
    ap.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_fixture_module()
    T0 = data.T0

    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History

    with tempfile.TemporaryDirectory() as tmp:
        url = "sqlite:///" + str(Path(tmp) / "demo.db")
        db = open_database(url)
        data.fill_history(History(db, clock=lambda: T0))
        data.add_six_task_run(History(db, clock=lambda: T0))
        db.close()

        async def expanded_failed(app, pilot):
            node, idx = failed_with_logs(app)
            app.tree.goto(node)
            await pilot.press("enter")
            await settle(app, pilot)
            for _ in range(idx + 1):  # the Result line, then its records in order
                await pilot.press("down")

        async def summary_six(app, pilot):
            for node in app.tree.root.children:
                if getattr(node.data, "row", None) is not None and node.data.row.display_name == SIX_TASKS:
                    app.tree.goto(node)
            await settle(app, pilot)
            if app.narrow:
                await pilot.press("tab")
                await settle(app, pilot)
                app.detail.query_one("#summary-scroll").scroll_end(animate=False)  # the TaskRuns table

        async def yaml_pane(app, pilot):
            await expanded_failed(app, pilot)
            await pilot.press("y")

        async def logs_pane(app, pilot):
            await expanded_failed(app, pilot)
            await pilot.press("l")

        async def filter_in_use(app, pilot):
            await pilot.press("slash", *"status:failed since:1d", "enter")

        async def help_screen(app, pilot):
            await pilot.press("question_mark")

        async def nothing(app, pilot):
            return None

        shots = [("tree-expanded-failed-run", expanded_failed, False), ("summary-6-taskruns", summary_six, False),
                 ("yaml-pane", yaml_pane, False), ("logs-pane", logs_pane, False),
                 ("filter", filter_in_use, False), ("help", help_screen, False), ("read-only", nothing, True)]
        sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",")]
        for name, steps, ro in shots:
            if a.only and a.only != name:
                continue
            for size in sizes:
                await shoot(url, out, name, T0, steps, read_only=ro, size=size)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
