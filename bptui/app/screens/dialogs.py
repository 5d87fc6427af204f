"""Small dialogs: save the state as a scenario file, what to do after a divergence, and
the quiz's question."""

from __future__ import annotations

import math
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from bptui.core.catalog import exists, user_path
from bptui.core.errors import printable

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
            # Named after the scenario's file, whose name may hold control codes: an Input draws
            # its value as it is, so the name offered is the escaped one (a plain, safe file name).
            yield Input(printable(str(self.suggestion)), id="save-path")
            yield Static(id="save-warning")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            return
        path = user_path(event.value.strip())
        if exists(path) and path != self._confirmed:
            self._confirmed = path
            self.query_one("#save-warning", Static).update(
                Text(f"{printable(str(path))} exists. Enter again to overwrite it, or change the name."))
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


class QuizScreen(ModalScreen[str]):
    """Predict, then reveal: which unit will carry the most blame? Returns the choice
    ("layer/index"), or None to skip the question."""

    DEFAULT_CSS = DIALOG_CSS.format(name="QuizScreen") + """
    QuizScreen OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "skip", "Skip", id="quiz-skip")]

    def __init__(self, units: list[tuple[str, str]], score: tuple[int, int], patterns: str) -> None:
        """``units``: (id, label) of every unit that can carry blame."""
        super().__init__()
        self.units = units
        self.score = score
        self.patterns = patterns

    def compose(self) -> ComposeResult:
        right, asked = self.score
        with Vertical() as box:
            box.border_title = f"quiz · {right} of {asked} right so far"
            yield Static(Text(f"The error of {printable(self.patterns)} is known. Before it travels back: which "
                              "unit will carry the largest share of blame, its own part raising the error most "
                              "(to first order)? Enter to answer, escape to skip."))
            yield OptionList(*[Option(Text(printable(label)), id=unit_id) for unit_id, label in self.units],
                             id="quiz-units")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_skip(self) -> None:
        self.dismiss(None)


class EditScreen(ModalScreen[dict]):
    """Asks for new values of a few numbers; returns {id: value}, or None when cancelled.
    A value that is not a finite number in range is refused where it was typed."""

    DEFAULT_CSS = DIALOG_CSS.format(name="EditScreen") + """
    EditScreen .edit-label { margin-top: 1; }
    EditScreen #edit-warning { color: $warning; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="close-edit")]

    def __init__(self, title: str, text: str, fields: list[tuple[str, str, float, float, float]]) -> None:
        """``fields``: (id, label, current value, lowest, highest) of each number."""
        super().__init__()
        self.title_ = title
        self.text = text
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Text(printable(self.title_))  # unit names come from the file: no markup
            yield Static(Text(printable(self.text) + " Enter to apply, escape to cancel."))
            for key, label, value, _, _ in self.fields:
                yield Static(Text(printable(label)), classes="edit-label")
                yield Input(repr(float(value)), id=f"edit-{key}", classes="edit-value")
            yield Static(id="edit-warning")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        values = {}
        for key, label, _, low, high in self.fields:
            text = self.query_one(f"#edit-{key}", Input).value.strip()
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and low <= value <= high):
                self.query_one("#edit-warning", Static).update(  # a unit's name and typed text: no markup
                    Text(f"{printable(label)}: '{printable(text)}' is not a number from {low:g} to {high:g}."))
                self.query_one(f"#edit-{key}", Input).focus()
                return
            values[key] = value
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
