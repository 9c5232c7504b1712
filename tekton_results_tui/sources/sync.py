"""A sync from a Tekton Results server into the history: incremental, resumable, idempotent.

One pass lists the source's Records ordered by update_time, from the cursor on (cursor.py), a page at
a time; each page becomes one `History.apply` batch and then the cursor moves past it, so a pass cut
by a crash or Ctrl-C resumes at the last page applied, and a second pass fetches only what changed.
Records deleted from the source are kept: a sync never marks anything gone.
"""

from __future__ import annotations

import base64
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from tekton_results_tui import kinds
from tekton_results_tui.sources import records as rec
from tekton_results_tui.sources.client import HttpError, ResultsClient
from tekton_results_tui.sources.cursor import Cursor, cursor_key, seen_key
from tekton_results_tui.sources.wire import SourceError, SourceRecord, format_ns
from tekton_results_tui.store.history import History

ORDER = "update_time asc"
MAX_SKIPPED_KEPT = 200  # skipped records named in a pass's stats (the count is exact)


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
    interrupted: bool = False
    seconds: float = 0.0
    store_seconds: float = 0.0  # of which in History.apply

    def skip(self, why: str) -> None:
        self.skipped += 1
        if len(self.skipped_names) < MAX_SKIPPED_KEPT:
            self.skipped_names.append(why)

    def add(self, other: SyncStats) -> None:
        for name in ("pages", "records", "applied", "runs", "logs", "events", "other", "changed", "skipped",
                     "requests", "seconds", "store_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waiting = other.waiting
        self.skipped_names = (self.skipped_names + other.skipped_names)[-MAX_SKIPPED_KEPT:]


class ResultsSync:
    """Syncs one source (server, parent, filter) into `history` under the cluster name `cluster`."""

    def __init__(self, history: History, client: ResultsClient, cluster: str, parent: str = "-",
                 user_filter: str = "", page_size: int = 1000, log_workers: int = 8,
                 step_log_cap: int = rec.DEFAULT_STEP_CAP) -> None:
        self.history = history
        self.client = client
        self.cluster = cluster
        self.parent = parent or "-"
        self.user_filter = (user_filter or "").strip()
        self.page_size = page_size
        self.log_workers = max(1, log_workers)
        self.step_log_cap = step_log_cap
        self.key = cursor_key(cluster, client.base_url, self.parent, self.user_filter)
        self.finder = rec.RunFinder(history, cluster)
        self._pending_retried = False

    # --- one pass ----------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None,
                 on_page: Callable[[SyncStats], None] | None = None) -> SyncStats:
        """Fetch and apply everything changed since the cursor; SourceError when the source fails
        (what was applied before stays, and the cursor says where the next pass starts).

        The next page is fetched while this one is applied (the server and the database work at once).
        """
        t0 = time.monotonic()
        requests0 = self.client.requests
        stats = SyncStats()
        cur = Cursor.load(self.history, self.key, self.client.base_url)
        start_time, start_seen, start_closed = cur.time_ns, set(cur.seen), cur.closed
        filter_time = cur.server_filters_time and cur.time_ns > 0
        newest, at_newest, ordered, first = cur.time_ns, set(cur.seen), True, True

        def fetch(token: str) -> tuple[Any, list[SourceRecord], rec.Translated, dict[str, Future]]:
            """A page, its records not applied yet, their translation and their logs' contents on the way
            (parsing, classifying and log fetches, started here on the fetching thread, overlap with the
            database's work on the previous page: the store took a third of a pass with logs)."""
            flt = self._filter(start_time if filter_time else 0, start_closed)
            order = ORDER if cur.server_orders else ""
            page = self.client.list_records(self.parent, "-", flt, order, self.page_size, token)
            fresh = [r for r in page.records if not (r.updated_ns < start_time or (
                r.updated_ns == start_time and (start_closed or _seen(r, start_seen))))]
            logs = {r.name: pool.submit(self._fetch_log, r) for r in fresh if _log_of_steps(r)}
            return page, fresh, rec.translate(fresh), logs

        pool = _Workers(self.log_workers, "sync-log")
        lister = _Workers(1, "sync-list")
        try:
            nxt = lister.submit(fetch, "")
            if cur.pending and not self._pending_retried:
                # once per process: their run may have reached the history another way (another sync, an import)
                self._pending_retried = True
                self._apply(rec.Translated(), [], cur, pool, stats, retry_all=True)
                cur.save(self.history)
            while True:
                if stop is not None and stop.is_set():
                    stats.interrupted = True
                    break
                try:
                    page, fresh, translated, fetching = nxt.result()
                except HttpError as exc:
                    if exc.status == 400 and first and (filter_time or cur.server_orders):
                        # upstream's Records filter knows no update_time (and old servers no order_by): list
                        # everything, skip what was applied; unordered, the cursor moves at the end of a pass
                        if filter_time:
                            filter_time = cur.server_filters_time = False
                        else:
                            cur.server_orders = False
                        nxt = lister.submit(fetch, "")
                        continue
                    raise
                first = False
                if page.next_page_token:
                    nxt = lister.submit(fetch, page.next_page_token)
                stats.pages += 1
                stats.records += len(page.records)
                for why in page.bad:
                    stats.skip(why)
                for r in page.records:
                    if r.updated_ns < newest:
                        ordered = False  # the server ignored the order: the cursor moves only at the end
                    elif r.updated_ns > newest:
                        newest, at_newest = r.updated_ns, {seen_key(r)}
                    else:
                        at_newest.add(seen_key(r))
                self._apply(translated, fresh, cur, pool, stats, fetching=fetching)
                if ordered:  # unordered, the cursor stays where the pass began until its end
                    for r in page.records:
                        cur.advance(r)
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
            lister.shutdown()
            pool.shutdown()
        stats.waiting = len(cur.pending)
        stats.requests = self.client.requests - requests0
        stats.seconds = time.monotonic() - t0
        return stats

    def _filter(self, since_ns: int, closed: bool = False) -> str:
        parts = [f"({self.user_filter})"] if self.user_filter else []
        if since_ns:
            parts.append(f'update_time {">" if closed else ">="} timestamp("{format_ns(since_ns)}")')
        return " && ".join(parts)

    def _apply(self, t: rec.Translated, fresh: list[SourceRecord], cur: Cursor, pool: _Workers,
               stats: SyncStats, retry_all: bool = False, fetching: dict[str, Future] | None = None) -> None:
        """Apply a page's runs and the documents whose run is known (this page's or waiting ones);
        `fetching`: the page's log contents already asked for (fetch)."""
        for why in t.skipped:
            stats.skip(why)
        stats.other += t.other
        stats.applied += len(fresh)
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
        asked = [fetching.get(r.name) or pool.submit(self._fetch_log, r) for r in logs]
        contents = {r.name: f.result() for r, f in zip(logs, asked)}
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

    def _fetch_log(self, r: SourceRecord) -> tuple[bytes, bool] | None:
        try:
            return self.client.get_log(r.name)
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise

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


