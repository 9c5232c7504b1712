"""Bulk writing: apply(report=True) outcomes, ClassifiedRun, History.bulk (background checkpoints), schema v2."""

from __future__ import annotations

import json
import sqlite3
import time

import peewee as pw
import pytest
from schema_v1 import downgrade_to_v1
from store_objects import bump, pr, tr

from tekton_results_tui.store import db as dbmod
from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import SCHEMA_VERSION, is_sqlite, open_database
from tekton_results_tui.store.grouping import RESULT_ANNOTATIONS_INPUT, classify
from tekton_results_tui.store.history import ClassifiedRun, History, RunUpsert


def test_report_says_new_updated_unchanged_per_run(h: History) -> None:
    p = pr("p", rv=5)
    kids = [tr(f"t{i}", p, rv=6 + i) for i in range(3)]
    res = h.apply([RunUpsert(o) for o in (p, *kids)], report=True)
    assert sorted(res.outcomes.values()) == ["new"] * 4
    res = h.apply([RunUpsert(bump(p, 9)), RunUpsert(kids[0]), RunUpsert(bump(kids[1], 5))], report=True)
    assert res.outcomes == {p["metadata"]["uid"]: "updated", kids[0]["metadata"]["uid"]: "unchanged",
                            kids[1]["metadata"]["uid"]: "unchanged"}  # an older rv is not stored
    assert h.apply([RunUpsert(p)]).outcomes == {}  # only asked for


def test_labels_are_the_union_over_a_results_runs_in_one_big_batch(h: History) -> None:
    """One batch holding a parent and children with repeated and differing labels (the import's shape)."""
    p = pr("p", labels={"app": "web"})
    kids = [tr(f"t{i}", p, task=f"task-{i}", labels={"app": "web", "team": "a" if i else "b"}) for i in range(4)]
    h.apply([RunUpsert(o) for o in (p, *kids)])
    rid = h.get_result(uid=None, name=f"ci/results/{p['metadata']['uid']}").id
    got = {(k, v) for k, v in m.Label.select(m.Label.key, m.Label.value).where(m.Label.result == rid).tuples()}
    assert {("app", "web"), ("team", "a"), ("team", "b")} <= got
    assert {("tekton.dev/task", f"task-{i}") for i in range(4)} <= got
    assert h.count_results("label:team=b") == 1 and h.count_results("label:tekton.dev/task=task-3") == 1
    assert h.count_results("label:team=c") == 0


def test_a_classified_run_is_stored_from_its_text_as_run_upsert_would_store_the_object(h: History) -> None:
    """ClassifiedRun (the import's change: classified elsewhere, its text kept) keeps RunUpsert's semantics."""
    p = pr("p", rv=5, labels={"app": "web"}, annotations={RESULT_ANNOTATIONS_INPUT: "{broken"})
    kids = [tr(f"t{i}", p, rv=6 + i) for i in range(2)]
    texts = [json.dumps(o, separators=(",", ":")) for o in (p, *kids)]
    res = h.apply([ClassifiedRun(classify(json.loads(t)), t) for t in texts], report=True)
    assert res.stored == 3 and sorted(res.outcomes.values()) == ["new"] * 3
    assert len(res.warnings) == 1 and RESULT_ANNOTATIONS_INPUT in res.warnings[0]
    row = h.get_result(name=f"ci/results/{p['metadata']['uid']}")
    assert (row.status, row.display_name) == ("SUCCESS", "p")
    assert json.loads(h.record_data(h.get_record(uid=kids[1]["metadata"]["uid"]).id)) == kids[1]  # jsonb reorders keys
    assert h.count_results("label:app=web") == 1 and h.count_records("kind:taskrun") == 2
    # the same objects as RunUpserts are already current; a newer one as a ClassifiedRun updates
    assert set(h.apply([RunUpsert(json.loads(t)) for t in texts], report=True).outcomes.values()) == {"unchanged"}
    newer = json.dumps(bump(p, 9), separators=(",", ":"))
    assert h.apply([ClassifiedRun(classify(json.loads(newer)), newer)], report=True).outcomes == {
        p["metadata"]["uid"]: "updated"}
    assert h.get_record(uid=p["metadata"]["uid"]).rv == 9


