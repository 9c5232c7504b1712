"""The TUI's own settings file: $XDG_CONFIG_HOME/tekton-results-tui/config.toml (else ~/.config/...).

    theme = "nord"                       # a Textual theme name
    filter = "since:1d -status:succeeded"  # the filter the TUI opens with
    columns = ["pipeline", "duration", "namespace", "start"]  # tree columns, as width allows
    [keymap]                             # binding id = keys (ids are listed by `?`)
    "app.tab_yaml" = "Y"
    [filters]                            # saved filters bound to keys (as k9s aliases)
    "1" = "status:failed since:1d"
    "2" = "ns:release pipeline:deploy"

Reading it never stops the TUI: what cannot be used is reported (one line each) and left out. This module
imports neither textual nor the store, so `--help` can quote it cheaply.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_DIR = "tekton-results-tui"
COLUMN_NAMES = ("pipeline", "duration", "namespace", "cluster", "start", "reason")  # tree_columns.OPTIONAL

HELP_EPILOG = (
    "In the TUI, ? lists the keys of the current view with their binding ids. Besides the k9s-like keys "
    "(/ filter, enter expand, esc back, y/l/e tabs, space mark, ctrl+d delete, ctrl+p palette): c copies the "
    "selection's name, U its uid, Y its YAML (OSC 52 over ssh); o opens the YAML or log shown in $PAGER, "
    "E in $EDITOR; x exports the current list as CSV or JSON (by the file name's extension). "
    "Below 120 columns one pane shows at a time: tab or enter opens the detail, esc returns. "
    f"Settings: $XDG_CONFIG_HOME/{APP_DIR}/config.toml (default ~/.config/{APP_DIR}/config.toml) with "
    "theme = \"NAME\", filter = \"DEFAULT FILTER\", columns = [\"pipeline\", \"duration\", \"namespace\", "
    "\"cluster\", \"start\", \"reason\"], a [keymap] table (binding id = \"keys\") and a [filters] table "
    "(key = \"saved filter\")."
)


@dataclass(frozen=True)
class UiConfig:
    theme: str | None = None
    filter: str = ""
    columns: tuple[str, ...] = COLUMN_NAMES
    keymap: dict[str, str] = field(default_factory=dict)
    saved_filters: dict[str, str] = field(default_factory=dict)  # key -> filter text
    problems: tuple[str, ...] = ()  # what was left out, in words
    path: Path | None = None


def config_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / APP_DIR / "config.toml"


def load_config(path: Path | None = None) -> UiConfig:
    """The settings at `path` (default: config_path()); defaults when there is no file."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return UiConfig(path=path)
    except OSError as exc:
        return UiConfig(problems=(f"{path}: {exc.strerror or exc}",), path=path)
    try:
        data = tomllib.loads(raw.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        return UiConfig(problems=(f"{path}: not TOML ({exc})",), path=path)
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path | None = None) -> UiConfig:
    problems: list[str] = []
    where = f"{path}: " if path else ""

    def text(key: str) -> str | None:
        v = data.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            problems.append(f"{where}{key} must be a string")
            return None
        return v

    def table(key: str) -> dict[str, str]:
        v = data.get(key) or {}
        if not isinstance(v, dict):
            problems.append(f"{where}[{key}] must be a table")
            return {}
        out = {}
        for k, val in v.items():
            if isinstance(val, str) and val.strip():
                out[str(k)] = val
            else:
                problems.append(f"{where}[{key}] {k}: the value must be a non-empty string")
        return out

    columns = COLUMN_NAMES
    if "columns" in data:
        cols = data["columns"]
        if isinstance(cols, list) and all(isinstance(c, str) for c in cols):
            unknown = [c for c in cols if c not in COLUMN_NAMES]
            if unknown:
                problems.append(f"{where}unknown columns {', '.join(unknown)} (known: {', '.join(COLUMN_NAMES)})")
            columns = tuple(c for c in cols if c in COLUMN_NAMES)
        else:
            problems.append(f"{where}columns must be a list of names")
    known = {"theme", "filter", "columns", "keymap", "filters"}
    for key in data:
        if key not in known:
            problems.append(f"{where}unknown setting {key!r}")
    return UiConfig(theme=text("theme"), filter=text("filter") or "", columns=columns, keymap=table("keymap"),
                    saved_filters=table("filters"), problems=tuple(problems), path=path)
