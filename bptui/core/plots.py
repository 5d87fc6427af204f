"""Plots of whole numbers for a terminal: epochs and counts, ticked as integers.

Epochs and counts are whole numbers, so an axis of them is ticked only at whole
numbers, and at its ends: the last epoch of a loss curve, the largest count of a
histogram, are where a reader looks first. plotext's own ticks are evenly spaced
fractions (1.00 1.50 2.00 2.50) that may leave the last value unlabelled; the app's
loss plot (plotext) takes its ticks from here, and the sweep's histogram is drawn here.
No Textual: the command line draws the histogram too.
"""

from __future__ import annotations

import math

import numpy as np


def integer_ticks(low: int, high: int, cells: int, gap: int) -> list[int]:
    """Whole-number ticks from ``low`` to ``high`` on an axis ``cells`` characters long,
    no two closer than ``gap`` cells: both ends, and between them multiples of 1, 2 or 5
    times a power of ten. When even the two ends do not fit apart, only ``high``."""
    if high <= low or cells < gap:
        return [high]
    per_cell = (high - low) / cells  # values per character
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= gap * per_cell:
                step *= factor
                inner = [t for t in range(math.ceil(low / step) * step, high, step)
                         if (t - low) / per_cell >= gap and (high - t) / per_cell >= gap]
                return [low, *inner, high]
        step *= 10


def nice_bins(low: int, high: int, most: int) -> tuple[int, int]:
    """Bins of whole width starting at ``low`` that cover ``high``: (width, count), with
    at most ``most`` bins."""
    width = max(1, math.ceil((high - low + 1) / max(most, 1)))
    return width, math.ceil((high - low + 1) / width)


LEVELS = " ▁▂▃▄▅▆▇█"  # a bar's top, in eighths of a row


def histogram(epochs: list[int], width: int = 60, height: int = 12) -> str:
    """The distribution of epochs to converge, drawn in text for a terminal.

    The bins are whole numbers of epochs starting at the fastest run, so the x axis
    starts at the data and ends with the slowest run labelled; the y axis counts runs
    in whole numbers, up to the tallest bar. Drawn here rather than by plotext, whose
    bars lose their bottom row to rounding and whose ticks are fractions."""
    low, high = int(min(epochs)), int(max(epochs))
    rows = max(2, height - 3)  # the axis, its labels and its title below
    counts_width = len(str(len(epochs)))
    columns = max(4, width - counts_width - 1)
    bin_width, bins = nice_bins(low, high, min(20, max(5, len(set(epochs))), columns))
    per_bin = max(1, columns // bins)
    edges = low + bin_width * np.arange(bins + 1)
    counts, _ = np.histogram(epochs, bins=edges)
    most = max(1, int(counts.max()))
    y_ticks = {round(t / most * rows): t for t in integer_ticks(0, most, rows, 2) if t > 0}
    label_width = len(str(most))
    lines = []
    for row in range(rows, 0, -1):  # from the top
        tick = y_ticks.get(row)
        line = (f"{tick:>{label_width}}┤" if tick is not None else " " * label_width + "│")
        for n in counts:
            eighths = round(n / most * rows * 8) - 8 * (row - 1)
            line += LEVELS[min(8, max(0, eighths))] * per_bin
        lines.append(line.rstrip())
    plot_width = per_bin * bins

    def column(t: int) -> int:  # where epoch t falls, within its bin
        return min(plot_width - 1, int((t - low + 0.5) / bin_width * per_bin))

    x_ticks = integer_ticks(low, high, plot_width, len(str(high)) + 1)
    axis = ["─"] * plot_width
    labels = [" "] * (label_width + 1 + plot_width + len(str(high)))
    for t in x_ticks:
        c = column(t)
        axis[c] = "┬"
        text = str(t)
        at = max(0, label_width + 1 + c - len(text) // 2)
        labels[at:at + len(text)] = text
    lines.append(f"{0:>{label_width}}└" + "".join(axis))
    lines.append("".join(labels).rstrip())
    lines.append(" " * (label_width + 1) + "epochs to converge".center(plot_width).rstrip())
    return "\n".join(lines)
