"""A small Tekton Results v1alpha2 REST server for tests, in either JSON spelling.

Shapes as recorded from upstream's gateway (docs/api/rest-api-spec.md, docs/large-log-files.md):
servers since v0.15 use proto names (`next_page_token`, `update_time`), older ones camelCase
(`nextPageToken`, `updateTime`); `data.value` is the object's JSON text in base64; GetLog answers
a stream of `{"result": {"name", "data": base64}}` objects (upstream) or text/plain.
It can also be down (`stop()`), slow, or answer garbage, and it counts the requests it gets.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/apis/results.tekton.dev/v1alpha2/parents/"
T0_NS = 1_780_000_000 * 1_000_000_000
_TIME_FILTER = re.compile(r'update_time\s*(>=|>)\s*timestamp\("([^"]+)"\)')


def rfc3339(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac // 1000:06d}Z"


def parse_rfc3339(text: str) -> int:
    m = re.match(r"(.*?)(?:\.(\d+))?Z$", text)
    assert m, text
    secs = int(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0")[:9])


@dataclass
class FakeRecord:
    name: str
    type: str
    text: str  # the object's JSON text, served base64 as data.value
    update_ns: int
    etag: str
    create_ns: int


class FakeResults:
    """`records` in the server's store; `logs` by Log record name; `mode` says how it answers lists."""

    def __init__(self, spelling: str = "snake", log_style: str = "ndjson", time_filter: bool = True,
                 base_ns: int | None = None) -> None:
        self.spelling = spelling
        self.log_style = log_style
        self.time_filter = time_filter  # False: a Records filter on update_time is a 400, as upstream's
        self.order_by = True  # False: any order_by is a 400 (a server older than ordering)
        self.records: dict[str, FakeRecord] = {}
        self.logs: dict[str, bytes] = {}
        self.mode = "ok"  # ok | garbage | html | wrong-shape | bad-records | slow | 503
        self.slow_s = 0.0
        # hold_after > 0: list pages after that many wait until `gate` is set (`held` says one is waiting),
        # so a test can act on a client that is certainly mid-pass whatever the machine's speed
        self.hold_after = 0
        self.hold_logs_after = 0  # > 0: log requests after that many wait for `gate` too (`held` is set)
        self.logs_served = 0
        self.gate = threading.Event()
        self.held = threading.Event()
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.authorizations: list[str | None] = []  # the Authorization header of each request
        self.ssl_context = None  # an ssl.SSLContext: serve https
        self.pages_served = 0
        self.page_served = threading.Event()
        self._clock = itertools.count(1)
        # records are stamped from now on (a live server), or from `base_ns` (an old history)
        self.base_ns = base_ns if base_ns is not None else time.time_ns() // 1_000_000 * 1_000_000
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.port = 0

    # --- content -----------------------------------------------------------------------------

    def now_ns(self) -> int:
        return self.base_ns + next(self._clock) * 1_000_000  # 1 ms apart, strictly increasing

    def put(self, name: str, type_: str, text: str, update_ns: int | None = None) -> FakeRecord:
        with self._lock:
            old = self.records.get(name)
            ns = update_ns if update_ns is not None else self.now_ns()
            r = FakeRecord(name, type_, text, ns, f"{uuid.uuid5(uuid.NAMESPACE_URL, name)}-{ns}",
                           old.create_ns if old else ns)
            self.records[name] = r
            return r

    def put_run(self, obj: dict, text: str | None = None, result: str | None = None,
                update_ns: int | None = None) -> FakeRecord:
        """A run record; `text` is the exact JSON text served (default: json.dumps with spaces)."""
        meta = obj["metadata"]
        result = result or (meta.get("annotations") or {}).get("results.tekton.dev/result") \
            or f"{meta['namespace']}/results/{_owner_uid(obj)}"
        type_ = f"{obj['apiVersion']}.{obj['kind']}"
        return self.put(f"{result}/records/{meta['uid']}", type_, text or json.dumps(obj), update_ns)

    def put_log(self, run: dict, content: bytes, result: str | None = None, update_ns: int | None = None,
                record_id: str | None = None) -> FakeRecord:
        """A Log record about `run` (upstream's v1alpha3 Log shape) and its content."""
        meta = run["metadata"]
        result = result or f"{meta['namespace']}/results/{_owner_uid(run)}"
        rid = record_id or str(uuid.uuid5(uuid.NAMESPACE_URL, meta["uid"] + "log"))
        doc = {"kind": "Log", "apiVersion": "results.tekton.dev/v1alpha3",
               "metadata": {"uid": rid, "name": f"{meta['name']}-log", "namespace": meta["namespace"]},
               "spec": {"type": "File", "resource": {"kind": run["kind"], "namespace": meta["namespace"],
                                                     "name": meta["name"], "uid": meta["uid"]}},
               "status": {"path": f"{meta['namespace']}/{rid}/{meta['name']}-log", "size": len(content)}}
        name = f"{result}/records/{rid}"
        self.logs[name] = content
        return self.put(name, "results.tekton.dev/v1alpha3.Log", json.dumps(doc), update_ns)

    def put_events(self, run: dict, items: list[dict], result: str | None = None) -> FakeRecord:
        meta = run["metadata"]
        result = result or f"{meta['namespace']}/results/{_owner_uid(run)}"
        rid = str(uuid.uuid5(uuid.NAMESPACE_URL, meta["uid"] + "eventlist"))
        doc = {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": items}
        return self.put(f"{result}/records/{rid}", "results.tekton.dev/v1.EventList", json.dumps(doc))

    # --- serving -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context is not None else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FakeResults:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        if self.ssl_context is not None:
            self._httpd.socket = self.ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def list_requests(self) -> list[dict[str, list[str]]]:
        return [q for p, q in self.requests if p.endswith("/records")]

    def log_requests(self) -> list[str]:
        return [p for p, _ in self.requests if "/logs/" in p]

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "application/json") -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            h.wfile.write(body)
        except OSError:
            pass

    def _key(self, snake: str) -> str:
        if self.spelling == "snake":
            return snake
        head, *rest = snake.split("_")
        return head + "".join(w.title() for w in rest)

    def _param(self, q: dict[str, list[str]], snake: str) -> str | None:
        got = q.get(snake) or q.get(self._key(snake)) or q.get(_camel(snake))
        return got[0] if got else None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        q = parse_qs(parts.query)
        with self._lock:
            self.requests.append((parts.path, q))
            self.authorizations.append(h.headers.get("Authorization"))
        if self.mode == "slow":
            time.sleep(self.slow_s)
        if not parts.path.startswith(PREFIX):
            return self._send(h, 404, b'{"code":5,"message":"Not Found"}')
        rest = [unquote(x) for x in parts.path[len(PREFIX):].split("/")]
        if len(rest) == 4 and rest[1] == "results" and rest[3] == "records":
            return self._list(h, rest[0], rest[2], q)
        if len(rest) == 5 and rest[1] == "results" and rest[3] == "records":
            got = self.records.get(f"{rest[0]}/results/{rest[2]}/records/{rest[4]}")
            if got is None:
                return self._send(h, 404, b'{"code":5,"message":"record not found"}')
            return self._send(h, 200, json.dumps(self._record_json(got)).encode())
        if len(rest) == 5 and rest[1] == "results" and rest[3] == "logs":
            return self._log(h, f"{rest[0]}/results/{rest[2]}/records/{rest[4]}")
        return self._send(h, 404, b'{"code":5,"message":"Not Found"}')

    def _list(self, h: BaseHTTPRequestHandler, parent: str, result: str, q: dict[str, list[str]]) -> None:
        if self.mode == "garbage":
            return self._send(h, 200, b"\x00\xffnot json at all", "application/octet-stream")
        if self.mode == "html":
            return self._send(h, 200, b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")
        if self.mode == "503":
            return self._send(h, 503, b"<html>Service Unavailable</html>", "text/html")
        if self.mode == "wrong-shape":
            return self._send(h, 200, json.dumps({"results": [{"name": "x"}]}).encode())
        flt = self._param(q, "filter") or ""
        m = _TIME_FILTER.search(flt)
        if m and not self.time_filter:
            return self._send(h, 400, json.dumps({"code": 3, "message": "invalid filter: undeclared reference to 'update_time'",
                                                  "details": []}).encode())
        if self._param(q, "order_by") and not self.order_by:
            return self._send(h, 400, b'{"code":3,"message":"unknown field: order_by"}')
        since = parse_rfc3339(m.group(2)) if m else None
        strict = bool(m) and m.group(1) == ">"
        with self._lock:
            rows = [r for r in self.records.values()
                    if (parent == "-" or r.name.startswith(parent + "/results/"))
                    and (result == "-" or r.name.split("/results/", 1)[1].startswith(result + "/"))
                    and (since is None or r.update_ns > since or (r.update_ns == since and not strict))]
        if (self._param(q, "order_by") or "").startswith("update_time"):
            rows.sort(key=lambda r: (r.update_ns, r.name))
        size = int(self._param(q, "page_size") or 50)
        offset = int(base64.b64decode(self._param(q, "page_token") or "MA==").decode())
        page = rows[offset: offset + size]
        token = base64.b64encode(str(offset + size).encode()).decode() if offset + size < len(rows) else ""
        with self._lock:
            self.pages_served += 1
            n = self.pages_served
        if self.hold_after and n > self.hold_after:
            self.held.set()
            if not self.gate.wait(120):
                return self._send(h, 503, b'{"code":14,"message":"the test never opened the gate"}')
        items = [self._record_json(r) for r in page]
        if self.mode == "bad-records":
            items.insert(0, "not a record")
            items.append({"name": "ns/results/x/records/y", "data": {"type": "tekton.dev/v1.TaskRun", "value": "%%%"}})
        body = json.dumps({"records": items, self._key("next_page_token"): token}).encode()
        self._send(h, 200, body)
        self.page_served.set()

    def _record_json(self, r: FakeRecord) -> dict:
        k = self._key
        rid = str(uuid.uuid5(uuid.NAMESPACE_URL, "server-id:" + r.name))
        return {"name": r.name, "id": rid, "uid": rid,
                "data": {"type": r.type, "value": base64.b64encode(r.text.encode()).decode()},
                "etag": r.etag, k("created_time"): rfc3339(r.create_ns), k("create_time"): rfc3339(r.create_ns),
                k("updated_time"): rfc3339(r.update_ns), k("update_time"): rfc3339(r.update_ns)}

    def _log(self, h: BaseHTTPRequestHandler, name: str) -> None:
        with self._lock:
            self.logs_served += 1
            n = self.logs_served
        if self.hold_logs_after and n > self.hold_logs_after:
            self.held.set()
            if not self.gate.wait(120):
                return self._send(h, 503, b'{"code":14,"message":"the test never opened the gate"}')
        content = self.logs.get(name)
        if content is None:
            return self._send(h, 404, b'{"code":5,"message":"log not found"}')
        if self.log_style == "text":
            return self._send(h, 200, content, "text/plain; charset=utf-8")
        # upstream's gateway: one JSON object per streamed chunk, back to back
        chunks = [content[i: i + 1024] for i in range(0, len(content), 1024)] or [b""]
        body = b"".join(json.dumps({"result": {"name": name.replace("/records/", "/logs/"),
                                               "data": base64.b64encode(c).decode()}}).encode() for c in chunks)
        self._send(h, 200, body)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


def _owner_uid(obj: dict) -> str:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "PipelineRun":
            return ref["uid"]
    return obj["metadata"]["uid"]


def generate(fake: FakeResults, pipelineruns: int, taskruns_per: int = 3, log_bytes: int = 2000, logs: bool = True) -> int:
    """A history like a CI cluster's: PipelineRuns with TaskRuns and their logs; returns the Record count."""
    import random

    sys_path_store()
    from store_objects import pr, tr

    rnd = random.Random(1)
    n = 0
    for i in range(pipelineruns):
        p = pr(f"ci-{i}", pipeline=f"pipe-{i % 40}", labels={"app": f"app-{i % 7}"})
        fake.put_run(p)
        n += 1
        for j in range(taskruns_per):
            t = tr(f"ci-{i}-t{j}", p, pipeline_task=f"task-{j}",
                   cond=rnd.choice(["True", "True", "True", "False"]))
            fake.put_run(t)
            n += 1
            if logs:
                line = f"[build] step output of ci-{i}-t{j} " + "x" * 60 + "\n"
                fake.put_log(t, (line * max(1, log_bytes // len(line))).encode())
                n += 1
    return n


def sys_path_store() -> None:
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    store = os.path.join(os.path.dirname(here), "store")
    if store not in sys.path:
        sys.path.insert(0, store)


if __name__ == "__main__":  # a server for benchmarks in its own process: prints its URL, serves until killed
    import argparse
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--pipelineruns", type=int, default=1000)
    ap.add_argument("--spelling", default="snake")
    ap.add_argument("--no-logs", action="store_true")
    a = ap.parse_args()
    f = FakeResults(spelling=a.spelling)
    count = generate(f, a.pipelineruns, logs=not a.no_logs)
    f.start()
    print(f.url, count, flush=True)
    threading.Event().wait()
