"""Helpers for the end-to-end team tests: simulated clusters over HTTP, `--headless` replicas as
real subprocesses (their /metrics port read from their JSON log), and store-vs-cluster comparison."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tekton_results_tui.sim import SimCluster

from simkit import cluster_runs, differences, start_sim, stored_runs, wait_for  # noqa: F401 - re-exported


class Headless:
    """One `tekton-results-tui --headless` process; its stderr JSON lines are read on a thread."""

    def __init__(self, args: list[str], env: dict[str, str], name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "--headless", "--log-format", "json",
                                      "--metrics-port", "0", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.port: int | None = None
        self._cv = threading.Condition()
        self._reader = threading.Thread(target=self._read, name=f"stderr-{name}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cv:
                self.raw.append(line)
                try:
                    doc = json.loads(line)
                except ValueError:
                    doc = {"msg": line.strip(), "fields": {}}
                self.lines.append(doc)
                if doc.get("msg", "").startswith("serving /metrics"):
                    self.port = int(doc["fields"]["port"])
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def log_text(self) -> str:
        with self._cv:
            return "".join(self.raw)

    def wait_line(self, pred: Callable[[dict], bool], timeout: float, what: str) -> dict:
        """Until a log line matches (the process tells us: no polling)."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cv:
            while True:
                for doc in self.lines[seen:]:
                    if pred(doc):
                        return doc
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"{self.name}: no log line for {what} within {timeout} s "
                                         f"(exit {self.proc.poll()}):\n{''.join(self.raw)[-3000:]}")
                self._cv.wait(min(left, 0.5))

    def wait_port(self, timeout: float = 30.0) -> int:
        self.wait_line(lambda d: d.get("msg", "").startswith("serving /metrics"), timeout, "the metrics port")
        assert self.port
        return self.port

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self) -> dict[str, float]:
        """Unlabelled samples by name (labelled ones as name{k="v",...})."""
        from prometheus_client.parser import text_string_to_metric_families

        code, text = self.get("/metrics")
        assert code == 200, text
        out: dict[str, float] = {}
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                key = s.name if not s.labels else s.name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items())) + "}"
                out[key] = s.value
        return out

    def terminate(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(5)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Headless]]:
    """spawn(name, *args) -> a running headless process; every one is killed at teardown."""
    made: list[Headless] = []
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    for k in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "TEKTON_RESULTS_TUI_DB"):
        env.pop(k, None)

    def make(name: str, *args: str) -> Headless:
        h = Headless(list(args), env, name)
        made.append(h)
        return h

    yield make
    for h in made:
        h.kill()


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimCluster]]:
    made: list[SimCluster] = []

    def make() -> SimCluster:
        s = start_sim()
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def await_convergence(sim: SimCluster, cluster: str, timeout: float) -> None:
    last: list[str] = []

    def ok() -> bool:
        last[:] = differences(sim, cluster)
        return not last

    try:
        wait_for(ok, timeout, f"cluster {cluster!r} converged", interval=0.25)
    except AssertionError:
        raise AssertionError(f"cluster {cluster!r} did not converge in {timeout} s: {len(last)} differences, "
                             f"e.g. {last[:3]}") from None
