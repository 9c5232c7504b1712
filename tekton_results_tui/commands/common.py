"""What the store-facing subcommands share: opening the history, joining filter words."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from tekton_results_tui.cli import add_db_option
from tekton_results_tui.settings import default_db_url
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.store.query import parse_filter

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def db_url_of(args: argparse.Namespace) -> str:
    """`--db` (before or after the subcommand), else $TEKTON_RESULTS_TUI_DB, else the XDG default."""
    return getattr(args, "db", None) or default_db_url()


@contextmanager
def opened_history(args: argparse.Namespace, read_only: bool) -> Iterator[History]:
    """The history at --db; read-only commands open it with mode=ro (safe on a copy or a live file).

    A missing database or a bad URL raises StoreError, which cli.main prints as one line.
    """
    db = open_database(db_url_of(args), read_only=read_only)
    try:
        yield History(db, read_only=read_only)
    finally:
        db.close()


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
            return EXIT_OK

    return wrapper
