#!/usr/bin/env python3
"""`serve` benchmark: the Tekton Results API over HTTP on the 120k-record history.

Builds nothing by itself: point it at a history `bench/store_bench.py --keep PATH` left (default
/tmp/api-bench/history.db). It adds a few runs with step logs (for the log mix) and one TaskRun with
a 100 MB log, then starts `tekton-results-tui serve` as a process on loopback and prints, each with
its target and PASS/MISS:
  - list 50 Results (GET .../parents/-/results?page_size=50), p95 < 20 ms;
  - a label filter on Records (data.metadata.labels["tekton.dev/pipeline"] == P, page of 50), p95 < 30 ms;
  - summary group_by=pipeline over the last 30 days, < 300 ms;
  - load: N concurrent clients (default 50) mixing list/get/label filter/summary/log for S seconds
    (default 15; --long: 60): >= 500 requests/s, p95 < 100 ms, server RSS < 300 MB;
  - the 100 MB log streamed: bytes/s and the server's RSS before, at its peak and after (flat: the
    peak grows by far less than the log).
Sequential latencies use one keep-alive connection; the load uses aiohttp's client in this process
(the clients and the server share this machine's cores: the figures are a floor). With `wrk` on PATH
(apt-get install wrk) the same mix is also run by wrk (C, 2 threads, a Lua script picking paths at
random): it leaves the cores to the server, so its figure is the fair one for the server. Both print
the server's CPU time per request (and requests per CPU-second), which depends far less on what else
the machine runs than req/s does.

usage: bench/api_bench.py [--db PATH|URL] [--seconds 15 | --long] [--clients 50] [--log-mb 100] [--workers 16]
                          [--processes 1] [--no-wrk] [--read-only] [--no-load] [--summary-runs 20]
  --read-only  write nothing into the history (no log runs added: the mix has no logs, no log is streamed), so an
               older schema is served as it is, unmigrated (serve opens it read-only): a before/after on a copy
  --no-load    the sequential figures only (no load, no wrk, no log stream)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import requests

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = "/apis/results.tekton.dev/v1alpha2/parents"
NOW = 1_780_000_000  # store_bench's "now": its history spans the 90 days before it
LOG_RUNS = 200


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _descendants(pid: int) -> list[int]:
    out = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    out += _descendants(int(child))
    except OSError:
        pass
    return out


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) `serve` and the processes it started have used."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


WRK_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"""


def wrk_load(base: str, clients: int, seconds: float, paths: list[str], pid: int) -> str | None:
    """The mix under wrk (C load generator): a line of figures, or None without wrk."""
    import shutil
    import tempfile

    if shutil.which("wrk") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "paths.txt"), "w") as f:
            f.write("\n".join(paths) + "\n")
        with open(os.path.join(d, "mix.lua"), "w") as f:
            f.write(WRK_LUA % os.path.join(d, "paths.txt"))
        c0 = cpu_s(pid)
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s",
                              os.path.join(d, "mix.lua"), base], capture_output=True, text=True).stdout
        cpu = cpu_s(pid) - c0
    figs = {ln.split()[0]: ln.split()[1] for ln in out.splitlines() if ln.strip()[:3] in ("50%", "75%", "90%", "99%")}
    n = next((int(ln.split()[0]) for ln in out.splitlines() if " requests in " in ln), 0)
    non2xx = next((int(ln.split()[-1]) for ln in out.splitlines() if "Non-2xx" in ln), 0)
    rps = n / seconds
    return (f"wrk  {clients} conns {seconds:.0f} s: {rps:7.0f} req/s  p50 {figs.get('50%')}  p90 {figs.get('90%')}  "
            f"p99 {figs.get('99%')}  non-2xx {non2xx}  server CPU {cpu:.1f} s = {1000 * cpu / max(n, 1):.2f} ms/req "
            f"({n / max(cpu, 1e-9):.0f} req per CPU-second)   target >= 500 req/s   {verdict(rps >= 500)}")


