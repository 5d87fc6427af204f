"""The error over epochs, as a plot (plotext), on a linear or a log scale.

plotext draws the whole plot as text; the widget repaints only the cells that changed
since the last drawing (mostly the axis's last epoch while training), not all of it.

plotext (through textual_plotext) is imported when the first curve is drawn: until the
first epoch there is nothing to plot (the story card holds the plot's place), and the
import would take about 30 ms of the first frame.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget

from bptui.app.widgets.cells import changed_span
from bptui.core.plots import integer_ticks
from bptui.core.snapshot import Snapshot

NO_EPOCHS = "no epochs yet: press space to train, or . to step"


class LossPlot(Widget):
    DEFAULT_CSS = """
    LossPlot {
        width: 1fr;
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._plot = None  # textual_plotext's Plot, made for the first curve
        self.log_scale = False
        self._shown: tuple | None = None
        self._epochs: tuple[int, int] | None = None  # the first and last epoch drawn; None: none yet
        self._version = 0  # counts the curves given to plotext
        self._built: tuple[tuple, Text] | None = None  # the text last drawn, and what it was drawn for

    def show(self, snapshot: Snapshot) -> None:
        """Redraw, only if the curve or the scale changed since the last time."""
        key = (len(snapshot.curve_loss), snapshot.epoch, self.log_scale, snapshot.title, snapshot.seed)
        if key == self._shown:
            return
        self._shown = key
        self._version += 1
        if not len(snapshot.curve_loss):  # before the first epoch: an axis around one point would be made up
            self._epochs = None
            self._repaint()
            return
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        epochs, loss = snapshot.curve_epochs, snapshot.curve_loss
        # plotext overflows on astronomic values; a diverging run shows up to where it left the chart.
        finite = np.isfinite(loss) & (np.abs(loss) < 1e15)
        if self.log_scale:
            finite &= loss > 0
        self._epochs = (int(epochs[0]), int(epochs[-1]))
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
        self._repaint()

    @property
    def plt(self):
        """The plotext figure (textual_plotext's Plot)."""
        if self._plot is None:
            from textual_plotext.plot import Plot

            self._plot = Plot()
        return self._plot

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda theme: self.refresh())

    def _repaint(self) -> None:
        """Mark dirty the cells that differ from the last drawing (all, when its size or
        its number of lines changed, or nothing was drawn yet). Out of sight (the story
        card or a panel in its place), nothing is drawn: it is drawn whole when it shows."""
        before = self._built
        if before is None or not self.size.width or not self.size.height or not self.is_on_screen:
            self.refresh()
            return
        old = before[1].split("\n", allow_blank=True)
        new = self._build().split("\n", allow_blank=True)
        if self._built[0][1:] != before[0][1:] or len(old) != len(new):
            self.refresh()
            return
        for y, (a, b) in enumerate(zip(old, new)):
            span = changed_span(a, b)
            if span is not None:
                self.refresh(Region(span[0], y, span[1] - span[0], 1))

    def _build(self) -> Text:
        """The plot as text for the widget's size now: drawn again only when the curve,
        the size or the theme changed."""
        key = (self._version, self.size, self.app.theme)
        if self._built is None or self._built[0] != key:
            self._built = key, self._draw()
        return self._built[1]

    def render(self) -> RenderResult:
        return self._build()

    def _draw(self) -> Text:
        if self._epochs is None:
            return Text.assemble(("loss\n", "bold"), NO_EPOCHS)
        # Epochs are whole numbers: ticked at whole numbers only, the last one always, for
        # the width the plot has now (plotext's own ticks are fractions and may skip the end).
        first, last = self._epochs
        x_ticks = integer_ticks(first, last, max(1, self.size.width - 10), len(str(last)) + 2)
        # One epoch: an axis around it, with the epoch in the middle.
        plt = self.plt
        plt.xlim(first - (first == last), last + (first == last))
        plt.xticks(x_ticks, [str(t) for t in x_ticks])
        width, height = self.size
        plt.plotsize(width, height)
        plt._set_size(width, height)  # as textual_plotext does: resizing needs both
        plt.theme(self._theme())
        return Text.from_ansi(plt.build())

    def _theme(self) -> str:
        """A plotext theme in the app theme's colours, as textual_plotext's "auto" theme:
        the surface behind, the foreground for the axes' text."""
        from plotext._dict import themes
        from textual_plotext.plot import _rgbify_theme, _sequence

        name = f"textual-auto-{self.app.theme}"
        if name not in themes:
            colors = self.app.theme_variables
            surface = Color.parse(colors.get("surface")).rgb
            themes[name] = _rgbify_theme(surface, surface, Color.parse(colors.get("foreground")).rgb, "default",
                                         _sequence)
        return name

    def toggle_scale(self, snapshot: Snapshot | None) -> None:
        self.log_scale = not self.log_scale
        if snapshot is not None:
            self.show(snapshot)
