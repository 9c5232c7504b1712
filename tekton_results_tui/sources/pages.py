"""One page of a sync pass: listed, decoded, classified, its logs on the way. The same work whether it runs
on a thread of the writing process (a pass of one page: a `--follow` poll) or in the reader process
(sync_reader.py: every page after the first of a longer pass).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from tekton_results_tui import kinds
from tekton_results_tui.sources import records as rec
from tekton_results_tui.sources.client import HttpError, ResultsClient
from tekton_results_tui.sources.cursor import seen_key
from tekton_results_tui.sources.wire import SourceRecord
from tekton_results_tui.threads import leave_signals_to_main


@dataclass
class Page:
    """What the writer needs of a page: the cursor marks of every record in it (applied or not), and the
    translation of the fresh ones (not applied yet) with their logs' contents on the way."""

    records: int  # Records listed
    marks: list[tuple[int, str]]  # (update_time, seen_key) of each listed Record, in the server's order
    bad: list[str]  # Records that could not be read
    fresh: int  # Records new or changed since the cursor
    translated: rec.Translated
    # Log record name -> a Future (or what answers result() as one) of its (content, cut), its step logs, or None
    logs: dict[str, Any] = field(default_factory=dict)
    next_page_token: str = ""
    server_now_ns: int | None = None
    requests: int = 0  # requests made for it by the reader process (its own client; 0 here)


def fetch_page(client: ResultsClient, parent: str, flt: str, order: str, page_size: int, token: str,
               is_fresh: Callable[[SourceRecord], bool], pool: Workers) -> Page:
    """List a page, keep its fresh records, classify them and start fetching their step logs on `pool`.
    HttpError/SourceError when the listing fails (a log that fails fails its future)."""
    got = client.list_records(parent, "-", flt, order, page_size, token)
    fresh = [r for r in got.records if is_fresh(r)]
    logs = {r.name: pool.submit(fetch_log, client, r) for r in fresh if log_of_steps(r)}
    return Page(len(got.records), [(r.updated_ns, seen_key(r)) for r in got.records], got.bad, len(fresh),
                rec.translate(fresh), logs, got.next_page_token, got.server_now_ns)


def fetch_log(client: ResultsClient, r: SourceRecord) -> tuple[bytes, bool] | None:
    """A Log record's content (and whether it was cut at the client's limit); None when the source has none."""
    try:
        return client.get_log(r.name)
    except HttpError as exc:
        if exc.status == 404:
            return None
        raise


def log_of_steps(r: SourceRecord) -> bool:
    """Whether a record is a Log whose run kind keeps step logs, as far as the Log itself says (its
    spec.resource.kind): only those are fetched ahead of their page. A PipelineRun's Log (its TaskRuns'
    lines again, never stored) is not fetched at all; a Log that does not say is fetched once matched."""
    if r.type not in rec.LOG_TYPES:
        return False
    try:
        _, doc = rec.decode_json(r)
    except (ValueError, RecursionError):
        return False
    res = rec.spec_resource(doc)
    kind = res.get("kind") if isinstance(res, dict) else None
    rk = kinds.run_kind(kind) if isinstance(kind, str) else None
    return rk is not None and rk.step_logs


class Workers:
    """A few daemon threads running submitted calls (ThreadPoolExecutor's threads are joined when the
    interpreter exits: a Ctrl-C'd sync waited for every list and log request in flight, each up to the
    client's total deadline, before it exited). Only HTTP requests and parsing run here, never the store."""

    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._workers, self._name = workers, name
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        f: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((f, fn, args))
            if len(self._threads) < self._workers:
                th = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                self._threads.append(th)
                th.start()
        return f

    def _work(self) -> None:
        leave_signals_to_main()  # a Ctrl-C must wake the main thread waiting on these calls' futures
        while True:
            item = self._queue.get()
            if item is None:
                return
            f, fn, args = item
            if not f.set_running_or_notify_cancel():
                continue
            try:
                f.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
                f.set_exception(exc)

    def shutdown(self) -> None:
        """No new calls; the queued ones are cancelled; those running finish unless the process exits first."""
        with self._lock:
            self._closed = True
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
