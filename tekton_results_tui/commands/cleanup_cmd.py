"""`cleanup [FILTER ...] [--keep N] [--keep-since D] [--dry-run] [--yes]`: delete stored, finished runs from the cluster.

Prints the plan first (what would be deleted, what is skipped and why); `--dry-run` stops
there. Without `--yes` it asks on a terminal and refuses without one. Deleting goes through
watcher.cleanup (preconditions on uid and the stored resourceVersion; children go with their
PipelineRun); the history keeps every run. Exit 0 when every planned run was deleted, 1 when
some were not, 2 on a usage problem.
"""

from __future__ import annotations

import argparse
import sys

from tekton_results_tui import exitcodes
from tekton_results_tui.bootstrap import cluster_target
from tekton_results_tui.commands.args import (
    add_cluster_options,
    add_filter_words,
    add_store_options,
    MAX_COUNT,
    bounded_int,
    duration_arg,
    settings_from_args,
)
from tekton_results_tui.commands.common import (
    check_filter,
    opened_history,
    quiet_broken_pipe,
    scoped_filter,
)
from tekton_results_tui.errors import UsageError
from tekton_results_tui.textsafe import visible


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "cleanup", help="delete stored, finished runs from the cluster (the history keeps them)",
        description="Delete from the cluster the runs matching FILTER whose final state is stored (a PipelineRun "
        "only when its TaskRuns are stored too; they are deleted with it). The plan is printed first. The "
        "history keeps every run: deleted runs stay browsable.")
    add_filter_words(p, "only runs (Results) matching this filter")
    p.add_argument("--keep", type=bounded_int(0, MAX_COUNT), metavar="N", help="keep the N newest runs of each pipeline")
    p.add_argument("--keep-since", metavar="DURATION",
                   help="keep runs that completed less than DURATION ago (with --keep: kept if either keeps it)")
    p.add_argument("--dry-run", action="store_true", help="print the plan only")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_store_options(p)  # --db before the cluster flags in --help
    add_cluster_options(p)
    p.set_defaults(func=run)


def _keep_rule(args: argparse.Namespace):  # noqa: ANN202 - KeepRule, imported lazily
    from tekton_results_tui.watcher.cleanup_plan import KeepRule

    since = duration_arg("--keep-since", args.keep_since, "2h, 7d") if args.keep_since else None
    return KeepRule(keep=args.keep, keep_since_s=since, keep_since_text=args.keep_since)


def confirm(question: str) -> bool:
    """y/N on the terminal; the question goes to stderr so stdout stays the plan."""
    sys.stderr.write(question + " [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


@quiet_broken_pipe
def run(args: argparse.Namespace) -> int:
    from tekton_results_tui.watcher.cleanup import delete_runs, plan, plan_lines, select_by_filter, summarize

    settings = settings_from_args(args)
    keep = _keep_rule(args)
    flt = scoped_filter(args.filter, list(settings.cluster.namespaces))
    check_filter(flt)
    target, cluster = cluster_target(settings)  # KubeError: one line
    with opened_history(args, read_only=False) as h:  # read only; a read-only history could not delete
        now = h.clock()
        p = plan(h, select_by_filter(h, flt), cluster, now, keep=keep)
        for line in plan_lines(p, now):
            print(visible(line))
        sys.stdout.flush()
        n = len(p.deletable)
        if args.dry_run:
            print("(dry run: nothing was deleted)", file=sys.stderr)
            return exitcodes.OK
        if not n:
            return exitcodes.OK
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(f"refusing to delete {n} run{'' if n == 1 else 's'} without a terminal to confirm on; "
                                 "pass --yes (or --dry-run to only see the plan)")
            if not confirm(visible(f'Delete {p.summary().replace(" to delete", "")} from cluster "{cluster}"?')):
                print("nothing deleted", file=sys.stderr)
                return exitcodes.OK

        def progress(done: int, total: int, o) -> None:  # noqa: ANN001 - cleanup.Outcome
            print(visible(f"[{done}/{total}] {o.line()}"))
            sys.stdout.flush()

        outcomes = delete_runs(target, p, progress, history=h)
    print(visible(summarize(outcomes)))
    return exitcodes.OK if outcomes and all(o.ok for o in outcomes) else exitcodes.PARTIAL
