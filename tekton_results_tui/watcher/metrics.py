"""`--metrics-port`: Prometheus metrics, /healthz and /readyz for a headless watcher.

Every scrape reads one WatcherStatus snapshot (no counters of our own to keep in step
with the watcher) and turns it into metrics on a registry private to this server, so
two servers in one process (tests, a TUI and a headless) never collide.

Exported (prefix ``tekton_results_tui_``):

- every ``status.counts`` key ``K`` -> counter ``K_total`` (``events``, ``stored``,
  ``deleted``, ``errors``, ``relists``, ``logs``... whatever the watcher counts; names
  sanitized to ``[a-z0-9_]``). ``events``, ``stored``, ``deleted`` and ``errors`` are
  always present (0 until counted).
- a dotted key ``K.KIND`` (``errors.forbidden``) or a dict value ``{"KIND": n}`` under
  ``K`` -> counter ``K_by_kind_total{kind="KIND"}``; kept apart from ``K_total`` so
  ``sum()`` over kinds never double-counts the plain total.
- gauges: ``lag_seconds`` (now - last event seen; absent before the first event),
  ``last_event_timestamp_seconds``, ``backlog``, ``events_per_second``,
  ``connected`` (1/0), ``leader`` (1/0: 1 when this replica writes), ``annotate`` (1/0),
  ``state{tekton_results_tui_state="live"|...}`` (a state set), ``info{cluster,context,server,scope}``.
- the process collector's ``process_*`` (RSS, CPU, fds).

/healthz: 200 while the watcher reaches the API (connected, live or a standby replica),
else 503 with the reason. /readyz: 200 once the watcher has been live or standby (the
first list finished), 503 before that and once stopped.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
)
from prometheus_client.exposition import choose_encoder

from tekton_results_tui.watcher.status import LIVE, OFF, RECONNECTING, STANDBY, STARTING, WatcherStatus

log = logging.getLogger(__name__)

PREFIX = "tekton_results_tui_"
ALWAYS_COUNTED = ("events", "stored", "deleted", "errors")
STATES = (STARTING, LIVE, RECONNECTING, STANDBY, OFF)

StatusFn = Callable[[], WatcherStatus]


def metric_name(key: str) -> str:
    """`errors-HTTP 5xx` -> `errors_http_5xx`: a valid Prometheus name part."""
    name = re.sub(r"[^a-z0-9_]+", "_", key.strip().lower()).strip("_")
    return name or "unnamed"


def is_leader(status: WatcherStatus) -> bool:
    """Whether this replica writes: the election's answer, else (no election) running at all."""
    if status.leader is not None:
        return bool(status.leader)
    return status.state not in (STANDBY, OFF)


def health(status: WatcherStatus) -> tuple[bool, str]:
    """(/healthz ok?, words). A standby replica is healthy: it is not meant to be connected."""
    if status.connected or status.state in (LIVE, STANDBY):
        return True, f"ok: {status.state}"
    return False, f"{status.state}: {status.reason or status.last_error or 'not connected to the Kubernetes API'}"