class _Workers:
    """A few daemon threads running submitted calls (ThreadPoolExecutor's threads are joined when the
    interpreter exits: a Ctrl-C'd sync waited for every list and log request in flight, each up to the
    client's total deadline, before it exited). Only HTTP requests and parsing run here, never the store."""

    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._workers, self._name = workers, name
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        f: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((f, fn, args))
            if len(self._threads) < self._workers:
                th = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                self._threads.append(th)
                th.start()
        return f

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            f, fn, args = item
            if not f.set_running_or_notify_cancel():
                continue
            try:
                f.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
                f.set_exception(exc)

    def shutdown(self) -> None:
        """No new calls; the queued ones are cancelled; those running finish unless the process exits first."""
        with self._lock:
            self._closed = True
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)


def _seen(r: SourceRecord, seen: set[str]) -> bool:
    return seen_key(r) in seen


def _log_of_steps(r: SourceRecord) -> bool:
    """Whether a record is a Log whose run kind keeps step logs, as far as the Log itself says (its
    spec.resource.kind): only those are fetched ahead of their page. A PipelineRun's Log (its TaskRuns'
    lines again, never stored) is not fetched at all; a Log that does not say is fetched once matched."""
    if r.type not in rec.LOG_TYPES:
        return False
    try:
        _, doc = rec.decode_json(r)
    except (ValueError, RecursionError):
        return False
    res = rec.spec_resource(doc)
    kind = res.get("kind") if isinstance(res, dict) else None
    rk = kinds.run_kind(kind) if isinstance(kind, str) else None
    return rk is not None and rk.step_logs


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
