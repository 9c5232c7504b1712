"""Events -> batched store writes (one writer thread), plus the follow-up work of finished runs.

The writer drains the informers' bounded queue, coalesces by uid (the newest
resourceVersion wins: a TaskRun's dozen status writes cost one or two store writes) and
commits a batch every `batch_max` items or `batch_wait_s`. After each commit it hands
follow-ups to a small worker pool, never doing network calls itself:
- a finished TaskRun: step logs from its pod (404 = pod gone, 400 = not started: states,
  not errors), capped at `log_cap_bytes` per step; a finished run: its events;
- annotations written back as merge patches, only when they differ from what the run
  carries (our own patch comes back as a MODIFIED event: no loop). `stored: "true"`
  is written once the final state (and its logs/events, when enabled) is committed.
"""

from __future__ import annotations

import heapq
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import peewee as pw
import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import ApplyResult, Events, Gone, History, Logs, RunUpsert, StepLogData
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.informer import Relisted
from tekton_results_tui.watcher.kube import GROUP, VERSION, KubeTarget, describe

log = logging.getLogger(__name__)

PLURAL = {"PipelineRun": "pipelineruns", "TaskRun": "taskruns"}
STOP = object()  # writer queue sentinel: flush and end
DB_BACKOFF_FIRST_S, DB_BACKOFF_CAP_S = 0.2, 5.0  # store retries while the database is away
CAPTURE_RETRY_S, CAPTURE_RETRIES = 5.0, 4  # a failed log/event read is tried again after 5, 10, 20, 40 s


def reset_connection(db: Any) -> None:
    """After a database error: let go of this thread's connection so the next call opens a fresh one.

    peewee keeps a thread's connection until it is closed, and a pooled PostgreSQL connection
    whose server session died (restart, pg_terminate_backend) fails every later query; closing
    it makes the pool discard it. SQLite connections are kept (their errors are locks, not
    dead sessions, and the writer's tuned page cache lives on its connection)."""
    from tekton_results_tui.store.db import is_sqlite

    if is_sqlite(db):
        return
    try:
        db.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail: forget it instead
        try:
            db._state.reset()
        except Exception:  # noqa: BLE001
            pass


def release_connection(db: Any) -> None:
    """At the end of a thread that used the store: return its pooled connection (threads come and go
    with each election; a connection left checked out would count against the pool for good)."""
    try:
        if not db.is_closed():
            db.close()
    except Exception:  # noqa: BLE001
        reset_connection(db)


def retrying_db(db: Any, fn: Callable[[], Any], attempts: int = 4) -> Any:
    """fn() with a fresh connection after each connection-level failure (a pool may hold several
    dead sessions after a database restart: each failure discards one)."""
    import peewee as pw

    for i in range(attempts):
        try:
            return fn()
        except (pw.OperationalError, pw.InterfaceError):
            reset_connection(db)
            if i == attempts - 1:
                raise
            time.sleep(0.05 * (i + 1))
    return None


@dataclass
class AuxDone:
    """Writer queue item from a worker: store these changes, then (maybe) patch the run."""

    changes: list[Any]
    patch: tuple[str, str, str, dict[str, str]] | None = None  # (plural, ns, name, annotations)
    uid: str = ""


@dataclass
class _Job:
    obj: dict  # the run (trimmed: what the follow-ups need)
    logs: bool = False
    events: bool = False
    patch: dict[str, str] | None = None
    patch_after_store: bool = False  # patch only once `logs`/`events` are committed
    uid: str = field(default="")
    attempts: int = 0  # tries that failed on the database (retried a few times, then left to the next relist)
    captures: int = 0  # log/event reads that failed on the API and were tried again later


CONNECTION_ERRORS = (pw.OperationalError, pw.InterfaceError)  # retried forever (bounded: producers block)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _change_uid(ch: Any) -> str:
    if isinstance(ch, RunUpsert):
        return str((ch.obj.get("metadata") or {}).get("uid") or "")
    if isinstance(ch, (Logs, Events)):
        return str((ch.run.get("metadata") or {}).get("uid") or "")
    return str(getattr(ch, "uid", "") or "")


