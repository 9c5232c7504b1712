"""Open a history database from a URL: engine, pragmas, read-only mode, schema migrations.

SQLite (default) runs in WAL mode with IMMEDIATE write transactions: with deferred
transactions a second writer process saw 40-60 % "database is locked" failures that
ignore the busy timeout; IMMEDIATE takes the write lock up front and waits properly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, quote, unquote, urlparse

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

from tekton_results_tui import kinds
from tekton_results_tui.errors import UserError
from tekton_results_tui.store import models as m

SCHEMA_VERSION = 9
RUN_STATS_VERSION = 3  # the schema that added run_stat, Result.revision/repository and the name trigram index
BUSY_TIMEOUT_MS = 30_000
PG_MAX_CONNECTIONS = 64  # per process; a connection is opened only for a thread that reads or writes
PG_WAIT_S = 30  # a thread past PG_MAX_CONNECTIONS waits this long for a free connection


class StoreError(UserError):
    """A problem with the database a person can act on (bad URL, newer schema, unreachable)."""


# What a lost, locked or restarting database raises: callers outside the store retry on these without
# importing peewee. DATABASE_ERRORS adds statement failures (a constraint, a value the engine refuses).
CONNECTION_ERRORS: tuple[type[Exception], ...] = (pw.OperationalError, pw.InterfaceError)
DATABASE_ERRORS: tuple[type[Exception], ...] = (pw.DatabaseError, pw.InterfaceError)


@dataclass(frozen=True)
class DbUrl:
    engine: str  # sqlite | postgresql
    path: str | None = None  # sqlite file
    dsn: dict | None = None  # postgresql connect kwargs
    schema: str | None = None  # postgresql search_path


def parse_db_url(url: str) -> DbUrl:
    """`sqlite:///rel.db`, `sqlite:////abs.db`, a bare path, or `postgresql://user@host:port/db?schema=s`."""
    if not url or not url.strip():
        raise StoreError("empty database URL")
    url = url.strip()
    if "://" not in url:
        return DbUrl("sqlite", path=os.path.expanduser(url))
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        rest = url[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise StoreError(f"bad SQLite URL {url!r}: expected sqlite:///relative/path.db or sqlite:////absolute/path.db")
        path = unquote(rest[1:])
        if path in ("", ":memory:"):
            raise StoreError(f"bad SQLite URL {url!r}: an in-memory database cannot be shared; give a file path")
        return DbUrl("sqlite", path=os.path.expanduser(path))
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        u = urlparse(url)
        if not u.path or u.path == "/":
            raise StoreError(f"bad PostgreSQL URL {redact(url)!r}: no database name (postgresql://user@host:5432/dbname)")
        try:
            port = u.port or 5432
        except ValueError:
            raise StoreError(f"bad PostgreSQL URL {redact(url)!r}: the port is not a number") from None
        q = parse_qs(u.query)
        schema = q.pop("schema", [None])[0]
        if schema is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema):
            raise StoreError(f"bad PostgreSQL URL: schema {schema!r} is not a plain identifier")
        dsn: dict = {"database": unquote(u.path.lstrip("/")), "host": u.hostname or "127.0.0.1", "port": port}
        if u.username:
            dsn["user"] = unquote(u.username)
        if u.password:
            dsn["password"] = unquote(u.password)
        for k, v in q.items():
            dsn[k] = v[-1]
        return DbUrl("postgresql", dsn=dsn, schema=schema)
    raise StoreError(f"unsupported database URL scheme {scheme!r}: use sqlite:///path.db or postgresql://user@host/db")


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class Sqlite(pw.SqliteDatabase):
    """SQLite whose write transactions are IMMEDIATE."""

    # How a read-only history was opened (the header says it): "ro" (mode=ro, sees the WAL) or
    # "immutable" (read-only directory or media: no -shm can be made, so SQLite reads the main file
    # only, unlocked); None when writable. `read_only_note` says what immutable cannot show.
    read_only_mode: str | None = None
    read_only_note: str | None = None
    schema_version: int = SCHEMA_VERSION  # of the opened history (a read-only one may be older)

    def write_txn(self):  # noqa: ANN201 - peewee's transaction context
        return self.atomic(lock_type="IMMEDIATE")


class Postgres(PooledPostgresqlDatabase):
    """Pooled PostgreSQL; write transactions serialize on the meta sequence row (see history)."""

    read_only_mode: str | None = None  # "ro" when opened read-only (default_transaction_read_only)
    read_only_note: str | None = None
    schema_version: int = SCHEMA_VERSION

    def write_txn(self):  # noqa: ANN201
        return self.atomic()


FIELD_TYPES_SQLITE = {"JSONTEXT": "TEXT"}
FIELD_TYPES_PG = {"JSONTEXT": "JSONB"}


def open_database(url: str, read_only: bool = False, migrate: bool = True) -> pw.Database:
    """Open (and create/migrate unless read-only) the history at `url`; bind the models to it."""
    u = parse_db_url(url)
    if u.engine == "sqlite":
        db = _open_sqlite(u.path or "", read_only)
    else:
        db = _open_postgres(u, read_only)
    m.database_proxy.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        if read_only:
            db.schema_version = check_schema(db)  # never migrates: an older history is read as it is
        elif migrate:
            db.schema_version = run_migrations(db)
        else:
            db.schema_version = schema_version(db)  # reads follow what is there
    except pw.DatabaseError as exc:  # OperationalError included
        db.close()
        if u.engine == "sqlite" and "not a database" in str(exc):
            raise StoreError(f"{u.path} is not a SQLite database (or it is damaged): {first_line(exc)}") from None
        raise StoreError(f"cannot open database {redact(url)}: {first_line(exc)}") from None
    return db


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_only_sqlite(uri: str) -> Sqlite:
    return Sqlite(uri, uri=True, field_types=FIELD_TYPES_SQLITE,
                  pragmas={"foreign_keys": 1, "busy_timeout": BUSY_TIMEOUT_MS, "query_only": 1},
                  check_same_thread=False)


def _open_sqlite_read_only(p: Path) -> Sqlite:
    """mode=ro (writing impossible, not merely avoided); on a read-only directory or medium, where
    SQLite cannot create the WAL's -shm file, immutable=1 (the main file, no locks)."""
    if not p.exists():
        raise StoreError(f"no history at {p}: nothing to open read-only")
    uri = "file:" + quote(p.resolve().as_posix()) + "?mode=ro"
    db = _read_only_sqlite(uri)
    try:
        db.connect()
        db.execute_sql("SELECT COUNT(*) FROM sqlite_master").fetchone()  # reading is what needs the -shm
        db.read_only_mode = "ro"
        return db
    except pw.DatabaseError as exc:
        db.close()
        if not isinstance(exc, pw.OperationalError):  # e.g. "file is not a database": no mode helps
            raise StoreError(f"{p} is not a SQLite database (or it is damaged): {first_line(exc)}") from None
        first = exc
    db = _read_only_sqlite(uri + "&immutable=1")
    try:
        db.connect()
        db.execute_sql("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except pw.DatabaseError:
        db.close()
        raise StoreError(f"cannot open {p} read-only: {first_line(first)}") from None
    db.close()
    db.read_only_mode = "immutable"
    wal = p.with_name(p.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        db.read_only_note = (f"{wal.name} holds {wal.stat().st_size} bytes of recent changes this read-only "
                             "copy cannot show")
    return db


def _open_sqlite(path: str, read_only: bool) -> pw.Database:
    p = Path(path)
    if read_only:
        return _open_sqlite_read_only(p)
    if p.is_dir():
        raise StoreError(f"{path} is a directory: give the path of a history file inside it")
    if p.parent and not p.parent.is_dir():
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory {p.parent} for the history: "
                             f"{exc.strerror or first_line(exc)}") from None
    return Sqlite(
        str(p),
        field_types=FIELD_TYPES_SQLITE,
        pragmas={
            "journal_mode": "wal",
            "synchronous": "normal",
            "foreign_keys": 1,
            "busy_timeout": BUSY_TIMEOUT_MS,
            "cache_size": -64_000,
            "temp_store": "memory",
        },
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )


def _open_postgres(u: DbUrl, read_only: bool) -> pw.Database:
    dsn = dict(u.dsn or {})
    options = []
    if u.schema:
        options.append(f"-csearch_path={u.schema}")
    if read_only:
        options.append("-cdefault_transaction_read_only=on")
    if options:
        dsn["options"] = " ".join(options)
    dsn.setdefault("connect_timeout", 5)
    database = dsn.pop("database")
    # Each thread keeps its own pooled connection: serve's 16 read workers plus its main thread needed 17,
    # and a pool of 16 failed the 17th at once (500s under load). Room for readers with more workers, and a
    # thread beyond that waits for a connection to come back instead of failing.
    db = Postgres(database, max_connections=PG_MAX_CONNECTIONS, timeout=PG_WAIT_S, stale_timeout=300,
                  field_types=FIELD_TYPES_PG, **dsn)
    db.read_only_mode = "ro" if read_only else None
    if u.schema and not read_only:
        _ensure_pg_schema(database, dict(u.dsn or {}), u.schema)
    return db


def _ensure_pg_schema(database: str, dsn: dict, schema: str) -> None:
    import psycopg2  # local: only PostgreSQL users need it loaded

    dsn = {k: v for k, v in dsn.items() if k != "database"}
    try:
        conn = psycopg2.connect(dbname=database, connect_timeout=5, **dsn)
    except psycopg2.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL database {database!r}: {first_line(exc)}") from None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            # looked up first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema
            # exists, so a writer granted only its tables (the usual team setup) could not open the history
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        conn.close()


# --- schema version and migrations -------------------------------------------------

def _create_v1(db: pw.Database) -> None:
    db.create_tables(m.ALL_MODELS, safe=True)


def _lean_label_indexes_v2(db: pw.Database) -> None:
    """Drop indexes that duplicate a prefix of another; on SQLite make `label` WITHOUT ROWID.

    Measured on a 120k-record import: label rows (~17 per Result) went into four b-trees each, and
    record rows into an FK index that (result, start) already covers. Idempotent: fresh databases
    are created from the current models (which no longer declare those indexes).
    """
    db.execute_sql('DROP INDEX IF EXISTS "record_result_id"')
    db.execute_sql('DROP INDEX IF EXISTS "label_result_id"')
    if not is_sqlite(db):
        return
    row = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'label'").fetchone()
    if row is None or "WITHOUT ROWID" in (row[0] or "").upper():
        return
    db.execute_sql(
        'CREATE TABLE "label_v2" ("result_id" INTEGER NOT NULL, "key" VARCHAR(317) NOT NULL, '
        '"value" VARCHAR(255) NOT NULL, PRIMARY KEY ("result_id", "key", "value"), '
        'FOREIGN KEY ("result_id") REFERENCES "result" ("id") ON DELETE CASCADE) WITHOUT ROWID'
    )
    db.execute_sql('INSERT INTO "label_v2" SELECT "result_id", "key", "value" FROM "label"')
    db.execute_sql('DROP TABLE "label"')
    db.execute_sql('ALTER TABLE "label_v2" RENAME TO "label"')
    db.execute_sql('CREATE INDEX "label_key_value_result_id" ON "label" ("key", "value", "result_id")')


NAME_FTS = "result_name_fts"  # SQLite: trigram index of Result display_name and pipeline (bare filter words)


def _run_stats_v3(db: pw.Database) -> None:
    """Writer-kept statistics columns and indexes for a million records; backfilled from the stored rows.

    - `run_stat`: one narrow row per run Record (see models.RunStat), retries read from the objects;
    - `result.revision` / `result.repository`: the source the top-level run built, computed as the
      statistics computed them before from labels, params and annotations;
    - Record indexes to list newest-first overall, by namespace and by pipeline;
    - the bare filter word's substring index: SQLite an FTS5 trigram table over Result names kept by
      triggers (so in the writer's transaction), PostgreSQL pg_trgm GIN indexes (when the extension
      can be had; without it the same filter scans).
    Idempotent: a fresh database already has the tables and columns from the current models.
    """
    from tekton_results_tui.store import insights_reads as ir  # local: it builds on this module

    have = {c.name for c in db.get_columns("result")}
    for col in ("revision", "repository"):
        if col not in have:
            db.execute_sql(f'ALTER TABLE "result" ADD COLUMN "{col}" VARCHAR(253)')
    db.create_tables([m.RunStat], safe=True)
    for model in (m.Result, m.Record, m.RunStat):
        model._schema.create_indexes(safe=True)
    runs = ", ".join("'" + k + "'" for k in kinds.RUN_KIND_NAMES)
    if is_sqlite(db):
        retries = ("CASE WHEN instr(data, '\"retriesStatus\"') > 0 THEN "
                   "COALESCE(json_array_length(data, '$.status.retriesStatus'), 0) ELSE 0 END")
    else:
        retries = ("CASE WHEN jsonb_typeof(data->'status'->'retriesStatus') = 'array' "
                   "THEN jsonb_array_length(data->'status'->'retriesStatus') ELSE 0 END")
    db.execute_sql(
        'INSERT INTO "run_stat" ("id", "result_id", "kind", "cluster", "parent", "run_name", "status", "reason", '
        '"created", "start", "end", "duration", "pipeline", "pipeline_task", "task", "top_level", "retries") '
        'SELECT "id", "result_id", "kind", "cluster", "parent", "run_name", "status", "reason", "create_time", '
        f'"start", "end", "duration", "pipeline", "pipeline_task", "task", "top_level", {retries} FROM "record" '
        f'WHERE "kind" IN ({runs}) AND NOT EXISTS (SELECT 1 FROM "run_stat" AS s WHERE s."id" = "record"."id")')
    m.Result.update(
        revision=pw.fn.SUBSTR(ir.revision_from_objects(db, m.Result.id), 1, 253),
        repository=pw.fn.SUBSTR(ir.repository_from_objects(db, m.Result.id), 1, 253),
    ).where(m.Result.summary_record.is_null(False) & m.Result.revision.is_null()
            & m.Result.repository.is_null()).execute()
    if is_sqlite(db):
        _name_fts_sqlite(db)
    else:
        _name_trgm_postgres(db)


def _name_fts_sqlite(db: pw.Database) -> None:
    """An external-content FTS5 trigram table over result(display_name, pipeline), kept by triggers."""
    exists = db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (NAME_FTS,)).fetchone()
    if exists:
        return
    t = NAME_FTS
    db.execute_sql(f"CREATE VIRTUAL TABLE {t} USING fts5(display_name, pipeline, content='result', "
                   "content_rowid='id', tokenize='trigram')")
    db.execute_sql(f"INSERT INTO {t}({t}) VALUES ('rebuild')")
    # New Results are indexed by the writer (ingest.index_new_result_names), not by an AFTER INSERT trigger
    # (schema v8): see _name_fts_writer_v8.
    db.execute_sql(f"CREATE TRIGGER {t}_ad AFTER DELETE ON result BEGIN INSERT INTO {t}({t}, rowid, display_name, "
                   "pipeline) VALUES ('delete', old.id, old.display_name, old.pipeline); END")
    db.execute_sql(f"CREATE TRIGGER {t}_au AFTER UPDATE OF display_name, pipeline ON result "
                   "WHEN old.display_name IS NOT new.display_name OR old.pipeline IS NOT new.pipeline BEGIN "
                   f"INSERT INTO {t}({t}, rowid, display_name, pipeline) VALUES ('delete', old.id, old.display_name, "
                   f"old.pipeline); INSERT INTO {t}(rowid, display_name, pipeline) VALUES (new.id, new.display_name, "
                   "new.pipeline); END")


