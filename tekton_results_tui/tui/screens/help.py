"""`?`: every key of the view the user came from, taken from its active bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def keys_table(rows: list[tuple[str, str, str]]) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", expand=True, pad_edge=False)
    table.add_column("key", style="bold cyan", no_wrap=True)
    table.add_column("what it does")
    table.add_column("", style="dim")
    for key, desc, note in rows:
        table.add_row(Text(key), Text(desc), Text(note))
    return table


class HelpScreen(ModalScreen[None]):
    """Lists (key, description) pairs captured from the view before the screen opened."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", id="help.close2", show=False),
        Binding("q", "dismiss", "Close", id="help.close3", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]], title: str = "Keys") -> None:
        super().__init__()
        self.rows = rows
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = "esc to close"
            yield Static(keys_table(self.rows), id="help-table")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
