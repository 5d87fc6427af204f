"""The network: a scenario compiled once into a plan, run forward and backward.

Notation of Rumelhart, Hinton and Williams (1986):

    net_j = sum_i w_ji a_i + b_j        a_j = f(net_j)
    delta_j = dE/dnet_j                 dE/dw_ji = sum over patterns of delta_j a_i

All weights and biases live in one vector ``theta`` (trainable ones first), and each
connection's matrix ``w`` (receiving x sending) is a view into it. So the update rule is
three numpy calls whatever the shape of the network, and a gradient ``grad`` of the
same layout lines up with it. Arrays are (..., patterns, units); leading axes, when a
network is built with ``runs``, stack independent runs that share one plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bptui.core.functions import ACTIVATIONS, Activation, output_error
from bptui.core.scenario import Scenario


@dataclass
class Unit:
    """A compiled layer: its units and the connections in and out of it."""

    index: int
    name: str
    units: tuple[str, ...]
    f: Activation | None  # None for input layers
    incoming: list[Link] = field(default_factory=list)
    outgoing: list[Link] = field(default_factory=list)
    b: np.ndarray | None = None  # bias, shaped (..., 1, units) to broadcast over patterns
    b_grad: np.ndarray | None = None
    b_start: int | None = None  # where the bias starts in theta
    columns: slice | None = None  # its columns of the inputs (input layers) or targets (outputs)

    @property
    def size(self) -> int:
        return len(self.units)

    @property
    def is_input(self) -> bool:
        return self.f is None

    @property
    def is_output(self) -> bool:
        return not self.outgoing


@dataclass
class Link:
    """A compiled connection: w_ji from every unit i of ``sender`` to every j of ``receiver``."""

    index: int
    sender: Unit
    receiver: Unit
    w: np.ndarray  # receiving x sending, a view into theta
    grad: np.ndarray | None  # None when frozen
    trainable: bool
    start: int  # where w starts in theta (row by row)


@dataclass
class Pass:
    """What one pass over some patterns computed, layer by layer (indexed like ``layers``)."""

    net: list
    a: list
    delta: list
    E: np.ndarray | float | None = None  # set by output_error


class Network:
    def __init__(self, scenario: Scenario, runs: tuple[int, ...] = ()):
        self.scenario = scenario
        self.runs = tuple(runs)
        self.loss = scenario.training.loss
        order = _topological(scenario)
        self.layers = [Unit(i, layer.name, layer.units, None if layer.activation is None
                            else ACTIVATIONS[layer.activation]) for i, layer in enumerate(order)]
        by_name = {unit.name: unit for unit in self.layers}

        # Layout of theta: trainable weights, then biases, then frozen weights.
        conns = list(scenario.connections)
        biased = [(unit, layer) for unit, layer in zip(self.layers, order) if layer.bias]
        spans: list[tuple[object, int, int]] = []
        size = 0
        for group in ([c for c in conns if c.trainable], biased, [c for c in conns if not c.trainable]):
            for item in group:
                n = item[0].size if isinstance(item, tuple) else (
                    by_name[item.receiver].size * by_name[item.sender].size)
                spans.append((item, size, size + n))
                size += n
        self.n_trainable = sum(e - s for item, s, e in spans
                               if isinstance(item, tuple) or item.trainable)
        self.theta = np.zeros(self.runs + (size,))
        self.grad = np.zeros(self.runs + (self.n_trainable,))

        self.links: list[Link] = [None] * len(conns)
        for item, start, end in spans:
            if isinstance(item, tuple):
                unit = item[0]
                shape = self.runs + (1, unit.size)
                unit.b = self.theta[..., start:end].reshape(shape)
                unit.b_grad = self.grad[..., start:end].reshape(shape)
                unit.b_start = start
                continue
            sender, receiver = by_name[item.sender], by_name[item.receiver]
            shape = self.runs + (receiver.size, sender.size)
            index = conns.index(item)
            link = Link(index, sender, receiver, self.theta[..., start:end].reshape(shape),
                        self.grad[..., start:end].reshape(shape) if item.trainable else None,
                        item.trainable, start)
            self.links[index] = link
        for link in self.links:  # in declaration order, so sums run in a fixed order
            link.sender.outgoing.append(link)
            link.receiver.incoming.append(link)
        # The views must share memory with theta and grad: a copy would silently not learn.
        assert all(np.shares_memory(link.w, self.theta) for link in self.links)
        assert all(np.shares_memory(u.b, self.theta) for u in self.layers if u.b is not None)

        self.inputs = [u for u in self.layers if u.is_input]
        self.outputs = [u for u in self.layers if u.is_output]
        self.computed = [u for u in self.layers if not u.is_input]  # in topological order
        for group in (self.inputs, self.outputs):
            # Columns follow declaration order (SPEC section 3), not topological order.
            group.sort(key=lambda u: [layer.name for layer in scenario.layers].index(u.name))
            start = 0
            for unit in group:
                unit.columns = slice(start, start + unit.size)
                start += unit.size
        self.n_inputs = sum(u.size for u in self.inputs)
        self.n_outputs = sum(u.size for u in self.outputs)

    def layer(self, name: str) -> Unit:
        return next(u for u in self.layers if u.name == name)

    # The three phases of a step. ``train`` and the app call them in this order;
    # the app may stop between any two of them, and between backward layers.

    def forward(self, x: np.ndarray) -> Pass:
        n = len(self.layers)
        p = Pass([None] * n, [None] * n, [None] * n)
        a = p.a
        for unit in self.inputs:
            a[unit.index] = x[..., unit.columns]
        for unit in self.computed:
            net = None
            for link in unit.incoming:
                term = a[link.sender.index] @ link.w.swapaxes(-1, -2)
                if net is None:
                    net = term
                else:
                    net += term
            if unit.b is not None:
                net += unit.b
            p.net[unit.index] = net
            a[unit.index] = unit.f.f(net)
        return p

    def output_error(self, p: Pass, t: np.ndarray, care: np.ndarray | None, margin: float) -> None:
        """The loss E and the output layers' delta."""
        E = 0.0
        for unit in self.outputs:
            i = unit.index
            E_unit, p.delta[i] = output_error(self.loss, unit.f, p.net[i], p.a[i], t[..., unit.columns],
                                              None if care is None else care[..., unit.columns], margin)
            E = E + E_unit
        p.E = E

    def backward_layer(self, p: Pass, unit: Unit) -> None:
        """delta of one layer from the layers ahead, then the gradients of its incoming weights."""
        i = unit.index
        if not unit.is_output:
            dE_da = None
            for link in unit.outgoing:
                term = p.delta[link.receiver.index] @ link.w
                if dE_da is None:
                    dE_da = term
                else:
                    dE_da += term
            p.delta[i] = unit.f.delta(p.net[i], p.a[i], dE_da)
        delta = p.delta[i]
        if unit.b_grad is not None:
            np.sum(delta, axis=-2, keepdims=True, out=unit.b_grad)
        delta_t = delta.swapaxes(-1, -2)
        for link in unit.incoming:
            if link.grad is not None:
                np.matmul(delta_t, p.a[link.sender.index], out=link.grad)

    def backward(self, p: Pass) -> None:
        for unit in reversed(self.computed):
            self.backward_layer(p, unit)

    def gradient(self, x, t, care=None, margin: float = 0.0) -> Pass:
        """Forward, loss and backward over the given patterns; fills ``grad``."""
        p = self.forward(x)
        self.output_error(p, t, care, margin)
        self.backward(p)
        return p


def _topological(scenario: Scenario) -> list:
    """Layers in an order where every layer comes after all that feed it (ties: as declared)."""
    remaining = list(scenario.layers)
    done: set[str] = set()
    order = []
    while remaining:
        for layer in remaining:
            if all(c.sender in done for c in scenario.connections if c.receiver == layer.name):
                order.append(layer)
                done.add(layer.name)
                remaining.remove(layer)
                break
    return order
