"""Statistics read from the v3 writer-kept rows equal what the v2 reads (JSON per row) computed, on
SQLite and PostgreSQL: before the migration (a v2 history opened read-only), after its backfill,
and for rows the v3 writer wrote itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from insights_kit import T0, pipelinerun, store, taskrun
from test_stats import build_history

from tekton_results_tui.insights.stats import GROUP_KEYS, statistics
from tekton_results_tui.store import db as dbmod
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

_spec = importlib.util.spec_from_file_location("schema_v1", Path(__file__).parents[1] / "store" / "schema_v1.py")
assert _spec and _spec.loader
schema_v1 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema_v1)

SHA = "pipelinesascode.tekton.dev/sha"


def _flaky_history(h: History) -> None:
    """Same-revision pairs (by param and by PaC label), a TaskRun passed on its second attempt."""
    a = pipelinerun("fa", "ok", created=T0 - 900, start=T0 - 899, end=T0 - 800, revision="x1")
    b = pipelinerun("fb", "fail", created=T0 - 800, start=T0 - 799, end=T0 - 700, revision="x1")
    c = pipelinerun("fc", "ok", created=T0 - 700, start=T0 - 699, end=T0 - 600, labels={SHA: "y1"})
    d = pipelinerun("fd", "timeout", created=T0 - 600, start=T0 - 599, end=T0 - 500, labels={SHA: "y1"})
    store(h, a, b, c, d,
          taskrun(a, "unit", created=T0 - 899, start=T0 - 898, end=T0 - 850),
          taskrun(b, "unit", "fail", created=T0 - 799, start=T0 - 798, end=T0 - 750),
          taskrun(c, "lint", created=T0 - 699, start=T0 - 698, end=T0 - 650, failed_attempts=1, retries=2))


def _all_stats(h: History) -> dict:
    docs = {by: statistics(h, None, by).document() for by in GROUP_KEYS}
    docs["flaky-failed"] = statistics(h, "status:failed", "pipeline").document()
    docs["task-window"] = statistics(h, "since:1h", "task", since=None).document()
    docs["revision-key"] = statistics(h, None, "pipeline", revision_key="revision").document()
    return docs


def test_stats_equal_before_and_after_the_v3_backfill(db_url: str) -> None:
    db = open_database(db_url)
    h = History(db, clock=lambda: T0)
    build_history(h)
    _flaky_history(h)
    written_by_v3 = _all_stats(h)
    assert any(g["flaky"] for g in written_by_v3["pipeline"]["groups"])
    assert any(g["flaky"] for g in written_by_v3["task"]["groups"])
    schema_v1.downgrade_to_v2(db)
    db.close()

    db = open_database(db_url, read_only=True)  # v2 read as it is: the older reads
    try:
        assert not dbmod.has_run_stats(db)
        assert _all_stats(History(db, read_only=True, clock=lambda: T0)) == written_by_v3
    finally:
        db.close()

    db = open_database(db_url)  # migrated: the backfilled rows
    try:
        assert dbmod.has_run_stats(db)
        h = History(db, clock=lambda: T0)
        assert _all_stats(h) == written_by_v3
        # flaky:true (v3 only) selects the flaky runs — also d1, flaky through its retried TaskRun, which
        # statistics by pipeline do not count as a flaky PipelineRun — and by task the flaky runs' TaskRuns
        flaky = {g["key"]: (g["total"], g["flaky"]) for g in statistics(h, "flaky:true", "pipeline").document()["groups"]}
        assert flaky == {"build": (6, 6), "deploy": (1, 0)}  # b1 b2 (r1), fa fb (x1), fc fd (y1)
        tasks = {g["key"]: (g["total"], g["flaky"]) for g in statistics(h, "flaky:true", "task").document()["groups"]}
        assert tasks == {"compile": (2, 0), "test": (2, 2), "unit": (2, 2), "lint": (1, 1), "push": (1, 1)}
    finally:
        db.close()
