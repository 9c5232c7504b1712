"""`tekton-results-tui serve` as a new user runs it: a process on a port, then upstream's documented
curl calls (docs/api/README.md, docs/api/summary-api.md) against it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import populate
from foreground import foreground
from simkit import wait_for

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")


def start_serve(db_file: Path, *options: str) -> tuple[subprocess.Popen[str], int]:
    """A populated history at db_file served by a new `serve` process on a free port; the process and port."""
    url = f"sqlite:///{db_file}"
    db = open_database(url)
    populate(History(db))
    db.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(foreground([sys.executable, "-m", "tekton_results_tui", "serve", "--db", url, "--listen",
                                        f"127.0.0.1:{port}", *options]), stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return proc, port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One serve process for the module (starting the program is most of a test's time)."""
    proc, port = start_serve(tmp_path_factory.mktemp("serve") / "h.db")
    try:
        line = proc.stderr.readline()
        assert "serving" in line and f"http://127.0.0.1:{port}" in line, line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        assert stopped(proc) in (0, 130)


def stopped(proc: subprocess.Popen[str]) -> int | None:
    """The exit code of a serve sent Ctrl-C (60 s allowed on a loaded machine); killed if it is still running."""
    try:
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def curl(*args: str) -> tuple[int, str]:
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30)
    body, _, code = out.stdout.rpartition("\n")
    return int(code), body


def test_the_issue_example_and_upstream_curl_examples(server: str) -> None:
    base = server + "/apis/results.tekton.dev/v1alpha2/parents"
    code, body = curl(f"{base}/-/results?filter=summary.status==FAILURE")
    assert code == 200 and len(json.loads(body)["results"]) == 1
    # docs/api/README.md "Using CEL Filtering Expressions with REST": GET of the Result named `-/results/-`
    # (not a listing: upstream answers it with an error too), with a getDate() filter
    code, body = curl("--insecure", "-H", "Authorization: Bearer x", "-H", "Accept: application/json",
                      f"{base}/-/results/-?filter=data.status.completionTime.getDate()==7")
    assert code == 404
    # the same filter on the listing it was meant for: a 400 naming the construct
    code, body = curl("-G", "--data-urlencode", "filter=data.status.completionTime.getDate()==7", f"{base}/-/results/-/records")
    assert code == 400 and "getDate" in json.loads(body)["message"]
    # "Filtering Response": `fields` (an upstream feature gate) is ignored: the whole records come back
    code, body = curl("-kG", "--data-urlencode", "fields=records.name, records.data.value.metadata",
                      f"{base}/ci/results/-/records")
    assert code == 200 and all("data" in r for r in json.loads(body)["records"])
    # "Health"
    code, body = curl("-k", server + "/healthz")
    assert code == 200 and json.loads(body) == {"status": "SERVING"}
    code, body = curl("-k", server + "/healthz?service=tekton.results.v1alpha2.Results")
    assert code == 200
    # docs/api/summary-api.md
    code, body = curl("--insecure", "-H", "Accept: application/json",
                      f"{base}/-/results/-/records/summary?summary=total")
    assert code == 200 and json.loads(body) == {"summary": [{"total": 18}]}
    code, body = curl("-G", "--data-urlencode", "summary=total,succeeded,running,total_duration,avg_duration,"
                      "last_runtime,min_duration,max_duration,failed,others,cancelled", "--data-urlencode",
                      "group_by=pipeline", "--data-urlencode", "order_by=DESC avg_duration",
                      f"{base}/-/results/-/records/summary")
    assert code == 200 and [g["group_value"] for g in json.loads(body)["summary"]] == ["prod/deploy", "ci/test", "ci/build"]


