"""The follow-ups of a stored final run, on a few worker threads: step logs, events, annotation patches.

The writer never makes network calls: after a commit it hands each run's follow-up here. A
worker reads what is missing (a TaskRun's step logs from its pod — 404 = pod gone, 400 = not
started: states, not errors — capped at `log_cap_bytes` per step; the run's events) and gives
the result back to the writer's queue as `Captured`, because every write goes through the
writer. Once that is committed the writer hands the `stored: "true"` patch back here.

The job queue is bounded and the writer never waits on it: a job that does not fit is dropped
and counted; the run is picked up again at the next relist (it carries no `stored` annotation
yet), so nothing is lost for good. A read that fails on the API is tried again a few times with
backoff; until it succeeds the run is not "stored" (cleanup waits for it).
"""

from __future__ import annotations

import heapq
import json
import logging
import queue
import threading
import time
from typing import Any

from kubernetes import client

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import Events, History, Logs, StepLogData
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.annotator import Annotator
from tekton_results_tui.watcher.backoff import Backoff
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.db_retry import DATABASE_ERRORS, release_connection, reset_connection
from tekton_results_tui.watcher.kube import KubeTarget
from tekton_results_tui.watcher.messages import AnnotationPatch, Captured, FollowUp, PoolItem, StoredRun

log = logging.getLogger(__name__)

CAPTURE_RETRIES = 4  # a failed log/event read is tried again after ~capture_retry_s, x2, x4, x8
DB_RETRIES = 5  # a job failing on the database is retried this often, then left to the next relist


def trimmed(run: StoredRun) -> StoredRun:
    """What the follow-ups need of a run (grouping, pod, steps), without its spec and results."""
    obj = run.obj
    st = obj.get("status") or {}
    small = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": obj.get("metadata") or {},
             "status": {k: st[k] for k in ("podName", "steps", "conditions", "startTime", "completionTime") if k in st}}
    return StoredRun(run.info, small)


