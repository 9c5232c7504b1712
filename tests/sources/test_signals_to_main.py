"""The sync's own threads block SIGINT/SIGTERM, so the kernel gives a Ctrl-C to the main thread: a main thread
waiting on a future slept through one given to a worker in a socket read (a Ctrl-C'd sync hung, 2 in 40 runs
under load, until the server answered its held log requests)."""

from __future__ import annotations

import signal
import threading

from tekton_results_tui.sources.pages import Workers
from tekton_results_tui.store.checkpoint import BackgroundCheckpointer


def _blocked_here() -> set[int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_sync_workers_leave_ctrl_c_to_the_main_thread() -> None:
    pool = Workers(2, "test")
    try:
        seen = pool.submit(_blocked_here).result(10)
    finally:
        pool.shutdown()
    assert {signal.SIGINT, signal.SIGTERM} <= seen
    assert signal.SIGINT not in _blocked_here()  # the main thread still takes it


def test_the_checkpointer_leaves_ctrl_c_to_the_main_thread(tmp_path, monkeypatch) -> None:
    seen: list[set[int]] = []
    real = BackgroundCheckpointer._run

    def run(self: BackgroundCheckpointer) -> None:
        seen.append(_blocked_here())  # before: what the thread's start left it
        real(self)
        seen.append(_blocked_here())

    monkeypatch.setattr(BackgroundCheckpointer, "_run", run)
    ck = BackgroundCheckpointer(str(tmp_path / "h.db")).start()
    ck.stop()
    assert threading.current_thread() is threading.main_thread()
    assert {signal.SIGINT, signal.SIGTERM} <= seen[-1]


def test_result_of_answers_as_result_does_and_a_failing_timeout_is_the_answer() -> None:
    from concurrent.futures import Future

    from tekton_results_tui import threads

    pool = Workers(1, "test")
    try:
        slow = pool.submit(lambda: (threading.Event().wait(3 * threads.WAIT_SLICE_S), "done")[1])
        assert threads.result_of(slow) == "done"  # waited over several slices
    finally:
        pool.shutdown()
    failed: Future = Future()
    failed.set_exception(TimeoutError("read timed out"))  # a socket's timeout is the call's answer
    try:
        threads.result_of(failed)
    except TimeoutError as exc:
        assert str(exc) == "read timed out"
    else:
        raise AssertionError("result_of swallowed the call's own TimeoutError")
