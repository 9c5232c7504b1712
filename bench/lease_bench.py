"""Lease benchmark: how soon the history has a writer again after its writer is killed with SIGKILL.

A `--headless` watcher (a subprocess) writes a SQLite history of a simulated cluster. Each round kills it
with SIGKILL and times, from the kill:

- follower: a TUI's lease follower in this process (bootstrap.tui_cluster, as the TUI builds it, without
  the screen) until its own watcher is live (target < 15 s);
- restart: a new `--headless` process until it logs "watcher live", with the dead one reaped first, and
  with it left a zombie (target: no refusal, well under the lease's 15 s); beside it, the same process's
  cold start on a history nobody holds, so the difference is what the dead holder's lease costs.

The kill falls at a random point of the follower's 2 s lease poll.

    .venv/bin/python bench/lease_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tekton_results_tui.bootstrap import Stack, open_history, tui_cluster
from tekton_results_tui.settings import Settings
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.tui.following import POLL_S
from tekton_results_tui.watcher.status import LIVE


def spawn(db: str, kc: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "--headless", "--log-format", "json",
                             "--db", db, "--kubeconfig", kc], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)


def await_live(p: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    assert p.stderr is not None
    for line in p.stderr:
        if json.loads(line).get("msg") == "watcher live":
            return
        if time.monotonic() > deadline:
            break
    raise SystemExit(f"headless watcher {p.pid} never went live (exit {p.poll()})")


def kill_9(p: subprocess.Popen, reap: bool) -> float:
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGKILL)
    if reap:
        p.wait()
    return t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lease-bench-"))
    env = {**os.environ, "HOME": str(tmp)}
    sim = SimCluster().start()
    sim.preload(pipelineruns=20, taskruns_per=2, seed=1)
    kc = sim.write_kubeconfig(str(tmp / "kubeconfig"), context="sim")
    db = f"sqlite:///{tmp / 'history.db'}"
    follower_s: list[float] = []
    restart_s: dict[str, list[float]] = {"cold": [], "reaped": [], "zombie": []}
    logging.getLogger("tekton_results_tui").setLevel(logging.ERROR)  # the takeover's own warnings
    rng = random.Random(1)
    zombies: list[subprocess.Popen] = []
    try:
        for _ in range(args.rounds):
            owner = spawn(db, kc, env)
            await_live(owner)
            stack = Stack()
            try:
                history = open_history(db, read_only=False, stack=stack)
                cluster = tui_cluster(Settings().replace(db_url=db, kubeconfig=kc), history, stack)
                assert cluster.following, "the follower did not see the headless watcher"
                time.sleep(rng.uniform(0, POLL_S))
                t0 = kill_9(owner, reap=True)
                while cluster.status().state != LIVE:
                    time.sleep(0.02)
                follower_s.append(time.monotonic() - t0)
            finally:
                stack.close()
            for how in ("reaped", "zombie"):
                t_cold = time.monotonic()
                old = spawn(db, kc, env)  # the previous round's watcher stopped cleanly: nobody holds the lease
                await_live(old)
                restart_s["cold"].append(time.monotonic() - t_cold)
                t0 = kill_9(old, reap=how == "reaped")
                new = spawn(db, kc, env)
                await_live(new)
                restart_s[how].append(time.monotonic() - t0)
                new.send_signal(signal.SIGTERM)
                new.wait(30)
                zombies.append(old)
    finally:
        for p in zombies:
            p.wait()
        sim.stop()

    def line(name: str, xs: list[float]) -> str:
        return f"{name:34} median {statistics.median(xs):5.2f} s   max {max(xs):5.2f} s   ({len(xs)} rounds)"

    print(line("follower takeover (TUI, SQLite)", follower_s))
    print(line("--headless cold start (no lease)", restart_s["cold"]))
    print(line("new --headless, old one reaped", restart_s["reaped"]))
    print(line("new --headless, old one a zombie", restart_s["zombie"]))


if __name__ == "__main__":
    main()
