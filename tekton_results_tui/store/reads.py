"""Reads of the history: the change feed, listings in keyset pages, lookups by name/uid/run name,
logs, and the batch reads that tables and trees need for a page of rows (one query per page,
never one per row). Every list and filter uses index columns; JSON is read only by id.
"""

from __future__ import annotations

import zlib
from typing import Any, Sequence

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import NAME_FTS
from tekton_results_tui.store.models import Label, Record, Result, StepLog
from tekton_results_tui.store.query import Filter, flaky_results_among
from tekton_results_tui.store.rows import (
    INT64_MAX, MAX_PAGE, RECORD_COLS, RECORD_ORDERS, RESULT_COLS, RESULT_ORDERS, ChangeSet, Page, RecordRow, ResultRow,
    StepLogInfo, keyset, next_token, record_row, result_row,
)
from tekton_results_tui.store.sql import chunks, get_value, loads_json
from tekton_results_tui.store.storable import storable_text

RUN_KIND_NAMES = list(kinds.RUN_KIND_NAMES)
# Record kinds in tree order (runs by registry rank, then the documents); unknown kinds last
_KIND_RANK = pw.Case(Record.kind, tuple(sorted(kinds.RANK.items(), key=lambda kv: kv[1])), max(kinds.RANK.values()) + 1)


def _where(q: pw.Select, *conds: pw.Expression | None) -> pw.Select:
    for c in conds:
        if c is not None:
            q = q.where(c)
    return q


def _page_size(limit: int) -> int:
    return max(0, min(int(limit), MAX_PAGE))


def _ordered(q: pw.Select, expr: pw.Node, id_col: pw.Field, direction: str) -> pw.Select:
    return q.order_by(*((expr.desc(), id_col.desc()) if direction == "desc" else (expr.asc(), id_col.asc())))


# --- change feed ---------------------------------------------------------------------


def current_seq() -> int:
    v = get_value("change_seq")
    return int(v) if v else 0


def changes_since(seq: int, limit: int) -> ChangeSet:
    """Rows changed after `seq` (oldest first). A reader keeps the returned seq for next time."""
    cur = current_seq()
    seq, limit = min(seq, INT64_MAX), max(1, _page_size(limit))
    res = [result_row(t) for t in Result.select(*RESULT_COLS).where(Result.seq > seq)
           .order_by(Result.seq).limit(limit).tuples()]
    recs = [record_row(t) for t in Record.select(*RECORD_COLS).where(Record.seq > seq)
            .order_by(Record.seq).limit(limit).tuples()]
    if len(res) == limit or len(recs) == limit:  # partial: resume from the lowest complete seq
        tops = [r.seq for r in (res[-1:] + recs[-1:])]
        cur = min(tops) - 1
        res = [r for r in res if r.seq <= cur]
        recs = [r for r in recs if r.seq <= cur]
    return ChangeSet(seq=cur, results=res, records=recs)


# --- listing ---------------------------------------------------------------------------


def results_page_query(f: Filter, order: str, page_token: str | None, limit: int, reverse: bool) -> pw.Select:
    """The SELECT of one page of Results (`limit + 1` rows: the extra one says a next page exists)."""
    if order not in RESULT_ORDERS:
        raise ValueError(f"unknown order {order!r}: expected one of {', '.join(RESULT_ORDERS)}")
    expr, direction = RESULT_ORDERS[order]
    if reverse:
        direction = "asc" if direction == "desc" else "desc"
    q = _where(Result.select(*RESULT_COLS), f.for_results(), keyset(expr, Result.id, direction, page_token, order))
    return _ordered(q, expr, Result.id, direction).limit(_page_size(limit) + 1)


def list_results(f: Filter, order: str, page_token: str | None, limit: int, reverse: bool) -> Page:
    # the driver's tuples as they come: peewee's per-value converters cost a third of a page's CPU, and the
    # columns (integers, text, a boolean result_row fixes) need none
    rows = [result_row(t) for t in Result._meta.database.execute_sql(*results_page_query(
        f, order, page_token, limit, reverse).sql()).fetchall()]
    return Page(*next_token(rows, _page_size(limit), order))


