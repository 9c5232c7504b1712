"""Schema v3 for a million records, on SQLite and PostgreSQL: writer-kept statistics rows (run_stat)
and source columns, the bare word's trigram index, quick counts, `flaky:`, the v2 -> v3 migration
and its backfill, and read-only opening of a v2 history (never migrated)."""

from __future__ import annotations

import peewee as pw
import pytest
from schema_v1 import downgrade_to_v2
from store_objects import T0, bump, pr, tr

from tekton_results_tui.store import db as dbmod
from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import SCHEMA_VERSION, is_sqlite, open_database
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.query import FilterError, parse_filter

SHA = "pipelinesascode.tekton.dev/sha"
REPO = "pipelinesascode.tekton.dev/repository"


def _stats_rows() -> list[tuple]:
    q = m.RunStat.select(m.RunStat.id, m.RunStat.result, m.RunStat.kind, m.RunStat.cluster, m.RunStat.parent,
                         m.RunStat.run_name, m.RunStat.status, m.RunStat.reason, m.RunStat.created, m.RunStat.start,
                         m.RunStat.end, m.RunStat.duration, m.RunStat.pipeline, m.RunStat.pipeline_task,
                         m.RunStat.task, m.RunStat.top_level, m.RunStat.retries)
    return sorted(tuple(r) for r in q.tuples())


def _from_records() -> list[tuple]:
    """What run_stat must hold: the run Records' own columns (retries aside)."""
    q = m.Record.select(m.Record.id, m.Record.result, m.Record.kind, m.Record.cluster, m.Record.parent,
                        m.Record.run_name, m.Record.status, m.Record.reason, m.Record.create_time, m.Record.start,
                        m.Record.end, m.Record.duration, m.Record.pipeline, m.Record.pipeline_task, m.Record.task,
                        m.Record.top_level).where(m.Record.kind << ["PipelineRun", "TaskRun", "CustomRun"])
    return sorted(tuple(r) for r in q.tuples())


def _retried(parent: dict, name: str, attempts: int, cond: str = "True", reason: str = "Succeeded") -> dict:
    t = tr(name, parent, pipeline_task=name.rsplit("-", 1)[-1], task="golang-build", cond=cond, reason=reason)
    t["status"]["retriesStatus"] = [{"conditions": [{"type": "Succeeded", "status": "False"}]}] * attempts
    return t


def _history_with_sources(h: History) -> dict[str, dict]:
    """Three runs of pipeline build on revision r1 (ok, failed, ok through a retried TaskRun), one on r2
    named by the PaC sha label with a repository label, one with no revision at all."""
    a = pr("build-a", labels={SHA: "r1"}, created=T0 - 500)
    b = pr("build-b", cond="False", reason="Failed", labels={SHA: "r1"}, created=T0 - 400)
    c = pr("build-c", annotations={SHA: "r2"}, labels={REPO: "repo-x"}, created=T0 - 300)
    d = pr("Nightly-Deploy", pipeline="deploy", created=T0 - 200)
    d["spec"]["params"] = [{"name": "repo-url", "value": "https://git.example.com/d.git"}]
    kids = [tr("build-a-unit", a, pipeline_task="unit", task="golang-test"),
            tr("build-b-unit", b, pipeline_task="unit", task="golang-test", cond="False", reason="Failed"),
            _retried(c, "build-c-unit", 2), tr("nightly-deploy-push", d, pipeline_task="push", task="kaniko")]
    h.apply([RunUpsert(o) for o in (a, b, c, d, *kids)])
    return {"a": a, "b": b, "c": c, "d": d}


