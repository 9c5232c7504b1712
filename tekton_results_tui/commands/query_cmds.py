"""`results`, `records` and `logs`: read the history from a shell (the database opened read-only)."""

from __future__ import annotations

import argparse
import sys
import time

from typing import Any, Callable, Sequence

from tekton_results_tui import exitcodes, kinds
from tekton_results_tui.commands import logsearch_cmd, output
from tekton_results_tui.commands.args import MAX_COUNT, add_db_option, add_filter_words, add_store_options, bounded_int
from tekton_results_tui.commands.common import (
    check_filter,
    opened_history,
    quiet_broken_pipe,
    scoped_filter,
)
from tekton_results_tui.commands.shapes import many_clusters, record_documents, record_table, result_documents, result_table
from tekton_results_tui.errors import UsageError
from tekton_results_tui.textsafe import visible
from tekton_results_tui.store.history import RECORD_ORDERS, RESULT_ORDERS, History, Page, RecordRow

FILTER_HELP = ("filter words, all must match: status:failed ns:ci pipeline:build task:x kind:taskrun label:k=v "
               "reason:StepOOM cluster:prod since:2h before:2026-11-01 dur>5m, bare words; -term negates")
PAGE_ALL = 500  # page size when --limit 0 asks for everything


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, helptext in (("results", "list stored Results (one per top-level run), newest first"),
                           ("records", "list stored Records (PipelineRuns, TaskRuns, Logs, EventLists)")):
        p = subparsers.add_parser(name, help=helptext, description=helptext + ". " + FILTER_HELP)
        add_filter_words(p, FILTER_HELP)
        p.add_argument("-o", "--output", choices=output.OUTPUT_FORMATS, default="table", help="output format")
        p.add_argument("--limit", type=bounded_int(0, MAX_COUNT), default=100, metavar="N",
                       help="at most N items (default 100; 0 = all); the next page token is printed")
        orders = RESULT_ORDERS if name == "results" else RECORD_ORDERS
        p.add_argument("--order", choices=list(orders), default="newest", help="sort order (default newest)")
        p.add_argument("--page-token", metavar="T", help="continue from the token a previous page printed")
        p.add_argument("-n", "--namespace", dest="ns_filter", action="append", default=[], metavar="NS",
                       help="only this namespace (repeatable; same as the filter ns:NS)")
        if name == "records":
            p.add_argument("--result", metavar="NAME", help="only the Records of this Result (<ns>/results/<id>)")
        add_store_options(p)
        p.set_defaults(func=run_results if name == "results" else run_records)

    p = subparsers.add_parser("logs", help="print the stored step logs of a run",
                              description="Print the stored step logs of a TaskRun (or of every TaskRun of a "
                              "PipelineRun). NAME is a run name (the newest when names repeat), a Result or "
                              "Record name, or a uid. With --grep PATTERN: search every stored step log, the "
                              "words being a run filter.")
    p.add_argument("name", metavar="NAME | FILTER", nargs="*")
    logsearch_cmd.add_grep_options(p)
    p.add_argument("--step", metavar="STEP", help="only this step")
    p.add_argument("-n", "--namespace", dest="log_namespace", metavar="NS",
                   help="the run's namespace (when a name is in several)")
    add_db_option(p, sub=True)
    p.set_defaults(func=run_logs)


# --- results / records -------------------------------------------------------------------


def _pages(fetch, limit: int, page_token: str | None) -> tuple[list, str | None]:  # noqa: ANN001
    """Items up to `limit` (0 = all, a page at a time) and the token for the rest."""
    if limit < 0:
        raise UsageError(f"--limit {limit}: expected 0 (all) or a positive number")
    if limit:
        page: Page = fetch(page_token, limit)
        return page.items, page.next_token
    items: list = []
    token = page_token
    while True:
        page = fetch(token, PAGE_ALL)
        items.extend(page.items)
        token = page.next_token
        if not token:
            return items, None


def _fetch_guarded(fetch):  # noqa: ANN001, ANN202
    def inner(token, limit):  # noqa: ANN001, ANN202
        try:
            return fetch(token, limit)
        except ValueError as exc:  # bad page token / order (FilterError is a ValueError too: keep it)
            from tekton_results_tui.store.query import FilterError

            if isinstance(exc, FilterError):
                raise
            raise UsageError(f"--page-token: {exc}") from None
    return inner


