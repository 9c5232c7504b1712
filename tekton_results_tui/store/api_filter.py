"""The filter trees `serve` compiles CEL into, and their SQL over the index columns.

The API layer parses CEL into the small tree below (pure data); this module alone turns it into
SQL. Run fields come from index columns; only map lookups (annotations, labels) read JSON, and a
label lookup is first narrowed by the label index so the JSON is read on matching Results only.
"""

from __future__ import annotations

import math
import operator
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence, Union

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.models import Label, Record, Result
from tekton_results_tui.store.storable import storable_text

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
            return (pw.fn.SUBSTR(col, -n) if on_sqlite() else pw.fn.RIGHT(col, n)) == s
        return (pw.fn.INSTR(col, s) if on_sqlite() else pw.fn.STRPOS(col, s)) > 0
    return _cmp(col, op, storable_text(str(v)) if isinstance(v, str) else v)


def _cmp(col: pw.Node, op: str, v: Any) -> pw.Expression:
    if op == "in":
        if any(isinstance(x, float) for x in v):  # an integer column holds none of the fractions
            v = [int(x) for x in v if not isinstance(x, float) or x.is_integer()]
        return col.in_(list(v)) if v else pw.SQL("1 = 0")
    ops = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", ">": "__gt__", "<=": "__le__", ">=": "__ge__"}
    if op not in ops:
        raise UnsupportedFilter(f"operator {op} on this field")
    if isinstance(v, float) and not v.is_integer():
        return _cmp_fraction(col, op, v)
    return getattr(col, ops[op])(int(v) if isinstance(v, float) else v)


def _cmp_fraction(col: pw.Node, op: str, v: float) -> pw.Expression:
    """An integer column (seconds) against a fraction (a duration such as "2.5s"), exactly: peewee would
    cut the value to an integer (`< 2.5` asked `< 2`). NULL where the column is NULL, as any comparison."""
    lo, hi = math.floor(v), math.ceil(v)
    if op == "<":
        return col < hi
    if op == "<=":
        return col <= lo
    if op == ">":
        return col > lo
    if op == ">=":
        return col >= hi
    if op == "==":
        return (col > lo) & (col < hi)  # false for every integer
    return (col <= lo) | (col >= hi)  # !=: true for every integer


def on_sqlite() -> bool:
    db = Result._meta.database
    return is_sqlite(getattr(db, "obj", None) or db)


def _json_text(col: pw.Field, path: Sequence[str]) -> pw.Node:
    """The text at `path` in a JSON column: json_extract on SQLite, jsonb_extract_path_text on PostgreSQL."""
    if on_sqlite():
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
# PostgreSQL: a common label on n of `total` Results probes the label index per walked Record once
# n * n > this * total (120k records: from ~1 Result in 8; measured 14 ms a page at 1 in 30, 4 ms at all)
PROBE_LABEL_SQUARE = 300


SHARE_TTL = 60.0  # seconds a label's share is reused: it only picks a plan, and shares drift slowly
_shares: dict[tuple[int, str, int], tuple[float, int]] = {}  # per label filter: Results carrying it
_totals: dict[tuple[int, str], tuple[float, int]] = {}  # per history: all Results
_shares_lock = threading.Lock()


def _label_share(sub: pw.Select) -> tuple[int, int]:
    """(Results carrying the label, all Results), each counted at most once a minute per history (the
    first per label, the second for all labels: on PostgreSQL it reads every Result): the two counts
    were a third of a label-filter page's store time. Keyed by a hash of the statement and its values,
    not by them (an 8 KB `in` list held ~80 KB a key; 4,096 keys): two filters that share a hash share
    a plan, which changes no answer. A history is its connection's path or database and schema."""
    sql, params = sub.sql()
    db = Result._meta.database.obj
    where = (id(db), f"{db.database}|{getattr(db, 'connect_params', {}).get('options', '')}")
    return (_counted(_shares, (*where, hash((sql, tuple(params)))), sub.count),
            _counted(_totals, where, Result.select().count))


def _counted(cache: dict, key: tuple, count: Callable[[], int]) -> int:
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < SHARE_TTL:
        return hit[1]
    n = count()
    with _shares_lock:
        if len(cache) > 4096:
            cache.clear()
        cache[key] = (now, n)
    return n


def _narrowed(sub: pw.Select, check: pw.Expression) -> pw.Node:
    """Records of the Results `sub` (label rows) names whose own object passes `check` (its JSON read), in
    the shape that reads fewest stored objects.

    The label index finds the Results; the run's own JSON then confirms the label (the index holds
    the union of a Result's labels). A rare label: look its Records up by Result (few objects read,
    then sorted). A common one: walk Records in page order and keep those whose Result is in the set
    (SQLite would otherwise look up and parse every Record of every matching Result before sorting;
    measured on 120k records, a label on 1 Result in 22: 195 ms -> 16 ms).

    PostgreSQL, common label: the check sits inside `CASE WHEN <Result in set> THEN check END`, so the
    JSON is read only for Records of matching Results (a hashed subplan answers the rest), and the
    planner, which knows nothing of the JSON's selectivity nor of its cost (each object is a TOAST
    fetch and a decompression), takes the CASE for half the rows and walks the page order's index.
    As a plain AND it guessed the JSON equality matched 1 row in 200 and read every object of the
    table in a parallel seq scan: 120k records, a label on 1 Result in 30, 1.2-1.8 s -> ~5 ms. A label on
    most Results: the walk finds a page within a few rows, while the set is the whole label index's
    range (20k Results: 62 ms); each walked Record's Result is then looked up in the label index
    instead (4 ms). The walk reads ~50 x total / n Records, the set n rows: PROBE_LABEL_SQUARE."""
    n, total = _label_share(sub)
    if n * RARE_LABEL_SHARE < total:
        return Record.result.in_(sub) & check
    if on_sqlite():
        return (Record.result + 0).in_(sub) & check  # `+ 0`: no index on result, so the scan follows ORDER BY id
    if n * n <= PROBE_LABEL_SQUARE * total:
        return pw.Case(None, ((Record.result.in_(sub), check),), None)
    # OFFSET 0: PostgreSQL would turn the EXISTS into the hashed set above (it prices it for every row)
    probe = pw.fn.EXISTS(sub.where(Label.result == Record.result).offset(0))
    return pw.Case(None, ((probe, check),), None)


