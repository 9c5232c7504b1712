"""A TUI following the watcher of another process: the lease it polls, and the takeover when that watcher stops.

When another process (a headless watcher, another TUI) holds the writer lease of this history, the
TUI shows its changes and says whom it follows. A thread of its own (never the UI thread) reads the
lease every few seconds. When the owner let go of the lease, died (its process gone, a zombie, or its
pid reused: the store tells), or stopped renewing it, the TUI starts its own watcher through the
`take_over` it was given — the same start a TUI makes when it finds no lease — and from then on is
that watcher's `WatcherCluster`. When it may not (a read-only viewer, no cluster configured), the
header says that the owner stopped and why this TUI does not take over.

Under leader election on PostgreSQL the owner is a set of `--headless` replicas sharing one holder
id: a standby replica normally takes the lease within seconds, so the TUI waits `standby_grace_s`
before it steps in for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tekton_results_tui.store.history import History
from tekton_results_tui.tui.cluster import PodLogReader, RunDeleter, WatcherCalls, WatcherCluster
from tekton_results_tui.watcher.status import OFF, WatcherStatus

log = logging.getLogger(__name__)

POLL_S = 2.0  # how often the lease is read: a dead owner on this host is replaced within about this
RETRY_S = 15.0  # after a takeover that failed (cluster unreachable): try again this much later
STANDBY_GRACE_S = 6.0  # a replica set's standby polls its lock every 2 s: leave it this long to step in

# (service, None) when a watcher now runs; (None, a status saying why not) otherwise — bootstrap.start_watcher
TakeOver = Callable[[], "tuple[WatcherCalls | None, WatcherStatus | None]"]


def following_reason(holder: str) -> str:
    """The header's words while another process's watcher writes this history."""
    return f"a headless watcher ({holder}) owns this database — following its changes"


class LeaseFollower:
    """`ClusterActions` for a TUI whose history another process writes (or may write).

    `leases` are the lease names to look at (one per cluster this TUI could watch); `take_over`
    starts this TUI's own watcher, or is None with `why_not` saying why this TUI never will.
    """

    def __init__(self, history: History, leases: Sequence[str], note: WatcherStatus, *,
                 take_over: TakeOver | None = None, why_not: str = "", namespaces: Sequence[str] = (),
                 standby_prefix: str | None = None, standby_grace_s: float = STANDBY_GRACE_S,
                 poll_s: float = POLL_S, retry_s: float = RETRY_S, name: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.history = history
        self.leases = tuple(leases)
        self.take_over = take_over
        self.why_not = why_not or "this TUI cannot start a watcher"
        self.namespaces = tuple(namespaces)
        self.standby_prefix = standby_prefix
        self.standby_grace_s = standby_grace_s
        self.poll_s, self.retry_s = poll_s, retry_s
        self._name = name
        self.clock = clock
        self._note = note
        self._owner: str | None = note.owner  # the holder last seen live (its stop is what we report)
        self._gone_since: float | None = None  # monotonic time the owner was first seen stopped
        self._retry_at = 0.0
        self._running: WatcherCluster | None = None  # this TUI's own watcher, once it took over
        self.took_over_from: str | None = None  # whose stop made this TUI start its watcher
        self.took_over_because: str | None = None  # how it stopped, in words ("... died (process 42 is gone)")
        self.checks = 0  # lease reads so far (tests and operators see the poll progress)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def takes_over(self) -> bool:
        """Whether this follower would start a watcher of its own (False: read-only, no cluster)."""
        return self.take_over is not None

    # --- ClusterActions ------------------------------------------------------------------

    @property
    def name(self) -> str:
        running = self._running
        return running.name if running is not None else (self._name or self._note.cluster)

    def status(self) -> WatcherStatus:
        running = self._running
        return running.status() if running is not None else self._note

    @property
    def following(self) -> bool:
        return self._running is None and self._note.owner is not None

    @property
    def pod_logs(self) -> PodLogReader | None:
        running = self._running
        return running.pod_logs if running is not None else None

    @property
    def deleter(self) -> RunDeleter | None:
        running = self._running
        return running.deleter if running is not None else None

    # --- the lease poll ----------------------------------------------------------------------

    def start(self) -> LeaseFollower:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lease-follower", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling (a watcher it started is stopped by whoever started it: the bootstrap stack)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and self._running is None:
                try:
                    self.check()
                except Exception as exc:  # noqa: BLE001 - a database hiccup: say so, keep polling
                    log.warning("following the writer lease: %s", exc)
                    try:
                        self.history.db.close()  # a broken connection is not reused: the next read opens anew
                    except Exception:  # noqa: BLE001
                        pass
                self._stop.wait(self.poll_s)
        finally:
            try:
                self.history.db.close()  # this thread's connection
            except Exception:  # noqa: BLE001
                pass

    def check(self) -> None:
        """One look at the lease: follow a live owner; when it stopped, take over or say why not."""
        if self._running is not None:
            return
        self.checks += 1
        found = self._read()
        if found is not None and found["live"]:
            holder = str(found["holder"])
            self._owner, self._gone_since = holder, None
            self._note = WatcherStatus(state=OFF, owner=holder, context=self._note.context, cluster=self._note.cluster,
                                       reason=following_reason(holder))
            return
        if self._owner is None:
            return  # nobody was followed: nothing stopped (an old lease of a copied file is not news)
        now = self.clock()
        if self._gone_since is None:
            self._gone_since = now
        stopped = _how_it_stopped(self._owner, found)
        if (self.take_over is not None and self.standby_prefix and self._owner.startswith(self.standby_prefix)
                and now - self._gone_since < self.standby_grace_s):
            self._set_note(f"{stopped}; waiting for a standby replica to take over")
            return
        if self.take_over is None:
            self._set_note(f"{stopped} — not taking over: {self.why_not}")
            return
        if now < self._retry_at:
            return
        self._try_take_over(stopped)

    def _try_take_over(self, stopped: str) -> None:
        assert self.take_over is not None
        log.warning("%s: starting this TUI's own watcher", stopped)
        self._set_note(f"{stopped} — taking over")
        try:
            service, note = self.take_over()
        except Exception as exc:  # noqa: BLE001 - e.g. the database away for a moment: try again later
            service, note = None, WatcherStatus(state=OFF, reason=str(exc).splitlines()[0] if str(exc) else repr(exc))
        if service is not None:
            self.took_over_from, self.took_over_because = self._owner, stopped
            self._running = WatcherCluster(service, self.namespaces)
            return
        note = note or WatcherStatus(state=OFF, reason="the watcher did not start")
        if note.owner is not None:  # another follower was quicker: follow it
            self._owner, self._gone_since = note.owner, None
            self._note = WatcherStatus(state=OFF, owner=note.owner, context=self._note.context,
                                       cluster=self._note.cluster, reason=following_reason(note.owner))
            return
        self._retry_at = self.clock() + self.retry_s
        self._set_note(f"{stopped} — cannot take over: {note.reason} (retrying every {self.retry_s:.0f} s)")

    def _set_note(self, reason: str) -> None:
        self._note = WatcherStatus(state=OFF, reason=reason, context=self._note.context, cluster=self._note.cluster)

    def _read(self) -> dict[str, Any] | None:
        """The lease of the followed owner (or the first live one among `leases`); None when none is held."""
        rows = [row for row in (self.history.lease(n) for n in self.leases) if row is not None]
        for row in rows:
            if row["holder"] == self._owner:
                return row
        live = [row for row in rows if row["live"]]
        return live[0] if live else (rows[0] if rows else None)


def _how_it_stopped(owner: str, lease: dict[str, Any] | None) -> str:
    if lease is None or lease["holder"] != owner:
        return f"the watcher {owner} stopped"
    if lease["holder_dead"]:
        pid = (lease.get("info") or {}).get("pid")
        return f"the watcher {owner} died" + (f" (process {pid} is gone)" if pid else "")
    return f"the watcher {owner} stopped renewing its lease"