def _filter_of(args: argparse.Namespace) -> str:
    """FILTER words plus -n (after the subcommand, or the root's -n before it) as an ns: term."""
    return scoped_filter(args.filter, list(args.ns_filter or []) or list(getattr(args, "namespaces", None) or []))


def _list(args: argparse.Namespace, h: History, flt: str, noun: str, fetch: Callable[[str | None, int], Page],
          documents: Callable[[Sequence[Any], History], list[dict]],
          table: Callable[..., tuple[list[str], list[list[Any]]]]) -> int:
    """One page (or all) of rows printed as -o asks: names, a document under `noun`, or a table."""
    rows, token = _pages(_fetch_guarded(fetch), args.limit, args.page_token)
    if args.output == "name":
        sys.stdout.writelines(visible(r.name) + "\n" for r in rows)
        _more_hint(token)
        return exitcodes.OK
    if args.output not in output.TABLE_FORMATS:
        output.emit_document({noun: documents(rows, h), "next_page_token": token or ""}, args.output, sys.stdout)
        return exitcodes.OK
    if not rows:
        _say(f"No {noun} found." + (f' (filter "{flt}")' if flt else ""))
        return exitcodes.OK
    now = h.clock()
    output.render_table(*table(rows, now, many_clusters(h), wide=args.output == "wide"), sys.stdout)
    _more_hint(token)
    return exitcodes.OK


@quiet_broken_pipe
def run_results(args: argparse.Namespace) -> int:
    flt = _filter_of(args)
    check_filter(flt)
    with opened_history(args, read_only=True) as h:
        return _list(args, h, flt, "results",
                     lambda t, n: h.list_results(flt, order=args.order, page_token=t, limit=n),
                     result_documents, result_table)


@quiet_broken_pipe
def run_records(args: argparse.Namespace) -> int:
    flt = _filter_of(args)
    check_filter(flt)
    with opened_history(args, read_only=True) as h:
        if args.result and h.get_result(name=args.result) is None:
            raise UsageError(f"no Result named {args.result!r} (expected <namespace>/results/<id>)")
        return _list(args, h, flt, "records",
                     lambda t, n: h.list_records(flt, result=args.result, order=args.order, page_token=t, limit=n),
                     record_documents, record_table)


def _more_hint(token: str | None) -> None:
    if token:
        print(f"(more: add --page-token {token})", file=sys.stderr)


# --- logs ----------------------------------------------------------------------------------


def _run_of(h: History, rec: RecordRow | None) -> RecordRow | None:
    """The run a Record is about: itself for a run, its run for a Log/EventList document."""
    if rec is not None and not kinds.is_run(rec.kind):
        return h.get_record(uid=rec.run_uid)
    return rec


def _resolve_run(h: History, name: str, namespace: str | None) -> RecordRow | None:
    """A run Record from a run name (newest), a Record or Result name, or a uid."""
    if "/records/" in name:
        return _run_of(h, h.get_record(name=name))
    if "/results/" in name:
        res = h.get_result(name=name)
        if res is None:
            return None
        runs = [r for r in h.records_of(res.id) if kinds.is_run(r.kind)]
        tops = [r for r in runs if r.top_level] or runs
        return tops[0] if tops else None
    found = h.find_runs(name, namespace=namespace, limit=50)
    if found:
        namespaces = {r.parent for r in found}
        if len(namespaces) > 1 and not namespace:
            print(visible(f"note: runs named {name!r} exist in namespaces {', '.join(sorted(namespaces))}; "
                          f"showing the newest, in {found[0].parent} (use -n NS)"), file=sys.stderr)
        return found[0]
    return _run_of(h, h.get_record(uid=name))


def _say(text: str) -> None:
    """A note on stderr; names in it come from data, so they are shown, never obeyed."""
    print(visible(text), file=sys.stderr)