def test_writer_keeps_run_stats_and_sources(h: History) -> None:
    objs = _history_with_sources(h)
    assert _stats_rows() and [r[:-1] for r in _stats_rows()] == _from_records()
    retries = {name: n for name, n in m.RunStat.select(m.RunStat.run_name, m.RunStat.retries).tuples()}
    assert retries["build-c-unit"] == 2 and retries["build-a-unit"] == 0
    src = {r.display_name: (r.revision, r.repository) for r in m.Result.select()}
    # the sha label, else the revision param (the store_objects default is "main"), else the annotation
    assert src["build-a"] == ("r1", None)
    assert src["build-c"] == ("main", "repo-x")  # the param comes before the annotation
    assert src["Nightly-Deploy"] == (None, "https://git.example.com/d.git")
    # an update rewrites the row in the same transaction; an older version changes nothing
    h.apply([RunUpsert(bump(objs["a"], 50, cond="False", reason="Failed"))])
    h.apply([RunUpsert(bump(objs["a"], 40))])
    assert [r[:-1] for r in _stats_rows()] == _from_records()
    assert m.RunStat.get(m.RunStat.run_name == "build-a").status == "FAILURE"


def test_prune_removes_run_stats(h: History) -> None:
    _history_with_sources(h)
    h.prune(ended_before=T0 + 10)
    assert m.Record.select().count() == 0
    assert m.RunStat.select().count() == 0


def test_quick_count_stops_at_the_limit(h: History) -> None:
    h.apply([RunUpsert(pr(f"r{i}", created=T0 - i)) for i in range(7)])
    assert h.count_results() == 7
    assert h.count_results("", limit=3) == (3, False)
    assert h.count_results("", limit=7) == (7, True)
    assert h.count_results("", limit=100) == (7, True)
    assert h.count_results("status:failed", limit=1) == (0, True)
    assert h.count_results("", limit=0) == (0, False)


@pytest.mark.parametrize("word, expected", [
    ("nightly", {"Nightly-Deploy"}), ("NIGHT", {"Nightly-Deploy"}), ("deploy", {"Nightly-Deploy"}),
    ("build-", {"build-a", "build-b", "build-c"}), ("ld-b", {"build-b"}), ("ui", {"build-a", "build-b", "build-c"}),
    ("ghtly-d", {"Nightly-Deploy"}), ('a"b', set()), ("%", set()), ("_", set()), ("d-a", {"build-a"}),
])
def test_bare_word_matches_a_substring_of_name_or_pipeline(h: History, word: str, expected: set[str]) -> None:
    _history_with_sources(h)
    flt = parse_filter('"' + word.replace('"', '\\"') + '"')
    got = {r.display_name for r in h.list_results(flt, limit=100).items}
    assert got == expected
    assert h.count_results(flt) == len(expected)


def test_bare_word_follows_renames_and_deletes(h: History) -> None:
    a = pr("alpha-run", pipeline="alpha")
    h.apply([RunUpsert(a)])
    assert h.count_results("alpha") == 1
    renamed = bump(a, 5)
    renamed["metadata"]["labels"]["tekton.dev/pipeline"] = "omega"
    h.apply([RunUpsert(renamed)])
    assert h.count_results("omega") == 1 and h.count_results("alpha") == 1  # still in the run's name
    assert h.count_results("lpha-ru") == 1
    h.prune(ended_before=T0 + 10)
    assert h.count_results("alpha") == 0 and h.count_results("omega") == 0
    h.apply([RunUpsert(pr("beta-run", pipeline="beta"))])  # a new Result may reuse nothing stale
    assert h.count_results("alpha") == 0 and h.count_results("beta") == 1


def _names_found(h: History) -> dict[str, int]:
    return {w: h.count_results(w) for w in ("alpha", "beta", "gamma", "child", "run-1", "nomatch")}


