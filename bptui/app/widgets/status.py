"""The status line: epoch, loss and phase, always on screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

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
        out.append(f" │ {rate:,.0f} epochs/s")
    if extra:
        out.append(f" │ {extra}", style="bold")
    out.append(f" │ seed {snapshot.seed} │ {snapshot.title}")
    return out


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    _shown: Text | None = None

    def show(self, snapshot: Snapshot, phase: str, rate: float | None = None, extra: str = "") -> None:
        text = status_text(snapshot, phase, rate, extra)
        if text != self._shown:
            self._shown = text
            self.update(text)
