"""A big dump is read, parsed and classified in a child process while this one writes the store.

Measured on a 120k-record dump: parsing the JSON and classifying each run took about as long as
writing the rows, and a thread cannot overlap the two (both need the GIL). The child runs
`dump_stream.classified_runs` and writes frames of (compact JSON text, RunInfo fields) and
Problems to its stdout; the writer only unpickles them (~5 µs per run against ~30 µs to parse and
classify). The process, its pipe and the bounded queue that holds the child back when the writer is
slower are childproc.py's (`sync` reads a Results server the same way); at most FRAMES_AHEAD frames of
FRAME_RUNS runs, ~70 MB of compact JSON, wait for the writer. stdin's bytes are handed to the child on
its stdin.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from typing import IO, Iterator

from tekton_results_tui.childproc import ChildEnded, FramedChild, run_reporting, send
from tekton_results_tui.commands.dump_stream import classified_runs, decode_dump, read_dump_bytes, read_dump_file, read_runs
from tekton_results_tui.commands.dumpfile import Problem
from tekton_results_tui.store.grouping import RunInfo
from tekton_results_tui.store.history import ClassifiedRun

FRAME_RUNS = 500
FRAMES_AHEAD = 32
_FIELDS = tuple(f.name for f in fields(RunInfo))


class DumpReaderError(OSError):
    """The reader process could not read the dump (the message says why) or died."""


# --- the child ---------------------------------------------------------------------------

def child_main(path: str, out: IO[bytes]) -> int:
    """Frames of ("items", [...]), then ("end",) or ("unreadable" | "error", message)."""
    return run_reporting(lambda: _read(path, out), out, "error")


def _read(path: str, out: IO[bytes]) -> int:
    try:
        text = decode_dump(read_dump_bytes(sys.stdin.buffer)) if path == "-" else read_dump_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        send(out, ("unreadable", reason))
        return 0
    frame: list = []
    for item in classified_runs(read_runs(text)):
        if isinstance(item, ClassifiedRun):
            info = item.info
            frame.append((item.raw, tuple([getattr(info, f) for f in _FIELDS])))
        else:
            frame.append(item)
        if len(frame) >= FRAME_RUNS:
            send(out, ("items", frame))
            frame = []
    if frame:
        send(out, ("items", frame))
    send(out, ("end",))
    out.flush()
    return 0


# --- the writer's side -------------------------------------------------------------------

class ReaderProcess:
    """Iterate over a dump's ClassifiedRuns and Problems, read by a child process, in dump order."""

    def __init__(self, path: str, data: bytes | None = None) -> None:
        """Read the file at `path` in the child, or, with path "-", the stdin bytes `data` handed to it."""
        self._child = FramedChild(__name__, [path], (data or b"") if path == "-" else None, FRAMES_AHEAD,
                                  "import-reader-pipe")
        self._proc = self._child.proc

    def __iter__(self) -> Iterator[ClassifiedRun | Problem]:
        while True:
            try:
                msg = self._child.get()
            except ChildEnded as exc:
                raise DumpReaderError(f"the dump reader process ended unexpectedly (exit code {exc.code})") from None
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
        self._child.close()


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.stdout.buffer))
