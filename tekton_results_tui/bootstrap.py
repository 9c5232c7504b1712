"""Starting the parts: open the history, find the cluster, start the watcher or the demo cluster.

The TUI (tui/run.py), the headless watcher (headless.py) and the subcommands that need a history or a
cluster start them here, so each mode differs only in what it does with them. What was started is
pushed on a `Stack`, which stops it in reverse order.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tekton_results_tui.settings import Settings, is_default_db
from tekton_results_tui.store.db import open_database, parse_db_url
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.status import OFF, WatcherStatus

if TYPE_CHECKING:  # the cluster client is imported when a cluster is used: `results`/`records` start faster
    from tekton_results_tui.sources.service import SyncService
    from tekton_results_tui.tui.cluster import ClusterActions
    from tekton_results_tui.watcher.kube import KubeTarget
    from tekton_results_tui.watcher.service import WatcherService


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


# --- the history ---------------------------------------------------------------------------


def open_history(db_url: str, read_only: bool, stack: Stack | None = None) -> History:
    """The history at `db_url` (StoreError, a UserError, when it cannot be opened).

    Read-only opens never create anything (safe on a copy or a live file of another process).
    """
    db = open_database(db_url, read_only=read_only)
    if stack is not None:
        stack.push(db.close)
    return History(db, read_only=read_only)


@contextlib.contextmanager
def history_at(db_url: str, read_only: bool) -> Iterator[History]:
    """The history at `db_url` for the length of a `with` block."""
    h = open_history(db_url, read_only)
    try:
        yield h
    finally:
        h.db.close()


def database_engine(db_url: str) -> str:
    """`sqlite` or `postgresql` (StoreError on a bad URL)."""
    return parse_db_url(db_url).engine


# --- the cluster -----------------------------------------------------------------------------


def cluster_target(settings: Settings) -> tuple[KubeTarget, str]:
    """The cluster the settings name and the cluster name stored with its rows (KubeError when none)."""
    from tekton_results_tui.watcher.kube import load_target

    c = settings.cluster
    target = load_target(c.kubeconfig, c.context)
    name = c.cluster_name or (target.server.split("://", 1)[-1] if target.in_cluster else target.context)
    return target, name


def start_watcher(settings: Settings, history: History, stack: Stack) -> tuple[WatcherService | None, WatcherStatus | None]:
    """For the TUI: (service, None) when it runs; (None, a status saying why) when it cannot.

    The TUI opens on the stored history either way: an unreachable cluster or a headless watcher
    owning the database is a state to show, not a reason to refuse to start.
    """
    from tekton_results_tui.tui.following import following_reason
    from tekton_results_tui.watcher.kube import KubeError
    from tekton_results_tui.watcher.service import LeaseHeldError, WatcherService

    service = WatcherService(settings, history)
    context = settings.cluster.context
    try:
        service.start()
    except LeaseHeldError as exc:
        holder = exc.holder or str(exc)
        return None, WatcherStatus(state=OFF, owner=holder, context=context, cluster=exc.cluster,
                                   reason=following_reason(holder))
    except KubeError as exc:
        return None, WatcherStatus(state=OFF, reason=str(exc) or type(exc).__name__, context=context)
    stack.push(lambda: service.stop(5.0))
    return service, None


def headless_runner(settings: Settings, history: History) -> tuple[Any, KubeTarget, str]:
    """For `--headless`: (runner, target, cluster), not started; KubeError when the cluster cannot be used.

    On PostgreSQL the replicas elect one writer (watcher/leader.py); every elected service shares one
    lease holder id per cluster, so a new leader takes the lease at once while a TUI still sees that a
    headless watcher owns this cluster's history. On SQLite the runner is the service itself.
    """
    if settings.source.results_api:  # a Results server instead of a cluster: its sync is the runner
        service = source_service(settings, history)
        return service, service.target, service.cluster
    from tekton_results_tui.watcher.kube import check_reachable
    from tekton_results_tui.watcher.service import WatcherService
    from tekton_results_tui.watcher.writer_lease import ha_holder

    first = WatcherService(settings, history)
    target, cluster = first.target, first.cluster
    if database_engine(settings.store.db_url) != "postgresql":
        return first, target, cluster
    from tekton_results_tui.watcher.leader import HaWatcher

    check_reachable(target)
    holder = ha_holder(cluster)

    def make() -> WatcherService:
        return WatcherService(settings, history, target=target, lease_holder=holder)

    return HaWatcher(settings.store.db_url, cluster, make, identity=first.holder), target, cluster


# --- a Tekton Results server as the source ------------------------------------------------------


def source_service(settings: Settings, history: History) -> SyncService:
    """The sync from `--results-api`, not started (SourceError, a UserError, on a bad URL or credentials)."""
    from tekton_results_tui.sources.service import SyncService

    return SyncService(settings, history)


def source_cluster(settings: Settings, history: History, stack: Stack) -> ClusterActions:
    """For the TUI on a Results server: the sync runs in the background (the tree follows the store's
    change feed as for a watcher); the null cluster shows its status, so nothing offers to delete runs
    or read pod logs of a cluster this program does not watch."""
    from tekton_results_tui.tui.cluster import NoCluster

    service = source_service(settings, history)
    service.start()
    stack.push(lambda: service.stop(5.0))
    return NoCluster(service.live_status, name=service.cluster)


def tui_cluster(settings: Settings, history: History, stack: Stack) -> ClusterActions:
    """How the TUI reaches the cluster: its own watcher when it can start one; otherwise a follower of the
    writer lease, which shows who writes this history and, when they stop (or die), starts this TUI's
    watcher the same way — or says why it will not (read-only, no cluster)."""
    from tekton_results_tui.tui.cluster import WatcherCluster
    from tekton_results_tui.tui.following import LeaseFollower
    from tekton_results_tui.watcher.writer_lease import HA_HOLDER_PREFIX, lease_name

    c = settings.cluster
    if settings.source.results_api and not (settings.read_only or history.read_only):
        return source_cluster(settings, history, stack)
    if settings.read_only or history.read_only:
        note = WatcherStatus(state=OFF, reason="read-only viewer", context=c.context)
        follower = LeaseFollower(history, _lease_names(settings, history), note, why_not="read-only viewer")
    else:
        service, note = start_watcher(settings, history, stack)
        if service is not None:
            return WatcherCluster(service, c.namespaces)
        assert note is not None
        if note.owner is not None:  # another process writes this cluster's runs here
            follower = LeaseFollower(history, [lease_name(note.cluster)], note, namespaces=c.namespaces,
                                     take_over=lambda: start_watcher(settings, history, stack),
                                     standby_prefix=HA_HOLDER_PREFIX, name=note.cluster)
        else:  # no cluster to watch (no kubeconfig, unreachable, ...): still show who writes, if anyone
            follower = LeaseFollower(history, _lease_names(settings, history), note, why_not=note.reason or "")
    stack.push(follower.stop)
    return follower.start()


def _lease_names(settings: Settings, history: History) -> list[str]:
    """The writer leases a TUI without a watcher of its own looks at: the named cluster's, else those of the
    clusters whose runs the history holds."""
    from tekton_results_tui.watcher.writer_lease import lease_name

    try:
        clusters = [settings.cluster.cluster_name] if settings.cluster.cluster_name else sorted(history.cluster_sample())
    except Exception:  # noqa: BLE001 - an empty or unreadable history: nobody to follow
        clusters = []
    return [lease_name(name) for name in clusters]


# --- the demo --------------------------------------------------------------------------------


def start_demo(settings: Settings, stack: Stack) -> Settings:
    """A simulated cluster with a live workload in this process; returns settings pointing at it
    (and at a throwaway database unless --db named one)."""
    from tekton_results_tui.sim import SimCluster, Workload

    t = settings.tui
    tmp = Path(tempfile.mkdtemp(prefix="tekton-results-tui-demo-"))
    stack.push(lambda: shutil.rmtree(tmp, ignore_errors=True))
    sim = SimCluster(port=0).start()
    stack.push(sim.stop)
    # every 4th PipelineRun also runs a custom task, so the demo shows CustomRuns under their PipelineRuns
    sim.preload(pipelineruns=t.demo_preload, taskruns_per=3, finished=True, seed=1, customruns_every=4)
    kubeconfig = sim.write_kubeconfig(str(tmp / "kubeconfig"), context="sim")
    workload = Workload(sim, rate=t.demo_rate, seed=1, step_interval_s=t.demo_step_s, custom_runs_every=4)
    workload.start()
    stack.push(workload.stop)
    options: dict[str, Any] = {"kubeconfig": str(kubeconfig), "context": "sim",
                               "cluster_name": settings.cluster.cluster_name or "sim"}
    if is_default_db(settings.store.db_url):
        options["db_url"] = "sqlite:///" + str(tmp / "demo.db")
    return settings.replace(**options)


# --- the modes ---------------------------------------------------------------------------------


def run_tui(settings: Settings) -> int:
    """The TUI in the mode `settings` asks for (watcher, --read-only, --demo); returns the exit code."""
    from tekton_results_tui.tui.run import run_app

    stack = Stack()
    try:
        if settings.demo:
            settings = start_demo(settings, stack)
        history = open_history(settings.store.db_url, read_only=settings.read_only, stack=stack)
        return run_app(history, settings, tui_cluster(settings, history, stack))
    finally:
        stack.close()