def count_results(f: Filter, limit: int | None = None) -> tuple[int, bool]:
    """(how many Results `f` matches, exact). With `limit`, counting stops at `limit` matches:
    (limit, False) then means "at least limit" — quick however many match; the exact figure
    is a second call without a limit. COUNT(*) so the planner may answer from an index alone."""
    if limit is None:
        drive = f.driving_label()
        if drive is not None and len(f.terms) == 1:  # label:k=v alone: its index holds the answer (a label
            _, key, value = drive  # row always has its Result: cascade). 1.2M records, team=web: 282 -> ~5 ms
            q = Label.select(pw.fn.COUNT(pw.SQL("*"))).where((Label.key == key) & (Label.value == value))
            return int(q.scalar() or 0), True
        return int(_where(Result.select(pw.fn.COUNT(pw.SQL("*"))), f.for_results(counting=True)).scalar() or 0), True
    limit = max(0, min(int(limit), INT64_MAX - 1))
    n = int(bounded_count_query(f, limit).scalar() or 0)
    return (n, True) if n <= limit else (limit, False)


def bounded_count_query(f: Filter, limit: int) -> pw.Select:
    """SELECT COUNT(*) of at most `limit + 1` matches of `f`, in whatever order is quickest."""
    drive, word = f.driving_label(), None
    if drive is None:
        word = f.driving_word()
    if drive is not None:  # read from the label index, joined, so it stops at the limit too (Filter.driving_label)
        term, key, value = drive
        inner = _where(Label.select(pw.SQL("1")).join(Result, on=(Result.id == Label.result))
                       .where((Label.key == key) & (Label.value == value)), f.for_results(bounded=True, without=term))
    elif word is not None:  # SQLite: from the name trigram index, joined (Filter.driving_word)
        term, matches = word
        fts = pw.Table(NAME_FTS).alias("name_fts")
        inner = _where(Result.select(pw.SQL("1")).join(fts, on=(fts.c.rowid == Result.id)).where(matches),
                       f.for_results(bounded=True, without=term))
    else:
        inner = _where(Result.select(pw.SQL("1")), f.for_results(bounded=True))  # stops at the limit
    inner = inner.limit(limit + 1)
    return Result.select(pw.fn.COUNT(pw.SQL("*"))).from_(inner.alias("m"))


def list_records(f: Filter, result: str | int | None, order: str, page_token: str | None, limit: int,
                 cluster: str | None) -> Page:
    if order not in RECORD_ORDERS:
        raise ValueError(f"unknown order {order!r}: expected one of {', '.join(RECORD_ORDERS)}")
    expr, direction = RECORD_ORDERS[order]
    limit = _page_size(limit)
    conds = [f.for_records(), keyset(expr, Record.id, direction, page_token, order)]
    if isinstance(result, int):
        conds.append(Record.result == result)
    elif result is not None:
        rq = _where(Result.select(Result.id).where(Result.name == storable_text(result)),
                    (Result.cluster == cluster) if cluster is not None else None)
        conds.append(Record.result << rq)
    q = _where(Record.select(*RECORD_COLS), *conds)
    rows = [record_row(t) for t in _ordered(q, expr, Record.id, direction).limit(limit + 1).tuples()]
    return Page(*next_token(rows, limit, order))


def count_records(f: Filter) -> int:
    return int(_where(Record.select(pw.fn.COUNT(pw.SQL("*"))), f.for_records()).scalar() or 0)


def records_of(result_id: int) -> list[RecordRow]:
    """All Records of one Result in tree order: runs (parents first) by start, then logs, events."""
    q = (Record.select(*RECORD_COLS).where(Record.result == result_id)
         .order_by(_KIND_RANK, pw.fn.COALESCE(Record.start, Record.create_time), Record.id))
    return [record_row(t) for t in q.tuples()]


