"""The decision map: the output and each hidden unit over the input plane, live.

Only for networks with two inputs (bptui/core/plane.py). Each map is drawn with
half-block characters: a cell's upper half is one point of the grid, its lower half
the next, so a terminal cell holds two points and the picture comes out about square.
Colour runs from the background (activation 0) to the accent (activation 1); without
colour (NO_COLOR), each cell is a shade block instead. The training patterns are
marked where they lie, by their target (first output), so a misfit shows at a glance.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from rich.style import Style
from rich.text import Text

from bptui.app.glyphs import ramp, ramp_step, shade
from bptui.core.plane import Plane
from bptui.core.snapshot import Snapshot

MAX_COLUMNS = 32  # of one map
GAP = 2  # between two maps side by side


class PlaneDrawer:
    """``draw(snapshot, colours, width)`` for a TextPanel; it keeps the Plane (a network of
    its own) of the scenario it last drew, since building one costs more than a map."""

    def __init__(self) -> None:
        self._plane: Plane | None = None

    def plane(self, snapshot: Snapshot) -> Plane | None:
        scenario = snapshot.scenario
        if scenario is None or not Plane.applies(scenario):
            return None
        if self._plane is None or self._plane.scenario is not scenario:
            self._plane = Plane(scenario)
        return self._plane

    def __call__(self, snapshot: Snapshot, colors: dict, width: int) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        plane = self.plane(snapshot)
        if plane is None:
            note = ("The decision map is for networks with two inputs, so that every input is a "
                    "point of the plane; this one has another number.")
            out.append("\n".join(textwrap.wrap(note, max(width, 8))), style=colors["muted"])
            return out
        across = 2 if width >= 2 * 16 + GAP else 1
        columns = max(4, min(MAX_COLUMNS, (width - GAP * (across - 1)) // across))  # 4: a map still
        rows = columns // 2  # two points a cell: square
        m = plane.map(snapshot.theta, columns, 2 * rows)
        maps = [(layer.name, unit, m.a[layer.name][:, :, k])
                for layer in sorted(snapshot.layers, key=lambda s: not s.is_output)
                if not layer.is_input for k, unit in enumerate(layer.units)]
        colour = bool(colors.get("colour"))
        colours = ramp(colors["background"], colors["accent"]) if colour else None
        marks = _marks(plane, snapshot, columns, rows)
        for start in range(0, len(maps), across):
            group = maps[start:start + across]
            for k, (layer, unit, _) in enumerate(group):
                title = f"{layer} {unit}" if layer != unit else unit
                out.append(f"{title[:columns]:<{columns}}" + (" " * GAP if k < len(group) - 1 else ""), style="bold")
            out.append("\n")
            for r in range(rows):
                for k, (_, _, a) in enumerate(group):
                    _row(out, a, r, marks, colours)
                    if k < len(group) - 1:
                        out.append(" " * GAP)
                out.append("\n")
            out.append("\n")
        names = [u for layer in snapshot.layers if layer.is_input for u in layer.units]
        legend = [f"{names[0]} → from {plane.low[0]:g} to {plane.high[0]:g}; "
                  f"{names[1]} ↑ from {plane.low[1]:g} to {plane.high[1]:g}",
                  "colour: activation from 0 (dark) to 1 (bright); digits: the patterns' targets"
                  if colour else "shade: activation from 0 (blank) to 1 (full block); digits: targets"]
        for line in legend:
            out.append("\n".join(textwrap.wrap(line, max(width, 8))) + "\n", style=colors["muted"])
        return out


def _row(out: Text, a: np.ndarray, r: int, marks: dict, colours) -> None:
    """One text row of a map: grid rows 2r (upper half) and 2r + 1 (lower half)."""
    for c in range(a.shape[1]):
        top, bottom = float(a[2 * r, c]), float(a[2 * r + 1, c])
        mark = marks.get((r, c))
        if colours is None:
            out.append(mark or shade((top + bottom) / 2))
        elif mark is not None:
            middle = colours[ramp_step((top + bottom) / 2)]
            ink = "black" if (top + bottom) / 2 > 0.5 else "white"
            out.append(mark, style=Style(color=ink, bgcolor=middle, bold=True))
        else:
            out.append("▀", style=Style(color=colours[ramp_step(top)], bgcolor=colours[ramp_step(bottom)]))


def _marks(plane: Plane, snapshot: Snapshot, columns: int, rows: int) -> dict:
    """Where the training patterns lie, by text cell, marked with their first target."""
    scenario = snapshot.scenario
    data = scenario.data
    marks = {}
    for x, t, held in zip(data.inputs, data.targets, data.test):
        row, column = plane.cell_of(x, columns, 2 * rows)
        target = t[0]
        marks[row // 2, column] = "?" if held or not math.isfinite(target) else f"{target:g}"[:1]
    return marks