class FollowUps:
    """A few worker threads for network follow-ups; results go to the writer's queue `out`."""

    def __init__(self, target: KubeTarget, history: History, cluster: str, out: "queue.Queue[Any]", counters: Counters,
                 annotator: Annotator | None, *, workers: int, log_cap_bytes: int, capture_retry_s: float,
                 max_jobs: int = 1000, timeout_s: float = 30.0, capture_retries: int = CAPTURE_RETRIES,
                 db_retry_s: float = 0.2) -> None:
        # workers, log_cap_bytes and capture_retry_s come from settings.WatchSettings (their one default)
        self.target, self.history, self.cluster, self.out, self.counters = target, history, cluster, out, counters
        self.annotator = annotator
        self.capture_retries = capture_retries
        self.capture_backoff = Backoff(capture_retry_s, cap=capture_retry_s * 2 ** max(capture_retries, 1))
        self.db_backoff = Backoff(db_retry_s, cap=5.0)
        self._later: list[tuple[float, int, FollowUp]] = []  # (due, tie-break, job): reads retried after a failure
        self._later_seq = 0
        self.log_cap_bytes = log_cap_bytes
        self.timeout = (5.0, timeout_s)
        self.jobs: queue.Queue[PoolItem] = queue.Queue(maxsize=max_jobs)
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"watcher-aux-{i}", daemon=True) for i in range(workers)]
        self._api = target.new_api_client()
        self._core = client.CoreV1Api(self._api)

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
        if self.annotator is not None:
            self.annotator.close()

    @property
    def pending(self) -> int:
        return self.jobs.qsize()

    # --- from the writer ----------------------------------------------------------------------

    def submit(self, job: FollowUp) -> None:
        """Queue a run's follow-up (once: a run already in flight is not queued again)."""
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

    def submit_patch(self, patch: AnnotationPatch) -> None:
        if self.annotator is None or not self.annotator.enabled:
            return
        try:
            self.jobs.put_nowait(patch)
        except queue.Full:
            self.counters.add("aux_dropped")

    def done(self, uid: str) -> None:
        """The run's capture is committed (or given up): a later event may queue it again."""
        with self._lock:
            self._inflight.discard(uid)

    # --- the workers --------------------------------------------------------------------------

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
                if isinstance(job, AnnotationPatch):
                    if self.annotator is not None:
                        self.annotator.send(job)
                else:
                    self._work(job)
            except Exception as exc:  # noqa: BLE001 - a follow-up never stops the watcher
                self.counters.add("errors")
                log.warning("watcher: follow-up failed: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
                reset_connection(self.history.db)  # a dead database session must not fail every later job
                if isinstance(job, FollowUp) and not self._retry_later(job, exc):
                    self.done(job.uid)

    def _due_retry(self) -> FollowUp | None:
        with self._lock:
            if self._later and self._later[0][0] <= time.monotonic():
                return heapq.heappop(self._later)[2]
        return None

    def _capture_later(self, job: FollowUp) -> bool:
        """A log/event read failed (5xx, 403, a timeout): read again later, a few times, with backoff.
        Until then the run carries no `stored` annotation and cleanup treats its logs as not stored."""
        info = job.run.info
        if job.captures >= self.capture_retries:
            self.counters.add("capture_given_up")
            log.warning("watcher: giving up reading the logs/events of %s %s/%s after %d tries", info.kind,
                        info.namespace, info.name, job.captures + 1)
            return False
        delay = self.capture_backoff.delay(job.captures)
        job.captures += 1
        with self._lock:
            self._later_seq += 1
            heapq.heappush(self._later, (time.monotonic() + delay, self._later_seq, job))
        self.counters.add("capture_retries")
        return True

    def _retry_later(self, job: FollowUp, exc: Exception) -> bool:
        """A job that failed on the database (not the API) goes back in the queue after a pause."""
        if not isinstance(exc, DATABASE_ERRORS) or job.attempts >= DB_RETRIES:
            return False
        job.attempts += 1
        if self._stop.wait(self.db_backoff.delay(job.attempts)):
            return False
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            self.counters.add("aux_dropped")
            return False
        self.counters.add("aux_retried")
        return True

    def _work(self, job: FollowUp) -> None:
        run, uid = job.run, job.uid
        changes: list[Logs | Events] = []
        complete = True  # every wanted log step and the events were read
        if job.logs:
            rec = self.history.log_record_for(uid, cluster=self.cluster)
            prev = self.history.step_logs(rec.id) if rec is not None else None
            if prev is None or any(s.state == "error" for s in prev):
                steps = self._step_logs(run, prev)
                changes.append(Logs(run.obj, steps, run.info))
                complete = not any(s.state == "error" for s in steps)
        if job.events and self.history.get_record(uid=g.derived_uid(uid, "EventList"), cluster=self.cluster) is None:
            items = self._events(run)
            if items is None:
                complete = False
            else:
                changes.append(Events(run.obj, items, run.info))
        patch = None
        if job.annotations is not None and self.annotator is not None:
            ann = dict(job.annotations)
            if not complete:
                ann.pop(g.STORED_ANNOTATION, None)  # not "stored" while a read failed
            patch = self.annotator.patch_for(run, ann)
        if not complete:
            self._capture_later(job)
        if not changes and patch is None:
            self.done(uid)
            return
        item = Captured(uid, changes, patch)
        while not self._stop.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _step_logs(self, run: StoredRun, prev: list[Any] | None = None) -> list[StepLogData]:
        """Each step's log from the pod; steps already stored (`prev`, not in state `error`) are kept as stored,
        not read again (the pod may be gone by now). A failure on one step leaves the others read."""
        ns, st = run.info.namespace, run.obj.get("status") or {}
        pod = st.get("podName")
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
                with ke.api_call("get", "pods/log", ns, self.target.server):
                    resp = self._core.read_namespaced_pod_log(pod, ns, container=container,
                                                              limit_bytes=self.log_cap_bytes, _preload_content=False,
                                                              _request_timeout=self.timeout)
                    try:
                        data = resp.data
                    finally:
                        resp.release_conn()
                out.append(StepLogData(name, container, data, len(data) >= self.log_cap_bytes, "stored"))
            except ke.NotFound:
                gone = True
                out.append(StepLogData(name, container, b"", False, "pod-gone"))
            except ke.BadRequest:
                out.append(StepLogData(name, container, b"", False, "not-started"))
            except ke.KubeError as exc:  # refused, 5xx, 403, timeouts, resets: this step only
                self.counters.add("errors")
                out.append(StepLogData(name, container, str(exc).encode(), False, "error"))
        self.counters.add("log_fetches")
        return out

    def _events(self, run: StoredRun) -> list[dict] | None:
        """The run's events; None when the read failed (nothing is stored then: an empty list would count
        as "events stored")."""
        ns = run.info.namespace
        try:
            with ke.api_call("list", "events", ns, self.target.server):
                resp = self._core.list_namespaced_event(ns, field_selector=f"involvedObject.uid={run.info.uid}",
                                                        _preload_content=False, _request_timeout=self.timeout)
                try:
                    items = json.loads(resp.data).get("items") or []
                finally:
                    resp.release_conn()
        except (ke.KubeError, ValueError) as exc:
            self.counters.add("errors")
            log.warning("watcher: %s", ke.describe(exc, "list", "events", ns, self.target.server))
            return None
        self.counters.add("event_fetches")
        return items


def wants_step_logs(kind: str) -> bool:
    rk = kinds.run_kind(kind)
    return rk is not None and rk.step_logs
