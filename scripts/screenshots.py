#!/usr/bin/env python3
"""Write the README's SVG screenshots into screenshots/ from fixed demo data under a fixed clock.

The data is the TUI tests' fixed history (tests/tui/conftest.py: generated runs, fixed seed,
logs and events, some runs gone from the cluster), so the pictures match what the tests check.

usage: scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (130, 38)


def load_fixture_module():
    spec = importlib.util.spec_from_file_location("tui_fixed_data", ROOT / "tests" / "tui" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


async def shoot(db_url: str, out: Path, name: str, T0: int, steps, read_only: bool = False) -> None:
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History
    from tekton_results_tui.tui.app import ResultsApp

    db = open_database(db_url, read_only=read_only)
    app = ResultsApp(History(db, read_only=read_only, clock=lambda: T0), read_only=read_only,
                     clock=lambda: float(T0), live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await steps(app, pilot)
        await pilot.pause(0.3)  # let workers (YAML/logs loading) finish and paint
        await pilot.pause()
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
    db.close()
    print(f"wrote {out / (name + '.svg')}")


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
        db.close()

        async def expanded_failed(app, pilot):
            node, idx = failed_with_logs(app)
            app.tree.goto(node)
            await pilot.press("enter")
            for _ in range(idx + 1):  # the Result line, then its records in order
                await pilot.press("down")

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

        await shoot(url, out, "tree-expanded-failed-run", T0, expanded_failed)
        await shoot(url, out, "yaml-pane", T0, yaml_pane)
        await shoot(url, out, "logs-pane", T0, logs_pane)
        await shoot(url, out, "filter", T0, filter_in_use)
        await shoot(url, out, "help", T0, help_screen)
        await shoot(url, out, "read-only", T0, nothing, read_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