def _change_label(ch: Any) -> str:
    """"PipelineRun ci/name (uid)" for a log line."""
    if isinstance(ch, Gone):
        return f"gone mark of {ch.uid}"
    obj = ch.obj if isinstance(ch, RunUpsert) else ch.run
    md = obj.get("metadata") or {}
    what = {Logs: "logs of ", Events: "events of "}.get(type(ch), "")
    return f"{what}{obj.get('kind')} {str(md.get('namespace'))[:100]}/{str(md.get('name'))[:200]} ({str(md.get('uid'))[:80]})"


_GONE_BEFORE_RV = "before_rv" in getattr(Gone, "__dataclass_fields__", {})


def _gone(uid: str, at: int, before_rv: int) -> Gone:
    """Gone, conditional in the store on the stored resourceVersion being older than the list's (when the store
    has that field; the writer has filtered by stored_versions already)."""
    if _GONE_BEFORE_RV and before_rv:
        return Gone(uid, at, before_rv=before_rv)  # type: ignore[call-arg]
    return Gone(uid, at)


def _rv(obj: dict) -> int:
    return g.parse_rv((obj.get("metadata") or {}).get("resourceVersion"))


def _trim(obj: dict) -> dict:
    """What the follow-ups need of a run (grouping, pod, steps), without specs and results."""
    st = obj.get("status") or {}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": obj.get("metadata") or {},
            "status": {k: st[k] for k in ("podName", "steps", "conditions", "startTime", "completionTime") if k in st}}


