"""The write pipeline behind `History.apply`: classify a batch of changes, then write it in one
transaction with blind conditional upserts.

`collect` turns the changes into a `Collected` batch (runs coalesced per uid, newest
resourceVersion wins; objects that are not runs become `Skipped` with a reason). `write` then
runs, inside the caller's transaction, in this order: the top-level runs' Result summaries
(which create those Results), the other Results a batch needs (a child may arrive before its
parent), warnings, the run Records and their labels, Log and EventList Records, and gone marks
last (so a deletion in the same batch as an update wins). Every row written carries the batch's
sequence number; an upsert changes a row only when it brings a newer resourceVersion, so
applying a batch twice changes nothing.
"""

from __future__ import annotations

import dataclasses

import functools
import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store import log_index, stat_days
from tekton_results_tui.store.db import NAME_FTS, is_sqlite
from tekton_results_tui.store.changes import (
    ClassifiedRun, Change, Events, Gone, Logs, RunUpsert, Skipped, StepLogData, describe_object,
)
from tekton_results_tui.store.documents import event_list_document, events_version, log_document
from tekton_results_tui.store.models import Label, Record, Result, RunStat, StepLog
from tekton_results_tui.store.sql import (_WRAP_DB_ERRORS, bulk_insert, bulk_returning, chunks, dumps, rowcount,
                                          select_in, statement)
from tekton_results_tui.store.storable import make_storable, storable_text, suspect, warning_for

RUN_KIND_NAMES = list(kinds.RUN_KIND_NAMES)
DOCUMENT_TYPES = {d.name: d.record_type for d in kinds.DOCUMENT_KINDS}
MAX_WARNINGS = 50  # kept per Result, newest last
# A constant NULL in an upsert's SET as SQL, not as a parameter: a parameter after the row's values kept
# psycopg2's execute_values off (sql.bulk_insert), so on PostgreSQL the Record and Result upserts were
# built by peewee row by row, the path that costs ~5x the database's own work.
NULL = pw.SQL("NULL")


