"""The help screen: every key, what it does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PHASES = (
    "Each press of . runs one phase of a weight change:\n"
    "  forward   every unit's net input and activation\n"
    "  loss      the error at the outputs, and their blame signal (delta)\n"
    "  backward  one layer at a time, output first: the blame arrives from the layers ahead\n"
    "  update    every weight changes: -rate x gradient + momentum x last change\n"
    "A delta shown as · has not been computed yet in this step."
)


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 96;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="close-help")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, description in self.keys:
            table.add_row(key, description)
        with VerticalScroll() as scroll:
            scroll.border_title = "bptui keys (escape to close)"
            yield Static(table)
            yield Static(Text("\n" + PHASES))
            yield Static(Text("\nEvery action is also in the command palette: ctrl+p."))
