"""A proxy that closes every watch at once, cleanly and empty (as some load balancers do), must not make the
informer reconnect in a tight loop: such ends count as quick drops and back off."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tekton_results_tui.settings import Settings
from tekton_results_tui.watcher.service import WatcherService

from .helpers import wait_for


class _CuttingProxy(BaseHTTPRequestHandler):
    """Forwards to the sim; answers every WATCH with an empty 200 that ends at once."""

    protocol_version = "HTTP/1.1"
    upstream_port = 0

    def log_message(self, *a) -> None:  # noqa: ANN002
        pass

    def _handle(self) -> None:
        if "watch=true" in self.path or "watch=1" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


@pytest.fixture
def proxy_kubeconfig(sim, kubeconfig, tmp_path: Path):
    handler = type("P", (_CuttingProxy,), {"upstream_port": sim.port})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    path = tmp_path / "proxy.kubeconfig"
    path.write_text(Path(kubeconfig).read_text().replace(f":{sim.port}", f":{srv.server_address[1]}"))
    yield str(path)
    srv.shutdown()
    srv.server_close()


def test_empty_watches_closed_at_once_back_off(sim, proxy_kubeconfig, history):
    s = Settings.of(db_url="unused", kubeconfig=proxy_kubeconfig, capture_logs=False, capture_events=False,
                    annotate=False, read_timeout_s=5.0, backoff_cap_s=2.0)
    svc = WatcherService(s, history)
    svc.start()
    try:
        inf = next(i for i in svc._informers if i.plural == "pipelineruns")
        wait_for(lambda: inf.backoff.attempt >= 2, what="the informer backing off")
        assert svc.counters.get("quick_ends") >= 3
    finally:
        svc.stop(5.0)
