"""The HTTP client of a Tekton Results API server (the REST gateway, `/apis/results.tekton.dev/v1alpha2`).

requests with urllib3's `Retry` (both already installed with the Kubernetes client, so no new
dependency): a session keeps connections alive across pages, and one retry policy covers every call —
connection errors, and 429/502/503/504 with backoff and `Retry-After` — while every call has a
connect and a read timeout. What is still failing after the retries is a `SourceError` in one line.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tekton_results_tui.sources import wire
from tekton_results_tui.sources.wire import SourceError

API_PREFIX = "/apis/results.tekton.dev/v1alpha2/parents/"
MAX_PAGE_SIZE = 10_000  # upstream's limit


@dataclass(frozen=True)
class SourceAuth:
    """How to authenticate to the source: a bearer token (given, or from a kubeconfig context)."""

    token: str | None = None
    verify: bool | str = True  # False with --insecure-skip-tls-verify; a CA bundle path otherwise possible


def retry_policy(retries: int = 3) -> Retry:
    return Retry(total=retries, connect=retries, read=retries, status=retries, other=0, redirect=2,
                 backoff_factor=0.25, backoff_max=5.0, status_forcelist=(429, 502, 503, 504),
                 allowed_methods=frozenset({"GET"}), respect_retry_after_header=True, raise_on_status=False)


class ResultsClient:
    """Reads Records and Logs from one Results API server. Thread-safe: each thread has its own session."""

    def __init__(self, base_url: str, auth: SourceAuth | None = None, connect_timeout_s: float = 5.0,
                 read_timeout_s: float = 30.0, retries: int = 3, max_log_bytes: int = 16 * 1024 * 1024) -> None:
        url = base_url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"--results-api {base_url[:80]!r}: expected an http:// or https:// URL")
        if url.endswith(API_PREFIX.rstrip("/")):  # the API root was given: the server is the part before it
            url = url[: -len(API_PREFIX.rstrip("/"))]
        self.base_url = url
        self.auth = auth or SourceAuth()
        if self.auth.verify is False:  # asked for: a warning on stderr per request would be noise
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.retries = retries
        self.max_log_bytes = max_log_bytes
        self.max_page_bytes = 512 * 1024 * 1024
        self.total_timeout_s = max(60.0, 10 * read_timeout_s)  # one request, however its bytes trickle in
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.requests = 0  # calls made (tests count them)

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            adapter = HTTPAdapter(max_retries=retry_policy(self.retries), pool_connections=2, pool_maxsize=4)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            s.verify = self.auth.verify
            s.headers["Accept"] = "application/json"
            if self.auth.token:
                s.headers["Authorization"] = f"Bearer {self.auth.token}"
            self._local.session = s
            with self._lock:
                self._sessions.append(s)
        return s

    def close(self) -> None:
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()

    def _get(self, path: str, params: dict[str, Any] | None, what: str, stream: bool = False) -> requests.Response:
        url = self.base_url + API_PREFIX + path
        with self._lock:
            self.requests += 1
        try:
            # verify per request: requests lets $REQUESTS_CA_BUNDLE override a session's verify=False
            resp = self._session().get(url, params=params, timeout=self.timeout, stream=stream, verify=self.auth.verify)
        except requests.exceptions.SSLError as exc:
            raise SourceError(f"{what}: TLS failed talking to {self.base_url}: {_reason(exc)} "
                              "(--insecure-skip-tls-verify to skip verification)") from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
            raise SourceError(f"{what}: {self.base_url} did not answer within {self.timeout[1]:g}s "
                              f"(tried {self.retries + 1} times)") from None
        except requests.exceptions.ConnectionError as exc:
            if _timed_out(exc):  # a timeout still failing after the retries arrives wrapped as a connection error
                raise SourceError(f"{what}: {self.base_url} did not answer within {self.timeout[1]:g}s "
                                  f"(tried {self.retries + 1} times)") from None
            raise SourceError(f"{what}: cannot reach {self.base_url}: {_reason(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise SourceError(f"{what}: {_first_line(exc)}") from None
        if resp.status_code != 200:
            body = resp.content[:4096] if not stream else resp.raw.read(4096, decode_content=True)
            resp.close()
            msg = wire.error_message(body)
            hint = {401: " (a token: --token or --kubeconfig/--context)", 403: " (not allowed)"}.get(resp.status_code, "")
            raise HttpError(resp.status_code, f"{what}: HTTP {resp.status_code}{hint}" + (f": {msg}" if msg else ""))
        return resp

    def list_records(self, parent: str, result: str = "-", filter: str = "", order_by: str = "",  # noqa: A002
                     page_size: int = 1000, page_token: str = "") -> wire.RecordPage:
        params: dict[str, Any] = {"page_size": max(1, min(page_size, MAX_PAGE_SIZE))}
        if filter:
            params["filter"] = filter
        if order_by:
            params["order_by"] = order_by
        if page_token:
            params["page_token"] = page_token
        path = f"{quote(parent, safe='-')}/results/{quote(result, safe='-')}/records"
        resp = self._get(path, params, "list records", stream=True)
        body, cut = self._read(resp, self.max_page_bytes, "list records")
        if cut:
            raise SourceError(f"list records: a page larger than {self.max_page_bytes >> 20} MiB (a smaller --page-size?)")
        page = wire.record_page(body)
        page.server_now_ns = wire.http_date_ns(resp.headers.get("Date"))
        return page

    def get_record(self, record_name: str) -> wire.SourceRecord | None:
        """One Record by name (`<parent>/results/<r>/records/<id>`); None when the server has none (404)."""
        parent, _, rest = record_name.partition("/results/")
        result, _, rec = rest.partition("/records/")
        path = f"{quote(parent, safe='')}/results/{quote(result, safe='')}/records/{quote(rec, safe='')}"
        try:
            resp = self._get(path, None, f"get record {record_name[:120]}", stream=True)
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise
        body, cut = self._read(resp, self.max_page_bytes, "get record")
        got = wire.record(wire.parse_json(body, "get record"))
        if isinstance(got, str):
            raise SourceError(f"get record: {got}")
        return got

    def get_log(self, record_name: str) -> tuple[bytes, bool]:
        """The log content of a Log record (`<parent>/results/<r>/records/<id>`): (bytes, cut at max_log_bytes).

        404 means the source kept no content for it: (b"", False) is returned as None instead.
        """
        parent, _, rest = record_name.partition("/results/")
        result, _, rec = rest.partition("/records/")
        path = f"{quote(parent, safe='')}/results/{quote(result, safe='')}/logs/{quote(rec, safe='')}"
        what = f"get log {record_name[:120]}"
        resp = self._get(path, None, what, stream=True)
        body, cut = self._read(resp, self.max_log_bytes, what)
        return wire.log_content(body, resp.headers.get("Content-Type", ""), cut), cut

    def _read(self, resp: requests.Response, limit: int, what: str) -> tuple[bytes, bool]:
        """The body, at most `limit` bytes (and whether it was cut there), within the total deadline: a
        server trickling bytes forever is as stuck as a silent one."""
        chunks, size, cut = [], 0, False
        deadline = time.monotonic() + self.total_timeout_s
        try:
            while True:
                # read1: whatever has arrived (up to 256 KiB), so the deadline is checked while bytes trickle
                chunk = resp.raw.read1(256 * 1024, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    chunks.append(chunk[: len(chunk) - (size - limit)])
                    cut = True
                    break
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise SourceError(f"{what}: {self.base_url} took longer than {self.total_timeout_s:g}s to answer")
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if _timed_out(exc):
                raise SourceError(f"{what}: {self.base_url} stopped sending for {self.timeout[1]:g}s") from None
            raise SourceError(f"{what}: the answer was cut: {_first_line(exc)}") from None
        finally:
            resp.close()
        return b"".join(chunks), cut


class HttpError(SourceError):
    """The server answered with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _timed_out(exc: BaseException) -> bool:
    import urllib3.exceptions as u3

    seen, inner = 0, exc
    while inner is not None and seen < 8:
        if isinstance(inner, u3.NewConnectionError):  # a subclass of ConnectTimeoutError, but a refusal
            return False
        if isinstance(inner, (u3.ReadTimeoutError, u3.ConnectTimeoutError, TimeoutError)):
            return True
        reason = getattr(inner, "reason", None)
        inner = reason if isinstance(reason, BaseException) else (
            inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None)
        seen += 1
    return False


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection error ("Connection refused"), not urllib3's wrapper text."""
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 8:
        reason = getattr(inner, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else (inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None)
        if nxt is None:
            break
        inner, seen = nxt, seen + 1
    text = _first_line(inner or exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        return "unknown host"
    return text.split("): ", 1)[-1][:160]
