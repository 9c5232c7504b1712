"""The record-list summary read through the writer-kept summary_day rows (schema v9) equals the run_stat scan,
on SQLite and PostgreSQL: randomized histories and start-time windows (whole days, edge days, windows inside
a day, empty ones), every grouping and filter the rows key, with dirty days pending, after updates that move a
run from running to finished or to another start day, after a prune and during and after a bulk import; the
v9 migration builds the rows of a v8 history, and a read-only v8 history still answers (from the scan)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from rollupkit import rollup_spied, scan_only
from store_objects import T0, new_uid

from tekton_results_tui.api.cel_filter import compile_filter
from tekton_results_tui.store import api_summary as summ
from tekton_results_tui.store import stat_days as sd
from tekton_results_tui.store.api_reads import Scope
from tekton_results_tui.store.db import SCHEMA_VERSION, open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.summary_days import SummaryDay

DAY = 86400
GROUPS: list[tuple[str, str | None] | None] = [
    None, ("namespace", None), ("pipeline", None), ("day", "startTime"), ("week", "startTime"),
    ("month", "startTime"), ("year", "startTime")]
KEYS = ["", 'parent == "a"', 'data.metadata.namespace in ["a", "c"]', '!(parent == "b")',
        'data.status.conditions[0].status == "True"', 'data.status.conditions[0].status != "False"',
        '(parent == "a" || data.status.conditions[0].status == "Unknown")', 'parent.startsWith("b")']
OUTCOMES = [("True", "Succeeded"), ("True", "Succeeded"), ("False", "Failed"), ("False", "PipelineRunTimeout"),
            ("False", "Cancelled"), ("Unknown", "Running"), (None, None)]


def _obj(kind: str, name: str, ns: str, created: int | None, start: int | None, cond: str | None, reason: str | None,
         pipeline: str | None, owner: dict | None = None, rv: int = 1) -> dict:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": new_uid(), "resourceVersion": str(rv),
                            "labels": {"tekton.dev/pipeline": pipeline} if pipeline else {}}
    if created is not None:
        meta["creationTimestamp"] = format_time(created)
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "controller": True,
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}]
    status: dict[str, Any] = {}
    if start is not None:
        status["startTime"] = format_time(start)
    if cond is not None:
        end = start + 7 + (hash(name) % 5000) if start is not None and cond != "Unknown" else None
        status["conditions"] = [{"type": "Succeeded", "status": cond, "reason": reason}]
        if end is not None:
            status["completionTime"] = format_time(end)
    return {"apiVersion": "tekton.dev/v1", "kind": kind, "metadata": meta, "spec": {}, "status": status}


def _history(rng: random.Random, n: int = 70) -> tuple[list[dict], list[dict]]:
    """PipelineRuns over 25 days with 2 TaskRuns each: some never started, some started hours or a day after
    their creation (another start day), a few before it (clock skew), some without a condition reason."""
    prs, trs = [], []
    for i in range(n):
        created = T0 - rng.randrange(25 * DAY)
        start = None if rng.random() < 0.08 else created + rng.choice([0, 1, 40, 5 * 3600, DAY + 7, -30])
        cond, reason = rng.choice(OUTCOMES)
        ns = rng.choice(["a", "b", "c"])
        pr = _obj("PipelineRun", f"r{i}", ns, created, start, cond, reason, rng.choice(["p1", "p2", None]))
        prs.append(pr)
        for k in range(2):
            t_created = created + rng.choice([0, 5, 20 * 3600])
            t_start = None if start is None else t_created + rng.choice([0, 3, 7 * 3600])
            t_cond, t_reason = rng.choice(OUTCOMES)
            trs.append(_obj("TaskRun", f"r{i}-t{k}", ns, t_created, t_start, t_cond, t_reason,
                            pr["metadata"]["labels"].get("tekton.dev/pipeline"), owner=pr))
    return prs, trs


def _windows(rng: random.Random) -> list[str]:
    """Start-time windows: day-aligned and not, inside one day, across a day boundary, empty, one-sided."""
    base = (T0 // DAY) * DAY
    out = [f'data.status.startTime > timestamp("{format_time(T0 - 30 * DAY)}")',
           f'data.status.startTime >= timestamp("{format_time(base - 10 * DAY)}")',
           f'data.status.startTime > timestamp("{format_time(base - 10 * DAY - 1)}")',
           f'data.status.startTime < timestamp("{format_time(base - 3 * DAY)}")',
           f'data.status.startTime <= timestamp("{format_time(base - 3 * DAY + 5 * 3600)}")',
           f'data.status.startTime >= timestamp("{format_time(base - 6 * DAY + 3600)}") && '
           f'data.status.startTime < timestamp("{format_time(base - 6 * DAY + 9 * 3600)}")',  # inside one day
           f'data.status.startTime > timestamp("{format_time(base - 6 * DAY - 3600)}") && '
           f'data.status.startTime <= timestamp("{format_time(base - 5 * DAY + 3600)}")',  # across midnight
           f'data.status.startTime > timestamp("{format_time(base - 4 * DAY)}") && '
           f'data.status.startTime < timestamp("{format_time(base - 5 * DAY)}")']  # empty
    for _ in range(6):
        lo = T0 - rng.randrange(28 * DAY)
        hi = lo + rng.randrange(1, 15 * DAY)
        out.append(f'data.status.startTime >= timestamp("{format_time(lo)}") && '
                   f'data.status.startTime < timestamp("{format_time(hi)}")')
    return out


def _both(scope: Scope, flt: str, group: tuple[str, str | None] | None,
          monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], list[dict]]:
    """(the summary as served, the run_stat scan's) for one query; the first must come from summary_day."""
    node = compile_filter(flt, "records")
    answered: list[bool] = []
    with rollup_spied(monkeypatch, answered):
        got = summ.summarize(scope, node, group)
    # a time grouping needs a lower bound (the scan's buckets truncate toward zero, before 1970 too)
    assert answered == [group is None or group[0] not in ("day", "week", "month", "year") or "startTime >" in flt], \
        (flt, group)
    with scan_only(monkeypatch):
        want = summ.summarize(scope, node, group)
    return got, want


def _key(r: dict) -> Any:
    return r.get("group_value")


def _assert_agree(rng: random.Random, monkeypatch: pytest.MonkeyPatch, queries: int = 60) -> None:
    windows = _windows(rng)
    combos = [(w, k, gr, sc) for w in windows for k in KEYS for gr in GROUPS for sc in (None, "a")]
    picked = combos[:: max(1, len(combos) // queries)]
    for w, k, gr, sc in picked:
        flt = w + (f" && {k}" if k else "")
        got, want = _both(Scope(namespace=sc), flt, gr, monkeypatch)
        assert sorted(got, key=_key) == sorted(want, key=_key), (flt, gr, sc)
    # the query, every grouping
    flt = f'data.status.startTime > timestamp("{format_time(T0 - 30 * DAY)}")'
    for gr in GROUPS:
        got, want = _both(Scope(), flt, gr, monkeypatch)
        assert sorted(got, key=_key) == sorted(want, key=_key), gr


def test_summary_days_answer_as_the_scan(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    prs, trs = _history(rng)
    h.apply([RunUpsert(o) for o in trs[:50]])  # TaskRuns before their PipelineRuns
    h.apply([RunUpsert(o) for o in prs + trs[50:]])
    h.optimize()
    assert not list(sd.StatDirty.select()) and SummaryDay.select().count() > 0
    _assert_agree(rng, monkeypatch)

    # running runs finish; some start again later (a retry moves the start, to another day for a few)
    changed = []
    for o in prs + trs:
        st = o["status"]
        if st.get("conditions", [{}])[0].get("status") == "Unknown" or rng.random() < 0.1:
            o = copy.deepcopy(o)
            o["metadata"]["resourceVersion"] = "7"
            if "startTime" in st and rng.random() < 0.5:
                o["status"]["startTime"] = format_time(int(_epoch(st["startTime"])) + rng.choice([60, DAY]))
            start = o["status"].get("startTime")
            o["status"]["conditions"] = [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]
            if start:
                o["status"]["completionTime"] = format_time(int(_epoch(start)) + 99)
            changed.append(o)
    h.apply([RunUpsert(o) for o in changed])
    assert list(sd.StatDirty.select())  # a batch settles a few old days; these reads take the rest from rows
    _assert_agree(rng, monkeypatch)
    h.optimize()
    _assert_agree(rng, monkeypatch)

    assert h.prune(T0 - 12 * DAY)[0] > 0
    _assert_agree(rng, monkeypatch)
    h.optimize()
    _assert_agree(rng, monkeypatch)


def _epoch(text: str) -> int:
    from tekton_results_tui.store.grouping import parse_time

    t = parse_time(text)
    assert t is not None
    return t


def test_a_bulk_import_answers_as_the_scan_while_and_after(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(23)
    prs, trs = _history(rng, 50)
    with h.bulk():
        for i in range(0, len(prs), 10):
            h.apply([RunUpsert(o) for o in prs[i:i + 10] + trs[2 * i:2 * i + 20]], imported=True)
        assert len(list(sd.StatDirty.select())) > 10
        _assert_agree(rng, monkeypatch, 30)  # every day dirty: the rows answer
    assert not list(sd.StatDirty.select())
    _assert_agree(rng, monkeypatch, 30)


def test_a_clean_whole_day_window_reads_no_run_rows(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day-aligned window with every day settled is summed from summary_day alone."""
    prs, trs = _history(random.Random(5), 30)
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    node = compile_filter(f'data.status.startTime >= timestamp("{format_time((T0 // DAY - 20) * DAY)}")', "records")
    want = summ.summarize(Scope(), node, ("pipeline", None))
    with monkeypatch.context() as m:
        m.setattr(summ, "_summarize", lambda *a: pytest.fail("run_stat read"))
        got = summ.summarize(Scope(), node, ("pipeline", None))
    assert got == want and sum(r["total"] for r in got) > 0


def test_runs_without_a_creation_time_keep_their_first_day(h: History, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run without creationTimestamp is stored as created when first written; a later write marks that day
    (not the day of the write, nor its Result's) for rebuilding, so the finished run is not left counted as
    running."""
    owner = _obj("PipelineRun", "dated", "a", T0 - 8 * DAY, T0 - 8 * DAY + 1, "True", "Succeeded", "p1")
    clock.now = T0 - 5 * DAY
    run = _obj("TaskRun", "undated", "a", None, T0 - 5 * DAY + 10, "Unknown", "Running", "p1", owner=owner)
    h.apply([RunUpsert(owner), RunUpsert(run)])
    h.optimize()
    clock.now = T0
    done = copy.deepcopy(run)
    done["metadata"]["resourceVersion"] = "2"
    done["status"]["conditions"] = [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]
    done["status"]["completionTime"] = format_time(T0 - 5 * DAY + 70)
    h.apply([RunUpsert(done)])
    h.optimize()
    got, want = _both(Scope(), f'data.status.startTime > timestamp("{format_time(T0 - 10 * DAY)}")', None,
                      monkeypatch)
    assert got == want and want[0]["succeeded"] == 2 and want[0]["running"] == 0


def test_a_prune_of_runs_created_before_1970_rebuilds_their_day(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """Days are floor(t / 86400) in summary_day: a prune marks the day before SQL's truncated one too."""
    old = _obj("PipelineRun", "old", "a", -100, 100, "True", "Succeeded", "p1")
    new = _obj("PipelineRun", "new", "a", 3 * DAY, 3 * DAY + 5, "True", "Succeeded", "p1")
    h.apply([RunUpsert(old), RunUpsert(new)])
    h.optimize()
    flt = 'data.status.startTime >= timestamp("1970-01-01T00:00:00Z")'
    got, want = _both(Scope(), flt, ("pipeline", None), monkeypatch)
    assert got == want and want[0]["total"] == 2
    assert h.prune(DAY)[0] == 1
    h.optimize()
    got, want = _both(Scope(), flt, ("pipeline", None), monkeypatch)
    assert got == want and want[0]["total"] == 1


def _downgrade_to_v8(db_url: str) -> None:
    db = open_database(db_url)
    db.drop_tables([SummaryDay])
    db.execute_sql("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    db.close()


def test_the_v9_migration_builds_the_rows_and_a_read_only_v8_history_answers(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert SCHEMA_VERSION == 9
    db = open_database(db_url)
    h = History(db, clock=lambda: T0)
    prs, trs = _history(random.Random(3))
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    queries = [(f'data.status.startTime > timestamp("{format_time(T0 - 30 * DAY)}")', g) for g in GROUPS]
    queries += [(f'data.status.startTime >= timestamp("{format_time(T0 - 9 * DAY)}") && parent == "b"', ("day", "startTime"))]
    before = {q: summ.summarize(Scope(), compile_filter(q[0], "records"), q[1]) for q in queries}
    rows = sorted(SummaryDay.select(SummaryDay.cday, SummaryDay.sday, SummaryDay.parent, SummaryDay.pipeline,
                                    SummaryDay.status, SummaryDay.n, SummaryDay.dur_sum).tuples(), key=repr)
    db.close()
    _downgrade_to_v8(db_url)

    ro = open_database(db_url, read_only=True)  # never migrated: summed from run_stat
    try:
        assert ro.schema_version == 8 and not ro.table_exists("summary_day")
        for (flt, gr), want in before.items():
            node = compile_filter(flt, "records")
            assert summ._from_summary_days(Scope(), node, gr, summ._stat_where(Scope(), node)) is None
            assert sorted(summ.summarize(Scope(), node, gr), key=_key) == sorted(want, key=_key)
    finally:
        ro.close()

    db = open_database(db_url)  # migrated: the rows built from run_stat
    try:
        assert db.schema_version == 9
        assert sorted(SummaryDay.select(SummaryDay.cday, SummaryDay.sday, SummaryDay.parent, SummaryDay.pipeline,
                                        SummaryDay.status, SummaryDay.n, SummaryDay.dur_sum).tuples(), key=repr) == rows
        for (flt, gr), want in before.items():
            got, scan = _both(Scope(), flt, gr, monkeypatch)
            assert sorted(got, key=_key) == sorted(want, key=_key) == sorted(scan, key=_key)
    finally:
        db.close()


def test_a_history_migrated_from_v5_builds_every_writer_kept_table(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The v6 step rebuilds stat_day days before v9 made summary_day: it must leave that table alone."""
    db = open_database(db_url)
    h = History(db, clock=lambda: T0)
    prs, trs = _history(random.Random(9), 30)
    h.apply([RunUpsert(o) for o in prs + trs])
    h.optimize()
    db.drop_tables([*sd.MODELS, sd.StatRebuilt, SummaryDay])
    db.execute_sql("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    db.close()
    db = open_database(db_url)
    try:
        assert db.schema_version == 9 and SummaryDay.select().count() > 0 and sd.StatDay.select().count() > 0
        _assert_agree(random.Random(1), monkeypatch, 20)
    finally:
        db.close()
