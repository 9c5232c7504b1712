"""`import FILE ...`: store PipelineRuns/TaskRuns from `kubectl get ... -o yaml|json` dumps.

Reports per file how many runs were stored (new, updated, unchanged) and names every
skipped object with its reason; one bad object or document never stops the rest.
Exit: 0 all stored, 1 some skipped, 2 a file could not be read or a fatal error.

In-cluster marks: a dump is a snapshot of a cluster at some moment, so imported runs keep
the store's default (in the cluster) — the same as a watcher's first list. A watcher later
run on the same cluster name marks the ones that are gone at its first relist; marking them
gone here instead could never be undone by that watcher (only relists/deletes set the mark),
and would make a live run look deleted.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from tekton_results_tui.cli import add_db_option
from tekton_results_tui.commands.common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, opened_history, quiet_broken_pipe
from tekton_results_tui.commands.dumpfile import RUN_KINDS, Problem, describe, read_dump
from tekton_results_tui.store.history import History, RunUpsert

# Runs per History.apply, i.e. per IMMEDIATE write transaction. Bulk import only (the watcher
# keeps small batches so readers see changes quickly). Measured on 120k ~3.7 KiB runs: batches
# of 500 spent most of their time writing the same index pages again at each of 241 commits;
# 10,000 keep ~45 MB of dirty pages per transaction, within the 64 MB SQLite page cache.
IMPORT_BATCH = 10_000


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import", help="store runs from `kubectl get pipelineruns,taskruns -A -o yaml|json` dumps",
        description="Store PipelineRuns and TaskRuns (tekton.dev/v1 and v1beta1) from kubectl dumps: a List, a "
        "single object, multi-document YAML, or JSON. FILE '-' reads stdin. Re-importing a dump changes "
        "nothing. Exit code 0: all stored; 1: some objects skipped (each is named); 2: a file could not be "
        "read or the database could not be opened.")
    p.add_argument("files", nargs="+", metavar="FILE", help="dump file, or - for stdin")
    p.add_argument("--cluster-name", default=argparse.SUPPRESS, metavar="NAME",
                   help='cluster name stored with every imported row (default "")')
    add_db_option(p, sub=True)
    p.set_defaults(func=run)


@dataclass
class FileReport:
    runs: int = 0  # distinct run objects accepted by the store (per batch)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


Found = tuple[dict, "str | None"]  # a run object and its compact JSON text when the dump already holds it


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, "rb") as fh:  # bytes, decoded at once: half the time of a text-mode read of a big dump
        text = fh.read().decode("utf-8", errors="strict")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text  # as text mode reads it


# --- reading dumps one object at a time ------------------------------------------------

class _Decoder(json.JSONDecoder):
    """Python's decoder, noting whether the last value held NaN/Infinity (not JSON: its text is not storable)."""

    def __init__(self) -> None:
        super().__init__(parse_constant=self._constant)
        self.saw_constant = False

    def _constant(self, name: str) -> float:
        self.saw_constant = True
        return float(name.replace("Infinity", "inf"))


_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = frozenset(" \t\n\r")


class _NotJson(Exception):
    """The text failed to parse as JSON before anything was read from it: try YAML instead."""


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _is_list_kind(kind: Any) -> bool:
    return isinstance(kind, str) and (kind == "List" or kind.endswith("List"))


def _walk(obj: Any, where: str, raw: str | None = None) -> Iterator[Found | Problem]:
    """As dumpfile's walk: unwrap Lists, keep run-kind mappings, name everything else."""
    if obj is None:
        return
    if isinstance(obj, list):
        for i, item in enumerate(obj, 1):
            yield from _walk(item, f"item {i} of {where}")
        return
    if not isinstance(obj, dict):
        yield Problem(where, f"not a Kubernetes object but a {type(obj).__name__}")
        return
    kind = obj.get("kind")
    if _is_list_kind(kind) and "items" in obj:
        items = obj.get("items") or []
        if not isinstance(items, list):
            yield Problem(f"{kind} in {where}", f"items is a {type(items).__name__}, not a list")
            return
        for i, item in enumerate(items, 1):
            yield from _walk(item, f"item {i} of {where}")
        return
    if kind not in RUN_KINDS:
        yield Problem(describe(obj), f"kind {kind!r} is not PipelineRun or TaskRun ({where})")
        return
    # a one-line slice of the dump is the object's JSON already; an indented one is re-serialized compact
    yield obj, (raw if raw is not None and "\n" not in raw else None)


