"""Benchmark the simulated cluster: preload time and RSS, paged list, watch events/s to one real-client watcher.

The sim runs in its own process (`tekton-results-tui sim`), as it would for the
watcher benchmarks; the client side is the real kubernetes python client.
Usage: .venv/bin/python bench/sim_bench.py [--pipelineruns 22400]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

from kubernetes import client, config, watch


def rss_mb(pid: int) -> tuple[float, float]:
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                vals[k] = int(v.split()[0]) / 1024
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipelineruns", type=int, default=22_400, help="PipelineRuns to preload (~4.5 runs each with TaskRuns)")
    args = ap.parse_args()
    kc = os.path.join(tempfile.mkdtemp(), "k.yaml")
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "sim", "--preload", str(args.pipelineruns), "--rate", "0",
                          "--compaction-window", "1000000", "--kubeconfig-out", kc], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # type: ignore[union-attr]
        startup = time.monotonic() - t0
        print(line.strip())
        api = config.new_client_from_config(kc)
        co = client.CustomObjectsApi(api)
        # paged list
        counts = {}
        t = time.monotonic()
        pages = 0
        for res in ("pipelineruns", "taskruns"):
            n, token = 0, None
            while True:
                kw = {"limit": 500}
                if token:
                    kw["_continue"] = token
                r = co.list_cluster_custom_object("tekton.dev", "v1", res, **kw)
                n += len(r["items"])
                pages += 1
                token = r["metadata"].get("continue")
                if not token:
                    break
            counts[res] = n
        list_s = time.monotonic() - t
        total = sum(counts.values())
        rss, hwm = rss_mb(p.pid)
        print(f"preload: {counts['pipelineruns']} PipelineRuns + {counts['taskruns']} TaskRuns = {total} runs; "
              f"process start -> serving: {startup:.1f} s (budget 20 s)")
        print(f"memory: RSS {rss:.0f} MB, peak {hwm:.0f} MB with {total} runs (budget 1024 MB)")
        print(f"paged list (limit 500, real client, parsed): {total} objects in {pages} pages, {list_s:.2f} s "
              f"= {total / list_s:,.0f} objects/s")
        # watch replay from the start of history: one real-client watcher, events deserialized by the client
        t = time.monotonic()
        n = 0
        w = watch.Watch()
        for ev in w.stream(co.list_cluster_custom_object, "tekton.dev", "v1", "taskruns", resource_version="1",
                           timeout_seconds=600):
            n += 1
            if n >= counts["taskruns"]:
                w.stop()
                break
        ws = time.monotonic() - t
        print(f"watch (kubernetes.watch.Watch, one watcher): {n} events in {ws:.2f} s = {n / ws:,.0f} events/s (target >= 5,000)")
        # raw server push (no client-side JSON parsing): what the sim can deliver
        resp = co.list_cluster_custom_object("tekton.dev", "v1", "taskruns", watch=True, resource_version="1",
                                             timeout_seconds=600, _preload_content=False)
        t = time.monotonic()
        n = 0
        buf = b""
        nbytes = 0
        for data in resp.stream(1 << 16):
            nbytes += len(data)
            n += data.count(b"\n")
            if n >= counts["taskruns"]:
                break
        rs = time.monotonic() - t
        resp.release_conn()
        print(f"watch (raw stream, lines counted): {n} events, {nbytes / 1e6:.0f} MB in {rs:.2f} s = {n / rs:,.0f} events/s")
        rss, hwm = rss_mb(p.pid)
        print(f"memory after serving: RSS {rss:.0f} MB, peak {hwm:.0f} MB", flush=True)
        del buf
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
