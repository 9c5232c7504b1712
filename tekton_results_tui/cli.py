"""Parse flags, build Settings, pick a mode and wire the parts together.

Without a subcommand the program runs one of the modes: the TUI with an embedded
watcher (default), `--read-only`, `--headless` or `--demo`. Subcommands live in their
own modules; each exposes ``register(subparsers)`` which adds its parser and sets
``func`` to a callable ``(args) -> int`` exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tekton_results_tui import __version__
from tekton_results_tui.errors import UsageError
from tekton_results_tui.settings import Settings, default_db_url

# module path of each subcommand; a part not built yet does not break the others
SUBCOMMAND_MODULES = [
    "tekton_results_tui.commands.query_cmds",  # results, records, logs
    "tekton_results_tui.commands.import_cmd",  # import
    "tekton_results_tui.commands.prune_cmd",  # prune
    "tekton_results_tui.commands.cleanup_cmd",  # cleanup
    "tekton_results_tui.sim.cli",  # sim
]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def add_db_option(p: argparse.ArgumentParser, sub: bool = False) -> None:
    """`--db`; on a subcommand (sub=True) it defaults to SUPPRESS so it never hides a --db given before it."""
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS if sub else None,
        help="database URL: sqlite:///relative.db, sqlite:////abs/path.db or postgresql://user@host:5432/db[?schema=s] "
        "(default: $TEKTON_RESULTS_TUI_DB or history.db under the XDG data dir)",
    )


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """kubectl-style cluster flags, shared by the modes and by `cleanup`."""
    p.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: the current context)")
    p.add_argument("-n", "--namespace", dest="namespaces", action="append", default=[], metavar="NS",
                   help="watch only this namespace (repeatable)")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="watch all namespaces (the default)")
    p.add_argument("--cluster-name", metavar="NAME", help="name stored with every row (default: the context name)")


def add_mode_options(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--read-only", action="store_true", help="view a history: no watcher, no cluster writes, DB opened read-only")
    mode.add_argument("--headless", action="store_true", help="run the watcher alone, no UI (logs to stderr)")
    mode.add_argument("--demo", action="store_true", help="run against a simulated Tekton cluster in-process (throwaway DB unless --db)")
    w = p.add_argument_group("watcher options")
    w.add_argument("--no-annotate", action="store_true", help="do not write results.tekton.dev/* annotations back on runs")
    w.add_argument("--no-logs", action="store_true", help="do not store step logs of finished TaskRuns")
    w.add_argument("--no-events", action="store_true", help="do not store Kubernetes events of runs")
    w.add_argument("-l", "--label-selector", metavar="SELECTOR", help="watch only runs matching this label selector")
    w.add_argument("--log-format", choices=("text", "json"), default="text", help="headless log format")
    w.add_argument("--delete-after", metavar="DURATION", help="delete runs this long after completion once stored")
    w.add_argument("--delete-selector", metavar="LABELS", help="limit --delete-after to runs matching these labels")
    w.add_argument("--finalizers", action="store_true", help="add a finalizer so runs are stored before deletion")
    w.add_argument("--store-deadline", metavar="DURATION", default="10m", help="release finalizers after this long")
    w.add_argument("--metrics-port", type=int, metavar="PORT", help="serve /metrics, /healthz, /readyz (headless)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tekton-results-tui",
        description="Explore Tekton PipelineRun/TaskRun history from a terminal. Without a command: the TUI "
        "with a watcher on the current kube context.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_db_option(parser)
    add_cluster_options(parser)
    add_mode_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("tekton_results_tui"):
                continue
            raise
        mod.register(sub)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build Settings from parsed flags (only the attributes a parser defined are read)."""
    from tekton_results_tui.store.query import parse_duration

    s = Settings(db_url=getattr(args, "db", None) or default_db_url())
    s.kubeconfig = getattr(args, "kubeconfig", None)
    s.context = getattr(args, "context", None)
    # `-n ci -n ci` is one scope: two informers on it would race each other's relists
    s.namespaces = [] if getattr(args, "all_namespaces", False) else list(dict.fromkeys(getattr(args, "namespaces", []) or []))
    s.cluster_name = getattr(args, "cluster_name", None)
    s.read_only = bool(getattr(args, "read_only", False))
    s.headless = bool(getattr(args, "headless", False))
    s.demo = bool(getattr(args, "demo", False))
    s.annotate = not getattr(args, "no_annotate", False)
    s.capture_logs = not getattr(args, "no_logs", False)
    s.capture_events = not getattr(args, "no_events", False)
    s.label_selector = getattr(args, "label_selector", None)
    s.log_format = getattr(args, "log_format", "text") or "text"
    s.delete_selector = getattr(args, "delete_selector", None)
    if s.delete_selector:
        from tekton_results_tui.watcher.selectors import parse_selector

        try:
            parse_selector(s.delete_selector)
        except ValueError as exc:
            raise UsageError(f"--delete-selector: {exc}") from None
    s.finalizers = bool(getattr(args, "finalizers", False))
    s.metrics_port = getattr(args, "metrics_port", None)
    for attr, target in (("delete_after", "delete_after_s"), ("store_deadline", "store_deadline_s")):
        val = getattr(args, attr, None)
        if val:
            try:
                setattr(s, target, parse_duration(val))
            except ValueError:
                raise UsageError(f"--{attr.replace('_', '-')} {val!r}: expected a duration like 30m, 2h, 7d") from None
    return s


def run_mode(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.headless:
        from tekton_results_tui.headless import run_headless

        return run_headless(settings)
    from tekton_results_tui.tui.run import run_tui

    return run_tui(settings)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or run_mode
    try:
        return int(func(args) or 0)
    except UsageError as exc:
        print(f"tekton-results-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a known, user-facing failure type prints one line
        from tekton_results_tui.errors import user_message

        msg = user_message(exc)
        if msg is None:
            raise
        print(f"tekton-results-tui: error: {msg}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
