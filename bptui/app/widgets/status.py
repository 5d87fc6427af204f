"""The status line: epoch, loss and phase, always on screen."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from bptui.app.widgets.cells import changed_span
from bptui.core.snapshot import Snapshot
from bptui.core.stepper import PAUSED

STATUS_WORDS = {"converged": "converged", "max_epochs": "out of epochs", "diverged": "DIVERGED"}


def status_text(snapshot: Snapshot, phase: str, rate: float | None = None, extra: str = "") -> Text:
    # At rest, the error at the weights as they are now (after an edit by hand, too); while
    # training or stepping, the last epoch's.
    now = phase == PAUSED and snapshot.pass_loss is not None
    value = snapshot.pass_loss if now else snapshot.loss
    loss = "-" if value is None else f"{value:.6g}"
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f" epoch {snapshot.epoch}", style="bold")
    out.append(f" │ loss {loss}")
    out.append(f" │ {phase}", style="bold" if phase == PAUSED else "bold reverse")
    if snapshot.status:
        out.append(f" │ {STATUS_WORDS.get(snapshot.status, snapshot.status)}", style="bold")
    if rate:
        # Two significant digits: a rate that changes in its last digits at every redraw
        # would be sent again each time, and reads no better.
        out.append(f" │ {float(f'{rate:.2g}'):,.0f} epochs/s")
    if extra:
        out.append(f" │ {extra}", style="bold")
    out.append(f" │ seed {snapshot.seed} │ {snapshot.title}")
    return out


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    _shown = Text()

    def render(self) -> Text:
        return self._shown

    def show(self, snapshot: Snapshot, phase: str, rate: float | None = None, extra: str = "") -> None:
        """Repaint only the cells that changed: while training, the epoch and the loss."""
        self._put(status_text(snapshot, phase, rate, extra))

    def say(self, text: str) -> None:
        """A line of plain text in place of the run's (while a network is being built)."""
        self._put(Text(text, style="bold", no_wrap=True, overflow="ellipsis"))

    def _put(self, text: Text) -> None:
        span = changed_span(self._shown, text)
        if span is None:
            return
        self._shown = text
        start, end = span
        width = self.size.width
        if not width:
            self.refresh()
        elif start < width:  # what lies past the edge is cut, an ellipsis at the edge
            self.refresh(Region(start, 0, min(end, width) - start, 1))
