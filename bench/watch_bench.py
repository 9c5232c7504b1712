"""Watcher benchmark: cold start, sustained ingest, peak RSS, against the raw limit measured in the same run.

The simulated cluster and the headless watcher each run in their own process
(`tekton-results-tui sim` and `tekton-results-tui --headless`), talking over loopback
HTTP with the real kubernetes client, as a user would run them. Figures printed:

- raw limit: json.loads + sqlite3 executemany (one transaction) of the same objects;
- cold start: the cluster preloaded with N PipelineRuns x 4 TaskRuns; time from the
  watcher's start until every run is stored (target < 60 s for 20k + 80k);
- peak RSS of the headless watcher after storing 10k and 100k runs (target < 200 MB,
  growth < 10 %);
- sustained ingest: workload rates stepped up; for each, updates/s over the window and
  the worst lag (store behind the cluster); the highest rate kept with lag < 2 s
  (target >= 2,000 updates/s).

    .venv/bin/python bench/watch_bench.py            # full: 20k PRs, 60 s windows
    .venv/bin/python bench/watch_bench.py --quick    # 5k PRs, 15 s windows
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PY = sys.executable
WATCH_FLAGS = ["--no-logs", "--no-events", "--no-annotate"]


def start_sim(tmp: Path, preload: int = 0, rate: float = 0.0, step: float = 0.5, seed: int = 0) -> tuple[subprocess.Popen, str, str]:
    kc = str(tmp / f"kubeconfig-{time.monotonic_ns()}")
    p = subprocess.Popen([PY, "-m", "tekton_results_tui", "sim", "--preload", str(preload), "--rate", str(rate),
                          "--step-interval", str(step), "--seed", str(seed), "--kubeconfig-out", kc,
                          "--compaction-window", "200000"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()  # type: ignore[union-attr]
    if "serving" not in line:
        raise SystemExit(f"sim did not start: {line!r}")
    url = line.split(" at ", 1)[1].split(";", 1)[0].strip()
    return p, kc, url


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start_watcher(db: Path, kc: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "tekton_results_tui", "--headless", "--db", f"sqlite:///{db}", "--kubeconfig", kc,
                             *WATCH_FLAGS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MB from /proc."""
    cur = peak = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return cur, peak


def stored_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM record WHERE kind IN ('PipelineRun','TaskRun')").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def stored_max_rv(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT max(rv) FROM record WHERE kind IN ('PipelineRun','TaskRun')").fetchone()[0] or 0
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def sim_rv(url: str) -> int:
    with urllib.request.urlopen(f"{url}/apis/tekton.dev/v1/taskruns?limit=1", timeout=5) as r:
        return int(json.loads(r.read())["metadata"]["resourceVersion"])


def fetch_objects(url: str, limit_total: int) -> list[bytes]:
    """The cluster's objects as JSON texts (what the watcher receives), up to limit_total."""
    out: list[bytes] = []
    for plural in ("pipelineruns", "taskruns"):
        cont = ""
        while len(out) < limit_total:
            q = f"{url}/apis/tekton.dev/v1/{plural}?limit=500" + (f"&continue={cont}" if cont else "")
            with urllib.request.urlopen(q, timeout=30) as r:
                data = json.loads(r.read())
            out.extend(json.dumps(o, separators=(",", ":")).encode() for o in data["items"])
            cont = data["metadata"].get("continue") or ""
            if not cont:
                break
    return out[:limit_total]


def raw_limit(objs: list[bytes], tmp: Path) -> float:
    """Objects/s for json.loads + sqlite3 executemany of the same objects (WAL, NORMAL, one transaction per 500)."""
    db = tmp / "raw.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE r (uid TEXT PRIMARY KEY, ns TEXT, name TEXT, rv INTEGER, status TEXT, data TEXT)")
    t0 = time.perf_counter()
    for i in range(0, len(objs), 500):
        rows = []
        for b in objs[i:i + 500]:
            o = json.loads(b)
            md = o["metadata"]
            conds = (o.get("status") or {}).get("conditions") or [{}]
            rows.append((md["uid"], md["namespace"], md["name"], int(md["resourceVersion"]), conds[0].get("reason"), b.decode()))
        with con:
            con.executemany("INSERT OR REPLACE INTO r VALUES (?,?,?,?,?,?)", rows)
    dt = time.perf_counter() - t0
    con.close()
    return len(objs) / dt


def cold_start(tmp: Path, prs: int, raw_rate: float, label: str) -> dict:
    sim, kc, url = start_sim(tmp, preload=prs, rate=0)
    total = None
    try:
        with urllib.request.urlopen(f"{url}/apis/tekton.dev/v1/taskruns?limit=1", timeout=30) as r:
            total_tr = json.loads(r.read())["metadata"].get("remainingItemCount", 0) + 1
        total = prs + total_tr
        db = tmp / f"cold-{label}.db"
        t0 = time.perf_counter()
        w = start_watcher(db, kc)
        peak = 0.0
        at10k = None
        try:
            while True:
                n = stored_count(db)
                cur, hwm = rss_mb(w.pid)
                peak = max(peak, hwm)
                if at10k is None and n >= 10_000:
                    at10k = hwm
                if n >= total:
                    break
                if w.poll() is not None:
                    raise SystemExit(f"watcher exited with {w.returncode}")
                if time.perf_counter() - t0 > 600:
                    raise SystemExit(f"cold start did not finish: {n}/{total}")
                time.sleep(0.25)
            dt = time.perf_counter() - t0
            cur, hwm = rss_mb(w.pid)
        finally:
            stop(w)
        return {"runs": total, "seconds": dt, "rate": total / dt, "raw_seconds": total / raw_rate,
                "peak_rss_mb": max(peak, hwm), "rss_at_10k_mb": at10k, "rss_end_mb": cur}
    finally:
        stop(sim)


