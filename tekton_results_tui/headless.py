"""`--headless`: the watcher alone, logging to stderr, until SIGINT/SIGTERM.

One line per state change and a periodic summary (`--log-format json`: JSON lines with
ts, level, msg, fields). Exit 0 after a clean stop (the pending batch flushed); 2 with
one line when it cannot start (no kubeconfig, bad context, unreachable API, missing
permission, bad database URL, another watcher holding the lease).

On PostgreSQL the replicas elect one writer (bootstrap.headless_runner, watcher/leader.py).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from typing import Any

from tekton_results_tui import exitcodes
from tekton_results_tui.bootstrap import Stack, headless_runner, open_history
from tekton_results_tui.errors import UserError
from tekton_results_tui.settings import Settings
from tekton_results_tui.store.db import redact
from tekton_results_tui.textsafe import visible


class _Out:
    """stderr lines in text or JSON."""

    def __init__(self, fmt: str) -> None:
        self.json = fmt == "json"
        self.lock = threading.Lock()

    def emit(self, level: str, msg: str, **fields: Any) -> None:
        ts = time.time()
        if self.json:
            line = json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z",
                               "level": level, "msg": msg, "fields": fields}, default=str)
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, "", {}))
            # run names and API messages in a line are shown, never obeyed (JSON lines escape them already)
            line = visible(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(ts))} {level.upper():5} {msg}"
                           + (f" {extra}" if extra else ""))
        with self.lock:
            try:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass


class _LogHandler(logging.Handler):
    def __init__(self, out: _Out) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.emit(record.levelname.lower(), record.getMessage(), logger=record.name)


def run_headless(settings: Settings, summary_interval_s: float | None = None,
                 stop_event: threading.Event | None = None) -> int:
    """Run the watcher without a UI until a signal (or `stop_event`); returns the exit code."""
    out = _Out(settings.watch.log_format)
    if summary_interval_s is None:
        summary_interval_s = settings.watch.summary_interval_s
    handler = _LogHandler(out)
    pkg_log = logging.getLogger("tekton_results_tui")
    pkg_log.addHandler(handler)
    pkg_log.setLevel(logging.INFO)
    try:
        return _run(settings, out, summary_interval_s, stop_event or threading.Event())
    finally:
        pkg_log.removeHandler(handler)


def _fail(out: _Out, msg: str) -> int:
    out.emit("error", f"cannot start: {msg}")
    return exitcodes.USAGE


def _run(settings: Settings, out: _Out, summary_s: float, stop: threading.Event) -> int:
    stack = Stack()
    try:
        history = open_history(settings.store.db_url, read_only=False, stack=stack)
    except UserError as exc:
        return _fail(out, str(exc))
    except Exception as exc:  # noqa: BLE001 - a driver error opening the DB is still one line
        return _fail(out, f"cannot open database {redact(settings.store.db_url)}: "
                     f"{str(exc).splitlines()[0] if str(exc) else exc!r}")
    metrics = None
    try:
        try:
            runner, target, cluster = headless_runner(settings, history)
            runner.start()
        except UserError as exc:
            return _fail(out, str(exc))
        out.emit("info", "sync started" if settings.source.results_api else "watcher started", cluster=cluster, context=target.context, server=target.server,
                 db=redact(settings.store.db_url), scope=", ".join(settings.cluster.namespaces) or "all namespaces")
        if settings.watch.label_selector:
            out.emit("info", f"label selector {settings.watch.label_selector!r}: relists do not mark runs gone (the history "
                     "cannot tell which stored runs match); a DELETED event marks a run gone only once a GET "
                     "confirms it left the cluster (404)")
        if settings.watch.metrics_port is not None:
            try:
                from tekton_results_tui.watcher.metrics import MetricsServer

                metrics = MetricsServer(settings.watch.metrics_port, runner.status)
                metrics.start()
                out.emit("info", "serving /metrics, /healthz, /readyz", port=metrics.port)
            except Exception as exc:  # noqa: BLE001 - metrics are an aid; the watcher goes on
                out.emit("warning", f"metrics server not started: {exc}")

        def on_signal(signum: int, frame: Any) -> None:
            stop.set()

        old = {}
        if threading.current_thread() is threading.main_thread():
            old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            _loop(runner, out, summary_s, stop)
        finally:
            for s, h in old.items():
                signal.signal(s, h)
        out.emit("info", "stopping: flushing the pending batch")
        runner.stop()
        st = runner.status()
        out.emit("info", "watcher stopped", **_summary_fields(st))
        return exitcodes.OK
    finally:
        if metrics is not None:
            try:
                metrics.stop()
            except Exception:  # noqa: BLE001
                pass
        stack.close()


def _summary_fields(st: Any) -> dict[str, Any]:
    c = st.counts or {}
    return {"state": st.state, "events": c.get("events", 0), "stored": c.get("stored", 0), "batches": c.get("batches", 0),
            "deleted": c.get("deleted", 0), "gone_marked": c.get("gone_marked", 0), "relists": c.get("relists", 0),
            "errors": c.get("errors", 0), "logs": c.get("logs", 0), "annotations": c.get("annotations", 0),
            "events_per_s": round(st.events_per_s, 1), "backlog": st.backlog}


def _loop(runner: Any, out: _Out, summary_s: float, stop: threading.Event) -> None:
    last: tuple[Any, ...] | None = None
    last_error = None
    next_summary = time.monotonic() + summary_s
    while not stop.wait(0.25):
        st = runner.status()
        key = (st.state, st.reason, getattr(st, "leader", None))
        if key != last:
            last = key
            level = "warning" if st.state == "reconnecting" or (st.state == "off" and st.reason) else "info"
            msg = f"watcher {st.state}" + (f": {st.reason}" if st.reason else "")
            out.emit(level, msg, leader=st.leader)
        if st.last_error and st.last_error != last_error:
            last_error = st.last_error
            out.emit("warning", f"last error: {st.last_error}")
        if time.monotonic() >= next_summary:
            next_summary = time.monotonic() + summary_s
            out.emit("info", "summary", **_summary_fields(st))
