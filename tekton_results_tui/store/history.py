"""The store API: the one way into and out of the history.

Writes: `History.apply(changes)` applies a batch in one (IMMEDIATE) transaction with
blind conditional upserts (`... ON CONFLICT DO UPDATE ... WHERE stored.rv < excluded.rv`),
so applying the same batch twice changes nothing and never bumps the change sequence,
and an older resourceVersion never overwrites a newer one. Every row a batch changes
carries that batch's sequence number; readers ask `changes_since(n)`.

Reads: list/count Results and Records with a filter, an order and keyset pages; get by
name/uid/run name; logs; aggregates; prune.
"""

from __future__ import annotations

import base64
import functools
import json
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import peewee as pw

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.checkpoint import DEFAULT_AUTOCHECKPOINT, BackgroundCheckpointer
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.models import Label, Lease, MetaKV, Record, Result, StepLog
from tekton_results_tui.store.query import Filter, parse_filter

CHUNK = 500  # rows per INSERT: well under SQLite's 32k variable limit with ~30 columns
OPTIMIZE_EVERY = 50_000  # changed rows between automatic statistics refreshes
_WRAP_DB_ERRORS = getattr(pw, "__exception_wrapper__")  # driver errors -> peewee's, as execute_sql does


class ReadOnlyError(Exception):
    """A write was attempted on a history opened read-only."""


# --- changes ---------------------------------------------------------------------


@dataclass
class RunUpsert:
    """Store this PipelineRun/TaskRun object (if newer than what is stored)."""

    obj: dict
    raw: str | None = None  # the object's JSON text, if the caller has it already


@dataclass
class Gone:
    """The object with this uid left the cluster at `at` (history kept)."""

    uid: str
    at: int | None = None
    # From a relist: mark gone only if the stored rv is older than the list's snapshot — anything
    # newer was seen after the snapshot (by a watch event or another informer), so it is alive.
    before_rv: int | None = None


@dataclass
class StepLogData:
    step: str
    container: str
    text: bytes
    truncated: bool = False
    state: str = "stored"  # stored | pod-gone | not-started | error


@dataclass
class Logs:
    """Step logs of a TaskRun (the run object tells which Result they join)."""

    run: dict
    steps: list[StepLogData]


@dataclass
class Events:
    """Kubernetes events about a run, stored as its EventList record."""

    run: dict
    items: list[dict]


@dataclass
class ClassifiedRun:
    """A run already classified by `grouping.classify`, with its compact JSON text.

    For a bulk caller that classifies elsewhere (the import does it in a reader process, on the
    other core): the store keeps `raw` as the object and never parses it again.
    """

    info: g.RunInfo
    raw: str


Change = RunUpsert | ClassifiedRun | Gone | Logs | Events


@dataclass
class Skipped:
    what: str
    why: str


@dataclass
class ApplyResult:
    seq: int  # the sequence after the batch (unchanged when nothing changed)
    changed: int = 0  # rows inserted/updated
    stored: int = 0  # run objects accepted (changed or already current)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # with apply(report=True): per run uid, "new" | "updated" | "unchanged" (read in the same transaction)
    outcomes: dict[str, str] = field(default_factory=dict)


# --- read rows ---------------------------------------------------------------------


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


def _result_row(t: tuple) -> ResultRow:
    r = ResultRow(*t)
    r.in_cluster = bool(r.in_cluster)
    return r


def _record_row(t: tuple) -> RecordRow:
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
class Aggregate:
    key: str
    total: int
    succeeded: int
    failed: int
    cancelled: int
    timed_out: int
    running: int
    success_rate: float | None  # succeeded / finished
    p50: float | None
    p95: float | None
    max: int | None


@dataclass
class StepLogInfo:
    id: int
    step: str
    container: str
    size: int
    truncated: bool
    state: str


# Result orders: name -> (column expression, default direction)
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


def _encode_token(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(token: str) -> list:
    try:
        pad = "=" * (-len(token) % 4)
        vals = json.loads(base64.urlsafe_b64decode(token + pad))
        if not isinstance(vals, list) or len(vals) != 3:
            raise ValueError
        return vals
    except (ValueError, TypeError):
        raise ValueError(f"bad page token {token[:40]!r}") from None


def _keyset(expr: pw.Node, id_col: pw.Field, direction: str, token: str | None, order_name: str) -> pw.Expression | None:
    if not token:
        return None
    o, v, last_id = _decode_token(token)
    if o != order_name:
        raise ValueError("page token belongs to another order")
    if direction == "desc":
        return (expr < v) | ((expr == v) & (id_col < last_id))
    return (expr > v) | ((expr == v) & (id_col > last_id))


def _row_sort_value(row: Any, order_name: str, kind: str) -> Any:
    if kind == "result":
        m = {"newest": row.sort_time, "oldest": row.sort_time, "start": row.start, "end": row.end,
             "duration": row.duration, "name": row.display_name}
    else:
        m = {"newest": row.create_time, "oldest": row.create_time, "start": row.start, "end": row.end,
             "duration": row.duration, "name": row.run_name}
    v = m[order_name]
    if v is None:  # mirror the COALESCE of the order expression, or the keyset skips NULL rows
        return "" if order_name == "name" else -1
    return v


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=65_536)
def _result_uid(cluster: str, name: str) -> str:
    """A Result's stable uid (both the create and the summary upsert of a batch need it)."""
    return g.derived_uid(cluster + "/" + name, "result")


def _q(name: str) -> str:
    return '"' + name + '"'