def test_the_name_index_is_exact_after_every_kind_of_write(h: History) -> None:
    """New Results are indexed by the writer after each insert (schema v8, no AFTER INSERT trigger): the FTS5
    index agrees with its Result rows (FTS5's own integrity-check against the content) after child-first
    Results, several Results in one statement, renames, a bulk import, and a prune; counts equal a scan."""
    if not is_sqlite(h.db):
        pytest.skip("the FTS5 name index is SQLite's")
    t = dbmod.NAME_FTS
    assert not h.db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (f"{t}_ai",)).fetchone()
    a = pr("alpha-run-1", pipeline="alpha")
    orphan = tr("child-only-run", pr("gamma-run-9", pipeline="gamma"))  # its Result exists before its run
    h.apply([RunUpsert(a), RunUpsert(orphan)])
    with h.bulk():
        h.apply([RunUpsert(pr(f"beta-run-{i}", pipeline="beta")) for i in range(30)])
    h.apply([RunUpsert(bump(a, 7)), RunUpsert(pr("gamma-run-9", pipeline="gamma"))])  # the orphan's run arrives
    renamed = bump(a, 9)
    renamed["metadata"]["labels"]["tekton.dev/pipeline"] = "omega"
    h.apply([RunUpsert(renamed)])

    def agree() -> None:
        h.db.execute_sql(f"INSERT INTO {t}({t}, rank) VALUES ('integrity-check', 1)")  # raises if not
        rows = list(m.Result.select(m.Result.display_name, m.Result.pipeline).tuples())
        for w, n in _names_found(h).items():
            assert n == sum(1 for d, p in rows if w in (d or "").lower() or w in (p or "").lower()), w

    agree()
    assert h.count_results("beta") == 30 and h.count_results("omega") == 1
    h.prune(ended_before=T0 + 10)
    agree()


def test_the_v8_migration_keeps_the_name_index(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A v7 history (new Results indexed by a trigger) migrated to v8 keeps an exact index and indexes the
    Results written after it."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the FTS5 name index is SQLite's")
    db = open_database(db_url)
    h = History(db)
    h.apply([RunUpsert(pr("alpha-run-1", pipeline="alpha"))])
    t = dbmod.NAME_FTS
    db.execute_sql(f"CREATE TRIGGER {t}_ai AFTER INSERT ON result BEGIN INSERT INTO {t}(rowid, display_name, "
                   "pipeline) VALUES (new.id, new.display_name, new.pipeline); END")  # as v3..v7 made it
    m.MetaKV.update(value="7").where(m.MetaKV.key == "schema_version").execute()
    from tekton_results_tui.store import ingest

    with monkeypatch.context() as mp:  # a v7 writer: the trigger indexes, the writer does not
        mp.setattr(ingest, "index_new_result_names", lambda db, newest: None)
        h.apply([RunUpsert(pr("beta-run-1", pipeline="beta"))])
    db.execute_sql(f"INSERT INTO {t}({t}, rank) VALUES ('integrity-check', 1)")
    db.close()
    db = open_database(db_url)
    assert dbmod.schema_version(db) == SCHEMA_VERSION
    h = History(db)
    h.apply([RunUpsert(pr("gamma-run-1", pipeline="gamma"))])  # written by the writer
    db.execute_sql(f"INSERT INTO {t}({t}, rank) VALUES ('integrity-check', 1)")
    assert [h.count_results(w) for w in ("alpha", "beta", "gamma")] == [1, 1, 1]
    db.close()


