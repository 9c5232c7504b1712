"""Every option of the program in one dataclass, with its defaults and XDG paths."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DB_ENV = "TEKTON_RESULTS_TUI_DB"
APP_DIR_NAME = "tekton-results-tui"


def data_dir() -> Path:
    """Where the default history lives: $XDG_DATA_HOME/tekton-results-tui (~/.local/share/...)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / APP_DIR_NAME


def default_db_url() -> str:
    """The database URL used when neither --db nor $TEKTON_RESULTS_TUI_DB is given."""
    env = os.environ.get(DB_ENV)
    if env:
        return env
    return "sqlite:///" + str(data_dir() / "history.db")


@dataclass
class Settings:
    """One place for every option; the CLI fills it, the parts read it."""

    db_url: str = field(default_factory=default_db_url)
    # cluster access
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: list[str] = field(default_factory=list)  # empty = all namespaces
    cluster_name: str | None = None
    label_selector: str | None = None
    # modes
    read_only: bool = False
    headless: bool = False
    demo: bool = False
    # watcher behaviour
    annotate: bool = True
    capture_logs: bool = True
    capture_events: bool = True
    log_cap_bytes: int = 4 * 1024 * 1024  # per step; longer logs are stored truncated
    relist_interval_s: float = 30 * 60.0
    watch_timeout_s: int = 300  # server-side timeoutSeconds of one watch
    log_format: str = "text"  # text | json (headless)
    # cleanup policy (issue: cleanup)
    delete_after_s: float | None = None
    delete_selector: str | None = None
    finalizers: bool = False
    store_deadline_s: float = 600.0
    metrics_port: int | None = None
