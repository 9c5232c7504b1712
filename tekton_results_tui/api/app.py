"""The HTTP routes of `serve` (aiohttp): the read calls of Tekton Results' v1alpha2 REST API.

Store reads are synchronous (peewee), so each runs on a worker thread; the event loop only parses,
authorizes and writes. A log is streamed a chunk at a time from the store, never built in memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from tekton_results_tui import kinds
from tekton_results_tui.api import summary as sm
from tekton_results_tui.api.auth import AllowAll, Authorizer
from tekton_results_tui.api.cel_filter import FilterError, compile_filter
from tekton_results_tui.api.params import (
    RECORD_ORDER_FIELDS, RESULT_ORDER_FIELDS, BadRequest, decode_token, encode_token, order_by, page_size, param,
)
from tekton_results_tui.api.shapes import error_json, record_json, result_json
from tekton_results_tui.store import api_reads as reads
from tekton_results_tui.store.api_filter import UnsupportedFilter
from tekton_results_tui.store.api_reads import Scope
from tekton_results_tui.store.api_summary import summarize

log = logging.getLogger(__name__)

PREFIX = "/apis/results.tekton.dev/v1alpha2/parents"
NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._:-]{0,251}[A-Za-z0-9])?$")  # a namespace or an id
LOG_TYPES = (kinds.LOG.record_type, "results.tekton.dev/v1alpha2.Log")
STREAM_ROWS = 500  # rows a page is read and written in, past which it is streamed
READ_ONLY = ("this server is read-only (the history is written by its watcher): {method} is not served; "
             "use GET")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON. orjson writes a page of Records ~8x faster than json (a tenth of a label-filter
    page's time); json stays for what orjson refuses (an int past 64 bits; a lone surrogate, which
    json writes as a \\u escape)."""
    try:
        return orjson.dumps(obj)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(obj, separators=(",", ":")).encode()


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=dumps(obj), content_type="application/json")


def _name(value: str, what: str, wildcard: bool) -> str:
    if wildcard and value == "-":
        return value
    if not NAME.match(value):
        raise ApiError(400, f"invalid {what} {value[:80]!r}" + (" (a name, or - for all)" if wildcard else ""))
    return value


