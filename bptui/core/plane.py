"""The input plane: what every unit computes, over every input a two-input network can get.

For a network with exactly two input units (XOR, say), each unit's activation is a
function of a point (x1, x2) of the plane; drawn over a grid of points it shows how
the hidden units cut the plane and how the output combines their cuts, the picture
the 1986 paper gives in words. The plane spans the training inputs with a margin
around them, so the patterns sit inside the picture, not on its edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bptui.core.network import Network
from bptui.core.scenario import Scenario

MARGIN = 0.25  # of the inputs' range, added on each side


@dataclass(frozen=True)
class Map:
    """Every non-input unit's activation at each point of a grid over the plane."""

    x: np.ndarray  # columns: the first input's values, left to right
    y: np.ndarray  # rows: the second input's values, top to bottom (largest first)
    a: dict[str, np.ndarray]  # layer name -> rows x columns x units


class Plane:
    """Draws maps for one scenario, with a network of its own (never a run's)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.network = Network(scenario)
        if self.network.n_inputs != 2:
            raise ValueError("the input plane needs a network with exactly two inputs")
        inputs = scenario.data.inputs
        low, high = inputs.min(axis=0), inputs.max(axis=0)
        pad = MARGIN * np.where(high > low, high - low, 1.0)
        self.low, self.high = low - pad, high + pad

    @staticmethod
    def applies(scenario: Scenario) -> bool:
        return sum(layer.size for layer in scenario.layers
                   if layer.name not in {c.receiver for c in scenario.connections}) == 2

    def map(self, theta: np.ndarray, columns: int, rows: int) -> Map:
        """The activations at ``theta`` (a run's weights) over a columns x rows grid."""
        x = np.linspace(self.low[0], self.high[0], columns)
        y = np.linspace(self.high[1], self.low[1], rows)
        grid = np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2)
        self.network.theta[...] = theta
        with np.errstate(all="ignore"):  # a diverged run's map is an outcome to show
            p = self.network.forward(grid)
        a = {unit.name: p.a[unit.index].reshape(rows, columns, unit.size) for unit in self.network.computed}
        return Map(x, y, a)

    def cell_of(self, point: np.ndarray, columns: int, rows: int) -> tuple[int, int]:
        """The grid cell (row, column) nearest to an input point."""
        fraction = (np.asarray(point, dtype=np.float64) - self.low) / (self.high - self.low)
        column = int(round(fraction[0] * (columns - 1)))
        row = int(round((1 - fraction[1]) * (rows - 1)))
        return min(max(row, 0), rows - 1), min(max(column, 0), columns - 1)