class Writer:
    """The one thread that writes the history."""

    def __init__(self, history: History, cluster: str, q: "queue.Queue[Any]", counters: Counters, aux: "AuxPool | None",
                 *, batch_max: int = 500, batch_wait_s: float = 0.2, annotate: Callable[[], bool] = lambda: False,
                 want_logs: bool = False, want_events: bool = False, namespaces: list[str] | None = None,
                 on_error: Callable[[str], None] = lambda m: None, sqlite_cache_kib: int | None = 16_000,
                 on_committed: Callable[[list[dict]], None] | None = None) -> None:
        self.sqlite_cache_kib = sqlite_cache_kib
        self.on_committed = on_committed  # cleanup policy hook: it only enqueues, no network on this thread
        self.history, self.cluster, self.q, self.counters, self.aux = history, cluster, q, counters, aux
        self.batch_max, self.batch_wait_s = batch_max, batch_wait_s
        self.annotate, self.want_logs, self.want_events = annotate, want_logs, want_events
        self.on_error = on_error
        self._pending: dict[str, dict] = {}
        self._deleted: set[str] = set()
        self._aux: list[AuxDone] = []
        self._count = 0
        self._first: float | None = None
        self._thread: threading.Thread | None = None
        self.committed_seq = 0
        self.idle = threading.Event()  # set whenever the queue is drained and nothing is pending
        self._stop_flush_failed = False
        self._stopping = threading.Event()  # stop() was called: give up retrying a database that is away
        self._backoff = DB_BACKOFF_FIRST_S

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="watcher-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Flush what is queued and pending, then end; True if it ended in time."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        while True:
            if self._thread is not None and not self._thread.is_alive():
                return True  # gave up on a database that is away (the next writer relists)
            try:
                self.q.put(STOP, timeout=0.1)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    return False
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic()))
            return not self._thread.is_alive()
        return True

    @property
    def backlog(self) -> int:
        return self.q.qsize() + len(self._pending) + len(self._aux)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a dead writer must be seen, never silent
            self.dead = f"the writer stopped: {type(exc).__name__}: {_first_line(exc)}; nothing is stored until a restart"
            log.exception("watcher: %s", self.dead)
            self.counters.add("errors")
            try:
                self.on_error(self.dead)
                self.on_dead(self.dead)
            except Exception:  # noqa: BLE001
                log.exception("watcher: reporting the writer's end")
        finally:
            release_connection(self.history.db)

    dead: str | None = None  # why the writer thread ended unexpectedly
    on_dead: Callable[[str], None] = staticmethod(lambda m: None)  # type: ignore[assignment]

    def _loop(self) -> None:
        self._tune_connection()
        while True:
            if self._first is None:
                wait = 0.5
            else:
                wait = max(0.0, self._first + self.batch_wait_s - time.monotonic())
            try:
                item = self.q.get(timeout=wait) if wait > 0 else self.q.get_nowait()
            except queue.Empty:
                item = None
            if item is STOP:
                self._flush(final=True)
                return
            if item is not None:
                self.idle.clear()
                if not self._take(item):
                    return
            if self._count and (self._count >= self.batch_max or item is None
                                or time.monotonic() - (self._first or 0) >= self.batch_wait_s):
                if not self._flush():
                    return
            if item is None and not self._count and self.q.empty():
                self.idle.set()

    def _tune_connection(self) -> None:
        """Bound this thread's SQLite page cache: the watcher's memory must not grow with the history.

        Writes are blind upserts on indexes, which stay hot in a small cache; readers (the TUI) keep the
        store's larger default on their own connections."""
        from tekton_results_tui.store.db import is_sqlite

        if self.sqlite_cache_kib and is_sqlite(self.history.db):
            try:
                self.history.db.execute_sql(f"PRAGMA cache_size = -{int(self.sqlite_cache_kib)}")
            except Exception as exc:  # noqa: BLE001 - tuning only
                log.debug("cache_size: %s", exc)

    def _take(self, item: Any) -> bool:
        """Add one queue item to the batch; False when the writer is stopping and the database is away."""
        if isinstance(item, tuple):
            op, obj = item
            uid = (obj.get("metadata") or {}).get("uid")
            if not uid:
                return True
            prev = self._pending.get(uid)
            if prev is None or _rv(obj) >= _rv(prev):
                self._pending[uid] = obj
            if op == "delete":
                self._deleted.add(uid)
        elif isinstance(item, Relisted):
            return self._flush() and self._relisted(item)
        elif isinstance(item, AuxDone):
            self._aux.append(item)
        else:
            return True
        self._count += 1
        if self._first is None:
            self._first = time.monotonic()
        return True

    def _relisted(self, r: Relisted) -> bool:
        """Runs the history believes are in the cluster but the LIST lacks left while we were not watching."""
        kind = {"pipelineruns": "PipelineRun", "taskruns": "TaskRun"}[r.plural]
        now = int(time.time())
        while True:
            try:
                known = self.history.in_cluster_uids(kind, self.cluster, [r.namespace] if r.namespace else None)
                missing = known - r.uids
                if missing and r.rv:
                    # only what was stored before the list's snapshot: a run stored at a newer resourceVersion
                    # (a watch event, another writer) was seen after it and is not gone
                    versions = self.history.stored_versions(list(missing), self.cluster)
                    missing = {u for u in missing if u in versions and versions[u][0] < r.rv}
                gone = [_gone(u, now, r.rv) for u in missing]
                if gone:
                    self.history.apply(gone, cluster=self.cluster)
                    self.counters.add("gone_marked", len(gone))
                self._backoff = DB_BACKOFF_FIRST_S
                return True
            except CONNECTION_ERRORS as exc:  # the database is down: retry (the informer blocks meanwhile)
                if not self._retry_wait(exc):
                    return False
            except Exception as exc:  # noqa: BLE001 - not the connection: skip this relist's gone marks, say so
                msg = f"marking runs gone after a relist of {r.plural} failed: {type(exc).__name__}: {_first_line(exc)}"
                log.warning("watcher: %s", msg)
                self.counters.add("errors")
                self.on_error(msg)
                reset_connection(self.history.db)
                return True

    def _retry_wait(self, exc: BaseException, final: bool = False) -> bool:
        """Count the error, drop the (maybe dead) connection, back off; False: stopping, give up.

        While the writer retries it takes nothing from the queue, so the informers block on the
        bounded queue: the backlog stays bounded, and a watch that falls too far behind the
        server's history ends in 410 Gone and a relist (informer.py), so nothing is lost."""
        self.counters.add("errors")
        self.counters.add("db_errors")
        self.on_error(f"database: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        reset_connection(self.history.db)
        if final:
            time.sleep(0.2)
            return True
        delay, self._backoff = self._backoff, min(self._backoff * 2, DB_BACKOFF_CAP_S)
        return not self._stopping.wait(delay)

    def _flush(self, final: bool = False) -> bool:
        """Store the batch; False only when the writer is stopping and the database is away (the batch
        is dropped: whoever writes next relists the cluster)."""
        if not self._count:
            return True
        pending, deleted, aux = self._pending, self._deleted, self._aux
        changes: list[Any] = [RunUpsert(o) for o in pending.values()]
        changes += [Gone(u) for u in deleted]
        for a in aux:
            changes += a.changes
        attempts = 0
        poison: set[str] = set()
        while True:
            try:
                res = self.history.apply(changes, cluster=self.cluster)
                break
            except CONNECTION_ERRORS as exc:  # the database is away: keep the batch and retry (producers block)
                attempts += 1
                log.warning("watcher: storing a batch failed: %s", _first_line(exc))
                if final and attempts >= 3:
                    self._stop_flush_failed = True
                    return False
                if not self._retry_wait(exc, final=final):
                    self._stop_flush_failed = True
                    self.counters.add("dropped_on_stop", len(changes))
                    return False
            except Exception as exc:  # noqa: BLE001 - not the connection: some item cannot be stored
                log.warning("watcher: storing a batch failed (%s); storing its items one by one", _first_line(exc))
                got = self._apply_each(changes, final)
                if got is None:
                    self._stop_flush_failed = True
                    self.counters.add("dropped_on_stop", len(changes))
                    return False
                res, poison = got
                break
        self._backoff = DB_BACKOFF_FIRST_S
        self.committed_seq = res.seq
        if poison:
            pending = {u: o for u, o in pending.items() if u not in poison}
        if self.on_committed is not None and pending:
            try:
                self.on_committed(list(pending.values()))
            except Exception as exc:  # noqa: BLE001 - the policy must never stop storing
                log.warning("watcher: cleanup policy hook failed: %s", exc)
        self.counters.add("batches")
        self.counters.add("stored", res.stored)
        self.counters.add("changed", res.changed)
        if deleted:
            self.counters.add("deleted", len(deleted))
        for s in res.skipped:
            self.counters.add("skipped")
            log.warning("watcher: skipped %s: %s", s.what, s.why)
        for a in aux:
            self.counters.add("logs" if any(isinstance(c, Logs) for c in a.changes) else "aux_stored")
            if a.patch is not None and self.aux is not None and not final:
                self.aux.submit_patch(*a.patch)
            if self.aux is not None:
                self.aux.done(a.uid)
        self._pending, self._deleted, self._aux = {}, set(), []
        self._count, self._first = 0, None
        if self.aux is not None and not final:
            have_logs, have_events = self._captured(pending.values())
            for uid, obj in pending.items():
                self._follow_up(obj, uid in deleted, uid in have_logs, uid in have_events)
        return True

    def _captured(self, objs: Any) -> tuple[set[str], set[str]]:
        """uids of the finished runs whose logs (every step read: none in state `error`) / events are in THIS
        database. Decided here, not from the run's `stored` annotation: that one is cluster-wide (another
        watcher, on another database, may have written it), and it is absent with --no-annotate, where every
        relist would otherwise queue a follow-up for every finished run. Two indexed reads per batch."""
        want: dict[str, tuple[str, str]] = {}  # derived uid -> (run uid, "Log" | "EventList")
        for obj in objs:
            md = obj.get("metadata") or {}
            uid = md.get("uid")
            if not uid or not g.status_of(obj).final:
                continue
            if self.want_logs and obj.get("kind") == "TaskRun":
                want[g.derived_uid(uid, "Log")] = (uid, "Log")
            if self.want_events:
                want[g.derived_uid(uid, "EventList")] = (uid, "EventList")
        logs: set[str] = set()
        events: set[str] = set()
        if not want:
            return logs, events
        try:
            found = self.history.captured_documents(list(want), self.cluster)
        except Exception as exc:  # noqa: BLE001 - unknown: the workers check again before fetching
            log.debug("watcher: follow-up lookup: %s", exc)
            reset_connection(self.history.db)
            return logs, events
        for u, complete in found.items():
            run_uid, what = want[u]
            if what == "Log" and complete:
                logs.add(run_uid)
            elif what == "EventList":
                events.add(run_uid)
        return logs, events

    def _apply_each(self, changes: list[Any], final: bool) -> tuple[ApplyResult, set[str]] | None:
        """Store a batch that failed as a whole item by item: one object that cannot be stored (a poison
        object) must not block every other write forever. Items failing on anything but the connection are
        skipped, counted (`skipped`, `errors.poison`), logged by name and reported as the last error.
        Returns the summed result and the uids skipped; None when stopping with the database away."""
        total = ApplyResult(seq=self.committed_seq)
        poison: set[str] = set()
        for ch in changes:
            attempts = 0
            while True:
                try:
                    r = self.history.apply([ch], cluster=self.cluster)
                    break
                except CONNECTION_ERRORS as exc:
                    attempts += 1
                    if (final and attempts >= 3) or not self._retry_wait(exc, final=final):
                        return None
                except Exception as exc:  # noqa: BLE001 - this item is the poison: skip it, say which
                    what = _change_label(ch)
                    msg = f"skipped {what}: cannot be stored: {type(exc).__name__}: {_first_line(exc)}"
                    log.warning("watcher: %s", msg)
                    self.counters.add("skipped")
                    self.counters.add("errors")
                    self.counters.add("errors.poison")
                    self.on_error(msg)
                    uid = _change_uid(ch)
                    if uid:
                        poison.add(uid)
                    reset_connection(self.history.db)  # a failed statement may leave a PG session aborted
                    r = None
                    break
            if r is not None:
                total.seq = max(total.seq, r.seq)
                total.changed += r.changed
                total.stored += r.stored
                total.skipped.extend(r.skipped)
                total.warnings.extend(r.warnings)
        return total, poison

    def _follow_up(self, obj: dict, deleted: bool, have_logs: bool = False, have_events: bool = False) -> None:
        kind = obj.get("kind")
        md = obj.get("metadata") or {}
        ann = md.get("annotations") or {}
        final = g.status_of(obj).final
        annotate = self.annotate() and not deleted
        desired: dict[str, str] = {}
        if annotate:
            try:
                rn = g.result_name_for(obj)
            except Exception:  # noqa: BLE001 - not a run we store
                return
            desired = {g.RESULT_ANNOTATION: rn, g.RECORD_ANNOTATION: g.record_name(rn, md.get("uid", ""))}
            if final:
                desired[g.STORED_ANNOTATION] = "true"
        logs = final and self.want_logs and kind == "TaskRun" and not have_logs
        events = final and self.want_events and not have_events
        need_patch = annotate and any(ann.get(k) != v for k, v in desired.items())
        if logs or events:
            assert self.aux is not None
            self.aux.submit(_Job(_trim(obj), logs=logs, events=events, patch=desired if need_patch else None,
                                 patch_after_store=True, uid=md.get("uid", "")))
        elif need_patch:
            assert self.aux is not None
            self.aux.submit_patch(PLURAL[kind], md.get("namespace", ""), md.get("name", ""), desired)


class AuxPool:
    """A few worker threads for network follow-ups: logs, events and annotation patches.

    The job queue is bounded and the writer never waits on it: a job that does not fit is
    dropped and counted; the run is picked up again at the next relist (it carries no
    `stored` annotation yet), so nothing is lost for good.
    """

    def __init__(self, target: KubeTarget, history: History, cluster: str, out: "queue.Queue[Any]", counters: Counters,
                 *, workers: int = 4, log_cap_bytes: int = 4 << 20, max_jobs: int = 1000,
                 on_forbidden_patch: Callable[[str], None] = lambda m: None, timeout_s: float = 30.0,
                 capture_retry_s: float = CAPTURE_RETRY_S, capture_retries: int = CAPTURE_RETRIES) -> None:
        self.target, self.history, self.cluster, self.out, self.counters = target, history, cluster, out, counters
        self.capture_retry_s, self.capture_retries = capture_retry_s, capture_retries
        self._later: list[tuple[float, int, _Job]] = []  # (due, tie-break, job): reads retried after a failure
        self._later_seq = 0
        self.log_cap_bytes = log_cap_bytes
        self.on_forbidden_patch = on_forbidden_patch
        self.timeout = (5.0, timeout_s)
        self.jobs: queue.Queue[Any] = queue.Queue(maxsize=max_jobs)
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"watcher-aux-{i}", daemon=True) for i in range(workers)]
        self._api = target.new_api_client()
        self._co = client.CustomObjectsApi(self._api)
        self._core = client.CoreV1Api(self._api)
        self.patching = True

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            if t.ident is not None:  # started (a failed start stops a pool it never started)
                t.join(max(0.05, deadline - time.monotonic()))
        self._api.close()

    @property
    def pending(self) -> int:
        return self.jobs.qsize()

    def submit(self, job: _Job) -> None:
        with self._lock:
            if job.uid in self._inflight:
                return
            self._inflight.add(job.uid)
        try:
            self.jobs.put_nowait(job)
            self.counters.add("aux_jobs")
        except queue.Full:
            self.counters.add("aux_dropped")
            self.done(job.uid)

    def submit_patch(self, plural: str, ns: str, name: str, ann: dict[str, str]) -> None:
        if not self.patching:
            return
        try:
            self.jobs.put_nowait(("patch", plural, ns, name, ann))
        except queue.Full:
            self.counters.add("aux_dropped")

    def done(self, uid: str) -> None:
        with self._lock:
            self._inflight.discard(uid)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            release_connection(self.history.db)

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self._due_retry()
            if job is None:
                try:
                    job = self.jobs.get(timeout=0.2)
                except queue.Empty:
                    continue
            try:
                if isinstance(job, tuple):
                    self._patch(*job[1:])
                else:
                    self._work(job)
            except Exception as exc:  # noqa: BLE001 - a follow-up never stops the watcher
                self.counters.add("errors")
                log.warning("watcher: follow-up failed: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
                reset_connection(self.history.db)  # a dead database session must not fail every later job
                if not isinstance(job, tuple) and not self._retry_later(job, exc):
                    self.done(job.uid)

    def _due_retry(self) -> _Job | None:
        with self._lock:
            if self._later and self._later[0][0] <= time.monotonic():
                return heapq.heappop(self._later)[2]
        return None

    def _capture_later(self, job: _Job) -> bool:
        """A log/event read failed (5xx, 403, a timeout): read again later, a few times, with backoff.
        Until then the run carries no `stored` annotation and cleanup treats its logs as not stored."""
        if job.captures >= self.capture_retries:
            self.counters.add("capture_given_up")
            log.warning("watcher: giving up reading the logs/events of %s %s/%s after %d tries", job.obj.get("kind"),
                        job.obj["metadata"].get("namespace"), job.obj["metadata"].get("name"), job.captures + 1)
            return False
        delay = self.capture_retry_s * 2 ** job.captures
        job.captures += 1
        with self._lock:
            self._later_seq += 1
            heapq.heappush(self._later, (time.monotonic() + delay, self._later_seq, job))
        self.counters.add("capture_retries")
        return True

    def _retry_later(self, job: _Job, exc: Exception) -> bool:
        """A job that failed on the database (not the API) goes back in the queue after a pause."""
        import peewee as pw

        if not isinstance(exc, pw.DatabaseError | pw.InterfaceError) or job.attempts >= 5:
            return False
        job.attempts += 1
        if self._stop.wait(min(DB_BACKOFF_FIRST_S * 2 ** job.attempts, DB_BACKOFF_CAP_S)):
            return False
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            self.counters.add("aux_dropped")
            return False
        self.counters.add("aux_retried")
        return True

    def _work(self, job: _Job) -> None:
        obj = job.obj
        md = obj["metadata"]
        uid = md.get("uid", "")
        changes: list[Any] = []
        complete = True  # every wanted log step and the events were read
        if job.logs:
            rec = self.history.log_record_for(uid, cluster=self.cluster)
            prev = self.history.step_logs(rec.id) if rec is not None else None
            if prev is None or any(s.state == "error" for s in prev):
                steps = self._step_logs(obj, prev)
                changes.append(Logs(obj, steps))
                complete = not any(s.state == "error" for s in steps)
        if job.events and self.history.get_record(uid=g.derived_uid(uid, "EventList"), cluster=self.cluster) is None:
            items = self._events(obj)
            if items is None:
                complete = False
            else:
                changes.append(Events(obj, items))
        patch = None
        if job.patch is not None and self.patching:
            ann = dict(job.patch)
            if not complete:
                ann.pop(g.STORED_ANNOTATION, None)  # not "stored" while a read failed
            if ann and any((md.get("annotations") or {}).get(k) != v for k, v in ann.items()):
                patch = (PLURAL[obj["kind"]], md.get("namespace", ""), md.get("name", ""), ann)
        if not complete:
            self._capture_later(job)
        if not changes and patch is None:
            self.done(uid)
            return
        item = AuxDone(changes, patch, uid)
        while not self._stop.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _step_logs(self, obj: dict, prev: list[Any] | None = None) -> list[StepLogData]:
        """Each step's log from the pod; steps already stored (`prev`, not in state `error`) are kept as stored,
        not read again (the pod may be gone by now). A failure on one step leaves the others read."""
        md, st = obj["metadata"], obj.get("status") or {}
        ns, pod = md.get("namespace", ""), st.get("podName")
        kept = {p.step: p for p in prev or [] if p.state != "error"}
        out: list[StepLogData] = []
        gone = False
        for step in st.get("steps") or []:
            name = step.get("name") or ""
            container = step.get("container") or f"step-{name}"
            if name in kept:
                p = kept[name]
                out.append(StepLogData(name, p.container, self.history.step_log_text(p.id), p.truncated, p.state))
                continue
            if not pod or gone:
                out.append(StepLogData(name, container, b"", False, "pod-gone"))
                continue
            try:
                resp = self._core.read_namespaced_pod_log(pod, ns, container=container, limit_bytes=self.log_cap_bytes,
                                                          _preload_content=False, _request_timeout=self.timeout)
                try:
                    data = resp.data
                finally:
                    resp.release_conn()
                out.append(StepLogData(name, container, data, len(data) >= self.log_cap_bytes, "stored"))
            except ApiException as exc:
                if exc.status == 404:
                    gone = True
                    out.append(StepLogData(name, container, b"", False, "pod-gone"))
                elif exc.status == 400:
                    out.append(StepLogData(name, container, b"", False, "not-started"))
                else:
                    self.counters.add("errors")
                    out.append(StepLogData(name, container, describe(exc, "get", "pods/log", ns).encode(), False, "error"))
            except (urllib3.exceptions.HTTPError, OSError) as exc:  # timeouts, resets: this step only
                self.counters.add("errors")
                out.append(StepLogData(name, container, describe(exc, "get", "pods/log", ns, self.target.server).encode(),
                                       False, "error"))
        self.counters.add("log_fetches")
        return out

    def _events(self, obj: dict) -> list[dict] | None:
        """The run's events; None when the read failed (nothing is stored then: an empty list would count
        as "events stored")."""
        md = obj["metadata"]
        try:
            resp = self._core.list_namespaced_event(md.get("namespace", ""), field_selector=f"involvedObject.uid={md.get('uid')}",
                                                    _preload_content=False, _request_timeout=self.timeout)
            try:
                items = json.loads(resp.data).get("items") or []
            finally:
                resp.release_conn()
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            self.counters.add("errors")
            log.warning("watcher: %s", describe(exc, "list", "events", md.get("namespace"), self.target.server))
            return None
        self.counters.add("event_fetches")
        return items

    def _patch(self, plural: str, ns: str, name: str, ann: dict[str, str]) -> None:
        if not self.patching:
            return
        try:
            self._co.patch_namespaced_custom_object(GROUP, VERSION, ns, plural, name, {"metadata": {"annotations": ann}},
                                                    _content_type="application/merge-patch+json",
                                                    _request_timeout=self.timeout)
            self.counters.add("annotations")
        except ApiException as exc:
            if exc.status == 403:
                if self.patching:
                    self.patching = False
                    self.on_forbidden_patch(describe(exc, "patch", f"{plural}.{GROUP}", ns)
                                            + "; annotations turned off, storing goes on")
            elif exc.status in (404, 409):
                return  # deleted or changed meanwhile: the next event decides again
            else:
                self.counters.add("errors")
                log.warning("watcher: %s", describe(exc, "patch", f"{plural}.{GROUP}", ns))