def _plain_names(vals: Sequence[Any]) -> bool:
    """Values a run's pipeline column holds exactly as its label (non-empty text, stored unchanged, uncut)."""
    return bool(vals) and all(isinstance(v, str) and 0 < len(v) <= g.MAX_NAME and storable_text(v) == v
                              for v in vals)


def _label_cond(c: Cond, negated: bool, order: str | None = None) -> pw.Expression:
    if c.op == "has":
        key = str(c.value)
        present = _json_text(Record.data, ["metadata", "labels", key]).is_null(False)
        if negated:
            return present
        return _narrowed(Label.select(Label.result).where(Label.key == storable_text(key)), present)
    if c.key is None:
        raise UnsupportedFilter(f"{c.field} compared as a whole (use {c.field}[\"key\"])")
    exact = _text_op(_json_text(Record.data, ["metadata", "labels", c.key]), c.op, c.value)
    if c.op in ("==", "in") and not negated:  # the label index narrows to Results that carry the label
        vals = [c.value] if c.op == "==" else list(c.value)
        if (on_sqlite() and order in (None, "create_time") and c.key == kinds.PIPELINE_RUN.name_label
                and _plain_names(vals)):
            # A run's pipeline column is this label's value (grouping.classify) whenever the label is a
            # plain name: the column's index (pipeline, create_time, id) walks that pipeline's Records in
            # page order and the JSON confirms each. Through the Result label index SQLite walked every
            # Record and read the row of each to test its Result (120k records, 22 pipelines: ~1,100 rows
            # for a page of 50, 6-10 ms). Not for a page in id or update_time order: the index would hand
            # over the whole pipeline to sort, each object's JSON read first (65 ms). Log/EventList
            # Records carry no labels.
            return Record.pipeline.in_(vals) & exact
        sub = Label.select(Label.result).where((Label.key == storable_text(c.key))
                                               & Label.value.in_([storable_text(str(x)) for x in vals]))
        return _narrowed(sub, exact)
    return exact


RUN_ONLY_FIELDS = frozenset({"data.metadata.creationTimestamp", "data.status.startTime", "data.status.completionTime",
                             "duration", "data.status.conditions[0].reason"})


def _record_cond(c: Cond, negated: bool = False, order: str | None = None) -> pw.Node:
    cols = {"name": Record.name, "parent": Record.parent, "data_type": Record.type,
            "data.metadata.namespace": Record.parent,
            "data.metadata.uid": Record.uid, "data.metadata.creationTimestamp": Record.create_time,
            "data.status.conditions[0].reason": Record.reason, "data.status.startTime": Record.start,
            "data.status.completionTime": Record.end, "duration": Record.duration,
            "create_time": Record.create_time, "update_time": Record.update_time}
    if c.field == "data.metadata.labels":
        return _label_cond(c, negated, order)
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
    return _balanced(parts, operator.and_) if parts else pw.SQL("1 = 1")


def _any(parts: list[pw.Expression]) -> pw.Expression:
    return _balanced(parts, operator.or_) if parts else pw.SQL("1 = 0")


def _balanced(parts: list[pw.Expression], op: Callable[[Any, Any], pw.Expression]) -> pw.Expression:
    """`parts` joined by `op` as a balanced tree: peewee parenthesizes every pair, and a chain of 180 `||`
    terms nested 180 deep overflowed SQLite's parser stack (a 500); balanced, that filter nests 8 deep."""
    while len(parts) > 1:
        parts = [op(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def compile_node(node: Node, on: str, negated: bool = False, order: str | None = None) -> pw.Expression:
    """The WHERE of a filter tree over Results (`on="results"`) or Records; UnsupportedFilter naming
    what cannot be answered from the store's columns. `order`: the column a page of Records is listed
    by (None: not a page), which decides the plan of a pipeline label (_label_cond).

    `negated` says the node sits under an odd number of `!`: there a field a row lacks must compare
    as NULL (matching neither `x == v` nor `!(x == v)`, as upstream's SQL over JSON does), so the
    index-friendly narrowing used in plain position is left out."""
    if isinstance(node, Const):
        return pw.SQL("1 = 1") if node.value else pw.SQL("1 = 0")
    if isinstance(node, Cond):
        return _result_cond(node) if on == "results" else _record_cond(node, negated, order)
    if isinstance(node, AllOf):
        return _all([compile_node(n, on, negated, order) for n in node.items])
    if isinstance(node, AnyOf):
        return _any([compile_node(n, on, negated, order) for n in node.items])
    if isinstance(node, Negate):
        return ~compile_node(node.item, on, not negated, order)
    raise UnsupportedFilter(f"filter node {type(node).__name__}")
