"""Gradient check: backprop's dE/dw beside the slope of E measured by finite differences.

Backprop is only as right as the derivatives written into it. Finite differences need
none of them: nudge one weight w up and down by a small step h, compute the loss E again
each time, and the slope

    numeric = (E(w + h) - E(w - h)) / 2h

tends to dE/dw as h shrinks. Where the two agree to about five digits, backprop computes
the gradient of the very E that training reports. The relative error of a parameter is

    |backprop - numeric| / max(|backprop|, |numeric|, tiny)

E is what ``Run.inspect`` computes: all training patterns at the run's current weights,
with the scenario's loss, margin and don't-care targets. The check works on a copy of
the run's network, so the run itself (weights, gradient, anything a view may be drawing)
is never touched; ``numeric_gradient``, which nudges the network it is given, puts every
weight back bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bptui.core.explain import param_at, param_name, params, share_of
from bptui.core.network import Network
from bptui.core.training import Run

# The step h. The slope of a chord differs from dE/dw by about h^2/6 E''' (shrinks with
# h), while E itself carries rounding errors of a few eps |E|, which the division by 2h
# magnifies into about eps |E| / h (grows as h shrinks). The sum is smallest near
# h = cube root of eps, about 6e-6 for float64; 1e-5 is the customary round value. It also
# keeps each nudge small enough that an output rarely crosses a margin edge or a relu
# unit switches, which is where E has corners (see ``Numeric.corner``).
STEP = 1e-5
THRESHOLD = 1e-5  # a relative error above this is a disagreement: five digits must match
LIMIT = 1000  # parameters checked at most, by default: well under a second for any shipped net
EPS = float(np.finfo(np.float64).eps)
# E comes out of many roundings (the forward pass, the sums over patterns and units): the
# shipped scenarios show errors of up to about 10 eps |E|. Three times that is the margin
# of safety of ``tiny`` below.
ROUNDING = 30 * EPS


class Numeric(NamedTuple):
    """Finite differences of E, one entry per parameter asked for."""

    dE_dw: np.ndarray  # the slope of E
    # E has a corner or a jump between w - h and w + h: an output crossed the edge of the
    # margin (E jumps there) or a relu unit switched on or off on some pattern. The slope
    # of a chord across a corner says nothing about dE/dw at w.
    corner: np.ndarray


@dataclass(frozen=True)
class Row:
    """One parameter checked."""

    index: int  # its place in theta (and in network.grad)
    name: str  # w(receiving unit ← sending unit) or b(unit), in the scenario's unit names (see parameter_names)
    backprop: float  # dE/dw as backprop computes it
    numeric: float  # the slope of E by central differences
    relative_error: float
    corner: bool  # E has a corner within the step here: no verdict (see Numeric.corner)


@dataclass(frozen=True)
class GradientCheck:
    rows: tuple[Row, ...]
    skipped: int  # parameters asked for but not checked, beyond the limit
    loss: float  # E at the weights checked
    step: float
    threshold: float
    # Relative errors are taken against at least this. E is known only to about
    # ROUNDING |E|, so a slope only to about ROUNDING |E| / h: a gradient smaller than
    # that / threshold cannot be measured to the threshold (five digits), and rounding
    # alone must never read as a disagreement.
    tiny: float

    @property
    def judged(self) -> tuple[Row, ...]:
        """The rows with a verdict: all but those at a corner of E."""
        return tuple(row for row in self.rows if not row.corner)

    @property
    def max_relative_error(self) -> float:
        """The largest relative error of the judged rows (nan if the weights are not finite)."""
        errors = [row.relative_error for row in self.judged]
        return float(np.max(errors)) if errors else 0.0

    @property
    def above(self) -> int:
        """How many judged rows disagree: a relative error above the threshold, or not finite."""
        return sum(1 for row in self.judged if not row.relative_error <= self.threshold)

    @property
    def corners(self) -> int:
        return sum(1 for row in self.rows if row.corner)

    @property
    def ok(self) -> bool:
        return self.above == 0


def loss(network: Network, x, t, care=None, margin: float = 0.0) -> float:
    """E over the given patterns at the network's weights: the forward pass and the loss only."""
    p = network.forward(x)
    network.output_error(p, t, care, margin)
    return float(p.E)


def _loss_and_sides(network: Network, x, t, care, margin: float):
    """E, and on which side of each corner of E the weights are: each relu unit on or
    off, and each output beyond the margin or within it, on every pattern."""
    p = network.forward(x)
    network.output_error(p, t, care, margin)
    sides = [p.net[u.index] > 0.0 for u in network.computed if u.f.name == "relu"]
    if margin > 0.0:
        for u in network.outputs:
            beyond = np.abs(p.a[u.index] - t[..., u.columns]) > margin
            if care is not None:  # a don't-care output has no error on either side
                beyond &= care[..., u.columns] > 0
            sides.append(beyond)
    return float(p.E), sides


