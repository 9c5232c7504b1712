"""`serve`'s filter on the pipeline label of Records: on SQLite it walks the pipeline column's index (the
column is that label's value) and still answers exactly what the objects' labels say, on both engines."""

from __future__ import annotations

import logging

import pytest
from store_objects import T0, pr, tr

from tekton_results_tui.api.cel_filter import compile_filter
from tekton_results_tui.store import api_reads
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.models import database_proxy

LONG = "p" * 254  # past the pipeline column's 253 characters (cut there: the column cannot answer for it)


def _objects() -> list[dict]:
    a = pr("a", pipeline="p", created=T0 - 900)
    b = pr("b", pipeline=None, created=T0 - 800)  # no label; its pipelineRef (and pipeline column) is "build"
    b["spec"]["pipelineRef"]["name"] = "p"  # ... now "p": the column says p, the label does not exist
    c = pr("c", pipeline="q", created=T0 - 700)
    d = pr("d", pipeline=LONG, created=T0 - 600)
    e = pr("e", pipeline="p", created=T0 - 500, labels={"tekton.dev/pipeline": ""})  # an empty label
    return [a, tr("a-1", a), tr("a-2", a), b, tr("b-1", b, labels={"tekton.dev/pipeline": "p"}),
            c, tr("c-1", c, labels={"tekton.dev/pipeline": "p"}), tr("c-2", c), d, tr("d-1", d), e, tr("e-1", e)]


def _page(cel: str, order: str = "create_time") -> set[str]:
    rows = api_reads.list_records(api_reads.Scope(), compile_filter(cel, "records"), order, True, None, 1000)
    return {r.uid for r in rows}


@pytest.mark.parametrize("order", ["create_time", "id"])
@pytest.mark.parametrize("values", [["p"], ["q"], ["p", "q"], [LONG], [""], ["nope"], ["p", LONG]])
def test_the_pipeline_label_filter_answers_what_the_labels_say(h: History, values: list[str], order: str) -> None:
    objs = _objects()
    h.apply([RunUpsert(o) for o in objs])
    want = {o["metadata"]["uid"] for o in objs if o["metadata"]["labels"].get("tekton.dev/pipeline") in values}
    quoted = ", ".join(f'"{v}"' for v in values)
    assert _page(f'data.metadata.labels["tekton.dev/pipeline"] in [{quoted}]', order) == want
    if len(values) == 1:
        assert _page(f'data.metadata.labels["tekton.dev/pipeline"] == "{values[0]}"', order) == want


def test_on_sqlite_a_page_by_creation_walks_the_pipeline_index(h: History, caplog: pytest.LogCaptureFixture) -> None:
    if not is_sqlite(h.db):
        pytest.skip("SQLite's plan (PostgreSQL's label plans: test_store_api_label_plans.py)")
    h.apply([RunUpsert(o) for o in _objects()])
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        _page('data.metadata.labels["tekton.dev/pipeline"] == "p"')
    sql, params = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and 'FROM "record"' in r.msg[0]][-1]
    plan = " ".join(str(row[-1]) for row in database_proxy.obj.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "record_pipeline_create_time_id" in plan, plan
