"""`tekton-results-tui sim`: run the simulated cluster alone (for kubectl, benchmarks, a separate watcher)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sim", help="run a simulated Tekton cluster (Kubernetes API over loopback HTTP)",
                              description="Serve a simulated Tekton cluster until SIGINT/SIGTERM.")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: 0 = any free port, printed)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--kubeconfig-out", metavar="PATH", help="write a kubeconfig for the simulated cluster here")
    p.add_argument("--context", default="sim", help="context name in the written kubeconfig (default: sim)")
    p.add_argument("--rate", type=float, default=1.0, help="workload PipelineRuns started per second (0 = none; default 1)")
    p.add_argument("--max-runs", type=int, default=None, help="stop the workload after this many runs")
    p.add_argument("--step-interval", type=float, default=0.5, help="seconds between a run's status writes (default 0.5)")
    p.add_argument("--preload", type=int, default=0, metavar="N", help="preload N finished PipelineRuns (with 4 TaskRuns each)")
    p.add_argument("--custom-runs-every", type=int, default=0, metavar="N",
                   help="every Nth PipelineRun (workload and preload) also runs a custom task: a CustomRun (default 0 = none)")
    p.add_argument("--prune-after", type=float, default=None, metavar="SECONDS",
                   help="delete each workload PipelineRun (and its children) this long after it finished (default: keep)")
    p.add_argument("--compaction-window", type=int, default=10_000, help="changes kept for watch/continue (default 10000)")
    p.add_argument("--cut-watches-every", type=int, default=0, metavar="N",
                   help="cut every watch stream abruptly after N events (± N/5), as a flaky load balancer does (default 0 = never)")
    p.add_argument("--bookmark-interval", type=float, default=5.0, help="seconds between watch bookmarks (default 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed for preload and workload")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tekton_results_tui.sim import SimCluster, Workload

    sim = SimCluster(port=args.port, host=args.host, compaction_window=args.compaction_window,
                     bookmark_interval_s=args.bookmark_interval)
    if args.cut_watches_every > 0:
        sim.faults.drop_every_watch_after(args.cut_watches_every, jitter=args.cut_watches_every // 5, seed=args.seed)
    if args.preload:
        sim.preload(pipelineruns=args.preload, seed=args.seed, customruns_every=args.custom_runs_every)
    sim.start()
    where = f"sim: serving Kubernetes API at {sim.url}"
    if args.kubeconfig_out:
        sim.write_kubeconfig(args.kubeconfig_out, context=args.context)
        where += f"; kubeconfig: {os.path.abspath(args.kubeconfig_out)} (context {args.context})"
    print(where, flush=True)
    wl = None
    if args.rate > 0:
        wl = Workload(sim, rate=args.rate, seed=args.seed, max_runs=args.max_runs, step_interval_s=args.step_interval,
                      custom_runs_every=args.custom_runs_every, prune_after_s=args.prune_after).start()
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not done.wait(0.5):
            pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if wl is not None:
            wl.stop()
        sim.stop()
    print("sim: stopped", file=sys.stderr, flush=True)
    return 0
