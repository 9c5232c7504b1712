"""Parse flags, build Settings, pick a mode and wire the parts together.

Subcommands live in their own modules; each exposes ``register(subparsers)`` which
adds its parser and sets ``func`` to a callable ``(args) -> int`` exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tekton_results_tui import __version__

# module path of each subcommand; imported lazily so `--help` stays fast
SUBCOMMAND_MODULES = [
    "tekton_results_tui.commands.query_cmds",  # results, records, logs
    "tekton_results_tui.commands.import_cmd",  # import
    "tekton_results_tui.commands.prune_cmd",  # prune
    "tekton_results_tui.sim.cli",  # sim
]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user's mistake: printed as one line, exit code 2, no traceback."""


def add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL: sqlite:///relative.db, sqlite:////abs/path.db or postgresql://user@host/db "
        "(default: $TEKTON_RESULTS_TUI_DB or a file under the XDG data dir)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tekton-results-tui",
        description="Explore Tekton PipelineRun/TaskRun history from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_db_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:  # a part not built yet must not break the others
            if exc.name and exc.name.startswith("tekton_results_tui"):
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_OK
    try:
        return int(func(args) or 0)
    except UsageError as exc:
        print(f"tekton-results-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
