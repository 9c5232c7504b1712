"""One informer per resource (and namespace): paged LIST, then WATCH from its resourceVersion.

Why our own and not the client's SharedInformer/Watch: the first is broken for custom
objects, and we need exact control of what happens on each failure (DESIGN §5):
- clean end, dropped stream (ProtocolError) or read timeout -> WATCH again from the last
  resourceVersion seen (events and bookmarks);
- 410 Gone, as an ERROR event or as the HTTP status -> LIST again;
- a stream that delivered events and then dropped -> WATCH again at once; only connects that
  fail or end empty back off;
- a kind the server does not serve (404 on LIST: an older Tekton) -> said once, looked for
  again now and then, the other informers go on;
- other errors -> capped exponential backoff with jitter, honouring Retry-After;
- a full LIST every `relist_interval_s`; after each LIST a marker tells the writer which
  uids exist, so runs deleted while we were not watching are marked gone.
The thread only parses and enqueues; the writer thread does everything else.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from array import array
from collections.abc import Callable
from typing import Any

from kubernetes import client

from tekton_results_tui.kinds import RunKind
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.backoff import Backoff
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.kube import KubeTarget, list_runs
from tekton_results_tui.watcher.messages import Relisted, RunEvent, UidSet

log = logging.getLogger(__name__)

QUICK_END_S = 1.0  # a watch ending cleanly with no events sooner than this counts as a quick drop
ABSENT_RETRY_S = 300.0  # a kind the server does not serve (old Tekton) is looked for again this often


StateFn = Callable[["Informer", bool, str | None], None]  # (informer, live, reason)


class Informer:
    """LIST+WATCH one run kind in one scope on its own thread and ApiClient; items go to `out`."""

    def __init__(self, kind: RunKind, namespace: str | None, target: KubeTarget, out: "queue.Queue[Any]",
                 counters: Counters, on_state: StateFn, *, label_selector: str | None = None,
                 watch_timeout_s: int, read_timeout_s: float, connect_timeout_s: float,
                 relist_interval_s: float, backoff_cap_s: float, page_size: int) -> None:
        # the tunables come from settings.WatchSettings, which holds their one default
        self.kind, self.namespace, self.target = kind, namespace, target
        self.plural = kind.plural
        self.out, self.counters, self.on_state = out, counters, on_state
        self.label_selector = label_selector
        self.watch_timeout_s, self.read_timeout_s, self.connect_timeout_s = watch_timeout_s, read_timeout_s, connect_timeout_s
        self.relist_interval_s, self.page_size = relist_interval_s, page_size
        self.backoff = Backoff(cap=backoff_cap_s)
        self.rv: str | None = None  # last resourceVersion seen (events and bookmarks)
        self.absent: str | None = None  # why the server does not serve this kind (404 on LIST), while it does not
        self.stop_event = threading.Event()
        self._resp: Any = None
        self._delivered = 0  # lines (events and bookmarks) the current watch stream has delivered
        self._thread: threading.Thread | None = None
        self._api = target.new_api_client()
        self._co = client.CustomObjectsApi(self._api)
        self.name = f"{self.plural}@{namespace or '*'}"

    # --- life -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"informer-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask to stop and unblock a blocked read by shutting the stream's socket."""
        self.stop_event.set()
        resp = self._resp
        if resp is not None:
            _shutdown(resp)

    def join(self, timeout: float) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            alive = self._thread.is_alive()
            if not alive:
                self._api.close()
            return not alive
        return True

    # --- the loop ---------------------------------------------------------------------

    def _run(self) -> None:
        need_list = True
        last_list = 0.0
        quick_drops = 0  # watches in a row that failed or ended empty at once
        while not self.stop_event.is_set():
            try:
                if need_list or time.monotonic() - last_list >= self.relist_interval_s:
                    self.rv = self._list()
                    last_list = time.monotonic()
                    need_list = False
                    self.counters.add("relists")
                    self.backoff.reset()
                    if self.absent is not None:
                        log.warning("informer %s: %s is served now; watching it", self.name, self.kind.resource)
                        self.absent = None
                if self.stop_event.is_set():
                    break
                left = self.relist_interval_s - (time.monotonic() - last_list)
                began = time.monotonic()
                n = self._watch(max(1, int(min(self.watch_timeout_s, left + 1))))
                if n == 0 and time.monotonic() - began < QUICK_END_S and not self.stop_event.is_set():
                    # an empty stream closed at once (a proxy or LB cutting watches): a quick drop, not a
                    # clean end, or we would reconnect in a tight loop
                    self.counters.add("quick_ends")
                    quick_drops += 1
                    if quick_drops > 2:
                        self._state(False, f"watch ended at once with no events; resuming from resourceVersion {self.rv}")
                        self.stop_event.wait(self.backoff.next())
                    continue
                self.backoff.reset()  # a clean end: reconnect from self.rv at once
                quick_drops = 0
            except ke.Gone:
                if self.stop_event.is_set():
                    break
                self.counters.add("expired")
                need_list = True
                self._state(False, "410 Gone: resourceVersion too old, listing again")
            except ke.StreamBroken as exc:
                if self.stop_event.is_set():
                    break
                if self._verb != "watch" or self.rv is None:
                    self._error(str(exc), None)
                    continue
                # a dropped or stalled stream: reconnect from the last rv. One that delivered events was
                # working: reconnect at once (a pause could outlast the server's event window under a burst
                # and end in 410 and a relist); only streams that keep failing before any event back off.
                self.counters.add("reconnects")
                if self._delivered:
                    quick_drops = 0
                    self.backoff.reset()
                else:
                    quick_drops += 1
                what = "read timeout" if exc.timed_out else "stream dropped"
                self._state(False, f"{what}; resuming the watch from resourceVersion {self.rv}")
                if quick_drops > 2:
                    self.stop_event.wait(self.backoff.next())
            except ke.NotFound as exc:
                if self.stop_event.is_set():
                    break
                if self._verb != "list":
                    self._error(str(exc), None)
                    continue
                self._not_served(exc)
                need_list = True
            except ke.KubeError as exc:
                if self.stop_event.is_set():
                    break
                self._error(str(exc), exc.retry_after)
            except Exception as exc:  # noqa: BLE001 - keep watching through surprises; say what happened
                if self.stop_event.is_set():
                    break
                log.exception("informer %s", self.name)
                self._error(f"{self._verb} {self.kind.resource}: {type(exc).__name__}: {exc}", None)
        self._state(False, "stopped")

    _verb = "list"

    def _not_served(self, exc: ke.NotFound) -> None:
        """The server has no such resource (an older Tekton without CustomRuns): said once, then looked for
        again now and then. The other informers go on; this one does not hold the watcher out of LIVE."""
        if self.absent is None:
            self.absent = (f"{self.kind.resource} is not served by {self.target.server} "
                           f"({self.kind.name}s are not watched until it is)")
            log.warning("informer %s: %s", self.name, self.absent)
        self._state(True, self.absent)
        self.stop_event.wait(max(min(ABSENT_RETRY_S, self.relist_interval_s), 0.5))

    def _error(self, message: str, retry_after_s: float | None) -> None:
        self.counters.add("errors")
        delay = self.backoff.next(retry_after_s)
        why = f"{message}; retrying in {delay:.1f} s" + (" (Retry-After)" if retry_after_s is not None else "")
        self._state(False, why, error=message)
        self.stop_event.wait(delay)

    def _state(self, live: bool, reason: str | None, error: str | None = None) -> None:
        if error is not None:
            self.last_error = error
        self.on_state(self, live, reason)

    last_error: str | None = None

    def _put(self, item: RunEvent | Relisted) -> None:
        """Enqueue, blocking while the writer is behind (backpressure), but never past a stop."""
        while True:
            try:
                self.out.put(item, timeout=0.2)
                return
            except queue.Full:
                if self.stop_event.is_set():
                    raise _Stopped() from None

    def _call(self, **kw: Any) -> Any:
        if self.label_selector:
            kw["label_selector"] = self.label_selector
        return list_runs(self._co, self.kind, self.namespace, **kw)

    def _typed(self, obj: dict) -> dict:
        obj.setdefault("kind", self.kind.name)
        obj.setdefault("apiVersion", self.kind.api_version)
        return obj

    def _list(self) -> str:
        """A paged LIST; every item goes to the queue, then a Relisted marker. Returns the list's rv."""
        self._verb = "list"
        cont: str | None = None
        pages: list[array] = []  # the uids listed, as sorted hashes per page (UidSet): strings would grow with the cluster
        rv = "0"
        while True:
            kw: dict[str, Any] = {"limit": self.page_size, "_preload_content": False,
                                  "_request_timeout": (self.connect_timeout_s, max(self.read_timeout_s, 60.0))}
            if cont:
                kw["_continue"] = cont
            with ke.api_call("list", self.kind.resource, self.namespace, self.target.server):
                resp = self._call(**kw)
                try:
                    data = json.loads(resp.data)
                finally:
                    resp.release_conn()
            items = data.get("items") or []
            pages.append(UidSet.page(str((o.get("metadata") or {}).get("uid") or "") for o in items))
            for obj in items:
                if self.stop_event.is_set():
                    raise _Stopped()
                self._put(RunEvent(self._typed(obj)))
            if items:
                self.counters.events(len(items))
            md = data.get("metadata") or {}
            rv = str(md.get("resourceVersion") or rv)
            cont = md.get("continue") or None
            del data, items
            if not cont:
                break
        if not self.label_selector:
            # with a selector the list holds only matching runs, and the store cannot tell which stored runs
            # match (in_cluster_uids ignores labels): a relist says nothing about what left the cluster
            self._put(Relisted(self.kind, self.namespace, UidSet.merged(pages), _int_rv(rv)))
        return rv

    def _watch(self, timeout_s: int) -> int:
        """WATCH from self.rv until a clean end; returns the number of events. Raises on faults."""
        self._verb = "watch"
        self._delivered = 0
        with ke.api_call("watch", self.kind.resource, self.namespace, self.target.server):
            return self._stream(timeout_s)

    def _stream(self, timeout_s: int) -> int:
        resp = self._call(watch=True, resource_version=str(self.rv), allow_watch_bookmarks=True,
                          timeout_seconds=timeout_s, _preload_content=False,
                          _request_timeout=(self.connect_timeout_s, self.read_timeout_s))
        self._resp = resp
        n = 0
        try:
            if self.stop_event.is_set():
                return 0
            self._state(True, None)
            buf = b""
            for seg in resp.stream(amt=None, decode_content=False):
                buf += seg
                start = 0
                while True:
                    nl = buf.find(b"\n", start)
                    if nl < 0:
                        break
                    line = buf[start:nl]
                    start = nl + 1
                    if line.strip():
                        self._event(line)
                        n += 1
                        self._delivered = n
                buf = buf[start:]
                if self.stop_event.is_set():
                    break
            if buf.strip() and not self.stop_event.is_set():
                self._event(buf)
        finally:
            self._resp = None
            try:
                resp.release_conn()
            except Exception:  # noqa: BLE001
                pass
        return n

    def _still_there(self, obj: dict) -> bool:
        """With a label selector: does a DELETED run still exist (same uid)? Only a 404 (or another uid) is a
        deletion; when the GET fails otherwise, say it is still there (a wrong "gone" would be worse)."""
        md = obj.get("metadata") or {}
        k = self.kind
        try:
            with ke.api_call("get", k.resource, md.get("namespace"), self.target.server):
                live = self._co.get_namespaced_custom_object(k.group, k.version, md.get("namespace", ""), k.plural,
                                                             md.get("name", ""),
                                                             _request_timeout=(self.connect_timeout_s, 10.0))
        except ke.NotFound:
            return False
        except Exception as exc:  # noqa: BLE001
            log.warning("informer %s: checking a DELETED run: %s", self.name, exc)
            return True
        same = isinstance(live, dict) and (live.get("metadata") or {}).get("uid") == md.get("uid")
        if same:
            obj.clear()
            obj.update(self._typed(live))
        return same

    def _event(self, line: bytes) -> None:
        ev = json.loads(line)
        typ = ev.get("type")
        obj = ev.get("object") or {}
        if typ == "ERROR":
            raise ke.from_status(int(obj.get("code") or 0), str(obj.get("message") or obj.get("reason") or "error"),
                                 "watch", self.kind.resource)
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if typ == "BOOKMARK":
            if rv:
                self.rv = str(rv)
            self.counters.add("bookmarks")
            return
        self._typed(obj)
        if typ in ("ADDED", "MODIFIED"):
            self._put(RunEvent(obj))
        elif typ == "DELETED":
            # Kubernetes also sends DELETED when a run's labels stop matching the selector: it is still in
            # the cluster, so store its new state instead of marking it gone
            self._put(RunEvent(obj, deleted=not (self.label_selector and self._still_there(obj))))
        else:
            return
        self.counters.events(1)
        if rv:
            self.rv = str(rv)


def _int_rv(rv: str | None) -> int:
    try:
        return int(str(rv))
    except (TypeError, ValueError):
        return 0


class _Stopped(Exception):
    pass


def _shutdown(resp: Any) -> None:
    """Unblock a thread blocked reading this response: shut the socket down (as Watch.stop does)."""
    try:
        conn = getattr(resp, "connection", None) or getattr(resp, "_connection", None)
        sock = getattr(conn, "sock", None) if conn is not None else None
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # noqa: BLE001 - already closed is fine
        pass
    try:
        fn = getattr(resp, "shutdown", None)
        if fn is not None:
            fn()
    except Exception:  # noqa: BLE001
        pass
