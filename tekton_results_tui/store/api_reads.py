"""Reads that `serve` (the Tekton Results v1alpha2 API) needs: filter trees compiled to the index
columns, keyset pages in upstream's orders, the record-list summary, and a log read in chunks.

The API layer parses CEL into the small tree below (pure data); this module alone turns it into
SQL. Run fields come from index columns; only map lookups (annotations, labels) read JSON, and a
label lookup is first narrowed by the label index so the JSON is read on matching Results only.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence, Union

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.models import Label, Record, Result, StepLog
from tekton_results_tui.store.sql import chunks, loads_json
from tekton_results_tui.store.storable import storable_text

# --- the filter tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    """`field op value`. `key` names the map entry of a map field (annotations, labels)."""

    field: str
    op: str  # == != < > <= >= in contains startsWith endsWith has
    value: Any
    key: str | None = None


@dataclass(frozen=True)
class AllOf:
    items: tuple


@dataclass(frozen=True)
class AnyOf:
    items: tuple


@dataclass(frozen=True)
class Negate:
    item: Any


@dataclass(frozen=True)
class Const:
    value: bool


Node = Union[Cond, AllOf, AnyOf, Negate, Const]

# Fields each listing can filter on: name -> kind of value ("str", "time", "int", "status", "map")
RESULT_FIELDS = {
    "parent": "str", "uid": "str", "name": "str", "annotations": "map", "summary.status": "status",
    "summary.type": "str", "summary.record": "str", "summary.start_time": "time", "summary.end_time": "time",
    "summary.annotations": "map", "create_time": "time", "update_time": "time",
}
RECORD_FIELDS = {
    "name": "str", "parent": "str", "data_type": "str", "data.metadata.name": "str",
    "data.metadata.namespace": "str", "data.metadata.uid": "str", "data.metadata.labels": "map",
    "data.metadata.annotations": "map", "data.metadata.creationTimestamp": "time",
    "data.status.conditions[0].reason": "str", "data.status.conditions[0].status": "str",
    "data.status.startTime": "time", "data.status.completionTime": "time", "duration": "int",
    "create_time": "time", "update_time": "time",
}


class UnsupportedFilter(ValueError):
    """A filter the store cannot answer from its columns (the API says 400, naming it)."""


def _text_op(col: pw.Node, op: str, v: Any) -> pw.Expression:
    if op == "in":
        vals = [storable_text(str(x)) for x in v]
        return col.in_(vals) if vals else pw.SQL("1 = 0")
    if op in ("contains", "startsWith", "endsWith"):  # case-sensitive as CEL's (LIKE is not, on SQLite)
        s = storable_text(str(v))
        n = len(s)
        if not s:
            return col.is_null(False)
        if op == "startsWith":
            return pw.fn.SUBSTR(col, 1, n) == s
        if op == "endsWith":
            return (pw.fn.SUBSTR(col, -n) if _on_sqlite() else pw.fn.RIGHT(col, n)) == s
        return (pw.fn.INSTR(col, s) if _on_sqlite() else pw.fn.STRPOS(col, s)) > 0
    return _cmp(col, op, storable_text(str(v)) if isinstance(v, str) else v)


def _cmp(col: pw.Node, op: str, v: Any) -> pw.Expression:
    if op == "in":
        return col.in_(list(v)) if v else pw.SQL("1 = 0")
    ops = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", ">": "__gt__", "<=": "__le__", ">=": "__ge__"}
    if op not in ops:
        raise UnsupportedFilter(f"operator {op} on this field")
    return getattr(col, ops[op])(v)


def _on_sqlite() -> bool:
    db = Result._meta.database
    return is_sqlite(getattr(db, "obj", None) or db)


def _json_text(col: pw.Field, path: Sequence[str]) -> pw.Node:
    """The text at `path` in a JSON column: json_extract on SQLite, jsonb_extract_path_text on PostgreSQL."""
    if _on_sqlite():
        for p in path:
            if '"' in p or "\\" in p:
                raise UnsupportedFilter(f"map key {p!r} (a quote or backslash in a key)")
        return pw.fn.json_extract(col, "$" + "".join(f'."{p}"' for p in path))
    return pw.fn.jsonb_extract_path_text(col, *path)


def _map_cond(col: pw.Field, prefix: Sequence[str], c: Cond) -> pw.Expression:
    if c.op == "has":  # map.contains('k'): the key is present
        return _json_text(col, [*prefix, str(c.value)]).is_null(False)
    if c.key is None:
        raise UnsupportedFilter(f"{c.field} compared as a whole (use {c.field}[\"key\"])")
    return _text_op(_json_text(col, [*prefix, c.key]), c.op, c.value)


def _result_cond(c: Cond) -> pw.Expression:
    cols = {"parent": Result.parent, "uid": Result.uid, "name": Result.name, "summary.status": Result.summary_status,
            "summary.type": Result.summary_type, "summary.record": Result.summary_record,
            "summary.start_time": Result.summary_start, "summary.end_time": Result.summary_end,
            "create_time": Result.create_time, "update_time": Result.update_time}
    if c.field == "annotations":
        return _map_cond(Result.annotations, [], c)
    if c.field == "summary.annotations":
        return _map_cond(Result.summary_annotations, [], c)
    col = cols.get(c.field)
    if col is None:
        raise UnsupportedFilter(f"field {c.field} on Results")
    return _text_op(col, c.op, c.value) if RESULT_FIELDS[c.field] in ("str", "status") else _cmp(col, c.op, c.value)


_COND_STATUS = {  # a run's Succeeded condition status -> our summary statuses
    "True": [g.SUCCESS], "False": [g.FAILURE, g.TIMEOUT, g.CANCELLED],
}


def _unless_absent(present: pw.Expression, expr: pw.Expression) -> pw.Node:
    """`expr` where the field exists, NULL where it does not: as upstream's SQL on JSON, a missing field
    matches neither a comparison nor its negation."""
    return pw.Case(None, ((present, expr),), None)


def _condition_status(op: str, v: Any) -> pw.Node:
    vals = list(v) if op == "in" else [v]
    if op not in ("==", "!=", "in"):
        raise UnsupportedFilter(f"operator {op} on data.status.conditions[0].status")
    parts: list[pw.Expression] = []
    for x in vals:
        if x in _COND_STATUS:
            parts.append(Record.status.in_(_COND_STATUS[x]))
        elif x == "Unknown":
            parts.append(Record.status == g.UNKNOWN)
    expr = _any(parts)
    has_condition = Record.kind.in_(list(kinds.RUN_KIND_NAMES)) & Record.reason.is_null(False)
    return _unless_absent(has_condition, ~expr if op == "!=" else expr)


LOG_NAME_SUFFIX = "-log"  # a Log record's object is named after its run (store/documents.py)


def _object_name(op: str, v: Any) -> pw.Expression:
    """data.metadata.name from the indexed run name: a run's own, a Log's `<run>-log`."""
    runs = Record.kind.in_(list(kinds.RUN_KIND_NAMES))
    logs = Record.kind == kinds.LOG.name
    if op in ("==", "!=", "in"):
        vals = [str(x) for x in (v if op == "in" else [v])]
        log_vals = [x[: -len(LOG_NAME_SUFFIX)] for x in vals if x.endswith(LOG_NAME_SUFFIX)]
        expr = (runs & _text_op(Record.run_name, "in", vals)) | (logs & _text_op(Record.run_name, "in", log_vals))
        return ~expr if op == "!=" else expr
    if op in ("contains", "startsWith", "endsWith"):
        return ((runs & _text_op(Record.run_name, op, v))
                | (logs & _text_op(Record.run_name.concat(LOG_NAME_SUFFIX), op, v)))
    return runs & _text_op(Record.run_name, op, v)


RARE_LABEL_SHARE = 200  # a label on fewer than 1 in this many Results is "rare" (see _narrowed)


def _narrowed(sub: pw.Select) -> pw.Expression:
    """Records of the Results `sub` (label rows) names, in the shape that reads fewest stored objects.

    The label index finds the Results; the run's own JSON then confirms the label (the index holds
    the union of a Result's labels). A rare label: look its Records up by Result (few objects read,
    then sorted). A common one: walk Records in page order and keep those whose Result is in the set
    (SQLite would otherwise look up and parse every Record of every matching Result before sorting;
    measured on 120k records, a label on 1 Result in 22: 195 ms -> 16 ms)."""
    if not _on_sqlite():
        return Record.result.in_(sub)
    n = sub.count()
    total = Result.select().count()
    if n * RARE_LABEL_SHARE < total:
        return Record.result.in_(sub)
    return (Record.result + 0).in_(sub)  # `+ 0`: no index on result, so the scan follows ORDER BY id


def _label_cond(c: Cond, negated: bool) -> pw.Expression:
    if c.op == "has":
        key = str(c.value)
        present = _json_text(Record.data, ["metadata", "labels", key]).is_null(False)
        if negated:
            return present
        return _narrowed(Label.select(Label.result).where(Label.key == storable_text(key))) & present
    if c.key is None:
        raise UnsupportedFilter(f"{c.field} compared as a whole (use {c.field}[\"key\"])")
    exact = _text_op(_json_text(Record.data, ["metadata", "labels", c.key]), c.op, c.value)
    if c.op in ("==", "in") and not negated:  # the label index narrows to Results that carry the label
        vals = [c.value] if c.op == "==" else list(c.value)
        sub = Label.select(Label.result).where((Label.key == storable_text(c.key))
                                               & Label.value.in_([storable_text(str(x)) for x in vals]))
        return _narrowed(sub) & exact
    return exact


RUN_ONLY_FIELDS = frozenset({"data.metadata.creationTimestamp", "data.status.startTime", "data.status.completionTime",
                             "duration", "data.status.conditions[0].reason"})


def _record_cond(c: Cond, negated: bool = False) -> pw.Node:
    cols = {"name": Record.name, "parent": Record.parent, "data_type": Record.type,
            "data.metadata.namespace": Record.parent,
            "data.metadata.uid": Record.uid, "data.metadata.creationTimestamp": Record.create_time,
            "data.status.conditions[0].reason": Record.reason, "data.status.startTime": Record.start,
            "data.status.completionTime": Record.end, "duration": Record.duration,
            "create_time": Record.create_time, "update_time": Record.update_time}
    if c.field == "data.metadata.labels":
        return _label_cond(c, negated)
    if c.field == "data.metadata.annotations":
        return _map_cond(Record.data, ["metadata", "annotations"], c)
    if c.field == "data.status.conditions[0].status":
        return _condition_status(c.op, c.value)
    if c.field == "data.metadata.name":
        return _object_name(c.op, c.value)
    col = cols.get(c.field)
    if col is None:
        raise UnsupportedFilter(f"field {c.field} on Records")
    expr = _text_op(col, c.op, c.value) if RECORD_FIELDS[c.field] == "str" else _cmp(col, c.op, c.value)
    if c.field in RUN_ONLY_FIELDS:  # a Log or EventList object has no such field (its columns are the run's)
        runs = Record.kind.in_(list(kinds.RUN_KIND_NAMES))
        return _unless_absent(runs, expr) if negated else (runs & expr)
    return expr


def _all(parts: list[pw.Expression]) -> pw.Expression:
    if not parts:
        return pw.SQL("1 = 1")
    out = parts[0]
    for p in parts[1:]:
        out = out & p
    return out


def _any(parts: list[pw.Expression]) -> pw.Expression:
    if not parts:
        return pw.SQL("1 = 0")
    out = parts[0]
    for p in parts[1:]:
        out = out | p
    return out


def compile_node(node: Node, on: str, negated: bool = False) -> pw.Expression:
    """The WHERE of a filter tree over Results (`on="results"`) or Records; UnsupportedFilter naming
    what cannot be answered from the store's columns.

    `negated` says the node sits under an odd number of `!`: there a field a row lacks must compare
    as NULL (matching neither `x == v` nor `!(x == v)`, as upstream's SQL over JSON does), so the
    index-friendly narrowing used in plain position is left out."""
    if isinstance(node, Const):
        return pw.SQL("1 = 1") if node.value else pw.SQL("1 = 0")
    if isinstance(node, Cond):
        return _result_cond(node) if on == "results" else _record_cond(node, negated)
    if isinstance(node, AllOf):
        return _all([compile_node(n, on, negated) for n in node.items])
    if isinstance(node, AnyOf):
        return _any([compile_node(n, on, negated) for n in node.items])
    if isinstance(node, Negate):
        return ~compile_node(node.item, on, not negated)
    raise UnsupportedFilter(f"filter node {type(node).__name__}")


# --- listings --------------------------------------------------------------------------


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
    data: str | None
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
    for t in _ordered(q, expr, Result.id, desc).limit(limit).tuples():
        (rid, name, uid, parent, ann, srec, stype, sstat, sstart, send, sann, ct, ut, sv) = t
        out.append(ApiResult(rid, name, uid, parent, loads_json(ann, {}), srec, stype, sstat or g.UNKNOWN, sstart,
                             send, loads_json(sann, {}), ct, ut, sv))
    return out


def _record_scope(scope: Scope) -> list[pw.Expression]:
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


def list_records(scope: Scope, node: Node, order: str, desc: bool, after: tuple[Any, int] | None,
                 limit: int, with_data: bool = True) -> list[ApiRecord]:
    expr = RECORD_ORDER_COLS[order]
    cols = [Record.id, Record.name, Record.uid, Record.type, Record.kind,
            Record.data if with_data else pw.Value(None), Record.create_time, Record.update_time, expr.alias("sortv")]
    q = Record.select(*cols)
    for c in [*_record_scope(scope), compile_node(node, "records"), _keyset(expr, Record.id, desc, after)]:
        if c is not None:
            q = q.where(c)
    return [ApiRecord(*t) for t in _ordered(q, expr, Record.id, desc).limit(limit).tuples()]


def get_result(name: str) -> ApiResult | None:
    rows = list_results(Scope(), AllOf((Cond("name", "==", name),)), "id", False, None, 1)
    return rows[0] if rows else None


def get_record(result_name: str, record_id: str) -> ApiRecord | None:
    """A Record of one Result by its id (the last segment of its name)."""
    name = storable_text(f"{result_name}/records/{record_id}")
    q = Record.select(Record.id, Record.name, Record.uid, Record.type, Record.kind, Record.data, Record.create_time,
                      Record.update_time, Record.id).where((Record.uid == storable_text(record_id)) & (Record.name == name))
    t = q.tuples().first()
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
    if _on_sqlite():
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


# --- the record-list summary -----------------------------------------------------------


TIME_GROUP_COLS = {"creationTimestamp": Record.create_time, "startTime": Record.start, "completionTime": Record.end}
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _floor_to(col: pw.Node, n: int) -> pw.Node:
    """`col` rounded down to a multiple of n (integer division on both engines; peewee's `%` is LIKE)."""
    return (col / n) * n


def _time_bucket(col: pw.Field, unit: str) -> pw.Node:
    """Start of the minute/hour/day/week (Monday, as PostgreSQL's date_trunc) holding an epoch second;
    month and year are rolled up from days by the caller."""
    if unit == "week":  # 1970-01-01 was a Thursday: Monday-based weeks are 7-day blocks from 1969-12-29
        return _floor_to(col + 3 * 86400, 7 * 86400) - 3 * 86400
    return _floor_to(col, _UNIT_SECONDS.get(unit, 86400))


def summarize(scope: Scope, node: Node, group: tuple[str, str | None] | None) -> list[dict[str, Any]]:
    """Per group (or once): total, succeeded, failed, cancelled, running, others, last start, and the
    duration sum/count/min/max of finished runs. Status buckets follow our status rules: timeouts are
    failures, every cancel reason is a cancel, a run with an Unknown condition is running."""
    runs = Record.kind.in_(list(kinds.RUN_KIND_NAMES))

    def count(cond: pw.Expression) -> pw.Node:
        return pw.fn.SUM(pw.Case(None, ((cond, 1),), 0))

    cols: list[pw.Node] = [
        pw.fn.COUNT(Record.id).alias("total"),
        count(runs & (Record.status == g.SUCCESS)).alias("succeeded"),
        count(runs & Record.status.in_([g.FAILURE, g.TIMEOUT])).alias("failed"),
        count(runs & (Record.status == g.CANCELLED)).alias("cancelled"),
        count(runs & (Record.status == g.UNKNOWN) & Record.reason.is_null(False)).alias("running"),
        count(runs & (Record.status == g.UNKNOWN) & Record.reason.is_null(True)).alias("others"),
        pw.fn.MAX(Record.start).alias("last_runtime"),
        pw.fn.SUM(Record.duration).alias("dur_sum"),
        pw.fn.COUNT(Record.duration).alias("dur_count"),
        pw.fn.MIN(Record.duration).alias("dur_min"),
        pw.fn.MAX(Record.duration).alias("dur_max"),
    ]
    gexpr: pw.Node | None = None
    if group is not None:
        what, time_field = group
        if what == "namespace":
            gexpr = Record.parent
        elif what == "pipeline":  # "<ns>/<pipeline>", "<ns>/" without one, as upstream groups
            gexpr = Record.parent.concat("/").concat(pw.fn.COALESCE(Record.pipeline, ""))
        elif what == "repository":  # Pipelines-as-Code labels its runs with the repository, as it annotates them
            repo = (Label.select(pw.fn.MIN(Label.value)).where(
                (Label.result == Record.result) & (Label.key == "pipelinesascode.tekton.dev/repository")))
            gexpr = Record.parent.concat("/").concat(pw.fn.COALESCE(repo, ""))
        else:
            # a Log or EventList object has no such timestamp: it groups under null, as upstream's JSON
            col = pw.Case(None, ((runs, TIME_GROUP_COLS[time_field or "creationTimestamp"]),), None)
            gexpr = _time_bucket(col, "day" if what in ("month", "year") else what)
        cols.append(gexpr.alias("group_value"))
    q = Record.select(*cols)
    for c in [*_record_scope(scope), compile_node(node, "records")]:
        q = q.where(c)
    if gexpr is not None:
        q = q.group_by(gexpr)
    rows = []
    for d in q.dicts():
        for k in ("total", "succeeded", "failed", "cancelled", "running", "others", "dur_count"):
            d[k] = int(d[k] or 0)
        for k in ("last_runtime", "dur_sum", "dur_min", "dur_max"):
            d[k] = int(d[k]) if d[k] is not None else None
        rows.append(d)
    return rows