def _chunks(seq: Sequence, n: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _percentile(sorted_vals: list[int], q: float) -> float | None:
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


class History:
    """The history in one database. Thread-safe: peewee keeps a connection per thread."""

    def __init__(self, db: pw.Database, read_only: bool = False, clock: Any = time.time) -> None:
        self.db = db
        self.read_only = read_only
        self.clock = clock
        self._written_since_optimize = 0

    # --- writing -----------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError("this history is open read-only")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Around a long run of large applies made on this thread (import): cheaper commits on SQLite.

        WAL checkpoints move from each COMMIT to a background connection (store/checkpoint.py);
        on exit a last checkpoint runs and autocheckpoint is restored. Semantics are unchanged:
        every apply is still one durable transaction. A no-op on PostgreSQL.
        """
        self._check_writable()
        if not is_sqlite(self.db):
            yield
            return
        self.db.execute_sql("PRAGMA wal_autocheckpoint=0")  # this thread's connection only
        ck = BackgroundCheckpointer(self.db.database).start()
        try:
            yield
        finally:
            ck.stop()
            self.db.execute_sql(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT}")

    def _txn(self):  # noqa: ANN202
        return self.db.write_txn()  # type: ignore[attr-defined]

    def _bulk(self, build: Any, rows: list[tuple]) -> int:
        """Run an INSERT that peewee builds for ONE row over all `rows`; returns the rows changed.

        Measured: peewee's SQL generation for 500-row insert_many cost ~5x the database work. The
        statement is the same for every row, so build it once and hand the rows to the driver's
        fast path (sqlite3 executemany with one prepared statement; psycopg2 execute_values).
        `build(rows)` returns the peewee query; defaults peewee appends after the given fields are
        constants and are appended to every row the same way.
        """
        if not rows:
            return 0
        sql, params = build([rows[0]]).sql()
        extra = tuple(params[len(rows[0]):])
        full = [tuple(r) + extra for r in rows] if extra else rows
        with _WRAP_DB_ERRORS:
            cur = self.db.cursor()
            if is_sqlite(self.db):
                cur.executemany(sql, full)
                return max(cur.rowcount, 0)
            from psycopg2.extras import execute_values  # only PostgreSQL users need it

            group = "VALUES (" + ", ".join(["%s"] * len(params)) + ")"
            at = sql.find(group)
            if at < 0:  # an unexpected shape: let peewee build it whole
                return _rowcount(self.db, build(rows).as_rowcount().execute())
            paged, n = sql[:at] + "VALUES %s" + sql[at + len(group):], 0
            for chunk in _chunks(full):  # one page per call: rowcount covers only the last page
                execute_values(cur, paged, chunk, page_size=len(chunk))
                n += max(cur.rowcount, 0)
            return n

    def _lock_seq(self) -> int:
        q = MetaKV.select(MetaKV.value).where(MetaKV.key == "change_seq")
        if not is_sqlite(self.db):
            q = q.for_update()  # serializes writers so sequence order is commit order
        row = q.first()
        return int(row.value) if row else 0

    def apply(self, changes: Iterable[Change], cluster: str = "", report: bool = False) -> ApplyResult:
        """Apply a batch in one transaction. Idempotent; conditional on resourceVersion.

        `changes` may be a generator: each object is dropped once classified, so a bulk caller
        (import) holds one parsed object at a time, not the batch. `report=True` also says, per
        run, whether it was new, updated or already current (one indexed read per 500 runs).
        """
        self._check_writable()
        now = int(self.clock())
        skipped: list[Skipped] = []
        warnings: list[str] = []
        runs: dict[str, tuple[g.RunInfo, str]] = {}  # uid -> newest (info, json)
        gones: dict[str, int] = {}
        logs: list[tuple[g.RunInfo, list[StepLogData]]] = []
        events: list[tuple[g.RunInfo, list[dict]]] = []
        for ch in changes:
            if isinstance(ch, (ClassifiedRun, RunUpsert)):
                if isinstance(ch, ClassifiedRun):
                    info = ch.info
                else:
                    try:
                        info = g.classify(ch.obj)
                    except g.GroupingError as exc:
                        skipped.append(Skipped(describe_object(ch.obj), str(exc)))
                        continue
                if info.warnings:
                    warnings.extend(info.warnings)
                prev = runs.get(info.uid)
                if prev is None or info.rv >= prev[0].rv:  # coalesce: newest resourceVersion wins
                    runs[info.uid] = (info, ch.raw if ch.raw is not None else _dumps(ch.obj))  # type: ignore[union-attr]
            elif isinstance(ch, Gone):
                gones[ch.uid] = (ch.at if ch.at is not None else now, ch.before_rv)
            elif isinstance(ch, Logs):
                try:
                    logs.append((g.classify(ch.run), ch.steps))
                except g.GroupingError as exc:
                    skipped.append(Skipped("logs of " + describe_object(ch.run), str(exc)))
            elif isinstance(ch, Events):
                try:
                    events.append((g.classify(ch.run), ch.items))
                except g.GroupingError as exc:
                    skipped.append(Skipped("events of " + describe_object(ch.run), str(exc)))
            else:
                raise TypeError(f"not a change: {ch!r}")

        with self._txn():
            seq = self._lock_seq() + 1
            changed = 0
            infos = [i for i, _ in runs.values()] + [i for i, _ in logs] + [i for i, _ in events]
            tops = [i for i, _ in runs.values() if i.top_level]
            changed += self._update_summaries(tops, cluster, seq, now)  # creates those Results too
            result_ids, n = self._ensure_results(infos, cluster, seq, now, {i.result_name for i in tops})
            changed += n
            changed += self._add_warnings(infos, cluster, result_ids, seq, now)
            outcomes = self._outcomes(runs, cluster) if report else {}
            changed += self._upsert_runs(list(runs.values()), cluster, result_ids, seq, now)
            for info, steps in logs:
                changed += self._upsert_logs(info, steps, cluster, result_ids, seq, now)
            for info, items in events:
                changed += self._upsert_events(info, items, cluster, result_ids, seq, now)
            if gones:
                changed += self._mark_gone(gones, cluster, seq, now)
            if changed:
                MetaKV.update(value=str(seq)).where(MetaKV.key == "change_seq").execute()
            else:
                seq -= 1
        self._written_since_optimize += changed
        if self._written_since_optimize >= OPTIMIZE_EVERY:
            self.optimize()
        return ApplyResult(seq=seq, changed=changed, stored=len(runs), skipped=skipped, warnings=warnings,
                           outcomes=outcomes)

    def _outcomes(self, runs: dict[str, tuple[g.RunInfo, str]], cluster: str) -> dict[str, str]:
        stored = dict(self._select_in(Record, (Record.uid, Record.rv), Record.uid, cluster, list(runs)))
        out = {}
        for uid, (info, _) in runs.items():
            rv = stored.get(uid)
            out[uid] = "new" if rv is None else ("updated" if rv < info.rv else "unchanged")
        return out

    def optimize(self) -> None:
        """Refresh the planner's statistics (PostgreSQL ANALYZE / SQLite PRAGMA optimize).

        Measured: after a bulk import into fresh PostgreSQL tables, a label+status filter took ~400 ms
        until ANALYZE, then ~4 ms; autovacuum gets there eventually, writers call this every
        OPTIMIZE_EVERY changed rows so readers need not wait for it.
        """
        self._written_since_optimize = 0
        if self.read_only:
            return
        if is_sqlite(self.db):
            # ANALYZE reads, then writes: in a deferred transaction another writer's commit in between
            # makes SQLite fail at once with "database is locked" (no busy wait); IMMEDIATE takes the
            # write lock first, as every other write here does.
            with self._txn():
                self.db.execute_sql("PRAGMA optimize")
        else:
            self.db.execute_sql("ANALYZE result, record, label")

    def _ensure_results(self, infos: list[g.RunInfo], cluster: str, seq: int, now: int,
                        upserted: set[str]) -> tuple[dict[str, int], int]:
        """Create missing Results (a child may arrive before its parent); map name -> id.

        `upserted`: Results the summary upsert of this batch has written already (not inserted again).
        """
        wanted: dict[str, g.RunInfo] = {}
        for i in infos:
            if i.result_name not in wanted:
                wanted[i.result_name] = i
        changed = 0
        rows = []
        for name, i in wanted.items():
            if name in upserted:
                continue
            created = i.created or now
            rows.append((cluster, i.namespace, name, _result_uid(cluster, name),
                         "UNKNOWN", created, now, now, seq))
        fields = [Result.cluster, Result.parent, Result.name, Result.uid, Result.summary_status,
                  Result.sort_time, Result.create_time, Result.update_time, Result.seq]
        changed += self._bulk(lambda r: Result.insert_many(r, fields=fields).on_conflict_ignore(), rows)
        ids = {name: rid for name, rid in self._select_in(Result, (Result.name, Result.id), Result.name, cluster, list(wanted))}
        return ids, changed

    def _select_in(self, model: type[pw.Model], cols: tuple[pw.Field, ...], key: pw.Field, cluster: str,
                   values: list[str]) -> Iterator[tuple]:
        """`SELECT cols FROM model WHERE cluster = ? AND key IN (values)`, 500 values at a time.

        Plain SQL: peewee builds a node per IN value, which cost more than the indexed lookups
        themselves on 10,000-run import batches.
        """
        p = self.db.param
        head = (f'SELECT {", ".join(_q(c.column_name) for c in cols)} FROM {_q(model._meta.table_name)} '
                f'WHERE {_q(model._meta.columns["cluster"].column_name)} = {p} AND {_q(key.column_name)} IN ')
        for chunk in _chunks(values):
            yield from self.db.execute_sql(head + "(" + ", ".join([p] * len(chunk)) + ")", [cluster, *chunk]).fetchall()

    def _update_summaries(self, tops: list[g.RunInfo], cluster: str, seq: int, now: int) -> int:
        if not tops:
            return 0
        newest: dict[str, g.RunInfo] = {}  # one row per Result: PostgreSQL refuses to upsert a row twice in one statement
        for i in tops:
            cur = newest.get(i.result_name)
            if cur is None or i.rv > cur.rv:
                newest[i.result_name] = i
        rows = []
        for i in newest.values():
            rows.append((
                cluster, i.namespace, i.result_name, _result_uid(cluster, i.result_name),
                _dumps(i.result_annotations), i.record_name, i.record_type, i.status, i.reason, i.start, i.end,
                i.duration, _dumps(i.summary_annotations), i.rv, i.name, i.pipeline, True,
                i.created or now, now, now, seq,
            ))
        fields = [Result.cluster, Result.parent, Result.name, Result.uid, Result.annotations, Result.summary_record,
                  Result.summary_type, Result.summary_status, Result.summary_reason, Result.summary_start,
                  Result.summary_end, Result.summary_duration, Result.summary_annotations, Result.summary_rv,
                  Result.display_name, Result.pipeline, Result.in_cluster, Result.sort_time, Result.create_time,
                  Result.update_time, Result.seq]
        EX = pw.EXCLUDED
        update = {
            Result.annotations: EX.annotations, Result.summary_record: EX.summary_record,
            Result.summary_type: EX.summary_type, Result.summary_status: EX.summary_status,
            Result.summary_reason: EX.summary_reason, Result.summary_start: EX.summary_start,
            Result.summary_end: EX.summary_end, Result.summary_duration: EX.summary_duration,
            Result.summary_annotations: EX.summary_annotations, Result.summary_rv: EX.summary_rv,
            Result.display_name: EX.display_name, Result.pipeline: EX.pipeline, Result.sort_time: EX.sort_time,
            Result.update_time: EX.update_time, Result.seq: EX.seq,
            # a newer top-level object is alive, so its Result is in the cluster again
            Result.in_cluster: EX.in_cluster, Result.gone_at: None,
        }
        return self._bulk(lambda r: Result.insert_many(r, fields=fields).on_conflict(
            conflict_target=[Result.cluster, Result.name], update=update,
            where=(Result.summary_rv < EX.summary_rv)), rows)

    def _add_warnings(self, infos: list[g.RunInfo], cluster: str, ids: dict[str, int], seq: int, now: int) -> int:
        """Malformed user annotations are kept as warnings on the Result (rare path: read-modify-write)."""
        by_result: dict[str, list[str]] = {}
        for i in infos:
            if i.warnings:
                by_result.setdefault(i.result_name, []).extend(i.warnings)
        changed = 0
        for name, ws in by_result.items():
            row = Result.get_or_none((Result.cluster == cluster) & (Result.name == name))
            if row is None:
                continue
            cur = json.loads(row.warnings or "[]")
            merged = cur + [w for w in dict.fromkeys(ws) if w not in cur]
            if merged != cur:
                Result.update(warnings=_dumps(merged[-50:]), seq=seq, update_time=now).where(Result.id == row.id).execute()
                changed += 1
        return changed

    def _upsert_runs(self, runs: list[tuple[g.RunInfo, str]], cluster: str, ids: dict[str, int], seq: int, now: int) -> int:
        if not runs:
            return 0
        fields = [Record.result, Record.cluster, Record.parent, Record.name, Record.uid, Record.type, Record.data,
                  Record.rv, Record.kind, Record.run_name, Record.run_uid, Record.status, Record.reason, Record.start,
                  Record.end, Record.duration, Record.pipeline, Record.pipeline_task, Record.task, Record.top_level,
                  Record.in_cluster, Record.final, Record.create_time, Record.update_time, Record.seq]
        EX = pw.EXCLUDED
        keep = {"cluster", "uid", "create_time"}  # identity
        update = {f: getattr(EX, f.column_name) for f in fields if f.name not in keep}
        # a strictly newer resourceVersion proves the object is alive: a false "gone" heals (a DELETED
        # event's Gone is applied after the upserts of its batch, so a real deletion still wins)
        update[Record.deleted_at] = None
        rows = [
            (ids[i.result_name], cluster, i.namespace, i.record_name, i.uid, i.record_type, raw, i.rv, i.kind, i.name,
             i.uid, i.status, i.reason, i.start, i.end, i.duration, i.pipeline, i.pipeline_task, i.task,
             i.top_level, True, i.final, i.created or now, now, seq)
            for i, raw in runs
        ]
        changed = self._bulk(lambda r: Record.insert_many(r, fields=fields).on_conflict(
            conflict_target=[Record.cluster, Record.uid], update=update, where=(Record.rv < EX.rv)), rows)
        if changed == len(rows):  # every run was new or newer (a bulk import): no need to ask which
            self._add_labels([i for i, _ in runs], ids)
        elif changed:
            # The rows this batch changed carry its seq (writers are serialized, so seq is ours alone):
            # cheaper than RETURNING through peewee, and it works with executemany.
            by_uid = {i.uid: i for i, _ in runs}
            returned = Record.select(Record.uid).where(
                (Record.seq == seq) & (Record.cluster == cluster) & (Record.kind << list(g.RUN_KINDS))).tuples()
            self._add_labels([by_uid[u] for (u,) in returned if u in by_uid], ids)
        return changed

    def _add_labels(self, infos: list[g.RunInfo], ids: dict[str, int]) -> None:
        """Add the changed runs' labels to their Results' label sets (insert-or-ignore; see models.Label).

        Deduplicated per Result first (a PipelineRun's TaskRuns repeat its labels: ~50 pairs per
        Result become ~17 rows), and written in Result order so new Results' rows append to the
        primary key. A plain dict per Result holds each key's first value; only the few keys seen
        with a second value (tekton.dev/task across TaskRuns) go to a set — measured ~3x cheaper
        than a set of (key, value) tuples for every label of every run.
        """
        per: dict[int, tuple[dict[str, str], set[tuple[str, str]]]] = {}
        for i in infos:
            rid = ids[i.result_name]
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
        self._bulk(lambda r: Label.insert_many(r, fields=fields).on_conflict_ignore(), rows)

    def _upsert_aux_record(self, info: g.RunInfo, kind: str, rtype: str, data: str, rv: int, cluster: str,
                           ids: dict[str, int], seq: int, now: int, where: pw.Expression) -> tuple[int, int]:
        """Upsert a Log/EventList record of a run; returns (record id, rows changed)."""
        uid = g.derived_uid(info.uid, kind)
        name = g.record_name(info.result_name, uid)
        EX = pw.EXCLUDED
        q = Record.insert(
            result=ids[info.result_name], cluster=cluster, parent=info.namespace, name=name, uid=uid, type=rtype,
            data=data, rv=rv, kind=kind, run_name=info.name, run_uid=info.uid, status="", reason=None,
            start=info.start, end=info.end, duration=None, pipeline=info.pipeline,
            pipeline_task=info.pipeline_task, task=info.task, top_level=False, in_cluster=True, final=info.final,
            create_time=info.created or now, update_time=now, seq=seq,
        ).on_conflict(
            conflict_target=[Record.cluster, Record.uid],
            update={Record.data: EX.data, Record.rv: EX.rv, Record.update_time: EX.update_time, Record.seq: EX.seq,
                    Record.final: EX.final, Record.start: EX.start, Record.end: EX.end},
            where=where,
        ).returning(Record.id)
        got = list(q.tuples().execute())
        if got:
            rid, changed = got[0][0], 1
        else:
            rid = Record.select(Record.id).where((Record.cluster == cluster) & (Record.uid == uid)).scalar()
            changed = 0
        # logs/events that arrive after their run left the cluster are gone with it
        run = Record.select(Record.in_cluster, Record.deleted_at).where(
            (Record.cluster == cluster) & (Record.uid == info.uid)).first()
        if run is not None and not run.in_cluster:
            changed += Record.update(in_cluster=False, deleted_at=run.deleted_at, seq=seq, update_time=now).where(
                (Record.id == rid) & (Record.in_cluster == True)).execute()  # noqa: E712
        return rid, changed

    def _upsert_logs(self, info: g.RunInfo, steps: list[StepLogData], cluster: str, ids: dict[str, int], seq: int, now: int) -> int:
        total = sum(len(s.text) for s in steps)
        data = _dumps({
            "kind": "Log", "apiVersion": "results.tekton.dev/v1alpha3",
            "metadata": {"uid": g.derived_uid(info.uid, "Log"), "namespace": info.namespace, "name": f"{info.name}-log"},
            "spec": {"resource": {"kind": info.kind, "namespace": info.namespace, "name": info.name, "uid": info.uid},
                     "type": "File"},
            "status": {"path": f"{info.namespace}/{info.uid}/{info.name}-log", "size": total,
                       "steps": [{"name": s.step, "container": s.container, "size": len(s.text),
                                  "truncated": s.truncated, "state": s.state} for s in steps]},
        })
        rid, changed = self._upsert_aux_record(
            info, "Log", g.TYPE_LOG, data, info.rv, cluster, ids, seq, now,
            where=(Record.data != pw.EXCLUDED.data),
        )
        rows = [(rid, s.step, s.container, pos, zlib.compress(s.text, 6), len(s.text), s.truncated, s.state)
                for pos, s in enumerate(steps)]
        EX = pw.EXCLUDED
        for chunk in _chunks(rows, 100):
            cur = StepLog.insert_many(chunk, fields=[StepLog.record, StepLog.step, StepLog.container, StepLog.position,
                                                     StepLog.data, StepLog.size, StepLog.truncated, StepLog.state]
                                      ).on_conflict(
                conflict_target=[StepLog.record, StepLog.step],
                update={StepLog.data: EX.data, StepLog.size: EX.size, StepLog.truncated: EX.truncated,
                        StepLog.state: EX.state, StepLog.container: EX.container, StepLog.position: EX.position},
                where=((StepLog.data != EX.data) | (StepLog.state != EX.state) | (StepLog.truncated != EX.truncated)),
            ).as_rowcount().execute()
            n = _rowcount(self.db, cur)
            if n and not changed:
                # logs changed under an unchanged Log record: still a change readers must see
                Record.update(seq=seq, update_time=now).where(Record.id == rid).execute()
                changed = 1
            changed += n
        return changed

    def _upsert_events(self, info: g.RunInfo, items: list[dict], cluster: str, ids: dict[str, int], seq: int, now: int) -> int:
        rv = max((g.parse_rv((e.get("metadata") or {}).get("resourceVersion")) for e in items), default=0)
        data = _dumps({"kind": "EventList", "apiVersion": "results.tekton.dev/v1",
                       "metadata": {"resourceVersion": str(rv)}, "items": items})
        _, changed = self._upsert_aux_record(
            info, "EventList", g.TYPE_EVENTLIST, data, rv, cluster, ids, seq, now,
            where=((Record.rv < pw.EXCLUDED.rv) | ((Record.rv == pw.EXCLUDED.rv) & (Record.data != pw.EXCLUDED.data))),
        )
        return changed

    def _mark_gone(self, gones: dict[str, tuple[int, int | None]], cluster: str, seq: int, now: int) -> int:
        changed = 0
        groups: dict[tuple[int, int | None], list[str]] = {}
        for uid, key in gones.items():
            groups.setdefault(key, []).append(uid)
        for (at, before_rv), uids in groups.items():
            for chunk in _chunks(uids):
                runs = (Record.cluster == cluster) & (Record.in_cluster == True) & (Record.uid << list(chunk))  # noqa: E712
                if before_rv is not None:
                    runs = runs & (Record.rv < before_rv)
                got = list(Record.update(in_cluster=False, deleted_at=at, seq=seq, update_time=now)
                           .where(runs).returning(Record.id, Record.result, Record.top_level, Record.uid)
                           .tuples().execute())
                if not got:
                    continue
                changed += len(got)
                # the runs' Log/EventList records (their ids derive from the run's uid) go with them
                aux = [u for (_, _, _, x) in got for u in (g.derived_uid(x, "Log"), g.derived_uid(x, "EventList"))]
                changed += Record.update(in_cluster=False, deleted_at=at, seq=seq, update_time=now).where(
                    (Record.cluster == cluster) & (Record.in_cluster == True) & (Record.uid << aux)  # noqa: E712
                ).execute()
                tops = sorted({res for _, res, top, _ in got if top})
                if tops:
                    # a Result is gone when none of its top-level runs is left in the cluster
                    # (trigger event-id grouping can put several top-level runs in one Result)
                    alive = Record.select(Record.id).where(
                        (Record.result == Result.id) & (Record.top_level == True) & (Record.in_cluster == True))  # noqa: E712
                    changed += Result.update(in_cluster=False, gone_at=at, seq=seq, update_time=now).where(
                        (Result.id << tops) & (Result.in_cluster == True) & ~pw.fn.EXISTS(alive)  # noqa: E712
                    ).execute()
        return changed

    # --- change feed -----------------------------------------------------------------

    def current_seq(self) -> int:
        row = MetaKV.get_or_none(MetaKV.key == "change_seq")
        return int(row.value) if row else 0

    def changes_since(self, seq: int, limit: int = 5000) -> ChangeSet:
        """Rows changed after `seq` (oldest first). A reader keeps the returned seq for next time."""
        cur = self.current_seq()
        res = [_result_row(t) for t in Result.select(*RESULT_COLS).where(Result.seq > seq)
               .order_by(Result.seq).limit(limit).tuples()]
        recs = [_record_row(t) for t in Record.select(*RECORD_COLS).where(Record.seq > seq)
                .order_by(Record.seq).limit(limit).tuples()]
        if len(res) == limit or len(recs) == limit:  # partial: resume from the lowest complete seq
            tops = [r.seq for r in (res[-1:] + recs[-1:])]
            cur = min(tops) - 1
            res = [r for r in res if r.seq <= cur]
            recs = [r for r in recs if r.seq <= cur]
        return ChangeSet(seq=cur, results=res, records=recs)

    # --- listing ---------------------------------------------------------------------

    def _filter(self, flt: str | Filter | None) -> Filter:
        if isinstance(flt, Filter):
            return flt
        return parse_filter(flt, now=self.clock())

    def list_results(self, flt: str | Filter | None = None, order: str = "newest", page_token: str | None = None,
                     limit: int = 50, reverse: bool = False) -> Page:
        """Results matching `flt`, a keyset page at a time. Raises FilterError / ValueError."""
        if order not in RESULT_ORDERS:
            raise ValueError(f"unknown order {order!r}: expected one of {', '.join(RESULT_ORDERS)}")
        f = self._filter(flt)
        expr, direction = RESULT_ORDERS[order]
        if reverse:
            direction = "asc" if direction == "desc" else "desc"
        q = Result.select(*RESULT_COLS)
        w = f.for_results()
        ks = _keyset(expr, Result.id, direction, page_token, order)
        for c in (w, ks):
            if c is not None:
                q = q.where(c)
        q = q.order_by(*((expr.desc(), Result.id.desc()) if direction == "desc" else (expr.asc(), Result.id.asc())))
        rows = [_result_row(t) for t in q.limit(limit + 1).tuples()]
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            nxt = _encode_token([order, _row_sort_value(last, order, "result"), last.id])
        return Page(rows, nxt)

    def count_results(self, flt: str | Filter | None = None) -> int:
        f = self._filter(flt)
        q = Result.select(pw.fn.COUNT(Result.id))
        w = f.for_results()
        if w is not None:
            q = q.where(w)
        return int(q.scalar() or 0)

    def list_records(self, flt: str | Filter | None = None, result: str | int | None = None, order: str = "newest",
                     page_token: str | None = None, limit: int = 50, cluster: str | None = None) -> Page:
        """Records matching `flt` (optionally of one Result, by name or id), a keyset page at a time."""
        if order not in RECORD_ORDERS:
            raise ValueError(f"unknown order {order!r}: expected one of {', '.join(RECORD_ORDERS)}")
        f = self._filter(flt)
        expr, direction = RECORD_ORDERS[order]
        q = Record.select(*RECORD_COLS)
        conds = [f.for_records(), _keyset(expr, Record.id, direction, page_token, order)]
        if result is not None:
            if isinstance(result, int):
                conds.append(Record.result == result)
            else:
                rq = Result.select(Result.id).where(Result.name == result)
                if cluster is not None:
                    rq = rq.where(Result.cluster == cluster)
                conds.append(Record.result << rq)
        for c in conds:
            if c is not None:
                q = q.where(c)
        q = q.order_by(*((expr.desc(), Record.id.desc()) if direction == "desc" else (expr.asc(), Record.id.asc())))
        rows = [_record_row(t) for t in q.limit(limit + 1).tuples()]
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            nxt = _encode_token([order, _row_sort_value(last, order, "record"), last.id])
        return Page(rows, nxt)

    def count_records(self, flt: str | Filter | None = None) -> int:
        f = self._filter(flt)
        q = Record.select(pw.fn.COUNT(Record.id))
        w = f.for_records()
        if w is not None:
            q = q.where(w)
        return int(q.scalar() or 0)

    def records_of(self, result_id: int) -> list[RecordRow]:
        """All Records of one Result in run order (the tree's children): runs by start, then logs, events."""
        kind_rank = pw.Case(Record.kind, (("PipelineRun", 0), ("TaskRun", 1), ("Log", 2), ("EventList", 3)), 4)
        q = (Record.select(*RECORD_COLS).where(Record.result == result_id)
             .order_by(kind_rank, pw.fn.COALESCE(Record.start, Record.create_time),
                       Record.id))
        return [_record_row(t) for t in q.tuples()]

    # --- getting one -----------------------------------------------------------------

    def get_result(self, name: str | None = None, uid: str | None = None, id: int | None = None,
                   cluster: str | None = None) -> ResultRow | None:
        q = Result.select(*RESULT_COLS)
        if id is not None:
            q = q.where(Result.id == id)
        elif uid is not None:
            q = q.where(Result.uid == uid)
        elif name is not None:
            q = q.where(Result.name == name)
        else:
            raise ValueError("get_result needs name, uid or id")
        if cluster is not None:
            q = q.where(Result.cluster == cluster)
        t = q.tuples().first()
        return _result_row(t) if t else None

    def result_details(self, result_id: int) -> dict[str, Any]:
        """The JSON-ish parts of a Result (annotations, summary annotations, warnings)."""
        row = Result.select(Result.annotations, Result.summary_annotations, Result.warnings).where(Result.id == result_id).first()
        if row is None:
            return {}
        return {"annotations": loads_json(row.annotations, {}), "summary_annotations": loads_json(row.summary_annotations, {}),
                "warnings": loads_json(row.warnings, [])}

    def get_record(self, name: str | None = None, uid: str | None = None, id: int | None = None,
                   cluster: str | None = None) -> RecordRow | None:
        q = Record.select(*RECORD_COLS)
        if id is not None:
            q = q.where(Record.id == id)
        elif uid is not None:
            q = q.where(Record.uid == uid)
        elif name is not None:  # <result>/records/<record id = uid>: look up by the indexed uid
            q = q.where((Record.uid == name.rsplit("/", 1)[-1]) & (Record.name == name))
        else:
            raise ValueError("get_record needs name, uid or id")
        if cluster is not None:
            q = q.where(Record.cluster == cluster)
        t = q.tuples().first()
        return _record_row(t) if t else None

    def find_runs(self, run_name: str, namespace: str | None = None, cluster: str | None = None,
                  limit: int = 50) -> list[RecordRow]:
        """Runs with this name, newest first (names repeat after a run is deleted and re-created)."""
        q = Record.select(*RECORD_COLS).where((Record.run_name == run_name) & (Record.kind << list(g.RUN_KINDS)))
        if namespace:
            q = q.where(Record.parent == namespace)
        if cluster is not None:
            q = q.where(Record.cluster == cluster)
        return [_record_row(t) for t in q.order_by(Record.create_time.desc(), Record.id.desc()).limit(limit).tuples()]

    def record_data(self, record_id: int) -> str | None:
        """The stored object's JSON text (parse it where it is shown, not in lists)."""
        return Record.select(Record.data).where(Record.id == record_id).scalar()

    def record_object(self, record_id: int) -> dict | None:
        raw = self.record_data(record_id)
        return json.loads(raw) if raw else None

    def stored_versions(self, uids: Sequence[str], cluster: str = "") -> dict[str, tuple[int, bool]]:
        """uid -> (stored resourceVersion, final) for runs; what cleanup checks before deleting."""
        out: dict[str, tuple[int, bool]] = {}
        for chunk in _chunks(list(uids)):
            for uid, rv, final in Record.select(Record.uid, Record.rv, Record.final).where(
                (Record.cluster == cluster) & (Record.uid << list(chunk)) & (Record.kind << list(g.RUN_KINDS))
            ).tuples():
                out[uid] = (int(rv), bool(final))
        return out

    def in_cluster_uids(self, kind: str, cluster: str = "", namespaces: Sequence[str] | None = None) -> set[str]:
        """uids of runs of `kind` the history believes are still in the cluster (for relist diffs)."""
        q = Record.select(Record.uid).where(
            (Record.cluster == cluster) & (Record.in_cluster == True) & (Record.kind == kind)  # noqa: E712
        )
        if namespaces:
            q = q.where(Record.parent << list(namespaces))
        return {u for (u,) in q.tuples()}

    # --- logs ------------------------------------------------------------------------

    def captured_documents(self, derived_uids: Sequence[str], cluster: str = "") -> dict[str, bool]:
        """Of these Log/EventList record uids, the ones stored in this history -> complete (no step log
        in state `error`). Two indexed reads per 500 uids; the watcher asks it per batch."""
        found: dict[str, int] = {}
        for chunk in _chunks(list(derived_uids)):
            q = Record.select(Record.uid, Record.id).where((Record.cluster == cluster) & (Record.uid << list(chunk)))
            found.update({u: rid for u, rid in q.tuples()})
        bad: set[int] = set()
        for chunk in _chunks(list(found.values())):
            q = StepLog.select(StepLog.record).where((StepLog.record << list(chunk)) & (StepLog.state == "error"))
            bad.update(r for (r,) in q.tuples())
        return {u: rid not in bad for u, rid in found.items()}

    def log_record_for(self, run_uid: str, cluster: str | None = None) -> RecordRow | None:
        q = Record.select(*RECORD_COLS).where((Record.uid == g.derived_uid(run_uid, "Log")) & (Record.kind == "Log"))
        if cluster is not None:
            q = q.where(Record.cluster == cluster)
        t = q.tuples().first()
        return _record_row(t) if t else None

    def step_logs(self, log_record_id: int) -> list[StepLogInfo]:
        q = (StepLog.select(StepLog.id, StepLog.step, StepLog.container, StepLog.size, StepLog.truncated, StepLog.state)
             .where(StepLog.record == log_record_id).order_by(StepLog.position, StepLog.id))
        return [StepLogInfo(i, s, c, sz, bool(t), st) for i, s, c, sz, t, st in q.tuples()]

    def step_log_text(self, step_log_id: int) -> bytes:
        """One step's stored log, decompressed (capped at store time, so bounded)."""
        blob = StepLog.select(StepLog.data).where(StepLog.id == step_log_id).scalar()
        return zlib.decompress(bytes(blob)) if blob is not None else b""

    # --- aggregates ------------------------------------------------------------------

    def aggregate(self, by: str = "pipeline", flt: str | Filter | None = None) -> list[Aggregate]:
        """Per pipeline / namespace / day (of the run's start): counts, success rate, p50/p95/max duration."""
        f = self._filter(flt)
        if by == "pipeline":
            key = pw.fn.COALESCE(Result.pipeline, "(none)")
        elif by == "namespace":
            key = Result.parent
        elif by == "day":
            key = (pw.fn.COALESCE(Result.summary_start, Result.sort_time) / 86400)
        else:
            raise ValueError(f"unknown aggregate {by!r}: expected pipeline, namespace or day")
        key = key.alias("k")
        st = Result.summary_status

        def count_if(cond: pw.Expression) -> pw.Node:
            return pw.fn.SUM(pw.Case(None, ((cond, 1),), 0))

        q = Result.select(
            key, pw.fn.COUNT(Result.id), count_if(st == g.SUCCESS), count_if(st == g.FAILURE),
            count_if(st == g.CANCELLED), count_if(st == g.TIMEOUT), count_if(st == g.UNKNOWN),
            pw.fn.MAX(Result.summary_duration),
        )
        w = f.for_results()
        if w is not None:
            q = q.where(w)
        rows = list(q.group_by(pw.SQL("1")).order_by(pw.SQL("2 DESC"), pw.SQL("1")).tuples())
        # percentiles: one pass over durations ordered by group (no JSON, index columns only)
        dq = Result.select(key, Result.summary_duration).where(Result.summary_duration.is_null(False))
        if w is not None:
            dq = dq.where(w)
        durs: dict[Any, list[int]] = {}
        for k, d in dq.tuples().iterator():
            durs.setdefault(k, []).append(int(d))
        out = []
        for k, total, ok, failed, cancelled, timeout, running, mx in rows:
            ds = sorted(durs.get(k, []))
            finished = int(ok or 0) + int(failed or 0) + int(cancelled or 0) + int(timeout or 0)
            label = k
            if by == "day" and k is not None:
                label = time.strftime("%Y-%m-%d", time.gmtime(int(k) * 86400))
            out.append(Aggregate(str(label), int(total), int(ok or 0), int(failed or 0), int(cancelled or 0),
                                 int(timeout or 0), int(running or 0),
                                 (int(ok or 0) / finished) if finished else None,
                                 _percentile(ds, 0.5), _percentile(ds, 0.95), int(mx) if mx is not None else None))
        return out

    # --- retention -------------------------------------------------------------------

    def prune(self, ended_before: int, flt: str | Filter | None = None, dry_run: bool = False) -> tuple[int, int]:
        """Forget Results matching `flt` whose runs ended before `ended_before` (their Records and logs go too).

        By the run's completion time, never the row's time. Running Results are never pruned.
        Returns (results, records) removed (or that would be).
        """
        if not dry_run:
            self._check_writable()
        f = self._filter(flt)
        cond = Result.summary_end.is_null(False) & (Result.summary_end < ended_before)
        w = f.for_results()
        if w is not None:
            cond = cond & w
        ids = [i for (i,) in Result.select(Result.id).where(cond).tuples()]
        if not ids:
            return 0, 0
        n_records = 0
        for chunk in _chunks(ids):
            n_records += Record.select(pw.fn.COUNT(Record.id)).where(Record.result << list(chunk)).scalar() or 0
        if dry_run:
            return len(ids), int(n_records)
        with self._txn():
            seq = self._lock_seq() + 1
            for chunk in _chunks(ids):
                rec_ids = Record.select(Record.id).where(Record.result << list(chunk))
                StepLog.delete().where(StepLog.record << rec_ids).execute()
                Label.delete().where(Label.result << list(chunk)).execute()
                Record.delete().where(Record.result << list(chunk)).execute()
                Result.delete().where(Result.id << list(chunk)).execute()
            # a prune is a change too: readers must drop these rows
            MetaKV.update(value=str(seq)).where(MetaKV.key == "change_seq").execute()
            MetaKV.insert(key="last_prune_seq", value=str(seq)).on_conflict(
                conflict_target=[MetaKV.key], update={MetaKV.value: str(seq)}).execute()
        return len(ids), int(n_records)

    def last_prune_seq(self) -> int:
        row = MetaKV.get_or_none(MetaKV.key == "last_prune_seq")
        return int(row.value) if row else 0

    # --- small named values and the writer lease ---------------------------------------

    def get_value(self, key: str) -> str | None:
        row = MetaKV.get_or_none(MetaKV.key == key)
        return row.value if row else None

    def set_value(self, key: str, value: str) -> None:
        self._check_writable()
        with self._txn():
            MetaKV.insert(key=key, value=value).on_conflict(conflict_target=[MetaKV.key], update={MetaKV.value: value}).execute()

    def acquire_lease(self, name: str, holder: str, ttl_s: float, info: dict | None = None) -> bool:
        """Take or renew the lease `name` for `holder` if it is free, expired or already ours."""
        self._check_writable()
        now = self.clock()
        with self._txn():
            row = Lease.select().where(Lease.name == name)
            if not is_sqlite(self.db):
                row = row.for_update()
            cur = row.first()
            if cur is None:
                Lease.insert(name=name, holder=holder, acquired=now, renewed=now, expires=now + ttl_s,
                             info=_dumps(info or {})).execute()
                return True
            if cur.holder != holder and cur.expires > now:
                return False
            acquired = cur.acquired if cur.holder == holder else now
            Lease.update(holder=holder, acquired=acquired, renewed=now, expires=now + ttl_s,
                         info=_dumps(info or {})).where(Lease.name == name).execute()
            return True

    def release_lease(self, name: str, holder: str) -> None:
        self._check_writable()
        with self._txn():
            Lease.delete().where((Lease.name == name) & (Lease.holder == holder)).execute()

    def lease(self, name: str) -> dict | None:
        """The lease row, or None; `live` says whether it has not expired."""
        cur = Lease.get_or_none(Lease.name == name)
        if cur is None:
            return None
        return {"holder": cur.holder, "acquired": cur.acquired, "renewed": cur.renewed, "expires": cur.expires,
                "live": cur.expires > self.clock(), "info": loads_json(cur.info, {})}

    def size(self) -> tuple[int, int]:
        """(results, records) in the history — cheap enough for a header."""
        return (int(Result.select(pw.fn.COUNT(Result.id)).scalar() or 0),
                int(Record.select(pw.fn.COUNT(Record.id)).scalar() or 0))


def loads_json(text: Any, default: Any) -> Any:
    """A stored JSON column as Python (PostgreSQL may hand it over decoded); `default` when empty or bad."""
    if text is None:
        return default
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return default


def _rowcount(db: pw.Database, cursor: Any) -> int:
    # peewee returns the cursor's rowcount for INSERT ... ON CONFLICT with insert_many
    if isinstance(cursor, int):
        return cursor
    rc = getattr(cursor, "rowcount", None)
    if rc is not None and rc >= 0:
        return rc
    return 0


def describe_object(obj: Any) -> str:
    """`PipelineRun ns/name`: how a skipped object is named in reports."""
    if not isinstance(obj, dict):
        return f"a {type(obj).__name__}"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = meta.get("namespace")
    name = meta.get("name") or "(no name)"
    return f"{obj.get('kind') or 'object'} {ns + '/' if isinstance(ns, str) and ns else ''}{name}"
