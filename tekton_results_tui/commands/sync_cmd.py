"""`sync`: copy a Tekton Results server's history into ours, as if its runs had been watched.

Incremental (a second run fetches only what changed since the first), resumable (Ctrl-C or a crash
loses at most the batch of pages in flight: the cursor moves past a batch once it is committed), and
`--follow` keeps polling. A long pass reads its pages in a reader process (sources/sync_reader.py) while
this one writes; Ctrl-C ends both at once. Runs deleted from the source stay.
Exit 0 when everything read was stored, 1 when some records were skipped (named on stderr), 2 with
one line when the source or the database fails (what was synced before stays).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from tekton_results_tui import exitcodes
from tekton_results_tui.commands.args import add_db_option, add_source_options, bounded_int, settings_from_args
from tekton_results_tui.errors import UsageError
from tekton_results_tui.textsafe import visible

PROG = "tekton-results-tui sync"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sync", help="copy Results, Records and logs from a Tekton Results API server into the history",
        description="Pull Results, Records and Log content from a Tekton Results API server (v1alpha2 REST, "
        "either JSON spelling) into the history, as if the runs had been watched. Incremental by update_time "
        "and resumable; --follow keeps polling. Runs deleted from the source are kept.")
    add_source_options(p, sub=True)
    p.add_argument("--kubeconfig", metavar="PATH", default=argparse.SUPPRESS,
                   help="take the Results API token from this kubeconfig")
    p.add_argument("--context", metavar="NAME", default=argparse.SUPPRESS, help="... and this context")
    p.add_argument("--cluster-name", metavar="NAME", default=argparse.SUPPRESS,
                   help="name stored with every synced row (default: the server's host:port)")
    p.add_argument("--follow", action="store_true", help="keep polling for changes until interrupted")
    p.add_argument("--timeout", metavar="DURATION", default="30s", help="read timeout of one request (default 30s)")
    p.add_argument("--page-size", type=bounded_int(1, 10_000), default=1000, metavar="N",
                   help="Records per request (default 1000, at most 10000)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    add_db_option(p, sub=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tekton_results_tui.bootstrap import history_at
    from tekton_results_tui.commands.args import duration_arg
    from tekton_results_tui.settings import Settings
    from tekton_results_tui.sources.service import sync_from_settings
    from tekton_results_tui.sources.sync import describe
    from tekton_results_tui.sources.wire import SourceError

    if not getattr(args, "results_api", None):
        raise UsageError("sync: --results-api URL is required")
    settings: Settings = settings_from_args(args)
    settings = settings.replace(sync_timeout_s=duration_arg("--timeout", args.timeout, "10s, 1m"),
                                sync_page_size=args.page_size)
    quiet = args.quiet
    stop = threading.Event()
    old = _on_sigterm(stop)
    try:
        with history_at(settings.store.db_url, read_only=False) as h:
            sync = sync_from_settings(settings, h)
            say = (lambda line: None) if quiet else (lambda line: print(visible(line), file=sys.stderr, flush=True))
            say(f"syncing {sync.client.base_url} (parent {sync.parent}) as cluster {sync.cluster!r}")
            try:
                stats = sync.run_once(stop, on_page=lambda s: say(f"  {s.records} records read, {s.applied} new or changed"))
                say(describe(stats))
                _name_skipped(stats)
                if args.follow and not stats.interrupted:
                    fails = [0]

                    def on_pass(s: Any, err: SourceError | None) -> None:
                        if err is not None:
                            fails[0] += 1
                            print(visible(f"{PROG}: warning: {err} (retrying)"), file=sys.stderr, flush=True)
                        elif s.applied or s.skipped:
                            say(describe(s))
                            _name_skipped(s)

                    sync.follow(settings.source.sync_interval_s, stop, on_pass)
                    return exitcodes.OK
                if stats.interrupted:
                    return exitcodes.INTERRUPTED
                return exitcodes.PARTIAL if stats.skipped else exitcodes.OK
            finally:
                sync.client.close()
    except SourceError as exc:
        print(visible(f"{PROG}: error: {exc} (what was synced before is kept; run again to resume)"), file=sys.stderr)
        return exitcodes.USAGE
    finally:
        _restore(old)


def _name_skipped(stats: Any) -> None:
    for why in stats.skipped_names[:20]:
        print(visible(f"{PROG}: skipped: {why}"), file=sys.stderr)
    if stats.skipped > 20:
        print(f"{PROG}: ... and {stats.skipped - 20} more skipped", file=sys.stderr)


def _on_sigterm(stop: threading.Event) -> Any:
    """SIGTERM stops after the page in flight (Ctrl-C raises KeyboardInterrupt, also between pages)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop.set())


def _restore(old: Any) -> None:
    if old is not None:
        signal.signal(signal.SIGTERM, old)
