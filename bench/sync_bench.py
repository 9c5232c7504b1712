"""`sync` throughput: Records/s from a local Results server into a fresh history, against the raw limit.

The source is `tekton-results-tui serve` over a history built for the run (from the test suite's
recorded-shape fake server, synced once), or the fake itself with `--source fake`. Both run in their
own process. Measured in the same run:
- raw: the client alone — list every page (HTTP + JSON + base64) and fetch every log, storing nothing;
- sync: the same requests, classified and applied to a fresh SQLite (and PostgreSQL when reachable).
Goal: >= 5,000 Records/s for sync.

    .venv/bin/python bench/sync_bench.py [--pipelineruns 2000] [--source serve|fake] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
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


def sync_pass(url: str, db_url: str) -> tuple[int, float, object]:
    db = open_database(db_url)
    h = History(db)
    s = ResultsSync(h, ResultsClient(url, read_timeout_s=120), "bench", page_size=PAGE)
    t0 = time.perf_counter()
    stats = s.run_once()
    dt = time.perf_counter() - t0
    db.close()
    return stats.records, dt, stats


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
        url = fake_url
        if a.source == "serve":
            db_a = "sqlite:///" + str(tmp / f"a-{tag[:4]}.db")
            n, dt, _ = sync_pass(fake_url, db_a)
            print(f"history A built by sync from the fake: {n} Records in {dt:.1f}s")
            port = free_port()
            serve = start([sys.executable, "-m", "tekton_results_tui", "serve", "--db", db_a, "--listen",
                           f"127.0.0.1:{port}", "--auth", "none"])
            procs.append(serve)
            url = f"http://127.0.0.1:{port}"
            wait_http(url, serve)
        print(f"source: {a.source} at {url}")
        pages: list = []
        n, dt = raw_pass(url, keep=pages)
        print(f"raw HTTP+JSON (list + decode + log fetch, nothing stored): {n} Records in {dt:.2f}s = {n / dt:,.0f} Records/s")
        if not logs:
            n, dt = store_only(pages, "sqlite:///" + str(tmp / f"s-{tag[:4]}.db"))
            print(f"store alone (classify + History.apply of the same runs, no HTTP), SQLite: {n} runs in {dt:.2f}s "
                  f"= {n / dt:,.0f} runs/s")
        n, dt, stats = sync_pass(url, "sqlite:///" + str(tmp / f"b-{tag[:4]}.db"))
        print(f"sync into SQLite: {n} Records in {dt:.2f}s = {n / dt:,.0f} Records/s "
              f"({stats.runs} runs, {stats.logs} logs, {stats.skipped} skipped; {stats.store_seconds:.2f}s in History.apply)")
        try:
            import psycopg2

            psycopg2.connect(a.pg, connect_timeout=3).close()
            schema = "bench_" + uuid.uuid4().hex[:8]
            pg = f"{a.pg}{'&' if '?' in a.pg else '?'}schema={schema}"
            try:
                n, dt, stats = sync_pass(url, pg)
                print(f"sync into PostgreSQL: {n} Records in {dt:.2f}s = {n / dt:,.0f} Records/s "
                      f"({stats.store_seconds:.2f}s in History.apply)")
            finally:
                conn = psycopg2.connect(a.pg)
                conn.autocommit = True
                conn.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.close()
        except Exception as exc:  # noqa: BLE001
            print(f"PostgreSQL: not measured ({str(exc).splitlines()[0] if str(exc) else exc!r})")
        n, dt, stats = sync_pass(url, "sqlite:///" + str(tmp / f"b-{tag[:4]}.db"))
        print(f"second sync (nothing changed): {stats.requests} requests, {dt * 1000:.0f} ms")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipelineruns", type=int, default=2000, help="each with 3 TaskRuns (and a Log per TaskRun)")
    ap.add_argument("--source", choices=("serve", "fake"), default="serve")
    ap.add_argument("--pg", default=os.environ.get("TEKTON_RESULTS_TUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    measure(a, tmp, logs=True)
    measure(a, tmp, logs=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
