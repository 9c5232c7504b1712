"""A child Python process that reads and parses while this one writes the store: pickled frames over a pipe.

Both bulk writers use it: `import` (commands/import_worker.py: a dump parsed and classified) and `sync`
(sources/sync_reader.py: a Results server's pages fetched, decoded and classified). Parsing and
classifying take about as long as writing the rows, and a thread cannot overlap the two (both need the
GIL); a process can.

The child is a plain `python -m MODULE` subprocess of this interpreter (not multiprocessing): it inherits
no database connection or threads, does not re-import the caller's __main__ (which fails for
`python -`), and needs no resource-tracker process. It runs in a session of its own, so a Ctrl-C reaches
only the writer, which then ends it. What it is given to start with goes to its stdin (never its
command line, where a token would show in `ps`).

A thread drains the pipe into a bounded queue: with the pipe's 64 KiB as the only buffer, the child
stalled whenever the writer was inside a transaction, and the two ran in turn instead of together. The
bound (`frames_ahead` frames) is what holds the child back when the writer is slower.
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from typing import IO, Any, Callable

import tekton_results_tui
from tekton_results_tui.threads import take_signals_again

_HEADER = struct.Struct("<Q")  # frame length


class ChildEnded(OSError):
    """The child's pipe ended before it said it was done (it died, or was killed)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"exit code {code}")
        self.code = code


def send(out: IO[bytes], msg: Any) -> None:
    """In the child: one frame to the writer (flushed by the caller when it matters).

    Pickled without a memo (the pickler's fast mode: half the time of a page of runs; what is sent is
    parsed JSON and classifications, which hold no reference cycles)."""
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    p.fast = True
    p.dump(msg)
    data = buf.getvalue()
    out.write(_HEADER.pack(len(data)))
    out.write(data)


def run_reporting(body: Callable[[], int], out: IO[bytes], bug_kind: str) -> int:
    """In the child: run `body` for its exit code. A writer that stopped reading (it failed, or was
    interrupted) ends it quietly (0); anything else is a bug, said to the writer in one frame
    (`bug_kind`, the traceback's last line) before exit code 1."""
    take_signals_again()  # started from a thread that left them to its main thread: close() ends it by SIGTERM
    try:
        return body()
    except BrokenPipeError:
        return 0
    except Exception:  # noqa: BLE001 - a bug: said to the writer, which reports it
        try:
            send(out, (bug_kind, traceback.format_exc().strip().splitlines()[-1]))
            out.flush()
        except OSError:
            pass
        return 1


class FramedChild:
    """Runs `python -m module *args` and hands back what it `send`s, in order."""

    def __init__(self, module: str, args: list[str], stdin_data: bytes | None = None, frames_ahead: int = 32,
                 name: str = "child-pipe", stdin_later: bool = False) -> None:
        """`stdin_data`: bytes written to the child's stdin, then closed (None: no stdin at all);
        `stdin_later`: the child starts now (its imports take ~0.3 s) and gets its stdin from `write_stdin`."""
        env = dict(os.environ)
        # the child imports this same package, wherever it was imported from here
        root = os.path.dirname(os.path.dirname(os.path.abspath(tekton_results_tui.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], env=env, stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL if stdin_data is None and not stdin_later else subprocess.PIPE,
            start_new_session=True)
        if stdin_data is not None:
            self.write_stdin(stdin_data)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=frames_ahead)
        self._closed = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def write_stdin(self, data: bytes) -> None:
        """All the child's stdin, then its end."""
        assert self.proc.stdin is not None
        try:  # the child reads all of stdin before it writes anything: no deadlock
            self.proc.stdin.write(data)
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # it died: get() reports how

    def _drain(self) -> None:
        """Pipe -> queue; reads wait without the GIL, so this costs the writer next to nothing."""
        out = self.proc.stdout
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

    def get(self, block: bool = True) -> Any:
        """The next message; with block=False, None when none has arrived yet. ChildEnded when the pipe
        ended (the caller knows which message was its last: one more get after it is this error)."""
        if self._ended:
            raise ChildEnded(self.proc.wait())
        try:
            data = self._queue.get(block)
        except queue.Empty:
            return None
        if data is None:
            self._ended = True
            raise ChildEnded(self.proc.wait())
        return pickle.loads(data)

    def close(self) -> None:
        """Ends the child (if it still runs) and the drain thread."""
        self._closed.set()
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        self._thread.join()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except BrokenPipeError:
                    pass
