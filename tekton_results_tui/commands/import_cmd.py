"""`import FILE ...`: store PipelineRuns/TaskRuns from `kubectl get ... -o yaml|json` dumps.

Reports per file how many runs were stored (new, updated, unchanged) and names every
skipped object with its reason; one bad object or document never stops the rest.
Exit: 0 all stored, 1 some skipped, 2 a file could not be read or a fatal error.

In-cluster marks: a dump is a snapshot of a cluster at some moment, so imported runs keep
the store's default (in the cluster) — the same as a watcher's first list. A watcher later
run on the same cluster name marks the ones that are gone at its first relist; marking them
gone here instead could never be undone by that watcher (only relists/deletes set the mark),
and would make a live run look deleted. What says "never seen in a cluster" is the imported mark
(`History.apply(imported=True)`): kept on the runs an import created until a watcher writes them.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from tekton_results_tui import exitcodes, kinds
from tekton_results_tui.commands import limits
from tekton_results_tui.commands.args import add_db_option
from tekton_results_tui.commands.common import opened_history, quiet_broken_pipe
from tekton_results_tui.textsafe import visible

if TYPE_CHECKING:
    from tekton_results_tui.commands.dumpfile import Problem
    from tekton_results_tui.commands.import_worker import ReaderProcess
    from tekton_results_tui.store.history import ClassifiedRun, History

# Runs per History.apply, i.e. per IMMEDIATE write transaction. Bulk import only (the watcher
# keeps small batches so readers see changes quickly). Measured on 120k ~3.7 KiB runs: batches
# of 500 spent most of their time writing the same index pages again at each of 241 commits;
# 10,000 keep ~45 MB of dirty pages per transaction, within the 64 MB SQLite page cache.
IMPORT_BATCH = 10_000
# A dump this big or bigger is read by a child process (commands/import_worker.py): ~2,000 runs.
READER_PROCESS_MIN_BYTES = 8 * 2**20


def __getattr__(name: str) -> Any:
    """ReaderProcess (commands/import_worker.py) on first use (PEP 562), not at import: every start builds this
    module's parser, and the reader's machinery (subprocess, pickle, the dump parser) is the import's alone."""
    if name == "ReaderProcess":
        from tekton_results_tui.commands.import_worker import ReaderProcess

        globals()[name] = ReaderProcess
        return ReaderProcess
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# "PipelineRuns (tekton.dev/v1, v1beta1), TaskRuns (...) and CustomRuns (tekton.dev/v1beta1)"
_KIND_LIST = ", ".join(f"{k.name}s ({', '.join(k.api_versions)})" for k in kinds.RUN_KINDS)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import", help="store runs from `kubectl get pipelineruns,taskruns,customruns -A -o yaml|json` dumps",
        description=f"Store {_KIND_LIST} from kubectl dumps: a List, a single object, multi-document YAML, or "
        "JSON. FILE '-' reads stdin. Re-importing a dump changes nothing. Objects are checked as an API server "
        "would: an invalid name, namespace or uid is skipped with the reason. " + limits.HELP + " Exit code 0: "
        "all stored; 1: some objects skipped (each is named); 2: a file could not be read or the database "
        "could not be opened (the other files are still imported).")
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


# --- storing -----------------------------------------------------------------------------

def import_runs(h: History, found: Iterable[ClassifiedRun | Problem], cluster: str,
                batch: int = IMPORT_BATCH) -> FileReport:
    """Store runs `batch` at a time, each batch one transaction; count new/updated/unchanged."""
    from tekton_results_tui.commands.dumpfile import Problem

    rep = FileReport()
    it = iter(found)
    done = False

    def changes() -> Iterator[ClassifiedRun]:
        nonlocal done
        n = 0
        for f in it:
            if isinstance(f, Problem):
                rep.skipped.append(f)
                continue
            yield f
            n += 1
            if n >= batch:
                return
        done = True

    while not done:
        res = h.apply(changes(), cluster=cluster, report=True, imported=True)
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

    A dump of READER_PROCESS_MIN_BYTES or more (a file or stdin) is parsed and classified by a
    child process while this one writes (commands/import_worker.py); a smaller one in-process,
    where the child's start-up (~0.15 s) would cost more than it saves. Either way `batch` runs
    per transaction, with WAL checkpoints in the background (History.bulk). Raises OSError (or
    UnicodeDecodeError) when the file cannot be read.
    """
    from tekton_results_tui.commands.dump_stream import (
        classified_runs, decode_dump, read_dump_bytes, read_dump_file, read_runs,
    )

    reader = None
    # an embedded interpreter may have no executable to start a reader with: then in-process
    min_bytes = READER_PROCESS_MIN_BYTES if sys.executable else float("inf")
    if path == "-":
        data = read_dump_bytes(sys.stdin.buffer) if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        if len(data) < min_bytes:
            found: Iterable[ClassifiedRun | Problem] = classified_runs(read_runs(decode_dump(data)))
        else:
            found = reader = _reader_process(path, data)
    elif os.path.getsize(path) < min_bytes:
        found = classified_runs(read_runs(read_dump_file(path)))
    else:
        found = reader = _reader_process(path)
    try:
        with _cyclic_gc_paused(), h.bulk():
            return import_runs(h, found, cluster, batch)
    finally:
        if reader is not None:
            reader.close()


def _reader_process(path: str, data: bytes | None = None) -> ReaderProcess:
    """A ReaderProcess, by this module's name for it (a test may replace it; the first use loads it)."""
    return sys.modules[__name__].ReaderProcess(path, data)


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
    worst = exitcodes.OK
    total = FileReport()
    with opened_history(args, read_only=False) as h:
        for path in args.files:
            label = "stdin" if path == "-" else path
            try:
                rep = import_file(h, path, cluster)
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
                print(visible(f"tekton-results-tui: error: {label}: cannot read: {reason}"), file=sys.stderr)
                worst = exitcodes.USAGE
                continue
            for p in rep.skipped:  # names and reasons hold text from the dump: shown, never obeyed
                print(visible(f"{label}: skipped {p.what}: {p.why}"), file=sys.stderr)
            for w in dict.fromkeys(rep.warnings):
                print(visible(f"{label}: warning: {w}"), file=sys.stderr)
            print(visible(_summary(label, rep)))
            if rep.skipped and worst == exitcodes.OK:
                worst = exitcodes.PARTIAL
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


__all__ = ["register", "run", "import_file", "import_runs", "FileReport", "IMPORT_BATCH", "READER_PROCESS_MIN_BYTES"]
