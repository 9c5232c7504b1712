"""Flags shared by the modes and the subcommands, and the one place Settings is built from them.

Subcommands take their flags from here (never from cli.py, which imports them): `--db`, the kubectl-style
cluster flags, FILTER words with negated terms, the mode and watcher options.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from tekton_results_tui import exitcodes
from tekton_results_tui.errors import UsageError
from tekton_results_tui.settings import Settings, default_db_url


class Parser(argparse.ArgumentParser):
    """argparse with a usage error said in one line (`PROG COMMAND: error: ...`, exit 2), the words the
    user typed in it shown, never obeyed. Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        from tekton_results_tui.textsafe import visible

        self.exit(exitcodes.USAGE, visible(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")


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
    w.add_argument("--metrics-port", type=port_number, metavar="PORT", help="serve /metrics, /healthz, /readyz (headless)")


def add_source_options(p: argparse.ArgumentParser, sub: bool = False) -> argparse._ArgumentGroup:
    """A Tekton Results server as the source (the modes: instead of a cluster; `sync`: required).

    On a subcommand (sub=True) unset flags default to SUPPRESS so they never hide the same flag given
    before the subcommand's name.
    """
    dflt = (lambda v: argparse.SUPPRESS) if sub else (lambda v: v)
    g = p.add_argument_group("Tekton Results source")
    g.add_argument("--results-api", metavar="URL", default=dflt(None), required=False,
                   help="a Tekton Results API server (https://host:8080): sync its Results, Records and logs into the "
                   "history instead of watching a cluster (delete keys are not offered)")
    g.add_argument("--token", metavar="TOKEN", default=dflt(None),
                   help="bearer token for the Results API (default: the --kubeconfig/--context credentials when given)")
    g.add_argument("--parent", metavar="NS", default=dflt(None), help="sync only this parent (namespace); default: all")
    g.add_argument("--filter", dest="source_filter", metavar="CEL", default=dflt(None),
                   help="sync only the Records this CEL filter matches (the server applies it)")
    g.add_argument("--insecure-skip-tls-verify", action="store_true", default=dflt(False),
                   help="do not verify the Results API server's certificate")
    g.add_argument("--sync-interval", metavar="DURATION", default=dflt(None),
                   help="time between sync passes when following (default 5s)")
    return g


def port_number(text: str) -> int:
    """A TCP port (0 = any free one), as argparse `type=`: anything else is a one-line usage error."""
    try:
        n = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: expected a port number") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: expected a port number from 0 to 65535")
    return n


MAX_COUNT = 1_000_000_000  # the largest --limit/--keep: more rows than any history holds


def bounded_int(low: int, high: int) -> Any:
    """argparse `type=` for an integer in [low, high]: a huge number is a one-line usage error."""

    def parse(text: str) -> int:
        try:
            n = int(text.strip(), 10) if len(text) <= 30 else None
        except ValueError:
            n = None
        if n is None or not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]!r}: expected a whole number from {low} to {high}")
        return n

    return parse


# --- FILTER words ----------------------------------------------------------------------


def allow_negated_filters(p: argparse.ArgumentParser) -> None:
    """Let `-status:failed` / `-build` through as FILTER words instead of "unrecognized arguments".

    argparse reads every word starting with `-` as an option. Here a single-dash word is a
    positional (a negated filter term) when it holds a `:`, `>` or `<` (`-ns:ci`, `-dur>5m`:
    no flag value looks like that), or when it is longer than two characters and its first
    two are not one of this parser's flags (so `-ojson`, `-nci` still work as kubectl users
    type them). `--` before the filter works too, as in any command.
    """
    original = p._parse_optional  # argparse has no public hook for this

    def parse_optional(arg_string: str):  # noqa: ANN202 - argparse's private return shape
        if len(arg_string) > 2 and arg_string[0] == "-" and arg_string[1] != "-":
            if any(c in arg_string for c in ":<>") or arg_string[:2] not in p._option_string_actions:
                return None
        return original(arg_string)

    p._parse_optional = parse_optional  # type: ignore[method-assign]


def add_filter_words(p: argparse.ArgumentParser, help_text: str) -> None:
    """The FILTER positional of a filtering subcommand."""
    p.add_argument("filter", nargs="*", metavar="FILTER", help=help_text)


def add_store_options(p: argparse.ArgumentParser) -> None:
    """`--db` and negated FILTER words (`-status:failed`): every filtering subcommand takes both."""
    add_db_option(p, sub=True)
    allow_negated_filters(p)


# --- Settings ----------------------------------------------------------------------------


def duration_arg(flag: str, text: str, examples: str = "30m, 2h, 7d") -> float:
    """A duration flag's value in seconds; UsageError naming the flag and the problem (a duration that
    parses but is out of range, e.g. longer than the store accepts, says so)."""
    from tekton_results_tui.store.query import parse_duration

    try:
        return parse_duration(text)
    except (ValueError, OverflowError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        hint = f"expected a duration like {examples}"
        said = detail and not detail.startswith("bad duration")  # more than "it does not parse"
        raise UsageError(f"{flag} {text[:40]!r}: " + (f"{detail} ({hint})" if said else hint)) from None


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags (only the attributes a parser defined are read), env and defaults."""
    delete_selector = getattr(args, "delete_selector", None)
    if delete_selector:
        from tekton_results_tui.watcher.selectors import parse_selector

        try:
            parse_selector(delete_selector)
        except ValueError as exc:
            raise UsageError(f"--delete-selector: {exc}") from None
    options: dict[str, Any] = {
        "db_url": getattr(args, "db", None) or default_db_url(),
        "kubeconfig": getattr(args, "kubeconfig", None),
        "context": getattr(args, "context", None),
        "namespaces": () if getattr(args, "all_namespaces", False) else tuple(getattr(args, "namespaces", None) or ()),
        "cluster_name": getattr(args, "cluster_name", None),
        "read_only": bool(getattr(args, "read_only", False)),
        "headless": bool(getattr(args, "headless", False)),
        "demo": bool(getattr(args, "demo", False)),
        "annotate": not getattr(args, "no_annotate", False),
        "capture_logs": not getattr(args, "no_logs", False),
        "capture_events": not getattr(args, "no_events", False),
        "label_selector": getattr(args, "label_selector", None),
        "log_format": getattr(args, "log_format", None) or "text",
        "metrics_port": getattr(args, "metrics_port", None),
        "delete_selector": delete_selector,
        "finalizers": bool(getattr(args, "finalizers", False)),
    }
    if getattr(args, "results_api", None):
        options.update(results_api=args.results_api, results_token=getattr(args, "token", None),
                       source_parent=getattr(args, "parent", None) or "-",
                       source_filter=getattr(args, "source_filter", None) or "",
                       insecure_skip_tls_verify=bool(getattr(args, "insecure_skip_tls_verify", False)))
        if getattr(args, "sync_interval", None):
            options["sync_interval_s"] = duration_arg("--sync-interval", args.sync_interval, "5s, 1m")
        if options["read_only"] or options["demo"]:
            raise UsageError("--results-api syncs into the history: not with " + ("--read-only" if options["read_only"] else "--demo"))
    if getattr(args, "delete_after", None):
        options["delete_after_s"] = duration_arg("--delete-after", args.delete_after)
    if getattr(args, "store_deadline", None):
        options["store_deadline_s"] = duration_arg("--store-deadline", args.store_deadline)
    return Settings.of(**options)
