"""Where a sync from one source stands, kept in the history's named values (so a crash loses nothing).

A sync asks for `update_time >= timestamp(T)` ordered by update_time: records updated at exactly T
are fetched again, and the ones already applied at T (their name and etag, hashed) are skipped, so
records sharing a timestamp across a page boundary or a crash are neither lost nor applied twice.
Once the server's clock (its `Date` header) is well past T, no record can still get update_time T:
the cursor is `closed` and the next pass asks for `update_time > timestamp(T)` — on a server with
second-precision timestamps, a bulk-written second is not fetched again on every pass.
Log and EventList records whose run has not arrived yet wait here too (`pending`), with the run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tekton_results_tui.sources.wire import SourceRecord
if TYPE_CHECKING:  # the reader process (sync_reader.py) needs no database library
    from tekton_results_tui.store.history import History

VERSION = 1
MAX_PENDING = 20_000  # Log/EventList records kept waiting for their run; the oldest are dropped beyond


CLOSE_AFTER_NS = 30 * 1_000_000_000  # server clock past the cursor by this much: its timestamp is closed


def cursor_key(cluster: str, source: str, parent: str, user_filter: str) -> str:
    """One cursor per (cluster name, server, parent, filter): another filter is another sync."""
    digest = hashlib.sha256("\x00".join((cluster, source, parent, user_filter)).encode()).hexdigest()[:20]
    return f"sync.results-api.{digest}"


def seen_key(r: SourceRecord) -> str:
    """A record version at the cursor's timestamp: its name and etag (or data, when it has no etag)."""
    h = hashlib.blake2b(r.name.encode(), digest_size=10)
    h.update(b"\x00" + (r.etag.encode() if r.etag else hashlib.blake2b(r.value, digest_size=10).digest()))
    return h.hexdigest()


@dataclass
class Cursor:
    key: str
    source: str = ""
    time_ns: int = 0  # the newest update_time applied
    seen: set[str] = field(default_factory=set)  # records applied at exactly time_ns
    server_filters_time: bool = True  # False: the server refused an update_time filter on Records
    pending: list[dict[str, Any]] = field(default_factory=list)
    passes: int = 0  # complete passes so far
    closed: bool = False  # every record updated at time_ns was applied and no more can come
    server_orders: bool = True  # False: the server refused order_by=update_time on Records

    @classmethod
    def load(cls, history: History, key: str, source: str) -> Cursor:
        raw = history.get_value(key)
        if not raw:
            return cls(key, source)
        try:
            doc = json.loads(raw)
            if doc.get("v") != VERSION:
                return cls(key, source)
            return cls(key, source, int(doc.get("time_ns") or 0), set(doc.get("seen") or ()),
                       bool(doc.get("server_filters_time", True)), list(doc.get("pending") or ()),
                       int(doc.get("passes") or 0), bool(doc.get("closed", False)),
                       bool(doc.get("server_orders", True)))
        except (ValueError, TypeError, AttributeError):
            return cls(key, source)  # an unreadable cursor: a full pass again (idempotent)

    def save(self, history: History) -> None:
        if len(self.pending) > MAX_PENDING:
            del self.pending[: len(self.pending) - MAX_PENDING]
        history.set_value(self.key, json.dumps({
            "v": VERSION, "source": self.source, "time_ns": self.time_ns, "seen": sorted(self.seen),
            "server_filters_time": self.server_filters_time, "pending": self.pending, "passes": self.passes,
            "closed": self.closed, "server_orders": self.server_orders,
        }, separators=(",", ":")))

    def close_if_past(self, server_now_ns: int | None) -> None:
        """After a complete pass: close the cursor's timestamp when the server's clock is well past it
        (the margin covers clock skew between the writer that stamped update_time and the server)."""
        if server_now_ns and self.time_ns and server_now_ns - self.time_ns >= CLOSE_AFTER_NS:
            self.closed, self.seen = True, set()

    def applied(self, r: SourceRecord) -> bool:
        """Already applied in an earlier page or pass (older than the cursor, or seen at its timestamp)."""
        return r.updated_ns < self.time_ns or (r.updated_ns == self.time_ns and (self.closed or seen_key(r) in self.seen))

    def advance(self, r: SourceRecord) -> None:
        self.advance_to(r.updated_ns, seen_key(r))

    def advance_to(self, updated_ns: int, key: str) -> None:
        """Past a record applied (its update_time and seen_key): only ever called once it is in the store."""
        if updated_ns > self.time_ns:
            self.time_ns = updated_ns
            self.seen = {key}
            self.closed = False
        elif updated_ns == self.time_ns:
            self.seen.add(key)
