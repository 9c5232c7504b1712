"""A sync running beside the TUI or headless: a background thread following the source, and its status.

It reports through the same `WatcherStatus` the header, the headless log lines and the metrics read
for a watcher, so the modes show a source the way they show a cluster.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tekton_results_tui.settings import Settings
from tekton_results_tui.sources.client import ResultsClient, SourceAuth
from tekton_results_tui.sources.sync import ResultsSync, SyncStats
from tekton_results_tui.sources.wire import SourceError
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.status import LIVE, OFF, RECONNECTING, STARTING, WatcherStatus


log = logging.getLogger(__name__)


def source_cluster_name(settings: Settings) -> str:
    """The cluster name stored with synced rows: --cluster-name, else the source's host[:port]."""
    if settings.cluster.cluster_name:
        return settings.cluster.cluster_name
    return urlsplit(settings.source.results_api or "").netloc or "results-api"


def source_auth(settings: Settings) -> SourceAuth:
    """The token given, else the credentials of --kubeconfig/--context when one was given (KubeError if bad)."""
    s = settings.source
    token = s.results_token
    if not token and (settings.cluster.kubeconfig or settings.cluster.context):
        from tekton_results_tui.watcher.kube import load_target

        cfg = load_target(settings.cluster.kubeconfig, settings.cluster.context).configuration
        if callable(getattr(cfg, "refresh_api_key_hook", None)):
            cfg.refresh_api_key_hook(cfg)
        header = cfg.get_api_key_with_prefix("authorization") or cfg.get_api_key_with_prefix("BearerToken") or ""
        token = header.split(" ", 1)[1] if header.lower().startswith("bearer ") else (header or None)
        if not token:
            raise SourceError("the kubeconfig context has no token to present to the Results API; use --token")
    return SourceAuth(token=token, verify=not s.insecure_skip_tls_verify)


def client_from_settings(settings: Settings) -> ResultsClient:
    s = settings.source
    return ResultsClient(s.results_api or "", source_auth(settings), connect_timeout_s=settings.watch.connect_timeout_s,
                         read_timeout_s=s.sync_timeout_s)


def sync_from_settings(settings: Settings, history: History) -> ResultsSync:
    s = settings.source
    return ResultsSync(history, client_from_settings(settings), source_cluster_name(settings), s.source_parent,
                       s.source_filter, s.sync_page_size, step_log_cap=settings.watch.log_cap_bytes)


@dataclass(frozen=True)
class SourceTarget:
    """Where the data comes from, named as a cluster target is in the modes' start-up lines."""

    server: str
    context: str | None = None


class SyncService:
    """Follows the source in a thread until `stop()`; `status()` says how it goes."""

    def __init__(self, settings: Settings, history: History) -> None:
        self.sync = sync_from_settings(settings, history)
        self.interval_s = settings.source.sync_interval_s
        self.cluster = self.sync.cluster
        self.server = self.sync.client.base_url
        self.target = SourceTarget(self.server)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.totals = SyncStats()
        self.passes = 0
        # the one status object this service updates in place (attribute writes are atomic): the TUI's
        # null cluster shows it as given, so the header follows the sync without a cluster adapter
        self.live_status = WatcherStatus(state=STARTING, cluster=self.cluster, server=self.server,
                                         context=self.server, scope=f"parent {self.sync.parent}", reason="syncing")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="results-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.sync.follow(self.interval_s, self._stop, self._on_pass, on_page=self._on_page)
        except Exception as exc:  # noqa: BLE001 - the database failed: say so in the status, not in a dead thread
            log.exception("sync stopped")
            st = self.live_status
            st.state, st.connected = OFF, False
            st.reason = st.last_error = f"sync stopped: {type(exc).__name__}: {str(exc).strip()[:200]}"

    def _on_page(self, stats: SyncStats) -> None:
        """During a long pass (the first one of a big server), the header says how far it got."""
        if self.passes == 0:
            self.live_status.reason = f"syncing: {stats.records:,} records read"

    def _on_pass(self, stats: SyncStats | None, error: SourceError | None) -> None:
        st = self.live_status
        if error is not None:
            st.state, st.connected, st.last_error = RECONNECTING, False, str(error)
            st.reason = f"sync failed, retrying: {error}"
            st.counts = {**st.counts, "errors": st.counts.get("errors", 0) + 1}
            return
        assert stats is not None
        self.totals.add(stats)
        self.passes += 1
        st.state, st.connected = LIVE, True
        st.reason = f"synced: {self.totals.records:,} records read, last pass {stats.applied:,} new or changed" + (
            f", {stats.waiting:,} logs/events wait for their run" if stats.waiting else "")
        st.last_event_time = time.time()
        st.events_per_s = stats.records / stats.seconds if stats.seconds > 0 else 0.0
        t = self.totals
        st.counts = {**st.counts, "events": t.records, "stored": t.applied, "batches": t.pages, "logs": t.logs,
                     "passes": self.passes, "skipped": t.skipped}

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.sync.client.close()
        self.live_status.state, self.live_status.connected = OFF, False

    def status(self) -> WatcherStatus:
        st = self.live_status
        return WatcherStatus(**{k: getattr(st, k) for k in st.__dataclass_fields__})
