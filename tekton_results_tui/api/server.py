"""Start `serve`: open the history read-only, choose the authorizer, listen (TLS when given) until
interrupted. `--auth none` is refused unless the address is loopback: an open history is an open door.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import multiprocessing
import signal
import socket
import ssl
import threading
from dataclasses import dataclass, replace
from typing import Callable

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from tekton_results_tui.api import DEFAULT_LISTEN
from tekton_results_tui.api.app import ResultsApi
from tekton_results_tui.api.auth import AllowAll, Authorizer, KubernetesAuthorizer
from tekton_results_tui.errors import UsageError
from tekton_results_tui.textsafe import visible

# The longest request line served: any filter within the API's 8,192 characters, percent-encoded (up to 12
# bytes a character: emoji), fits with its path, where aiohttp's default 8,190 bytes refused ~150 `||` terms.
# Go's net/http, upstream's server, allows 1 MiB of headers; 128 KiB bounds what one connection can make the
# server buffer.
MAX_REQUEST_LINE = 128 * 1024


class _ClientErrorsOneLine(logging.Filter):
    """A malformed request (a request line over the limit, broken headers) is the client's mistake: aiohttp
    answers it 400 and logged the parser's traceback; the log gets one line naming it instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BadHttpMessage):
            text = visible(" ".join(str(exc).split()))  # the client's bytes: shown, never obeyed by a terminal
            record.msg, record.args = "%s: %s", (record.getMessage(), text[:200] + ("…" if len(text) > 200 else ""))
            record.exc_info = record.exc_text = None
            if record.levelno > logging.WARNING:  # aiohttp's DEBUG ones (a stray non-HTTP first line) stay DEBUG
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


@dataclass(frozen=True)
class ServeOptions:
    listen: str = DEFAULT_LISTEN
    auth: str | None = None  # "kubernetes" | "none"; None: none on loopback, kubernetes elsewhere
    tls_cert: str | None = None
    tls_key: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    workers: int = 16
    processes: int = 1  # >1: that many processes share the port (SO_REUSEPORT), each with its own GIL
    db_url: str | None = None  # what the extra processes open (read-only); the first uses the bound history


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT ([::1]:8080 for IPv6; :8080 means every address)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_mode(opts: ServeOptions, host: str) -> str:
    mode = opts.auth or ("none" if is_loopback(host) else "kubernetes")
    if mode == "none" and not is_loopback(host):
        raise UsageError(f"--auth none on {host}, which is not a loopback address: anyone who can reach it would read "
                         "the whole history; use --auth kubernetes, or listen on 127.0.0.1")
    return mode


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise UsageError("--tls-cert and --tls-key go together")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"TLS certificate {cert} / key {key}: {exc}") from None
    return ctx


def kubernetes_authorizer(kubeconfig: str | None, context: str | None) -> Authorizer:
    from tekton_results_tui.watcher.kube import load_target

    target = load_target(kubeconfig, context)
    return KubernetesAuthorizer(target.new_api_client())


async def _serve(api: ResultsApi, host: str, port: int, tls: ssl.SSLContext | None,
                 ready: Callable[[str], None] | None, stop: asyncio.Event | None, reuse_port: bool = False) -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _ClientErrorsOneLine) for f in server_log.filters):
        server_log.addFilter(_ClientErrorsOneLine())
    runner = web.AppRunner(api.app(), access_log=None, handle_signals=False, max_line_size=MAX_REQUEST_LINE)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=tls, backlog=512, reuse_port=reuse_port or None)
    await site.start()
    bound = port
    for s in runner.addresses:
        if isinstance(s, tuple) and len(s) >= 2:
            bound = s[1]
            break
    if stop is None:
        stop = asyncio.Event()
    if threading.current_thread() is threading.main_thread():  # SIGTERM (kubelet, kill): a clean stop,
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)  # extra processes included
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    if ready is not None:
        ready(f"{scheme}://{shown}:{bound}")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(opts: ServeOptions, ready: Callable[[str], None] | None = None, stop: asyncio.Event | None = None,
          authorizer: Authorizer | None = None) -> None:
    """Serve the bound history until interrupted (or `stop` is set)."""
    host, port = parse_listen(opts.listen)
    mode = auth_mode(opts, host)
    tls = tls_context(opts.tls_cert, opts.tls_key)
    if opts.processes > 1 and not opts.db_url:
        raise UsageError("serving from several processes needs the database URL")
    if authorizer is None:
        authorizer = AllowAll() if mode == "none" else kubernetes_authorizer(opts.kubeconfig, opts.context)
    api = ResultsApi(authorizer, workers=opts.workers)
    children: list[multiprocessing.process.BaseProcess] = []
    if opts.processes > 1:
        if port == 0:  # every process must bind the same port: choose it now
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections or threads
        child_opts = replace(opts, listen=f"[{host}]:{port}" if ":" in host else f"{host}:{port}", processes=1)
        for _ in range(opts.processes - 1):
            p = ctx.Process(target=_child, args=(child_opts,), daemon=True)
            p.start()
            children.append(p)
    try:
        asyncio.run(_serve(api, host, port, tls, ready, stop, reuse_port=opts.processes > 1))
    finally:
        for p in children:
            p.terminate()
        for p in children:
            p.join(10)


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when the process that started it dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(opts: ServeOptions) -> None:
    """One more serving process: opens the history read-only itself and shares the port."""
    from tekton_results_tui.store.db import open_database

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the first process stops the others
    _die_with_parent()
    db = open_database(opts.db_url or "", read_only=True)
    try:
        host, port = parse_listen(opts.listen)
        mode = auth_mode(opts, host)
        authorizer = AllowAll() if mode == "none" else kubernetes_authorizer(opts.kubeconfig, opts.context)
        api = ResultsApi(authorizer, workers=opts.workers)
        asyncio.run(_serve(api, host, port, tls_context(opts.tls_cert, opts.tls_key), None, None, reuse_port=True))
    finally:
        db.close()
