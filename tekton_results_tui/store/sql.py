"""Statements the store's writers and readers share: chunked IN lists, the bulk INSERT fast
path, the change sequence and JSON columns."""

from __future__ import annotations

import json
from typing import Any, Callable, Hashable, Iterator, Sequence

import peewee as pw

from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.models import MetaKV

CHUNK = 500  # rows per INSERT / values per IN: well under SQLite's 32k variable limit with ~30 columns
_WRAP_DB_ERRORS = getattr(pw, "__exception_wrapper__")  # driver errors -> peewee's, as execute_sql does


def chunks(seq: Sequence, n: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def dumps(obj: Any, allow_nan: bool = True) -> str:
    """JSON text as the store keeps it: compact, non-ASCII kept as is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan)


def loads_json(text: Any, default: Any) -> Any:
    """A stored JSON column as Python (PostgreSQL may hand it over decoded); `default` when empty or bad."""
    if text is None:
        return default
    if not isinstance(text, str):
        return text
    if text == "{}":  # most annotation columns: skip the parser
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return default


def quoted(name: str) -> str:
    return '"' + name + '"'


def rowcount(cursor: Any) -> int:
    """Rows an INSERT ... ON CONFLICT changed (peewee returns the cursor's rowcount for insert_many)."""
    if isinstance(cursor, int):
        return cursor
    rc = getattr(cursor, "rowcount", None)
    if rc is not None and rc >= 0:
        return rc
    return 0


_STATEMENTS: dict[tuple[Hashable, bool, int], tuple[str, tuple]] = {}  # see bulk_insert's `key`
slow_builds = 0  # PostgreSQL statements bulk_insert let peewee build whole (tests: the write path never does)


def bulk_insert(db: pw.Database, build: Callable[[list[tuple]], Any], rows: list[tuple],
                key: Hashable | None = None) -> int:
    """Run an INSERT that peewee builds for ONE row over all `rows`; returns the rows changed.

    Measured: peewee's SQL generation for 500-row insert_many cost ~5x the database work. The
    statement is the same for every row, so build it once and hand the rows to the driver's
    fast path (sqlite3 executemany with one prepared statement; psycopg2 execute_values).
    `build(rows)` returns the peewee query; defaults peewee appends after the given fields are
    constants and are appended to every row the same way.

    `key`: names a statement whose SQL and trailing constants never change (its fields, conflict
    clause and constants fixed at the call site): it is built once per engine and row width. A
    watcher's 20-run batch built its five statements afresh each time: ~4 ms of a ~20 ms batch,
    all of it holding the interpreter lock the TUI's keys wait for.
    """
    if not rows:
        return 0
    sql, extra = statement(db, build, rows[0], key)
    full = [tuple(r) + extra for r in rows] if extra else rows
    with _WRAP_DB_ERRORS:
        cur = db.cursor()
        if is_sqlite(db):
            cur.executemany(sql, full)
            return max(cur.rowcount, 0)
        paged = _paged(sql, len(full[0]))
        if paged is None:  # an unexpected shape (a parameter after the row's values): let peewee build it whole
            global slow_builds
            slow_builds += 1
            return rowcount(build(rows).as_rowcount().execute())
        from psycopg2.extras import execute_values  # only PostgreSQL users need it

        n = 0
        for chunk in chunks(full):  # one page per call: rowcount covers only the last page
            execute_values(cur, paged, chunk, page_size=len(chunk))
            n += max(cur.rowcount, 0)
        return n


def bulk_returning(db: pw.Database, build: Callable[[list[tuple]], Any], rows: list[tuple], key: Hashable) -> list[tuple]:
    """PostgreSQL: `bulk_insert` of a statement with RETURNING, in pages of 500 rows; the rows it returned.
    (A batch's Logs were one upsert each, ~6 round trips a Log: 1.5 ms of a synced Log's ~3 ms.)"""
    if not rows:
        return []
    sql, extra = statement(db, build, rows[0], key)
    paged = _paged(sql, len(rows[0]) + len(extra))
    if paged is None:
        raise ValueError(f"statement {key!r}: no row group to page")  # a programming error, seen in tests
    from psycopg2.extras import execute_values

    got: list[tuple] = []
    with _WRAP_DB_ERRORS:
        cur = db.cursor()
        for chunk in chunks(rows):
            got.extend(execute_values(cur, paged, [tuple(r) + extra for r in chunk], page_size=len(chunk), fetch=True))
    return got


def statement(db: pw.Database, build: Callable[[list[tuple]], Any], row: tuple, key: Hashable | None) -> tuple[str, tuple]:
    """(SQL, the constants peewee appends after a row's values) of `build([row])`, kept per `key` (with the engine
    and the row's width): peewee's SQL generation for a 25-column upsert cost more than running it (two thirds
    of a synced Log's store time, before it was kept)."""
    ck = (key, is_sqlite(db), len(row)) if key is not None else None
    got = _STATEMENTS.get(ck) if ck is not None else None
    if got is None:
        sql, params = build([row]).sql()
        got = (sql, tuple(params[len(row):]))
        if ck is not None:
            _STATEMENTS[ck] = got
    return got


def _paged(sql: str, width: int) -> str | None:
    """A one-row PostgreSQL statement with its row group as psycopg2's `VALUES %s` (None: no such group)."""
    group = "VALUES (" + ", ".join(["%s"] * width) + ")"
    at = sql.find(group)
    return None if at < 0 else sql[:at] + "VALUES %s" + sql[at + len(group):]


def select_in(db: pw.Database, model: type[pw.Model], cols: tuple[pw.Field, ...], key: pw.Field, cluster: str,
              values: list[str]) -> Iterator[tuple]:
    """`SELECT cols FROM model WHERE cluster = ? AND key IN (values)`, 500 values at a time.

    Plain SQL: peewee builds a node per IN value, which cost more than the indexed lookups
    themselves on 10,000-run import batches.
    """
    p = db.param
    head = (f'SELECT {", ".join(quoted(c.column_name) for c in cols)} FROM {quoted(model._meta.table_name)} '
            f'WHERE {quoted(model._meta.columns["cluster"].column_name)} = {p} AND {quoted(key.column_name)} IN ')
    for chunk in chunks(values):
        yield from db.execute_sql(head + "(" + ", ".join([p] * len(chunk)) + ")", [cluster, *chunk]).fetchall()


def lock_seq(db: pw.Database) -> int:
    """The change sequence, read inside a write transaction (on PostgreSQL, locking its row so
    sequence order is commit order; SQLite's IMMEDIATE transaction serializes writers already)."""
    q = MetaKV.select(MetaKV.value).where(MetaKV.key == "change_seq")
    if not is_sqlite(db):
        q = q.for_update()
    row = q.first()
    return int(row.value) if row else 0


def set_seq(seq: int) -> None:
    MetaKV.update(value=str(seq)).where(MetaKV.key == "change_seq").execute()


def put_value(key: str, value: str) -> None:
    MetaKV.insert(key=key, value=value).on_conflict(conflict_target=[MetaKV.key], update={MetaKV.value: value}).execute()


def get_value(key: str) -> str | None:
    row = MetaKV.get_or_none(MetaKV.key == key)
    return row.value if row else None
