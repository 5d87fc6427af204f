"""The error over epochs, as a plot (plotext), on a linear or a log scale."""

from __future__ import annotations

import numpy as np
from textual_plotext import PlotextPlot

from bptui.core.snapshot import Snapshot


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
        if not len(loss) and snapshot.loss is not None:  # before the first epoch: where it starts
            epochs, loss = np.array([0]), np.array([snapshot.loss])
        # plotext overflows on astronomic values; a diverging run shows up to where it left the chart.
        finite = np.isfinite(loss) & (np.abs(loss) < 1e15)
        if self.log_scale:
            finite &= loss > 0
        plt.title(("loss (log scale)" if self.log_scale else "loss") if snapshot.epoch
                  else "loss · space trains")
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

    def toggle_scale(self, snapshot: Snapshot | None) -> None:
        self.log_scale = not self.log_scale
        if snapshot is not None:
            self.show(snapshot)
