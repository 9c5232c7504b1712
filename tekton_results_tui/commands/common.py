"""What the store-facing subcommands share: opening the history, joining filter words."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from tekton_results_tui import exitcodes
from tekton_results_tui.bootstrap import history_at
from tekton_results_tui.settings import default_db_url
from tekton_results_tui.store.db import DATABASE_ERRORS
from tekton_results_tui.store.history import History
from tekton_results_tui.store.query import parse_filter


def db_url_of(args: argparse.Namespace) -> str:
    """`--db` (before or after the subcommand), else $TEKTON_RESULTS_TUI_DB, else the XDG default."""
    return getattr(args, "db", None) or default_db_url()


@contextmanager
def opened_history(args: argparse.Namespace, read_only: bool) -> Iterator[History]:
    """The history at --db; read-only commands open it with mode=ro (safe on a copy or a live file).

    A missing database or a bad URL raises StoreError, which cli.main prints as one line.
    """
    with history_at(db_url_of(args), read_only=read_only) as h:
        yield h


def filter_text(words: list[str] | None) -> str:
    """FILTER words joined into one filter string (each already one shell word).

    A word holding a space (quoted by the user, e.g. `label:"a=b c"`) is re-quoted so the
    filter language's own shlex split gives it back whole.
    """
    out = []
    for w in words or []:
        if any(c.isspace() for c in w) and not (w.startswith(('"', "'"))):
            k, sep, v = w.partition(":")
            w = f'{k}:"{v}"' if sep and " " not in k else f'"{w}"'
        out.append(w)
    return " ".join(out)


def scoped_filter(words: list[str] | None, namespaces: list[str]) -> str:
    """FILTER words plus the -n namespaces as one `ns:` term."""
    flt = filter_text(words)
    if namespaces:
        flt = (flt + " " if flt else "") + "ns:" + ",".join(namespaces)
    return flt


def check_filter(text: str) -> None:
    """Validate a filter up front so a bad term fails before any database work (FilterError)."""
    parse_filter(text)


def quiet_broken_pipe(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`... | head` closing the pipe early ends the command quietly, as kubectl does."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except BrokenPipeError:
            try:  # stop the interpreter's own flush at exit from failing again
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            return exitcodes.OK

    return wrapper


def database_error_message(exc: BaseException) -> str | None:
    """One line for a database driver's error (a locked, corrupt or unreachable database), else None.

    The store's own errors are UserErrors; the driver's errors that reach the CLI from inside a query
    are the store's DATABASE_ERRORS.
    """
    if isinstance(exc, DATABASE_ERRORS):
        text = str(exc).strip()
        return f"database error: {text.splitlines()[0] if text else type(exc).__name__}"
    return None