def sustained(tmp: Path, runs_per_s: float, window: float, step: float) -> dict:
    sim, kc, url = start_sim(tmp, rate=runs_per_s, step=step, seed=int(runs_per_s))
    db = tmp / f"sustained-{runs_per_s}.db"
    w = start_watcher(db, kc)
    try:
        # wait until the watcher stores (it is live and has caught up once)
        deadline = time.monotonic() + 30
        while stored_count(db) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        samples: list[tuple[float, int]] = []
        lags: list[float] = []
        t0 = time.monotonic()
        rv0 = sim_rv(url)
        while time.monotonic() - t0 < window:
            now = time.monotonic()
            samples.append((now, sim_rv(url)))
            got = stored_max_rv(db)
            # lag: time since the first sample at which the cluster was already past what the store has now
            behind = next((t for t, rv in samples if rv > got), None)
            lags.append((now - behind) if behind is not None else 0.0)
            time.sleep(0.25)
        rv1 = sim_rv(url)
        dt = time.monotonic() - t0
        return {"runs_per_s": runs_per_s, "updates_per_s": (rv1 - rv0) / dt, "max_lag_s": max(lags) if lags else 0.0,
                "p95_lag_s": sorted(lags)[int(0.95 * (len(lags) - 1))] if lags else 0.0,
                "rss_mb": rss_mb(w.pid)[1]}
    finally:
        stop(w)
        stop(sim)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="5k PipelineRuns and 15 s windows")
    ap.add_argument("--prs", type=int, default=None, help="PipelineRuns to preload for the cold start")
    ap.add_argument("--window", type=float, default=None, help="seconds per sustained-ingest step")
    ap.add_argument("--rates", default="20,40,60,80,100", help="workload PipelineRuns/s to step through")
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--skip-sustained", action="store_true")
    a = ap.parse_args()
    prs = a.prs or (5_000 if a.quick else 26_000)  # the preload makes 1-4 TaskRuns per PipelineRun: ~100k runs
    window = a.window or (15.0 if a.quick else 60.0)
    tmp = Path(tempfile.mkdtemp(prefix="watch-bench-"))
    print(f"watch_bench: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, tmp {tmp}", flush=True)

    sim, _, url = start_sim(tmp, preload=min(prs, 5_000), rate=0)
    try:
        objs = fetch_objects(url, 25_000)
    finally:
        stop(sim)
    raw = raw_limit(objs, tmp)
    del objs
    print(f"raw limit (json.loads + sqlite3 executemany, same objects): {raw:,.0f} objects/s", flush=True)

    if not a.skip_cold:
        small = cold_start(tmp, 2_500, raw, "10k")
        print(f"cold start  10k runs: {small['seconds']:.1f} s ({small['rate']:,.0f} runs/s; raw {small['raw_seconds']:.1f} s, "
              f"ratio {small['seconds'] / small['raw_seconds']:.1f}x); peak RSS {small['peak_rss_mb']:.0f} MB", flush=True)
        big = cold_start(tmp, prs, raw, "big")
        print(f"cold start {big['runs']:,} runs: {big['seconds']:.1f} s (target < 60 s for 100k) "
              f"({big['rate']:,.0f} runs/s; raw {big['raw_seconds']:.1f} s, ratio {big['seconds'] / big['raw_seconds']:.1f}x)", flush=True)
        growth = (big["peak_rss_mb"] / small["peak_rss_mb"] - 1) * 100
        print(f"peak RSS of the headless watcher: {small['peak_rss_mb']:.0f} MB at {small['runs']:,} runs, "
              f"{big['peak_rss_mb']:.0f} MB at {big['runs']:,} runs (target < 200 MB, growth < 10 %: {growth:+.1f} %)", flush=True)

    if not a.skip_sustained:
        best = None
        for r in [float(x) for x in a.rates.split(",") if x]:
            res = sustained(tmp, r, window, step=0.05)
            ok = res["max_lag_s"] < 2.0
            print(f"sustained {r:5.0f} runs/s: {res['updates_per_s']:7,.0f} updates/s over {window:.0f} s, "
                  f"max lag {res['max_lag_s']:.2f} s, p95 {res['p95_lag_s']:.2f} s, RSS {res['rss_mb']:.0f} MB "
                  f"{'OK' if ok else 'LAGGING'} (raw limit {raw:,.0f}/s, ratio {raw / max(res['updates_per_s'], 1):.1f}x)",
                  flush=True)
            if ok:
                best = res
            else:
                break
        if best:
            print(f"sustained ingest: {best['updates_per_s']:,.0f} updates/s kept with lag < 2 s (target >= 2,000)", flush=True)
        else:
            print("sustained ingest: no rate kept lag < 2 s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
