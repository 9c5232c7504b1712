"""Cleanup by policy inside the watcher: `--delete-after`, `--delete-selector`, `--finalizers`, `--store-deadline`.

- delete-after (Tekton Results' completed_run_grace_period): each top-level run is deleted
  DURATION after its completion once its final state — and its children, and their logs and
  events where the watcher stores those — is in the history; always through cleanup.plan /
  cleanup.execute (preconditions, background propagation), optionally only runs whose
  labels match `--delete-selector`.
- finalizers (opt-in): `results.tekton.dev/store` is added to each unfinished run (a JSON
  Patch with a `test` on resourceVersion, so a stale view never overwrites anything) and
  released as soon as the run's final state is stored, or — once someone deletes it — as
  soon as its last state is stored. A stopped watcher cannot block deletion for long:
  `release_due` lets go of any run deleted more than `--store-deadline` ago, and
  `remove_stale_finalizers` (start-up) clears what a previous watcher left behind — only
  when THIS database records (`finalizers:<cluster>` = "on") that a watcher writing it
  added finalizers: a TUI on its own SQLite file must never strip the finalizers a team
  watcher relies on.

Threads: `on_stored(objs)` is called by the writer after each committed batch and only
enqueues; the policy's own thread does the network work (`start()`/`stop()`).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from kubernetes import client

from tekton_results_tui import kinds
from tekton_results_tui.settings import Settings
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.cleanup import (
    CONFLICT,
    DELETED,
    GONE,
    Outcome,
    ReadOnlyRefused,
    RecordTarget,
    UNSTORED,
    Skipped,
    execute,
    plan,
)
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.backoff import Backoff
from tekton_results_tui.watcher.db_retry import release_connection, reset_connection
from tekton_results_tui.watcher.kube import list_runs
from tekton_results_tui.watcher.messages import StoredRun
from tekton_results_tui.watcher.selectors import parse_selector  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

FINALIZER = "results.tekton.dev/store"
RETRY_S = 30.0  # a run not deletable yet (children/logs not stored) is looked at again after this
TIMEOUT = (5.0, 30.0)
SETUP_RETRY_FIRST_S, SETUP_RETRY_CAP_S = 1.0, 30.0  # start-up work retried while the DB or the API is away


def finalizer_mark_key(cluster: str) -> str:
    """History value set to "on" once a watcher writing this database added our finalizer in `cluster`."""
    return f"finalizers:{cluster}"


# label selectors: watcher/selectors.py (pure: the CLI validates --delete-selector with it)


# --- finalizer patches -----------------------------------------------------------------------


def _md(obj: dict) -> dict:
    return obj.get("metadata") or {}


def has_finalizer(obj: dict) -> bool:
    return FINALIZER in (_md(obj).get("finalizers") or [])


def add_finalizer_patch(obj: dict) -> list[dict] | None:
    """JSON Patch adding our finalizer, valid only at this resourceVersion (None: already there)."""
    md = _md(obj)
    fins = md.get("finalizers")
    if fins and FINALIZER in fins:
        return None
    ops: list[dict] = [{"op": "test", "path": "/metadata/resourceVersion", "value": str(md.get("resourceVersion"))}]
    if fins:
        ops.append({"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER})
    else:
        ops.append({"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]})
    return ops


def release_finalizer_patch(obj: dict) -> list[dict] | None:
    """JSON Patch removing our finalizer at this resourceVersion (None: not there)."""
    md = _md(obj)
    fins = list(md.get("finalizers") or [])
    if FINALIZER not in fins:
        return None
    i = fins.index(FINALIZER)
    return [{"op": "test", "path": "/metadata/resourceVersion", "value": str(md.get("resourceVersion"))},
            {"op": "test", "path": f"/metadata/finalizers/{i}", "value": FINALIZER},
            {"op": "remove", "path": f"/metadata/finalizers/{i}"}]


class CleanupPolicy:
    """delete-after and finalizers for one cluster; `tick(now)` is safe to call from one thread at a time."""

    def __init__(self, settings: Settings, history: History, api_client_factory: Callable[[], client.ApiClient],
                 cluster: str, *, tick_s: float = 10.0, release_list_s: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        if settings.read_only or history.read_only:
            raise ReadOnlyRefused("read-only: the cleanup policy cannot run")
        self.settings, self.history, self.cluster = settings, history, cluster
        self.api_client_factory = api_client_factory
        self.tick_s, self.release_list_s, self.clock = tick_s, release_list_s, clock
        self.selector = parse_selector(settings.cleanup.delete_selector)
        self.deadline_s = float(settings.cleanup.store_deadline_s)
        self._due: dict[str, float] = {}  # uid -> when it may be deleted (delete-after)
        self._mu = threading.Lock()
        self._fin_q: queue.Queue[dict] = queue.Queue(maxsize=10_000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._api: client.ApiClient | None = None
        self.outcomes: list[Outcome] = []  # the last tick's (status and tests)
        self.counts = {"deleted": 0, "finalizers_added": 0, "finalizers_released": 0, "released_at_deadline": 0}

    # --- plumbing ---------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.settings.cleanup.delete_after_s is not None or self.settings.cleanup.finalizers

    def _co(self) -> client.CustomObjectsApi:
        if self._api is None:
            self._api = self.api_client_factory()
        return client.CustomObjectsApi(self._api)

    def start(self) -> None:
        """In a background thread (a paged LIST of every run must not delay the watcher's start):
        clear stale finalizers, learn what is due from the history, then run the policy loop."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._start_then_run, name="cleanup-policy", daemon=True)
        self._thread.start()

    def _start_then_run(self) -> None:
        self._pending_stale = True
        self._pending_seed = self.settings.cleanup.delete_after_s is not None
        try:
            self._run()
        finally:
            release_connection(self.history.db)

    def _setup(self) -> None:
        """Start-up work, retried from the loop until it succeeds (the DB or the API may be away at start:
        a failure here must not end the thread, or finalizers would never be released)."""
        if self._pending_stale:
            self.remove_stale_finalizers()
            self._pending_stale = False
        if self._pending_seed:
            self.seed()
            self._pending_seed = False

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._api is not None:
            self._api.close()
            self._api = None

    _pending_stale = False
    _pending_seed = False

    def _run(self) -> None:
        next_tick = next_release = next_setup = 0.0
        setup_backoff = Backoff(SETUP_RETRY_FIRST_S, SETUP_RETRY_CAP_S)
        while not self._stop.is_set():
            if (self._pending_stale or self._pending_seed) and time.monotonic() >= next_setup:
                try:
                    self._setup()
                except Exception as exc:  # noqa: BLE001 - retried with backoff; the thread lives on
                    self.counts["setup_errors"] = self.counts.get("setup_errors", 0) + 1
                    delay = setup_backoff.next(exc.retry_after if isinstance(exc, ke.KubeError) else None)
                    log.warning("cleanup policy: start-up (stale finalizers, due runs) failed, retrying in %.0f s: %s",
                                delay, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                    _reset_db(self.history)
                    next_setup = time.monotonic() + delay
            if not self.enabled and not (self._pending_stale or self._pending_seed):
                return  # nothing else to do without --delete-after/--finalizers
            try:
                obj = self._fin_q.get(timeout=0.2)
            except queue.Empty:
                obj = None
            if not self.enabled:
                continue
            try:
                if obj is not None:
                    self.handle_finalizer(obj, self.clock())
                mono = time.monotonic()
                if self.settings.cleanup.delete_after_s is not None and mono >= next_tick:
                    next_tick = mono + self.tick_s
                    self.tick(self.clock())
                if self.settings.cleanup.finalizers and mono >= next_release:
                    next_release = mono + self.release_list_s
                    self.release_due(self.clock())
            except Exception as exc:  # noqa: BLE001 - the policy never stops the watcher
                log.warning("cleanup policy: %s", exc)
                _reset_db(self.history)

    # --- the hook ------------------------------------------------------------------------

    def on_stored(self, runs: Iterable[StoredRun]) -> None:
        """Called after a batch of runs is committed to the history (writer thread: no network)."""
        after = self.settings.cleanup.delete_after_s
        for run in runs:
            info, obj = run.info, run.obj
            md = _md(obj)
            if after is not None and not md.get("ownerReferences") and not md.get("deletionTimestamp"):
                if info.final and self.selector(info.labels):
                    end = info.end or int(self.clock())
                    with self._mu:
                        self._due.setdefault(info.uid, end + after)
            if self.settings.cleanup.finalizers:
                try:
                    self._fin_q.put_nowait(obj)
                except queue.Full:  # the periodic release_due and the next event catch up
                    pass

    def seed(self) -> int:
        """Runs already stored final and still in the cluster (start-up): their due times."""
        after = self.settings.cleanup.delete_after_s
        if after is None:
            return 0
        n = 0
        for kind in kinds.RUN_KIND_NAMES:
            for uid in self.history.in_cluster_uids(kind, self.cluster, self.settings.cluster.namespaces or None):
                rec = self.history.get_record(uid=uid, cluster=self.cluster)
                if rec is None or not rec.final or not rec.top_level:
                    continue
                obj = self.history.record_object(rec.id) or {}
                if self.selector({str(k): str(v) for k, v in (_md(obj).get("labels") or {}).items()}):
                    with self._mu:
                        self._due.setdefault(uid, (rec.end or int(self.clock())) + after)
                    n += 1
        return n

    # --- delete-after ------------------------------------------------------------------------

    def due(self) -> dict[str, float]:
        with self._mu:
            return dict(self._due)

    def tick(self, now: float) -> list[Outcome]:
        """Delete the runs that are due and fully stored; the others are looked at again later."""
        with self._mu:
            ready = [u for u, t in self._due.items() if t <= now]
        if not ready:
            self.outcomes = []
            return []
        targets, by_record = [], {}
        for uid in ready:
            rec = self.history.get_record(uid=uid, cluster=self.cluster)
            if rec is None:
                with self._mu:
                    self._due.pop(uid, None)
                continue
            targets.append(RecordTarget(rec.id))
            by_record[rec.id] = uid
        p = plan(self.history, targets, self.cluster, now, require_logs=self.settings.watch.capture_logs,
                 require_events=self.settings.watch.capture_events)
        for item in p.items:
            if isinstance(item, Skipped):
                uid = item.run.uid
                with self._mu:
                    if item.reason == GONE or item.reason.startswith("stored for cluster") or item.reason == "not stored":
                        self._due.pop(uid, None)
                    elif uid in self._due:
                        self._due[uid] = now + RETRY_S
        out = execute(p, self._api_client(), read_only=self.settings.read_only, history=self.history)
        with self._mu:
            for o in out:
                if o.result in (CONFLICT, UNSTORED):  # the newer version / the child is stored next, then deleted
                    self._due[o.run.uid] = now + min(RETRY_S, self.tick_s)
                else:
                    self._due.pop(o.run.uid, None)
        self.counts["deleted"] += sum(1 for o in out if o.result == DELETED)
        self.outcomes = out
        return out

    def _api_client(self) -> client.ApiClient:
        if self._api is None:
            self._api = self.api_client_factory()
        return self._api

    # --- finalizers --------------------------------------------------------------------------------

    def _patch(self, obj: dict, ops: list[dict]) -> dict | None:
        md = _md(obj)
        k = kinds.BY_NAME[obj["kind"]]
        try:
            with ke.api_call("patch", k.resource, md.get("namespace")):
                return self._co().patch_namespaced_custom_object(
                    k.group, k.version, md.get("namespace", ""), k.plural, md.get("name", ""), ops,
                    _content_type="application/json-patch+json", _request_timeout=TIMEOUT)
        except (ke.NotFound, ke.Conflict, ke.Invalid):  # gone, or changed since (a failed `test`): decided again later
            return None

    def _mark_finalizers_used(self) -> None:
        """Record in this database, before the first add, that its watcher puts finalizers on this cluster's runs."""
        if not self._marked:
            if self.history.get_value(finalizer_mark_key(self.cluster)) != "on":
                self.history.set_value(finalizer_mark_key(self.cluster), "on")
            self._marked = True

    _marked = False

    def add_finalizer(self, obj: dict) -> bool:
        ops = add_finalizer_patch(obj)
        if ops is None:
            return False
        self._mark_finalizers_used()
        if self._patch(obj, ops) is None:
            return False
        self.counts["finalizers_added"] += 1
        return True

    def release_finalizer(self, obj: dict) -> bool:
        """Remove our finalizer at the object's resourceVersion; on a race, re-read once and retry."""
        for attempt in range(3):
            ops = release_finalizer_patch(obj)
            if ops is None:
                return False
            if self._patch(obj, ops) is not None:
                self.counts["finalizers_released"] += 1
                return True
            md = _md(obj)
            k = kinds.BY_NAME[obj["kind"]]
            try:
                with ke.api_call("get", k.resource, md.get("namespace")):
                    obj = self._co().get_namespaced_custom_object(k.group, k.version, md.get("namespace", ""),
                                                                  k.plural, md.get("name", ""),
                                                                  _request_timeout=TIMEOUT)
            except ke.NotFound:
                return False
        return False

    def _stored_current(self, obj: dict) -> bool:
        md = _md(obj)
        got = self.history.stored_versions([md.get("uid", "")], self.cluster).get(md.get("uid", ""))
        return got is not None and got[0] == g.parse_rv(md.get("resourceVersion"))

    def _deleted_for(self, obj: dict, now: float) -> float | None:
        ts = g.parse_time(_md(obj).get("deletionTimestamp"))
        return None if ts is None else now - ts

    def handle_finalizer(self, obj: dict, now: float) -> str:
        """Add, release or leave our finalizer on one run; returns what it did (for tests and logs)."""
        md = _md(obj)
        waited = self._deleted_for(obj, now)
        final = g.status_of(obj).final
        if has_finalizer(obj):
            stored = self._stored_current(obj)
            if waited is not None and stored:
                return "released (stored)" if self.release_finalizer(obj) else "kept"
            if waited is None and final and stored:
                return "released (final state stored)" if self.release_finalizer(obj) else "kept"
            if waited is not None and waited >= self.deadline_s:
                if self.release_finalizer(obj):
                    self.counts["released_at_deadline"] += 1
                    return "released (deadline)"
            return "kept"
        if self.settings.cleanup.finalizers and waited is None and not final and not md.get("deletionTimestamp"):
            return "added" if self.add_finalizer(obj) else "not added"
        return "nothing"

    def _list_ours(self) -> list[dict]:
        """Every run in scope carrying our finalizer (paged LIST; finalizers have no server-side selector)."""
        out: list[dict] = []
        scopes: list[str | None] = list(self.settings.cluster.namespaces) or [None]
        co = self._co()
        for kind in kinds.RUN_KINDS:
            for ns in scopes:
                cont = None
                while True:
                    kw: dict[str, Any] = {"limit": 500, "_preload_content": False, "_request_timeout": TIMEOUT}
                    if cont:
                        kw["_continue"] = cont
                    try:
                        with ke.api_call("list", kind.resource, ns):
                            r = list_runs(co, kind, ns, **kw)
                            data = json.loads(r.data)
                            r.release_conn()
                    except ke.NotFound:
                        break  # a kind this cluster does not serve (an older Tekton): none of ours there
                    for item in data.get("items") or []:
                        if has_finalizer(item):
                            item.setdefault("kind", kind.name)
                            out.append(item)
                    cont = (data.get("metadata") or {}).get("continue")
                    if not cont:
                        break
        return out

    def release_due(self, now: float) -> int:
        """Release runs being deleted whose last state is stored, or that waited past --store-deadline."""
        n = 0
        for obj in self._list_ours():
            if self._deleted_for(obj, now) is not None and self.handle_finalizer(obj, now).startswith("released"):
                n += 1
        return n

    def remove_stale_finalizers(self) -> int:
        """Start-up. With --finalizers on: release what is stored or overdue. Off: remove ours from every
        run, but only if this database says its watcher added them (then clear that mark); otherwise they
        belong to another watcher (a team's, on another database) and are left alone — without a LIST."""
        n = 0
        now = self.clock()
        if not self.settings.cleanup.finalizers:
            key = finalizer_mark_key(self.cluster)
            if self.history.get_value(key) != "on":
                return 0
            for obj in self._list_ours():
                n += 1 if self.release_finalizer(obj) else 0
            self.history.set_value(key, "off")
            log.info("cleanup policy: removed %d finalizer(s) left by an earlier watcher with --finalizers", n)
            return n
        for obj in self._list_ours():
            if self.handle_finalizer(obj, now).startswith("released"):
                n += 1
        return n


def _reset_db(history: History) -> None:
    """After an error: drop this thread's (maybe dead) database connection."""
    try:
        reset_connection(history.db)
    except Exception:  # noqa: BLE001
        pass
