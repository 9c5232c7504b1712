"""The one thread that writes the history: informer events -> batched store writes.

The writer drains the informers' bounded queue, classifies each run once (`grouping.classify`:
the result travels with the run to the store, the follow-ups and the cleanup policy),
coalesces by uid (the newest resourceVersion wins: a TaskRun's dozen status writes cost one or
two store writes) and commits a batch every `batch_max` items or `batch_wait_s`. After each
commit it decides each run's follow-up (logs, events, annotations: followups.py) and hands it
to the workers; it never makes a network call itself. While the database is away it retries
with backoff and takes nothing from the queue, so the informers block (bounded backlog) and a
watch that falls too far behind ends in 410 and a relist: nothing is lost.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import ApplyResult, ClassifiedRun, Events, Gone, History, Logs
from tekton_results_tui.watcher.annotator import Annotator
from tekton_results_tui.watcher.backoff import Backoff
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.db_retry import CONNECTION_ERRORS, release_connection, reset_connection
from tekton_results_tui.watcher.followups import FollowUps, trimmed
from tekton_results_tui.watcher.log_backfill import LogIndexBackfill
from tekton_results_tui.watcher.messages import STOP, Captured, FollowUp, Relisted, RunEvent, Stop, StoredRun

log = logging.getLogger(__name__)

DB_BACKOFF_FIRST_S, DB_BACKOFF_CAP_S = 0.2, 5.0  # store retries while the database is away

Change = ClassifiedRun | Gone | Logs | Events


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _run_label(kind: Any, namespace: Any, name: Any, uid: Any) -> str:
    """"PipelineRun ci/name (uid)" for a log line (bounded: the values come from the cluster)."""
    return f"{kind} {str(namespace)[:100]}/{str(name)[:200]} ({str(uid)[:80]})"


def _change_uid(ch: Change) -> str:
    if isinstance(ch, ClassifiedRun):
        return ch.info.uid
    if isinstance(ch, (Logs, Events)):
        return str((ch.run.get("metadata") or {}).get("uid") or "")
    return ch.uid


def _change_label(ch: Change) -> str:
    if isinstance(ch, Gone):
        return f"gone mark of {ch.uid}"
    if isinstance(ch, ClassifiedRun):
        i = ch.info
        return _run_label(i.kind, i.namespace, i.name, i.uid)
    md = ch.run.get("metadata") or {}
    what = "logs of " if isinstance(ch, Logs) else "events of "
    return what + _run_label(ch.run.get("kind"), md.get("namespace"), md.get("name"), md.get("uid"))


def _object_label(obj: Any) -> str:
    if not isinstance(obj, dict):
        return f"a {type(obj).__name__} instead of a run"
    md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return _run_label(obj.get("kind"), md.get("namespace"), md.get("name"), md.get("uid"))


def compact_json(obj: dict) -> str:
    """The run as the store keeps it (compact, UTF-8 as is)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Writer:
    """The one thread that writes the history."""

    dead: str | None = None  # why the writer thread ended unexpectedly
    on_dead: Callable[[str], None] = staticmethod(lambda m: None)  # type: ignore[assignment]

    def __init__(self, history: History, cluster: str, q: "queue.Queue[Any]", counters: Counters,
                 followups: FollowUps | None, *, batch_max: int, batch_wait_s: float,
                 annotator: Annotator | None = None, want_logs: bool = False, want_events: bool = False,
                 on_error: Callable[[str], None] = lambda m: None, sqlite_cache_kib: int | None = 16_000,
                 on_committed: Callable[[list[StoredRun]], None] | None = None) -> None:
        self.history, self.cluster, self.q, self.counters = history, cluster, q, counters
        self.followups, self.annotator = followups, annotator
        self.batch_max, self.batch_wait_s = batch_max, batch_wait_s
        self.want_logs, self.want_events = want_logs, want_events
        self.on_error = on_error
        self.sqlite_cache_kib = sqlite_cache_kib
        self.on_committed = on_committed  # cleanup policy hook: it only enqueues, no network on this thread
        self._pending: dict[str, StoredRun] = {}
        self._deleted: set[str] = set()
        self._captured: list[Captured] = []
        self._count = 0
        self._first: float | None = None
        self._thread: threading.Thread | None = None
        self.committed_seq = 0
        self.idle = threading.Event()  # set whenever the queue is drained and nothing is pending
        self._stopping = threading.Event()  # stop() was called: give up retrying a database that is away
        self.backoff = Backoff(DB_BACKOFF_FIRST_S, DB_BACKOFF_CAP_S)
        # an existing history's log index, built a batch at a time while idle (log_backfill.py says why)
        self.log_backfill = LogIndexBackfill(history, counters, on_error)

    # --- life -------------------------------------------------------------------------------

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
        return self.q.qsize() + len(self._pending) + len(self._captured)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a dead writer must be seen, never silent
            self.dead = f"the writer stopped: {type(exc).__name__}: {first_line(exc)}; nothing is stored until a restart"
            log.exception("watcher: %s", self.dead)
            self.counters.add("errors")
            try:
                self.on_error(self.dead)
                self.on_dead(self.dead)
            except Exception:  # noqa: BLE001
                log.exception("watcher: reporting the writer's end")
        finally:
            release_connection(self.history.db)

    def _loop(self) -> None:
        self._tune_connection()
        while True:
            if self._first is None:  # nothing pending: wait for work, or only look at the queue if a batch is due
                wait = min(0.5, self.log_backfill.due_in())
            else:
                wait = max(0.0, self._first + self.batch_wait_s - time.monotonic())
            item = None  # not kept while waiting (a relist's uids, a captured log)
            try:
                item = self.q.get(timeout=wait) if wait > 0 else self.q.get_nowait()
            except queue.Empty:
                item = None
            if isinstance(item, Stop):
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
                if not self.log_backfill.due_in():
                    self.log_backfill.step()  # one batch, then the queue again: live changes go first

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

    # --- taking items ---------------------------------------------------------------------------

    def _take(self, item: object) -> bool:
        """Add one queue item to the batch; False when the writer is stopping and the database is away."""
        if isinstance(item, RunEvent):
            if not self._take_run(item):
                return True
        elif isinstance(item, Relisted):
            return self._flush() and self._relisted(item)
        elif isinstance(item, Captured):
            self._captured.append(item)
        else:
            raise TypeError(f"not a writer message: {type(item).__name__}")
        self._count += 1
        if self._first is None:
            self._first = time.monotonic()
        return True

    def _take_run(self, ev: RunEvent) -> bool:
        """Classify the run (once: the result travels with it) and keep its newest version; False: not a run."""
        try:
            info = g.classify(ev.obj)
        except g.GroupingError as exc:
            self.counters.add("skipped")
            log.warning("watcher: skipped %s: %s", _object_label(ev.obj), exc)
            return False
        prev = self._pending.get(info.uid)
        if prev is None or info.rv >= prev.info.rv:
            self._pending[info.uid] = StoredRun(info, ev.obj)
        if ev.deleted:
            self._deleted.add(info.uid)
        return True

    def _relisted(self, r: Relisted) -> bool:
        """Runs the history believes are in the cluster but the LIST lacks left while we were not watching."""
        now = int(time.time())
        while True:
            try:
                known = self.history.in_cluster_uids(r.kind.name, self.cluster, [r.namespace] if r.namespace else None)
                missing = {u for u in known if u not in r.uids}
                del known
                if missing and r.rv:
                    # only what was stored before the list's snapshot: a run stored at a newer resourceVersion
                    # (a watch event, another writer) was seen after it and is not gone
                    versions = self.history.stored_versions(list(missing), self.cluster)
                    missing = {u for u in missing if u in versions and versions[u][0] < r.rv}
                gone = [Gone(u, now, before_rv=r.rv or None) for u in missing]
                if gone:
                    self.history.apply(gone, cluster=self.cluster)
                    self.counters.add("gone_marked", len(gone))
                self.backoff.reset()
                return True
            except CONNECTION_ERRORS as exc:  # the database is down: retry (the informer blocks meanwhile)
                if not self._retry_wait(exc):
                    return False
            except Exception as exc:  # noqa: BLE001 - not the connection: skip this relist's gone marks, say so
                msg = f"marking runs gone after a relist of {r.kind.plural} failed: {type(exc).__name__}: {first_line(exc)}"
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
        return not self._stopping.wait(self.backoff.next())

    # --- committing ------------------------------------------------------------------------------

    def _flush(self, final: bool = False) -> bool:
        """Store the batch; False only when the writer is stopping and the database is away (the batch
        is dropped: whoever writes next relists the cluster)."""
        if not self._count:
            return True
        pending, deleted, captured = self._pending, self._deleted, self._captured
        changes: list[Change] = [ClassifiedRun(r.info, compact_json(r.obj)) for r in pending.values()]
        changes += [Gone(u) for u in deleted]
        for c in captured:
            changes += c.changes
        attempts = 0
        poison: set[str] = set()
        while True:
            try:
                res = self.history.apply(changes, cluster=self.cluster)
                break
            except CONNECTION_ERRORS as exc:  # the database is away: keep the batch and retry (producers block)
                attempts += 1
                log.warning("watcher: storing a batch failed: %s", first_line(exc))
                if final and attempts >= 3:
                    return False
                if not self._retry_wait(exc, final=final):
                    self.counters.add("dropped_on_stop", len(changes))
                    return False
            except Exception as exc:  # noqa: BLE001 - not the connection: some item cannot be stored
                log.warning("watcher: storing a batch failed (%s); storing its items one by one", first_line(exc))
                got = self._apply_each(changes, final)
                if got is None:
                    self.counters.add("dropped_on_stop", len(changes))
                    return False
                res, poison = got
                break
        self.backoff.reset()
        self.committed_seq = res.seq
        stored = [r for u, r in pending.items() if u not in poison]
        if self.on_committed is not None and stored:
            try:
                self.on_committed(stored)
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
        for c in captured:
            self.counters.add("logs" if any(isinstance(ch, Logs) for ch in c.changes) else "aux_stored")
            if self.followups is not None:
                if c.patch is not None and not final:
                    self.followups.submit_patch(c.patch)
                self.followups.done(c.uid)
        self._pending, self._deleted, self._captured = {}, set(), []
        self._count, self._first = 0, None
        if self.followups is not None and not final:
            have_logs, have_events = self._already_captured(stored)
            for run in stored:
                self._follow_up(run, run.uid in deleted, run.uid in have_logs, run.uid in have_events)
        return True

    def _apply_each(self, changes: list[Change], final: bool) -> tuple[ApplyResult, set[str]] | None:
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
                    msg = f"skipped {_change_label(ch)}: cannot be stored: {type(exc).__name__}: {first_line(exc)}"
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

    # --- follow-ups ---------------------------------------------------------------------------------

    def _already_captured(self, runs: Iterable[StoredRun]) -> tuple[set[str], set[str]]:
        """uids of the finished runs whose logs (every step read: none in state `error`) / events are in THIS
        database. Decided here, not from the run's `stored` annotation: that one is cluster-wide (another
        watcher, on another database, may have written it), and it is absent with --no-annotate, where every
        relist would otherwise queue a follow-up for every finished run. Two indexed reads per batch."""
        want: dict[str, tuple[str, str]] = {}  # derived uid -> (run uid, "Log" | "EventList")
        for run in runs:
            if not run.info.final:
                continue
            if self.want_logs and _step_logs(run):
                want[g.derived_uid(run.uid, kinds.LOG.name)] = (run.uid, kinds.LOG.name)
            if self.want_events:
                want[g.derived_uid(run.uid, kinds.EVENT_LIST.name)] = (run.uid, kinds.EVENT_LIST.name)
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
            if what == kinds.LOG.name and complete:
                logs.add(run_uid)
            elif what == kinds.EVENT_LIST.name:
                events.add(run_uid)
        return logs, events

    def _follow_up(self, run: StoredRun, deleted: bool, have_logs: bool, have_events: bool) -> None:
        assert self.followups is not None
        final = run.info.final
        annotations = self.annotator.wanted(run) if self.annotator is not None and not deleted else None
        patch = self.annotator.patch_for(run, annotations) if self.annotator is not None and annotations else None
        logs = final and self.want_logs and _step_logs(run) and not have_logs
        events = final and self.want_events and not have_events
        if logs or events:
            self.followups.submit(FollowUp(trimmed(run), logs=logs, events=events,
                                           annotations=annotations if patch is not None else None))
        elif patch is not None:
            self.followups.submit_patch(patch)


def _step_logs(run: StoredRun) -> bool:
    rk = kinds.run_kind(run.info.kind)
    return rk is not None and rk.step_logs
