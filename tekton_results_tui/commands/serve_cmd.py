"""`serve [--db URL] [--listen HOST:PORT] [--auth kubernetes|none] [--tls-cert F --tls-key F]`: the
history over Tekton Results' v1alpha2 REST read API, for tkn-results, dashboards and `sync`.
"""

from __future__ import annotations

import argparse
import sys

from tekton_results_tui import exitcodes
from tekton_results_tui.api import DEFAULT_LISTEN
from tekton_results_tui.commands.args import add_db_option, bounded_int
from tekton_results_tui.commands.common import db_url_of, opened_history
from tekton_results_tui.store.db import redact
from tekton_results_tui.textsafe import visible


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve", help="serve the history over the Tekton Results v1alpha2 REST API (read-only)",
        description="Serve the history under /apis/results.tekton.dev/v1alpha2/parents/ as Tekton Results' API "
        "server does (Results, Records, record summaries and logs; CEL filters; page tokens), plus /healthz and "
        "/metrics. Read-only: write calls answer 405.")
    add_db_option(p, sub=True)
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to listen on (default {DEFAULT_LISTEN}; :8080 = every address)")
    p.add_argument("--auth", choices=("kubernetes", "none"),
                   help="kubernetes: bearer tokens checked by TokenReview and SubjectAccessReview on the cluster of "
                   "--kubeconfig/--context (in-cluster when deployed); none: no checks, loopback only (default: none "
                   "on a loopback address, kubernetes elsewhere)")
    p.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", metavar="FILE", help="private key of --tls-cert (PEM)")
    p.add_argument("--kubeconfig", metavar="PATH", default=argparse.SUPPRESS,
                   help="kubeconfig of the cluster that authenticates callers (--auth kubernetes)")
    p.add_argument("--context", metavar="NAME", default=argparse.SUPPRESS, help="kubeconfig context to use")
    p.add_argument("--workers", type=bounded_int(1, 256), default=16, metavar="N",
                   help="threads that run store reads (default 16)")
    p.add_argument("--processes", type=bounded_int(1, 64), default=1, metavar="N",
                   help="serve from N processes sharing the port (each its own interpreter; default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tekton_results_tui.api.server import ServeOptions, serve  # the HTTP stack: only when serving

    opts = ServeOptions(listen=args.listen, auth=args.auth, tls_cert=args.tls_cert, tls_key=args.tls_key,
                        kubeconfig=getattr(args, "kubeconfig", None), context=getattr(args, "context", None),
                        workers=args.workers, processes=args.processes, db_url=db_url_of(args))
    with opened_history(args, read_only=True):
        db_url = db_url_of(args)

        def ready(url: str) -> None:
            print(visible(f"serving {redact(db_url)} at {url}/apis/results.tekton.dev/v1alpha2/parents/ "
                          f"(healthz: {url}/healthz)"), file=sys.stderr, flush=True)

        serve(opts, ready=ready)
    return exitcodes.OK
