"""Reads that `serve` (the Tekton Results v1alpha2 API) needs: keyset pages of Results and Records in
upstream's orders over a compiled filter (api_filter.py), lookups by name, and a log read in chunks.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.api_filter import AllOf, Cond, Node, compile_node, on_sqlite
from tekton_results_tui.store.models import Record, Result, StepLog
from tekton_results_tui.store.sql import chunks, loads_json
from tekton_results_tui.store.storable import storable_text

@dataclass
class ApiResult:
    id: int
    name: str
    uid: str
    parent: str
    annotations: dict
    summary_record: str | None
    summary_type: str | None
    summary_status: str
    summary_start: int | None
    summary_end: int | None
    summary_annotations: dict
    create_time: int
    update_time: int
    sort_value: Any = None


@dataclass
class ApiRecord:
    id: int
    name: str
    uid: str
    type: str
    kind: str
    data: str | bytes | None  # bytes on SQLite (see _data)
    create_time: int
    update_time: int
    sort_value: Any = None


@dataclass
class Scope:
    """Which rows a listing covers before its filter: a namespace and/or one Result (None = all)."""

    namespace: str | None = None
    result_name: str | None = None  # <ns>/results/<id>
    result_id: str | None = None  # the <id> of a Result in any namespace (parent `-/results/<id>`)
    kinds: tuple[str, ...] | None = None  # Records of these kinds only (logs: Log)
    types: tuple[str, ...] = field(default_factory=tuple)


RESULT_ORDER_COLS = {
    "id": Result.id, "create_time": Result.create_time, "update_time": Result.update_time,
    "summary.start_time": pw.fn.COALESCE(Result.summary_start, -1),
    "summary.end_time": pw.fn.COALESCE(Result.summary_end, -1),
}
RECORD_ORDER_COLS = {"id": Record.id, "create_time": Record.create_time, "update_time": Record.update_time}


def _keyset(expr: pw.Node, id_col: pw.Field, desc: bool, after: tuple[Any, int] | None) -> pw.Expression | None:
    if after is None:
        return None
    v, last = after
    if expr is id_col:
        return id_col < last if desc else id_col > last
    if desc:
        return (expr < v) | ((expr == v) & (id_col < last))
    return (expr > v) | ((expr == v) & (id_col > last))


def _ordered(q: pw.Select, expr: pw.Node, id_col: pw.Field, desc: bool) -> pw.Select:
    if expr is id_col:
        return q.order_by(id_col.desc() if desc else id_col.asc())
    return q.order_by(*((expr.desc(), id_col.desc()) if desc else (expr.asc(), id_col.asc())))


def _raw_rows(q: pw.Select) -> Any:
    """The driver's rows as they come: the columns read here need no conversion (ints, text; JSON columns
    go through loads_json, which takes PostgreSQL's decoded values too; Record.data is read as text,
    see _data), and peewee's per-value converters were a third of a page's Python time."""
    return q.model._meta.database.execute(q)


def _result_scope(scope: Scope) -> list[pw.Expression]:
    conds = []
    if scope.namespace is not None:
        conds.append(Result.parent == storable_text(scope.namespace))
    return conds


def list_results(scope: Scope, node: Node, order: str, desc: bool, after: tuple[Any, int] | None,
                 limit: int) -> list[ApiResult]:
    """Up to `limit` Results (the caller asks one more than a page to know whether another follows)."""
    expr = RESULT_ORDER_COLS[order]
    q = Result.select(Result.id, Result.name, Result.uid, Result.parent, Result.annotations, Result.summary_record,
                      Result.summary_type, Result.summary_status, Result.summary_start, Result.summary_end,
                      Result.summary_annotations, Result.create_time, Result.update_time, expr.alias("sortv"))
    for c in [*_result_scope(scope), compile_node(node, "results"), _keyset(expr, Result.id, desc, after)]:
        if c is not None:
            q = q.where(c)
    out = []
    for t in _raw_rows(_ordered(q, expr, Result.id, desc).limit(limit)):
        (rid, name, uid, parent, ann, srec, stype, sstat, sstart, send, sann, ct, ut, sv) = t
        out.append(ApiResult(rid, name, uid, parent, loads_json(ann, {}), srec, stype, sstat or g.UNKNOWN, sstart,
                             send, loads_json(sann, {}), ct, ut, sv))
    return out


def record_scope(scope: Scope) -> list[pw.Expression]:
    conds: list[pw.Expression] = []
    if scope.result_name is not None:
        conds.append(Record.result.in_(Result.select(Result.id).where(Result.name == storable_text(scope.result_name))))
    elif scope.result_id is not None:
        rid = storable_text(scope.result_id)
        if scope.namespace is not None:
            conds.append(Record.result.in_(Result.select(Result.id).where(
                Result.name == f"{storable_text(scope.namespace)}/results/{rid}")))
        else:  # `-/results/<id>`: that id in every namespace (few namespaces; names are indexed)
            names = [f"{ns}/results/{rid}" for (ns,) in Result.select(Result.parent).distinct().tuples()]
            conds.append(Record.result.in_(Result.select(Result.id).where(Result.name.in_(names or [""]))))
    if scope.namespace is not None:
        conds.append(Record.parent == storable_text(scope.namespace))
    if scope.kinds is not None:
        conds.append(Record.kind.in_(list(scope.kinds)))
    return conds


def _data() -> pw.Node:
    """The stored object: on SQLite its UTF-8 bytes as stored (the API sends them base64-encoded, so
    decoding to str and encoding back was wasted work: a tenth of a page of Records). On PostgreSQL
    jsonb's text, as upstream's API (also on jsonb) sends it: read as jsonb, psycopg2 parsed each object
    and the field serialized it again, ~half of a label-filter page of 50 Records (120k records)."""
    return Record.data.cast("BLOB") if on_sqlite() else Record.data.cast("text")


def list_records(scope: Scope, node: Node, order: str, desc: bool, after: tuple[Any, int] | None,
                 limit: int, with_data: bool = True) -> list[ApiRecord]:
    expr = RECORD_ORDER_COLS[order]
    cols = [Record.id, Record.name, Record.uid, Record.type, Record.kind,
            _data() if with_data else pw.Value(None), Record.create_time, Record.update_time, expr.alias("sortv")]
    q = Record.select(*cols)
    for c in [*record_scope(scope), compile_node(node, "records", order=order), _keyset(expr, Record.id, desc, after)]:
        if c is not None:
            q = q.where(c)
    q = _ordered(q, expr, Record.id, desc).limit(limit)
    return [ApiRecord(*t) for t in _raw_rows(q)]


def get_result(name: str) -> ApiResult | None:
    rows = list_results(Scope(), AllOf((Cond("name", "==", name),)), "id", False, None, 1)
    return rows[0] if rows else None


_GET_RECORD_SQLITE = ('SELECT "id", "name", "uid", "type", "kind", CAST("data" AS BLOB), "create_time", "update_time", '
                      '"id" FROM "record" WHERE "uid" = ? AND "name" = ? LIMIT 1')


def get_record(result_name: str, record_id: str) -> ApiRecord | None:
    """A Record of one Result by its id (the last segment of its name)."""
    name = storable_text(f"{result_name}/records/{record_id}")
    if on_sqlite():  # the API's most frequent call: plain SQL (peewee's SQL building was half its time)
        t = Record._meta.database.execute_sql(_GET_RECORD_SQLITE, (storable_text(record_id), name)).fetchone()
        return ApiRecord(*t) if t else None
    q = Record.select(Record.id, Record.name, Record.uid, Record.type, Record.kind, _data(), Record.create_time,
                      Record.update_time, Record.id).where((Record.uid == storable_text(record_id)) & (Record.name == name))
    t = next(iter(_raw_rows(q.limit(1))), None)
    return ApiRecord(*t) if t else None


# --- logs ------------------------------------------------------------------------------


@dataclass
class LogPart:
    """One step's stored log, in the order a run's log is read: its prefix names task and step."""

    step_log_id: int
    prefix: str
    size: int
    state: str
    truncated: bool


def log_parts(record: ApiRecord, result_name: str) -> list[LogPart] | None:
    """The step logs a Log record, or a run record (its Log; a PipelineRun: its TaskRuns' Logs), holds.
    None: nothing was stored for it."""
    if record.kind == kinds.LOG.name:
        return _steps_of([(record.id, None)])
    if record.kind == kinds.LOG.name or record.kind not in kinds.RUN_KIND_NAMES:
        return None
    own = g.derived_uid(record.uid, kinds.LOG.name)
    q = (Record.select(Record.id).where((Record.uid == own) & (Record.kind == kinds.LOG.name)))
    rid = q.scalar()
    if rid is not None:
        return _steps_of([(rid, None)])
    # a PipelineRun: the Logs of the TaskRuns of its Result, in start order, named by pipeline task
    runs = (Record.select(Record.uid, Record.pipeline_task, Record.run_name)
            .where((Record.result.in_(Result.select(Result.id).where(Result.name == storable_text(result_name))))
                   & (Record.kind.in_(list(kinds.RUN_KIND_NAMES))) & (Record.top_level == False))  # noqa: E712
            .order_by(pw.fn.COALESCE(Record.start, Record.create_time), Record.id).tuples())
    wanted = [(g.derived_uid(u, kinds.LOG.name), pt or rn) for u, pt, rn in runs]
    if not wanted:
        return None
    ids: dict[str, int] = {}
    for chunk in chunks([w for w, _ in wanted]):
        ids.update({u: i for u, i in Record.select(Record.uid, Record.id).where(
            (Record.uid.in_(list(chunk))) & (Record.kind == kinds.LOG.name)).tuples()})
    found = [(ids[w], task) for w, task in wanted if w in ids]
    return _steps_of(found) if found else None


def _steps_of(logs: list[tuple[int, str | None]]) -> list[LogPart]:
    out: list[LogPart] = []
    for rid, task in logs:
        q = (StepLog.select(StepLog.id, StepLog.step, StepLog.size, StepLog.state, StepLog.truncated)
             .where(StepLog.record == rid).order_by(StepLog.position, StepLog.id))
        for sid, step, size, state, trunc in q.tuples():
            out.append(LogPart(sid, f"[{task} : {step}] " if task else f"[{step}] ", int(size or 0), state, bool(trunc)))
    return out


def _compressed_pieces(step_log_id: int, chunk_bytes: int) -> Iterator[bytes]:
    """The stored (compressed) blob a slice at a time. SQLite: incremental blob I/O, which reads only
    the pages of each slice (SUBSTR would read the blob from its start every time); PostgreSQL:
    substring of the bytea."""
    if on_sqlite():
        conn = Result._meta.database.obj.connection()
        try:
            blob = conn.blobopen("step_log", "data", step_log_id, readonly=True)
        except Exception:  # noqa: BLE001 - no such row, or a NULL value: nothing to read
            return
        with blob:
            while True:
                piece = blob.read(chunk_bytes)
                if not piece:
                    return
                yield piece
    total = StepLog.select(pw.fn.LENGTH(StepLog.data)).where(StepLog.id == step_log_id).scalar() or 0
    pos = 0
    while pos < total:
        piece = StepLog.select(pw.fn.SUBSTRING(StepLog.data, pos + 1, chunk_bytes)).where(
            StepLog.id == step_log_id).scalar()
        if not piece:
            return
        pos += len(piece)
        yield bytes(piece)


def log_chunks(step_log_id: int, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    """One step's log, decompressed a piece at a time from slices of the stored blob: neither the
    blob nor the text is ever held whole."""
    d = zlib.decompressobj()
    for piece in _compressed_pieces(step_log_id, chunk_bytes):
        out = d.decompress(piece, chunk_bytes * 4)
        while True:
            if out:
                yield out
            if not d.unconsumed_tail:
                break
            out = d.decompress(d.unconsumed_tail, chunk_bytes * 4)
    rest = d.flush()
    if rest:
        yield rest
