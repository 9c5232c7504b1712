"""Statistics read from the writer-kept stat_day rows equal those read from the runs alone, on SQLite and
PostgreSQL: for every grouping and the filters stat_day answers (and one it does not), after upserts that
change a run's status, duration or day, with dirty days pending, after a prune, and after the v6
migration builds the rows of an existing history."""

from __future__ import annotations

import copy
import random

import pytest
from insights_kit import T0, pipelinerun, taskrun

from tekton_results_tui.insights import stats as stats_mod
from tekton_results_tui.insights.percentiles import percentile
from tekton_results_tui.store import stat_days as sd
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.query import parse_filter

DAY = 86400
FILTERS = [None, "ns:a", "pipeline:p1,p2", "-ns:b", "status:failed,succeeded", "-cluster:x", "since:12d",
           "before:5d", "since:20d before:3d", "pipeline:p*", "task:t1", "dur>100s"]


def _history(rng: random.Random, n: int = 90) -> tuple[list[dict], list[dict]]:
    """PipelineRuns over 40 days with 3 TaskRuns each; some TaskRuns created the day after their run."""
    prs, trs = [], []
    for i in range(n):
        created = T0 - rng.randrange(40 * DAY)
        outcome = rng.choice(["ok", "ok", "ok", "fail", "timeout", "cancel", "running"])
        start = created + rng.choice([0, 1, 3, 30])
        end = start + rng.randrange(10, 3000) if outcome != "running" else None
        pr = pipelinerun(f"r{i}", outcome, created=created, start=start, end=end, pipeline=rng.choice(["p1", "p2", "p3"]),
                         ns=rng.choice(["a", "b"]))
        prs.append(pr)
        t = start
        for k, task in enumerate(rng.sample(["t1", "t2", "t3", "t4"], 3)):
            t_out = outcome if k == 2 and outcome != "ok" else "ok"
            t_created = t + rng.choice([0, 1, DAY])  # now and then the next day
            t_end = t_created + 2 + rng.randrange(5, 900) if t_out != "running" else None
            trs.append(taskrun(pr, task, t_out, created=t_created, start=t_created + rng.choice([0, 2]), end=t_end))
            t = t_end or t
    return prs, trs


def _docs(h: History) -> dict:
    out = {}
    for by in stats_mod.GROUP_KEYS:
        for flt in FILTERS:
            out[(by, flt)] = stats_mod.statistics(h, flt, by, since=35 * DAY).document()
        out[(by, "all")] = stats_mod.statistics(h, None, by, since=None).document()
    for by in ("pipeline", "task", "namespace"):
        for flt in (None, "ns:a", "status:failed", "before:5d"):
            out[("trends", by, flt)] = stats_mod.trends(h, flt, by, since=35 * DAY)
    return out


def _rows_only(h: History, monkeypatch: pytest.MonkeyPatch) -> dict:
    with monkeypatch.context() as m:
        m.setattr(sd, "plan", lambda *a, **k: None)
        return _docs(h)