def result_ids_matching(ids: Sequence[int], f: Filter) -> set[int]:
    """Of these Result ids, the ones `f` matches (a live change is shown only if it matches)."""
    w = f.for_results()
    out: set[int] = set()
    for chunk in chunks(list(ids)):
        out.update(i for (i,) in _where(Result.select(Result.id).where(Result.id << list(chunk)), w).tuples())
    return out


def flaky_among(ids: Sequence[int]) -> set[int]:
    """Of these Result ids, the flaky ones (the `flaky:true` rule, probed per Result)."""
    out: set[int] = set()
    for chunk in chunks(list(ids), 500):
        out.update(i for (i,) in Result.select(Result.id).where(flaky_results_among(chunk)).tuples())
    return out


def cluster_sample() -> set[str]:
    """Up to two cluster names of the stored Results: two index probes, not a scan."""
    first = Result.select(Result.cluster).limit(1).scalar()
    if first is None:
        return set()
    other = Result.select(Result.cluster).where((Result.cluster < first) | (Result.cluster > first)).limit(1).scalar()
    return {first} | ({other} if other is not None else set())


# --- a page's details ------------------------------------------------------------------


def _details(ann: Any, sann: Any, warn: Any) -> dict[str, Any]:
    return {"annotations": loads_json(ann, {}), "summary_annotations": loads_json(sann, {}),
            "warnings": loads_json(warn, [])}


