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
import json
import sys
from dataclasses import dataclass, field

from tekton_results_tui.cli import add_db_option
from tekton_results_tui.commands.common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, opened_history, quiet_broken_pipe
from tekton_results_tui.commands.dumpfile import DumpItem, Problem, describe, read_dump
from tekton_results_tui.store.grouping import parse_rv
from tekton_results_tui.store.history import History, RunUpsert

BATCH = 500  # runs per History.apply: one transaction each


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
    runs: int = 0  # distinct run objects accepted by the store
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8", errors="strict") as fh:
        return fh.read()


def import_items(h: History, items: list[DumpItem], cluster: str) -> FileReport:
    """Store the runs in batches; count new/updated/unchanged by comparing with what is stored."""
    rep = FileReport()
    # within one dump the newest resourceVersion of a uid wins (as the store coalesces)
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        newest: dict[str, int] = {}
        for it in chunk:
            meta = it.obj.get("metadata") if isinstance(it.obj.get("metadata"), dict) else {}
            uid = meta.get("uid")
            if isinstance(uid, str) and uid:
                newest[uid] = max(newest.get(uid, -1), parse_rv(meta.get("resourceVersion")))
        before = h.stored_versions(list(newest), cluster=cluster)
        changes = []
        for it in chunk:
            try:  # serialized once here (the store keeps this text): YAML may hold what JSON cannot
                raw = json.dumps(it.obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as exc:
                rep.skipped.append(Problem(describe(it.obj), f"not representable as JSON: {exc}"))
                uid = (it.obj.get("metadata") or {}).get("uid") if isinstance(it.obj.get("metadata"), dict) else None
                newest.pop(uid, None)  # type: ignore[arg-type]
                continue
            changes.append(RunUpsert(it.obj, raw=raw))
        res = h.apply(changes, cluster=cluster)
        skipped_names = {s.what for s in res.skipped}
        rep.skipped.extend(Problem(s.what, s.why) for s in res.skipped)
        rep.warnings.extend(res.warnings)
        rep.runs += res.stored
        for it in chunk:
            meta = it.obj.get("metadata") if isinstance(it.obj.get("metadata"), dict) else {}
            uid = meta.get("uid")
            if not isinstance(uid, str) or uid not in newest or describe(it.obj) in skipped_names:
                continue
            rv = newest.pop(uid)
            if uid not in before:
                rep.new += 1
            elif before[uid][0] < rv:
                rep.updated += 1
            else:
                rep.unchanged += 1
    return rep


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
                text = _read(path)
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
                print(f"tekton-results-tui: error: {label}: cannot read: {reason}", file=sys.stderr)
                worst = EXIT_USAGE
                continue
            items, problems = read_dump(text)
            rep = import_items(h, items, cluster)
            rep.skipped[:0] = problems
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


__all__ = ["register", "run", "import_items", "FileReport"]
