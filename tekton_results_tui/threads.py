"""Background threads leave Ctrl-C and SIGTERM to the main thread.

The kernel hands a process's signal to any thread that does not block it. Python runs its handlers in the main
thread, but only when that thread next runs Python code: a main thread blocked in `Future.result()` or a
`join()` (a lock wait) sleeps through a SIGINT the kernel gave to a thread blocked in a socket read. Measured:
a Ctrl-C'd `sync` waiting for its page's logs hung in 2 of 40 runs on a loaded machine, until the server
answered. Each thread we start calls `leave_signals_to_main()` first, so such signals interrupt the main
thread's wait.
"""

from __future__ import annotations

import signal
import threading
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")
WAIT_SLICE_S = 0.2  # how late a Ctrl-C can be seen by a main thread waiting on a future

_MAIN_THREAD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def leave_signals_to_main() -> None:
    """Block SIGINT and SIGTERM in the calling thread (never the main thread; a no-op where unsupported).
    Only for threads that start no process: a child inherits the mask (a reader process started from such a
    thread ignored the SIGTERM that ends it, and its writer waited forever); childproc's children unblock."""
    if threading.current_thread() is threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)


def take_signals_again() -> None:
    """Unblock SIGINT and SIGTERM (a child process's first step: its mask was its parent thread's)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _MAIN_THREAD_SIGNALS)


def result_of(f: Future[T]) -> T:
    """`f.result()`, waited for in slices so a pending signal handler (Ctrl-C: KeyboardInterrupt) runs.
    (A page from the reader process holds answers already in: objects with `result()` alone.)"""
    while True:
        done = getattr(f, "done", None)
        if done is None or done():
            return f.result()
        try:
            return f.result(timeout=WAIT_SLICE_S)
        except TimeoutError:
            if f.done():
                raise  # the call itself failed with a timeout (a socket's): that is its answer
