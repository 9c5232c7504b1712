"""A sync from a Tekton Results server into the history: incremental, resumable, idempotent.

One pass lists the source's Records ordered by update_time, from the cursor on (cursor.py), a page at
a time; each page (or, in a long pass, each run of pages waiting for the writer) becomes one
`History.apply` batch and then the cursor moves past it, so a pass cut by a crash or Ctrl-C resumes at
the last batch applied, and a second pass fetches only what changed. Pages after the first of a long
pass are fetched, decoded and classified by a reader process (sync_reader.py) while this one writes.
Records deleted from the source are kept: a sync never marks anything gone.
"""

from __future__ import annotations

import base64
import contextlib
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from tekton_results_tui import kinds
from tekton_results_tui.sources import records as rec
from tekton_results_tui.sources.client import HttpError, ResultsClient
from tekton_results_tui.sources.cursor import Cursor, cursor_key, seen_key
from tekton_results_tui.sources.pages import Page, fetch_log, fetch_page
from tekton_results_tui.sources.pages import Workers as _Workers
from tekton_results_tui.sources.sync_reader import ReaderFeed
from tekton_results_tui.sources.wire import SourceError, SourceRecord, format_ns
from tekton_results_tui.store.history import History
from tekton_results_tui.threads import result_of

ORDER = "update_time asc"
MAX_SKIPPED_KEPT = 200  # skipped records named in a pass's stats (the count is exact)
# A pass whose first page is full and at least this big reads the rest in a reader process (sync_reader.py).
READER_MIN_PAGE_SIZE = 200
# Runs per History.apply when pages wait for the writer (as import's batches: each index page written once
# per transaction, not once per page); a page is never split.
BATCH_RUNS = 10_000
# ... and the writer waits for this many before it writes (unless the pass ends first): on 2 cores shared
# by the server, the reader and the writer, fewer larger transactions left more CPU to the other two
# (8,000 runs from a local serve: ~2,500-2,700/s applying page by page, ~3,000-3,300/s so; noisy, load ~2).
MIN_BATCH_RUNS = 3_000


