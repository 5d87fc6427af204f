"""Small dialogs: save the state as a scenario file, and what to do after a divergence."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

DIALOG_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 80%;
    max-width: 76;
    height: auto;
    border: round $accent;
    background: $surface;
    padding: 0 1;
}}
"""


class SaveScreen(ModalScreen[Path]):
    """Asks where to save; asks again before overwriting. Returns the path, or None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SaveScreen") + """
    SaveScreen #save-warning { color: $warning; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="close-save")]

    def __init__(self, suggestion: Path) -> None:
        super().__init__()
        self.suggestion = suggestion
        self._confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "save the current state as a scenario file"
            yield Static("The file keeps the story and settings, with the current weights as its "
                         "starting weights. Enter to save, escape to cancel.")
            yield Input(str(self.suggestion), id="save-path")
            yield Static(id="save-warning")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip():
            return
        if path.exists() and path != self._confirmed:
            self._confirmed = path
            self.query_one("#save-warning", Static).update(
                f"{path} exists. Enter again to overwrite it, or change the name.")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DivergedScreen(ModalScreen[str]):
    """Says in plain words what happened; returns 'reset', 'lower' or None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="DivergedScreen") + """
    DivergedScreen > Vertical { border: round $error; }
    """
    BINDINGS = [
        Binding("r", "choose('reset')", "Reset", id="diverged-reset"),
        Binding("minus", "choose('lower')", "Halve the rate", id="diverged-lower", key_display="-"),
        Binding("escape", "choose(None)", "Look at it", id="diverged-close"),
    ]

    def __init__(self, epoch: int, learning_rate: float) -> None:
        super().__init__()
        self.epoch = epoch
        self.learning_rate = learning_rate

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "the run diverged"
            yield Static(
                f"At epoch {self.epoch} the loss or a weight stopped being a finite number: each "
                f"change overshot, more and more. The learning rate ({self.learning_rate:g}) is too "
                "large for this network.\n\n"
                "  r       reset to the same starting weights\n"
                f"  -       halve the learning rate (to {self.learning_rate / 2:g}) and reset\n"
                "  escape  close this and look at what happened")

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
