"""Snapshot: a frozen copy of a run's state, for a view to draw.

A view never reads the live arrays of a run that may be training in another thread;
it draws a snapshot, which owns copies of everything it shows. A snapshot is small:
the loss curve is thinned to a bounded number of points, so taking one stays cheap
however long the run.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from bptui.core.blame import contributions, first_order, knockouts, shares_of
from bptui.core.report import pattern_results
from bptui.core.network import Pass
from bptui.core.responsibility import responsibility
from bptui.core.scenario import Scenario
from bptui.core.stepper import UPDATE
from bptui.core.training import LossHistory, Run

CURVE_POINTS = 2000  # at most this many points of the loss curve in a snapshot


@dataclass(frozen=True)
class LayerState:
    name: str
    units: tuple[str, ...]
    activation: str | None  # None for input layers
    is_output: bool
    a: np.ndarray | None  # patterns x units
    net: np.ndarray | None
    delta: np.ndarray | None  # None: not computed in this step yet
    bias: np.ndarray | None
    bias_grad: np.ndarray | None  # None: no bias, or a frozen one (bias_trainable = false)
    bias_change: np.ndarray | None  # the last change of the bias (None when frozen, as for a link)
    share: np.ndarray | None  # signed first-order share (docs/blame.md), over the pass's patterns
    first_order: np.ndarray | None = None  # delta_j own_j per pattern (patterns x units)
    knockout: np.ndarray | None = None  # E - E without the unit's own part (when asked for)
    responsibility: np.ndarray | None = None  # of E - E_ref (when asked for and declared)
    responsibility_error: np.ndarray | None = None  # its standard error, when estimated
    grid: tuple[int, int] | None = None  # how to draw the units (the scenario's layer)
    features: tuple = ()  # the scenario's named properties of the units

    @property
    def is_input(self) -> bool:
        return self.activation is None

    @property
    def is_hidden(self) -> bool:
        return not self.is_input and not self.is_output


@dataclass(frozen=True)
class LinkState:
    sender: str
    receiver: str
    w: np.ndarray  # receiving x sending
    grad: np.ndarray | None  # None when frozen
    change: np.ndarray | None  # the last change, dw (None when frozen)
    share: str | None = None  # the name of the matrix it shares with other connections (None: its own)


@dataclass(frozen=True)
class Snapshot:
    title: str
    seed: int
    epoch: int
    status: str | None  # converged | max_epochs | diverged, once the run has ended
    phase: str  # paused, running, forward, loss, backward: <layer>, update
    loss: float | None  # the last epoch's loss, or E at the weights shown before any epoch
    pass_loss: float | None  # E of the pass shown (None until its loss phase)
    curve_epochs: np.ndarray  # the loss curve, thinned: epoch numbers...
    curve_loss: np.ndarray  # ...and their losses
    patterns: tuple[str, ...]  # the training patterns the pass ran over
    targets: np.ndarray
    layers: tuple[LayerState, ...]  # in declaration order
    order: tuple[str, ...]  # layer names, each after every layer that feeds it
    links: tuple[LinkState, ...]
    held_out: tuple[dict, ...]  # the held-out patterns: name, output, target, correct (report.py)
    learning_rate: float
    momentum: float
    weight_decay: float
    scenario: Scenario | None = None  # immutable, so safe to share with a view
    # E - E_ref is shared out by the layers' ``responsibility``: E_ref, and whether the
    # values are exact (or estimated, with this standard error per unit)
    reference_loss: float | None = None
    responsibility_exact: bool = True
    theta: np.ndarray | None = None  # every weight and bias, laid out as the network's theta
    counterfactuals: bool = False  # whether knock-outs and responsibility were asked for

    def layer(self, name: str) -> LayerState:
        return next(layer for layer in self.layers if layer.name == name)


def loss_curve(history: LossHistory, points: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """The loss curve thinned to at most about ``points`` evenly spaced epochs, ending
    with the last epoch run."""
    epochs, values = history.epochs, history.values
    stride = max(1, -(-len(values) // points))
    index = list(range(0, len(values), stride))
    xs = [epochs[i] for i in index]
    ys = [values[i] for i in index]
    if history.count and (not xs or xs[-1] != history.count):
        xs.append(history.count)
        ys.append(history.last)
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.float64)


def take_snapshot(run: Run, p: Pass | None, phase: str, rows=slice(None),
                  counterfactuals: bool = False) -> Snapshot:
    """Copy what a view needs from ``run`` and the pass ``p`` (partly computed while
    stepping), which ran over the training patterns ``rows`` (one pattern, in online mode).
    ``counterfactuals``: also each unit's knock-out change and its responsibility against
    the scenario's reference, over the same patterns at the pass's weights (forward
    passes of their own, so a view asks for them only when it shows them). Shares and
    counterfactuals are of the pass's own weights, at the update phase too (pass_weights)."""
    with np.errstate(all="ignore"):  # a diverged run's numbers are an outcome to show
        return _take(run, p, phase, rows, counterfactuals)


