"""`prune --older-than 30d [FILTER ...] [--dry-run]`: forget old local history.

By the run's completion time (the Result summary's end), never the database row's time
(which confuses Tekton Results users, tektoncd/results#1181). Running Results are kept.
Pruning never touches the cluster.
"""

from __future__ import annotations

import argparse
import sys

from tekton_results_tui import exitcodes
from tekton_results_tui.commands.args import add_filter_words, add_store_options, duration_arg
from tekton_results_tui.commands.common import (
    check_filter,
    filter_text,
    opened_history,
    quiet_broken_pipe,
)
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.textsafe import visible


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "prune", help="forget stored Results whose runs completed more than DURATION ago",
        description="Forget stored Results (with their Records and logs) whose top-level run completed before "
        "now minus DURATION and that match the filter. Running runs are never pruned; the cluster is not touched.")
    add_filter_words(p, "only Results matching this filter")
    p.add_argument("--older-than", required=True, metavar="DURATION", help="completion age, e.g. 30d, 12h, 2w")
    p.add_argument("--dry-run", action="store_true", help="only say how many would be forgotten")
    add_store_options(p)
    p.set_defaults(func=run)


@quiet_broken_pipe
def run(args: argparse.Namespace) -> int:
    age_s = duration_arg("--older-than", args.older_than, "30d, 12h, 2w")
    flt = filter_text(args.filter)
    check_filter(flt)
    # a dry run changes nothing: open read-only so it is safe on a shared or copied history
    with opened_history(args, read_only=args.dry_run) as h:
        cutoff = int(h.clock() - age_s)
        n_results, n_records = h.prune(cutoff, flt, dry_run=args.dry_run)
    verb = "would forget" if args.dry_run else "forgot"
    scope = f' matching "{flt}"' if flt else ""
    print(visible(f"{verb} {n_results} Results ({n_records} Records){scope} whose runs completed before "
                  f"{format_time(cutoff)}"))
    if args.dry_run and n_results:
        print("(dry run: nothing was removed)", file=sys.stderr)
    return exitcodes.OK