def rss_mb(pid: int) -> float:
    """Resident memory of `serve` and the processes it started (--processes), in MB."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ts(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def run_obj(kind: str, name: str, uid: str, created: int, owner: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": "bench-logs", "uid": uid, "resourceVersion": "1",
                  "creationTimestamp": ts(created), "labels": {"tekton.dev/pipeline": "bench-logs"}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"], "controller": True}]
        meta["labels"]["tekton.dev/pipelineTask"] = "work"
    return {"apiVersion": "tekton.dev/v1", "kind": kind, "metadata": meta, "spec": {},
            "status": {"startTime": ts(created + 1), "completionTime": ts(created + 61),
                       "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]}}


def add_logs(db_url: str, log_mb: int) -> tuple[list[tuple[str, str]], tuple[str, str]]:
    """LOG_RUNS TaskRuns with a 20 KB log each, and one with a `log_mb` MB log (idempotent)."""
    db = open_database(db_url)
    h = History(db)
    small: list[tuple[str, str]] = []
    line = b"2026-05-28T00:00:00Z building module %06d: compiled, tested, packaged, all good\n"
    batch = []
    for i in range(LOG_RUNS):
        p = run_obj("PipelineRun", f"logs-{i}", f"00000000-0000-4000-8000-{i:012d}", NOW - 3600 - i)
        t = run_obj("TaskRun", f"logs-{i}-work", f"00000000-0000-4000-9000-{i:012d}", NOW - 3600 - i, owner=p)
        text = b"".join(line % j for j in range(250))
        batch += [RunUpsert(p), RunUpsert(t), Logs(t, [StepLogData("build", "step-build", text)])]
        small.append((f"bench-logs/results/{p['metadata']['uid']}", t["metadata"]["uid"]))
    h.apply(batch, cluster="bench")
    p = run_obj("PipelineRun", "big-log", "00000000-0000-4000-8000-999999999999", NOW - 60)
    t = run_obj("TaskRun", "big-log-work", "00000000-0000-4000-9000-999999999999", NOW - 60, owner=p)
    rng = random.Random(3)
    words = [b"%x" % rng.getrandbits(40) for _ in range(4096)]  # text that compresses as real logs do (~4x)
    lines = []
    size = 0
    i = 0
    while size < log_mb * 1_000_000:
        ln = b"step output line %08d " % i + b" ".join(words[(i * 7 + k) % 4096] for k in range(8)) + b"\n"
        lines.append(ln)
        size += len(ln)
        i += 1
    h.apply([RunUpsert(p), RunUpsert(t), Logs(t, [StepLogData("build", "step-build", b"".join(lines))])], cluster="bench")
    del lines
    db.close()
    return small, (f"bench-logs/results/{p['metadata']['uid']}", t["metadata"]["uid"])


def sequential(session: requests.Session, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = session.get(url, timeout=60)
        r.content  # noqa: B018 - the whole body is part of the answer
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (r.status_code, r.text[:300])
    return out


async def load(base: str, clients: int, seconds: float, paths: list[str]) -> tuple[int, list[float], int]:
    import aiohttp

    lat: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=clients)

    async def client(session: aiohttp.ClientSession, k: int) -> None:
        nonlocal errors
        rng = random.Random(k)
        while time.perf_counter() < stop_at:
            path = rng.choice(paths)
            t0 = time.perf_counter()
            async with session.get(base + path) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            lat.append((time.perf_counter() - t0) * 1000)

    async with aiohttp.ClientSession(connector=conn) as s:
        await asyncio.gather(*(client(s, k) for k in range(clients)))
    return len(lat), lat, errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/api-bench/history.db", help="history (SQLite path or URL)")
    ap.add_argument("--seconds", type=float, default=15.0, help="load duration")
    ap.add_argument("--long", action="store_true", help="load for 60 s (the issue's figure)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--log-mb", type=int, default=100)
    ap.add_argument("--workers", type=int, default=16, help="serve --workers")
    ap.add_argument("--processes", type=int, default=1, help="serve --processes")
    ap.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip the wrk run of the load mix")
    ap.add_argument("--read-only", action="store_true", help="add no log runs: the history is not written (nor migrated)")
    ap.add_argument("--no-load", action="store_true", help="sequential figures only")
    ap.add_argument("--summary-runs", type=int, default=20, help="sequential summary requests")
    args = ap.parse_args()
    seconds = 60.0 if args.long else args.seconds
    db_url = args.db if "://" in args.db else f"sqlite:///{os.path.abspath(args.db)}"
    if "://" not in args.db and not os.path.exists(args.db):
        print(f"no history at {args.db}: build one with bench/store_bench.py --keep {args.db} --no-raw", file=sys.stderr)
        return 2
    small_logs: list[tuple[str, str]] = []
    big_log: tuple[str, str] | None = None
    if not args.read_only:
        t0 = time.perf_counter()
        small_logs, big_log = add_logs(db_url, args.log_mb)
        print(f"added {LOG_RUNS} runs with 20 KB logs and one {args.log_mb} MB log in {time.perf_counter() - t0:.1f} s")

    port = free_port()
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "serve", "--db", db_url, "--listen",
                             f"127.0.0.1:{port}", "--workers", str(args.workers), "--processes", str(args.processes)],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()
        if "serving" not in line:
            print(line + proc.stderr.read(), file=sys.stderr)
            return 1
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        s = requests.Session()
        print(f"serve pid {proc.pid}, RSS at start {rss_mb(proc.pid):.0f} MB")

        recs = s.get(base + API + "/-/results/-/records?page_size=200", timeout=60).json()["records"]
        labels = sorted({json.loads(__import__("base64").b64decode(r["data"]["value"]))["metadata"]["labels"]
                         .get("tekton.dev/pipeline") for r in recs if r["data"]["type"].endswith("Run")} - {None})
        q = urllib.parse.quote

        lst = sequential(s, base + API + "/-/results?page_size=50", 300)
        print(f"list 50 Results           p50 {pct(lst, .5):6.1f} ms  p95 {pct(lst, .95):6.1f} ms   target p95 < 20 ms   "
              f"{verdict(pct(lst, .95) < 20)}")
        lab: list[float] = []
        for i in range(300):
            flt = f'data.metadata.labels["tekton.dev/pipeline"] == "{labels[i % len(labels)]}"'
            lab += sequential(s, base + API + f"/-/results/-/records?page_size=50&filter={q(flt)}", 1)
        print(f"label filter on Records   p50 {pct(lab, .5):6.1f} ms  p95 {pct(lab, .95):6.1f} ms   target p95 < 30 ms   "
              f"{verdict(pct(lab, .95) < 30)}   ({len(labels)} pipelines)")
        since = f'data.status.startTime > timestamp("{ts(NOW - 30 * 86400)}")'
        summ_url = (base + API + "/-/results/-/records/summary?summary=total,succeeded,failed,avg_duration,max_duration"
                    f"&group_by=pipeline&order_by={q('DESC total')}&filter={q(since)}")
        summ = sequential(s, summ_url, args.summary_runs)
        groups = len(s.get(summ_url, timeout=60).json()["summary"])
        print(f"summary group_by=pipeline 30 d  p50 {pct(summ, .5):6.1f} ms  max {max(summ):6.1f} ms   target < 300 ms   "
              f"{verdict(pct(summ, .95) < 300)}   ({groups} groups, load avg {os.getloadavg()[0]:.1f})")
        if args.no_load:
            return 0

        mix = ([API + "/-/results?page_size=50"] * 8
               + [API + f"/{r['name'].rsplit('/records/', 1)[0]}/records/{r['uid']}" for r in recs[:40]]
               + [API + f"/-/results/-/records?page_size=50&filter="
                  + q(f'data.metadata.labels["tekton.dev/pipeline"] == "{p}"') for p in labels[:8]]
               + [API + f"/{rn}/logs/{tr}" for rn, tr in small_logs[:20]]
               + [API + "/-/results/-/records/summary?group_by=namespace&summary=total,failed&filter="
                  + q(f'data.status.startTime > timestamp("{ts(NOW - 86400)}")')])
        c0 = cpu_s(proc.pid)
        n, lat, errors = asyncio.run(load(base, args.clients, seconds, mix))
        cpu = cpu_s(proc.pid) - c0
        rps = n / seconds
        rss_load = rss_mb(proc.pid)
        print(f"load {args.clients} clients {seconds:.0f} s: {rps:7.0f} req/s  p50 {pct(lat, .5):6.1f} ms  "
              f"p95 {pct(lat, .95):6.1f} ms  errors {errors}  RSS {rss_load:.0f} MB  server CPU {cpu:.1f} s = "
              f"{1000 * cpu / max(n, 1):.2f} ms/req   target >= 500 req/s, p95 < 100 ms, RSS < 300 MB   "
              f"{verdict(rps >= 500 and pct(lat, .95) < 100 and rss_load < 300)}   (load avg {os.getloadavg()[0]:.1f})")
        if args.wrk:
            line = wrk_load(base, args.clients, seconds, mix, proc.pid)
            print(line + f"   RSS {rss_mb(proc.pid):.0f} MB (load avg {os.getloadavg()[0]:.1f})" if line
                  else "wrk: not on PATH (apt-get install wrk), the C-client figure is not measured")

        if big_log is None:
            return 0
        before = rss_mb(proc.pid)
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mb(proc.pid))
                time.sleep(0.02)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        rn, tr = big_log
        t0 = time.perf_counter()
        got = 0
        with s.get(base + API + f"/{rn}/logs/{tr}", stream=True, timeout=300) as r:
            for chunk in r.iter_content(chunk_size=1 << 16):
                got += len(chunk)
        dt = time.perf_counter() - t0
        done.set()
        th.join()
        after = rss_mb(proc.pid)
        print(f"{args.log_mb} MB log streamed: {got / 1e6:.0f} MB in {dt:.1f} s ({got / 1e6 / dt:.0f} MB/s); server RSS "
              f"{before:.0f} -> peak {peak:.0f} -> {after:.0f} MB (+{peak - before:.0f} MB)   "
              f"flat (< +{args.log_mb // 10} MB) {verdict(peak - before < args.log_mb / 10)}")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
