"""The reader process of a long sync pass: pages fetched, decoded and classified while the writer writes.

Measured on 8,000 runs from a local `serve`: decoding (JSON, base64) and classifying a page took about
as long as writing it, and in one process the two took turns at the GIL. From the second page of a
pass on, a child process (childproc.py, as `import` reads a big dump) lists the pages from the first
page's token, fetches their step logs and sends each page as one pickled frame: the runs as (JSON
text, RunInfo fields), the Log/EventList records, the log contents, and the cursor marks of every
record. The writer applies them and moves the cursor; the child never touches the store, so nothing
is marked synced that was not written.

The child gets its start (server, token, TLS, timeouts, filter, order, page token, the cursor's
position) on its stdin. A failure of the source is sent as one ("error", message, HTTP status) frame
and raised in the writer as the same SourceError/HttpError it would have raised in-process.
"""

from __future__ import annotations

import operator
import pickle
import sys
from dataclasses import fields
from typing import IO, Any

from tekton_results_tui.childproc import ChildEnded, FramedChild, run_reporting, send
from tekton_results_tui.sources import records as rec
from tekton_results_tui.sources.client import HttpError, ResultsClient, SourceAuth
from tekton_results_tui.sources.cursor import seen_key
from tekton_results_tui.sources.pages import Page, Workers, fetch_page
from tekton_results_tui.sources.wire import SourceError, SourceRecord
from tekton_results_tui.store.grouping import RunInfo
from tekton_results_tui.store.changes import ClassifiedRun, StepLogData

FRAMES_AHEAD = 8  # pages waiting for the writer (each with its logs' contents)
_INFO_FIELDS = operator.attrgetter(*(f.name for f in fields(RunInfo)))  # a RunInfo's fields as one tuple


# --- the child -----------------------------------------------------------------------------

def _encode(page: Page, requests: int, step_cap: int) -> dict[str, Any]:
    """A page as plain tuples (the runs as import's reader sends them), its logs' outcomes resolved and
    split into step logs here (splitting a log by its lines' step prefixes is the writer's work otherwise)."""
    t = page.translated
    docs = {r.name: r for r in t.docs}
    logs: dict[str, tuple] = {}
    for name, f in page.logs.items():
        try:
            got = f.result()
        except SourceError as exc:
            logs[name] = ("error", str(exc), getattr(exc, "status", None))
            continue
        if got is None:
            logs[name] = ("ok", None)
            continue
        _, doc = rec.decode_json(docs[name])  # it decoded when its log was asked for (pages.log_of_steps)
        steps = rec.step_logs(got[0], doc, got[1], step_cap)
        logs[name] = ("steps", [(s.step, s.container, s.text, s.truncated, s.state) for s in steps])
    return {
        "records": page.records, "marks": page.marks, "bad": page.bad, "fresh": page.fresh,
        "runs": [(c.raw, _INFO_FIELDS(c.info)) for c in t.changes],
        "docs": [(r.name, r.type, r.value, r.updated_ns, r.etag) for r in t.docs],
        "skipped": t.skipped, "other": t.other, "logs": logs,
        "next": page.next_page_token, "now": page.server_now_ns, "requests": requests,
    }


def child_main(inp: IO[bytes], out: IO[bytes]) -> int:
    """Frames of ("page", {...}) until the last page (no next token), or ("error", message, status)."""
    return run_reporting(lambda: _pages(inp, out), out, "bug")