class LinePrefixer:
    """Prefix every line of a step's log with `[step] ` (`[task : step] ` in a PipelineRun's log), as the
    tkn log writer upstream's watcher stores logs with; works across chunk boundaries."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.encode("utf-8", "replace")
        self.at_start = True
        self.wrote = False

    def feed(self, chunk: bytes) -> bytes:
        if not chunk:
            return b""
        head = self.prefix if self.at_start else b""
        body = chunk[:-1].replace(b"\n", b"\n" + self.prefix) + chunk[-1:]
        self.at_start = chunk.endswith(b"\n")
        self.wrote = True
        return head + body

    def end(self) -> bytes:
        return b"\n" if self.wrote and not self.at_start else b""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("tekton_results_api_requests", "API requests answered", ["route", "method", "code"],
                                registry=self.registry)
        self.latency = Histogram("tekton_results_api_request_seconds", "time to answer an API request (to the "
                                 "first byte of a streamed log)", ["route"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))


class ResultsApi:
    """The handlers; `authorizer` decides each call, `workers` threads run the store reads."""

    def __init__(self, authorizer: Authorizer | None = None, workers: int = 16) -> None:
        self.authorizer: Authorizer = authorizer or AllowAll()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api-read")
        self.metrics = Metrics()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def authorize(self, request: web.Request, parent: str, resource: str, verb: str) -> None:
        if isinstance(self.authorizer, AllowAll):  # no thread hop when there is nothing to ask
            return
        cached = getattr(self.authorizer, "cached", None)
        if cached is not None and cached(request.headers, parent, resource, verb):
            return
        ok = await self.run(self.authorizer.allowed, request.headers, parent, resource, verb)
        if not ok:
            raise ApiError(401, "Unauthenticated")

    # --- app -------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/healthz", self.healthz)
        r.add_get("/metrics", self.metrics_page)
        r.add_get(PREFIX + "/{parent}/results", self.list_results)
        r.add_get(PREFIX + "/{parent}/results/{result}", self.get_result)
        r.add_get(PREFIX + "/{parent}/results/{result}/records", self.list_records)
        r.add_get(PREFIX + "/{parent}/results/{result}/records/summary", self.summary)
        r.add_get(PREFIX + "/{parent}/results/{result}/records/{record}", self.get_record)
        r.add_get(PREFIX + "/{parent}/results/{result}/logs", self.list_logs)
        r.add_get(PREFIX + "/{parent}/results/{result}/logs/{log}", self.get_log)
        r.add_route("*", "/{tail:.*}", self.fallback)
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, app: web.Application) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        t0 = time.perf_counter()
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
        try:
            resp = await handler(request)
        except ApiError as e:
            resp = _json(error_json(e.status, e.message), e.status)
        except (BadRequest, FilterError, UnsupportedFilter) as e:
            msg = str(e)
            if isinstance(e, UnsupportedFilter):
                msg = f"invalid filter: unsupported {msg}"
            elif isinstance(e, FilterError):
                msg = f"invalid filter: {msg}"
            resp = _json(error_json(400, msg), 400)
        except web.HTTPException as e:
            resp = _json(error_json(e.status, e.reason), e.status)
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception:  # noqa: BLE001 - a bug answers 500 without leaking its text
            log.exception("serve: %s %s failed", request.method, request.path)
            resp = _json(error_json(500, "internal error"), 500)
        self.metrics.requests.labels(route, request.method, str(resp.status)).inc()
        self.metrics.latency.labels(route).observe(time.perf_counter() - t0)
        return resp

    # --- plumbing routes -------------------------------------------------------------------
    async def healthz(self, request: web.Request) -> web.Response:
        return _json({"status": "SERVING"})

    async def metrics_page(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def fallback(self, request: web.Request) -> web.Response:
        if request.method not in ("GET", "HEAD") and request.path.startswith(PREFIX + "/"):
            resp = _json(error_json(405, READ_ONLY.format(method=request.method)), 405)
            resp.headers["Allow"] = "GET, HEAD"
            return resp
        if request.method not in ("GET", "HEAD"):
            return _json(error_json(405, f"{request.method} is not served here"), 405)
        return _json(error_json(404, f"Not Found: {request.path[:200]} is not a Tekton Results v1alpha2 read "
                                     f"path (under {PREFIX}/)"), 404)

    # --- Results ---------------------------------------------------------------------------
    def _query(self, request: web.Request) -> dict[str, str]:
        return {k: request.query.get(k, "") for k in request.query}

    async def list_results(self, request: web.Request) -> web.StreamResponse:
        parent = _name(request.match_info["parent"], "parent", wildcard=True)
        await self.authorize(request, parent, "results", "list")
        q = self._query(request)
        flt = param(q, "filter")
        node = compile_filter(flt, "results")
        order = order_by(q, RESULT_ORDER_FIELDS)
        size = page_size(q)
        after = decode_token(param(q, "page_token"), "results", parent, flt, order)
        scope = Scope(namespace=None if parent == "-" else parent)

        def fetch(after_: Any, n: int) -> list:
            return reads.list_results(scope, node, order.field, order.desc, after_, n)

        return await self._page(request, "results", fetch, after, size, result_json,
                                lambda last: encode_token("results", parent, flt, order, last.sort_value, last.id))

    async def _page(self, request: web.Request, key: str, fetch: Callable[[Any, int], list], after: Any, size: int,
                    shape: Callable[[Any], dict], token_of: Callable[[Any], str]) -> web.StreamResponse:
        """One page as upstream's JSON (`{"<key>": [...], "next_page_token": ...}`, empty parts left out).
        A page of more than STREAM_ROWS is read and written STREAM_ROWS rows at a time (keyset-continued),
        so a 10,000-row page never sits in memory whole."""
        want = min(size, STREAM_ROWS)
        rows = await self.run(fetch, after, want + 1)
        if len(rows) <= want or size <= STREAM_ROWS:
            out: dict[str, Any] = {}
            if rows:
                out[key] = [shape(r) for r in rows[:want]]
            if len(rows) > want:
                out["next_page_token"] = token_of(rows[want - 1])
            return _json(out)
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json; charset=utf-8"})
        await resp.prepare(request)
        await resp.write(b'{"' + key.encode() + b'":[')
        written, first, more = 0, True, False
        while True:
            chunk = rows[:want]
            body = b",".join(dumps(shape(r)) for r in chunk)
            await resp.write(body if first else b"," + body)
            first = False
            written += len(chunk)
            last = chunk[-1]
            if len(rows) <= want:
                break
            if written >= size:
                more = True
                break
            want = min(STREAM_ROWS, size - written)
            rows = await self.run(fetch, (last.sort_value, last.id), want + 1)
            if not rows:
                break
        tail = b"]" + ((',"next_page_token":' + json.dumps(token_of(last))).encode() if more else b"") + b"}"
        await resp.write(tail)
        await resp.write_eof()
        return resp

    async def get_result(self, request: web.Request) -> web.Response:
        parent = _name(request.match_info["parent"], "parent", wildcard=True)
        rid = _name(request.match_info["result"], "result", wildcard=True)
        await self.authorize(request, parent, "results", "get")
        row = None
        if parent != "-" and rid != "-":
            row = await self.run(reads.get_result, f"{parent}/results/{rid}")
        if row is None:
            raise ApiError(404, f"result {parent}/results/{rid} not found")
        return _json(result_json(row))

    # --- Records ---------------------------------------------------------------------------
    def _record_scope(self, parent: str, rid: str, kinds_: tuple[str, ...] | None = None) -> Scope:
        ns = None if parent == "-" else parent
        if rid == "-":
            return Scope(namespace=ns, kinds=kinds_)
        if ns is None:
            return Scope(result_id=rid, kinds=kinds_)
        return Scope(namespace=ns, result_name=f"{ns}/results/{rid}", kinds=kinds_)

    async def _list_records(self, request: web.Request, resource: str,
                            kinds_: tuple[str, ...] | None) -> web.StreamResponse:
        parent = _name(request.match_info["parent"], "parent", wildcard=True)
        rid = _name(request.match_info["result"], "result", wildcard=True)
        await self.authorize(request, parent, resource, "list")
        q = self._query(request)
        flt = param(q, "filter")
        node = compile_filter(flt, "records")
        order = order_by(q, RECORD_ORDER_FIELDS)
        size = page_size(q)
        where = f"{parent}/results/{rid}"
        after = decode_token(param(q, "page_token"), resource, where, flt, order)
        scope = self._record_scope(parent, rid, kinds_)

        def fetch(after_: Any, n: int) -> list:
            return reads.list_records(scope, node, order.field, order.desc, after_, n)

        return await self._page(request, "records", fetch, after, size, record_json,
                                lambda last: encode_token(resource, where, flt, order, last.sort_value, last.id))

    async def list_records(self, request: web.Request) -> web.StreamResponse:
        return await self._list_records(request, "records", None)

    async def list_logs(self, request: web.Request) -> web.StreamResponse:
        return await self._list_records(request, "logs", (kinds.LOG.name,))

    async def get_record(self, request: web.Request) -> web.Response:
        parent = _name(request.match_info["parent"], "parent", wildcard=False)
        rid = _name(request.match_info["result"], "result", wildcard=False)
        rec_id = _name(request.match_info["record"], "record", wildcard=False)
        await self.authorize(request, parent, "records", "get")
        row = await self.run(reads.get_record, f"{parent}/results/{rid}", rec_id)
        if row is None:
            raise ApiError(404, f"record {parent}/results/{rid}/records/{rec_id} not found")
        return _json(record_json(row))

    async def summary(self, request: web.Request) -> web.Response:
        parent = _name(request.match_info["parent"], "parent", wildcard=True)
        rid = _name(request.match_info["result"], "result", wildcard=True)
        await self.authorize(request, parent, "records", "get")
        q = self._query(request)
        node = compile_filter(param(q, "filter"), "records")
        wanted = sm.parse_summary(param(q, "summary"))
        group = sm.parse_group_by(param(q, "group_by"))
        order = sm.parse_order(param(q, "order_by"), wanted)  # a bad one is a 400 even where it orders nothing
        if group is None:
            order = None  # one row
        rows = await self.run(summarize, self._record_scope(parent, rid), node, group)
        return _json(sm.shape(rows, wanted, group, order))

    # --- Logs ------------------------------------------------------------------------------
    async def get_log(self, request: web.Request) -> web.StreamResponse:
        parent = _name(request.match_info["parent"], "parent", wildcard=False)
        rid = _name(request.match_info["result"], "result", wildcard=False)
        log_id = _name(request.match_info["log"], "log", wildcard=False)
        await self.authorize(request, parent, "logs", "get")
        result_name = f"{parent}/results/{rid}"
        found, parts, small = await self.run(_log_plan, result_name, log_id)
        if not found:
            raise ApiError(404, f"record {result_name}/records/{log_id} not found")
        if not parts:
            raise ApiError(404, f"no log stored for {result_name}/records/{log_id}")
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})
        await resp.prepare(request)
        if request.method == "HEAD":
            return resp
        if small is not None:  # read whole in the lookup's thread hop: each hop costs more than a small log
            await resp.write(small)
            await resp.write_eof()
            return resp
        for part in parts:
            chunks = reads.log_chunks(part.step_log_id)
            prefixer = LinePrefixer(part.prefix)
            try:
                while True:
                    chunk = await self.run(next, chunks, None)
                    if chunk is None:
                        break
                    await resp.write(prefixer.feed(chunk))
            finally:  # a client that leaves mid-log: the store's read ends now, not at garbage collection
                await self.run(chunks.close)
            tail = prefixer.end()
            if tail:
                await resp.write(tail)
        await resp.write_eof()
        return resp


SMALL_LOG = 256 * 1024  # a log up to this size (uncompressed, all steps) is read in one piece


def _log_plan(result_name: str, log_id: str) -> tuple[bool, list[reads.LogPart] | None, bytes | None]:
    """(record found, its step logs, the whole prefixed log when it is small) in one store visit."""
    rec = reads.get_record(result_name, log_id)
    if rec is None:
        return False, None, None
    parts = reads.log_parts(rec, result_name)
    if not parts or sum(p.size for p in parts) > SMALL_LOG:
        return True, parts, None
    out = []
    for part in parts:
        prefixer = LinePrefixer(part.prefix)
        out += [prefixer.feed(c) for c in reads.log_chunks(part.step_log_id)]
        out.append(prefixer.end())
    return True, parts, b"".join(out)
