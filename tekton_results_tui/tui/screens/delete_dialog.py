"""The delete confirmation dialog and the progress screen of a bulk delete.

The dialog shows exactly the lines `cleanup --dry-run` prints for the same plan
(cleanup_plan.plan_lines): what will be deleted (kind, namespace/name, how many TaskRuns
go with each PipelineRun), what is skipped and why, and that the history stays. Cancel
has the focus; above 20 runs Delete stays disabled until the count is typed. It returns
the confirmed plan (or None). All text from the cluster is shown as plain Text, controls as visible
escapes.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, ProgressBar, Static

from tekton_results_tui.textsafe import visible
from tekton_results_tui.watcher.cleanup_plan import CleanupPlan, plan_lines

TYPE_COUNT_ABOVE = 20  # more runs than this: type the count to enable Delete
HISTORY_STAYS = "The history stays: deleted runs remain browsable here."


class DeleteDialog(ModalScreen[CleanupPlan | None]):
    """Confirm a cleanup plan; dismisses with the plan (Delete) or None (Cancel / esc)."""

    DEFAULT_CSS = """
    DeleteDialog { align: center middle; }
    DeleteDialog > #dialog {
        width: 90; max-width: 95%; height: auto; max-height: 100%;
        border: thick $error 70%; background: $surface; padding: 1 2;
    }
    DeleteDialog #title { text-style: bold; margin-bottom: 1; }
    DeleteDialog #plan { height: auto; max-height: 12; border: round $panel-lighten-2; padding: 0 1; }
    DeleteDialog #stays { margin-top: 1; color: $success; }
    DeleteDialog #count { margin-top: 1; }
    DeleteDialog #buttons { height: auto; margin-top: 1; align-horizontal: right; }
    DeleteDialog Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#cancel"  # Cancel has the focus (Textual applies it when the screen is shown)

    def __init__(self, plan: CleanupPlan, now: float) -> None:
        super().__init__()
        self.plan = plan
        self.now = now
        self.lines = [visible(line) for line in plan_lines(plan, now)]  # what `cleanup --dry-run` prints
        self.count = len(plan.deletable)
        self.needs_typed_count = self.count > TYPE_COUNT_ABOVE

    def compose(self) -> ComposeResult:
        n = self.count
        with Vertical(id="dialog"):
            where = f'cluster "{visible(self.plan.cluster)}"' if self.plan.cluster else "the cluster"
            title = Text(f"Delete from {where}?" if n else "Nothing can be deleted")
            yield Static(title, id="title")
            with VerticalScroll(id="plan"):
                yield Static(Text("\n".join(self.lines[1:]) or self.lines[0], no_wrap=True, overflow="ellipsis"),
                             id="plan-lines")
            yield Static(Text(self.lines[0]), id="summary")
            yield Static(Text(HISTORY_STAYS), id="stays")
            if self.needs_typed_count:
                yield Input(placeholder=f"type {n} to delete {n} runs", id="count")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(f"Delete {n} run{'' if n == 1 else 's'}", id="delete", variant="error",
                             disabled=n == 0 or self.needs_typed_count)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#delete", Button).disabled = event.value.strip() != str(self.count)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == str(self.count):
            self.query_one("#delete", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "delete" and not event.button.disabled and self.count:
            self.dismiss(self.plan)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DeleteProgress(ModalScreen[None]):
    """A bulk delete under way: a progress bar and the latest outcome; esc stops after the current run."""

    DEFAULT_CSS = """
    DeleteProgress { align: center middle; }
    DeleteProgress > #box { width: 80; height: auto; border: thick $warning 70%; background: $surface; padding: 1 2; }
    DeleteProgress #latest { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "stop", "Stop", id="progress.stop")]

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.stop_requested = False
        self.done = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(Text(f"Deleting {self.total} runs from the cluster…"), id="what")
            yield ProgressBar(total=self.total, show_eta=False, id="bar")
            yield Static(Text(""), id="latest")

    def advance(self, done: int, line: str) -> None:
        self.done = done
        self.query_one(ProgressBar).update(progress=done)
        self.query_one("#latest", Static).update(Text(visible(line)))

    def action_stop(self) -> None:
        self.stop_requested = True
        self.query_one("#what", Static).update(Text("Stopping after the current run…"))
