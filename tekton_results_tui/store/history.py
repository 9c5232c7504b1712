"""The store API: the one way into and out of the history.

`History` is a thin front; each concern lives in a module of its own:
- changes.py   what a writer hands `apply` (RunUpsert, ClassifiedRun, Gone, Logs, Events) and gets back
- ingest.py    the write pipeline: one IMMEDIATE transaction per batch, blind conditional upserts
               (`... ON CONFLICT DO UPDATE ... WHERE stored.rv < excluded.rv`), so applying a batch
               twice changes nothing and never bumps the change sequence, and an older
               resourceVersion never overwrites a newer one
- storable.py  what a database cannot hold (NUL, lone surrogates) and what is stored instead
- documents.py the Log and EventList Records built about a run
- rows.py      what reads return: rows, pages and their keyset tokens, orders
- reads.py     the change feed (`changes_since(n)`), listings, lookups, logs, a page's details
- aggregates.py, retention.py (prune), lease.py (who writes this history)
Every row a batch changes carries that batch's sequence number; readers ask `changes_since(n)`.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, overload

import peewee as pw

from tekton_results_tui.store import lease, log_index, reads, retention, stat_days
from tekton_results_tui.store.aggregates import Aggregate, aggregate
from tekton_results_tui.store.changes import (
    ApplyResult, Change, ClassifiedRun, Events, Gone, Logs, ReadOnlyError, RunUpsert, Skipped, StepLogData,
    describe_object,
)
from tekton_results_tui.store.checkpoint import DEFAULT_AUTOCHECKPOINT, BackgroundCheckpointer
from tekton_results_tui.store.db import IMPORTED_VERSION, is_sqlite
from tekton_results_tui.store.query import Filter, parse_filter
from tekton_results_tui.store.rows import (
    RECORD_ORDERS, RESULT_ORDERS, ChangeSet, Page, RecordRow, ResultRow, StepLogInfo, encode_token, row_sort_value,
)
from tekton_results_tui.store.sql import get_value, lock_seq, loads_json, put_value, set_seq

if TYPE_CHECKING:
    from tekton_results_tui.store.log_search import LogHit, LogQuery, LogQueryError, LogSearchPage, NoLogIndex, parse_log_query

# The write pipeline (ingest.py) and log search load on first use: a viewer paints its first page
# without them (tests/tui/test_startup_imports_tui.py; ~20 ms each of every start).
_LAZY = {name: "log_search" for name in
         ("LogHit", "LogQuery", "LogQueryError", "LogSearchPage", "NoLogIndex", "parse_log_query")}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"tekton_results_tui.store.{_LAZY[name]}"), name)

OPTIMIZE_EVERY = 50_000  # changed rows between automatic statistics refreshes

# Names other packages import from here (the front stays where callers know it).
__all__ = [
    "History", "ApplyResult", "Change", "ClassifiedRun", "Events", "Gone", "Logs", "ReadOnlyError", "RunUpsert",
    "Skipped", "StepLogData", "describe_object", "Aggregate", "ChangeSet", "Page", "RecordRow", "ResultRow",
    "StepLogInfo", "RECORD_ORDERS", "RESULT_ORDERS", "loads_json", "LogHit", "LogQuery", "LogQueryError",
    "LogSearchPage", "NoLogIndex", "parse_log_query",
]


class History:
    """The history in one database. Thread-safe: peewee keeps a connection per thread."""

    def __init__(self, db: pw.Database, read_only: bool = False, clock: Any = time.time) -> None:
        self.db = db
        self.read_only = read_only
        self.clock = clock
        self._written_since_optimize = 0
        self._in_bulk = 0  # History.bulk depth: its applies leave the statistics days to its end

    # --- writing -----------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError("this history is open read-only")

    def _txn(self):  # noqa: ANN202 - peewee's transaction context
        return self.db.write_txn()  # type: ignore[attr-defined]

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Around a long run of large applies made on this thread (import).

        The per-day statistics (store/stat_days.py) are only marked dirty by its applies and rebuilt once
        when it ends: an import in time order touches each day in many batches, and rebuilding a day per
        batch was ~16 % of an import's time. Readers stay right meanwhile (a dirty day is read from rows).
        SQLite also commits cheaper: WAL checkpoints move from each COMMIT to a background connection
        (store/checkpoint.py); on exit a last checkpoint runs and autocheckpoint is restored. Every apply
        is still one durable transaction.
        """
        self._check_writable()
        self._in_bulk += 1
        try:
            if not is_sqlite(self.db):
                yield
            else:
                self.db.execute_sql("PRAGMA wal_autocheckpoint=0")  # this thread's connection only
                ck = BackgroundCheckpointer(self.db.database).start()
                try:
                    yield
                finally:
                    ck.stop()
                    self.db.execute_sql(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT}")
        finally:
            self._in_bulk -= 1
        if not self._in_bulk:
            self.settle_statistics()

    def settle_statistics(self) -> None:
        """Rebuild every dirty statistics day now (PostgreSQL: under the change sequence's row lock, as apply
        rebuilds days, so two processes never rebuild one day at once)."""
        self._check_writable()
        with self._txn():
            lock_seq(self.db)
            stat_days.settle_due(self.db, int(self.clock()), everything=True)

    def apply(self, changes: Iterable[Change], cluster: str = "", report: bool = False,
              imported: bool = False) -> ApplyResult:
        """Apply a batch in one transaction. Idempotent; conditional on resourceVersion.

        `changes` may be a generator: each object is dropped once classified, so a bulk caller
        (import) holds one parsed object at a time, not the batch. `report=True` also says, per
        run, whether it was new, updated or already current (one indexed read per 500 runs).
        `imported=True` (the import command): new runs are marked as never seen in a cluster; any
        other writer's batch (a watcher, a Results source) clears that mark from the runs it carries.
        """
        self._check_writable()
        now = int(self.clock())
        from tekton_results_tui.store import ingest

        c = ingest.collect(changes, now)
        with self._txn():
            b = ingest.Batch(self.db, cluster, lock_seq(self.db) + 1, now, imported=imported,
                             settle_days=not self._in_bulk)
            changed, outcomes = ingest.write(b, c, report)
            seq = b.seq
            if changed:
                set_seq(seq)
            else:
                seq -= 1
        self._written_since_optimize += changed
        if self._written_since_optimize >= OPTIMIZE_EVERY:
            self.optimize()
        return ApplyResult(seq=seq, changed=changed, stored=len(c.runs), skipped=c.skipped, warnings=c.warnings,
                           outcomes=outcomes)

    def optimize(self) -> None:
        """Refresh the planner's statistics (PostgreSQL ANALYZE / SQLite PRAGMA optimize).

        Measured: after a bulk import into fresh PostgreSQL tables, a label+status filter took ~400 ms
        until ANALYZE, then ~4 ms; autovacuum gets there eventually, writers call this every
        OPTIMIZE_EVERY changed rows so readers need not wait for it.
        """
        self._written_since_optimize = 0
        if self.read_only:
            return
        # every dirty day's statistics rebuilt (a writer leaves the live ones for a while); PostgreSQL:
        # serialized with other writers: two rebuilds of one day in two processes each deleted the rows they
        # saw and inserted theirs, leaving both
        if not self._in_bulk:
            self.settle_statistics()
        if is_sqlite(self.db):
            # ANALYZE reads, then writes: in a deferred transaction another writer's commit in between
            # makes SQLite fail at once with "database is locked" (no busy wait); IMMEDIATE takes the
            # write lock first, as every other write here does.
            with self._txn():
                self.db.execute_sql("PRAGMA optimize")
                self._analyze_results_once()
        else:
            # Label key=value pairs are far from independent (a value such as "web" under several keys):
            # without statistics on the pair PostgreSQL took label:team=web for 1/7 of its size and hashed
            # every Result for a page (69 ms at 20k Results); with them it walks newest-first (1.3 ms).
            self._label_pair_statistics()
            self.db.execute_sql("ANALYZE result, record, label, run_stat, stat_day, stat_rebuilt, summary_day")

    def _label_pair_statistics(self) -> None:
        """PostgreSQL: CREATE STATISTICS on label (key, value) once, by a role that owns the table. PostgreSQL
        checks ownership before IF NOT EXISTS, so a writer granted only DML failed here (after its batch had
        committed) even when the statistics existed; such a role skips it, as ANALYZE skips with a warning."""
        db = self.db
        row = db.execute_sql(
            "SELECT pg_has_role(c.relowner, 'USAGE'), EXISTS (SELECT 1 FROM pg_statistic_ext s "
            "WHERE s.stxrelid = c.oid AND s.stxname = 'label_key_value') "
            "FROM pg_class c WHERE c.oid = '\"label\"'::regclass").fetchone()
        if row is None or not row[0] or row[1]:
            return
        try:
            with db.atomic():  # a savepoint if a caller holds a transaction; two writers may race to create it
                db.execute_sql('CREATE STATISTICS IF NOT EXISTS "label_key_value" (mcv) ON "key", "value" FROM "label"')
        except pw.DatabaseError:
            pass  # another writer created it a moment ago (the catalog's unique name), or the role lost ownership

    def _analyze_results_once(self) -> None:
        """SQLite: statistics for `result` when it has rows and none yet. PRAGMA optimize analyzes only
        the tables its connection's queries would have used them for, and histories were left without
        any for `result`: SQLite then took a status for a few rows and drove `label:k=v dur>5m
        status:succeeded`'s count from the status index (1.2M records: 14.7 ms CPU, 6.2 ms with them;
        the whole filter benchmark's CPU p95 15.2 -> 10.6 ms). ANALYZE result took 4 s at 200k Results."""
        db = self.db
        have = db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() and \
            db.execute_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'result' LIMIT 1").fetchone()
        if not have and db.execute_sql('SELECT 1 FROM "result" LIMIT 1').fetchone():
            db.execute_sql('ANALYZE "result"')

    # --- change feed ---------------------------------------------------------------------

    def current_seq(self) -> int:
        return reads.current_seq()

    def changes_since(self, seq: int, limit: int = 5000) -> ChangeSet:
        """Rows changed after `seq` (oldest first). A reader keeps the returned seq for next time."""
        return reads.changes_since(seq, limit)

    # --- listing -------------------------------------------------------------------------

    def _filter(self, flt: str | Filter | None) -> Filter:
        if isinstance(flt, Filter):
            return flt
        return parse_filter(flt, now=self.clock())

    def list_results(self, flt: str | Filter | None = None, order: str = "newest", page_token: str | None = None,
                     limit: int = 50, reverse: bool = False) -> Page:
        """Results matching `flt`, a keyset page at a time. Raises FilterError / ValueError."""
        return reads.list_results(self._filter(flt), order, page_token, limit, reverse)

    def token_after(self, row: ResultRow, order: str = "newest") -> str:
        """The page token of the Results listed after `row` in `order` (a reader that let rows go from the
        bottom of its listing asks for them again from there)."""
        return encode_token([order, row_sort_value(row, order), row.id])

    @overload
    def count_results(self, flt: str | Filter | None = None) -> int: ...
    @overload
    def count_results(self, flt: str | Filter | None, limit: int) -> tuple[int, bool]: ...

    def count_results(self, flt: str | Filter | None = None, limit: int | None = None) -> int | tuple[int, bool]:
        """How many Results match; with `limit`, (n, exact): counting stops past `limit` ("≥ limit")."""
        n, exact = reads.count_results(self._filter(flt), limit)
        return n if limit is None else (n, exact)

    def list_records(self, flt: str | Filter | None = None, result: str | int | None = None, order: str = "newest",
                     page_token: str | None = None, limit: int = 50, cluster: str | None = None) -> Page:
        """Records matching `flt` (optionally of one Result, by name or id), a keyset page at a time."""
        return reads.list_records(self._filter(flt), result, order, page_token, limit, cluster)

    def count_records(self, flt: str | Filter | None = None) -> int:
        return reads.count_records(self._filter(flt))

    def records_of(self, result_id: int) -> list[RecordRow]:
        """All Records of one Result in run order (the tree's children): runs by start, then logs, events."""
        return reads.records_of(result_id)

    def result_ids_matching(self, result_ids: Sequence[int], flt: str | Filter | None) -> set[int]:
        """Of these Result ids, the ones `flt` matches (live changes are shown only if they match)."""
        return reads.result_ids_matching(result_ids, self._filter(flt))

    def flaky_among(self, result_ids: Sequence[int]) -> set[int]:
        """Of these Result ids, the ones `flaky:true` matches: a page's flaky marks without the filter's
        whole-history grouping. FilterError on an older history without the flaky columns."""
        if not result_ids:
            return set()
        self._filter("flaky:true")  # an older history says so as the filter does
        return reads.flaky_among(result_ids)

    def cluster_sample(self) -> set[str]:
        """Up to two cluster names of the stored Results (two index probes): is there more than one?"""
        return reads.cluster_sample()

    def many_clusters(self) -> bool:
        """Whether the history holds Results of more than one cluster (cheap on millions of rows)."""
        return len(reads.cluster_sample()) > 1

    # --- a page's details ----------------------------------------------------------------

    def result_details_of(self, result_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Result id -> annotations, summary_annotations and warnings, for a page of rows in one read."""
        return reads.result_details(result_ids)

    def record_counts(self, result_ids: Sequence[int]) -> dict[int, int]:
        """Result id -> its number of Records (absent when it has none)."""
        return reads.record_counts(result_ids)

    def record_objects(self, record_ids: Sequence[int]) -> dict[int, Any]:
        """Record id -> its stored object parsed, for a page of rows in one read."""
        return reads.record_objects(record_ids)

    # --- getting one ---------------------------------------------------------------------

    def get_result(self, name: str | None = None, uid: str | None = None, id: int | None = None,  # noqa: A002
                   cluster: str | None = None) -> ResultRow | None:
        return reads.get_result(name, uid, id, cluster)

    def result_details(self, result_id: int) -> dict[str, Any]:
        """The JSON-ish parts of a Result (annotations, summary annotations, warnings)."""
        return reads.result_details([result_id]).get(result_id, {})

    def get_record(self, name: str | None = None, uid: str | None = None, id: int | None = None,  # noqa: A002
                   cluster: str | None = None) -> RecordRow | None:
        return reads.get_record(name, uid, id, cluster)

    def find_runs(self, run_name: str, namespace: str | None = None, cluster: str | None = None,
                  limit: int = 50) -> list[RecordRow]:
        """Runs with this name, newest first (names repeat after a run is deleted and re-created)."""
        return reads.find_runs(run_name, namespace, cluster, limit)

    def record_data(self, record_id: int) -> str | None:
        """The stored object's JSON text (parse it where it is shown, not in lists)."""
        return reads.record_data(record_id)

    def imported_at(self, record_id: int) -> int | None:
        """When an import stored this run, if no watcher has written it since (None: seen in a
        cluster, or stored before schema v5 kept the mark)."""
        if getattr(self.db, "schema_version", IMPORTED_VERSION) < IMPORTED_VERSION:
            return None  # an older history opened read-only: it has no such column
        return reads.imported_at(record_id)

    def record_object(self, record_id: int) -> dict | None:
        raw = self.record_data(record_id)
        return json.loads(raw) if raw else None

    def stored_versions(self, uids: Sequence[str], cluster: str = "") -> dict[str, tuple[int, bool]]:
        """uid -> (stored resourceVersion, final) for runs; what cleanup checks before deleting."""
        return reads.stored_versions(uids, cluster)

    def in_cluster_uids(self, kind: str, cluster: str = "", namespaces: Sequence[str] | None = None) -> set[str]:
        """uids of runs of `kind` the history believes are still in the cluster (for relist diffs)."""
        return reads.in_cluster_uids(kind, cluster, namespaces)

    def size(self) -> tuple[int, int]:
        """(results, records) in the history — cheap enough for a header."""
        return reads.size()

    # --- logs ----------------------------------------------------------------------------

    def captured_documents(self, derived_uids: Sequence[str], cluster: str = "") -> dict[str, bool]:
        """Of these Log/EventList record uids, the ones stored in this history -> complete (no step log
        in state `error`). Two indexed reads per 500 uids; the watcher asks it per batch."""
        return reads.captured_documents(derived_uids, cluster)

    def log_record_for(self, run_uid: str, cluster: str | None = None) -> RecordRow | None:
        return reads.log_record_for(run_uid, cluster)

    def step_logs(self, log_record_id: int) -> list[StepLogInfo]:
        return reads.step_logs(log_record_id)

    def step_log_text(self, step_log_id: int) -> bytes:
        """One step's stored log, decompressed (capped at store time, so bounded)."""
        return reads.step_log_text(step_log_id)

    # --- searching every stored log -------------------------------------------------------

    def search_logs(self, query: str | LogQuery, flt: str | Filter | None = None, context: int = 0,
                    page_token: str | None = None, limit: int = 50) -> LogSearchPage:
        """Lines of stored step logs matching `query` (store/log_search.py), in runs `flt` keeps, newest
        runs first, with `context` lines either side; a page at a time (pass back `next_token`).
        Raises LogQueryError / FilterError (one line) for bad input, NoLogIndex on an old read-only file."""
        from tekton_results_tui.store import log_search

        q = query if isinstance(query, log_search.LogQuery) else log_search.parse_log_query(query)
        return log_search.search(self.db, q, self._filter(flt), context, page_token, limit)

    def log_index_pending(self) -> int:
        """Stored step logs the log index has still to take in (0 when it is complete or absent)."""
        return log_index.pending() if log_index.has_index(self.db) else 0

    def reindex_logs_batch(self, step_logs: int = log_index.BACKFILL_BATCH,
                           max_bytes: int = log_index.BACKFILL_BYTES) -> int | None:
        """Index the next batch (up to `step_logs` step logs or `max_bytes` of text) of stored step logs the
        log index lacks (one transaction, resumable); the step logs looked at, None when it is complete."""
        self._check_writable()
        return log_index.backfill_batch(self.db, step_logs, max_bytes)

    def log_index_being_built(self) -> bool:
        """Whether something (a watcher, reindex-logs) committed a batch of the index's backfill lately."""
        return log_index.has_index(self.db) and log_index.being_built()

    def log_index_bytes(self) -> int | None:
        return log_index.index_size_bytes(self.db)

    # --- aggregates and retention --------------------------------------------------------

    def aggregate(self, by: str = "pipeline", flt: str | Filter | None = None) -> list[Aggregate]:
        """Per pipeline / namespace / day (of the run's start): counts, success rate, p50/p95/max duration."""
        return aggregate(by, self._filter(flt))

    def prune(self, ended_before: int, flt: str | Filter | None = None, dry_run: bool = False) -> tuple[int, int]:
        """Forget Results matching `flt` whose runs ended before `ended_before` (their Records and logs go too).

        By the run's completion time, never the row's time. Running Results are never pruned.
        Returns (results, records) removed (or that would be).
        """
        if not dry_run:
            self._check_writable()
        ids, n_records = retention.prunable(ended_before, self._filter(flt))
        if ids and not dry_run:
            retention.delete_results(self.db, ids)
        return len(ids), n_records

    def last_prune_seq(self) -> int:
        return retention.last_prune_seq()

    def release_connection(self, failed: bool = False) -> None:
        """A reader thread is done for now. PostgreSQL: its connection goes back to the pool. SQLite: the
        thread keeps it for its next read (TUI reads run on a few long-lived pool threads; opening one and
        reading the schema again cost ~10 ms of every read at 1.2M records) with its page cache emptied
        (a writable history's connections may cache 64 MB each); a read that `failed` closes it."""
        if failed or not is_sqlite(self.db):
            self.db.close()
        elif not self.db.is_closed():
            self.db.execute_sql("PRAGMA shrink_memory")

    # --- small named values and the writer lease -----------------------------------------

    def get_value(self, key: str) -> str | None:
        return get_value(key)

    def set_value(self, key: str, value: str) -> None:
        self._check_writable()
        with self._txn():
            put_value(key, value)

    def acquire_lease(self, name: str, holder: str, ttl_s: float, info: dict | None = None) -> bool:
        """Take or renew the lease `name` for `holder` if it is free, expired, held by a process of this
        host that died, or already ours. The store adds where this process runs to `info`."""
        self._check_writable()
        return lease.acquire(self.db, name, holder, ttl_s, self.clock(), info)

    def release_lease(self, name: str, holder: str) -> None:
        self._check_writable()
        lease.release(self.db, name, holder)

    def lease(self, name: str) -> dict | None:
        """The lease row, or None; `live` says whether it has not expired and its holder is not known dead."""
        return lease.read(name, self.clock())