@dataclass
class SyncStats:
    pages: int = 0
    records: int = 0  # Records received
    applied: int = 0  # Records new or changed since the cursor, handed to the store
    runs: int = 0
    logs: int = 0
    events: int = 0
    waiting: int = 0  # Log/EventList records whose run has not arrived yet
    other: int = 0  # Records of types this program does not store
    changed: int = 0  # rows the store changed
    skipped: int = 0
    skipped_names: list[str] = field(default_factory=list)
    requests: int = 0
    reader_pages: int = 0  # pages read by the reader process (sync_reader.py)
    interrupted: bool = False
    seconds: float = 0.0
    store_seconds: float = 0.0  # of which in History.apply

    def skip(self, why: str) -> None:
        self.skipped += 1
        if len(self.skipped_names) < MAX_SKIPPED_KEPT:
            self.skipped_names.append(why)

    def add(self, other: SyncStats) -> None:
        for name in ("pages", "records", "applied", "runs", "logs", "events", "other", "changed", "skipped",
                     "requests", "reader_pages", "seconds", "store_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waiting = other.waiting
        self.skipped_names = (self.skipped_names + other.skipped_names)[-MAX_SKIPPED_KEPT:]


class ResultsSync:
    """Syncs one source (server, parent, filter) into `history` under the cluster name `cluster`."""

    def __init__(self, history: History, client: ResultsClient, cluster: str, parent: str = "-",
                 user_filter: str = "", page_size: int = 1000, log_workers: int = 8,
                 step_log_cap: int = rec.DEFAULT_STEP_CAP, reader_process: bool | None = None,
                 batch_runs: int = BATCH_RUNS) -> None:
        """`reader_process`: read the pages after the first in a child process (True), on a thread of this
        one (False), or when the first page says the pass is long (None)."""
        self.history = history
        self.client = client
        self.cluster = cluster
        self.parent = parent or "-"
        self.user_filter = (user_filter or "").strip()
        self.page_size = page_size
        self.log_workers = max(1, log_workers)
        self.step_log_cap = step_log_cap
        self.reader_process = reader_process
        self.batch_runs = batch_runs
        self.min_batch_runs = MIN_BATCH_RUNS
        self.key = cursor_key(cluster, client.base_url, self.parent, self.user_filter)
        self.finder = rec.RunFinder(history, cluster)
        self._pending_retried = False

    # --- one pass ----------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None,
                 on_page: Callable[[SyncStats], None] | None = None) -> SyncStats:
        """Fetch and apply everything changed since the cursor; SourceError when the source fails
        (what was applied before stays, and the cursor says where the next pass starts).

        The first page is fetched on a thread of this process. When more follow (a long pass), the rest
        are read by a reader process (sync_reader.py) while this one writes, inside History.bulk, and the
        pages that are waiting when the writer is ready are applied together (up to `batch_runs` runs per
        transaction): the writer is the slower side, and larger transactions write each index page once.
        The cursor moves past a batch only once the batch is committed.
        """
        t0 = time.monotonic()
        requests0 = self.client.requests
        stats = SyncStats()
        cur = Cursor.load(self.history, self.key, self.client.base_url)
        start_time, start_seen, start_closed = cur.time_ns, set(cur.seen), cur.closed
        filter_time = cur.server_filters_time and cur.time_ns > 0
        newest, at_newest, ordered, first = cur.time_ns, set(cur.seen), True, True

        def is_fresh(r: SourceRecord) -> bool:
            return not (r.updated_ns < start_time or (
                r.updated_ns == start_time and (start_closed or _seen(r, start_seen))))

        def pass_filter() -> str:
            return self._filter(start_time if filter_time else 0, start_closed)

        def fetch(token: str) -> Page:
            """A page, its records not applied yet, their translation and their logs' contents on the way
            (parsing, classifying and log fetches, started here on the fetching thread, overlap with the
            database's work on the previous page: the store took a third of a pass with logs)."""
            return fetch_page(self.client, self.parent, pass_filter(), ORDER if cur.server_orders else "",
                              self.page_size, token, is_fresh, pool)

        pool = _Workers(self.log_workers, "sync-log")
        lister = _Workers(1, "sync-list")
        feed: ReaderFeed | None = None
        spare = ReaderFeed() if self._reader_ahead(cur) else None
        with contextlib.ExitStack() as bulk:
            try:
                nxt = lister.submit(fetch, "")
                if cur.pending and not self._pending_retried:
                    # once per process: their run may have reached the history another way (another sync, an import)
                    self._pending_retried = True
                    self._apply(rec.Translated(), 0, cur, pool, stats, retry_all=True)
                    cur.save(self.history)
                while True:
                    if stop is not None and stop.is_set():
                        stats.interrupted = True
                        break
                    if feed is None:
                        try:
                            batch = [result_of(nxt)]
                        except HttpError as exc:
                            if exc.status == 400 and first and (filter_time or cur.server_orders):
                                # upstream's Records filter knows no update_time (and old servers no order_by):
                                # list everything, skip what was applied; unordered, the cursor moves at the end
                                if filter_time:
                                    filter_time = cur.server_filters_time = False
                                else:
                                    cur.server_orders = False
                                nxt = lister.submit(fetch, "")
                                continue
                            raise
                        first = False
                        token = batch[0].next_page_token
                        if token and self._reader_for(batch[0]):
                            feed, spare = spare or ReaderFeed(), None
                            feed.start(self.client, self.parent, pass_filter(), ORDER if cur.server_orders else "",
                                       self.page_size, token, start_time, start_seen, start_closed, self.log_workers,
                                       self.step_log_cap)
                            bulk.enter_context(self.history.bulk())
                        if spare is not None:
                            spare.close()
                            spare = None
                        elif token:
                            nxt = lister.submit(fetch, token)
                    else:
                        batch = [feed.get()]
                        runs = len(batch[0].translated.changes)
                        while batch[-1].next_page_token and runs < self.batch_runs:
                            more = feed.get(block=runs < self.min_batch_runs)
                            if more is None:
                                break
                            batch.append(more)
                            runs += len(more.translated.changes)
                        stats.reader_pages += len(batch)
                    page = batch[-1]
                    stats.pages += len(batch)
                    translated, logs = _merged(batch)
                    for p in batch:
                        stats.records += p.records
                        stats.requests += p.requests
                        for why in p.bad:
                            stats.skip(why)
                        for ns, key in p.marks:
                            if ns < newest:
                                ordered = False  # the server ignored the order: the cursor moves only at the end
                            elif ns > newest:
                                newest, at_newest = ns, {key}
                            else:
                                at_newest.add(key)
                    self._apply(translated, sum(p.fresh for p in batch), cur, pool, stats, fetching=logs)
                    if ordered:  # unordered, the cursor stays where the pass began until its end
                        for p in batch:
                            for ns, key in p.marks:
                                cur.advance_to(ns, key)
                    cur.save(self.history)
                    if on_page is not None:
                        on_page(stats)
                    if not page.next_page_token:
                        if not ordered and newest > cur.time_ns:
                            cur.time_ns, cur.seen, cur.closed = newest, at_newest, False
                        cur.passes += 1
                        cur.close_if_past(page.server_now_ns)
                        cur.save(self.history)
                        break
            finally:  # on Ctrl-C or a failure, requests in flight are left to finish on their own (or not: exit)
                for child in (feed, spare):
                    if child is not None:
                        child.close()
                lister.shutdown()
                pool.shutdown()
        stats.waiting = len(cur.pending)
        stats.requests += self.client.requests - requests0
        stats.seconds = time.monotonic() - t0
        return stats

    def _reader_ahead(self, cur: Cursor) -> bool:
        """Whether to start the reader process before the first page is in: a first sync (most likely long)."""
        if self.reader_process is not None:
            return self.reader_process
        return bool(sys.executable) and self.page_size >= READER_MIN_PAGE_SIZE and cur.passes == 0

    def _reader_for(self, first: Page) -> bool:
        """Whether the rest of this pass is read by a reader process: a full first page says a long pass
        (a process costs ~0.2 s to start; a `--follow` poll's one short page is read here)."""
        if self.reader_process is not None:
            return self.reader_process
        return bool(sys.executable) and self.page_size >= READER_MIN_PAGE_SIZE and first.records >= self.page_size

    def _filter(self, since_ns: int, closed: bool = False) -> str:
        parts = [f"({self.user_filter})"] if self.user_filter else []
        if since_ns:
            parts.append(f'update_time {">" if closed else ">="} timestamp("{format_ns(since_ns)}")')
        return " && ".join(parts)

    def _apply(self, t: rec.Translated, fresh: int, cur: Cursor, pool: _Workers,
               stats: SyncStats, retry_all: bool = False, fetching: dict[str, Future] | None = None) -> None:
        """Apply a page's runs and the documents whose run is known (this page's or waiting ones);
        `fetching`: the page's log contents already asked for (fetch)."""
        for why in t.skipped:
            stats.skip(why)
        stats.other += t.other
        stats.applied += fresh
        stats.runs += len(t.changes)
        # documents waiting from earlier pages whose run may be here now (or in the history)
        page_results = {f.result_name for f in t.runs.values()}
        waiting, still = [], []
        for p in cur.pending:
            if retry_all or p.get("run_uid") in t.runs or p.get("result") in page_results:
                waiting.append(p)
            else:
                still.append(p)
        docs = [_from_pending(p) for p in waiting] + t.docs
        matched: list[tuple[SourceRecord, Any, rec.RunFound]] = []
        newer_docs: dict[str, SourceRecord] = {}
        for r in docs:  # the newest version of each document
            old = newer_docs.get(r.name)
            if old is None or r.updated_ns >= old.updated_ns:
                newer_docs[r.name] = r
        for r in newer_docs.values():
            try:
                _, doc = rec.decode_json(r)
            except (ValueError, RecursionError) as exc:
                stats.skip(f"{r.name}: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            run = self.finder.run_of(r, doc, t.runs) or self._run_from_source(r, doc, t)
            if run is None:
                still.append(_to_pending(r, doc))
            else:
                matched.append((r, doc, run))
        logs = [r for r, _, run in matched if r.type in rec.LOG_TYPES and _has_step_logs(run)]
        fetching = fetching or {}
        asked = [fetching.get(r.name) or pool.submit(fetch_log, self.client, r) for r in logs]
        contents = {r.name: result_of(f) for r, f in zip(logs, asked)}
        changes: list[Any] = list(t.changes)
        for r, doc, run in matched:
            if r.type in rec.LOG_TYPES and not _has_step_logs(run):
                stats.other += 1  # upstream also keeps a PipelineRun's log: its TaskRuns' lines, stored as theirs
                continue
            ch = rec.document_change(r, doc, run, lambda x: contents.get(x.name), self.step_log_cap)
            if isinstance(ch, str):
                stats.skip(ch)
                continue
            changes.append(ch)
            if r.type in rec.LOG_TYPES:
                stats.logs += 1
            else:
                stats.events += 1
        cur.pending = still
        if changes:
            t0 = time.perf_counter()
            res = self.history.apply(changes, cluster=self.cluster)
            stats.store_seconds += time.perf_counter() - t0
            stats.changed += res.changed
            for s in res.skipped:
                stats.skip(f"{s.what}: {s.why}")

    def _run_from_source(self, r: SourceRecord, doc: Any, t: rec.Translated) -> rec.RunFound | None:
        """A Log's TaskRun not synced yet (upstream updates a run after its log: it comes later in the
        order): fetched by name from the Log's Result and applied with this page, so the log need not wait.
        Its own page later applies it again, which changes nothing."""
        res = rec.spec_resource(doc) if r.type in rec.LOG_TYPES else None
        uid = res.get("uid") if isinstance(res, dict) else None
        if not isinstance(uid, str) or not uid or "/" in uid:
            return None
        got = self.client.get_record(f"{r.result_name}/records/{uid}")
        if got is None or got.type not in rec.RUN_TYPES:
            return None
        one = rec.translate([got])
        if uid not in one.runs:
            return None
        t.changes.extend(one.changes)
        t.runs.update(one.runs)
        return one.runs[uid]

    # --- following -----------------------------------------------------------------------------

    def follow(self, interval_s: float, stop: threading.Event,
               on_pass: Callable[[SyncStats | None, SourceError | None], None] | None = None,
               backoff_cap_s: float = 60.0, on_page: Callable[[SyncStats], None] | None = None) -> None:
        """Pass after pass until `stop`, `interval_s` apart; a failing source is retried with backoff. Between
        passes, an existing history's log index is built a batch at a time (watcher/log_backfill.py)."""
        from tekton_results_tui.watcher.log_backfill import LogIndexBackfill

        backfill = LogIndexBackfill(self.history)
        delay = interval_s
        while not stop.is_set():
            try:
                stats = self.run_once(stop, on_page)
            except SourceError as exc:
                if on_pass is not None:
                    on_pass(None, exc)
                delay = min(max(delay * 2, interval_s), backoff_cap_s)
            else:
                if on_pass is not None:
                    on_pass(stats, None)
                delay = interval_s
            until = time.monotonic() + delay
            while not stop.is_set() and not backfill.due_in() and time.monotonic() < until:
                backfill.step()
            stop.wait(max(0.0, until - time.monotonic()))


def _seen(r: SourceRecord, seen: set[str]) -> bool:
    return seen_key(r) in seen


def _merged(batch: list[Page]) -> tuple[rec.Translated, dict[str, Future]]:
    """Pages applied as one batch: their translations and log contents together, in order."""
    if len(batch) == 1:
        return batch[0].translated, batch[0].logs
    t, logs = rec.Translated(), {}
    for p in batch:
        t.changes.extend(p.translated.changes)
        t.runs.update(p.translated.runs)
        t.docs.extend(p.translated.docs)
        t.skipped.extend(p.translated.skipped)
        t.other += p.translated.other
        logs.update(p.logs)
    return t, logs


def _has_step_logs(run: rec.RunFound) -> bool:
    rk = kinds.run_kind(run.obj.get("kind"))
    return rk is not None and rk.step_logs


def _to_pending(r: SourceRecord, doc: Any) -> dict[str, Any]:
    res = rec.spec_resource(doc) if r.type in rec.LOG_TYPES else None
    return {"name": r.name, "type": r.type, "value": base64.b64encode(r.value).decode(), "updated_ns": r.updated_ns,
            "etag": r.etag, "result": r.result_name,
            "run_uid": res.get("uid") if isinstance(res, dict) and isinstance(res.get("uid"), str) else None}


def _from_pending(p: dict[str, Any]) -> SourceRecord:
    return SourceRecord(p["name"], p["type"], base64.b64decode(p["value"]), int(p.get("updated_ns") or 0),
                        p.get("etag") or "")


def describe(stats: SyncStats) -> str:
    """One line about a pass."""
    rate = stats.records / stats.seconds if stats.seconds > 0 else 0.0
    parts = [f"{stats.records} records read in {stats.pages} pages ({rate:,.0f}/s)", f"{stats.applied} new or changed",
             f"{stats.runs} runs", f"{stats.logs} logs", f"{stats.events} event lists", f"{stats.changed} rows changed"]
    if stats.waiting:
        parts.append(f"{stats.waiting} logs/event lists wait for their run")
    if stats.other:
        parts.append(f"{stats.other} records of other types ignored")
    if stats.skipped:
        parts.append(f"{stats.skipped} skipped")
    return ", ".join(parts)


__all__ = ["ResultsSync", "SyncStats", "SourceError", "describe"]
