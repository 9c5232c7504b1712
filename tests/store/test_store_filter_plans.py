"""Filter plans for a million records, on SQLite and PostgreSQL: a bounded ("≥ N") count driven by a
label's index agrees with the exact count for every limit, reads the label index joined (not copied
into a temporary list first), and case-insensitive matching keeps its meaning where SQLite reads the
column without LOWER()."""

from __future__ import annotations

import logging

import pytest
from store_objects import T0, pr, tr

from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.models import database_proxy
from tekton_results_tui.store.query import parse_filter


def _history(h: History) -> None:
    """12 Results: team web/api alternating, every third failed, pipelines build-x / Deploy-y / nightly-z;
    TaskRuns repeat their parent's labels and add several values of tekton.dev/task (label:k matches many)."""
    objs = []
    for i in range(12):
        team = "web" if i % 2 == 0 else "api"
        pipeline = ("build-x", "Deploy-y", "nightly-z")[i % 3]
        failed = i % 3 == 1
        p = pr(f"run-{i:02d}", pipeline=pipeline, labels={"team": team, "tier": str(i % 4)}, created=T0 - 1000 + i,
               cond="False" if failed else "True", reason="Failed" if failed else "Succeeded")
        objs += [p, tr(f"run-{i:02d}-a", p, task="git-clone", labels={"team": team}),
                 tr(f"run-{i:02d}-b", p, task="golang-build", labels={"team": team})]
    h.apply([RunUpsert(o) for o in objs])


FILTERS = [
    "label:team=web",
    "label:team=web status:failed",
    "label:team=web label:tier=0",
    "label:team=web -label:tier=2",
    "-label:team=web label:tier=1",
    "label:team=web nightly",
    "label:tekton.dev/task=golang-build",
    "label:tekton.dev/task",
    "label:team=nobody",
    "label:team=web pipeline:deploy-*",
    "label:team=web since:2d",
    "nightly", "NIGHTLY-Z", "run-0", "ightly status:succeeded", "-nightly run-1", "zzz", "run label:tier=3",
    "un-", "ni",
]


@pytest.mark.parametrize("text", FILTERS)
def test_bounded_count_agrees_with_the_exact_count(h: History, text: str) -> None:
    _history(h)
    n = h.count_results(text)
    assert n == len(h.list_results(text, limit=100).items)
    for limit in sorted({0, 1, 2, max(n - 1, 0), n, n + 1, 100}):
        assert h.count_results(text, limit=limit) == (min(n, limit), n <= limit), limit


def test_the_label_driver_is_a_positive_key_value_term() -> None:
    for text, want in [("label:team=web", ("team", "web")), ("status:failed label:a=b label:c=d", ("a", "b")),
                       ("-label:team=web", None), ("label:team", None), ("label:team!=web", None),
                       ("label:k=v=w", ("k", "v=w")), ("status:failed", None)]:
        got = parse_filter(text).driving_label()
        assert (got[1:] if got else None) == want, text


def test_bounded_label_count_reads_the_label_index_joined(h: History, caplog: pytest.LogCaptureFixture) -> None:
    """The plan SQLite makes for the count the store runs: the label index drives it, no list of the
    whole set first."""
    _history(h)
    db = database_proxy.obj
    if not is_sqlite(db):
        pytest.skip("PostgreSQL plans IN and the join alike (a semi-join); its plan is its own")
    f = parse_filter("label:team=web status:failed", now=T0)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert h.count_results(f, limit=1000) == (2, True)
    sql, params = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and "COUNT" in r.msg[0]][-1]
    plan = " | ".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert "label_key_value_result_id" in plan and "LIST SUBQUERY" not in plan, plan


def test_bounded_word_count_reads_the_name_index_joined(h: History, caplog: pytest.LogCaptureFixture) -> None:
    """SQLite: a bare word's bounded count reads the FTS5 trigram table's matches as they come."""
    _history(h)
    db = database_proxy.obj
    if not is_sqlite(db):
        pytest.skip("PostgreSQL reads the word through its pg_trgm indexes as it plans")
    f = parse_filter("nightly status:succeeded", now=T0)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert h.count_results(f, limit=1) == (1, False)
    sql, params = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and "COUNT" in r.msg[0]][-1]
    plan = " | ".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert "VIRTUAL TABLE" in plan and "LIST SUBQUERY" not in plan, plan


@pytest.mark.parametrize("text, want", [
    ("pipeline:deploy-*", 4), ("pipeline:DEPLOY-*", 4), ("pipeline:*-Y", 4), ("pipeline:build-*,nightly-*", 8),
    ("DEPLOY", 4), ("run-0", 10), ("RUN-1", 2), ("-pipeline:deploy-*", 8),
])
def test_case_insensitive_matching_on_both_engines(h: History, text: str, want: int) -> None:
    _history(h)
    assert h.count_results(text) == want
    assert len(h.list_results(text, limit=100).items) == want
    assert h.count_results(text, limit=3) == (min(want, 3), want <= 3)


def test_postgresql_keeps_statistics_on_label_pairs(h: History) -> None:
    """optimize() gives PostgreSQL statistics on label (key, value) pairs, which are far from independent;
    twice is harmless."""
    db = database_proxy.obj
    if is_sqlite(db):
        pytest.skip("SQLite's planner reads the label index's own statistics (PRAGMA optimize)")
    _history(h)
    h.optimize()
    h.optimize()
    rows = db.execute_sql("SELECT stxkind FROM pg_statistic_ext WHERE stxname = 'label_key_value' "
                          "AND stxnamespace = current_schema()::regnamespace").fetchall()
    assert len(rows) == 1 and "m" in str(rows[0][0])
    assert h.count_results("label:team=web") == 6 and h.count_results("label:team=web", limit=2) == (2, False)


def test_sqlite_keeps_statistics_on_results(h: History) -> None:
    """optimize() leaves SQLite statistics for `result` (none while it is empty), taken once."""
    db = database_proxy.obj
    if not is_sqlite(db):
        pytest.skip("PostgreSQL's ANALYZE covers result")

    def result_stats() -> list:
        if not db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return []
        return db.execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'result'").fetchall()

    h.optimize()
    assert result_stats() == []
    _history(h)
    h.optimize()
    first = result_stats()
    assert first and any(idx == "result_summary_status_sort_time" for idx, _ in first)
    h.apply([RunUpsert(pr(f"more-{i}", created=T0 - i)) for i in range(20)])
    h.optimize()
    assert result_stats() == first  # not taken again on every optimize
