"""The HTTP/1.1 front: routes Kubernetes API paths to the store, discovery, logs, events and authz
(the core/v1 routes are in core_routes.py).

Stdlib only (ThreadingHTTPServer, keep-alive). Every response is JSON or a `Status`;
nothing a client sends is trusted: bad JSON is 400, unknown paths 404.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tekton_results_tui.sim import discovery
from tekton_results_tui.sim.auth import REVIEW_PATHS, answer_review
from tekton_results_tui.sim.core_routes import CoreRoutes
from tekton_results_tui.sim.errors import ApiError, bad_request, expired, not_found
from tekton_results_tui.sim.patch import apply_patch
from tekton_results_tui.sim.selectors import field_match, parse_field_selector, parse_label_selector
from tekton_results_tui.sim.store import API_VERSION, GROUP, KINDS, SERVED, decode_continue, dumps, encode_continue
from tekton_results_tui.sim.watch import StreamClosed, WatchStream

if TYPE_CHECKING:
    from tekton_results_tui.sim.cluster import SimCluster

USER = "sim-user"
TOO_OLD_CONTINUE = ("The provided continue parameter is too old to display a consistent list result. You can start a new "
                    "list without the continue parameter, or use the continue token in this response to retrieve the "
                    "remainder of the results. Continuing with the provided token results in an inconsistent list - "
                    "objects that were created, modified, or deleted between the time the first chunk was returned "
                    "and now may show up in the list.")


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], cluster: "SimCluster") -> None:
        self.cluster = cluster
        self.open_sockets: set[socket.socket] = set()
        self.sock_lock = threading.Lock()
        super().__init__(addr, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sock_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sock_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.sock_lock:
            socks = list(self.open_sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(CoreRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimHTTPServer
    server_version = "sim-apiserver"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ---- plumbing ----
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        c = self.server.cluster
        c._record(self.command, self._path, self._query, self._verb, self._resource, self._ns, code)

    def _body(self) -> bytes:
        if self._body_read:
            return self._raw_body
        self._body_read = True
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n > 64 << 20:
            self.close_connection = True
            raise ApiError(413, "request entity too large", "RequestEntityTooLarge")
        self._raw_body = self.rfile.read(n) if n > 0 else b""
        return self._raw_body

    def _json_body(self) -> Any:
        raw = self._body()
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None

    def _reply(self, code: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, obj: Any) -> None:
        self._reply(code, obj if isinstance(obj, bytes) else dumps(obj))

    def _handle(self) -> None:
        url = urlsplit(self.path)
        self._path = url.path
        self._query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self._verb: str | None = None
        self._resource: str | None = None
        self._ns: str | None = None
        self._body_read = False
        self._raw_body = b""
        try:
            self._route()
        except ApiError as err:
            if self.command in ("POST", "PUT", "PATCH", "DELETE") and not self._body_read:
                try:
                    self._body()
                except Exception:  # noqa: BLE001
                    self.close_connection = True
            self._reply(err.code, err.body(), headers=err.headers)
        except (BrokenPipeError, ConnectionResetError, StreamClosed):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - a bug here is a 500 Status, like the real server
            try:
                self._reply(500, ApiError(500, f"Internal error occurred: {exc!r}", "InternalError").body())
            except OSError:
                self.close_connection = True

    # ---- routing ----
    def _route(self) -> None:
        c = self.server.cluster
        parts = [p for p in self._path.split("/") if p]
        m = self.command
        if m == "GET" and self._path in ("/version", "/version/"):
            self._verb = "get"
            return self._json(200, discovery.VERSION_INFO)
        if m == "GET" and parts == ["api"]:
            self._verb = "get"
            return self._json(200, discovery.api_versions())
        if m == "GET" and parts == ["api", "v1"]:
            self._verb = "get"
            return self._json(200, discovery.core_resources())
        if m == "GET" and parts == ["apis"]:
            self._verb = "get"
            return self._json(200, discovery.api_groups())
        if m == "GET" and len(parts) == 2 and parts[0] == "apis":
            g = discovery.api_group(parts[1])
            if g is not None:
                self._verb = "get"
                return self._json(200, g)
        tekton = len(parts) >= 3 and parts[:2] == ["apis", GROUP] and parts[2] in SERVED
        if m == "GET" and tekton and len(parts) == 3:
            self._verb = "get"
            return self._json(200, discovery.tekton_resources(parts[2]))
        if m == "GET" and parts == ["apis", "authorization.k8s.io", "v1"]:
            self._verb = "get"
            return self._json(200, discovery.authz_resources())
        if parts == ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"] and m == "POST":
            self._verb, self._resource = "create", "selfsubjectaccessreviews"
            self._gate(None)
            return self._ssar()
        if m == "POST" and len(parts) == 4 and parts[0] == "apis" and parts[2] == "v1" and (parts[1], parts[3]) in REVIEW_PATHS:
            return answer_review(self, parts[1], parts[3])
        if tekton:
            return self._runs(parts[2], parts[3:])
        if parts[:2] == ["api", "v1"]:
            return self._core(parts[2:])
        raise ApiError(404, "the server could not find the requested resource", "NotFound", {})

    def _gate(self, name: str | None, group: str = "") -> None:
        """Armed HTTP faults first, then RBAC-style forbids, as the apiserver's filters order them."""
        c = self.server.cluster
        hit = c.faults.claim_http(self._verb, self._resource)
        if hit is not None:
            code, retry = hit
            msg = {429: "Too many requests, please try again later.", 500: "Internal error occurred: injected fault",
                   503: "The server is currently unable to handle the request", 410: "The resourceVersion for the provided list is too old.",
                   504: "Timeout: request did not complete within the allotted timeout"}.get(code, f"injected error {code}")
            details: dict[str, Any] | None = None
            headers: dict[str, str] = {}
            if retry is not None:
                details = {"retryAfterSeconds": int(retry) if float(retry).is_integer() else retry}
                headers["Retry-After"] = str(int(retry) if float(retry).is_integer() else retry)
            raise ApiError(code, msg, None, details, headers)
        res = self._resource or ""
        if c.faults.forbidden(self._verb or "", res, self._ns):
            base = res.split("/")[0]
            qual = f"{base}.{group}" if group else base
            where = f'in the namespace "{self._ns}"' if self._ns else "at the cluster scope"
            who = f'{qual} "{name}"' if name else qual
            raise ApiError(403, f'{who} is forbidden: User "{USER}" cannot {self._verb} resource "{res}" in API group "{group}" {where}',
                           "Forbidden", {**({"name": name} if name else {}), "group": group, "kind": base})

    def _ssar(self) -> None:
        c = self.server.cluster
        body = self._json_body()
        self._body_read = True
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise bad_request("SelfSubjectAccessReview: spec is required")
        ra = body["spec"].get("resourceAttributes") or {}
        res = ra.get("resource", "") + (f"/{ra['subresource']}" if ra.get("subresource") else "")
        denied = c.faults.forbidden(ra.get("verb", ""), res, ra.get("namespace") or None)
        status: dict[str, Any] = {"allowed": not denied}
        if not denied:
            status["reason"] = f'RBAC: allowed by ClusterRoleBinding "sim-admin" of ClusterRole "cluster-admin" to User "{USER}"'
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": body["spec"], "status": status}
        self._json(201, out)

    # ---- tekton runs ----
    def _runs(self, version: str, rest: list[str]) -> None:
        c = self.server.cluster
        store = c.store
        ns: str | None = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if not rest or rest[0] not in SERVED[version] or len(rest) > 3 or (len(rest) == 3 and rest[2] != "status"):
            raise ApiError(404, "the server could not find the requested resource", "NotFound", {})
        kind = rest[0]
        name = rest[1] if len(rest) >= 2 else None
        sub = "status" if len(rest) == 3 else None
        self._ns = ns
        self._resource = kind + ("/status" if sub else "")
        m = self.command
        q = self._query
        if name is None:
            if m == "GET":
                self._verb = "watch" if q.get("watch") in ("true", "1") else "list"
                self._gate(None, GROUP)
                return self._watch(kind, ns) if self._verb == "watch" else self._list(kind, ns)
            if m == "POST" and ns is not None:
                self._verb = "create"
                self._gate(None, GROUP)
                body = self._json_body()
                self._body_read = True
                if not isinstance(body, dict):
                    raise bad_request("the body of the request must be a JSON object")
                if body.get("kind") not in (None, KINDS[kind]) or body.get("apiVersion") not in (None, API_VERSION[kind]):
                    raise bad_request(f"the API version in the data ({body.get('apiVersion')}) does not match the expected API version ({API_VERSION[kind]})")
                md = body.setdefault("metadata", {})
                if not isinstance(md, dict):
                    raise bad_request("metadata must be an object")
                if md.get("namespace") not in (None, "", ns):
                    raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
                md["namespace"] = ns
                if ns not in store.namespaces:
                    raise not_found("namespaces", "", ns)
                return self._json(201, store.create(kind, body, keep_status=False))
            self._verb = {"DELETE": "deletecollection"}.get(m, m.lower())
            raise ApiError(405, f"the server does not allow this method on the requested resource", "MethodNotAllowed", {})
        if ns is None:
            raise ApiError(404, "the server could not find the requested resource", "NotFound", {})
        if m == "GET":
            self._verb = "get"
            self._gate(name, GROUP)
            e = store.get(kind, ns, name)
            if e is None:
                raise not_found(kind, GROUP, name)
            if self._wants_table():
                return self._json(200, discovery.table([e.obj()], {"resourceVersion": str(e.rv)}, c.clock()))
            return self._json(200, e.data)
        if m == "PUT":
            self._verb = "update"
            self._gate(name, GROUP)
            body = self._json_body()
            self._body_read = True
            if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
                raise bad_request("the body of the request must be a JSON object with metadata")
            if body["metadata"].get("name") != name:
                raise bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (body["metadata"].get("name"), name))
            body["metadata"]["namespace"] = ns
            return self._json(200, store.update(kind, body, subresource=sub))
        if m == "PATCH":
            self._verb = "patch"
            self._gate(name, GROUP)
            raw = self._body()
            self._body_read = True
            with store.lock:
                e = store.get(kind, ns, name)
                if e is None:
                    raise not_found(kind, GROUP, name)
                cur = e.obj()
                new = apply_patch(self.headers.get("Content-Type") or "", cur, raw)
                md = new.get("metadata")
                if not isinstance(md, dict):
                    raise bad_request("metadata must be an object")
                if md.get("name") != name or (md.get("namespace") or ns) != ns:
                    raise bad_request("metadata.name and metadata.namespace cannot be changed by a patch")
                if md.get("uid") != cur["metadata"]["uid"]:
                    raise ApiError(409, f'Operation cannot be fulfilled on {kind}.{GROUP} "{name}": Precondition failed: UID in precondition: {md.get("uid")}, UID in object meta: {cur["metadata"]["uid"]}', "Conflict",
                                   {"name": name, "group": GROUP, "kind": kind})
                return self._json(200, store.update(kind, new, subresource=sub))
        if m == "DELETE" and sub is None:
            self._verb = "delete"
            self._gate(name, GROUP)
            raw = self._body()
            self._body_read = True
            opts: Any = {}
            if raw.strip():
                try:
                    opts = json.loads(raw)
                except ValueError as exc:
                    raise bad_request(f"json parse error: {exc}") from None
                if not isinstance(opts, dict):
                    raise bad_request("DeleteOptions must be a JSON object")
            prop = opts.get("propagationPolicy") or self._query.get("propagationPolicy") or "Background"
            if opts.get("orphanDependents") is True:
                prop = "Orphan"
            if prop not in ("Background", "Foreground", "Orphan"):
                raise ApiError(422, f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{prop}": supported values: "Foreground", "Background", "Orphan", "nil"', "Invalid")
            if opts.get("dryRun") or self._query.get("dryRun"):
                e = store.get(kind, ns, name)
                if e is None:
                    raise not_found(kind, GROUP, name)
                return self._json(200, e.data)
            pre = opts.get("preconditions") if isinstance(opts.get("preconditions"), dict) else None
            return self._json(200, store.delete(kind, ns, name, prop, pre))
        self._verb = m.lower()
        raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed", {})

    def _wants_table(self) -> bool:
        acc = self.headers.get("Accept") or ""
        first = acc.split(",")[0]
        return "as=Table" in first

    def _selectors(self, q: dict[str, str]) -> Any:
        lp = parse_label_selector(q.get("labelSelector"))
        fs = parse_field_selector(q.get("fieldSelector"), ("metadata.name", "metadata.namespace"))
        if lp is None and not fs:
            return None

        def accept(key: tuple[str, str], e: Any) -> bool:
            if fs and not field_match(fs, {"metadata.name": key[1], "metadata.namespace": key[0]}):
                return False
            return lp is None or lp(e.labels)
        return accept

    def _list(self, kind: str, ns: str | None) -> None:
        c = self.server.cluster
        store = c.store
        q = self._query
        accept = self._selectors(q)
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise bad_request(f"invalid limit: {q.get('limit')}") from None
        if limit < 0:
            limit = 0
        rv_s, match, cont = q.get("resourceVersion"), q.get("resourceVersionMatch"), q.get("continue")
        start = None
        snapshot: int | None = None
        if cont:
            if rv_s:
                raise bad_request("specifying resource version is not allowed when using continue")
            snap, start = decode_continue(cont)
            if snap > 0:
                with store.lock:
                    if snap < store.min_valid_rv:
                        raise expired(TOO_OLD_CONTINUE, encode_continue(-1, start))
                snapshot = snap
        else:
            if match and not rv_s:
                raise bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
            if match not in (None, "", "Exact", "NotOlderThan"):
                raise bad_request(f'resourceVersionMatch: Unsupported value: "{match}"')
            if rv_s and rv_s != "0":
                try:
                    n = int(rv_s)
                except ValueError:
                    raise bad_request(f'invalid resource version "{rv_s}"') from None
                if n > store.rv:
                    raise ApiError(504, f"Too large resource version: {n}, current: {store.rv}", "Timeout",
                                   {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})
                if match == "Exact" or (not match and limit):
                    snapshot = n
            elif match == "Exact":
                raise bad_request("resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"")
        entries, snap, last, remaining = store.list_page(kind, ns, limit, start, snapshot, accept)
        meta: dict[str, Any] = {"resourceVersion": str(snap)}
        if last is not None:
            meta["continue"] = encode_continue(snap, last)
            if remaining is not None:
                meta["remainingItemCount"] = remaining
        if self._wants_table():
            return self._json(200, discovery.table([e.obj() for e in entries], meta, c.clock()))
        body = b"".join((b'{"apiVersion":"', API_VERSION[kind].encode(), b'","items":[', b",".join(e.data for e in entries),
                         b'],"kind":"', KINDS[kind].encode(), b'List","metadata":', dumps(meta), b"}"))
        self._json(200, body)

    def _watch(self, kind: str, ns: str | None) -> None:
        c = self.server.cluster
        q = self._query
        accept = self._selectors(q)
        rv_s = q.get("resourceVersion") or ""
        try:
            start = int(rv_s) if rv_s else None
        except ValueError:
            raise bad_request(f'invalid resource version "{rv_s}"') from None
        try:
            timeout = float(q.get("timeoutSeconds") or 1800)
        except ValueError:
            raise bad_request("invalid timeoutSeconds") from None
        store = c.store
        if start and start > store.rv:
            deadline = time.monotonic() + 3
            with store.cond:
                while store.rv < start and time.monotonic() < deadline:
                    store.cond.wait(0.1)
                if store.rv < start:
                    raise ApiError(504, f"Too large resource version: {start}, current: {store.rv}", "Timeout",
                                   {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()
        sock = self.connection

        def write(b: bytes) -> None:
            self.wfile.write(b)

        def abort() -> None:
            self.close_connection = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        stream = WatchStream(store, c.faults, kind, ns, accept, start, q.get("allowWatchBookmarks") in ("true", "1"),
                             c.bookmark_interval_s, timeout, write, abort, c._stopping)
        stream.run()
        if c._stopping.is_set():
            abort()
            return
        self.wfile.write(b"0\r\n\r\n")