@contextmanager
def pass_weights(run: Run, phase: str):
    """The network at the weights the pass shown ran with, for as long as the block lasts.

    At the update phase the weights have just changed, but the pass shown (its deltas,
    its loss) is the one that led to the change: its own parts, knock-outs and
    responsibility, and the explanations of its deltas, must use the weights before the
    update (``run.last_change``, kept when ``run.keep_last_change`` is on), or they mix
    two states of the network."""
    change = run.last_change
    if phase != UPDATE or change is None:
        yield
        return
    theta = run.network.theta
    now = theta.copy()
    theta[...] = change.theta_before
    try:
        yield
    finally:
        theta[...] = now


def _copy(arrays: list | None, i: int) -> np.ndarray | None:
    return None if arrays is None or arrays[i] is None else arrays[i].copy()


def _take(run: Run, p: Pass | None, phase: str, rows, counterfactuals: bool) -> Snapshot:
    net = run.network
    complete = p is not None and all(p.delta[u.index] is not None for u in net.computed)
    knocked = resp = None
    with pass_weights(run, phase):
        terms = first_order(net, p) if complete else {}
        shares = shares_of(contributions(terms)) if complete else {}
        if complete and counterfactuals:
            x, t, care = run.x[rows], run.t[rows], None if run.care is None else run.care[rows]
            knocked = knockouts(net, x, t, care, run.training.margin)
            resp = responsibility(net, x, t, care, run.training.margin)
    errors = None if resp is None else resp.standard_error
    # One copy each of theta, grad and dw, seen per connection and layer through views:
    # copying each matrix, and theta besides, took twice the memory (issue 14).
    theta, grad, dw = net.theta.copy(), net.grad.copy(), run.dw.copy()
    values, grads, change = net.views(theta), net.views(grad), net.views(dw)
    layers = []
    for layer in run.scenario.layers:
        plan = net.layer(layer.name)
        i = plan.index
        layers.append(LayerState(
            name=plan.name, units=plan.units, activation=None if plan.is_input else plan.f.name,
            is_output=plan.is_output,
            a=_copy(p and p.a, i), net=_copy(p and p.net, i), delta=_copy(p and p.delta, i),
            bias=None if plan.b is None else values.biases[i][0],
            bias_grad=None if plan.b_grad is None else grads.biases[i][0],
            bias_change=None if plan.b_grad is None else change.biases[i][0],
            share=shares.get(plan.name), first_order=terms.get(plan.name),
            knockout=None if knocked is None else knocked.get(plan.name),
            responsibility=None if resp is None else resp.values.get(plan.name),
            responsibility_error=None if errors is None else errors.get(plan.name),
            grid=layer.grid, features=layer.features))
    links = tuple(LinkState(link.sender.name, link.receiver.name, values.weights[link.index],
                            None if link.grad is None else grads.weights[link.index],
                            None if link.grad is None else change.weights[link.index], link.share)
                  for link in net.links)
    pass_loss = None if p is None or p.E is None else float(p.E)
    loss = run.history.last if run.history.count else run.start_loss
    curve_epochs, curve_loss = loss_curve(run.history)
    # The settings of the last change (epoch k was made with the settings of epoch k),
    # since the updates panel explains that change.
    lr, momentum, decay = run.settings(max(run.epoch, 1))
    names = run.scenario.data.train_names
    held_out = tuple(pattern_results(run, held_out_only=True))
    return Snapshot(run.scenario.title, run.seed, run.epoch, run.status, phase, loss, pass_loss,
                    curve_epochs, curve_loss, tuple(np.array(names)[rows].tolist()), run.t[rows].copy(),
                    tuple(layers), tuple(plan.name for plan in net.layers), links, held_out,
                    lr, momentum, decay, run.scenario, theta=theta,
                    reference_loss=None if resp is None else resp.reference_loss,
                    responsibility_exact=resp is None or resp.exact, counterfactuals=counterfactuals)
