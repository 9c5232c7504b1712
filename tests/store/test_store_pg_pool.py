"""PostgreSQL connections: a History is read from as many threads as a reader gives it, plus the one
that opened it (serve: 16 read workers by default and its main thread). Each thread keeps its own
pooled connection; the pool used to hold 16, so the 17th thread's read failed at once with
MaxConnectionsExceeded (serve answered 500s and cut log streams under 50 concurrent clients)."""

from __future__ import annotations

import threading

import pytest

from tekton_results_tui.api.server import ServeOptions
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History


@pytest.mark.postgres
def test_serve_default_workers_and_the_opener_all_read_at_once(pg_url: str) -> None:
    h = History(open_database(pg_url, read_only=False))
    h.current_seq()  # the opener's connection, kept (as serve's main thread keeps its own)
    threads = ServeOptions().workers + 4
    ready = threading.Barrier(threads)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            ready.wait(30)  # every thread asks while the others hold theirs
            h.current_seq()
            ready.wait(30)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
            ready.abort()
        finally:
            h.db.close()

    ts = [threading.Thread(target=read) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    h.db.close()
    assert not errors, [f"{type(e).__name__}: {e}" for e in errors][:3]
