"""The sweep panel: many seeds of the open scenario, and how often and how fast they learn."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.containers import ScrollableContainer

from bptui.app.widgets.textview import TextView
from bptui.core.errors import printable
from bptui.core.plots import histogram
from bptui.core.sweep import SweepResult


class SweepPanel(ScrollableContainer):
    DEFAULT_CSS = """
    SweepPanel {
        scrollbar-size-vertical: 1;
    }
    """

    def compose(self):
        yield TextView()

    def say(self, text: str) -> None:
        self.query_one(TextView).set_text(Text("\n".join(textwrap.wrap(text, max(self.size.width - 6, 24)))))

    def show_result(self, result: SweepResult, title: str) -> None:
        width = max(self.size.width - 6, 24)
        lines = [part for line in result.summary(printable(title)) for part in textwrap.wrap(line, width)]
        text = Text("\n".join(lines) + "\n")
        epochs = [e for e in result.epochs if e is not None]
        if epochs:
            text.append(histogram(epochs, width=width, height=max(8, min(14, self.size.height - 6))))
        self.query_one(TextView).set_text(text)
