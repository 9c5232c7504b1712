"""The search index over stored step logs (schema v4): kept by the writer, built for older histories by a backfill.

What is indexed: each step log's lines with escape sequences (ANSI colour) removed, in blocks of
`per_block` lines (64, more only for logs over four million lines). Measured on 200k build-log lines
(16-19 MB of text), SQLite FTS5 trigram: one row per line took 4.2x the text and 4.4 s to build;
32-line blocks with `detail=none` 2.0x (rows of ~2.6 KB waste part of each 4 KB page); 64-line blocks
1.33x (content 1.02x, trigrams 0.30x), and a first page of hits as fast. Positions, which
`detail=full` stores for every byte, are not needed: the index only finds blocks holding a word's
trigrams, and each line is confirmed against the stored log, which keeps its colour (hits and
context are read from it).

- SQLite: FTS5 table `log_fts(body)`, trigram tokenizer, detail=none; a trigger deletes a step log's
  blocks when the step log goes (prune, a Record's cascade), in the deleting transaction.
- PostgreSQL: table `log_block(key, doc_key, body)`, the body ASCII-folded (searches compare folded
  text, so LIKE serves where ILIKE would lower-case every row it checks), with a pg_trgm GIN index;
  blocks go with their `log_doc` row by foreign-key cascade. Without pg_trgm (the role may not
  create extensions) the same queries scan.

Keys: a step log's `log_doc.key` is `second << 32 | slot << 16` (second: its run's creation time,
slots allocated downwards within the second so a TaskRun's first step sorts first), and its block b
has key `doc key + 0xFFFF - b`: descending keys are newest runs first, each step log in line order.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from typing import Iterable

import peewee as pw

from tekton_results_tui.store.db import is_sqlite, pg_trgm_schema
from tekton_results_tui.store.models import LogDoc, Record, StepLog
from tekton_results_tui.store.sql import _WRAP_DB_ERRORS, chunks, get_value, lock_seq, put_value
from tekton_results_tui.store.storable import storable_text

LOG_INDEX_VERSION = 4  # the schema that added it
FTS = "log_fts"
BLOCK_TABLE = "log_block"
BLOCK_LINES = 64
DOC_SPAN = 1 << 16  # keys per step log: its blocks
SECOND_SPAN = 1 << 32  # keys per second of run creation: 65,536 step logs
MAX_SECOND = (1 << 31) - 1
BACKFILL_KEY = "log_index_backfill"  # meta: the last step log id the backfill indexed, or "done"
BACKFILL_BATCH = 200  # step logs per backfill transaction
BACKFILL_BYTES = 32 * 1024 * 1024  # ... or this much log text, whichever comes first
BACKFILL_FLUSH_BYTES = 4 * 1024 * 1024  # log text indexed together within a backfill batch
BACKFILL_AT_KEY = "log_index_backfill_at"  # meta: wall-clock time of the backfill's last batch
BUILDING_WINDOW_S = 120.0  # a batch this recent: something (a watcher, reindex-logs) is building the index

# Escape sequences: CSI (colour, cursor), OSC (titles, links) and two-character ones. What is left
# of a line after removing them is what a reader sees, and what a search matches.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(s: str) -> str:
    """What searches compare: ASCII letters lower-cased, every other character as it is (SQLite's LIKE)."""
    return s.translate(_ASCII_LOWER)


def plain(line: str) -> str:
    """A log line as matched: escape sequences removed."""
    return _ESCAPES.sub("", line) if "\x1b" in line or "\x9b" in line else line


def split_lines(text: bytes | str) -> list[str]:
    """A stored log as lines (1-based line n is item n-1): UTF-8 with invalid bytes as U+FFFD, a final
    newline ends the last line (no empty line after it), CR before a newline dropped."""
    s = text.decode("utf-8", errors="replace") if isinstance(text, (bytes, bytearray)) else text
    if not s:
        return []
    lines = s.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def per_block(n_lines: int) -> int:
    return max(BLOCK_LINES, math.ceil(n_lines / DOC_SPAN))


def block_key(doc_key: int, block: int) -> int:
    return doc_key + DOC_SPAN - 1 - block


def block_of(key: int) -> tuple[int, int]:
    """(doc key, block number) of a block key."""
    doc = key - (key % DOC_SPAN)
    return doc, DOC_SPAN - 1 - (key - doc)


def text_crc(text: bytes) -> int:
    return (min(len(text), MAX_SECOND) << 32) | zlib.crc32(text)


def has_index(db: pw.Database) -> bool:
    return getattr(db, "schema_version", LOG_INDEX_VERSION) >= LOG_INDEX_VERSION


# --- schema ------------------------------------------------------------------------------


def create_index(db: pw.Database) -> None:
    """The empty index and what keeps it (schema step v4); the backfill fills it for stored logs."""
    db.create_tables([LogDoc], safe=True)
    if is_sqlite(db):
        db.execute_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(body, tokenize='trigram', detail=none)")
        db.execute_sql(
            "CREATE TRIGGER IF NOT EXISTS log_index_step_log_bd BEFORE DELETE ON step_log BEGIN "
            f"DELETE FROM {FTS} WHERE rowid BETWEEN (SELECT key FROM log_doc WHERE step_log_id = old.id) "
            f"AND (SELECT key FROM log_doc WHERE step_log_id = old.id) + {DOC_SPAN - 1}; "
            "DELETE FROM log_doc WHERE step_log_id = old.id; END")
    else:
        db.execute_sql(f'CREATE TABLE IF NOT EXISTS "{BLOCK_TABLE}" ("key" BIGINT PRIMARY KEY, '
                       '"doc_key" BIGINT NOT NULL REFERENCES "log_doc" ("key") ON DELETE CASCADE, "body" TEXT NOT NULL)')
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "log_block_doc_key" ON "{BLOCK_TABLE}" ("doc_key")')
        where = pg_trgm_schema(db)
        if where is None:
            try:
                with db.atomic():  # a savepoint: a refusal must not abort the migration
                    db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
                where = pg_trgm_schema(db)
            except pw.DatabaseError as exc:
                import logging

                logging.getLogger(__name__).warning("pg_trgm unavailable (%s): log searches will scan", exc)
        if where is not None:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "log_block_body_trgm" ON "{BLOCK_TABLE}" '
                           f'USING gin ("body" "{where}".gin_trgm_ops)')
    any_log = StepLog.select(StepLog.id).limit(1).scalar()
    put_value(BACKFILL_KEY, "0" if any_log is not None else "done")


