"""Serving one watch stream: initial state or history replay, live changes, bookmarks, timeouts, faults.

Events go out as HTTP/1.1 chunks, one JSON event per chunk, several chunks per socket
write when a watcher is behind. A watcher too far behind the history gets the 410
ERROR event the real watch cache sends, then a clean end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tekton_results_tui.sim.errors import ApiError
from tekton_results_tui.sim.faults import Faults
from tekton_results_tui.sim.store import API_VERSION, KINDS, Change, Entry, Store

BATCH = 256
Accept = Callable[[tuple[str, str], Entry], bool]


class StreamClosed(Exception):
    """The client went away (or we were told to drop the stream)."""


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def event_line(typ: str, data: bytes) -> bytes:
    return b'{"type":"' + typ.encode() + b'","object":' + data + b"}\n"


def error_line(err: ApiError) -> bytes:
    return event_line("ERROR", json.dumps(err.status()).encode())


def bookmark_line(kind: str, rv: int) -> bytes:
    obj = {"kind": KINDS[kind], "apiVersion": API_VERSION[kind],
           "metadata": {"resourceVersion": str(rv), "creationTimestamp": None}}
    return event_line("BOOKMARK", json.dumps(obj, separators=(",", ":")).encode())


class WatchStream:
    """One open watch. `write` sends bytes on the socket; `abort` closes it without a terminating chunk."""

    def __init__(self, store: Store, faults: Faults, kind: str, namespace: str | None, accept: Accept | None,
                 start_rv: int | None, bookmarks: bool, bookmark_interval: float, timeout: float,
                 write: Callable[[bytes], None], abort: Callable[[], None], stopping: threading.Event) -> None:
        self.store, self.faults, self.kind, self.ns, self.accept = store, faults, kind, namespace, accept
        self.start_rv, self.bookmarks, self.interval, self.timeout = start_rv, bookmarks, bookmark_interval, timeout
        self.write, self.abort, self.stopping = write, abort, stopping
        self.drop_left: int | None = None

    def _match(self, e: Entry | None, key: tuple[str, str]) -> bool:
        if e is None or (self.ns is not None and key[0] != self.ns):
            return False
        return self.accept is None or self.accept(key, e)

    def _lines(self, changes: list[Change]) -> list[bytes]:
        out = []
        for ch in changes:
            if ch.kind != self.kind:
                continue
            now = self._match(ch.entry, ch.key)
            if ch.type == "ADDED":
                if now:
                    out.append(event_line("ADDED", ch.entry.data))
                continue
            before = self._match(ch.prev, ch.key)
            if ch.type == "DELETED":
                if before:
                    out.append(event_line("DELETED", ch.entry.data))
            elif before and now:
                out.append(event_line("MODIFIED", ch.entry.data))
            elif now:
                out.append(event_line("ADDED", ch.entry.data))
            elif before:
                out.append(event_line("DELETED", ch.entry.data))
        return out

    def _send(self, lines: list[bytes]) -> None:
        """Send events, honouring an armed drop fault (cut mid-chunk after n events)."""
        if self.drop_left is None and lines:
            self.drop_left = self.faults.claim_drop()
        if self.drop_left is not None and self.drop_left <= len(lines):
            head = lines[: self.drop_left]
            rest = lines[self.drop_left:]
            buf = b"".join(chunk(x) for x in head)
            if rest:  # half a chunk, then the connection dies: what a crashed apiserver or LB does
                nxt = rest[0]
                buf += b"%x\r\n" % len(nxt) + nxt[: len(nxt) // 2]
            if buf:
                self.write(buf)
            self.faults.note_dropped()
            self.abort()
            raise StreamClosed()
        if self.drop_left is not None:
            self.drop_left -= len(lines)
        if lines:
            buf = bytearray()
            for x in lines:
                buf += chunk(x)
                if len(buf) > 1 << 20:
                    self.write(bytes(buf))
                    buf.clear()
            if buf:
                self.write(bytes(buf))

    def run(self) -> None:
        """Stream until timeout (clean end), client gone, stop, or a fault."""
        deadline = time.monotonic() + self.timeout
        store = self.store
        if self.faults.claim_gone():
            with store.lock:
                err = ApiError(410, f"too old resource version: {self.start_rv or 0} ({store.min_valid_rv})", "Expired")
            self.write(chunk(error_line(err)))
            return
        initial: list[Entry] = []
        if not self.start_rv:
            with store.lock:
                last = store.rv
                objs = store.objs[self.kind]
                for key in store.keys[self.kind]:
                    e = objs[key]
                    if self._match(e, key):
                        initial.append(e)
        else:
            last = self.start_rv
            with store.lock:
                if last < store.min_valid_rv:
                    self.write(chunk(error_line(ApiError(410, f"too old resource version: {last} ({store.min_valid_rv})", "Expired"))))
                    return
        for i in range(0, len(initial), BATCH):  # in batches: never hold every event's bytes twice
            self._send([event_line("ADDED", e.data) for e in initial[i:i + BATCH]])
        del initial
        next_bookmark = time.monotonic() + self.interval
        while not self.stopping.is_set():
            stall = self.faults.claim_stall()
            if stall:
                if self.stopping.wait(stall):
                    return
            now = time.monotonic()
            if now >= deadline:
                return
            with store.cond:
                if store.rv <= last and not self.stopping.is_set():
                    store.cond.wait(timeout=min(deadline - now, max(0.0, next_bookmark - now), 0.25) + 0.001)
                try:
                    changes, cur = store.changes_after(last)
                except ApiError as err:
                    changes, cur = [], -1
                    gone = err
            if cur < 0:
                self._send([])
                self.write(chunk(error_line(gone)))
                return
            for i in range(0, len(changes), BATCH):
                self._send(self._lines(changes[i:i + BATCH]))
            last = cur
            now = time.monotonic()
            if self.bookmarks and now >= next_bookmark:
                if self.drop_left is None or self.drop_left > 0:
                    self.write(chunk(bookmark_line(self.kind, last)))
                next_bookmark = now + self.interval
            elif not self.bookmarks and now >= next_bookmark:
                next_bookmark = now + self.interval
