"""`logs --grep PATTERN [FILTER ...]`: search every stored step log; `reindex-logs`: build the log index.

Text output reads like `grep -n`: `namespace/run/step:line:text`, context lines with `-` for `:`
and `--` between groups; exit 1 when nothing matched, as grep. Names are shown never obeyed
(textsafe.visible). A matched line keeps its SGR colour on a terminal (the log bodies' rule);
into a pipe or a file it goes out plain: escape sequences removed, other controls shown as escapes.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from tekton_results_tui import exitcodes
from tekton_results_tui.commands import output
from tekton_results_tui.commands.args import add_store_options
from tekton_results_tui.commands.common import check_filter, opened_history, quiet_broken_pipe, scoped_filter
from tekton_results_tui.errors import UsageError
from tekton_results_tui.store.history import History
from tekton_results_tui.textsafe import visible

if TYPE_CHECKING:
    from tekton_results_tui.store.history import LogHit

PAGE = 200
GREP_HELP = ('words and "quoted phrases" that must all be on one line (-word leaves lines with it out); '
             "ASCII case and colour codes are ignored; one word needs 3+ characters")


def add_grep_options(p: argparse.ArgumentParser) -> None:
    """`--grep` and its options on the `logs` parser (NAME becomes FILTER words with --grep)."""
    p.add_argument("--grep", metavar="PATTERN", help="search every stored step log instead: " + GREP_HELP
                   + "; the positional words are then a run filter (status:failed pipeline:build since:7d)")
    p.add_argument("-C", "--context", type=int, default=0, metavar="N", help="with --grep: N lines of context")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="with --grep: output format")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="with --grep: at most N matching lines (0 = all)")
    p.add_argument("--page-token", metavar="T", help="with --grep: continue from the token a previous search printed")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "reindex-logs", help="build the search index over stored step logs (resumable)",
        description="Index the stored step logs that the log search index lacks (histories from before it). "
        "Runs in batches, each its own transaction: interrupt it at any time and run it again to go on. "
        "A watcher (or a --results-api sync) writing the history does this by itself while idle; this is the "
        "way for a history nothing writes.")
    add_store_options(p)
    p.set_defaults(func=run_reindex)


def _where(h: LogHit) -> str:
    return f"{h.namespace}/{h.run_name}/{h.step}"


def _line_text(text: str, tty: bool) -> str:
    if tty:
        return output.log_text_for_terminal(text).replace("\n", " ")
    from tekton_results_tui.store.log_index import plain  # the stripping the index matched with

    return visible(plain(text))


def _hit_document(h: LogHit) -> dict[str, Any]:
    return {"namespace": h.namespace, "result": h.result_name, "pipeline_run": h.pipeline_run, "run": h.run_name,
            "run_uid": h.run_uid, "step": h.step, "line": h.line, "text": h.plain,
            "matches": [list(s) for s in h.spans],
            "before": [_plain(x) for x in h.before], "after": [_plain(x) for x in h.after]}


def _plain(text: str) -> str:
    from tekton_results_tui.store.log_index import plain

    return plain(text)


@quiet_broken_pipe
def run_grep(args: argparse.Namespace) -> int:
    if args.context < 0 or args.context > 100:
        raise UsageError(f"-C {args.context}: give 0 to 100 lines of context")
    if args.limit < 0:
        raise UsageError(f"--limit {args.limit}: give 0 (all) or more")
    # loaded when the command runs: every start builds this parser
    from tekton_results_tui.store.history import parse_log_query

    q = parse_log_query(args.grep)  # a bad search fails before any database work
    ns = [args.log_namespace] if args.log_namespace else list(getattr(args, "namespaces", None) or [])
    flt = scoped_filter(args.name, ns)
    check_filter(flt)
    tty = output.stdout_is_tty() and args.output == "text"
    out = sys.stdout
    found, docs = 0, []
    token = args.page_token
    with opened_history(args, read_only=True) as h:
        prev: tuple[int, int] | None = None  # (step log, last line printed) for grep's "--"
        while True:
            want = PAGE if not args.limit else min(PAGE, args.limit - found)
            page = h.search_logs(q, flt, context=args.context, page_token=token, limit=want)
            for hit in page.hits:
                found += 1
                if args.output == "json":
                    docs.append(_hit_document(hit))
                    continue
                where = visible(_where(hit))
                first = hit.line - len(hit.before)
                if args.context and prev is not None and (prev[0] != hit.step_log_id or prev[1] < first - 1):
                    out.write("--\n")
                skip = prev[1] if prev is not None and prev[0] == hit.step_log_id else 0
                for n, text in enumerate(hit.before, first):
                    if n > skip:
                        out.write(f"{where}-{n}-{_line_text(text, tty)}\n")
                out.write(f"{where}:{hit.line}:{_line_text(hit.text, tty)}\n")
                for n, text in enumerate(hit.after, hit.line + 1):
                    out.write(f"{where}-{n}-{_line_text(text, tty)}\n")
                prev = (hit.step_log_id, hit.line + len(hit.after))
            token = page.next_token
            if token is None or (args.limit and found >= args.limit):
                break
        if not page.index_complete:
            print(f"note: {page.pending} stored step logs are not in the log index yet and were not searched; "
                  + ("they are being indexed now (by the watcher writing this history)" if h.log_index_being_built()
                     else "run `tekton-results-tui reindex-logs`"), file=sys.stderr)
    if args.output == "json":
        out.write(output.json_text({"hits": docs, "next_page_token": token}) + "\n")
    elif token is not None:
        print(f"(more: --page-token {token})", file=sys.stderr)
    out.flush()
    return exitcodes.OK if found else exitcodes.PARTIAL


@quiet_broken_pipe
def run_reindex(args: argparse.Namespace) -> int:
    with opened_history(args, read_only=False) as h:
        left = h.log_index_pending()
        if not left:
            print("the log index is complete")
            return exitcodes.OK
        t0, seen = time.monotonic(), 0
        while True:
            n = h.reindex_logs_batch()
            if n is None:
                break
            seen += n
            if sys.stderr.isatty():
                print(f"\r{seen} of {left} step logs", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
    print(f"indexed {seen} stored step logs in {time.monotonic() - t0:.1f} s; the log index is complete")
    return exitcodes.OK


__all__ = ["add_grep_options", "register", "run_grep", "run_reindex", "History"]
