"""Parse flags, build Settings, pick a mode or a subcommand, and say failures in one line.

Without a subcommand the program runs one of the modes: the TUI with an embedded
watcher (default), `--read-only`, `--headless` or `--demo` (bootstrap.py starts them).
Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` to a callable ``(args) -> int`` exit code (exitcodes.py).
"""

from __future__ import annotations

import argparse
import sys

from tekton_results_tui import __version__, exitcodes
from tekton_results_tui.tui.config import HELP_EPILOG
from tekton_results_tui.commands import cleanup_cmd, import_cmd, insights_cmds, prune_cmd, query_cmds, sync_cmd
from tekton_results_tui.commands import diff_cmd, logsearch_cmd
from tekton_results_tui.commands import serve_cmd
from tekton_results_tui.commands.args import (
    Parser, add_cluster_options, add_db_option, add_mode_options, add_source_options, settings_from_args,
)
from tekton_results_tui.commands.common import database_error_message
from tekton_results_tui.errors import user_message
from tekton_results_tui.sim import cli as sim_cli
from tekton_results_tui.textsafe import visible

# in `--help` order
SUBCOMMANDS = (query_cmds, insights_cmds, diff_cmd, logsearch_cmd, import_cmd, prune_cmd, cleanup_cmd, sync_cmd, serve_cmd, sim_cli)
PROG = "tekton-results-tui"
TUI_HELP = HELP_EPILOG  # the TUI's keys and settings file (tui/config.py: no textual import)

__all__ = ["build_parser", "main", "settings_from_args"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Explore Tekton PipelineRun/TaskRun history from a terminal. Without a command: the TUI "
        "with a watcher on the current kube context.",
        epilog=TUI_HELP,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_db_option(parser)
    add_cluster_options(parser)
    add_mode_options(parser)
    add_source_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in SUBCOMMANDS:
        mod.register(sub)
    return parser


def run_mode(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.headless:
        from tekton_results_tui.headless import run_headless

        return run_headless(settings)
    from tekton_results_tui.bootstrap import run_tui

    return run_tui(settings)


def error_line(message: str) -> str:
    """How every one-line failure is said on stderr (text from data in it shown, never obeyed)."""
    return f"{PROG}: error: {visible(message)}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or run_mode
    try:
        return int(func(args) or exitcodes.OK)
    except KeyboardInterrupt:
        return exitcodes.INTERRUPTED
    except Exception as exc:  # a user-facing failure prints one line; a bug keeps its traceback
        msg = user_message(exc) or database_error_message(exc)
        if msg is None:
            raise
        print(error_line(msg), file=sys.stderr)
        return exitcodes.USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
