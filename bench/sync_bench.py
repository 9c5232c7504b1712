"""`sync` throughput: Records/s from a local Results server into a fresh history, against the raw limit.

The source is `tekton-results-tui serve` (`--serve-processes N`) over a history built for the run (from
the test suite's recorded-shape fake server, synced once), or the fake itself with `--source fake`. Both
run in their own process. Measured in the same run:
- raw: the client alone — list every page (HTTP + JSON + base64) and fetch every log, storing nothing;
- sync: the same requests, classified and applied to a fresh SQLite (and PostgreSQL when reachable), with
  the ratio sync/raw and the CPU seconds of each process: the writer (this one), the reader process that
  fetches, decodes and classifies pages after the first (sources/sync_reader.py), and the server;
- runs only, also: the store alone (no HTTP), and the sync with every page read in the writing process
  (as before the reader process) for comparison.
Every figure is printed with the 1-minute load average: the machine's 2 cores are shared, and three busy
processes (server, reader, writer) share them in a sync.
Goal: >= 5,000 Records/s for sync.

    .venv/bin/python bench/sync_bench.py [--pipelineruns 2000] [--source serve|fake] [--serve-processes 1] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tekton_results_tui.sources.client import ResultsClient  # noqa: E402
from tekton_results_tui.sources.records import LOG_TYPES  # noqa: E402
from tekton_results_tui.sources.sync import ResultsSync  # noqa: E402
from tekton_results_tui.store.db import open_database  # noqa: E402
from tekton_results_tui.store.history import History  # noqa: E402

PAGE = 1000


def start(cmd: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()[-2000:]}")
        try:
            requests.get(url + "/healthz", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def raw_pass(url: str, workers: int = 8, keep: list | None = None) -> tuple[int, float]:
    """The client alone: every page listed and decoded, every log fetched; nothing stored."""
    c = ResultsClient(url, read_timeout_s=120)
    t0 = time.perf_counter()
    n, token = 0, ""
    with ThreadPoolExecutor(workers) as pool:
        while True:
            page = c.list_records("-", "-", "", "update_time asc", PAGE, token)
            n += len(page.records)
            if keep is not None:
                keep.append(page.records)
            list(pool.map(lambda r: c.get_log(r.name), [r for r in page.records if r.type in LOG_TYPES]))
            token = page.next_page_token
            if not token:
                break
    c.close()
    return n, time.perf_counter() - t0


def store_only(pages: list, db_url: str) -> tuple[int, float]:
    """The runs of the same pages classified and applied to a fresh history, no HTTP: the store's ceiling."""
    from tekton_results_tui.sources.records import translate

    db = open_database(db_url)
    h = History(db)
    t0 = time.perf_counter()
    n = 0
    for recs in pages:
        t = translate(recs)
        n += len(t.changes)
        h.apply(t.changes, cluster="bench")
    dt = time.perf_counter() - t0
    db.close()
    return n, dt


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def cpu_of(pid: int) -> float:
    """CPU seconds of a running process (the server)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sync_pass(url: str, db_url: str, reader_process: bool | None = None,
              server_pid: int | None = None) -> tuple[int, float, object, str]:
    """One sync into a fresh history: Records, seconds, stats, and where the CPU went."""
    db = open_database(db_url)
    h = History(db)
    s = ResultsSync(h, ResultsClient(url, read_timeout_s=120), "bench", page_size=PAGE, reader_process=reader_process)
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the reader process, once it has ended
    srv0 = cpu_of(server_pid) if server_pid else 0.0
    t0 = time.perf_counter()
    stats = s.run_once()
    dt = time.perf_counter() - t0
    own1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (f"CPU s: writer {own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime:.2f}, "
           f"reader {kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime:.2f}"
           + (f", server {cpu_of(server_pid) - srv0:.2f}" if server_pid else ""))
    db.close()
    return stats.records, dt, stats, cpu


def measure(a: argparse.Namespace, tmp: Path, logs: bool) -> None:
    procs: list[subprocess.Popen] = []
    tag = "with logs" if logs else "runs only"
    try:
        fake = start([sys.executable, str(ROOT / "tests/sources/fake_results.py"), "--pipelineruns", str(a.pipelineruns)]
                     + ([] if logs else ["--no-logs"]))
        procs.append(fake)
        line = fake.stdout.readline().split()
        fake_url, count = line[0], int(line[1])
        print(f"\n== {tag}: {count} Records ({a.pipelineruns} PipelineRuns, 3 TaskRuns each"
              + (", a Log per TaskRun)" if logs else ")"))
        url, server_pid = fake_url, fake.pid
        if a.source == "serve":
            db_a = "sqlite:///" + str(tmp / f"a-{tag[:4]}.db")
            n, dt, _, _ = sync_pass(fake_url, db_a)
            print(f"history A built by sync from the fake: {n} Records in {dt:.1f}s")
            port = free_port()
            serve = start([sys.executable, "-m", "tekton_results_tui", "serve", "--db", db_a, "--listen",
                           f"127.0.0.1:{port}", "--auth", "none"]
                          + (["--processes", str(a.serve_processes)] if a.serve_processes > 1 else []))
            procs.append(serve)
            url, server_pid = f"http://127.0.0.1:{port}", (serve.pid if a.serve_processes == 1 else None)
            wait_http(url, serve)
        print(f"source: {a.source} at {url}")
        pages: list = []
        n, dt = raw_pass(url, keep=pages)
        raw_rate = n / dt
        print(f"raw HTTP+JSON (list + decode + log fetch, nothing stored): {n} Records in {dt:.2f}s = "
              f"{raw_rate:,.0f} Records/s ({load()})")
        if not logs:
            n, dt = store_only(pages, "sqlite:///" + str(tmp / f"s-{tag[:4]}.db"))
            print(f"store alone (classify + History.apply of the same runs, no HTTP), SQLite: {n} runs in {dt:.2f}s "
                  f"= {n / dt:,.0f} runs/s ({load()})")
            n, dt, stats, cpu = sync_pass(url, "sqlite:///" + str(tmp / f"i-{tag[:4]}.db"), reader_process=False,
                                          server_pid=server_pid)
            print(f"sync into SQLite, every page read in the writing process: {n} Records in {dt:.2f}s = "
                  f"{n / dt:,.0f} Records/s, {n / dt / raw_rate:.0%} of raw ({cpu}; {load()})")
        n, dt, stats, cpu = sync_pass(url, "sqlite:///" + str(tmp / f"b-{tag[:4]}.db"), server_pid=server_pid)
        print(f"sync into SQLite: {n} Records in {dt:.2f}s = {n / dt:,.0f} Records/s, {n / dt / raw_rate:.0%} of raw "
              f"({stats.runs} runs, {stats.logs} logs, {stats.skipped} skipped; {stats.pages} pages, "
              f"{stats.reader_pages} by the reader process; {stats.store_seconds:.2f}s in History.apply; {cpu}; "
              f"{load()})")
        try:
            import psycopg2

            psycopg2.connect(a.pg, connect_timeout=3).close()
            schema = "bench_" + uuid.uuid4().hex[:8]
            pg = f"{a.pg}{'&' if '?' in a.pg else '?'}schema={schema}"
            try:
                n, dt, stats, cpu = sync_pass(url, pg, server_pid=server_pid)
                print(f"sync into PostgreSQL: {n} Records in {dt:.2f}s = {n / dt:,.0f} Records/s, "
                      f"{n / dt / raw_rate:.0%} of raw ({stats.store_seconds:.2f}s in History.apply; {cpu}; {load()})")
            finally:
                conn = psycopg2.connect(a.pg)
                conn.autocommit = True
                conn.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.close()
        except Exception as exc:  # noqa: BLE001
            print(f"PostgreSQL: not measured ({str(exc).splitlines()[0] if str(exc) else exc!r})")
        n, dt, stats, _ = sync_pass(url, "sqlite:///" + str(tmp / f"b-{tag[:4]}.db"))
        print(f"second sync (nothing changed): {stats.requests} requests, {dt * 1000:.0f} ms")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipelineruns", type=int, default=2000, help="each with 3 TaskRuns (and a Log per TaskRun)")
    ap.add_argument("--source", choices=("serve", "fake"), default="serve")
    ap.add_argument("--serve-processes", type=int, default=1, help="serve --processes N (default 1)")
    ap.add_argument("--pg", default=os.environ.get("TEKTON_RESULTS_TUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    print(f"start: {load()}")
    measure(a, tmp, logs=True)
    measure(a, tmp, logs=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
