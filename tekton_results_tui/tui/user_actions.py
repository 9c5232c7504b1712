"""Keys a terminal power user expects: copy, open in $PAGER/$EDITOR, export the list, saved filters.

A mixin for ResultsApp (which owns `tree`, `detail`, `history`, `filter`, `config`). Textual merges
BINDINGS only from DOMNode classes, so the app lists USER_BINDINGS in its own BINDINGS. Every store
read runs in a worker (tui/background.py); copying goes through Textual's clipboard (OSC 52, so it
works over ssh); a pager or editor runs with the app suspended (the terminal is restored meanwhile).
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from tekton_results_tui import kinds
from tekton_results_tui.store.history import History, RecordRow, ResultRow
from tekton_results_tui.store.query import Filter
from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.background import read_then
from tekton_results_tui.tui.widgets.results_tree import RecordItem, ResultItem, ResultsTree

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from tekton_results_tui.tui.widgets.detail import DetailPane

    _AppBase = App[int]
else:
    _AppBase = object

USER_BINDINGS = [
    Binding("c", "copy('name')", "Copy name", id="app.copy_name", show=False, tooltip="copy the run's name"),
    Binding("U", "copy('uid')", "Copy uid", id="app.copy_uid", show=False, tooltip="copy the run's uid"),
    Binding("Y", "copy('yaml')", "Copy YAML", id="app.copy_yaml", show=False, tooltip="copy the run's YAML"),
    Binding("o", "open_external('pager')", "Open in $PAGER", id="app.pager", show=False,
            tooltip="the YAML (or the log shown) in $PAGER"),
    Binding("E", "open_external('editor')", "Open in $EDITOR", id="app.editor", show=False,
            tooltip="the YAML (or the log shown) in $EDITOR"),
    Binding("x", "export", "Export list", id="app.export", show=False,
            tooltip="the Results matching the filter as CSV or JSON (by extension)"),
]
EXPORT_LIMIT = 1_000_000  # rows in one export (MAX_PAGE of the store)
EXPORT_PAGE = 5_000
EXPORT_FIELDS = ("name", "namespace", "pipeline", "status", "reason", "start", "end", "duration_s", "cluster",
                 "in_cluster", "uid", "result")


def _iso(epoch: int | None) -> str:
    return "" if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def export_row(row: ResultRow) -> dict[str, Any]:
    """One Result as the export writes it (the list's columns, times in RFC 3339)."""
    return {"name": row.display_name or row.name.rsplit("/", 1)[-1], "namespace": row.parent,
            "pipeline": row.pipeline or "", "status": row.status, "reason": row.reason or "",
            "start": _iso(row.start), "end": _iso(row.end), "duration_s": row.duration, "cluster": row.cluster,
            "in_cluster": row.in_cluster, "uid": row.uid, "result": row.name}


def write_export(history: History, flt: Filter, path: Path) -> int:
    """Write every Result matching `flt` (newest first) to `path`: JSON for .json, else CSV. Returns rows."""
    n = 0
    tmp = path.with_name(path.name + ".part")
    as_json = path.suffix.lower() == ".json"
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = None if as_json else csv.DictWriter(f, fieldnames=EXPORT_FIELDS)
        if writer is not None:
            writer.writeheader()
        else:
            f.write("[\n")
        token = None
        while n < EXPORT_LIMIT:
            page = history.list_results(flt, page_token=token, limit=EXPORT_PAGE)
            for row in page.items:
                rec = export_row(row)
                if writer is not None:
                    writer.writerow(rec)
                else:
                    f.write((",\n" if n else "") + json.dumps(rec, ensure_ascii=False))
                n += 1
            token = page.next_token
            if not token:
                break
        if writer is None:
            f.write("\n]\n")
    tmp.replace(path)
    return n


def run_yaml(history: History, item: ResultItem | RecordItem) -> str:
    """The YAML of a selection: a Result's top-level run, or the Record itself (a run, a Log, events)."""
    rec_id: int | None
    if isinstance(item, RecordItem):
        rec_id = item.row.id
    else:
        top = next((r for r in history.records_of(item.row.id) if r.top_level and kinds.is_run(r.kind)), None)
        rec_id = top.id if top is not None else None
    obj = history.record_object(rec_id) if rec_id is not None else None
    if obj is None:
        raise LookupError("its run is not stored yet")
    from tekton_results_tui.tui.widgets.yaml_view import to_yaml  # yaml + pygments: not for the first paint

    return to_yaml(obj)


class UserActions(_AppBase):
    if TYPE_CHECKING:
        history: History
        filter: Filter

        @property
        def tree(self) -> ResultsTree: ...

        @property
        def detail(self) -> DetailPane: ...

        def notify_plain(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
                         timeout: float | None = None) -> None: ...

        def apply_saved_filter(self, text: str) -> None: ...

    def _selection(self) -> ResultItem | RecordItem | None:
        node = self.tree.cursor_node
        data = node.data if node is not None else None
        return data if isinstance(data, (ResultItem, RecordItem)) else None

    # --- copy ------------------------------------------------------------------------------------

    def action_copy(self, what: str) -> None:
        """c / U / Y: the name, uid or YAML of the selection to the clipboard (as shown: no raw controls)."""
        item = self._selection()
        if item is None:
            self.notify_plain("nothing selected to copy", severity="warning")
            return
        if what == "yaml":
            read_then(self, self.history, lambda: run_yaml(self.history, item),
                      lambda text, err: self._copied("YAML", text, err), group="user-read", exclusive=True,
                      name="copy yaml")
            return
        row: ResultRow | RecordRow = item.row
        if what == "uid":
            self._copied("uid", row.uid, None)
        elif isinstance(item, ResultItem):
            self._copied("name", item.row.display_name or item.row.name, None)
        else:
            self._copied("name", item.row.run_name if kinds.is_run(item.row.kind) else item.row.name, None)

    def _copied(self, what: str, text: str | None, error: BaseException | None) -> None:
        if error is not None or text is None:
            self.notify_plain(f"could not copy the {what}: {error}", severity="warning")
            return
        self.copy_to_clipboard(visible(text, keep_newlines=True))  # what the user saw, never raw controls
        lines = text.count("\n")
        if lines > 1:
            self.notify_plain(f"copied the {what} ({lines} lines)")
        else:
            self.notify_plain(f"copied {'' if what == 'name' else what + ' '}{text}")

    # --- $PAGER / $EDITOR -----------------------------------------------------------------------------

    def action_open_external(self, program: str) -> None:
        """o / E: what the detail shows (the log of the Logs tab, else the YAML) in $PAGER or $EDITOR."""
        shown = self._shown_lines()
        if shown is not None:
            self._open_external(program, *shown)
            return
        item = self._selection()
        if item is None:
            self.notify_plain("nothing selected to open", severity="warning")
            return
        read_then(self, self.history, lambda: run_yaml(self.history, item),
                  lambda text, err: self._open_external(program, text, ".yaml", err), group="user-read",
                  exclusive=True, name="open yaml")

    def _shown_lines(self) -> tuple[str, str] | None:
        """(text, suffix) of the log the Logs tab shows, else None (the YAML is read then)."""
        if self.detail.active_tab != "logs":
            return None
        view = self.detail.views["logs"]
        lines = getattr(getattr(view, "lines_view", None), "plain_lines", None)
        if not lines:
            return None
        return "\n".join(lines) + "\n", ".log"

    def _open_external(self, program: str, text: str | None, suffix: str,
                       error: BaseException | None = None) -> None:
        if error is not None or text is None:
            self.notify_plain(f"could not read it: {error}", severity="warning")
            return
        env = "PAGER" if program == "pager" else "EDITOR"
        default = "less -R" if program == "pager" else "vi"
        command = shlex.split(os.environ.get(env) or (os.environ.get("VISUAL") if env == "EDITOR" else "") or default)
        with tempfile.NamedTemporaryFile("w", suffix=suffix, prefix="tekton-results-", delete=False,
                                         encoding="utf-8") as f:
            f.write(visible(text, keep_newlines=True))  # no raw terminal codes from the data reach the pager
            path = f.name
        try:
            with self.suspend():
                subprocess.run([*command, path], check=False)
        except Exception as exc:  # noqa: BLE001 - no terminal to hand over (a web driver, a test) or no program
            self.notify_plain(f"could not open ${env} ({' '.join(command)}): {exc or type(exc).__name__}; "
                              f"the text is in {path}", severity="warning")
            return
        try:
            os.unlink(path)
        except OSError:
            pass
        self.refresh()

    # --- export -------------------------------------------------------------------------------------------

    def action_export(self) -> None:
        """x: ask for a file, then write the Results matching the filter there (CSV, or JSON for .json)."""
        default = f"tekton-results-{time.strftime('%Y%m%d-%H%M%S')}.csv"
        flt = self.filter
        what = f"matching {flt.text!r}" if not flt.empty else "(no filter: every Result)"

        def chosen(path_text: str | None) -> None:
            if not path_text:
                return
            path = Path(os.path.expanduser(path_text))
            self.notify_plain(f"exporting to {path}…")
            read_then(self, self.history, lambda: write_export(self.history, flt, path),
                      lambda n, err: self._exported(path, n, err), group="export", exclusive=True, name="export")

        from tekton_results_tui.tui.screens.path_dialog import PathDialog

        self.push_screen(PathDialog("Export the Results to:", default,
                                    hint=f"{what}; .json for JSON, else CSV"), chosen)

    def _exported(self, path: Path, n: int | None, error: BaseException | None) -> None:
        if error is not None:
            self.notify_plain(f"export failed: {error}", severity="error")
        else:
            self.notify_plain(f"exported {n:,} Results to {path}")

    # --- saved filters -------------------------------------------------------------------------------------

    def action_saved_filter(self, key: str) -> None:
        """A key of the config's [filters]: put that filter in the bar and apply it."""
        text = self.config.saved_filters.get(key)  # type: ignore[attr-defined]
        if text:
            self.apply_saved_filter(text)
