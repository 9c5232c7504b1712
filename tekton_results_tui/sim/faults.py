"""Fault injection: each fault is consumed by the request or watch it hits, and looks like the real server's.

For a burst (the watcher keeping up): `drop_every_watch_after(25, jitter=5)` cuts every stream until
`clear()`; `SimCluster.set_watch_window(n)` keeps only the last n changes for watches (older: 410); a
`Workload` at rate 60 runs/s with step_interval_s=0.02 makes ~1,200 writes/s; `SimCluster.start_ledger()`
remembers every run, even one deleted (`prune_after_s`) before a watcher saw it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass
class _HttpFault:
    status: int
    times: int
    retry_after: float | None
    verb: str | None
    resource: str | None


@dataclass(frozen=True)
class Forbid:
    verb: str
    resource: str
    namespace: str | None


class Faults:
    """Armed faults. Watch faults (drop, stall) are claimed by the first watch stream that next has the chance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drops: list[list[int]] = []  # [n_events, times]
        self._drop_every: tuple[int, int] | None = None  # (n_events, jitter) for every stream until clear()
        self._drop_rng = random.Random(0)
        self.watches_dropped = 0  # streams cut by a drop fault (one-shot or every)
        self._stalls: list[list[float]] = []  # [seconds, times]
        self._gone = 0
        self._http: list[_HttpFault] = []
        self._forbid: set[Forbid] = set()

    def drop_watches_after(self, n_events: int, times: int = 1) -> None:
        """Close the next watch stream(s) abruptly (no terminating chunk) after n more events."""
        with self._lock:
            self._drops.append([int(n_events), int(times)])

    def drop_every_watch_after(self, n_events: int, jitter: int = 0, seed: int = 0) -> None:
        """Until clear(): cut every watch stream abruptly after n_events (± jitter, at least 1) events, as a
        flaky load balancer in front of the API server does. One-shot drops armed with drop_watches_after go first."""
        if n_events < 1 or jitter < 0:
            raise ValueError("n_events must be >= 1 and jitter >= 0")
        with self._lock:
            self._drop_every = (int(n_events), int(jitter))
            self._drop_rng = random.Random(seed)

    def stall_watches(self, seconds: float, times: int = 1) -> None:
        """The next watch stream(s) to get a chance send nothing, not even bookmarks, for `seconds`."""
        with self._lock:
            self._stalls.append([float(seconds), int(times)])

    def gone_on_next_watch(self, times: int = 1) -> None:
        """The next watch request(s) get 200 and one ERROR event with a 410 Expired Status, then a clean end."""
        with self._lock:
            self._gone += int(times)

    def http_error(self, status: int, times: int = 1, retry_after: float | None = None,
                   verb: str | None = None, resource: str | None = None) -> None:
        """Answer the next matching request(s) with this HTTP status and a Status body (429/503 with Retry-After)."""
        with self._lock:
            self._http.append(_HttpFault(int(status), int(times), retry_after, verb, resource))

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Deny verb on resource (in namespace, or everywhere) until clear(); SelfSubjectAccessReview agrees."""
        with self._lock:
            self._forbid.add(Forbid(verb, resource, namespace))

    def clear(self) -> None:
        with self._lock:
            self._drops.clear()
            self._drop_every = None
            self._stalls.clear()
            self._gone = 0
            self._http.clear()
            self._forbid.clear()

    # ---- consumed by the server ----
    def claim_drop(self) -> int | None:
        with self._lock:
            if not self._drops:
                if self._drop_every is None:
                    return None
                n, jitter = self._drop_every
                return max(1, n + (self._drop_rng.randint(-jitter, jitter) if jitter else 0))
            f = self._drops[0]
            f[1] -= 1
            if f[1] <= 0:
                self._drops.pop(0)
            return f[0]

    def note_dropped(self) -> None:
        with self._lock:
            self.watches_dropped += 1

    def claim_stall(self) -> float | None:
        with self._lock:
            if not self._stalls:
                return None
            f = self._stalls[0]
            f[1] -= 1
            if f[1] <= 0:
                self._stalls.pop(0)
            return f[0]

    def claim_gone(self) -> bool:
        with self._lock:
            if self._gone > 0:
                self._gone -= 1
                return True
            return False

    def claim_http(self, verb: str | None, resource: str | None) -> tuple[int, float | None] | None:
        with self._lock:
            for f in self._http:
                if f.verb is not None and f.verb != verb:
                    continue
                if f.resource is not None and f.resource != resource:
                    continue
                f.times -= 1
                if f.times <= 0:
                    self._http.remove(f)
                return f.status, f.retry_after
            return None

    def forbidden(self, verb: str, resource: str, namespace: str | None) -> bool:
        with self._lock:
            return any(f.verb == verb and f.resource == resource and (f.namespace is None or f.namespace == namespace)
                       for f in self._forbid)