@dataclass
class Collected:
    """A batch classified and coalesced, ready to write."""

    runs: dict[str, tuple[g.RunInfo, str]] = field(default_factory=dict)  # uid -> newest (info, JSON text)
    gones: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # uid -> (at, before_rv)
    logs: list[tuple[g.RunInfo, list[StepLogData]]] = field(default_factory=list)
    events: list[tuple[g.RunInfo, list[dict]]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Batch:
    """Where and when one write transaction writes: every row it touches is stamped with these."""

    db: pw.Database
    cluster: str
    seq: int
    now: int
    result_ids: dict[str, int] = field(default_factory=dict)  # Result name -> id, once ensured
    imported: bool = False  # an import's batch: new runs are marked imported; others' writes clear the mark
    days_before: dict[str, int] = field(default_factory=dict)  # Result name -> its day before this batch (stat_days)
    settle_days: bool = True  # False inside History.bulk: days are only marked, and settled once when it ends


def collect(changes: Iterable[Change], now: int) -> Collected:
    """Classify every change (each object is dropped once classified: a generator of changes is
    held one object at a time). One object that cannot be stored becomes a `Skipped`, never an
    exception: the rest of the batch is stored."""
    c = Collected()
    for ch in changes:
        if isinstance(ch, (ClassifiedRun, RunUpsert)):
            got = _run_of(ch, c.skipped)
            if got is None:
                continue
            info, raw = got
            if info.warnings:
                c.warnings.extend(info.warnings)
            prev = c.runs.get(info.uid)
            if prev is None or info.rv >= prev[0].rv:  # coalesce: newest resourceVersion wins
                c.runs[info.uid] = (info, raw)
        elif isinstance(ch, Gone):
            before = None if ch.before_rv is None else min(ch.before_rv, g.MAX_RV)  # the column's range
            c.gones[storable_text(ch.uid)] = (ch.at if ch.at is not None else now, before)
        elif isinstance(ch, Logs):
            info = _document_run(ch.run, "logs of ", c, ch.info)
            if info is not None:
                steps = [StepLogData(storable_text(s.step), storable_text(s.container), s.text, s.truncated,
                                     storable_text(s.state)) for s in ch.steps]
                c.logs.append((info, steps))
        elif isinstance(ch, Events):
            info = _document_run(ch.run, "events of ", c, ch.info)
            if info is not None:
                items, changed = _storable(ch.items)
                if changed:
                    _warn(c, info, warning_for(f"events of {info.kind} {info.namespace}/{info.name}", changed))
                c.events.append((info, items))
        else:
            raise TypeError(f"not a change: {ch!r}")
    return c


def _run_of(ch: ClassifiedRun | RunUpsert, skipped: list[Skipped]) -> tuple[g.RunInfo, str] | None:
    """(classification, JSON text to store) of a run change, under the storable-strings rule; None
    (and a `Skipped`) when the object cannot be stored."""
    if isinstance(ch, ClassifiedRun):
        info, raw = ch.info, ch.raw
    else:
        try:
            info = g.classify(ch.obj)
            raw = ch.raw if ch.raw is not None else dumps(ch.obj, allow_nan=False)
        except g.GroupingError as exc:
            skipped.append(Skipped(describe_object(ch.obj), str(exc)))
            return None
        except ValueError:  # NaN or Infinity: no JSON can carry it
            skipped.append(Skipped(describe_object(ch.obj), "not representable as JSON (NaN or Infinity)"))
            return None
    if not suspect(raw):
        return info, raw
    try:
        obj, changed = make_storable(json.loads(raw))
        if not changed:
            return info, raw
        info = g.classify(obj)
        raw = dumps(obj)
    except (ValueError, RecursionError, g.GroupingError) as exc:
        skipped.append(Skipped(f"{info.kind} {info.namespace}/{info.name}",
                               f"cannot be stored: {type(exc).__name__}: {str(exc)[:120]}"))
        return None
    info.warnings.append(warning_for(f"{info.kind} {info.namespace}/{info.name}", changed))
    return info, raw


def _storable(value: Any) -> tuple[Any, list[str]]:
    """`value` under the storable-strings rule; walked only when its JSON text trips the check."""
    if not suspect(dumps(value)):
        return value, []
    return make_storable(value)


def _document_run(run: dict, what: str, c: Collected, known: g.RunInfo | None = None) -> g.RunInfo | None:
    """The classification of the run a Logs/Events change is about, its strings storable (the caller's
    classification is used as it is unless the storable-strings rule had to change the run)."""
    run, changed = _storable(run)
    if known is not None and not changed:
        return dataclasses.replace(known, warnings=list(known.warnings))  # warnings added here stay in this batch
    try:
        info = g.classify(run)
    except g.GroupingError as exc:
        c.skipped.append(Skipped(what + describe_object(run), str(exc)))
        return None
    if changed:
        _warn(c, info, warning_for(what + f"{info.kind} {info.namespace}/{info.name}", changed))
    return info


def _warn(c: Collected, info: g.RunInfo, warning: str) -> None:
    """A warning kept on the run's Result and returned by apply."""
    info.warnings.append(warning)
    c.warnings.append(warning)


def write(b: Batch, c: Collected, report: bool = False) -> tuple[int, dict[str, str]]:
    """Write a collected batch inside the caller's transaction; (rows changed, outcomes if `report`)."""
    infos = [i for i, _ in c.runs.values()] + [i for i, _ in c.logs] + [i for i, _ in c.events]
    tops = [i for i, _ in c.runs.values() if i.top_level]
    b.days_before = stat_days.result_days_by_name(b.db, b.cluster, [i.result_name for i in tops]) if tops else {}
    changed = update_summaries(b, tops)  # creates those Results too
    changed += ensure_results(b, infos, {i.result_name for i in tops})
    changed += add_warnings(b, infos)
    outcomes = run_outcomes(b, c.runs) if report else {}
    changed += upsert_runs(b, list(c.runs.values()))
    changed += upsert_log_batch(b, c.logs)
    for info, items in c.events:
        changed += upsert_events(b, info, items)
    if c.gones:
        changed += mark_gone(b, c.gones)
    return changed, outcomes


@functools.lru_cache(maxsize=4096)  # within a batch; 64k entries held ~9 MB in a long-running watcher for good
def result_uid(cluster: str, name: str) -> str:
    """A Result's stable uid (both the create and the summary upsert of a batch need it)."""
    return g.derived_uid(cluster + "/" + name, "result")


def run_outcomes(b: Batch, runs: dict[str, tuple[g.RunInfo, str]]) -> dict[str, str]:
    """Per run uid: "new", "updated" or "unchanged" against what is stored before the write."""
    stored = dict(select_in(b.db, Record, (Record.uid, Record.rv), Record.uid, b.cluster, list(runs)))
    out = {}
    for uid, (info, _) in runs.items():
        rv = stored.get(uid)
        out[uid] = "new" if rv is None else ("updated" if rv < info.rv else "unchanged")
    return out


def ensure_results(b: Batch, infos: list[g.RunInfo], upserted: set[str]) -> int:
    """Create missing Results and fill `b.result_ids`; returns rows created.

    `upserted`: Results the summary upsert of this batch has written already (not inserted again).
    """
    wanted: dict[str, g.RunInfo] = {}
    for i in infos:
        if i.result_name not in wanted:
            wanted[i.result_name] = i
    rows = [(b.cluster, i.namespace, name, result_uid(b.cluster, name), "UNKNOWN", i.created or b.now, b.now, b.now, b.seq)
            for name, i in wanted.items() if name not in upserted]
    fields = [Result.cluster, Result.parent, Result.name, Result.uid, Result.summary_status,
              Result.sort_time, Result.create_time, Result.update_time, Result.seq]
    newest = newest_result_id(b.db)
    changed = bulk_insert(b.db, lambda r: Result.insert_many(r, fields=fields).on_conflict_ignore(), rows,
                          key="result.create")
    index_new_result_names(b.db, newest)
    b.result_ids = dict(select_in(b.db, Result, (Result.name, Result.id), Result.name, b.cluster, list(wanted)))
    return changed


_SUMMARY_FIELDS = [
    Result.cluster, Result.parent, Result.name, Result.uid, Result.annotations, Result.summary_record,
    Result.summary_type, Result.summary_status, Result.summary_reason, Result.summary_start,
    Result.summary_end, Result.summary_duration, Result.summary_annotations, Result.summary_rv,
    Result.display_name, Result.pipeline, Result.revision, Result.repository, Result.in_cluster, Result.sort_time,
    Result.create_time, Result.update_time, Result.seq,
]


def update_summaries(b: Batch, tops: list[g.RunInfo]) -> int:
    """Upsert the Results of top-level runs with their summary (newer summary_rv wins)."""
    if not tops:
        return 0
    newest: dict[str, g.RunInfo] = {}  # one row per Result: PostgreSQL refuses to upsert a row twice in one statement
    for i in tops:
        cur = newest.get(i.result_name)
        if cur is None or i.rv > cur.rv:
            newest[i.result_name] = i
    rows = [(
        b.cluster, i.namespace, i.result_name, result_uid(b.cluster, i.result_name),
        dumps(i.result_annotations), i.record_name, i.record_type, i.status, i.reason, i.start, i.end,
        i.duration, dumps(i.summary_annotations), i.rv, i.name, i.pipeline, i.revision, i.repository, True,
        i.created or b.now, b.now, b.now, b.seq,
    ) for i in newest.values()]
    EX = pw.EXCLUDED
    update = {
        Result.annotations: EX.annotations, Result.summary_record: EX.summary_record,
        Result.summary_type: EX.summary_type, Result.summary_status: EX.summary_status,
        Result.summary_reason: EX.summary_reason, Result.summary_start: EX.summary_start,
        Result.summary_end: EX.summary_end, Result.summary_duration: EX.summary_duration,
        Result.summary_annotations: EX.summary_annotations, Result.summary_rv: EX.summary_rv,
        Result.display_name: EX.display_name, Result.pipeline: EX.pipeline, Result.revision: EX.revision,
        Result.repository: EX.repository, Result.sort_time: EX.sort_time,
        Result.update_time: EX.update_time, Result.seq: EX.seq,
        # a newer top-level object is alive, so its Result is in the cluster again
        Result.in_cluster: EX.in_cluster, Result.gone_at: NULL,
    }
    newest = newest_result_id(b.db)
    changed = bulk_insert(b.db, lambda r: Result.insert_many(r, fields=_SUMMARY_FIELDS).on_conflict(
        conflict_target=[Result.cluster, Result.name], update=update,
        where=(Result.summary_rv < EX.summary_rv)), rows, key="result.summary")
    index_new_result_names(b.db, newest)
    return changed


def newest_result_id(db: pw.Database) -> int | None:
    """SQLite: the largest Result id before an insert (None elsewhere): ids an insert adds are larger."""
    if not is_sqlite(db):
        return None
    return int(db.execute_sql('SELECT COALESCE(MAX("id"), 0) FROM "result"').fetchone()[0])


def index_new_result_names(db: pw.Database, newest_before: int | None) -> None:
    """SQLite: put the Results an insert added (ids above `newest_before`: an INTEGER PRIMARY KEY takes
    max + 1) into the name trigram index in one statement (schema v8; why in db._name_fts_writer_v8).
    Nothing can rename them in between: the caller does this right after its insert."""
    if newest_before is None:
        return
    db.execute_sql(f'INSERT INTO "{NAME_FTS}"(rowid, display_name, pipeline) '
                   'SELECT "id", "display_name", "pipeline" FROM "result" WHERE "id" > ?', (newest_before,))


def add_warnings(b: Batch, infos: list[g.RunInfo]) -> int:
    """Malformed user annotations are kept as warnings on the Result (rare path: read-modify-write)."""
    by_result: dict[str, list[str]] = {}
    for i in infos:
        if i.warnings:
            by_result.setdefault(i.result_name, []).extend(i.warnings)
    changed = 0
    for name, ws in by_result.items():
        row = Result.get_or_none((Result.cluster == b.cluster) & (Result.name == name))
        if row is None:
            continue
        cur = json.loads(row.warnings or "[]")
        merged = cur + [w for w in dict.fromkeys(ws) if w not in cur]
        if merged != cur:
            Result.update(warnings=dumps(merged[-MAX_WARNINGS:]), seq=b.seq, update_time=b.now).where(
                Result.id == row.id).execute()
            changed += 1
    return changed


_RUN_FIELDS = [
    Record.result, Record.cluster, Record.parent, Record.name, Record.uid, Record.type, Record.data,
    Record.rv, Record.kind, Record.run_name, Record.run_uid, Record.status, Record.reason, Record.start,
    Record.end, Record.duration, Record.pipeline, Record.pipeline_task, Record.task, Record.top_level,
    Record.in_cluster, Record.final, Record.create_time, Record.update_time, Record.seq, Record.imported_at,
]


def upsert_runs(b: Batch, runs: list[tuple[g.RunInfo, str]]) -> int:
    """Upsert run Records (newer resourceVersion wins) and add the changed runs' labels."""
    if not runs:
        return 0
    EX = pw.EXCLUDED
    keep = {"cluster", "uid", "create_time"}  # identity
    update = {f: getattr(EX, f.column_name) for f in _RUN_FIELDS if f.name not in keep}
    # a strictly newer resourceVersion proves the object is alive: a false "gone" heals (a DELETED
    # event's Gone is applied after the upserts of its batch, so a real deletion still wins)
    update[Record.deleted_at] = NULL
    if b.imported:  # a newer copy from a dump does not unsee a run a watcher saw
        del update[Record.imported_at]
    imported_at = b.now if b.imported else None
    ids = b.result_ids
    rows = [
        (ids[i.result_name], b.cluster, i.namespace, i.record_name, i.uid, i.record_type, raw, i.rv, i.kind, i.name,
         i.uid, i.status, i.reason, i.start, i.end, i.duration, i.pipeline, i.pipeline_task, i.task,
         i.top_level, True, i.final, i.created or b.now, b.now, b.seq, imported_at)
        for i, raw in runs
    ]
    changed = bulk_insert(b.db, lambda r: Record.insert_many(r, fields=_RUN_FIELDS).on_conflict(
        conflict_target=[Record.cluster, Record.uid], update=update, where=(Record.rv < EX.rv)), rows,
        key=("record.runs", b.imported))
    if changed == len(rows):  # every run was new or newer (a bulk import): no need to ask which
        written = [i for i, _ in runs]
    elif changed:
        # The rows this batch changed carry its seq (writers are serialized, so seq is ours alone):
        # cheaper than RETURNING through peewee, and it works with executemany.
        by_uid = {i.uid: i for i, _ in runs}
        returned = Record.select(Record.uid).where(
            (Record.seq == b.seq) & (Record.cluster == b.cluster) & (Record.kind << RUN_KIND_NAMES)).tuples()
        written = [by_uid[u] for (u,) in returned if u in by_uid]
    else:
        written = []
    if not b.imported and len(written) < len(rows):
        changed += mark_seen(b, {i.uid for i, _ in runs} - {i.uid for i in written})
    if written:
        add_labels(b, written)
        upsert_run_stats(b, written)
    return changed


def mark_seen(b: Batch, uids: set[str]) -> int:
    """Clear the imported mark of runs a watcher (or a Results source) wrote at the version an import
    stored: the upsert skips an equal resourceVersion, so it cannot clear it. One indexed lookup per run."""
    changed = 0
    for chunk in chunks(sorted(uids), 500):
        changed += Record.update(imported_at=None, seq=b.seq, update_time=b.now).where(
            (Record.cluster == b.cluster) & (Record.uid << chunk) & Record.imported_at.is_null(False)).execute()
    return changed


_STAT_FIELDS = [
    RunStat.id, RunStat.result, RunStat.kind, RunStat.cluster, RunStat.parent, RunStat.run_name, RunStat.status,
    RunStat.reason, RunStat.created, RunStat.start, RunStat.end, RunStat.duration, RunStat.pipeline,
    RunStat.pipeline_task, RunStat.task, RunStat.top_level, RunStat.retries,
]


def upsert_run_stats(b: Batch, infos: list[g.RunInfo]) -> None:
    """The statistics rows (models.RunStat) of the runs this batch wrote, in the same transaction.

    Record ids come from the (uid, cluster) index alone (it covers the id), never the Record rows.
    """
    if not infos:
        return
    ids = dict(select_in(b.db, Record, (Record.uid, Record.id), Record.uid, b.cluster, [i.uid for i in infos]))
    res = b.result_ids
    rows = [(ids[i.uid], res[i.result_name], i.kind, b.cluster, i.namespace, i.name, i.status, i.reason,
             i.created or b.now, i.start, i.end, i.duration, i.pipeline, i.pipeline_task, i.task, i.top_level, i.retries)
            for i in infos]
    rows.sort(key=lambda r: r[0])  # ids ascending: a bulk import appends to the table
    EX = pw.EXCLUDED
    update = {f: getattr(EX, f.column_name) for f in _STAT_FIELDS if f.name not in ("id", "created")}
    bulk_insert(b.db, lambda r: RunStat.insert_many(r, fields=_STAT_FIELDS).on_conflict(
        conflict_target=[RunStat.id], update=update), rows, key="run_stat")
    stat_days.runs_written(b.db, infos, res, b.days_before, b.now, settle=b.settle_days,
                           undated=[ids[i.uid] for i in infos if not i.created])


def add_labels(b: Batch, infos: list[g.RunInfo]) -> None:
    """Add the changed runs' labels to their Results' label sets (insert-or-ignore; see models.Label).

    Deduplicated per Result first (a PipelineRun's TaskRuns repeat its labels: ~50 pairs per
    Result become ~17 rows), and written in Result order so new Results' rows append to the
    primary key. A plain dict per Result holds each key's first value; only the few keys seen
    with a second value (tekton.dev/task across TaskRuns) go to a set — measured ~3x cheaper
    than a set of (key, value) tuples for every label of every run.
    """
    per: dict[int, tuple[dict[str, str], set[tuple[str, str]]]] = {}
    for i in infos:
        rid = b.result_ids[i.result_name]
        got = per.get(rid)
        if got is None:
            per[rid] = (dict(i.labels), set())
            continue
        first, more = got
        for k, v in i.labels.items():
            cur = first.setdefault(k, v)
            if cur is not v and cur != v:
                more.add((k, v))
    rows = []
    too_long = False
    for rid in sorted(per):
        first, more = per[rid]
        rows.extend([(rid, k, v) for k, v in first.items()])
        if first and (max(map(len, first)) > 317 or max(map(len, first.values())) > 255):
            too_long = True
        if more:
            rows.extend([(rid, k, v) for k, v in more])
            too_long = too_long or any(len(k) > 317 or len(v) > 255 for k, v in more)
    if too_long:  # longer than Kubernetes allows (and than the columns): rare
        rows = list(dict.fromkeys((rid, k[:317], v[:255]) for rid, k, v in rows))
    fields = [Label.result, Label.key, Label.value]
    bulk_insert(b.db, lambda r: Label.insert_many(r, fields=fields).on_conflict_ignore(), rows, key="label")


_DOC_FIELDS = [
    Record.result, Record.cluster, Record.parent, Record.name, Record.uid, Record.type, Record.data, Record.rv,
    Record.kind, Record.run_name, Record.run_uid, Record.status, Record.reason, Record.start, Record.end,
    Record.duration, Record.pipeline, Record.pipeline_task, Record.task, Record.top_level, Record.in_cluster,
    Record.final, Record.create_time, Record.update_time, Record.seq,
]
_STEP_FIELDS = [StepLog.record, StepLog.step, StepLog.container, StepLog.position, StepLog.data, StepLog.size,
                StepLog.truncated, StepLog.state]
def _document_row(b: Batch, info: g.RunInfo, kind: str, uid: str, data: str, rv: int) -> tuple:
    """A run's Log/EventList Record as a row of _DOC_FIELDS."""
    return (b.result_ids[info.result_name], b.cluster, info.namespace, g.record_name(info.result_name, uid), uid,
            DOCUMENT_TYPES[kind], data, rv, kind, info.name, info.uid, "", None, info.start, info.end, None,
            info.pipeline, info.pipeline_task, info.task, False, True, info.final, info.created or b.now, b.now, b.seq)


def _document_upsert(rows: list[tuple], where: pw.Expression) -> Any:
    """Log/EventList Records (rows of _DOC_FIELDS); an existing one is rewritten where `where` holds."""
    EX = pw.EXCLUDED
    return Record.insert_many(rows, fields=_DOC_FIELDS).on_conflict(
        conflict_target=[Record.cluster, Record.uid],
        update={Record.data: EX.data, Record.rv: EX.rv, Record.update_time: EX.update_time, Record.seq: EX.seq,
                Record.final: EX.final, Record.start: EX.start, Record.end: EX.end},
        where=where)


def upsert_document(b: Batch, info: g.RunInfo, kind: str, data: str, rv: int,
                    where: Callable[[], pw.Expression], shape: str) -> tuple[int, int]:
    """Upsert a run's Log/EventList Record (its id derives from the run's uid); (record id, rows changed).
    `where(): the condition an existing row is updated on, `shape` names it (the statement is cached by it)."""
    uid = g.derived_uid(info.uid, kind)
    row = _document_row(b, info, kind, uid, data, rv)
    sql, extra = statement(b.db, lambda r: _document_upsert(r, where()).returning(Record.id), row, "document-" + shape)
    got = b.db.execute_sql(sql, row + extra).fetchall()
    p = b.db.param
    if got:
        rid, changed = got[0][0], 1
    else:
        rid = b.db.execute_sql(f'SELECT "id" FROM "record" WHERE "cluster" = {p} AND "uid" = {p}',
                               (b.cluster, uid)).fetchone()[0]
        changed = 0
    # logs/events that arrive after their run left the cluster are gone with it
    run = b.db.execute_sql(f'SELECT "in_cluster", "deleted_at" FROM "record" WHERE "cluster" = {p} AND "uid" = {p}',
                           (b.cluster, info.uid)).fetchone()
    if run is not None and not run[0]:
        changed += Record.update(in_cluster=False, deleted_at=run[1], seq=b.seq, update_time=b.now).where(
            (Record.id == rid) & (Record.in_cluster == True)).execute()  # noqa: E712
    return rid, changed


def upsert_logs(b: Batch, info: g.RunInfo, steps: list[StepLogData]) -> int:
    """A TaskRun's Log Record and its step logs (compressed, one row per step container)."""
    rid, changed = upsert_document(b, info, kinds.LOG.name, dumps(log_document(info, steps)), info.rv,
                                   where=lambda: Record.data != pw.EXCLUDED.data, shape="log")
    rows = [(rid, s.step, s.container, pos, zlib.compress(s.text, 6), len(s.text), s.truncated, s.state)
            for pos, s in enumerate(steps)]
    for chunk in chunks(rows, 100):
        if is_sqlite(b.db):  # one prepared statement for every step (rowcount: the rows it changed)
            sql, extra = statement(b.db, _step_upsert, chunk[0], "step-logs")
            with _WRAP_DB_ERRORS:  # the driver's errors as peewee's, as execute_sql gives them (callers classify those)
                cur = b.db.cursor()
                cur.executemany(sql, [r + extra for r in chunk])
            n = max(cur.rowcount, 0)
        else:
            n = rowcount(_step_upsert(chunk).as_rowcount().execute())
        if n and not changed:
            # logs changed under an unchanged Log record: still a change readers must see
            Record.update(seq=b.seq, update_time=b.now).where(Record.id == rid).execute()
            changed = 1
        changed += n
    if log_index.has_index(b.db):  # searchable in the same transaction that stores them
        log_index.index_step_logs(b.db, rid, info.created or b.now, [(s.step, s.text) for s in steps])
    return changed


def upsert_log_batch(b: Batch, logs: list[tuple[g.RunInfo, list[StepLogData]]]) -> int:
    """A batch's Log Records and step logs. On PostgreSQL in a few statements for the whole batch: one Log at
    a time took ~6 round trips (its Record, its run's state, its steps, the index's reads), about half of a
    synced Log's store time. SQLite runs in-process, where a statement per Log costs little: one at a time."""
    uids = [g.derived_uid(info.uid, kinds.LOG.name) for info, _ in logs]
    if is_sqlite(b.db) or len(logs) < 2 or len(set(uids)) < len(uids):  # the same Log twice: in order
        return sum(upsert_logs(b, info, steps) for info, steps in logs)
    rows = [_document_row(b, info, kinds.LOG.name, uid, dumps(log_document(info, steps)), info.rv)
            for (info, steps), uid in zip(logs, uids)]
    written = dict(bulk_returning(
        b.db, lambda r: _document_upsert(r, Record.data != pw.EXCLUDED.data).returning(Record.uid, Record.id), rows,
        key="log-documents"))
    ids = dict(written)
    ids.update(select_in(b.db, Record, (Record.uid, Record.id), Record.uid, b.cluster,
                         [u for u in uids if u not in written]))
    changed = len(written)
    # logs that arrive after their run left the cluster are gone with it
    run_state = {u: (inc, at) for u, inc, at in select_in(
        b.db, Record, (Record.uid, Record.in_cluster, Record.deleted_at), Record.uid, b.cluster,
        list({info.uid for info, _ in logs}))}
    stamped = {ids[u] for u in written}  # Log Records this batch's sequence is on already
    for (info, _), uid in zip(logs, uids):
        state = run_state.get(info.uid)
        if state is not None and not state[0]:
            n = Record.update(in_cluster=False, deleted_at=state[1], seq=b.seq, update_time=b.now).where(
                (Record.id == ids[uid]) & (Record.in_cluster == True)).execute()  # noqa: E712
            changed += n
            if n:
                stamped.add(ids[uid])
    step_rows = [(ids[uid], s.step, s.container, pos, zlib.compress(s.text, 6), len(s.text), s.truncated, s.state)
                 for (_, steps), uid in zip(logs, uids) for pos, s in enumerate(steps)]
    stepped = [rid for (rid,) in bulk_returning(b.db, lambda r: _step_upsert(r).returning(StepLog.record),
                                                step_rows, key="step-logs-returning")]
    changed += len(stepped)
    # logs changed under an unchanged Log record: still a change readers must see
    touched = sorted(set(stepped) - stamped)
    for chunk in chunks(touched):
        changed += Record.update(seq=b.seq, update_time=b.now).where(Record.id.in_(list(chunk))).execute()
    if log_index.has_index(b.db):  # searchable in the same transaction that stores them
        stored = log_index.stored_steps(b.db, [ids[u] for u in uids])
        log_index.index_docs(b.db, [doc for (info, steps), uid in zip(logs, uids) for doc in log_index.step_docs(
            stored.get(ids[uid], {}), info.created or b.now, [(s.step, s.text) for s in steps])])
    return changed


def _step_upsert(rows: list[tuple]) -> Any:
    """The step logs upsert: an existing step log (its Log Record, its step) is rewritten only when it changed."""
    EX = pw.EXCLUDED
    return StepLog.insert_many(rows, fields=_STEP_FIELDS).on_conflict(
        conflict_target=[StepLog.record, StepLog.step],
        update={StepLog.data: EX.data, StepLog.size: EX.size, StepLog.truncated: EX.truncated,
                StepLog.state: EX.state, StepLog.container: EX.container, StepLog.position: EX.position},
        where=((StepLog.data != EX.data) | (StepLog.state != EX.state) | (StepLog.truncated != EX.truncated)),
    )


def upsert_events(b: Batch, info: g.RunInfo, items: list[dict]) -> int:
    """A run's EventList Record: a newer list (or the same version with other contents) replaces it."""
    EX = pw.EXCLUDED
    _, changed = upsert_document(
        b, info, kinds.EVENT_LIST.name, dumps(event_list_document(items)), events_version(items),
        where=lambda: (Record.rv < EX.rv) | ((Record.rv == EX.rv) & (Record.data != EX.data)), shape="events",
    )
    return changed


def mark_gone(b: Batch, gones: dict[str, tuple[int, int | None]]) -> int:
    """Mark runs (and their Log/EventList) out of the cluster; a Result when none of its top-level runs is left."""
    changed = 0
    groups: dict[tuple[int, int | None], list[str]] = {}
    for uid, key in gones.items():
        groups.setdefault(key, []).append(uid)
    stamp = {"seq": b.seq, "update_time": b.now}
    for (at, before_rv), uids in groups.items():
        for chunk in chunks(uids):
            runs = (Record.cluster == b.cluster) & (Record.in_cluster == True) & (Record.uid << list(chunk))  # noqa: E712
            if before_rv is not None:
                runs = runs & (Record.rv < before_rv)
            got = list(Record.update(in_cluster=False, deleted_at=at, **stamp)
                       .where(runs).returning(Record.id, Record.result, Record.top_level, Record.uid)
                       .tuples().execute())
            if not got:
                continue
            changed += len(got)
            # the runs' Log/EventList records (their ids derive from the run's uid) go with them
            docs = [g.derived_uid(x, d.name) for (_, _, _, x) in got for d in kinds.DOCUMENT_KINDS]
            changed += Record.update(in_cluster=False, deleted_at=at, **stamp).where(
                (Record.cluster == b.cluster) & (Record.in_cluster == True) & (Record.uid << docs)  # noqa: E712
            ).execute()
            tops = sorted({res for _, res, top, _ in got if top})
            if tops:
                # a Result is gone when none of its top-level runs is left in the cluster
                # (trigger event-id grouping can put several top-level runs in one Result)
                alive = Record.select(Record.id).where(
                    (Record.result == Result.id) & (Record.top_level == True) & (Record.in_cluster == True))  # noqa: E712
                changed += Result.update(in_cluster=False, gone_at=at, **stamp).where(
                    (Result.id << tops) & (Result.in_cluster == True) & ~pw.fn.EXISTS(alive)  # noqa: E712
                ).execute()
    return changed