class StatusCollector:
    """A prometheus_client custom collector that renders one status snapshot per scrape."""

    def __init__(self, status_fn: StatusFn, clock: Callable[[], float] = time.time) -> None:
        self.status_fn = status_fn
        self.clock = clock

    def describe(self) -> list[Metric]:
        return []  # dynamic families (one per counts key): do not let the registry call collect() at register time

    def collect(self) -> Iterator[Metric]:
        st = self.status_fn()
        yield from self._counts(st.counts or {})
        now = self.clock()
        if st.last_event_time is not None:
            yield GaugeMetricFamily(PREFIX + "lag_seconds", "Seconds since the last watch event was seen",
                                    value=max(0.0, now - st.last_event_time))
            yield GaugeMetricFamily(PREFIX + "last_event_timestamp_seconds", "Unix time of the last watch event",
                                    value=st.last_event_time)
        yield GaugeMetricFamily(PREFIX + "backlog", "Events waiting for the store writer", value=st.backlog)
        yield GaugeMetricFamily(PREFIX + "events_per_second", "Recent rate of watch events",
                                value=st.events_per_s if math.isfinite(st.events_per_s) else 0.0)
        yield GaugeMetricFamily(PREFIX + "connected", "1 when the watcher reaches the Kubernetes API",
                                value=1.0 if st.connected else 0.0)
        yield GaugeMetricFamily(PREFIX + "leader", "1 when this replica is the elected writer",
                                value=1.0 if is_leader(st) else 0.0)
        yield GaugeMetricFamily(PREFIX + "annotate", "1 while results annotations are written back on runs",
                                value=1.0 if st.annotate else 0.0)
        states = list(STATES) + ([st.state] if st.state not in STATES else [])
        yield StateSetMetricFamily(PREFIX + "state", "The watcher's state", value={s: s == st.state for s in states})
        yield InfoMetricFamily(PREFIX + "watcher", "What this watcher watches",
                               value={"cluster": st.cluster or "", "context": st.context or "",
                                      "server": st.server or "", "scope": st.scope or ""})

    def _counts(self, counts: dict) -> Iterator[Metric]:
        totals: dict[str, float] = {k: 0.0 for k in ALWAYS_COUNTED}
        by_kind: dict[str, dict[str, float]] = {}
        for key, value in counts.items():
            key = str(key)
            if isinstance(value, dict):
                for kind, n in value.items():
                    if _is_number(n):
                        by_kind.setdefault(metric_name(key), {})[str(kind)] = float(n)
            elif not _is_number(value):
                continue
            elif "." in key:
                base, kind = key.split(".", 1)
                by_kind.setdefault(metric_name(base), {})[kind] = float(value)
            else:
                totals[metric_name(key)] = float(value)
        for name, value in sorted(totals.items()):
            yield CounterMetricFamily(PREFIX + name, f"Watcher count {name!r} since start", value=value)
        for name, kinds in sorted(by_kind.items()):
            fam = CounterMetricFamily(PREFIX + name + "_by_kind", f"Watcher count {name!r} by kind since start",
                                      labels=["kind"])
            for kind, value in sorted(kinds.items()):
                fam.add_metric([kind], value)
            yield fam


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class MetricsServer:
    """/metrics, /healthz and /readyz on a ThreadingHTTPServer in a daemon thread."""

    def __init__(self, port: int, status_fn: StatusFn, host: str = "0.0.0.0") -> None:
        self.host = host
        self.requested_port = port
        self.status_fn = status_fn
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(StatusCollector(lambda: self.status_fn()))  # status_fn may be swapped later
        try:
            ProcessCollector(namespace="", registry=self.registry)
        except Exception:  # noqa: BLE001 - no /proc (non-Linux): fine without process metrics
            pass
        self._ready_latched = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._server is None:
            return self.requested_port
        return int(self._server.server_address[1])

    def start(self) -> None:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer((self.host, self.requested_port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="metrics-http", daemon=True)
        self._thread.start()
        log.info("metrics: serving /metrics /healthz /readyz on %s:%d", self.host, self.port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # --- endpoint logic (plain functions of a snapshot, so they are easy to reason about) ---

    def healthz(self) -> tuple[int, str]:
        try:
            st = self.status_fn()
        except Exception as exc:  # noqa: BLE001 - a broken status is unhealthy, not a crash
            return 503, f"status unavailable: {exc}"
        ok, words = health(st)
        return (200 if ok else 503), words

    def readyz(self) -> tuple[int, str]:
        try:
            st = self.status_fn()
        except Exception as exc:  # noqa: BLE001
            return 503, f"status unavailable: {exc}"
        if st.state in (LIVE, STANDBY):
            self._ready_latched = True
        if st.state == OFF:
            return 503, f"off: {st.reason or 'the watcher is not running'}"
        if self._ready_latched:
            return 200, f"ready: {st.state}"
        return 503, f"{st.state}: the first list has not finished"


def _make_handler(server: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                try:
                    encoder, ctype = choose_encoder(self.headers.get("Accept", ""))
                    body = encoder(server.registry)
                    code = 200
                except Exception as exc:  # noqa: BLE001 - report, keep serving
                    code, ctype, body = 500, "text/plain; charset=utf-8", f"metrics failed: {exc}\n".encode()
            elif path in ("/healthz", "/livez"):
                code, text = server.healthz()
                ctype, body = "text/plain; charset=utf-8", (text + "\n").encode()
            elif path == "/readyz":
                code, text = server.readyz()
                ctype, body = "text/plain; charset=utf-8", (text + "\n").encode()
            else:
                code, ctype, body = 404, "text/plain; charset=utf-8", b"not found: try /metrics, /healthz, /readyz\n"
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: probes hit every few s
            log.debug("metrics: " + format, *args)

    return Handler