def result_details(result_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Result id -> its JSON-ish parts (annotations, summary_annotations, warnings)."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in chunks(list(result_ids)):
        q = Result.select(Result.id, Result.annotations, Result.summary_annotations, Result.warnings).where(
            Result.id << list(chunk))
        out.update({rid: _details(a, s, w) for rid, a, s, w in q.tuples()})
    return out


def record_counts(result_ids: Sequence[int]) -> dict[int, int]:
    """Result id -> how many Records it holds (ids without Records are absent)."""
    out: dict[int, int] = {}
    for chunk in chunks(list(result_ids)):
        q = (Record.select(Record.result, pw.fn.COUNT(Record.id)).where(Record.result << list(chunk))
             .group_by(Record.result))
        out.update({rid: int(n) for rid, n in q.tuples()})
    return out


def record_objects(record_ids: Sequence[int]) -> dict[int, Any]:
    """Record id -> its stored object, parsed (None when unreadable)."""
    out: dict[int, Any] = {}
    for chunk in chunks(list(record_ids)):
        out.update({rid: loads_json(raw, None)
                    for rid, raw in Record.select(Record.id, Record.data).where(Record.id << list(chunk)).tuples()})
    return out


# --- getting one -----------------------------------------------------------------------


def get_result(name: str | None, uid: str | None, id: int | None, cluster: str | None) -> ResultRow | None:  # noqa: A002
    if id is not None:
        cond = Result.id == id
    elif uid is not None:
        cond = Result.uid == storable_text(uid)
    elif name is not None:
        cond = Result.name == storable_text(name)
    else:
        raise ValueError("get_result needs name, uid or id")
    q = _where(Result.select(*RESULT_COLS).where(cond), (Result.cluster == cluster) if cluster is not None else None)
    t = q.tuples().first()
    return result_row(t) if t else None


def get_record(name: str | None, uid: str | None, id: int | None, cluster: str | None) -> RecordRow | None:  # noqa: A002
    if id is not None:
        cond = Record.id == id
    elif uid is not None:
        cond = Record.uid == storable_text(uid)
    elif name is not None:  # <result>/records/<record id = uid>: look up by the indexed uid
        name = storable_text(name)
        cond = (Record.uid == name.rsplit("/", 1)[-1]) & (Record.name == name)
    else:
        raise ValueError("get_record needs name, uid or id")
    q = _where(Record.select(*RECORD_COLS).where(cond), (Record.cluster == cluster) if cluster is not None else None)
    t = q.tuples().first()
    return record_row(t) if t else None


def find_runs(run_name: str, namespace: str | None, cluster: str | None, limit: int) -> list[RecordRow]:
    """Runs with this name, newest first (names repeat after a run is deleted and re-created)."""
    run_name = storable_text(run_name)
    q = _where(Record.select(*RECORD_COLS).where((Record.run_name == run_name) & (Record.kind << RUN_KIND_NAMES)),
               (Record.parent == storable_text(namespace)) if namespace else None,
               (Record.cluster == cluster) if cluster is not None else None)
    return [record_row(t) for t in q.order_by(Record.create_time.desc(), Record.id.desc()).limit(_page_size(limit)).tuples()]


def record_data(record_id: int) -> str | None:
    return Record.select(Record.data).where(Record.id == record_id).scalar()


def imported_at(record_id: int) -> int | None:
    return Record.select(Record.imported_at).where(Record.id == record_id).scalar()


def stored_versions(uids: Sequence[str], cluster: str) -> dict[str, tuple[int, bool]]:
    """uid -> (stored resourceVersion, final) for runs; what cleanup checks before deleting."""
    out: dict[str, tuple[int, bool]] = {}
    for chunk in chunks(list(uids)):
        for uid, rv, final in Record.select(Record.uid, Record.rv, Record.final).where(
            (Record.cluster == cluster) & (Record.uid << list(chunk)) & (Record.kind << RUN_KIND_NAMES)
        ).tuples():
            out[uid] = (int(rv), bool(final))
    return out


def in_cluster_uids(kind: str, cluster: str, namespaces: Sequence[str] | None) -> set[str]:
    """uids of runs of `kind` the history believes are still in the cluster (for relist diffs)."""
    q = Record.select(Record.uid).where(
        (Record.cluster == cluster) & (Record.in_cluster == True) & (Record.kind == kind)  # noqa: E712
    )
    if namespaces:
        q = q.where(Record.parent << list(namespaces))
    return {u for (u,) in q.tuples()}


def size() -> tuple[int, int]:
    return (int(Result.select(pw.fn.COUNT(Result.id)).scalar() or 0),
            int(Record.select(pw.fn.COUNT(Record.id)).scalar() or 0))


# --- logs ------------------------------------------------------------------------------


def captured_documents(derived_uids: Sequence[str], cluster: str) -> dict[str, bool]:
    """Of these Log/EventList record uids, the ones stored -> complete (no step log in state `error`)."""
    found: dict[str, int] = {}
    for chunk in chunks(list(derived_uids)):
        q = Record.select(Record.uid, Record.id).where((Record.cluster == cluster) & (Record.uid << list(chunk)))
        found.update({u: rid for u, rid in q.tuples()})
    bad: set[int] = set()
    for chunk in chunks(list(found.values())):
        q = StepLog.select(StepLog.record).where((StepLog.record << list(chunk)) & (StepLog.state == "error"))
        bad.update(r for (r,) in q.tuples())
    return {u: rid not in bad for u, rid in found.items()}


def log_record_for(run_uid: str, cluster: str | None) -> RecordRow | None:
    log = kinds.LOG.name
    q = _where(Record.select(*RECORD_COLS).where((Record.uid == g.derived_uid(run_uid, log)) & (Record.kind == log)),
               (Record.cluster == cluster) if cluster is not None else None)
    t = q.tuples().first()
    return record_row(t) if t else None


def step_logs(log_record_id: int) -> list[StepLogInfo]:
    q = (StepLog.select(StepLog.id, StepLog.step, StepLog.container, StepLog.size, StepLog.truncated, StepLog.state)
         .where(StepLog.record == log_record_id).order_by(StepLog.position, StepLog.id))
    return [StepLogInfo(i, s, c, sz, bool(t), st) for i, s, c, sz, t, st in q.tuples()]


def step_log_text(step_log_id: int) -> bytes:
    """One step's stored log, decompressed (capped at store time, so bounded)."""
    blob = StepLog.select(StepLog.data).where(StepLog.id == step_log_id).scalar()
    return zlib.decompress(bytes(blob)) if blob is not None else b""

