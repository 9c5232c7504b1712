"""Building the log index of an existing history from the thread that writes it, a small batch at a time.

The schema step that added the log index (v4) only creates it empty: filling it reads and indexes
every stored step log, minutes to hours on a big history, far too long for opening a file. So
whatever writes a history also builds its index when it has nothing else to do:

- the watcher's writer (writer.py) runs one batch each time its queue is drained and nothing is
  pending, and looks at the queue again between batches: a live change waits behind at most one
  batch, and live changes always go first (the backfill only runs while the writer is idle);
- a `--results-api` sync (sources/sync.py) runs batches between its polls.

A batch is one transaction that also records how far it got (store/log_index.backfill_batch), so
stopping at any point and starting again resumes there; it writes a heartbeat the searches read
(`History.log_index_being_built`) to say the rest of the index is coming rather than to run
`reindex-logs`, which stays the way for a history nothing writes. A read-only viewer never builds it.

Batch size: the step logs per batch adapt so that a batch takes about `TARGET_S` (its measured
time, grown or shrunk each batch, between 1 and `MAX_STEP_LOGS`), and stop at `MAX_BYTES` of text.
Measured under load (2 cores, load average ~10, step logs of 250 lines / 25 KB): reindex-logs' batch
of 200 took 16 s (a live change would wait that long), 8 took 506 ms, 4 took 183 ms (medians). With
the adaptive size, on the 5M-line history (index 782 MB) with 1,500 step logs left: 486 batches of
1-4 step logs, median 121 ms, p95 394 ms, max 1.3 s (FTS5 segment merges; CPU ~0.3 s of it).
One step log is the smallest batch, so a single 10 MB log still takes one long batch.

A database error in a batch is counted and reported like the writer's others (errors, db_errors,
the status' last error), the connection is dropped, and the next batch is put off with backoff;
the writer thread never sleeps for it (live changes meet the database error themselves and retry
as always). After `GIVE_UP` failures in a row that are not the connection, the backfill stops until
the next start (reindex-logs names the problem).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.backoff import Backoff
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.db_retry import CONNECTION_ERRORS, reset_connection

log = logging.getLogger(__name__)

TARGET_S = 0.15  # a batch's aimed-at duration: what a live change may wait behind
FIRST_STEP_LOGS = 4
MAX_STEP_LOGS = 200
MAX_BYTES = 1024 * 1024  # of log text per batch (a batch stops after the step log that passes it)
GIVE_UP = 5  # failures in a row, not the connection
RETRY_FIRST_S, RETRY_CAP_S = 1.0, 60.0  # the next batch after a failed one is put off this long, doubling


class LogIndexBackfill:
    """The backfill of one history's log index, stepped by the thread that writes the history."""

    def __init__(self, history: History, counters: Counters | None = None,
                 on_error: Callable[[str], None] = lambda m: None, clock: Callable[[], float] = time.monotonic,
                 target_s: float = TARGET_S) -> None:
        self.history, self.counters, self.on_error, self.clock = history, counters, on_error, clock
        self.target_s = target_s
        self.pending: int | None = None  # step logs left to look at; None before the first look
        self.done = False  # complete, or given up until the next start
        self.step_logs = FIRST_STEP_LOGS
        self.last_batch_s = 0.0
        self.batches = 0
        self._not_before = 0.0
        self._failures = 0
        self._backoff = Backoff(RETRY_FIRST_S, RETRY_CAP_S)

    def due_in(self) -> float:
        """Seconds until the next batch is due: 0 now, inf when there is nothing to do."""
        if self.done:
            return math.inf
        return max(0.0, self._not_before - self.clock())

    def step(self) -> None:
        """One batch (the first call only looks how much is left); never raises."""
        if self.history.read_only:  # a viewer never writes
            self.done = True
            return
        try:
            if self.pending is None:
                self.pending = self.history.log_index_pending()
                if not self.pending:
                    self.done = True
                    return
                log.info("log index: %d stored step logs to index, between live changes", self.pending)
                return
            t0 = time.perf_counter()
            n = self.history.reindex_logs_batch(self.step_logs, MAX_BYTES)
            self.last_batch_s = time.perf_counter() - t0
        except CONNECTION_ERRORS as exc:
            self._failed(exc, connection=True)
            return
        except Exception as exc:  # noqa: BLE001 - never the writer's end: say so, put off the next batch
            self._failed(exc, connection=False)
            return
        self._failures = 0
        self._backoff.reset()
        if n is None:
            self.done, self.pending = True, 0
            log.info("log index: complete")
            return
        self.batches += 1
        self.pending = max(0, (self.pending or 0) - n)
        self._count("log_index_backfilled", n)
        # aim at target_s: scale by the measured time, at most doubling, at least one step log
        scale = self.target_s / max(self.last_batch_s, 1e-3)
        self.step_logs = max(1, min(MAX_STEP_LOGS, int(self.step_logs * min(2.0, scale))))

    def _count(self, name: str, n: int) -> None:
        if self.counters is not None and n:
            self.counters.add(name, n)

    def _failed(self, exc: BaseException, connection: bool) -> None:
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        msg = f"building the log index: {type(exc).__name__}: {text}"
        if self.counters is not None:
            self.counters.add("errors")
            self.counters.add("db_errors" if connection else "errors.log_index")
        reset_connection(self.history.db)
        if not connection:
            self._failures += 1
            if self._failures >= GIVE_UP:
                self.done = True
                msg += "; stopped until the next start (tekton-results-tui reindex-logs)"
        log.warning("watcher: %s", msg)
        self.on_error(msg)
        self._not_before = self.clock() + self._backoff.next()
