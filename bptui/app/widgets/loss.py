"""The error over epochs, as a plot (plotext), on a linear or a log scale."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from bptui.core.plots import integer_ticks
from bptui.core.snapshot import Snapshot

NO_EPOCHS = "no epochs yet: press space to train, or . to step"


class LossPlot(PlotextPlot):
    DEFAULT_CSS = """
    LossPlot {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.log_scale = False
        self._shown: tuple | None = None
        self._epochs: tuple[int, int] | None = None  # the first and last epoch drawn; None: none yet

    def show(self, snapshot: Snapshot) -> None:
        """Redraw, only if the curve or the scale changed since the last time."""
        key = (len(snapshot.curve_loss), snapshot.epoch, self.log_scale, snapshot.title, snapshot.seed)
        if key == self._shown:
            return
        self._shown = key
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        epochs, loss = snapshot.curve_epochs, snapshot.curve_loss
        # plotext overflows on astronomic values; a diverging run shows up to where it left the chart.
        finite = np.isfinite(loss) & (np.abs(loss) < 1e15)
        if self.log_scale:
            finite &= loss > 0
        # Before the first epoch there is no curve: an axis around one point would be made up.
        self._epochs = (int(epochs[0]), int(epochs[-1])) if len(loss) else None
        plt.title("loss (log scale)" if self.log_scale else "loss")
        plt.xlabel("epoch")
        if finite.any():
            y = np.log10(loss[finite]) if self.log_scale else loss[finite]
            plt.plot(epochs[finite].tolist(), y.tolist(), marker="braille")
            if self.log_scale:
                low, high = float(y.min()), float(y.max())
                ticks = list(range(int(np.floor(low)), int(np.ceil(high)) + 1))
                plt.yticks(ticks, [f"1e{t}" for t in ticks])
        else:
            plt.plot([0], [0], marker=" ")
        self.refresh()

    def render(self) -> RenderResult:
        if self._epochs is None:
            return Text.assemble(("loss\n", "bold"), NO_EPOCHS)
        # Epochs are whole numbers: ticked at whole numbers only, the last one always, for
        # the width the plot has now (plotext's own ticks are fractions and may skip the end).
        first, last = self._epochs
        x_ticks = integer_ticks(first, last, max(1, self.size.width - 10), len(str(last)) + 2)
        # One epoch: an axis around it, with the epoch in the middle.
        self.plt.xlim(first - (first == last), last + (first == last))
        self.plt.xticks(x_ticks, [str(t) for t in x_ticks])
        return super().render()

    def toggle_scale(self, snapshot: Snapshot | None) -> None:
        self.log_scale = not self.log_scale
        if snapshot is not None:
            self.show(snapshot)
