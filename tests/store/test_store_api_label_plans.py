"""PostgreSQL plans of `serve`'s label filter on Records (data.metadata.labels["k"] == "v").

The label's JSON is read from each stored object (a TOAST fetch and a decompression each), which the
planner neither prices nor can estimate (it takes a JSON equality for 1 row in 200). As a plain AND it
read every object of the table in a seq scan and sorted what matched: 1.2-1.8 s a page at 120k
records. The plan the store relies on: a common label walks the page order's index and reads the JSON
of matching Results' Records only (no sort, no seq scan of record); a rare one looks its Records up by
Result. Checked on a history of 1,200 Records with objects of real size, after optimize() as a writer
leaves it, and before any statistics exist (a fresh import)."""

from __future__ import annotations

import logging
import random
from typing import Any, Iterator

import pytest
from store_objects import T0, pr, tr

from tekton_results_tui.api.cel_filter import compile_filter
from tekton_results_tui.store import api_filter, api_reads
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.models import database_proxy

pytestmark = pytest.mark.postgres

RUNS = 400  # PipelineRuns, each with 2 TaskRuns: 1,200 Records
PIPELINES = [f"pipe-{i:02d}" for i in range(20)]  # each on 1 Result in 20: a common label


@pytest.fixture
def big(pg_url: str) -> Iterator[History]:
    from tekton_results_tui.store.db import open_database

    db = open_database(pg_url)
    h = History(db)
    rng = random.Random(5)
    objs = []
    for i in range(RUNS):
        # ~3 KB of incompressible text: objects as big as real runs', stored out of line as theirs are
        pad = {"example.com/notes": "%x" % rng.getrandbits(12_000)}
        p = pr(f"run-{i:04d}", pipeline=PIPELINES[i % len(PIPELINES)], created=T0 - 100_000 + 60 * i, annotations=pad)
        objs += [p, tr(f"run-{i:04d}-a", p, annotations=pad), tr(f"run-{i:04d}-b", p, task="golang-test",
                                                                  annotations=pad)]
    h.apply([RunUpsert(o) for o in objs])
    for cache in ("_shares", "_totals"):  # the label shares (which pick a plan) of an earlier history
        getattr(api_filter, cache, {}).clear()
    yield h
    db.close()


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _page_plan(caplog: pytest.LogCaptureFixture, cel: str, order: str, desc: bool) -> tuple[list[Any], list[dict]]:
    """The page of 50 the API lists for `cel`, and the nodes of PostgreSQL's plan for the SQL it ran."""
    node = compile_filter(cel, "records")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        rows = api_reads.list_records(api_reads.Scope(), node, order, desc, None, 51)
    sql, params = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and 'FROM "record"' in r.msg[0]][-1]
    (plan,) = database_proxy.obj.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    return rows, list(_nodes(plan["Plan"]))


def _scans_of_record(nodes: list[dict]) -> list[tuple[str, str | None]]:
    return [(n["Node Type"], n.get("Index Name")) for n in nodes if n.get("Relation Name") == "record"]


def _json_read_under_the_label_index(nodes: list[dict]) -> None:
    """The record scan reads an object's JSON only where the label index put its Result (a subplan answers
    that first: a hashed set, or a probe per Record for a label on most Results), however the planner
    walks the table."""
    (scan,) = [n for n in nodes if n.get("Relation Name") == "record"]
    assert scan.get("Filter", "").startswith(("CASE WHEN (hashed SubPlan", "CASE WHEN (SubPlan")), scan


@pytest.mark.parametrize("order,desc,index", [("id", False, "record_pkey"), ("create_time", True, "record_create_time_id")])
def test_a_common_label_walks_the_page_order(big: History, caplog: pytest.LogCaptureFixture,
                                             order: str, desc: bool, index: str) -> None:
    """After optimize(): the page order's index, stopped at the page's end (it was a seq scan reading every
    object, then a sort)."""
    big.optimize()
    rows, nodes = _page_plan(caplog, 'data.metadata.labels["tekton.dev/pipeline"] == "pipe-03"', order, desc)
    assert len(rows) == 51 and all('"pipe-03"' in r.data for r in rows)
    types = [n["Node Type"] for n in nodes]
    assert "Sort" not in types and "Seq Scan" not in types, types
    assert _scans_of_record(nodes) == [("Index Scan", index)], nodes
    (scan,) = [n for n in nodes if n.get("Relation Name") == "record"]
    assert scan["Filter"].startswith("CASE WHEN (hashed SubPlan"), scan  # 1 Result in 20: the set is small


@pytest.mark.parametrize("cel", ['data.metadata.labels["tekton.dev/pipeline"] == "pipe-03"',
                                 'data.metadata.labels.contains("tekton.dev/pipeline")'])
def test_without_statistics_a_common_label_still_reads_few_objects(big: History, caplog: pytest.LogCaptureFixture,
                                                                  cel: str) -> None:
    """Fresh tables (no ANALYZE yet): whichever walk the planner takes (a small table may be read whole
    and sorted), the JSON is read for matching Results' Records only (at 120k records the old plan walked
    the primary key reading every object it passed: 48 ms)."""
    rows, nodes = _page_plan(caplog, cel, "id", False)
    assert len(rows) == 51
    _json_read_under_the_label_index(nodes)


def test_a_label_on_most_results_probes_the_label_index_per_record(big: History,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A label on every Result: the walk finds a page within a few Records, so each one's Result is looked
    up in the label index (hashing the label's whole set first read it all: 62 ms at 20k Results)."""
    big.optimize()
    rows, nodes = _page_plan(caplog, 'data.metadata.labels["tekton.dev/task"] == "golang-build"', "id", False)
    assert len(rows) == 51 and all(r.kind == "TaskRun" for r in rows)
    assert _scans_of_record(nodes) == [("Index Scan", "record_pkey")], nodes
    (scan,) = [n for n in nodes if n.get("Relation Name") == "record"]
    assert scan.get("Filter", "").startswith("CASE WHEN (SubPlan"), scan
    assert "Sort" not in [n["Node Type"] for n in nodes]


def test_a_rare_label_looks_its_records_up_by_result(big: History, caplog: pytest.LogCaptureFixture) -> None:
    big.optimize()
    rows, nodes = _page_plan(caplog, 'data.metadata.labels["tekton.dev/pipelineRun"] == "run-0123"', "id", False)
    assert len(rows) == 3 and len({r.name.rsplit("/records/", 1)[0] for r in rows}) == 1
    assert _scans_of_record(nodes) == [("Index Scan", "record_result_id_start")], nodes
