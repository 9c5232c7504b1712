"""A big dump is read, parsed and classified in a child process while this one writes the store.

Measured on a 120k-record dump: parsing the JSON and classifying each run took about as long as
writing the rows, and a thread cannot overlap the two (both need the GIL). The child does
`dump_stream.classified_runs` and sends frames of (compact JSON text, RunInfo fields) and
Problems; the writer only unpickles them (~5 µs per run against ~30 µs to parse and classify).

A reader thread drains the pipe into a bounded queue: with the pipe's 64 KiB as the only buffer,
the child stalled whenever the writer was inside a transaction, and the two ran in turn instead
of together. The bound (FRAMES_AHEAD frames of FRAME_RUNS runs, ~70 MB of compact JSON at most)
is what holds the child back when the writer is slower.

The child is spawned (not forked): no inherited database connection or threads, and the same on
every platform. A spawned child cannot reopen our stdin, so stdin's bytes are sent on the pipe.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import signal
import threading
import traceback
from dataclasses import fields
from typing import Any, Iterator

from tekton_results_tui.commands.dump_stream import classified_runs, decode_dump, read_dump_file, read_runs
from tekton_results_tui.commands.dumpfile import Problem
from tekton_results_tui.store.grouping import RunInfo
from tekton_results_tui.store.history import ClassifiedRun

FRAME_RUNS = 500
FRAMES_AHEAD = 32
_FIELDS = tuple(f.name for f in fields(RunInfo))


class DumpReaderError(OSError):
    """The reader process could not read the dump (the message says why) or died."""


def _child(path: str, conn: Any) -> None:
    """The reader process: frames of ("items", [...]), then ("end",) or ("unreadable" | "error", message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle; it ends this process
    try:
        try:
            text = decode_dump(conn.recv_bytes()) if path == "-" else read_dump_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            conn.send(("unreadable", reason))
            return
        frame: list = []
        for item in classified_runs(read_runs(text)):
            if isinstance(item, ClassifiedRun):
                info = item.info
                frame.append((item.raw, tuple([getattr(info, f) for f in _FIELDS])))
            else:
                frame.append(item)
            if len(frame) >= FRAME_RUNS:
                conn.send_bytes(pickle.dumps(("items", frame), protocol=pickle.HIGHEST_PROTOCOL))
                frame = []
        if frame:
            conn.send_bytes(pickle.dumps(("items", frame), protocol=pickle.HIGHEST_PROTOCOL))
        conn.send(("end",))
    except (BrokenPipeError, EOFError):  # the writer stopped reading (it failed or was interrupted)
        return
    except BaseException:  # noqa: BLE001 - a bug: say it to the writer, which reports it
        try:
            conn.send(("error", traceback.format_exc().strip().splitlines()[-1]))
        except OSError:
            pass


class ReaderProcess:
    """Iterate over a dump's ClassifiedRuns and Problems, read by a child process, in dump order."""

    def __init__(self, path: str, data: bytes | None = None) -> None:
        """Read the file at `path` in the child, or, with path "-", the stdin bytes `data` sent to it."""
        self.path = path
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=path == "-")
        self._proc = ctx.Process(target=_child, args=(path, child_conn), name="import-reader", daemon=True)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=FRAMES_AHEAD)
        self._closed = threading.Event()
        self._proc.start()
        child_conn.close()
        if path == "-":
            self._conn.send_bytes(data or b"")
        self._thread = threading.Thread(target=self._drain, name="import-reader-pipe", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        """Pipe -> queue; recv_bytes waits without the GIL, so this costs the writer next to nothing."""
        while True:
            try:
                data: bytes | None = self._conn.recv_bytes()
            except (EOFError, OSError):
                data = None
            while not self._closed.is_set():
                try:
                    self._queue.put(data, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if data is None or self._closed.is_set():
                return

    def __iter__(self) -> Iterator[ClassifiedRun | Problem]:
        while True:
            data = self._queue.get()
            if data is None:
                self._proc.join()
                raise DumpReaderError(f"the dump reader process ended unexpectedly (exit code {self._proc.exitcode})")
            msg = pickle.loads(data)
            if msg[0] == "items":
                for item in msg[1]:
                    if type(item) is tuple:
                        yield ClassifiedRun(RunInfo(*item[1]), item[0])
                    else:
                        yield item
            elif msg[0] == "end":
                return
            elif msg[0] == "unreadable":
                raise DumpReaderError(msg[1])
            else:
                raise DumpReaderError(f"the dump reader failed: {msg[1]}")

    def close(self) -> None:
        self._closed.set()
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._thread.join()
        self._conn.close()
