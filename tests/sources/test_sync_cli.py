"""`tekton-results-tui sync` as a user runs it: exit codes, one-line errors, resuming after kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from fake_results import FakeResults
from foreground import foreground
from store_objects import pr, tr

from tekton_results_tui.bootstrap import history_at
from tekton_results_tui.cli import main

CLUSTER = "src"


def sync(url: str, db: str, *extra: str) -> int:
    return main(["sync", "--results-api", url, "--db", db, "--cluster-name", CLUSTER, "-q", *extra])


def sync_until_held(fake: FakeResults, db_url: str) -> subprocess.Popen:
    """`sync` in its own process (as a foreground job: SIGINT at its default), returned once the fake server
    holds one of its requests; fails with its stderr if it ended or never got there."""
    cmd = [sys.executable, "-m", "tekton_results_tui", "sync", "--results-api", fake.url, "--db", db_url,
           "--cluster-name", CLUSTER, "--page-size", "5", "-q"]
    proc = subprocess.Popen(foreground(cmd), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not fake.held.wait(0.5) and proc.poll() is None and time.monotonic() < deadline:
        pass
    if not (fake.held.is_set() and proc.poll() is None):
        if proc.poll() is None:
            proc.kill()
        pytest.fail(f"the sync never reached the held request: {proc.stderr.read()}")  # type: ignore[union-attr]
    return proc


def fill(fake: FakeResults, n: int) -> list[dict]:
    objs = []
    for i in range(n):
        p = pr(f"run-{i}")
        t = tr(f"run-{i}-t", p)
        fake.put_run(p)
        fake.put_run(t)
        fake.put_log(t, f"[build] line of run {i}\n".encode())
        objs += [p, t]
    return objs


def stored(db_url: str) -> dict[str, str]:
    """Record name -> stored object text, every Record of the history (runs, logs)."""
    with history_at(db_url, read_only=True) as h:
        out = {}
        token = None
        while True:
            page = h.list_records(None, page_token=token, limit=500, order="newest")
            for r in page.items:
                out[r.name] = h.record_data(r.id)
            token = page.next_token
            if not token:
                return out


def test_sync_then_again_exit_zero_and_nothing_new(db_url, fake, capsys):
    fill(fake, 3)
    assert sync(fake.url, db_url) == 0
    first = stored(db_url)
    assert len(first) == 9  # 3 PipelineRuns, 3 TaskRuns, 3 Logs
    fake.requests.clear()
    assert sync(fake.url, db_url) == 0
    assert len(fake.list_requests()) == 1 and fake.log_requests() == []
    assert stored(db_url) == first


@pytest.mark.parametrize("mode, says", [
    ("garbage", "not JSON"),
    ("html", "not JSON (starting '<html><body><h1>Welcome to nginx!"),
    ("wrong-shape", "not a ListRecords response"),
    ("503", "HTTP 503"),
])
def test_garbage_answers_are_one_line_exit_2_and_keep_what_was_synced(db_url, fake, capsys, mode, says):
    fill(fake, 2)
    assert sync(fake.url, db_url) == 0
    before = stored(db_url)
    fill(fake, 1)
    fake.mode = mode
    capsys.readouterr()
    assert sync(fake.url, db_url) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tekton-results-tui sync: error: list records:") and says in err[0], err
    assert "Traceback" not in err[0]
    assert stored(db_url) == before
    fake.mode = "ok"
    assert sync(fake.url, db_url) == 0
    assert len(stored(db_url)) == len(before) + 3


def test_a_server_that_is_down(sqlite_url, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert sync(f"http://127.0.0.1:{port}", sqlite_url) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tekton-results-tui sync: error: list records: cannot reach http://127.0.0.1:{port}: "
                   "connection refused (what was synced before is kept; run again to resume)"]


def test_a_slow_server_times_out(sqlite_url, spelling, capsys):
    fake = FakeResults(spelling=spelling).start()
    try:
        fill(fake, 1)
        fake.mode, fake.slow_s = "slow", 2.0
        assert sync(fake.url, sqlite_url, "--timeout", "0.2s") == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "did not answer within 0.2s (tried 4 times)" in err[0], err
    finally:
        fake.stop()


def test_bad_records_are_named_exit_1(sqlite_url, fake, capsys):
    fill(fake, 1)
    fake.mode = "bad-records"
    assert sync(fake.url, sqlite_url) == 1
    err = capsys.readouterr().err
    assert "skipped: a str where a Record was expected" in err and "data.value is not base64" in err


def test_bad_url_and_missing_flag(sqlite_url, capsys):
    assert main(["sync", "--db", sqlite_url]) == 2
    assert "--results-api URL is required" in capsys.readouterr().err
    assert sync("ftp://example.org", sqlite_url) == 2
    assert "expected an http:// or https:// URL" in capsys.readouterr().err


@pytest.mark.parametrize("sig, code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)], ids=["kill-9", "ctrl-c"])
def test_resumes_after_kill_9_or_ctrl_c(db_url, spelling, tmp_path, sig, code):
    fake = FakeResults(spelling=spelling).start()
    try:
        fill(fake, 20)  # 60 records, 12 pages of 5
        # the 5th page is held until the signal is sent: the sync has applied pages 1-3 (it asks for page n+1
        # once it has page n) and cannot finish, however fast it or the machine is
        fake.hold_after = 4
        proc = sync_until_held(fake, db_url)
        try:
            os.kill(proc.pid, sig)
        finally:
            # the held request is let go only now: the signal is pending in the sync's main thread, which runs
            # its handler as soon as it runs Python again, before it can apply another page (a Ctrl-C'd process
            # no longer waits for a request in flight: see test_ctrl_c_does_not_wait_for_log_downloads_in_flight)
            fake.gate.set()
            try:
                rc = proc.wait(60)
            finally:
                if proc.poll() is None:
                    proc.kill()
        assert rc == code, proc.stderr.read()
        partial = stored(db_url)
        assert 15 <= len(partial) <= 20  # pages 1-3 committed, page 4 wholly or not at all
        fake.hold_after = 0
        fake.requests.clear()
        assert sync(fake.url, db_url, "--page-size", "5") == 0
        # the second run started from its cursor, not from the beginning
        first = fake.list_requests()[0]
        assert "update_time >= timestamp(" in first["filter"][0]
        served_again = sum(1 for _ in fake.log_requests())
        assert served_again < 20
        # the same history as one uninterrupted sync
        clean = "sqlite:///" + str(tmp_path / "clean.db")
        assert sync(fake.url, clean, "--page-size", "5") == 0
        resumed, whole = stored(db_url), stored(clean)
        assert resumed.keys() == whole.keys() and len(whole) == 60
        import json
        assert {k: json.loads(v) for k, v in resumed.items()} == {k: json.loads(v) for k, v in whole.items()}
    finally:
        fake.stop()


def test_token_and_kubeconfig_credentials_reach_the_server(sqlite_url, fake, tmp_path):
    fill(fake, 1)
    assert sync(fake.url, sqlite_url, "--token", "s3cret") == 0
    assert set(fake.authorizations) == {"Bearer s3cret"}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: other\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\n"
        "users: [{name: u, user: {token: from-kubeconfig}}]\n"
        "contexts: [{name: ctx, context: {cluster: c, user: u}}, {name: other, context: {cluster: c, user: u}}]\n")
    fake.authorizations.clear()
    assert sync(fake.url, sqlite_url, "--kubeconfig", str(kubeconfig), "--context", "ctx") == 0
    assert set(fake.authorizations) == {"Bearer from-kubeconfig"}


def test_tls_is_verified_unless_skipped(sqlite_url, tmp_path, capsys):
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    fake = FakeResults()
    fake.ssl_context = ctx
    fake.start()
    try:
        fill(fake, 1)
        assert sync(fake.url, sqlite_url) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "TLS failed" in err[0] and "--insecure-skip-tls-verify" in err[0], err
        assert sync(fake.url, sqlite_url, "--insecure-skip-tls-verify") == 0
        assert len(stored(sqlite_url)) == 3
    finally:
        fake.stop()


def test_follow_picks_up_new_runs_until_sigterm(sqlite_url, fake):
    fill(fake, 1)
    cmd = [sys.executable, "-m", "tekton_results_tui", "sync", "--results-api", fake.url, "--db", sqlite_url,
           "--cluster-name", CLUSTER, "--follow", "--sync-interval", "0.2s", "-q"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    try:
        def wait_for(n: int) -> None:
            for _ in range(600):
                assert proc.poll() is None, proc.stderr.read()
                try:
                    if len(stored(sqlite_url)) >= n:
                        return
                except Exception:  # noqa: BLE001 - the history is being created
                    pass
                fake.page_served.wait(0.1)
                fake.page_served.clear()
            raise AssertionError(f"never {n} records")

        wait_for(3)
        fill(fake, 1)
        wait_for(6)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_server_trickling_a_page_forever_is_cut_by_the_total_deadline(sqlite_url, capsys):
    """Each byte arrives within the read timeout, the page never ends: one line, exit 2."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    stop = threading.Event()

    class Trickle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000000")
            self.end_headers()
            self.wfile.write(b'{"records": [')
            while not stop.wait(0.05):
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        from tekton_results_tui.sources import client

        real = client.ResultsClient.__init__

        def short(self, *a, **kw):  # the deadline is max(60 s, 10 read timeouts): shortened for the test
            real(self, *a, **kw)
            self.total_timeout_s = 1.0

        client.ResultsClient.__init__ = short
        try:
            assert sync(f"http://127.0.0.1:{httpd.server_address[1]}", sqlite_url, "--timeout", "1s") == 2
        finally:
            client.ResultsClient.__init__ = real
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "took longer than 1s to answer" in err[0], err
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def test_ctrl_c_does_not_wait_for_log_downloads_in_flight(sqlite_url):
    """Ctrl-C while log downloads are in flight (the next page's are fetched while this one is written):
    the sync exits at once with 130, not when the server answers them (it waited for each, up to the
    client's total deadline of 60-300 s); what it had applied stays, and a second sync completes it."""
    fake = FakeResults().start()
    try:
        fill(fake, 20)  # 60 records, 12 pages of 5, a log for each TaskRun
        fake.hold_logs_after = 3  # logs past the third wait until the gate opens
        proc = sync_until_held(fake, sqlite_url)
        try:
            os.kill(proc.pid, signal.SIGINT)
            try:
                rc = proc.wait(30)  # the held logs are never answered before it exits
            except subprocess.TimeoutExpired:
                rc = None
            assert rc == 130, "a Ctrl-C'd sync still waits for the log requests it has in flight"
        finally:
            fake.gate.set()
            if proc.poll() is None:
                proc.wait(60)
        fake.hold_logs_after = 0
        assert sync(fake.url, sqlite_url, "--page-size", "5") == 0
        assert len(stored(sqlite_url)) == 60
    finally:
        fake.gate.set()
        fake.stop()
