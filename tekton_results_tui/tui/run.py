"""Start the TUI in one of its modes and stop everything cleanly on quit.

- default: the history opened writable and a watcher on the current context. If the
  cluster cannot be reached the TUI still opens on the stored history and says why the
  watcher is off; if a live headless watcher owns the database (its lease) no second
  writer starts and the TUI follows that watcher's changes.
- `--read-only`: the database opened read-only, no watcher, no mutating key.
- `--demo`: a simulated cluster with a live workload in this process, the real watcher
  pointed at it over HTTP with a kubeconfig in a temp dir, a throwaway database
  unless `--db` was given.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tekton_results_tui.settings import Settings, data_dir
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.status import OFF, WatcherStatus

DEMO_PRELOAD = 36  # finished PipelineRuns in the simulated cluster before the watcher starts
DEMO_RATE = 0.7  # new runs per second
DEMO_STEP_S = 0.6  # how fast simulated runs move through their steps


@dataclass
class Stack:
    """What a mode started; `close()` stops it in reverse order."""

    closers: list[Callable[[], Any]] = field(default_factory=list)

    def push(self, fn: Callable[[], Any]) -> None:
        self.closers.append(fn)

    def close(self) -> None:
        # Connections cut while the simulated API server shuts down make socketserver print
        # tracebacks to stderr after the terminal is restored; keep them off the user's screen.
        problems: list[str] = []
        with contextlib.redirect_stderr(io.StringIO()):
            while self.closers:
                fn = self.closers.pop()
                try:
                    fn()
                except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                    problems.append(f"tekton-results-tui: while stopping: {exc}")
        for line in problems:
            print(line, file=sys.stderr)


def _is_default_db(url: str) -> bool:
    return url == "sqlite:///" + str(data_dir() / "history.db")


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)


def start_watcher(settings: Settings, history: History, stack: Stack) -> tuple[Any, WatcherStatus | None]:
    """(service, None) when it runs; (None, status saying why) when it cannot."""
    try:
        from tekton_results_tui.watcher.service import WatcherService
    except ImportError as exc:
        return None, WatcherStatus(state=OFF, reason=f"watcher not available ({exc})", context=settings.context)
    try:
        from tekton_results_tui.watcher.kube import KubeError
    except ImportError:  # pragma: no cover
        KubeError = Exception  # type: ignore[misc,assignment]  # noqa: N806
    try:
        from tekton_results_tui.watcher.service import LeaseHeldError
    except ImportError:
        try:
            from tekton_results_tui.watcher.kube import LeaseHeldError  # type: ignore[no-redef]
        except ImportError:  # pragma: no cover
            LeaseHeldError = ()  # type: ignore[misc,assignment]  # noqa: N806
    service = WatcherService(settings, history)
    try:
        service.start()
    except LeaseHeldError as exc:  # type: ignore[misc]
        holder = getattr(exc, "holder", None) or str(exc)
        return None, WatcherStatus(state=OFF, owner=holder, context=settings.context,
                                   reason=f"a headless watcher ({holder}) owns this database — following its changes")
    except KubeError as exc:  # type: ignore[misc]
        return None, WatcherStatus(state=OFF, reason=str(exc) or type(exc).__name__, context=settings.context)
    stack.push(lambda: service.stop(5.0))
    return service, None


def start_demo(settings: Settings, stack: Stack) -> Settings:
    """Simulated cluster + workload in-process; returns settings pointing at it."""
    from tekton_results_tui.sim import SimCluster, Workload  # type: ignore[attr-defined]

    tmp = Path(tempfile.mkdtemp(prefix="tekton-results-tui-demo-"))
    stack.push(lambda: shutil.rmtree(tmp, ignore_errors=True))
    sim = SimCluster(port=0).start()
    stack.push(sim.stop)
    sim.preload(pipelineruns=DEMO_PRELOAD, taskruns_per=3, finished=True, seed=1)
    kubeconfig = sim.write_kubeconfig(str(tmp / "kubeconfig"), context="sim")
    workload = Workload(sim, rate=DEMO_RATE, seed=1, step_interval_s=DEMO_STEP_S)
    workload.start()
    stack.push(workload.stop)
    s = Settings(**{**settings.__dict__})
    s.kubeconfig = str(kubeconfig)
    s.context = "sim"
    s.cluster_name = s.cluster_name or "sim"
    if _is_default_db(settings.db_url):
        s.db_url = "sqlite:///" + str(tmp / "demo.db")
    return s


def run_tui(settings: Settings) -> int:
    """Run the TUI in the mode `settings` asks for; returns the exit code."""
    from tekton_results_tui.tui.app import ResultsApp

    stack = Stack()
    try:
        if settings.demo:
            settings = start_demo(settings, stack)
        read_only = settings.read_only
        if not read_only:
            _ensure_sqlite_dir(settings.db_url)
        db = open_database(settings.db_url, read_only=read_only)
        stack.push(db.close)
        history = History(db, read_only=read_only)
        service, note = (None, None) if read_only else start_watcher(settings, history, stack)
        if read_only:
            note = WatcherStatus(state=OFF, reason="read-only viewer", context=settings.context)
        app = ResultsApp(history, service=service, settings=settings, read_only=read_only, watcher_note=note)
        rc = app.run()
        return int(rc or 0)
    finally:
        stack.close()
