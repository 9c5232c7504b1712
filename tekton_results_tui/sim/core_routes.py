"""The core/v1 routes the product uses: namespaces, events (field selectors), pods and pods/log.

A mixin of the request handler in server.py: it reads the request state the handler set up
(`_query`, `_verb`, `_resource`, `_ns`) and answers through its `_json`/`_reply`.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from tekton_results_tui.sim.errors import ApiError, bad_request, not_found
from tekton_results_tui.sim.selectors import parse_field_selector

if TYPE_CHECKING:
    from tekton_results_tui.sim.server import SimHTTPServer


class CoreRoutes:
    """GET-only core/v1 resources; everything else there is 405 or 404."""

    server: "SimHTTPServer"
    command: str
    _query: dict[str, str]
    _verb: str | None
    _resource: str | None
    _ns: str | None

    if TYPE_CHECKING:  # the handler's, in server.py
        def _gate(self, name: str | None, group: str = "") -> None: ...
        def _json(self, code: int, obj: Any) -> None: ...
        def _reply(self, code: int, body: bytes, ctype: str = "application/json",
                   headers: dict[str, str] | None = None) -> None: ...

    def _core(self, rest: list[str]) -> None:
        c = self.server.cluster
        m = self.command
        if m != "GET":
            self._verb = m.lower()
            raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed", {})
        if rest == ["namespaces"]:
            self._verb, self._resource = "list", "namespaces"
            self._gate(None)
            with c.store.lock:
                items = [self._ns_obj(n, t) for n, t in sorted(c.store.namespaces.items())]
            return self._json(200, {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": str(c.store.rv)}, "items": items})
        if len(rest) == 2 and rest[0] == "namespaces":
            self._verb, self._resource = "get", "namespaces"
            self._gate(rest[1])
            t = c.store.namespaces.get(rest[1])
            if t is None:
                raise not_found("namespaces", "", rest[1])
            return self._json(200, self._ns_obj(rest[1], t))
        if rest == ["events"] or (len(rest) == 3 and rest[0] == "namespaces" and rest[2] == "events"):
            self._ns = rest[1] if len(rest) == 3 else None
            self._verb, self._resource = "list", "events"
            self._gate(None)
            fs = parse_field_selector(self._query.get("fieldSelector"), (
                "involvedObject.uid", "involvedObject.name", "involvedObject.namespace", "involvedObject.kind",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                "reason", "reportingComponent", "source", "type", "metadata.name", "metadata.namespace"))
            items = c.events_for(self._ns, fs)
            return self._json(200, {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": str(c.store.rv)}, "items": items})
        if len(rest) == 5 and rest[0] == "namespaces" and rest[2] == "pods" and rest[4] == "log":
            self._ns = rest[1]
            self._verb, self._resource = "get", "pods/log"
            self._gate(rest[3])
            text = c.pod_log(rest[1], rest[3], self._query.get("container"))
            data = text.encode()
            tail = self._query.get("tailLines")
            if tail:
                try:
                    n = int(tail)
                except ValueError:
                    raise bad_request(f"invalid tailLines: {tail}") from None
                lines = data.splitlines(keepends=True)
                data = b"".join(lines[-n:]) if n > 0 else b""
            lim = self._query.get("limitBytes")
            if lim:
                try:
                    data = data[: max(1, int(lim))]
                except ValueError:
                    raise bad_request(f"invalid limitBytes: {lim}") from None
            return self._reply(200, data, "text/plain")
        if len(rest) == 4 and rest[0] == "namespaces" and rest[2] == "pods":
            self._ns = rest[1]
            self._verb, self._resource = "get", "pods"
            self._gate(rest[3])
            return self._json(200, c.pod_object(rest[1], rest[3]))
        raise ApiError(404, "the server could not find the requested resource", "NotFound", {})

    @staticmethod
    def _ns_obj(name: str, created: str) -> dict[str, Any]:
        return {"kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": name, "uid": f"00000000-0000-4000-8000-{zlib.crc32(name.encode()):012d}",
                             "creationTimestamp": created, "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