def numeric_gradient(network: Network, x, t, care=None, margin: float = 0.0,
                     indices: Iterable[int] | None = None, step: float = STEP) -> Numeric:
    """dE/dtheta_k by central differences for each k of ``indices`` (default: every
    trainable parameter), over the given patterns. The weights are put back bit for bit."""
    theta = network.theta
    if theta.ndim != 1:
        raise ValueError("finite differences take one run at a time, not a network built with runs")
    ks = np.arange(network.n_trainable) if indices is None else np.fromiter(indices, dtype=np.intp)
    slope = np.empty(len(ks))
    corner = np.zeros(len(ks), dtype=bool)
    saved = theta.copy()
    try:
        with np.errstate(all="ignore"):  # at diverged weights E overflows: nan is the answer
            for n, k in enumerate(ks):
                w = theta[k]
                up, down = w + step, w - step
                theta[k] = up
                e_up, sides_up = _loss_and_sides(network, x, t, care, margin)
                theta[k] = down
                e_down, sides_down = _loss_and_sides(network, x, t, care, margin)
                theta[k] = w
                # w + h and w - h are rounded; dividing by the step actually taken removes that error.
                slope[n] = (e_up - e_down) / (up - down)
                corner[n] = any(not np.array_equal(a, b) for a, b in zip(sides_up, sides_down))
    finally:
        theta[...] = saved
    return Numeric(slope, corner)


def parameter_names(network: Network, indices: Iterable[int] | None = None) -> list[str]:
    """The names of the trainable parameters at ``indices`` (default: all, in theta's
    order), as every explanation writes them (``explain.param_name``): ``w(h1<-x1)``. A
    shared weight is one parameter, checked once: named by its group's first connection
    and the group, ``w(h2[0]<-h1[1]) (shared 'tied')``, since its slope is that of all its uses."""
    every = params(network) if indices is None else None  # a sample of a big network: only its names
    names = []
    for k in range(network.n_trainable) if indices is None else indices:
        param = every[k] if every is not None else param_at(network, int(k))
        share = share_of(network, param)
        names.append(param_name(network, param) + (f" (shared '{share}')" if share is not None else ""))
    return names


def weight_index(network: Network, link: int, j: int, i: int) -> int:
    """The place in theta of w_ji, the weight from unit i to unit j of connection ``link``
    (the scenario's connections, counted from 0). Connections that share their weights
    give the same place: it is one parameter."""
    weights, _ = _places(network)
    if link not in weights:
        raise ValueError(f"connection {link} is frozen: its weights have no gradient")
    return int(weights[link][j, i])


def bias_index(network: Network, layer: str, k: int) -> int:
    """The place in theta of the bias of unit k of ``layer``."""
    plan = network.layer(layer)
    _, biases = _places(network)
    if plan.b is None:
        raise ValueError(f"layer '{layer}' has no bias")
    if plan.index not in biases:
        raise ValueError(f"the bias of layer '{layer}' is frozen (bias_trainable = false): it has no gradient")
    return int(biases[plan.index][0, k])


def _places(network: Network):
    # Laid out like grad, theta's own index says where each weight and bias lives.
    return network.views(np.arange(network.n_trainable))


def check_gradients(run: Run, which: int | Iterable[int] | None = None, limit: int | None = LIMIT,
                    threshold: float = THRESHOLD, step: float = STEP,
                    theta: np.ndarray | None = None) -> GradientCheck:
    """Backprop beside finite differences at the run's current weights.

    ``which``: one parameter (its place in theta: see ``weight_index``, ``bias_index``),
    several, or None for every trainable parameter. When more than ``limit`` are asked
    for, ``limit`` of them are checked, spread evenly over the network in theta's order
    (so every connection of a large network gets its share, and the same ones each time),
    and the rest are counted as skipped. ``theta``: the weights to check (a copy taken
    earlier); by default the run's own, which must then not change while they are copied.
    """
    network = Network(run.scenario)  # a copy: the run's own arrays are never written
    network.theta[...] = run.network.theta if theta is None else theta
    n = network.n_trainable
    if which is None:
        asked = np.arange(n)
    elif isinstance(which, (int, np.integer)):
        asked = np.array([which], dtype=np.intp)
    else:
        asked = np.fromiter(which, dtype=np.intp)
    if ((asked < 0) | (asked >= n)).any():
        raise IndexError(f"parameters are numbered from 0 to {n - 1}")
    chosen = asked
    if limit is not None and len(asked) > limit:
        chosen = asked[np.linspace(0, len(asked) - 1, limit).round().astype(np.intp)] if limit > 0 else asked[:0]

    margin = run.training.margin
    with np.errstate(all="ignore"):  # as Run.inspect: diverged weights are an outcome
        E = float(network.gradient(run.x, run.t, run.care, margin).E)
    backprop = network.grad.copy()
    numeric = numeric_gradient(network, run.x, run.t, run.care, margin, chosen, step)
    smallest = float(np.finfo(np.float64).tiny)
    tiny = max(ROUNDING * abs(E) / step / threshold, smallest) if np.isfinite(E) else smallest
    names = parameter_names(network, chosen)
    rows = []
    for k, name, num, corner in zip(chosen, names, numeric.dE_dw, numeric.corner):
        b, num = float(backprop[k]), float(num)
        error = abs(b - num) / max(abs(b), abs(num), tiny)  # nan when either is not finite
        rows.append(Row(int(k), name, b, num, error, bool(corner)))
    return GradientCheck(tuple(rows), len(asked) - len(chosen), E, step, threshold, tiny)
