"""Thread-safe counters and an events/s rate over a sliding window, shared by the watcher's threads."""

from __future__ import annotations

import threading
import time
from collections import deque

RATE_WINDOW_S = 10


class Counters:
    """Named integer counters plus a per-second event histogram for the recent rate."""

    def __init__(self, clock=time.monotonic) -> None:  # noqa: ANN001
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._buckets: deque[list[float]] = deque()  # [second, n]
        self._clock = clock
        self.last_event_time: float | None = None  # wall clock of the newest watch/list event

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + n

    def events(self, n: int = 1) -> None:
        now = self._clock()
        sec = float(int(now))
        with self._lock:
            self._counts["events"] = self._counts.get("events", 0) + n
            if self._buckets and self._buckets[-1][0] == sec:
                self._buckets[-1][1] += n
            else:
                self._buckets.append([sec, n])
                while self._buckets and self._buckets[0][0] < sec - RATE_WINDOW_S:
                    self._buckets.popleft()
            self.last_event_time = time.time()

    def rate(self) -> float:
        now = self._clock()
        with self._lock:
            total = sum(n for s, n in self._buckets if s >= now - RATE_WINDOW_S)
        return total / RATE_WINDOW_S

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts.get(name, 0)