def _assert_paths_agree(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    got, want = _docs(h), _rows_only(h, monkeypatch)
    for key in want:
        assert got[key] == want[key], key


def test_stat_days_answer_as_the_rows_do(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(41)
    prs, trs = _history(rng)
    h.apply([RunUpsert(o) for o in trs[:60]])  # TaskRuns before their PipelineRuns: their Results' day moves
    h.apply([RunUpsert(o) for o in prs + trs[60:]])
    h.optimize()  # every day settled
    assert not list(sd.StatDirty.select())
    assert {s for (s,) in sd.StatDay.select(sd.StatDay.scope).distinct().tuples()} == {"R", "T", "X"}
    f = parse_filter("since:35d ns:a", now=T0)
    assert sd.plan(h.db, "R", f) is not None and sd.plan(h.db, "T", f) is None  # T has no namespace
    _assert_paths_agree(h, monkeypatch)

    # upserts: a running run finishes, a finished one is rewritten longer, a TaskRun fails late
    changed = []
    for pr in prs[:30]:
        pr = copy.deepcopy(pr)
        pr["metadata"]["resourceVersion"] = "20"
        st = pr["status"]
        st["conditions"][0].update(status="False", reason="Failed")
        st["completionTime"] = st.get("startTime")
        changed.append(pr)
    h.apply([RunUpsert(o) for o in changed])
    changed = []
    for tr in trs[150:]:  # TaskRuns alone (their runs unchanged): some created the day after their run's
        tr = copy.deepcopy(tr)
        tr["metadata"]["resourceVersion"] = "21"
        tr["status"]["conditions"][0].update(status="False", reason="Failed")
        changed.append(tr)
    h.apply([RunUpsert(o) for o in changed])
    assert list(sd.StatDirty.select())  # the live days wait; these reads take them from the rows
    _assert_paths_agree(h, monkeypatch)
    h.optimize()
    _assert_paths_agree(h, monkeypatch)

    # a prune: the oldest runs go, their days are rebuilt
    assert h.prune(T0 - 20 * DAY)[0] > 0
    _assert_paths_agree(h, monkeypatch)


def test_percentiles_exact_over_settled_days(h: History) -> None:
    rng = random.Random(7)
    prs, trs = _history(rng, 120)
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    since = 30 * DAY
    window = [p for p in prs if p["status"].get("completionTime")
              and T0 - since <= int(_epoch(p["metadata"]["creationTimestamp"]))]
    got = {g["key"]: g for g in stats_mod.statistics(h, None, "pipeline", since=since).document()["groups"]}
    for name in ("p1", "p2", "p3"):
        ds = sorted(_epoch(p["status"]["completionTime"]) - _epoch(p["status"]["startTime"])
                    for p in window if p["metadata"]["labels"]["tekton.dev/pipeline"] == name)
        assert got[name]["p50_seconds"] == percentile(ds, 50)
        assert got[name]["p95_seconds"] == percentile(ds, 95)
        assert got[name]["max_seconds"] == ds[-1]


def _epoch(text: str) -> int:
    from tekton_results_tui.store.grouping import parse_time

    t = parse_time(text)
    assert t is not None
    return t


def test_the_v6_and_v7_migrations_build_the_rows_of_an_existing_history(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(db_url)
    h = History(db, clock=lambda: T0)
    prs, trs = _history(random.Random(3))
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    before = _docs(h)
    # back to v5: no stat tables
    db.drop_tables([*sd.MODELS, sd.StatRebuilt])
    db.execute_sql("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    db.close()
    db = open_database(db_url)
    try:
        h = History(db, clock=lambda: T0)
        assert sd.StatDay.select().count() > 0 and not list(sd.StatDirty.select())
        assert _docs(h) == before
        _assert_paths_agree(h, monkeypatch)
    finally:
        db.close()


def test_pairs_built_twice_are_kept_by_the_writer(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """stat_rebuilt (v7) gains a (pipeline, revision) when a second Result builds it, in a later batch
    too; flaky statistics read through it equal those grouping result(pipeline, revision) at each read."""
    a = pipelinerun("fa", "ok", created=T0 - 900, start=T0 - 899, end=T0 - 800, revision="x1")
    b = pipelinerun("fb", "fail", created=T0 - 800, start=T0 - 799, end=T0 - 700, revision="x1")
    c = pipelinerun("fc", "ok", created=T0 - 700, start=T0 - 699, end=T0 - 600, revision="y1")
    h.apply([RunUpsert(a), RunUpsert(c), RunUpsert(taskrun(a, "unit", created=T0 - 899, start=T0 - 898, end=T0 - 850))])
    assert not list(sd.StatRebuilt.select())
    h.apply([RunUpsert(b), RunUpsert(taskrun(b, "unit", "fail", created=T0 - 799, start=T0 - 798, end=T0 - 750))])
    assert [(r.pipeline, r.revision) for r in sd.StatRebuilt.select()] == [("build", "x1")]
    kept = {by: stats_mod.statistics(h, None, by).document() for by in ("pipeline", "task")}
    assert kept["pipeline"]["groups"][0]["flaky"] == 2 and any(g["flaky"] for g in kept["task"]["groups"])
    with monkeypatch.context() as m:
        m.setattr(sd, "has_rebuilt", lambda db: False)
        assert {by: stats_mod.statistics(h, None, by).document() for by in ("pipeline", "task")} == kept


def test_a_bulk_import_settles_its_days_once_at_its_end(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside History.bulk applies only mark days (statistics read from the rows meanwhile, as for any dirty
    day); when it ends every day is rebuilt once, and the answers are those of the rows."""
    rebuilt: list[list[int]] = []
    real = sd.rebuild
    monkeypatch.setattr(sd, "rebuild", lambda db, days: (rebuilt.append(list(days)), real(db, days))[1])
    prs, trs = _history(random.Random(5))
    with h.bulk():
        for i in range(0, len(prs), 15):  # batches in creation order, as an import of a dump writes them
            h.apply([RunUpsert(o) for o in prs[i:i + 15] + [t for t in trs if t in trs[3 * i:3 * i + 45]]])
        assert not rebuilt
        dirty = {d for (d,) in sd.StatDirty.select(sd.StatDirty.day).tuples()}
        assert len(dirty) > 20
        _assert_paths_agree(h, monkeypatch)  # the rows answer while the days wait
    assert not list(sd.StatDirty.select())
    assert sorted(d for chunk in rebuilt for d in chunk) == sorted(dirty)  # each day once
    _assert_paths_agree(h, monkeypatch)


def test_a_utf16_sqlite_history_joins_the_arrays_as_hex(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stat_day arrays are joined by the database; in a UTF-8 SQLite file their bytes travel as one BLOB, in
    a file created with another text encoding (which would transcode them) as hex. Both answer as the rows."""
    import sqlite3

    from tekton_results_tui.store import insights_reads as reads

    path = tmp_path / "utf16.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA encoding = 'UTF-16le'")
    raw.execute("CREATE TABLE keep_encoding (x)")  # the encoding is fixed once the file has a table
    raw.close()
    db = open_database(f"sqlite:///{path}")
    try:
        h = History(db, clock=lambda: T0)
        assert db.execute_sql("PRAGMA encoding").fetchone()[0].upper().startswith("UTF-16")
        prs, trs = _history(random.Random(3), 60)
        # durations whose bytes read as UTF-16 are lone surrogates (0xD800-0xDFFF): transcoding would mangle them
        long = [pipelinerun(f"long{i}", "ok", created=T0 - (3 + i) * DAY, start=T0 - (3 + i) * DAY + 1,
                            end=T0 - (3 + i) * DAY + 1 + d, pipeline="p1", ns="a")
                for i, d in enumerate((0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xD8D8))]
        h.apply([RunUpsert(o) for o in prs + trs + long])
        h.optimize()
        assert "hex(" in reads._concat(db, "durations")
        _assert_paths_agree(h, monkeypatch)
    finally:
        db.close()


def test_a_utf8_sqlite_history_joins_the_arrays_as_bytes(h: History) -> None:
    from tekton_results_tui.store import insights_reads as reads
    from tekton_results_tui.store.db import is_sqlite

    if not is_sqlite(h.db):
        pytest.skip("SQLite's group_concat only")
    assert reads._concat(h.db, "durations") == "CAST(group_concat(durations, '') AS BLOB)"
    prs, trs = _history(random.Random(5), 40)
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    f = parse_filter("since:35d", now=T0)
    plan = sd.plan(h.db, "X", f)
    assert plan is not None
    sql, params = sd.StatDay.select(sd.StatDay.durations).where(plan.where).sql()
    rows = [bytes(b) for (b,) in h.db.execute_sql(sql, params)]
    sql, params = sd.StatDay.select(pw_sql(reads._concat(h.db, "durations"))).where(plan.where).sql()
    (joined,) = h.db.execute_sql(sql, params).fetchone()
    assert isinstance(joined, bytes) and sorted(joined[i:i + 8] for i in range(0, len(joined), 8)) == \
        sorted(r[i:i + 8] for r in rows for i in range(0, len(r), 8))  # every value, NUL bytes included


def pw_sql(text: str):  # noqa: ANN201
    import peewee as pw

    return pw.SQL(text)


def test_long_task_rows_select_their_ranks_as_the_rows_do(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """--by task keeps each stat_day row's sorted array as a run; with rows long enough the percentile ranks
    are selected from the runs (not one sort of every value): the answers equal the runs-only path's."""
    from tekton_results_tui.store import insights_reads as reads

    rng = random.Random(17)
    prs, trs = [], []
    for i in range(260):
        created = T0 - rng.randrange(9 * DAY)
        pr = pipelinerun(f"l{i}", "ok", created=created, start=created + 1, end=created + 4000, pipeline="p1", ns="a")
        prs.append(pr)
        for task in ("t1", "t2"):
            out = rng.choice(["ok", "ok", "ok", "fail"])
            d = rng.choice((5, 60, 61, 900)) + rng.randrange(0, 40)  # ties within and across rows
            trs.append(taskrun(pr, task, out, created=created + 2, start=created + 2 + rng.choice([0, 3]), end=created + 2 + d))
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    calls = []
    real = reads._select
    monkeypatch.setattr(reads, "_select", lambda runs, r: calls.append(len(runs)) or real(runs, r))
    got = {flt: stats_mod.statistics(h, flt, "task", since=12 * DAY).document() for flt in (None, "status:failed", "task:t1")}
    assert calls  # the selection path answered
    with monkeypatch.context() as m:
        m.setattr(sd, "plan", lambda *a, **k: None)
        want = {flt: stats_mod.statistics(h, flt, "task", since=12 * DAY).document() for flt in got}
    assert got == want


def test_the_newest_start_breaks_ties_by_the_newest_row(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs of a pipeline that started in the same second, with different statuses, on a settled day: the
    last status is the newer row's, from stat_day (its MAX over (start, id)) as from the runs."""
    s = T0 - 5 * DAY + 100
    a1 = pipelinerun("a1", "ok", created=s - 10, start=s, end=s + 50, pipeline="p1", ns="a")
    a2 = pipelinerun("a2", "fail", created=s - 20, start=s, end=s + 60, pipeline="p1", ns="b")
    b1 = pipelinerun("b1", "fail", created=s - 10, start=s, end=s + 50, pipeline="p2", ns="a")
    b2 = pipelinerun("b2", "ok", created=s - 20, start=s, end=s + 60, pipeline="p2", ns="b")
    for o in (a1, a2, b1, b2):  # one by one: each later run is a newer row
        h.apply([RunUpsert(o)])
    h.optimize()
    got = {g["key"]: g for g in stats_mod.statistics(h, None, "pipeline", since=30 * DAY).document()["groups"]}
    assert got["p1"]["last_status"] == "FAILURE" and got["p2"]["last_status"] == "SUCCESS"
    _assert_paths_agree(h, monkeypatch)
