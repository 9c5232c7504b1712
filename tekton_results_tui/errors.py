"""Errors a person can act on, and how each is said in one line (no traceback)."""

from __future__ import annotations


class UsageError(Exception):
    """A user's mistake: printed as one line, exit code 2."""


def user_message(exc: BaseException) -> str | None:
    """One line for a known user-facing failure, or None for a bug (which keeps its traceback)."""
    from tekton_results_tui.store.db import StoreError
    from tekton_results_tui.store.query import FilterError

    if isinstance(exc, (StoreError, FilterError, UsageError)):
        return str(exc)
    try:
        from tekton_results_tui.watcher.kube import KubeError
    except ImportError:  # the watcher is optional for the store-only commands
        KubeError = None  # type: ignore[assignment]  # noqa: N806
    if KubeError is not None and isinstance(exc, KubeError):
        return str(exc)
    import peewee

    if isinstance(exc, peewee.OperationalError):
        return f"database error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None
