"""The watcher service: start/stop the informers, the writer and the workers; a status snapshot.

`start()` checks everything a person can fix before any thread runs (kubeconfig and
context, the writer lease, API reachability, permission to list) and raises KubeError
with one line when something is wrong. The lease row (`watcher:<cluster>`) lets a TUI see
that a live headless watcher owns this history; it is renewed every few seconds and
released on stop.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from kubernetes import client

from tekton_results_tui import kinds
from tekton_results_tui.settings import Settings
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.annotator import Annotator
from tekton_results_tui.watcher.cleanup import Outcome, ProgressFn
from tekton_results_tui.watcher.cleanup_plan import CleanupPlan
from tekton_results_tui.watcher.cleanup_policy import CleanupPolicy
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.db_retry import release_connection, reset_connection, retrying_db
from tekton_results_tui.watcher.followups import FollowUps
from tekton_results_tui.watcher.informer import Informer
from tekton_results_tui.watcher.kube import KubeError, KubeTarget, check_reachable, list_runs, load_target
from tekton_results_tui.watcher.status import LIVE, OFF, RECONNECTING, STARTING, WatcherStatus
from tekton_results_tui.watcher.writer import Writer
from tekton_results_tui.watcher.writer_lease import lease_name

log = logging.getLogger(__name__)

StatusListener = Callable[[WatcherStatus], None]


class LeaseHeldError(KubeError):
    """Another live watcher holds the writer lease of this history (for this cluster)."""

    def __init__(self, holder: str, cluster: str) -> None:
        super().__init__(f"a watcher ({holder}) already writes this database for cluster {cluster!r}")
        self.holder = holder
        self.cluster = cluster


class WatcherService:
    """Kubernetes -> store for one cluster. Thread-safe status; start/stop from any thread."""

    def __init__(self, settings: Settings, history: History, *, target: KubeTarget | None = None,
                 lease_holder: str | None = None) -> None:
        w = settings.watch  # the tunables (timeouts, page and batch sizes, lease times): one default each there
        self.capture_retry_s = w.capture_retry_s
        self.settings, self.history = settings, history
        self._target = target
        self.read_timeout_s, self.connect_timeout_s = w.read_timeout_s, w.connect_timeout_s
        self.batch_max, self.batch_wait_s, self.queue_size = w.batch_max, w.batch_wait_s, w.queue_size
        self.aux_workers, self.backoff_cap_s, self.page_size = w.aux_workers, w.backoff_cap_s, w.page_size
        self.lease_ttl_s, self.lease_renew_s = w.lease_ttl_s, w.lease_renew_s
        self.holder = lease_holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.counters = Counters()
        self._mu = threading.Lock()
        self._state = OFF
        self._reason: str | None = "not started"
        self._last_error: str | None = None
        self._informers: list[Informer] = []
        self._live: dict[str, bool] = {}
        self._writer: Writer | None = None
        self._aux: FollowUps | None = None
        self._annotator: Annotator | None = None
        self._policy: CleanupPolicy | None = None
        self._annotate = settings.watch.annotate
        self._stop = threading.Event()
        self._lease_thread: threading.Thread | None = None
        self._lease_held = False
        self._listeners: list[StatusListener] = []
        self._cluster = settings.cluster.cluster_name or ""
        self._started = False

    # --- identity ---------------------------------------------------------------------

    @property
    def target(self) -> KubeTarget:
        if self._target is None:
            self._target = load_target(self.settings.cluster.kubeconfig, self.settings.cluster.context)
            if not self._cluster:
                self._cluster = self._cluster_for(self._target)
        return self._target

    @staticmethod
    def _cluster_for(t: KubeTarget) -> str:
        if t.in_cluster:
            return t.server.split("://", 1)[-1]
        return t.context or t.server

    @property
    def cluster(self) -> str:
        """The cluster name stored with every row: --cluster-name, else the context name."""
        if not self._cluster:
            self._cluster = self._cluster_for(self.target)
        return self._cluster

    def add_listener(self, fn: StatusListener) -> None:
        """fn(status) is called (on a watcher thread) whenever the state or its reason changes."""
        self._listeners.append(fn)

    # --- start / stop -------------------------------------------------------------------

    def start(self) -> None:
        """Check, then run. Raises KubeError (LeaseHeldError included) with one line when it cannot."""
        if self._started:
            return
        target = self.target  # KubeError: no kubeconfig, bad context
        cluster = self.cluster
        self._set_state(STARTING, f"connecting to {target.server}")
        # retried on a fresh connection: after a database restart this thread's may be dead
        if not retrying_db(self.history.db, lambda: self._take_lease(cluster, target)):
            cur = self.history.lease(lease_name(cluster)) or {}
            self._set_state(OFF, "another watcher owns this database")
            raise LeaseHeldError(str(cur.get("holder") or "unknown"), cluster)
        self._lease_held = True
        try:
            self._start_holding_lease(target, cluster)
        except BaseException as exc:
            # every start failure lets go of the lease and of whatever already runs
            self._abort_start()
            if isinstance(exc, ValueError):  # a bad setting (e.g. --delete-selector): one line, not a traceback
                self._set_state(OFF, str(exc))
                raise KubeError(str(exc)) from None
            self._set_state(OFF, str(exc) if isinstance(exc, KubeError) else f"cannot start: {exc!r}")
            raise
        self._started = True

    def _abort_start(self) -> None:
        try:
            self.stop(timeout=2.0)
        except Exception:  # noqa: BLE001 - best effort; the lease goes below in any case
            log.exception("watcher: cleaning up a failed start")
        self._release_lease()

    def _start_holding_lease(self, target: KubeTarget, cluster: str) -> None:
        check_reachable(target)
        self._probe(target)
        self._stop.clear()
        s = self.settings.watch
        q: queue.Queue[Any] = queue.Queue(maxsize=self.queue_size)
        if s.annotate:
            self._annotator = Annotator(target, self.counters, on_forbidden=self._patch_forbidden)
        if s.annotate or s.capture_logs or s.capture_events:
            self._aux = FollowUps(target, self.history, cluster, q, self.counters, self._annotator,
                                  workers=self.aux_workers, log_cap_bytes=s.log_cap_bytes,
                                  capture_retry_s=self.capture_retry_s)
        self._policy = None
        if not self.settings.read_only and not self.history.read_only:
            self._policy = CleanupPolicy(self.settings, self.history, target.new_api_client, cluster)
        self._writer = Writer(self.history, cluster, q, self.counters, self._aux, annotator=self._annotator,
                              batch_max=self.batch_max, batch_wait_s=self.batch_wait_s, want_logs=s.capture_logs,
                              want_events=s.capture_events, on_error=self._db_error,
                              on_committed=self._policy.on_stored if self._policy is not None else None)
        scopes: list[str | None] = list(self.settings.cluster.namespaces) or [None]  # one informer per scope
        for kind in kinds.RUN_KINDS:
            for ns in scopes:
                inf = Informer(kind, ns, target, q, self.counters, self._informer_state,
                               label_selector=s.label_selector, watch_timeout_s=s.watch_timeout_s,
                               read_timeout_s=self.read_timeout_s, connect_timeout_s=self.connect_timeout_s,
                               relist_interval_s=s.relist_interval_s, backoff_cap_s=self.backoff_cap_s,
                               page_size=self.page_size)
                self._informers.append(inf)
                self._live[inf.name] = False
        self._writer.on_dead = self._writer_died
        self._writer.start()
        if self._aux is not None:
            self._aux.start()
        for inf in self._informers:
            inf.start()
        if self._policy is not None:
            self._policy.start()  # clears stale finalizers; its thread runs only with --delete-after/--finalizers
        self._lease_thread = threading.Thread(target=self._renew_lease, name="watcher-lease", daemon=True)
        self._lease_thread.start()

    def _take_lease(self, cluster: str, target: KubeTarget) -> bool:
        """Take the writer lease: free, expired, ours, or held by a process of this host that died (kill -9,
        even while a zombie) — the store judges; this only says whose lease it took over."""
        before = self.history.lease(lease_name(cluster))
        if not self.history.acquire_lease(lease_name(cluster), self.holder, self.lease_ttl_s,
                                          info={"cluster": cluster, "server": target.server}):
            return False
        if before is not None and before["holder"] != self.holder:
            why = "its process is gone" if before["holder_dead"] else "it had expired"
            log.warning("watcher: took over the writer lease of %s (%s)", before["holder"], why)
        return True

    def _probe(self, target: KubeTarget) -> None:
        """LIST with limit=1 per kind and scope: a 403 becomes one line naming the verb and resource. A kind
        the server does not serve (an older Tekton without CustomRuns) is left to its informer, which says
        so; none served at all means Tekton is not installed."""
        api = target.new_api_client()
        co = client.CustomObjectsApi(api)
        not_served: list[str] = []
        try:
            for kind in kinds.RUN_KINDS:
                for ns in list(self.settings.cluster.namespaces) or [None]:
                    kw: dict[str, Any] = {"limit": 1, "_preload_content": False,
                                          "_request_timeout": (self.connect_timeout_s, 10.0)}
                    if self.settings.watch.label_selector:  # a bad selector is a 400 here, said in one line
                        kw["label_selector"] = self.settings.watch.label_selector
                    try:
                        with ke.api_call("list", kind.resource, ns, target.server):
                            r = list_runs(co, kind, ns, **kw)
                            r.drain_conn()
                            r.release_conn()
                    except ke.BadRequest as exc:
                        if self.settings.watch.label_selector:
                            raise KubeError(f"--label-selector {self.settings.watch.label_selector!r} is not valid: "
                                            f"{exc.detail}") from None
                    except ke.NotFound:
                        not_served.append(kind.resource)
                        break
                    except (ke.Unauthorized, ke.Forbidden, ke.Unreachable) as exc:
                        raise exc.with_traceback(None) from None
                    except ke.ApiError:
                        pass  # 429/5xx: transient; the informers retry with backoff
                    except Exception as exc:  # noqa: BLE001
                        raise ke.Unreachable(ke.describe(exc, "list", kind.resource, ns, target.server)) from None
        finally:
            api.close()
        if len(not_served) == len(kinds.RUN_KINDS):
            raise KubeError(f"{', '.join(not_served)} not found on {target.server}: is Tekton installed?")
        # a kind some are served without: its informer says so (once) and looks for it again now and then

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching, flush the pending batch, release the lease. Returns within ~timeout."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        if self._policy is not None:
            self._policy.stop(1.0)
        for inf in self._informers:
            inf.stop()
        for inf in self._informers:
            inf.join(max(0.05, min(1.5, deadline - time.monotonic())))
        if self._aux is not None:
            self._aux.stop(max(0.05, min(1.0, deadline - time.monotonic())))
        elif self._annotator is not None:
            self._annotator.close()
        if self._writer is not None:
            self._writer.stop(max(0.5, deadline - time.monotonic()))
        if self._lease_thread is not None:
            self._lease_thread.join(0.5)
        self._release_lease()
        self._informers = []
        self._started = False
        self._set_state(OFF, "stopped")

    def _release_lease(self) -> None:
        if self._lease_held:
            self._lease_held = False
            try:
                self.history.release_lease(lease_name(self.cluster), self.holder)
            except Exception as exc:  # noqa: BLE001 - the lease expires by itself
                reset_connection(self.history.db)
                log.warning("watcher: releasing the lease failed: %s", exc)

    def _renew_lease(self) -> None:
        try:
            self._renew_lease_loop()
        finally:
            release_connection(self.history.db)

    def _renew_lease_loop(self) -> None:
        while not self._stop.wait(self.lease_renew_s):
            try:
                if not self.history.acquire_lease(lease_name(self.cluster), self.holder, self.lease_ttl_s,
                                                  info={"cluster": self.cluster}):
                    cur = self.history.lease(lease_name(self.cluster)) or {}
                    self._db_error(f"the writer lease was taken by {cur.get('holder')}")
            except Exception as exc:  # noqa: BLE001 - the database may be down for a moment
                reset_connection(self.history.db)
                self._db_error(f"renewing the writer lease: {str(exc).splitlines()[0] if str(exc) else exc!r}")

    # --- state ----------------------------------------------------------------------------

    def _informer_state(self, inf: Informer, live: bool, reason: str | None) -> None:
        with self._mu:
            if self._stop.is_set():
                return
            self._live[inf.name] = live
            if inf.last_error and not live:
                self._last_error = inf.last_error
            all_live = all(self._live.values())
            absent = [i.absent for i in self._informers if i.absent]
        if self._writer_dead():
            return  # stays OFF with the writer's reason
        if all_live:
            self._set_state(LIVE, "; ".join(dict.fromkeys(absent)) or None)
        elif not live:
            self._set_state(RECONNECTING, f"{inf.name}: {reason}" if reason else inf.name)

    def _writer_died(self, message: str) -> None:
        """The writer thread ended on an unexpected error: nothing is stored any more; say so (state OFF:
        /healthz fails, so an orchestrator restarts a headless watcher)."""
        with self._mu:
            self._last_error = message
        self._set_state(OFF, message)

    def _writer_dead(self) -> bool:
        w = self._writer
        return w is not None and w.dead is not None

    def _patch_forbidden(self, message: str) -> None:
        self._annotate = False  # the annotator has stopped patching; the status says so
        with self._mu:
            self._last_error = message
        log.warning("watcher: %s", message)
        self._notify()

    def _db_error(self, message: str) -> None:
        with self._mu:
            self._last_error = message

    def _set_state(self, state: str, reason: str | None) -> None:
        with self._mu:
            if state == self._state and reason == self._reason:
                return
            self._state, self._reason = state, reason
        self._notify()

    def _notify(self) -> None:
        if not self._listeners:
            return
        st = self.status()
        for fn in list(self._listeners):
            try:
                fn(st)
            except Exception:  # noqa: BLE001
                log.exception("watcher status listener")

    def status(self) -> WatcherStatus:
        """A copy, safe to read from any thread."""
        t = self._target
        with self._mu:
            state, reason, last_error = self._state, self._reason, self._last_error
        scope = "ns: " + ", ".join(self.settings.cluster.namespaces) if self.settings.cluster.namespaces else "all namespaces"
        w = self._writer
        backlog = (w.backlog if w is not None and self._started else 0)
        counts = self.counters.snapshot()
        if self._aux is not None:
            counts["aux_pending"] = self._aux.pending
        if w is not None and w.log_backfill.pending:
            counts["log_index_pending"] = w.log_backfill.pending  # step logs the log index has still to take in
        return WatcherStatus(
            state=state, reason=reason, context=t.context if t else self.settings.cluster.context, cluster=self._cluster,
            server=t.server if t else None, scope=scope, connected=state == LIVE,
            last_event_time=self.counters.last_event_time, events_per_s=self.counters.rate(), backlog=backlog,
            counts=counts, last_error=last_error, annotate=self._annotate,
        )

    def wait_idle(self, timeout: float) -> bool:
        """Until the writer has drained everything queued so far (for tests and tools)."""
        w = self._writer
        if w is None:
            return True
        return w.idle.wait(timeout)

    # --- calls for the TUI ------------------------------------------------------------------

    def read_pod_log(self, namespace: str, pod: str, container: str, limit_bytes: int = 1_000_000) -> str:
        """A step's live log, for the TUI's log pane; KubeError in words when it cannot be read."""
        api = self.target.new_api_client()
        try:
            with ke.api_call("get", "pods/log", namespace, self.target.server):
                resp = client.CoreV1Api(api).read_namespaced_pod_log(
                    pod, namespace, container=container, limit_bytes=limit_bytes, _preload_content=False,
                    _request_timeout=(self.connect_timeout_s, 30.0))
                data = resp.data
                resp.release_conn()
            return data.decode("utf-8", errors="replace")
        except ke.NotFound:
            raise KubeError(f"pod {namespace}/{pod} is gone: its live log cannot be read") from None
        except ke.BadRequest:
            raise KubeError(f"container {container} of pod {namespace}/{pod} has not started") from None
        except KubeError as exc:
            raise exc.with_traceback(None) from None
        except Exception as exc:  # noqa: BLE001
            raise ke.Unreachable(ke.describe(exc, "get", "pods/log", namespace, self.target.server)) from None
        finally:
            api.close()

    def delete_runs(self, plan: CleanupPlan, progress_cb: ProgressFn | None = None,
                    should_stop: Callable[[], bool] | None = None) -> Sequence[Outcome]:
        """Delete a cleanup plan's runs from this cluster (the one deletion path: watcher/cleanup.py).

        Runs deleted are marked gone in the history at once (the DELETED events would, a moment later)."""
        from tekton_results_tui.watcher.cleanup import delete_runs

        return delete_runs(self.target, plan, progress_cb, read_only=self.history.read_only, history=self.history,
                           should_stop=should_stop)

    def can_i(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        """SelfSubjectAccessReview: may this identity `verb` `resource` (e.g. "pipelineruns.tekton.dev")?"""
        res, _, group = resource.partition(".")
        sub = None
        if "/" in res:
            res, sub = res.split("/", 1)
        attrs = client.V1ResourceAttributes(verb=verb, resource=res, group=group or None, namespace=namespace,
                                            subresource=sub)
        body = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs))
        api = self.target.new_api_client()
        try:
            out = client.AuthorizationV1Api(api).create_self_subject_access_review(body, _request_timeout=(self.connect_timeout_s, 10.0))
            return bool(out.status and out.status.allowed)
        except Exception as exc:  # noqa: BLE001 - unknown means no
            log.warning("watcher: access review %s %s: %s", verb, resource, exc)
            return False
        finally:
            api.close()

    def can_delete_runs(self) -> bool:
        """May this identity delete every run kind in the watched scope (one review per kind and namespace)?"""
        scopes: list[str | None] = list(self.settings.cluster.namespaces) or [None]
        return all(self.can_i("delete", k.resource, ns) for k in kinds.RUN_KINDS for ns in scopes)
