"""Capped exponential backoff with jitter, honouring a server's Retry-After.

One rule for every retry in the watcher: the informers after a failed LIST/WATCH, the writer
while the database is away, the follow-up workers re-reading logs and events, the cleanup
policy's start-up work and the leader election. Jitter keeps replicas and informers that
failed together from retrying in step.
"""

from __future__ import annotations

import random

RETRY_AFTER_CAP_S = 300.0  # a Retry-After beyond this is a server bug, not a plan


class Backoff:
    """Delays first, 2*first, 4*first, ... up to `cap`, each scaled by a random factor in [1 - jitter, 1].

    `next()` walks the sequence (and `reset()` starts it again after a success); `delay(n)` is the n-th
    delay for callers that keep the attempt count themselves (one count per retried job). A Retry-After
    is a floor: the server asked for at least that long.
    """

    def __init__(self, first: float = 0.5, cap: float = 30.0, jitter: float = 0.5) -> None:
        if first <= 0 or cap < first or not 0.0 <= jitter <= 1.0:
            raise ValueError(f"Backoff(first={first}, cap={cap}, jitter={jitter}): need 0 < first <= cap, 0 <= jitter <= 1")
        self.first, self.cap, self.jitter = first, cap, jitter
        self.attempt = 0

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        d = min(self.cap, self.first * (2 ** min(attempt, 62)))
        if self.jitter:
            d *= random.uniform(1.0 - self.jitter, 1.0)
        if retry_after_s is not None:
            d = max(d, min(max(retry_after_s, 0.0), RETRY_AFTER_CAP_S))
        return d

    def next(self, retry_after_s: float | None = None) -> float:
        d = self.delay(self.attempt, retry_after_s)
        self.attempt += 1
        return d

    def reset(self) -> None:
        self.attempt = 0