def _array(text: str, i: int, where: str, out: list[int], dec: _Decoder) -> Iterator[Found | Problem]:
    """The elements of the JSON array at text[i] ('['), each parsed when reached; out[0] = end."""
    i = _ws(text, i + 1)
    n = 0
    if text.startswith("]", i):
        out[0] = i + 1
        return
    while True:
        start = i
        dec.saw_constant = False
        value, i = dec.raw_decode(text, i)
        n += 1
        if type(value) is dict and value.get("kind") in RUN_KINDS and not dec.saw_constant:  # the usual item
            raw = text[start:i]
            yield value, (raw if "\n" not in raw else None)
        else:
            yield from _walk(value, f"item {n} of {where}", raw=None if dec.saw_constant else text[start:i])
        del value
        c = text[i : i + 1]
        if c in _WS_CHARS:  # compact dumps have no whitespace here: skip the regex then
            i = _ws(text, i)
            c = text[i : i + 1]
        if c == "]":
            out[0] = i + 1
            return
        if c != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
        i += 1
        if text[i : i + 1] in _WS_CHARS:
            i = _ws(text, i)


def _stream_json(text: str, i: int, dec: _Decoder) -> Iterator[Found | Problem]:
    """A JSON dump's runs without building the whole document: a List's `items` are parsed one by one.

    A top-level object's `items` array is streamed unless a `kind` before it says it is not a List
    (kubectl writes `items` before `kind`); other members are parsed whole.
    """
    where = "the JSON document"
    end = [0]
    if text[i] == "[":
        yield from _array(text, i, where, end, dec)
        i = end[0]
    else:
        head: dict = {}
        streamed = False
        i = _ws(text, i + 1)
        if text.startswith("}", i):
            i += 1
        else:
            while True:
                if not text.startswith('"', i):
                    raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
                key, i = dec.raw_decode(text, i)
                i = _ws(text, i)
                if not text.startswith(":", i):
                    raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
                i = _ws(text, i + 1)
                if key == "items" and text.startswith("[", i) and ("kind" not in head or _is_list_kind(head["kind"])):
                    streamed = True
                    yield from _array(text, i, where, end, dec)
                    i = end[0]
                else:
                    head[key], i = dec.raw_decode(text, i)
                i = _ws(text, i)
                c = text[i : i + 1]
                if c == "}":
                    i += 1
                    break
                if c != ",":
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
                i = _ws(text, i + 1)
        if not streamed:
            yield from _walk(head, where)
        elif "kind" in head and not _is_list_kind(head["kind"]):
            yield Problem(describe(head), f"kind {head['kind']!r} is not a List, but its items were read as a List's")
    if _ws(text, i) != len(text):
        raise json.JSONDecodeError("Extra data", text, _ws(text, i))


def read_runs(text: str) -> Iterator[Found | Problem]:
    """Every run object of a dump, one at a time, and a Problem for everything else.

    JSON (what `kubectl -o json` writes) is streamed: only the object being stored is held parsed,
    never the whole List. YAML goes through dumpfile.read_dump, which parses each document whole.
    A JSON error after runs were read ends the file with a Problem (the runs before it are stored).
    """
    i = _ws(text, 0)
    if text.startswith(("{", "["), i):
        got_any = False
        try:
            for f in _stream_json(text, i, _Decoder()):
                got_any = True
                yield f
            return
        except ValueError as exc:
            if got_any:
                err = exc if isinstance(exc, json.JSONDecodeError) else None
                at = f" (line {err.lineno}, column {err.colno})" if err else ""
                msg = err.msg if err else str(exc)
                yield Problem(f"the JSON document{at}", f"malformed JSON: {msg}; the rest of the file was not read")
                return
        # not one JSON value: maybe YAML (JSON is YAML), maybe broken JSON; fall through
    items, problems = read_dump(text)
    yield from problems
    for it in items:
        yield it.obj, None


# --- storing -----------------------------------------------------------------------------

def import_runs(h: History, found: Iterable[Found | Problem], cluster: str, batch: int = IMPORT_BATCH) -> FileReport:
    """Store runs `batch` at a time, each batch one transaction; count new/updated/unchanged.

    The store reads each batch lazily, so only one parsed object is alive at a time (plus the
    batch's compact JSON texts and index columns).
    """
    rep = FileReport()
    it = iter(found)
    done = False

    def changes() -> Iterator[RunUpsert]:
        nonlocal done
        n = 0
        for f in it:
            if isinstance(f, Problem):
                rep.skipped.append(f)
                continue
            obj, raw = f
            if raw is None:
                try:  # serialized once here (the store keeps this text): YAML may hold what JSON cannot
                    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
                except (TypeError, ValueError) as exc:
                    rep.skipped.append(Problem(describe(obj), f"not representable as JSON: {exc}"))
                    continue
            yield RunUpsert(obj, raw=raw)
            n += 1
            if n >= batch:
                return
        done = True

    while not done:
        res = h.apply(changes(), cluster=cluster, report=True)
        rep.skipped.extend(Problem(s.what, s.why) for s in res.skipped)
        rep.warnings.extend(res.warnings)
        rep.runs += res.stored
        for outcome in res.outcomes.values():
            if outcome == "new":
                rep.new += 1
            elif outcome == "updated":
                rep.updated += 1
            else:
                rep.unchanged += 1
    return rep


