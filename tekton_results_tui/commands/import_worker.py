"""A big dump is read, parsed and classified in a child process while this one writes the store.

Measured on a 120k-record dump: parsing the JSON and classifying each run took about as long as
writing the rows, and a thread cannot overlap the two (both need the GIL). The child runs
`dump_stream.classified_runs` and writes frames of (compact JSON text, RunInfo fields) and
Problems to its stdout; the writer only unpickles them (~5 µs per run against ~30 µs to parse and
classify).

A reader thread drains the pipe into a bounded queue: with the pipe's 64 KiB as the only buffer,
the child stalled whenever the writer was inside a transaction, and the two ran in turn instead
of together. The bound (FRAMES_AHEAD frames of FRAME_RUNS runs, ~70 MB of compact JSON at most)
is what holds the child back when the writer is slower.

The child is a plain `python -m` subprocess of this interpreter (not multiprocessing): it inherits
no database connection or threads, does not re-import the caller's __main__ (which fails for
`python -`), and needs no resource-tracker process. It runs in a session of its own, so a Ctrl-C
reaches only the writer, which then ends it. stdin's bytes are handed to it on its stdin.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from dataclasses import fields
from typing import IO, Iterator

import tekton_results_tui
from tekton_results_tui.commands.dump_stream import classified_runs, decode_dump, read_dump_bytes, read_dump_file, read_runs
from tekton_results_tui.commands.dumpfile import Problem
from tekton_results_tui.store.grouping import RunInfo
from tekton_results_tui.store.history import ClassifiedRun

FRAME_RUNS = 500
FRAMES_AHEAD = 32
_FIELDS = tuple(f.name for f in fields(RunInfo))
_HEADER = struct.Struct("<Q")  # frame length


class DumpReaderError(OSError):
    """The reader process could not read the dump (the message says why) or died."""


# --- the child ---------------------------------------------------------------------------

def _send(out: IO[bytes], msg: tuple) -> None:
    data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)))
    out.write(data)


def child_main(path: str, out: IO[bytes]) -> int:
    """Frames of ("items", [...]), then ("end",) or ("unreadable" | "error", message)."""
    try:
        try:
            text = decode_dump(read_dump_bytes(sys.stdin.buffer)) if path == "-" else read_dump_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            _send(out, ("unreadable", reason))
            return 0
        frame: list = []
        for item in classified_runs(read_runs(text)):
            if isinstance(item, ClassifiedRun):
                info = item.info
                frame.append((item.raw, tuple([getattr(info, f) for f in _FIELDS])))
            else:
                frame.append(item)
            if len(frame) >= FRAME_RUNS:
                _send(out, ("items", frame))
                frame = []
        if frame:
            _send(out, ("items", frame))
        _send(out, ("end",))
        out.flush()
        return 0
    except BrokenPipeError:  # the writer stopped reading (it failed or was interrupted)
        return 0
    except Exception:  # noqa: BLE001 - a bug: say it to the writer, which reports it
        try:
            _send(out, ("error", traceback.format_exc().strip().splitlines()[-1]))
            out.flush()
        except OSError:
            pass
        return 1


# --- the writer's side -------------------------------------------------------------------

class ReaderProcess:
    """Iterate over a dump's ClassifiedRuns and Problems, read by a child process, in dump order."""

    def __init__(self, path: str, data: bytes | None = None) -> None:
        """Read the file at `path` in the child, or, with path "-", the stdin bytes `data` handed to it."""
        env = dict(os.environ)
        # the child imports this same package, wherever it was imported from here
        root = os.path.dirname(os.path.dirname(os.path.abspath(tekton_results_tui.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, path], env=env, stdout=subprocess.PIPE,
            stdin=subprocess.PIPE if path == "-" else subprocess.DEVNULL, start_new_session=True)
        if path == "-":
            assert self._proc.stdin is not None
            try:  # the child reads all of stdin before it writes anything: no deadlock
                self._proc.stdin.write(data or b"")
                self._proc.stdin.close()
            except BrokenPipeError:
                pass  # it died: iteration reports how
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=FRAMES_AHEAD)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="import-reader-pipe", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        """Pipe -> queue; reads wait without the GIL, so this costs the writer next to nothing."""
        out = self._proc.stdout
        assert out is not None
        while True:
            head = out.read(_HEADER.size)
            data = out.read(_HEADER.unpack(head)[0]) if len(head) == _HEADER.size else b""
            frame = data if data else None  # a frame is never empty: b"" is the end of the pipe
            while not self._closed.is_set():
                try:
                    self._queue.put(frame, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if frame is None or self._closed.is_set():
                return

    def __iter__(self) -> Iterator[ClassifiedRun | Problem]:
        while True:
            data = self._queue.get()
            if data is None:
                code = self._proc.wait()
                raise DumpReaderError(f"the dump reader process ended unexpectedly (exit code {code})")
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
        if self._proc.poll() is None:
            self._proc.terminate()
        self._proc.wait()
        self._thread.join()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.stdout.buffer))