DOC_FILTERS = [  # the "Commonly used filters" table of docs/api/README.md, on Records unless said
    ("records", "data.metadata.name == 'hello'", 200),
    ("records", "data.metadata.labels['tekton.dev/pipelineRun'] == 'foo'", 200),
    ("records", "data.metadata.labels['tekton.dev/pipeline'] == 'bar'", 200),
    ("records", "data.metadata.labels['tekton.dev/pipeline'] == 'bar' && data_type == 'PIPELINE_RUN'", 200),
    ("records", "data.metadata.name.startsWith('hello')&&dat_type==TASK_RUN", 400),  # the doc's typo: dat_type
    ("results", "summary.status == SUCCESS && summary.type == 'TASK_RUN'", 200),
    ("records", "data.status.completionTime - data.status.startTime > duration('5m') && data_type == 'PIPELINE_RUN'", 200),
    ("records", "data.status.completionTime.getDate() == 7", 400),
    ("records", "data.metadata.annotations.contains('bar') && data_type == 'PIPELINE_RUN'", 200),
    ("records", "data.metadata.annotations.contains('bar') && data.metadata.name.startsWith('foo') && data_type == 'PIPELINE_RUN'", 200),
    ("results", "summary.annotations.contains('foo') && summary.annotations.contains('bar')", 200),
    ("results", "!(summary.status == SUCCESS)", 200),
    ("records", "!(data.status.conditions[0].status == 'True')", 200),
    ("records", "size(data.status.pipelineSpec.tasks) >= 3 && data_type == 'PIPELINE_RUN'", 400),
    ("records", 'data_type == "tekton.dev/v1.TaskRun" && name.startsWith("foo/results/bar")', 200),
    ("records", "data.metadata.name in ['hello', 'foo', 'bar']", 200),
    ("records", "data.status.completionTime > data.status.startTime", 400),
    ("records", 'data.status.startTime > timestamp("2021-02-02T22:37:32Z")', 200),
    ("records", 'name.matches("^foo.*$")', 400),
]


@pytest.mark.parametrize("on,cel,code", DOC_FILTERS, ids=[c for _, c, _ in DOC_FILTERS])
def test_upstream_doc_filters(server: str, on: str, cel: str, code: int) -> None:
    path = "/-/results" if on == "results" else "/-/results/-/records"
    got, body = curl("-G", "--data-urlencode", f"filter={cel}",
                     server + "/apis/results.tekton.dev/v1alpha2/parents" + path)
    assert got == code, body
    if code == 400:
        assert json.loads(body)["code"] == 3


def test_several_processes_share_the_port(tmp_path: Path) -> None:
    proc, port = start_serve(tmp_path / "h.db", "--processes", "3")
    try:
        assert "serving" in proc.stderr.readline()
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2  # the two extra serving processes (spawn may add its resource tracker)
        for _ in range(30):  # new connections each time: the kernel spreads them over the processes
            code, body = curl(f"http://127.0.0.1:{port}/apis/results.tekton.dev/v1alpha2/parents/-/results")
            assert code == 200 and len(json.loads(body)["results"]) == 6, body
        codes = [curl(f"http://127.0.0.1:{port}/healthz")[0] for _ in range(10)]
    finally:
        proc.send_signal(signal.SIGINT)
        rc = stopped(proc)
    assert rc in (0, 130)

    def gone(c: str) -> bool:
        try:
            return "zombie" in Path(f"/proc/{c}/status").read_text()
        except OSError:
            return True

    wait_for(lambda: all(gone(c) for c in children), timeout=20, what="the extra serving processes to exit")
    assert codes.count(200) == 10


def raw_get(port: int, target: bytes) -> tuple[int, str]:
    """A GET sent as bytes (past what a command line holds; bytes no HTTP client sends): status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_a_long_filter_is_served_and_an_over_long_request_line_is_one_log_line(tmp_path: Path) -> None:
    """A filter within the API's 8,192 characters travels in the URL, encoded (past aiohttp's default
    8,190-byte request line); a request line past serve's limit is the client's error: 400, and one line in
    the log, not a traceback."""
    proc, port = start_serve(tmp_path / "h.db")
    base = f"http://127.0.0.1:{port}/apis/results.tekton.dev/v1alpha2/parents/-/results/-/records"
    try:
        assert "serving" in proc.stderr.readline()
        names = " || ".join(f'data.metadata.name == "no-such-run-{i:04d}"' for i in range(180))
        assert len(names) <= 8192 < len(urllib.parse.quote(names))
        code, body = curl("-G", "--data-urlencode", f"filter={names}", base)
        assert code == 200 and json.loads(body) == {}, body
        for target in (b"/?filter=" + b"x" * (140 * 1024), b"/?filter=\x1b]0;pwned\x07"):  # too long; controls
            code, body = raw_get(port, target)
            assert code == 400 and "Traceback" not in body, body
    finally:
        proc.send_signal(signal.SIGINT)
        rc = stopped(proc)
        err = proc.stderr.read()
    assert rc in (0, 130)
    assert "Traceback" not in err, err
    said = [ln for ln in err.splitlines() if "Error handling request" in ln]
    assert len(said) == 2 and "Got more than" in said[0] and "Invalid char" in said[1], err
    assert all(len(ln) < 400 for ln in said), err
    assert "\x1b" not in err and "\x07" not in err  # the client's bytes never reach the terminal raw
