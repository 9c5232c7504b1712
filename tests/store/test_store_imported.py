"""The imported mark (schema v5): runs an import created say "never seen in a cluster" until a watcher
(or a Results source) writes them, whatever resourceVersion it writes; an import never unsees a run."""

from __future__ import annotations

import sqlite3

from store_objects import bump, pr, tr

from tekton_results_tui.store.db import SCHEMA_VERSION, open_database, schema_version
from tekton_results_tui.store.history import History, RunUpsert


def test_an_import_marks_the_runs_it_creates(h: History, clock) -> None:
    p = pr("build-1", rv=5)
    h.apply([RunUpsert(p), RunUpsert(tr("build-1-clone", p, rv=6))], imported=True)
    for uid in (p["metadata"]["uid"],):
        rec = h.get_record(uid=uid)
        assert h.imported_at(rec.id) == int(clock.now)
    assert all(h.imported_at(r.id) == int(clock.now) for r in h.records_of(h.get_record(uid=p["metadata"]["uid"]).result_id))


def test_a_watcher_write_clears_the_mark_at_the_same_and_at_a_newer_version(h: History, clock) -> None:
    a, b = pr("a", rv=5), pr("b", rv=5)
    h.apply([RunUpsert(a), RunUpsert(b)], imported=True)
    seq = h.changes_since(0).seq
    clock.now += 60
    h.apply([RunUpsert(a), RunUpsert(bump(b, 9))])  # a relist: a as imported (equal rv), b newer
    for obj in (a, b):
        assert h.imported_at(h.get_record(uid=obj["metadata"]["uid"]).id) is None
    changed = {r.uid for r in h.changes_since(seq).records}
    assert {a["metadata"]["uid"], b["metadata"]["uid"]} <= changed  # the tree hears of it


def test_an_import_does_not_unsee_a_watched_run(h: History) -> None:
    a = pr("a", rv=5)
    h.apply([RunUpsert(a)])
    fresh_pr = pr("fresh", rv=3)
    h.apply([RunUpsert(bump(a, 7)), RunUpsert(fresh_pr)], imported=True)
    rec = h.get_record(uid=a["metadata"]["uid"])
    assert rec.rv == 7 and h.imported_at(rec.id) is None
    fresh = h.get_record(uid=fresh_pr["metadata"]["uid"])
    assert h.imported_at(fresh.id) is not None  # the same batch still marks the run it created


def test_a_watcher_batch_without_imported_runs_writes_nothing_more(h: History) -> None:
    a = pr("a", rv=5)
    h.apply([RunUpsert(a)])
    res = h.apply([RunUpsert(a)])  # the same version again: nothing to clear, nothing changed
    assert res.changed == 0


def test_a_v4_history_reads_without_the_mark_and_migrates_when_opened_to_write(tmp_path) -> None:
    path = tmp_path / "h.db"
    db = open_database(f"sqlite:///{path}")
    History(db).apply([RunUpsert(pr("old", rv=5))], imported=True)
    db.close()
    con = sqlite3.connect(path)  # make it a v4 file: no column, version 4
    con.execute('ALTER TABLE "record" DROP COLUMN "imported_at"')
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    ro = open_database(f"sqlite:///{path}", read_only=True)
    rh = History(ro)
    rec = rh.records_of(rh.list_results().items[0].id)[0]
    assert rh.imported_at(rec.id) is None  # read as it is: no column, no error
    ro.close()
    rw = open_database(f"sqlite:///{path}")
    assert schema_version(rw) == SCHEMA_VERSION >= 5
    assert History(rw).imported_at(rec.id) is None  # rows stored before v5: taken as seen
    rw.close()