def test_bulk_restores_sqlite_settings_and_keeps_each_apply_one_transaction(h: History) -> None:
    with h.bulk():
        h.apply([RunUpsert(pr("a"))])
        assert _other_connection_count(h) == 1  # committed by its own apply, visible at once
        with pytest.raises(TypeError):
            h.apply([RunUpsert(pr("b")), "not a change"])  # type: ignore[list-item]
        assert _other_connection_count(h) == 1  # the failed apply rolled back whole
    if is_sqlite(h.db):
        assert h.db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_bulk_on_sqlite_checkpoints_in_the_background(tmp_path) -> None:
    """The writer's own autocheckpoint is off in bulk, yet the database file fills: another connection copies."""
    path = tmp_path / "h.db"
    db = open_database(f"sqlite:///{path}")
    h = History(db)
    size0 = path.stat().st_size
    with h.bulk():
        assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        for i in range(20):
            h.apply([RunUpsert(pr(f"p{i}", labels={"n": "x" * 60}, annotations={"big": "y" * 20_000}))])
        deadline = time.monotonic() + 10
        while path.stat().st_size < size0 + 200_000 and time.monotonic() < deadline:
            time.sleep(0.01)  # nothing to await: the checkpointer polls on its own
        assert path.stat().st_size >= size0 + 200_000
    assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    c = sqlite3.connect(path)
    assert c.execute("SELECT COUNT(*) FROM record").fetchone()[0] == 20
    c.close()
    db.close()


def _other_connection_count(h: History) -> int:
    if is_sqlite(h.db):
        c = sqlite3.connect(h.db.database)
        try:
            return c.execute("SELECT COUNT(*) FROM record").fetchone()[0]
        finally:
            c.close()
    import psycopg2

    params = dict(h.db.connect_params)
    params.pop("options", None)
    conn = psycopg2.connect(dbname=h.db.database, **params, options=h.db.connect_params.get("options", ""))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM record")
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_v1_history_is_migrated_to_v2_keeping_its_labels(db_url: str) -> None:
    db = open_database(db_url)
    h = History(db)
    p = pr("p", labels={"app": "web"})
    h.apply([RunUpsert(p), RunUpsert(tr("t", p))])
    labels_before = sorted(m.Label.select(m.Label.result, m.Label.key, m.Label.value).tuples())
    downgrade_to_v1(db)  # the FK indexes v1 had, a rowid label table, version 1
    db.close()

    db = open_database(db_url)
    assert dbmod.schema_version(db) == SCHEMA_VERSION >= 2
    names = {i.name for t in ("record", "label") for i in db.get_indexes(t)}
    assert "record_result_id" not in names and "label_result_id" not in names
    assert "label_key_value_result_id" in names
    if is_sqlite(db):
        sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'label'").fetchone()[0]
        assert "WITHOUT ROWID" in sql.upper()
    assert sorted(m.Label.select(m.Label.result, m.Label.key, m.Label.value).tuples()) == labels_before
    h = History(db)
    assert h.count_results("label:app=web") == 1
    h.apply([RunUpsert(pr("q", labels={"app": "api"}))])  # the rebuilt table takes new rows
    assert h.count_results("label:app=api") == 1
    with pytest.raises(pw.IntegrityError):  # still a key: (result, key, value) once
        with db.atomic():
            db.execute_sql('INSERT INTO "label" ("result_id", "key", "value") VALUES (%s, %s, %s)'
                           .replace("%s", db.param), labels_before[0])
    db.close()


def test_a_watchers_batch_writes_every_statement_on_the_drivers_fast_path(h: History) -> None:
    """New runs, newer versions, a gone run seen again and a dump's copy: on PostgreSQL no upsert falls back
    to peewee's row-by-row build (a NULL parameter in the Record and Result upserts' SET did, ~5x slower);
    the same statement built once per shape (bulk_insert's key) still writes each batch's own rows."""
    from tekton_results_tui.store import sql
    from tekton_results_tui.store.history import Gone

    before = sql.slow_builds
    p = pr("p", rv=5, labels={"app": "web"})
    kids = [tr(f"t{i}", p, rv=6 + i) for i in range(3)]
    h.apply([RunUpsert(o) for o in (p, *kids)])
    h.apply([Gone(p["metadata"]["uid"], at=int(time.time()))])
    assert h.get_result(name=f"ci/results/{p['metadata']['uid']}").in_cluster is False
    h.apply([RunUpsert(bump(p, 20)), RunUpsert(bump(kids[0], 21))])  # seen again: in the cluster again
    h.apply([RunUpsert(bump(kids[1], 22))], imported=True)
    q = pr("q", rv=30, labels={"app": "api"})
    h.apply([RunUpsert(q)])
    assert sql.slow_builds == before
    assert h.get_result(name=f"ci/results/{p['metadata']['uid']}").in_cluster is True
    assert h.get_record(uid=p["metadata"]["uid"]).deleted_at is None
    assert h.count_results("label:app=web") == 1 and h.count_results("label:app=api") == 1
    assert h.get_record(uid=kids[1]["metadata"]["uid"]).rv == 22
