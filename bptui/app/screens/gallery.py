"""The gallery: pick a shipped scenario, or type the path of your own."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from bptui.core import catalog
from bptui.core.errors import InputError, printable
from bptui.core.scenario import Scenario, load_scenario

# Started without a scenario, there is nothing to go back to: Escape must not quit (a
# reflex that would end the session), so the gallery says what to do instead.
FIRST_HINT = "pick a scenario to begin · ctrl+q quits"


class GalleryScreen(ModalScreen[Scenario]):
    """Returns the scenario chosen (already loaded and checked), or None if cancelled.

    It has a footer of its own: the app's footer, dimmed behind it, lists the run's keys,
    which do nothing while the gallery is open (a modal screen stops the app's bindings).
    """

    DEFAULT_CSS = """
    GalleryScreen {
        align: center middle;
    }
    GalleryScreen > Vertical {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    GalleryScreen > Vertical.-nudged {
        border-subtitle-color: $warning;
        border-subtitle-style: bold reverse;
    }
    /* The list takes the room the path box and its error leave: at 80x24 an error
       below a list of fixed height would be drawn off the screen. */
    GalleryScreen OptionList {
        height: 1fr;
        min-height: 3;
    }
    GalleryScreen OptionList > .option-list--option-disabled {
        color: $text-accent;
        text-style: bold;
    }
    GalleryScreen #gallery-error {
        color: $error;
        height: auto;
    }
    """
    BINDINGS = [
        # priority: the list and the path box each have an enter of their own, which would
        # hide this one from the footer; this one does what theirs would.
        Binding("enter", "open", "Open", id="open-chosen", priority=True),
        Binding("tab", "app.focus_next", "List/Path", id="gallery-focus"),
        Binding("escape", "cancel", "Back", id="close-gallery"),
        Binding("escape", "nudge", show=False),  # when there is nothing to go back to
        # The way out when Escape is not one. The gallery's own, so that it quits whatever the
        # app's check_action does with the app's ctrl+q while a modal screen is open.
        Binding("ctrl+q", "quit", "Quit", id="gallery-quit", priority=True),
    ]

    def __init__(self, can_cancel: bool = True) -> None:
        super().__init__()
        self.can_cancel = can_cancel
        self.scenarios = catalog.builtin()

    def compose(self) -> ComposeResult:
        with Vertical(id="gallery-box") as box:
            box.border_title = "open a scenario"
            if not self.can_cancel:
                box.border_subtitle = FIRST_HINT
            summaries = catalog.summaries()
            options = []
            for heading, names in catalog.learning_path(summaries):
                options.append(Option(Text(f"── {heading}"), disabled=True))
                for name in names:
                    label = Text(name, style="bold")
                    label.append(f"\n  {printable(summaries[name])}", style="not bold")
                    options.append(Option(label, id=name))
            yield OptionList(*options, id="gallery-list")
            yield Static("or the path of a scenario file (enter to open):")
            yield Input(placeholder="path/to/scenario.toml", id="gallery-path")
            yield Static(id="gallery-error")
        yield Footer()

    def on_mount(self) -> None:
        # The first row is a heading, which cannot be chosen: start on the first scenario.
        self.query_one(OptionList).action_first()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.can_cancel
        return True

    def action_open(self) -> None:
        """Open what enter points at: the typed path in the path box, else the highlighted scenario."""
        if isinstance(self.focused, Input):
            text = self.focused.value.strip()
            if text:
                self._open(catalog.user_path(text), text)
            return
        self.query_one(OptionList).action_select()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._open(self.scenarios[event.option.id], event.option.id)

    def _open(self, path: Path, display: str) -> None:
        try:
            scenario = load_scenario(catalog.resolve(str(path)), display=display)
        except InputError as e:
            # The path is the user's own text: shown as it is, never read as markup.
            error = self.query_one("#gallery-error", Static)
            error.update(Text("\n".join(e.lines())))
            return
        self.dismiss(scenario)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_quit(self) -> None:
        self.app.exit()

    def action_nudge(self) -> None:
        self.query_one("#gallery-box").add_class("-nudged")
        self.app.bell()
