"""A small dialog asking for a file path (export the list); returns the path typed, or None."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PathDialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PathDialog { align: center middle; }
    PathDialog > Vertical { width: 72; max-width: 100%; height: auto; border: thick $primary; background: $panel;
                            padding: 1 2; }
    PathDialog Input { margin: 1 0 0 0; }
    PathDialog #path-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="path.cancel")]

    def __init__(self, prompt: str, default: str, hint: str = "") -> None:
        super().__init__()
        self.prompt, self.default, self.hint = prompt, default, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.prompt))
            if self.hint:
                yield Label(Text(self.hint), id="path-hint")
            yield Input(value=self.default, id="path-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
