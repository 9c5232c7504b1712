"""`--headless` as a user runs it: a subprocess, signals, exit codes, one-line errors, kill -9 and restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tekton_results_tui.sim import Workload

from .helpers import converged, differences, stored_runs, wait_for


def _spawn(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("KUBECONFIG", None)
    env.pop("KUBERNETES_SERVICE_HOST", None)
    return subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "--headless", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _await_line(proc: subprocess.Popen, needle: str, seen: list[str]) -> None:
    """Read stderr until a line contains `needle` (the process tells us; no sleeping)."""
    for line in proc.stderr:  # type: ignore[union-attr]
        seen.append(line)
        if needle in line:
            return
    pytest.fail(f"process ended before {needle!r}: {''.join(seen)}")


def test_sigterm_stops_cleanly_after_flushing(sim, kubeconfig, db_path, history, tmp_path):
    wl = Workload(sim, rate=20, max_runs=20, seed=2, step_interval_s=0.02).start()
    proc = _spawn(["--db", f"sqlite:///{db_path}", "--kubeconfig", kubeconfig], tmp_path)
    seen: list[str] = []
    try:
        _await_line(proc, "watcher live", seen)
        assert wl.wait_idle(30)
        wait_for(lambda: converged(sim), what="stored by the headless watcher")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        wl.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(seen) + err
    assert proc.returncode == 0, text
    assert "watcher stopped" in text and "flushing" in text
    assert history.lease("watcher:sim") is None, "the lease is released on a clean stop"


def test_json_log_format(sim, kubeconfig, db_path, tmp_path):
    import json

    proc = _spawn(["--db", f"sqlite:///{db_path}", "--kubeconfig", kubeconfig, "--log-format", "json"], tmp_path)
    seen: list[str] = []
    try:
        _await_line(proc, "watcher live", seen)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    lines = [json.loads(x) for x in "".join(seen + [err]).splitlines() if x.strip()]
    assert all({"ts", "level", "msg", "fields"} <= set(x) for x in lines)
    assert any(x["msg"] == "watcher stopped" and "stored" in x["fields"] for x in lines)


@pytest.mark.parametrize("case", ["no-kubeconfig", "bad-context", "unreachable", "bad-db-url", "missing-file"])
def test_cannot_start_prints_one_clear_line(case, sim, kubeconfig, db_path, tmp_path):
    db = f"sqlite:///{db_path}"
    args = {"no-kubeconfig": ["--db", db],
            "bad-context": ["--db", db, "--kubeconfig", kubeconfig, "--context", "nope"],
            "unreachable": ["--db", db, "--kubeconfig", str(tmp_path / "dead.kubeconfig")],
            "bad-db-url": ["--db", "mysql://x/y", "--kubeconfig", kubeconfig],
            "missing-file": ["--db", db, "--kubeconfig", str(tmp_path / "nope.yaml")]}[case]
    if case == "unreachable":
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        Path(args[-1]).write_text(Path(kubeconfig).read_text().replace(f":{sim.port}", f":{port}"))
    proc = _spawn(args, tmp_path)
    out, err = proc.communicate(timeout=30)
    lines = [x for x in err.splitlines() if x.strip()]
    assert proc.returncode != 0
    assert len(lines) == 1 and "Traceback" not in err, err
    want = {"no-kubeconfig": "no kubeconfig found", "bad-context": "context 'nope' not found",
            "unreachable": "cannot reach the Kubernetes API", "bad-db-url": "database URL",
            "missing-file": "not found"}[case]
    assert want in lines[0], lines[0]


def test_kill_9_mid_batch_then_restart_converges(sim, kubeconfig, db_path, history, tmp_path):
    sim.preload(pipelineruns=300, taskruns_per=3, seed=5)
    wl = Workload(sim, rate=30, max_runs=60, seed=6, step_interval_s=0.02).start()
    args = ["--db", f"sqlite:///{db_path}", "--kubeconfig", kubeconfig, "--no-logs", "--no-events"]
    proc = _spawn(args, tmp_path)
    try:
        wait_for(lambda: len(stored_runs()) > 200, what="the first batches stored")
        proc.kill()  # SIGKILL while the list and the workload are being written
        proc.wait()
        con = sqlite3.connect(db_path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        assert wl.wait_idle(60)
        proc = _spawn(args, tmp_path)  # the dead holder's lease is taken over at once
        wait_for(lambda: converged(sim), timeout=60, what="convergence after restart: " + "; ".join(differences(sim)[:3]))
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
        assert proc.returncode == 0
    finally:
        wl.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