# --- writing -----------------------------------------------------------------------------


def _allocate(db: pw.Database, created: int) -> int:
    """A free doc key for a step log of a run created at `created` (epoch seconds)."""
    sec = max(0, min(int(created or 0), MAX_SECOND))
    while sec >= 0:
        lo = sec * SECOND_SPAN
        p = db.param  # plain SQL here and below: peewee's SQL generation cost more than these indexed statements
        low = db.execute_sql(f'SELECT MIN("key") FROM "log_doc" WHERE "key" BETWEEN {p} AND {p}',
                             (lo, lo + SECOND_SPAN - 1)).fetchone()[0]
        slot = (SECOND_SPAN // DOC_SPAN - 1) if low is None else (low - lo) // DOC_SPAN - 1
        if slot >= 0:
            return lo + slot * DOC_SPAN
        sec -= 1  # 65,536 step logs of runs created in one second: borrow the second before
    raise RuntimeError("no free log index key")  # 2^31 full seconds: unreachable


def drop_doc(db: pw.Database, step_log_id: int, key: int) -> None:
    if is_sqlite(db):
        db.execute_sql(f"DELETE FROM {FTS} WHERE rowid BETWEEN ? AND ?", (key, key + DOC_SPAN - 1))
    LogDoc.delete().where(LogDoc.step_log == step_log_id).execute()  # PostgreSQL: blocks by cascade


def index_doc(db: pw.Database, step_log_id: int, text: bytes, created: int, old: tuple[int, int] | None) -> bool:
    """(Re)index one step log inside the caller's write transaction; `old` is its (key, crc) if indexed.
    False when the indexed text is already this one."""
    crc = text_crc(text)
    if old is not None:
        if old[1] == crc:
            return False
        drop_doc(db, step_log_id, old[0])
    lines = split_lines(text)
    per = per_block(len(lines))
    key = _allocate(db, created)
    p = db.param
    db.execute_sql(f'INSERT INTO "log_doc" ("step_log_id", "key", "crc", "lines", "per_block") '
                   f'VALUES ({p}, {p}, {p}, {p}, {p})', (step_log_id, key, crc, len(lines), per))
    rows = [(block_key(key, b), "\n".join(plain(ln) for ln in lines[i:i + per]))
            for b, i in enumerate(range(0, len(lines), per))]
    _insert_blocks(db, key, rows)
    return True


def index_docs(db: pw.Database, docs: list[tuple[int, bytes, int, tuple[int, int] | None]]) -> int:
    """index_doc for many step logs (step log id, text, run creation, old (key, crc)) in a few statements:
    their keys read per second of creation in one query, their rows and blocks inserted together (PostgreSQL:
    two round trips a step log were a tenth of a synced Log's store time). Returns the step logs (re)indexed."""
    todo: list[tuple[int, bytes, int, int]] = []  # (step log id, text, second, crc)
    for sid, text, created, old in docs:
        crc = text_crc(text)
        if old is not None:
            if old[1] == crc:
                continue
            drop_doc(db, sid, old[0])
        todo.append((sid, text, max(0, min(int(created or 0), MAX_SECOND)), crc))
    if not todo:
        return 0
    p = db.param
    lowest: dict[int, int | None] = {}
    for chunk in chunks(sorted({sec for _, _, sec, _ in todo}), 200):
        sql = " UNION ALL ".join(
            f'SELECT {p}, (SELECT MIN("key") FROM "log_doc" WHERE "key" BETWEEN {p} AND {p})' for _ in chunk)
        params = [v for sec in chunk for v in (sec, sec * SECOND_SPAN, (sec + 1) * SECOND_SPAN - 1)]
        lowest.update((int(sec), low) for sec, low in db.execute_sql(sql, params).fetchall())
    next_slot = {sec: (SECOND_SPAN // DOC_SPAN - 1) if low is None else (low - sec * SECOND_SPAN) // DOC_SPAN - 1
                 for sec, low in lowest.items()}
    rows, blocks, full = [], [], []
    for sid, text, sec, crc in todo:  # in order, slots downwards: a TaskRun's first step sorts first
        slot = next_slot[sec]
        if slot < 0:
            full.append((sid, text, sec, crc))  # 65,536 step logs in this second: after these, one at a time
            continue
        next_slot[sec] = slot - 1
        key = sec * SECOND_SPAN + slot * DOC_SPAN
        lines = split_lines(text)
        per = per_block(len(lines))
        rows.append((sid, key, crc, len(lines), per))
        blocks.extend((key, block_key(key, b), "\n".join(plain(ln) for ln in lines[i:i + per]))
                      for b, i in enumerate(range(0, len(lines), per)))
    with _WRAP_DB_ERRORS:
        cur = db.cursor()
        if is_sqlite(db):
            cur.executemany('INSERT INTO "log_doc" ("step_log_id", "key", "crc", "lines", "per_block") '
                            "VALUES (?, ?, ?, ?, ?)", rows)
            cur.executemany(f"INSERT INTO {FTS}(rowid, body) VALUES (?, ?)", [(k, body) for _, k, body in blocks])
        else:
            from psycopg2.extras import execute_values  # only PostgreSQL users need it

            execute_values(cur, 'INSERT INTO "log_doc" ("step_log_id", "key", "crc", "lines", "per_block") VALUES %s',
                           rows, page_size=500)
            execute_values(cur, f'INSERT INTO "{BLOCK_TABLE}" ("key", "doc_key", "body") VALUES %s',
                           [(k, doc, storable_text(fold(body))) for doc, k, body in blocks], page_size=200)
    for sid, text, sec, _ in full:
        index_doc(db, sid, text, sec, None)
    return len(todo)


def _insert_blocks(db: pw.Database, doc_key: int, rows: list[tuple[int, str]]) -> None:
    if not rows:
        return
    with _WRAP_DB_ERRORS:  # the driver's errors as peewee's, as execute_sql gives them (callers classify those)
        cur = db.cursor()
        if is_sqlite(db):
            cur.executemany(f"INSERT INTO {FTS}(rowid, body) VALUES (?, ?)", rows)
            return
        from psycopg2.extras import execute_values  # only PostgreSQL users need it

        # folded, so searches use LIKE (ILIKE lower-cases every row it checks: several times slower); NUL,
        # which PostgreSQL text cannot hold, as the store's stand-in
        execute_values(cur, f'INSERT INTO "{BLOCK_TABLE}" ("key", "doc_key", "body") VALUES %s',
                       [(k, doc_key, storable_text(fold(body))) for k, body in rows], page_size=200)


def index_step_logs(db: pw.Database, log_record_id: int, created: int, texts: Iterable[tuple[str, bytes]]) -> None:
    """Index the step logs (step name, text) just stored under a Log Record, in the writer's transaction."""
    index_docs(db, step_docs(stored_steps(db, [log_record_id]).get(log_record_id, {}), created, texts))


def stored_steps(db: pw.Database, log_record_ids: list[int]) -> dict[int, dict[str, tuple[int, int | None, int | None]]]:
    """Per Log Record: its step logs as step name -> (step log id, index key, crc; None, None when not indexed)."""
    out: dict[int, dict[str, tuple[int, int | None, int | None]]] = {}
    p = db.param
    for chunk in chunks(log_record_ids):
        for rid, sid, step, key, crc in db.execute_sql(
                'SELECT s."record_id", s."id", s."step", d."key", d."crc" FROM "step_log" AS s LEFT OUTER JOIN '
                f'"log_doc" AS d ON d."step_log_id" = s."id" WHERE s."record_id" IN ({", ".join([p] * len(chunk))})',
                list(chunk)).fetchall():
            out.setdefault(rid, {})[step] = (sid, key, crc)
    return out


def step_docs(stored: dict[str, tuple[int, int | None, int | None]], created: int,
              texts: Iterable[tuple[str, bytes]]) -> list[tuple[int, bytes, int, tuple[int, int] | None]]:
    """index_docs' input for one Log Record's step logs (`stored`: its stored_steps; steps not stored: none)."""
    out = []
    for step, text in texts:
        got = stored.get(step)
        if got is not None:
            sid, key, crc = got
            out.append((sid, text, created, None if key is None or crc is None else (key, crc)))
    return out


# --- the backfill ----------------------------------------------------------------------------


def backfill_state() -> str | None:
    """None when the index is complete, else the last step log id indexed by the backfill (as text)."""
    v = get_value(BACKFILL_KEY)
    return None if v in (None, "done") else v


def pending() -> int:
    """Step logs the backfill has still to look at (0 when the index is complete)."""
    at = backfill_state()
    if at is None:
        return 0
    return StepLog.select(pw.fn.COUNT(StepLog.id)).where(StepLog.id > int(at)).scalar() or 0


def empty_index(db: pw.Database) -> None:
    """Empty the index and start the backfill from the first step log: the index as a history from
    before it looks once migrated, so the backfill builds all of it again."""
    with db.write_txn():  # type: ignore[attr-defined]
        if is_sqlite(db):
            db.execute_sql(f"DELETE FROM {FTS}")
        db.execute_sql("DELETE FROM log_doc")  # PostgreSQL: its blocks go by cascade
        put_value(BACKFILL_KEY, "0")


def backfill_batch(db: pw.Database, batch: int = BACKFILL_BATCH, max_bytes: int = BACKFILL_BYTES) -> int | None:
    """Index the next stored step logs the index lacks, in one write transaction that also records how far
    it got (so an interrupted backfill resumes there and gives the same index). Returns the step logs
    looked at, None when the index was already complete."""
    with db.write_txn():  # type: ignore[attr-defined]
        lock_seq(db)  # PostgreSQL: serialize with writers (doc keys are allocated by reading)
        at = backfill_state()
        if at is None:
            return None
        ids = [i for (i,) in StepLog.select(StepLog.id).where(StepLog.id > int(at))
               .order_by(StepLog.id).limit(batch).tuples()]
        done = set(i for (i,) in LogDoc.select(LogDoc.step_log).where(LogDoc.step_log << ids).tuples()) if ids else set()
        last, seen, used = int(at), 0, 0
        docs: list[tuple[int, bytes, int, tuple[int, int] | None]] = []  # indexed together (index_docs)
        for sid in ids:
            if used >= max_bytes:
                break
            seen += 1
            last = sid
            if sid in done:  # written since the schema step: the writer indexed it
                continue
            row = (StepLog.select(StepLog.data, Record.create_time).join(Record, on=(StepLog.record == Record.id))
                   .where(StepLog.id == sid).tuples().first())
            if row is None:
                continue
            text = zlib.decompress(bytes(row[0]))
            used += len(text)
            docs.append((sid, text, row[1], None))
            if sum(len(d[1]) for d in docs) >= BACKFILL_FLUSH_BYTES:  # a few MB at a time, not the batch's 32 MB
                index_docs(db, docs)                                  # held with its blocks (and folded copies)
                docs = []
        index_docs(db, docs)
        put_value(BACKFILL_KEY, str(last) if len(ids) == batch or seen < len(ids) else "done")
        put_value(BACKFILL_AT_KEY, str(int(time.time())))  # wall clock: read by other processes
        return seen


def being_built(now: float | None = None, window_s: float = BUILDING_WINDOW_S) -> bool:
    """Whether a backfill batch was committed in the last `window_s` seconds: a watcher (or reindex-logs)
    is building the index, so a search's note says it is coming rather than how to build it."""
    v = get_value(BACKFILL_AT_KEY)
    try:
        at = float(v) if v is not None else None
    except ValueError:
        return False
    return at is not None and (time.time() if now is None else now) - at < window_s


def index_size_bytes(db: pw.Database) -> int | None:
    """Bytes the index takes on disk (SQLite: its shadow tables via dbstat when compiled in)."""
    try:
        if is_sqlite(db):
            row = db.execute_sql("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE ? OR name = 'log_doc' "
                                 "OR name LIKE 'sqlite_autoindex_log_doc%'", (FTS + "%",)).fetchone()
        else:
            row = db.execute_sql(f"SELECT pg_total_relation_size('{BLOCK_TABLE}') + pg_total_relation_size('log_doc')"
                                 ).fetchone()
    except pw.DatabaseError:
        return None
    return int(row[0]) if row and row[0] is not None else None


__all__ = ["create_index", "index_step_logs", "backfill_batch", "backfill_state", "being_built", "pending", "plain", "fold",
           "split_lines", "has_index", "LOG_INDEX_VERSION"]
