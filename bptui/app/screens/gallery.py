"""The gallery: pick a shipped scenario, or type the path of your own."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from bptui.core import catalog
from bptui.core.errors import InputError
from bptui.core.scenario import Scenario, load_scenario


class GalleryScreen(ModalScreen[Scenario]):
    """Returns the scenario chosen (already loaded and checked), or None if cancelled."""

    DEFAULT_CSS = """
    GalleryScreen {
        align: center middle;
    }
    GalleryScreen > Vertical {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    GalleryScreen OptionList {
        height: auto;
        max-height: 16;
    }
    GalleryScreen #gallery-error {
        color: $error;
        height: auto;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="close-gallery")]

    def __init__(self, can_cancel: bool = True) -> None:
        super().__init__()
        self.can_cancel = can_cancel
        self.scenarios = catalog.builtin()

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "open a scenario"
            options = []
            for name, summary in catalog.summaries().items():
                label = Text(name, style="bold")
                label.append(f"\n  {summary}", style="not bold")
                options.append(Option(label, id=name))
            yield OptionList(*options, id="gallery-list")
            yield Static("or the path of a scenario file (enter to open):")
            yield Input(placeholder="path/to/scenario.toml", id="gallery-path")
            yield Static(id="gallery-error")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._open(self.scenarios[event.option.id], event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self._open(Path(text).expanduser(), text)

    def _open(self, path: Path, display: str) -> None:
        try:
            scenario = load_scenario(catalog.resolve(str(path)), display=display)
        except InputError as e:
            self.query_one("#gallery-error", Static).update("\n".join(e.lines()))
            return
        self.dismiss(scenario)

    def action_cancel(self) -> None:
        if self.can_cancel:
            self.dismiss(None)
        else:
            self.app.exit()