def test_name_index_exists(h: History) -> None:
    db = h.db
    if is_sqlite(db):
        assert db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (dbmod.NAME_FTS,)).fetchone()
        sql, params = m.Result.select(m.Result.id).where(parse_filter("nightly").for_results()).sql()
        plan = " ".join(str(r) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert dbmod.NAME_FTS in plan and "VIRTUAL TABLE" in plan
        return
    if dbmod.pg_trgm_schema(db) is None:
        pytest.skip("pg_trgm cannot be installed on this server: the bare word scans")
    names = {i.name for i in db.get_indexes("result")}
    assert {"result_display_name_trgm", "result_pipeline_trgm"} <= names


def test_flaky_filter(h: History) -> None:
    _history_with_sources(h)
    flaky = {r.display_name for r in h.list_results("flaky:true", limit=100).items}
    # a and b: same pipeline and revision, other outcomes; c: its TaskRun passed on a retry
    assert flaky == {"build-a", "build-b", "build-c"}
    assert {r.display_name for r in h.list_results("-flaky:true", limit=100).items} == {"Nightly-Deploy"}
    assert {r.display_name for r in h.list_results("flaky:false", limit=100).items} == {"Nightly-Deploy"}
    assert h.count_results("flaky:yes status:failed") == 1
    runs = {r.run_name for r in h.list_records("flaky:true kind:taskrun", limit=100).items}
    assert runs == {"build-a-unit", "build-b-unit", "build-c-unit"}
    with pytest.raises(FilterError, match="flaky:true or flaky:false"):
        parse_filter("flaky:maybe")


def test_flaky_filter_same_pipeline_task_on_one_revision(h: History) -> None:
    """Both runs succeeded overall (a finally-style pass) yet their `unit` task both failed and passed."""
    a = pr("p-a", labels={SHA: "r9"})
    b = pr("p-b", labels={SHA: "r9"})
    other = pr("p-c", labels={SHA: "r8"})
    h.apply([RunUpsert(o) for o in (
        a, b, other, tr("p-a-unit", a, pipeline_task="unit"),
        tr("p-b-unit", b, pipeline_task="unit", cond="False", reason="Failed"),
        tr("p-c-unit", other, pipeline_task="unit", cond="False", reason="Failed"))])
    assert {r.display_name for r in h.list_results("flaky:true", limit=10).items} == {"p-a", "p-b"}


def _downgraded(db_url: str) -> tuple[list[tuple], dict]:
    db = open_database(db_url)
    h = History(db, clock=lambda: T0)
    _history_with_sources(h)
    before = {"stats": _stats_rows(), "src": sorted(m.Result.select(m.Result.id, m.Result.revision, m.Result.repository).tuples()),
              "flaky": h.count_results("flaky:true"), "words": h.count_results("build")}
    downgrade_to_v2(db)
    db.close()
    return before["stats"], before


def test_v2_history_is_migrated_to_v3_with_a_backfill(db_url: str) -> None:
    stats, before = _downgraded(db_url)
    db = open_database(db_url)
    try:
        assert dbmod.schema_version(db) == SCHEMA_VERSION >= dbmod.RUN_STATS_VERSION
        assert _stats_rows() == stats  # retries read back from the stored objects
        assert sorted(m.Result.select(m.Result.id, m.Result.revision, m.Result.repository).tuples()) == before["src"]
        h = History(db, clock=lambda: T0)
        assert h.count_results("flaky:true") == before["flaky"] == 3
        assert h.count_results("build") == before["words"] == 3
        h.apply([RunUpsert(pr("build-new"))])  # the migrated database keeps them up to date
        assert h.count_results("build") == 4 and [r[:-1] for r in _stats_rows()] == _from_records()
    finally:
        db.close()


def test_read_only_v2_history_is_read_without_v3(db_url: str) -> None:
    _downgraded(db_url)
    db = open_database(db_url, read_only=True)
    try:
        assert dbmod.schema_version(db) == 2 and not dbmod.has_run_stats(db)
        h = History(db, read_only=True, clock=lambda: T0)
        assert h.count_results("build") == 3  # the word scans: no trigram table here
        assert h.count_results("nightly", limit=10) == (1, True)
        assert {r.display_name for r in h.list_results("ui", limit=10).items} == {"build-a", "build-b", "build-c"}
        with pytest.raises(FilterError, match="older history"):
            h.count_results("flaky:true")
        assert not db.table_exists("run_stat")  # never migrated
    finally:
        db.close()


def test_migration_is_one_transaction(db_url: str) -> None:
    """A failing backfill leaves the v2 history as it was (the version row included)."""
    _downgraded(db_url)
    db = open_database(db_url, migrate=False)
    real = dbmod.MIGRATIONS[2]

    def broken(d: pw.Database) -> None:
        real(d)
        raise pw.OperationalError("disk full")

    dbmod.MIGRATIONS[2] = broken
    try:
        with pytest.raises(pw.OperationalError):
            dbmod.run_migrations(db)
    finally:
        dbmod.MIGRATIONS[2] = real
    assert dbmod.schema_version(db) == 2
    assert "revision" not in {c.name for c in db.get_columns("result")}
    db.close()


@pytest.mark.parametrize("limit", [0, 10**9])  # every set large (walk newest-first), every set small (read the set)
def test_label_and_word_plans_give_the_same_rows(h: History, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    from tekton_results_tui.store import query

    monkeypatch.setattr(query, "small_set_limit", lambda n: limit)
    query._small_set.cache_clear()
    _history_with_sources(h)
    h.apply([RunUpsert(pr("web-1", labels={"team": "web"})), RunUpsert(pr("web-2", labels={"team": "web"}))])
    try:
        for flt, want in [("label:team=web", {"web-1", "web-2"}), ("label:team", {"web-1", "web-2"}),
                          ("-label:team=web build", {"build-a", "build-b", "build-c"}),
                          ("nightly", {"Nightly-Deploy"}), ("web status:succeeded", {"web-1", "web-2"})]:
            page = h.list_results(flt, limit=1)
            rest = h.list_results(flt, page_token=page.next_token, limit=100) if page.next_token else None
            got = {r.display_name for r in page.items} | ({r.display_name for r in rest.items} if rest else set())
            assert got == want, flt
            assert h.count_results(flt) == len(want) and h.count_results(flt, limit=1) == (1, len(want) == 1)
    finally:
        query._small_set.cache_clear()


def test_flaky_among_a_page_agrees_with_the_filter(h: History) -> None:
    """The tree's flaky marks ask only of the loaded Results (History.flaky_among): the same answer as the
    `flaky:true` filter over the whole history, for every subset asked."""
    _history_with_sources(h)
    a = pr("p-a", labels={SHA: "r9"})
    b = pr("p-b", labels={SHA: "r9"})
    solo = pr("p-solo", labels={SHA: "r7"})  # its task failed and passed, but its revision was built once
    h.apply([RunUpsert(o) for o in (a, b, solo, tr("p-a-unit", a, pipeline_task="unit"),
                                     tr("p-b-unit", b, pipeline_task="unit", cond="False", reason="Failed"),
                                     tr("p-solo-unit-1", solo, pipeline_task="unit", cond="False", reason="Failed"),
                                     tr("p-solo-unit-2", solo, pipeline_task="unit"))])
    every = h.list_results(limit=100).items
    flaky = {r.id for r in h.list_results("flaky:true", limit=100).items}
    names = {r.id: r.display_name for r in every}
    assert {names[i] for i in flaky} == {"build-a", "build-b", "build-c", "p-a", "p-b"}
    ids = [r.id for r in every]
    assert h.flaky_among(ids) == flaky
    assert h.flaky_among(ids[::2]) == flaky & set(ids[::2])
    assert h.flaky_among([]) == set()
    assert h.flaky_among([max(ids) + 1000]) == set()  # an id no longer stored


def test_release_connection_keeps_a_sqlite_reader_s_and_returns_others(h: History) -> None:
    """TUI reader threads release their connection after each read: SQLite keeps it for the thread's next
    read (opening it again cost ~10 ms a read), PostgreSQL's goes back to the pool; a failed read's is
    closed on both (it is not reused)."""
    h.list_results(limit=5)
    h.release_connection()
    assert h.db.is_closed() is (not is_sqlite(h.db))
    h.list_results(limit=5)
    h.release_connection(failed=True)
    assert h.db.is_closed()
    assert h.list_results(limit=5).items is not None  # the next read opens one again
