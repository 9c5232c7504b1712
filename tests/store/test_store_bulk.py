"""Bulk writing: apply(report=True) outcomes, History.bulk (commit hook, background checkpoints), schema v2."""

from __future__ import annotations

import sqlite3
import time

import peewee as pw
import pytest
from store_objects import bump, pr, tr

from tekton_results_tui.store import db as dbmod
from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import SCHEMA_VERSION, is_sqlite, open_database
from tekton_results_tui.store.history import History, RunUpsert


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


def test_bulk_calls_the_hook_around_each_commit_and_restores_sqlite_settings(h: History) -> None:
    calls: list[tuple[bool, int]] = []

    def hook(committing: bool) -> None:
        # the batch is not visible to another connection before its COMMIT, and is after it
        calls.append((committing, _other_connection_count(h)))

    with h.bulk(while_committing=hook):
        h.apply([RunUpsert(pr("a"))])
        h.apply([RunUpsert(pr("b")), RunUpsert(pr("c"))])
    h.apply([RunUpsert(pr("d"))])  # outside bulk: no hook
    assert calls == [(True, 0), (False, 1), (True, 1), (False, 3)]
    if is_sqlite(h.db):
        assert h.db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_a_failed_apply_in_bulk_rolls_back_and_skips_the_hook(h: History) -> None:
    calls: list[bool] = []
    before = h.current_seq()
    with h.bulk(while_committing=calls.append):
        with pytest.raises(TypeError):
            h.apply([RunUpsert(pr("a")), "not a change"])  # type: ignore[list-item]
    assert calls == [] and h.current_seq() == before and h.size() == (0, 0)


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
    # make it look like a v1 history: the FK indexes v1 had, a rowid label table, version 1
    if is_sqlite(db):
        db.execute_sql('CREATE TABLE "label_old" ("result_id" INTEGER NOT NULL REFERENCES "result" ("id") '
                       'ON DELETE CASCADE, "key" VARCHAR(317) NOT NULL, "value" VARCHAR(255) NOT NULL, '
                       'PRIMARY KEY ("result_id", "key", "value"))')
        db.execute_sql('INSERT INTO "label_old" SELECT * FROM "label"')
        db.execute_sql('DROP TABLE "label"')
        db.execute_sql('ALTER TABLE "label_old" RENAME TO "label"')
    db.execute_sql('CREATE INDEX "record_result_id" ON "record" ("result_id")')
    db.execute_sql('CREATE INDEX "label_result_id" ON "label" ("result_id")')
    m.MetaKV.update(value="1").where(m.MetaKV.key == "schema_version").execute()
    db.close()

    db = open_database(db_url)
    assert dbmod.schema_version(db) == SCHEMA_VERSION == 2
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
