"""Follow the store's change sequence: a poller that works in any thread, and its message.

The poller asks `history.changes_since(seq)` and merges what it gets into a pending
buffer (newest row per id wins). The UI is told with `ChangesPending`, whose
`can_replace` lets Textual drop a queued one when a newer one arrives, so a busy
writer never floods the message queue and the poll thread never blocks on the UI
(no `call_from_thread`). The UI drains the buffer in one handler.

Works the same whether the writer is the watcher in this process or a headless one in
another process sharing the database: the sequence lives in the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from textual.message import Message

from tekton_results_tui.store.history import History, RecordRow, ResultRow


@dataclass
class Pending:
    """What changed since the last drain. `reload` means rows were pruned: start over."""

    seq: int
    results: list[ResultRow] = field(default_factory=list)
    records: list[RecordRow] = field(default_factory=list)
    reload: bool = False

    @property
    def empty(self) -> bool:
        return not (self.results or self.records or self.reload)


class ChangesPending(Message):
    """There are changes to drain from the poller (coalesced: one queued at a time)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChangesPending)


class ChangeFeed:
    """Accumulates changes after a starting sequence; thread-safe between one poller and the UI."""

    def __init__(self, history: History, seq: int | None = None) -> None:
        self.history = history
        self.seq = history.current_seq() if seq is None else seq
        self.prune_seq = history.last_prune_seq()
        self._lock = threading.Lock()
        self._results: dict[int, ResultRow] = {}
        self._records: dict[int, RecordRow] = {}
        self._reload = False
        self.polls = 0

    def poll(self) -> bool:
        """One round trip to the store. Returns True when something new is pending."""
        self.polls += 1
        cs = self.history.changes_since(self.seq)
        if cs.seq == self.seq and not cs.results and not cs.records:
            return False
        pruned = False
        if cs.seq > self.seq:
            ps = self.history.last_prune_seq()
            if ps > self.prune_seq:
                self.prune_seq = ps
                pruned = True
        with self._lock:
            for r in cs.results:
                self._results[r.id] = r
            for rec in cs.records:
                self._records[rec.id] = rec
            self._reload = self._reload or pruned
            self.seq = max(self.seq, cs.seq)
        return True

    def drain(self) -> Pending:
        with self._lock:
            p = Pending(self.seq, list(self._results.values()), list(self._records.values()), self._reload)
            self._results.clear()
            self._records.clear()
            self._reload = False
        return p

    def reset(self) -> None:
        """Forget what is pending and start from the current sequence (after a full reload)."""
        with self._lock:
            self._results.clear()
            self._records.clear()
            self._reload = False
            self.seq = self.history.current_seq()
            self.prune_seq = self.history.last_prune_seq()