def import_file(h: History, path: str, cluster: str = "", batch: int = IMPORT_BATCH) -> FileReport:
    """What `import FILE` does for one file (bench/store_bench.py times exactly this).

    Runs are parsed one at a time as the store consumes them and written `batch` per transaction,
    with WAL checkpoints in the background (History.bulk). Raises OSError/UnicodeDecodeError when
    the file cannot be read.
    """
    text = _read(path)
    ahead = _ParseAhead(read_runs(text))
    try:
        with _cyclic_gc_paused(), h.bulk(while_committing=ahead.window):
            return import_runs(h, ahead, cluster, batch)
    finally:
        ahead.close()


class _ParseAhead:
    """The dump's items, parsed ahead on a second thread only while the writer commits.

    sqlite3 releases the GIL for a whole COMMIT (~60 ms per 10,000-run batch); this thread uses that
    window to parse the next runs (at most AHEAD of them held parsed). Outside the windows it
    sleeps, so it never contends with the writer for the GIL; the writer parses whatever was not
    parsed ahead itself. Items come out in dump order either way.
    """

    AHEAD = 4000

    def __init__(self, it: Iterator[Found | Problem]) -> None:
        self._it = it
        self._buf: deque[Found | Problem] = deque()
        self._lock = threading.Lock()  # one next() on the source at a time
        self._cv = threading.Condition()
        self._open = False  # inside a commit window
        self._closed = False
        self._done = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="import-parse-ahead", daemon=True)
        self._thread.start()

    def window(self, committing: bool) -> None:
        with self._cv:
            self._open = committing
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not (self._closed or (self._open and not self._done and len(self._buf) < self.AHEAD)):
                    self._cv.wait()
                if self._closed:
                    return
            with self._lock:
                if self._done:
                    continue
                try:
                    self._buf.append(next(self._it))
                except StopIteration:
                    self._done = True
                except BaseException as exc:  # noqa: BLE001 - handed to the writer's thread
                    self._error, self._done = exc, True

    def __iter__(self) -> _ParseAhead:
        return self

    def __next__(self) -> Found | Problem:
        if self._buf:
            return self._buf.popleft()
        with self._lock:
            if self._buf:
                return self._buf.popleft()
            if self._error is not None:
                exc, self._error = self._error, None
                raise exc
            if self._done:
                raise StopIteration
            try:
                return next(self._it)
            except StopIteration:
                self._done = True
                raise


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector off while a batch's objects are alive; reference counting still frees them.

    Measured on 120k runs: a batch keeps ~10k run infos, texts and rows alive, so the collector ran
    ~2,000 times and rescanned them (15 full collections), ~0.7 s of an ~8.5 s import. The import
    makes no reference cycles worth collecting; the collector is back on when the file is done.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@quiet_broken_pipe
def run(args: argparse.Namespace) -> int:
    cluster = getattr(args, "cluster_name", None) or ""
    if args.files.count("-") > 1:
        from tekton_results_tui.errors import UsageError

        raise UsageError("stdin (-) can be read only once")
    worst = EXIT_OK
    total = FileReport()
    with opened_history(args, read_only=False) as h:
        for path in args.files:
            label = "stdin" if path == "-" else path
            try:
                rep = import_file(h, path, cluster)
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
                print(f"tekton-results-tui: error: {label}: cannot read: {reason}", file=sys.stderr)
                worst = EXIT_USAGE
                continue
            for p in rep.skipped:
                print(f"{label}: skipped {p.what}: {p.why}", file=sys.stderr)
            for w in dict.fromkeys(rep.warnings):
                print(f"{label}: warning: {w}", file=sys.stderr)
            print(_summary(label, rep))
            if rep.skipped and worst == EXIT_OK:
                worst = EXIT_PARTIAL
            total.runs += rep.runs
            total.new += rep.new
            total.updated += rep.updated
            total.unchanged += rep.unchanged
            total.skipped.extend(rep.skipped)
    if len(args.files) > 1:
        print(_summary("total", total))
    return worst


def _summary(label: str, rep: FileReport) -> str:
    parts = []
    if rep.new:
        parts.append(f"{rep.new} new")
    if rep.updated:
        parts.append(f"{rep.updated} updated")
    if rep.unchanged:
        parts.append(f"{rep.unchanged} unchanged")
    detail = f" ({', '.join(parts)})" if parts else ""
    skipped = f", {len(rep.skipped)} skipped" if rep.skipped else ""
    return f"{label}: {rep.runs} runs stored{detail}{skipped}"


__all__ = ["register", "run", "import_file", "import_runs", "read_runs", "FileReport", "IMPORT_BATCH"]