def pg_trgm_schema(db: pw.Database) -> str | None:
    """The schema PostgreSQL's pg_trgm extension is installed in, None when it is not."""
    row = db.execute_sql("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
    return row[0] if row else None


def _name_trgm_postgres(db: pw.Database) -> None:
    """GIN trigram indexes on LOWER(display_name) and LOWER(pipeline) (what the bare word's LIKE reads).

    The extension is installed once per database (in `public`, so dropping a store's schema never
    drops it) when the role may; otherwise the bare word scans, as before, and the log says why.
    """
    where = pg_trgm_schema(db)
    if where is None:
        try:
            with db.atomic():  # a savepoint: a refusal must not abort the migration
                db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        except pw.DatabaseError as exc:
            import logging

            logging.getLogger(__name__).warning("pg_trgm unavailable (%s): the bare filter word will scan Results",
                                                first_line(exc))
            return
        where = pg_trgm_schema(db)
    ops = f'"{where}".gin_trgm_ops'
    for col in ("display_name", "pipeline"):
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "result_{col}_trgm" ON "result" USING gin (LOWER("{col}") {ops})')


def has_run_stats(db: pw.Database) -> bool:
    """Whether this history has the v3 statistics tables (a read-only older one does not)."""
    return getattr(db, "schema_version", SCHEMA_VERSION) >= RUN_STATS_VERSION


def _log_index_v4(db: pw.Database) -> None:
    """The search index over step logs, empty; stored logs are indexed by a resumable backfill
    (store/log_index.py: `reindex-logs`, or a writer's idle time), so this step stays quick."""
    from tekton_results_tui.store import log_index  # local: it builds on this module

    log_index.create_index(db)


IMPORTED_VERSION = 5  # the schema that added Record.imported_at


def _imported_at_v5(db: pw.Database) -> None:
    """`record.imported_at`: which runs an import stored and no watcher has written since. Rows
    stored before it are taken as seen (NULL): which of them came from a dump is not recorded.
    Adding a nullable column rewrites nothing on either engine."""
    if "imported_at" not in {c.name for c in db.get_columns("record")}:
        db.execute_sql('ALTER TABLE "record" ADD COLUMN "imported_at" BIGINT')


def _stat_days_v6(db: pw.Database) -> None:
    """`stat_day` / `stat_dirty`: statistics of each day's runs kept by the writer (store/stat_days.py),
    built here from the stored rows (measured at 1.2M records: see bench/insights_bench.py)."""
    import time

    from tekton_results_tui.store import stat_days  # local: it builds on this module

    db.create_tables(stat_days.MODELS, safe=True)
    stat_days.build_all(db, int(time.time()))


def _rebuilt_v7(db: pw.Database) -> None:
    """`stat_rebuilt`: the (pipeline, revision) pairs more than one Result built, kept by the writer
    (store/stat_days.py), filled here from result(pipeline, revision)."""
    from tekton_results_tui.store import stat_days  # local: it builds on this module

    db.create_tables([stat_days.StatRebuilt], safe=True)
    stat_days.build_rebuilt(db)


NAME_FTS_WRITER_VERSION = 8  # SQLite: new Results' names indexed by the writer (no AFTER INSERT trigger)


def _name_fts_writer_v8(db: pw.Database) -> None:
    """SQLite: drop the AFTER INSERT trigger that put each new Result into the name index; the writer
    indexes a statement's new Results with one INSERT … SELECT after it (ingest.index_new_result_names).

    Why: a row trigger writing an FTS5 table makes each inserted row a statement with its own savepoint,
    and FTS5 writes out its pending terms at every savepoint: a segment per Result, then merges. Measured
    on 8,000 Results: 0.75-1.4 s with the trigger, 0.14-0.29 s indexed after each statement (no index at
    all: 0.06 s); it was the largest part of an import's Result writes. Deletes and renames stay on
    triggers (rare, and an index entry must go with its row)."""
    if is_sqlite(db):
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{NAME_FTS}_ai"')


def _summary_days_v9(db: pw.Database) -> None:
    """`summary_day`: the record-list summary's per-day sums kept by the writer (store/summary_days.py), built
    here from run_stat in one INSERT … SELECT (measured at 1.2M records: see the module)."""
    from tekton_results_tui.store import summary_days  # local: it builds on this module

    db.create_tables([summary_days.SummaryDay], safe=True)
    summary_days.build_all(db)


# Ordered steps: MIGRATIONS[i] brings a schema from version i to i+1.
MIGRATIONS: list[Callable[[pw.Database], None]] = [
    _create_v1, _lean_label_indexes_v2, _run_stats_v3, _log_index_v4, _imported_at_v5, _stat_days_v6, _rebuilt_v7,
    _name_fts_writer_v8, _summary_days_v9,
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def _version_of(row: m.MetaKV | None) -> int:
    if row is None:
        return 0
    text = str(row.value).strip()
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise StoreError(f"this history's schema version {text[:40]!r} (meta table) is not a number: "
                         "the file is damaged or not a tekton-results-tui history")
    return int(text)


def schema_version(db: pw.Database) -> int:
    if not db.table_exists("meta"):
        return 0
    return _version_of(m.MetaKV.get_or_none(m.MetaKV.key == "schema_version"))


def check_schema(db: pw.Database) -> int:
    """The schema version of a history opened read-only: any this program can read (reads do not
    depend on what later versions changed: v2 only dropped indexes and rebuilt `label` with the same
    columns; reads that use v3's tables check `has_run_stats` and read the older way; a log search
    checks `log_index.has_index` and says the index is missing), never migrated; a newer or missing
    schema is a clear error."""
    v = schema_version(db)
    if v > SCHEMA_VERSION:
        raise StoreError(
            f"this history has schema version {v}, newer than this program knows ({SCHEMA_VERSION}); "
            "upgrade tekton-results-tui to open it"
        )
    if v == 0:
        raise StoreError("this database holds no tekton-results-tui history (no schema)")
    return v


def run_migrations(db: pw.Database) -> int:
    """Bring the schema to SCHEMA_VERSION in one write transaction; refuse a newer one."""
    with db.write_txn():
        if not db.table_exists("meta"):
            db.create_tables([m.MetaKV], safe=True)
        v = _version_of(m.MetaKV.get_or_none(m.MetaKV.key == "schema_version"))
        if v > SCHEMA_VERSION:
            raise StoreError(
                f"this history has schema version {v}, newer than this program knows ({SCHEMA_VERSION}); "
                "upgrade tekton-results-tui to open it"
            )
        try:
            for i, step in enumerate(MIGRATIONS[v:], v):
                # a step runs on a history at version i: writer code it calls keeps only the tables there
                # are (the v6 step's stat_days.rebuild leaves summary_day, made by v9, alone)
                db.schema_version = i
                step(db)
        except BaseException:
            db.schema_version = v  # rolled back
            raise
        db.schema_version = SCHEMA_VERSION
        if v != SCHEMA_VERSION:
            m.MetaKV.insert(key="schema_version", value=str(SCHEMA_VERSION)).on_conflict(
                conflict_target=[m.MetaKV.key], update={m.MetaKV.value: str(SCHEMA_VERSION)}
            ).execute()
            m.MetaKV.insert(key="change_seq", value="0").on_conflict_ignore().execute()
    return SCHEMA_VERSION


def is_sqlite(db: pw.Database) -> bool:
    return isinstance(db, pw.SqliteDatabase)


__all__ = ["open_database", "parse_db_url", "StoreError", "SCHEMA_VERSION", "run_migrations"]