@quiet_broken_pipe
def run_logs(args: argparse.Namespace) -> int:
    if args.grep is not None:
        return logsearch_cmd.run_grep(args)
    if len(args.name) != 1:
        raise UsageError("logs: give one run NAME (or --grep PATTERN [FILTER ...] to search every stored log)")
    args.name = args.name[0]
    namespace = args.log_namespace or (getattr(args, "namespaces", None) or [None])[-1]
    with opened_history(args, read_only=True) as h:
        run = _resolve_run(h, args.name, namespace)
        if run is None:
            where = f" in namespace {namespace}" if namespace else ""
            raise UsageError(f"no stored run, Record or Result named {args.name!r}{where}")
        kind = kinds.run_kind(run.kind)
        what = f"{run.kind} {run.parent}/{run.run_name}"
        if kind is not None and kind.step_logs:
            return _one_run_logs(h, run, what, args.step)
        # a run without logs of its own (a PipelineRun): the logs of its children that have them
        logged = {k.name for k in kinds.children_of(run.kind) if k.step_logs}
        children = [r for r in h.records_of(run.result_id) if r.kind in logged] if logged else []
        if not children:
            noun = " or ".join(sorted(logged)) + "s" if logged else "step logs"
            _say(f"{what} has no stored {noun}, so no logs" if logged else f"{what} has no step logs")
            return exitcodes.PARTIAL
        printed, missing = 0, []
        for child in children:
            n = _print_taskrun_logs(h, child, args.step, header_prefix=f"{child.kind.lower()} {child.run_name} ")
            if n < 0:
                missing.append(child.run_name)
            printed += max(n, 0)
        if missing and len(missing) == len(children):
            _say(f"no stored logs for {what}: none of its {len(children)} runs has logs stored ({_NO_LOGS_WHY})")
        elif missing:
            _say(f"no stored logs for {len(missing)} of {len(children)} runs of {what}: {', '.join(missing)}")
        if printed == 0:
            if args.step:
                raise UsageError(f"no step {args.step!r} in the stored logs of {what}")
            return exitcodes.PARTIAL
        return exitcodes.OK


def _one_run_logs(h: History, run: RecordRow, what: str, step: str | None) -> int:
    n = _print_taskrun_logs(h, run, step, header_prefix="")
    if n < 0:
        _say(f"no stored logs for {what} ({_NO_LOGS_WHY})")
        return exitcodes.PARTIAL
    if n == 0 and step:
        log = h.log_record_for(run.run_uid, cluster=run.cluster)
        steps = [s.step for s in h.step_logs(log.id)] if log is not None else []
        raise UsageError(f"no step {step!r} in {what}; stored steps: {', '.join(steps) or 'none'}")
    return exitcodes.OK


_NO_LOGS_WHY = "logs are stored by the watcher when a TaskRun finishes; imported runs have none"
_STATE_NOTES = {"pod-gone": "the pod was gone before its log was read", "not-started": "the step never started",
                "error": "the log could not be read"}


def _print_taskrun_logs(h: History, run: RecordRow, step: str | None, header_prefix: str) -> int:
    """Print one run's step logs; returns steps printed, or -1 when it has no stored logs.

    Headers carry names from data, shown never obeyed; on a terminal a log body keeps only its SGR
    colour; into a pipe or a file it goes out as stored, bytes and all.
    """
    log = h.log_record_for(run.run_uid, cluster=run.cluster)
    if log is None:
        return -1
    steps = h.step_logs(log.id)
    if not steps:
        return -1
    tty = output.stdout_is_tty()
    out = sys.stdout
    printed = 0
    for s in steps:
        if step and s.step != step:
            continue
        if not step or header_prefix:
            out.write(visible(f"==> {header_prefix}step {s.step} <==") + "\n")
        text = h.step_log_text(s.id)
        if tty:
            out.write(output.log_text_for_terminal(text.decode("utf-8", errors="replace")))
        else:
            out.flush()  # the text goes out as stored, bytes and all
            out.buffer.write(text)
            out.buffer.flush()
        if text and not text.endswith(b"\n"):
            out.write("\n")
        if s.state != "stored" and not text:
            out.write(f"[no log: {_STATE_NOTES.get(s.state, s.state)}]\n")
        if s.truncated:
            out.write(f"[log truncated: {s.size} bytes stored]\n")
        printed += 1
    out.flush()
    return printed
