"""The YAML tab: the stored object, highlighted once with Pygments, shown line-virtualized.

Dump (libyaml when available) and lexing run in the tab's worker; the result is a
list of per-line segments, so the first paint renders only the visible lines.
`/` `n` `N` search; `ctrl+s` saves the YAML to a file (a local file, not a cluster or
database write: allowed in read-only mode).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pygments.lexers.data import YamlLexer
from pygments.token import _TokenType
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tekton_results_tui.textsafe import visible
from tekton_results_tui.tui.widgets.detail_base import DetailTab, LoadError, Target, check_cancelled, resolve
from tekton_results_tui.tui.widgets.line_view import LineView, SearchableLines

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_THEME = Syntax.get_theme("ansi_dark")
_STYLE_CACHE: dict[_TokenType, Style] = {}


def to_yaml(obj: Any) -> str:
    """The object as YAML in its stored key order (what `kubectl get -o yaml` users read)."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000)


def _style(ttype: _TokenType) -> Style:
    style = _STYLE_CACHE.get(ttype)
    if style is None:
        style = _STYLE_CACHE[ttype] = _THEME.get_style_for_token(ttype)
    return style


def highlight_yaml(text: str) -> tuple[list[list[Segment]], list[str], list[int]]:
    """YAML text -> (per-line segments, plain lines, cell widths), lexed once with Pygments."""
    lines: list[list[Segment]] = [[]]
    lexer = YamlLexer(stripnl=False, ensurenl=False)
    for n, (ttype, value) in enumerate(lexer.get_tokens(text)):
        if not n % 2000:
            check_cancelled()
        style = _style(ttype)
        if "\n" not in value:
            if value:
                lines[-1].append(Segment(value, style))
            continue
        parts = value.split("\n")
        if parts[0]:
            lines[-1].append(Segment(parts[0], style))
        for part in parts[1:]:
            lines.append([Segment(part, style)] if part else [])
    if lines and not lines[-1]:
        lines.pop()
    plain = text.split("\n")
    if plain and plain[-1] == "":
        plain.pop()
    # the lexer keeps every character, so lines align; guard anyway
    if len(plain) != len(lines):
        lines = [[Segment(p)] for p in plain]
    widths = [cell_len(p) if not p.isascii() else len(p) for p in plain]
    return lines, plain, widths


class YamlLines(LineView):
    """The YAML text; adds `ctrl+s` save."""

    BINDINGS = [Binding("ctrl+s", "save", "Save YAML", id="detail.save_yaml")]

    class SaveRequested(Message):
        pass

    def action_save(self) -> None:
        self.post_message(self.SaveRequested())


class SaveDialog(ModalScreen[str | None]):
    """Ask where to save; returns the path or None."""

    DEFAULT_CSS = """
    SaveDialog { align: center middle; }
    SaveDialog > Vertical { width: 70; height: auto; border: thick $primary; background: $panel; padding: 1 2; }
    SaveDialog Input { margin: 1 0; }
    SaveDialog .buttons { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="detail.save_cancel")]

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Save the YAML to:"))
            yield Input(value=self.default, id="save-path")
            with Vertical(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.dismiss(self.query_one("#save-path", Input).value.strip() or None)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def save_text(path_text: str, text: str) -> Path:
    """Write `text` to the path the user typed (~ expanded); OSError carries the reason."""
    path = Path(os.path.expanduser(path_text))
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def _safe_file_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "record"


class YamlView(DetailTab):
    """Header (what is shown) + the searchable YAML lines."""

    TAB = "yaml"
    DEFAULT_CSS = """
    YamlView > .detail-header { height: 1; background: $boost; padding: 0 1; }
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lines_view = YamlLines(id="yaml-lines")
        self.text = ""
        self.run_name = ""

    def compose(self) -> ComposeResult:
        yield Static("", classes="detail-header")
        yield SearchableLines(self.lines_view)

    def build(self, target: Target) -> Any:
        res = resolve(self.history, target)
        rec = res.record
        if rec is None:
            return LoadError("The top-level run of this Result is not stored yet: nothing to show as YAML.")
        obj = self.history.record_object(rec.id)
        check_cancelled()
        if obj is None:
            return LoadError(f"{rec.run_name}: the stored object is empty.")
        text = to_yaml(obj)
        check_cancelled()
        # YAML leaves C1 controls, bidi and zero-width characters in strings as they are: show them escaped
        # (the saved file keeps the object's own text)
        lines, plain, widths = highlight_yaml(visible(text, keep_newlines=True))
        header = Text.assemble((rec.kind, "bold"), " ", visible(rec.run_name), "  ",
                               (f"{len(plain)} lines · stored rv {rec.rv}", "dim"))
        return {"deps": {rec.id}, "text": text, "lines": lines, "plain": plain, "widths": widths,
                "header": header, "name": rec.run_name, "kind": rec.kind}

    def apply(self, payload: Any, keep_scroll: bool) -> None:
        header = self.query_one(".detail-header", Static)
        if payload is None or isinstance(payload, LoadError):
            self.text, self.run_name, self.deps = "", "", set()
            self.lines_view.clear_lines()
            header.update(Text(visible(payload.message) if payload else "Nothing selected.", style="italic"))
            return
        self.deps = payload["deps"]
        self.text = payload["text"]
        self.run_name = payload["name"]
        header.update(payload["header"])
        self.lines_view.set_lines(payload["lines"], payload["plain"], payload["widths"], keep_scroll=keep_scroll)

    def focus_content(self) -> None:
        self.lines_view.focus()

    def on_yaml_lines_save_requested(self, event: YamlLines.SaveRequested) -> None:
        event.stop()
        if not self.text:
            self.notify("Nothing to save: no YAML is shown.", severity="warning", markup=False)
            return
        text, default = self.text, f"./{_safe_file_name(self.run_name)}.yaml"

        def done(path_text: str | None) -> None:
            if not path_text:
                return
            try:
                path = save_text(path_text, text)
            except OSError as exc:
                self.notify(visible(f"Could not save to {path_text}: {exc.strerror or exc}"), severity="error",
                            markup=False)
                return
            self.notify(visible(f"Saved YAML to {path}"), markup=False)

        self.app.push_screen(SaveDialog(default), done)
