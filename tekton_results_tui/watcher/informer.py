"""One informer per resource (and namespace): paged LIST, then WATCH from its resourceVersion.

Why our own and not the client's SharedInformer/Watch: the first is broken for custom
objects, and we need exact control of what happens on each failure (DESIGN §5):
- clean end, dropped stream (ProtocolError) or read timeout -> WATCH again from the last
  resourceVersion seen (events and bookmarks);
- 410 Gone, as an ERROR event or as the HTTP status -> LIST again;
- other errors -> capped exponential backoff with jitter, honouring Retry-After;
- a full LIST every `relist_interval_s`; after each LIST a marker tells the writer which
  uids exist, so runs deleted while we were not watching are marked gone.
The thread only parses and enqueues; the writer thread does everything else.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.kube import GROUP, PLURAL_KIND, VERSION, KubeTarget, describe, retry_after

log = logging.getLogger(__name__)

PAGE_SIZE = 500
QUICK_END_S = 1.0  # a watch ending cleanly with no events sooner than this counts as a quick drop
API_VERSION = f"{GROUP}/{VERSION}"


@dataclass
class Relisted:
    """Queue marker: a full LIST of `plural` in `namespace` (None = all) found exactly these uids."""

    plural: str
    namespace: str | None
    uids: set[str]
    rv: int = 0  # the list's resourceVersion: only runs stored at an older one may be marked gone


class WatchGone(Exception):
    """410: the resourceVersion is too old; LIST again."""


class WatchError(Exception):
    """An ERROR event other than 410."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Backoff:
    """Capped exponential backoff with full jitter; Retry-After is a floor."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self, retry_after_s: float | None = None) -> float:
        d = min(self.cap, self.base * (2 ** self.attempt)) * random.uniform(0.5, 1.0)
        self.attempt += 1
        if retry_after_s is not None:
            d = max(d, min(retry_after_s, 300.0))
        return d

    def reset(self) -> None:
        self.attempt = 0


StateFn = Callable[["Informer", bool, str | None], None]  # (informer, live, reason)


class Informer:
    """LIST+WATCH one resource in one scope on its own thread and ApiClient; items go to `out`."""

    def __init__(self, plural: str, namespace: str | None, target: KubeTarget, out: "queue.Queue[Any]",
                 counters: Counters, on_state: StateFn, *, label_selector: str | None = None,
                 watch_timeout_s: int = 300, read_timeout_s: float = 120.0, connect_timeout_s: float = 5.0,
                 relist_interval_s: float = 1800.0, backoff_cap_s: float = 30.0, page_size: int = PAGE_SIZE) -> None:
        self.plural, self.namespace, self.target = plural, namespace, target
        self.kind = PLURAL_KIND[plural]
        self.out, self.counters, self.on_state = out, counters, on_state
        self.label_selector = label_selector
        self.watch_timeout_s, self.read_timeout_s, self.connect_timeout_s = watch_timeout_s, read_timeout_s, connect_timeout_s
        self.relist_interval_s, self.page_size = relist_interval_s, page_size
        self.backoff = Backoff(cap=backoff_cap_s)
        self.rv: str | None = None  # last resourceVersion seen (events and bookmarks)
        self.stop_event = threading.Event()
        self._resp: Any = None
        self._thread: threading.Thread | None = None
        self._api = target.new_api_client()
        self._co = client.CustomObjectsApi(self._api)
        self.name = f"{plural}@{namespace or '*'}"

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
        quick_drops = 0
        while not self.stop_event.is_set():
            try:
                if need_list or time.monotonic() - last_list >= self.relist_interval_s:
                    self.rv = self._list()
                    last_list = time.monotonic()
                    need_list = False
                    self.counters.add("relists")
                    self.backoff.reset()
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
            except WatchGone:
                if self.stop_event.is_set():
                    break
                self.counters.add("expired")
                need_list = True
                self._state(False, "410 Gone: resourceVersion too old, listing again")
            except ApiException as exc:
                if self.stop_event.is_set():
                    break
                if exc.status == 410:
                    self.counters.add("expired")
                    need_list = True
                    self._state(False, "410 Gone: resourceVersion too old, listing again")
                    continue
                self._error(describe(exc, self._verb, self._resource_name(), self.namespace, self.target.server),
                            retry_after(exc))
            except WatchError as exc:
                if self.stop_event.is_set():
                    break
                self._error(f"watch {self._resource_name()}: ERROR event {exc}", None)
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError, socket.timeout,
                    ConnectionError) as exc:
                if self.stop_event.is_set():
                    break
                if self._verb == "watch" and self.rv is not None:
                    # a dropped or stalled stream: reconnect from the last rv; back off only if it keeps failing fast
                    self.counters.add("reconnects")
                    quick_drops += 1
                    what = "read timeout" if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout)) else "stream dropped"
                    self._state(False, f"{what}; resuming the watch from resourceVersion {self.rv}")
                    if quick_drops > 2:
                        self.stop_event.wait(self.backoff.next())
                    continue
                self._error(describe(exc, self._verb, self._resource_name(), self.namespace, self.target.server), None)
            except urllib3.exceptions.HTTPError as exc:  # connection refused, DNS, TLS: MaxRetryError etc.
                if self.stop_event.is_set():
                    break
                self._error(describe(exc, self._verb, self._resource_name(), self.namespace, self.target.server), None)
            except Exception as exc:  # noqa: BLE001 - keep watching through surprises; say what happened
                if self.stop_event.is_set():
                    break
                log.exception("informer %s", self.name)
                self._error(f"{self._verb} {self._resource_name()}: {type(exc).__name__}: {exc}", None)
        self._state(False, "stopped")

    _verb = "list"

    def _resource_name(self) -> str:
        return f"{self.plural}.{GROUP}"

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

    def _put(self, item: Any) -> None:
        """Enqueue, blocking while the writer is behind (backpressure), but never past a stop."""
        while True:
            try:
                self.out.put(item, timeout=0.2)
                return
            except queue.Full:
                if self.stop_event.is_set():
                    raise _Stopped() from None

    def _scope(self) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if self.label_selector:
            kw["label_selector"] = self.label_selector
        return kw

    def _call(self, **kw: Any) -> Any:
        kw.update(self._scope())
        if self.namespace:
            return self._co.list_namespaced_custom_object(GROUP, VERSION, self.namespace, self.plural, **kw)
        return self._co.list_cluster_custom_object(GROUP, VERSION, self.plural, **kw)

    def _list(self) -> str:
        """A paged LIST; every item goes to the queue, then a Relisted marker. Returns the list's rv."""
        self._verb = "list"
        cont: str | None = None
        uids: set[str] = set()
        rv = "0"
        while True:
            kw: dict[str, Any] = {"limit": self.page_size, "_preload_content": False,
                                  "_request_timeout": (self.connect_timeout_s, max(self.read_timeout_s, 60.0))}
            if cont:
                kw["_continue"] = cont
            resp = self._call(**kw)
            try:
                data = json.loads(resp.data)
            finally:
                resp.release_conn()
            items = data.get("items") or []
            for obj in items:
                if self.stop_event.is_set():
                    raise _Stopped()
                obj.setdefault("kind", self.kind)
                obj.setdefault("apiVersion", API_VERSION)
                uid = (obj.get("metadata") or {}).get("uid")
                if uid:
                    uids.add(uid)
                self._put(("upsert", obj))
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
            self._put(Relisted(self.plural, self.namespace, uids, _int_rv(rv)))
        return rv

    def _watch(self, timeout_s: int) -> int:
        """WATCH from self.rv until a clean end; returns the number of events. Raises on faults."""
        self._verb = "watch"
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
        try:
            live = self._co.get_namespaced_custom_object(GROUP, VERSION, md.get("namespace", ""), self.plural,
                                                         md.get("name", ""),
                                                         _request_timeout=(self.connect_timeout_s, 10.0))
        except ApiException as exc:
            if exc.status == 404:
                return False
            log.warning("informer %s: checking a DELETED run: %s", self.name,
                        describe(exc, "get", self._resource_name(), md.get("namespace"), self.target.server))
            return True
        except Exception as exc:  # noqa: BLE001
            log.warning("informer %s: checking a DELETED run: %s", self.name, exc)
            return True
        same = isinstance(live, dict) and (live.get("metadata") or {}).get("uid") == md.get("uid")
        if same:
            obj.clear()
            obj.update(live)
            obj.setdefault("kind", self.kind)
            obj.setdefault("apiVersion", API_VERSION)
        return same

    def _event(self, line: bytes) -> None:
        ev = json.loads(line)
        typ = ev.get("type")
        obj = ev.get("object") or {}
        if typ == "ERROR":
            code = int(obj.get("code") or 0)
            if code == 410:
                raise WatchGone()
            raise WatchError(code, str(obj.get("message") or obj.get("reason") or "error"))
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if typ == "BOOKMARK":
            if rv:
                self.rv = str(rv)
            self.counters.add("bookmarks")
            return
        obj.setdefault("kind", self.kind)
        obj.setdefault("apiVersion", API_VERSION)
        if typ in ("ADDED", "MODIFIED"):
            self._put(("upsert", obj))
        elif typ == "DELETED":
            if self.label_selector and self._still_there(obj):
                # Kubernetes also sends DELETED when a run's labels stop matching the selector: it is still in
                # the cluster, so store its new state instead of marking it gone
                self._put(("upsert", obj))
            else:
                self._put(("delete", obj))
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
