"""Errors a person can act on: one base the store, the filter language, the cluster client and the CLI share.

Pure (standard library only), so `store/` and `watcher/` subclass `UserError` without importing anything
above them, and the CLI catches one type: a `UserError` is printed as one line (exit 2), anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can act on; str() is one line naming the problem (no traceback is shown)."""


class UsageError(UserError):
    """A user's mistake on the command line (a bad flag value, file or name)."""


def user_message(exc: BaseException) -> str | None:
    """One line for a user-facing failure, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, UserError):
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    return None