def _pages(inp: IO[bytes], out: IO[bytes]) -> int:
    data = inp.read()
    if not data:  # started ahead of a pass that turned out short: never needed
        return 0
    cfg = pickle.loads(data)
    client = ResultsClient(cfg["base_url"], SourceAuth(cfg["auth_token"], cfg["verify"]),
                           connect_timeout_s=cfg["connect_timeout_s"], read_timeout_s=cfg["read_timeout_s"],
                           retries=cfg["retries"], max_log_bytes=cfg["max_log_bytes"])
    start_time, start_seen, start_closed = cfg["start_time"], cfg["start_seen"], cfg["start_closed"]

    def is_fresh(r: SourceRecord) -> bool:
        return not (r.updated_ns < start_time or (
            r.updated_ns == start_time and (start_closed or seen_key(r) in start_seen)))

    pool = Workers(cfg["log_workers"], "sync-log")
    lister = Workers(1, "sync-list")

    def fetch(token: str) -> Page:
        return fetch_page(client, cfg["parent"], cfg["filter"], cfg["order"], cfg["page_size"], token,
                          is_fresh, pool)

    sent = 0
    nxt = lister.submit(fetch, cfg["page_token"])
    while True:
        try:
            page = nxt.result()
        except SourceError as exc:
            send(out, ("error", str(exc), getattr(exc, "status", None)))
            out.flush()
            return 0
        if page.next_page_token:  # listed while this page's logs finish and it is sent
            nxt = lister.submit(fetch, page.next_page_token)
        frame = _encode(page, 0, cfg["step_cap"])
        frame["requests"] = client.requests - sent
        sent += frame["requests"]
        send(out, ("page", frame))
        out.flush()
        if not page.next_page_token:
            return 0


# --- the writer's side -------------------------------------------------------------------

class _Done:
    """A log outcome that arrived with its page, asked for as a Future's would be (a Future per log cost
    the writer ~1 s per 6,000 logs: each one's condition and lock)."""

    __slots__ = ("_value", "_error")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


def _decode(d: dict[str, Any]) -> Page:
    t = rec.Translated(skipped=d["skipped"], other=d["other"])
    for raw, info_fields in d["runs"]:
        info = RunInfo(*info_fields)
        t.changes.append(ClassifiedRun(info, raw))
        t.runs[info.uid] = rec.RunFound(info.uid, info.result_name, text=raw, info=info)
    t.docs = [SourceRecord(*x) for x in d["docs"]]
    logs = {}
    for name, got in d["logs"].items():
        if got[0] == "steps":
            logs[name] = _Done([StepLogData(*s) for s in got[1]])
        elif got[0] == "ok":
            logs[name] = _Done(got[1])
        else:
            logs[name] = _Done(error=HttpError(got[2], got[1]) if got[2] else SourceError(got[1]))
    return Page(d["records"], d["marks"], d["bad"], d["fresh"], t, logs, d["next"], d["now"], d["requests"])


class ReaderFeed:
    """The pages of a pass from a page token on, read by a child process, in the server's order.

    The process starts at once (a first sync starts it while its first page is fetched: its imports take
    about as long); `start` says what to read."""

    def __init__(self) -> None:
        self._child = FramedChild(__name__, [], None, FRAMES_AHEAD, "sync-reader-pipe", stdin_later=True)

    def start(self, client: ResultsClient, parent: str, flt: str, order: str, page_size: int, page_token: str,
              start_time: int, start_seen: set[str], start_closed: bool, log_workers: int, step_cap: int) -> None:
        cfg = {
            "base_url": client.base_url, "auth_token": client.auth.token, "verify": client.auth.verify,
            "connect_timeout_s": client.timeout[0], "read_timeout_s": client.timeout[1], "retries": client.retries,
            "max_log_bytes": client.max_log_bytes, "parent": parent, "filter": flt, "order": order,
            "page_size": page_size, "page_token": page_token, "start_time": start_time,
            "start_seen": set(start_seen), "start_closed": start_closed, "log_workers": log_workers,
            "step_cap": step_cap,
        }
        self._child.write_stdin(pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL))

    def get(self, block: bool = True) -> Page | None:
        """The next page (None: not arrived yet, with block=False); the source's failure as SourceError."""
        try:
            msg = self._child.get(block)
        except ChildEnded as exc:
            raise SourceError(f"the sync reader process ended unexpectedly (exit code {exc.code})") from None
        if msg is None:
            return None
        if msg[0] == "page":
            return _decode(msg[1])
        if msg[0] == "error":
            raise HttpError(msg[2], msg[1]) if msg[2] else SourceError(msg[1])
        raise RuntimeError(f"the sync reader process failed: {msg[1]}")

    def close(self) -> None:
        self._child.close()


if __name__ == "__main__":
    sys.exit(child_main(sys.stdin.buffer, sys.stdout.buffer))
