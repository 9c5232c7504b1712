"""What the store's reads return: Result and Record rows, pages with opaque keyset tokens,
the change feed's sets, and the orders a listing can take.

Rows hold index columns only (no JSON): lists and trees are built from them without parsing
a stored object; the object itself is read by id where it is shown.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import peewee as pw

from tekton_results_tui.errors import UserError
from tekton_results_tui.store.models import Record, Result

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what an INTEGER/BIGINT column can compare with
MAX_PAGE = 1_000_000  # rows in one page: more than any screen or pipe wants, well inside LIMIT's range


class PageTokenError(UserError, ValueError):
    """A page token this program did not write for this listing (garbled, edited, another order)."""


@dataclass
class ResultRow:
    id: int
    cluster: str
    parent: str
    name: str
    uid: str
    status: str
    reason: str | None
    start: int | None
    end: int | None
    duration: int | None
    display_name: str | None
    pipeline: str | None
    summary_type: str | None
    summary_record: str | None
    in_cluster: bool
    gone_at: int | None
    sort_time: int
    create_time: int
    update_time: int
    seq: int


@dataclass
class RecordRow:
    id: int
    result_id: int
    cluster: str
    parent: str
    name: str
    uid: str
    type: str
    kind: str
    run_name: str
    run_uid: str
    status: str
    reason: str | None
    start: int | None
    end: int | None
    duration: int | None
    pipeline: str | None
    pipeline_task: str | None
    task: str | None
    top_level: bool
    in_cluster: bool
    deleted_at: int | None
    final: bool
    rv: int
    create_time: int
    update_time: int
    seq: int


RESULT_COLS = [
    Result.id, Result.cluster, Result.parent, Result.name, Result.uid, Result.summary_status,
    Result.summary_reason, Result.summary_start, Result.summary_end, Result.summary_duration,
    Result.display_name, Result.pipeline, Result.summary_type, Result.summary_record, Result.in_cluster,
    Result.gone_at, Result.sort_time, Result.create_time, Result.update_time, Result.seq,
]
RECORD_COLS = [
    Record.id, Record.result, Record.cluster, Record.parent, Record.name, Record.uid, Record.type, Record.kind,
    Record.run_name, Record.run_uid, Record.status, Record.reason, Record.start, Record.end, Record.duration,
    Record.pipeline, Record.pipeline_task, Record.task, Record.top_level, Record.in_cluster, Record.deleted_at,
    Record.final, Record.rv, Record.create_time, Record.update_time, Record.seq,
]


def result_row(t: tuple) -> ResultRow:
    r = ResultRow(*t)
    r.in_cluster = bool(r.in_cluster)
    return r


def record_row(t: tuple) -> RecordRow:
    r = RecordRow(*t)
    r.top_level, r.in_cluster, r.final = bool(r.top_level), bool(r.in_cluster), bool(r.final)
    return r


@dataclass
class Page:
    items: list
    next_token: str | None  # opaque; None on the last page


@dataclass
class ChangeSet:
    seq: int
    results: list[ResultRow]
    records: list[RecordRow]


@dataclass
class StepLogInfo:
    id: int
    step: str
    container: str
    size: int
    truncated: bool
    state: str


# Orders: name -> (column expression, default direction)
RESULT_ORDERS = {
    "newest": (Result.sort_time, "desc"),
    "oldest": (Result.sort_time, "asc"),
    "start": (pw.fn.COALESCE(Result.summary_start, -1), "desc"),
    "end": (pw.fn.COALESCE(Result.summary_end, -1), "desc"),
    "duration": (pw.fn.COALESCE(Result.summary_duration, -1), "desc"),
    "name": (pw.fn.COALESCE(Result.display_name, ""), "asc"),  # a child-only Result has no name yet
}
RECORD_ORDERS = {
    "newest": (Record.create_time, "desc"),
    "oldest": (Record.create_time, "asc"),
    "start": (pw.fn.COALESCE(Record.start, -1), "desc"),
    "end": (pw.fn.COALESCE(Record.end, -1), "desc"),
    "duration": (pw.fn.COALESCE(Record.duration, -1), "desc"),
    "name": (Record.run_name, "asc"),
}


def encode_token(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _is_int64(v: Any) -> bool:
    return type(v) is int and INT64_MIN <= v <= INT64_MAX


def decode_token(token: str, order_name: str) -> tuple[Any, int]:
    """(sort value, last id) of a page token of `order_name`; PageTokenError naming the token when
    it is not one this program wrote (garbled, edited, out of the columns' range, another order)."""
    try:
        pad = "=" * (-len(token) % 4)
        vals = json.loads(base64.urlsafe_b64decode(token + pad))
    except (ValueError, TypeError, RecursionError):
        vals = None
    if not (isinstance(vals, list) and len(vals) == 3 and isinstance(vals[0], str) and _is_int64(vals[2])):
        raise PageTokenError(f"bad page token {token[:40]!r}: pass the token a previous page printed, unchanged")
    if vals[0] != order_name:
        raise PageTokenError("page token belongs to another order")
    if not (isinstance(vals[1], str) if order_name == "name" else _is_int64(vals[1])):
        raise PageTokenError(f"bad page token {token[:40]!r}: pass the token a previous page printed, unchanged")
    return vals[1], vals[2]


def keyset(expr: pw.Node, id_col: pw.Field, direction: str, token: str | None, order_name: str) -> pw.Expression | None:
    """The WHERE that continues a listing after the row a page token names."""
    if not token:
        return None
    v, last_id = decode_token(token, order_name)
    if direction == "desc":
        return (expr < v) | ((expr == v) & (id_col < last_id))
    return (expr > v) | ((expr == v) & (id_col > last_id))


def row_sort_value(row: ResultRow | RecordRow, order_name: str) -> Any:
    if isinstance(row, ResultRow):
        m = {"newest": row.sort_time, "oldest": row.sort_time, "start": row.start, "end": row.end,
             "duration": row.duration, "name": row.display_name}
    else:
        m = {"newest": row.create_time, "oldest": row.create_time, "start": row.start, "end": row.end,
             "duration": row.duration, "name": row.run_name}
    v = m[order_name]
    if v is None:  # mirror the COALESCE of the order expression, or the keyset skips NULL rows
        return "" if order_name == "name" else -1
    return v


def next_token(rows: list, limit: int, order_name: str) -> tuple[list, str | None]:
    """Cut a `limit + 1` fetch to `limit` rows and say where the next page starts (None: last page)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_token([order_name, row_sort_value(last, order_name), last.id])
