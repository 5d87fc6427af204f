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
from typing import NamedTuple

import numpy as np

from bptui.core.functions import ACTIVATIONS, Activation, output_error
from bptui.core.scenario import Scenario


@dataclass
class LayerPlan:
    """A layer compiled: its units, activation function, bias and the connections in and out."""

    index: int
    name: str
    units: tuple[str, ...]
    f: Activation | None  # None for input layers
    incoming: list[Link] = field(default_factory=list)
    outgoing: list[Link] = field(default_factory=list)
    b: np.ndarray | None = None  # bias, shaped (..., 1, units) to broadcast over patterns
    b_grad: np.ndarray | None = None
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
    sender: LayerPlan
    receiver: LayerPlan
    w: np.ndarray  # receiving x sending, a view into theta
    grad: np.ndarray | None  # None when frozen
    trainable: bool


class Views(NamedTuple):
    """Weights by connection index and biases by layer index, as views into one vector."""

    weights: dict[int, np.ndarray]
    biases: dict[int, np.ndarray]


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
        self.layers = [LayerPlan(i, layer.name, layer.units, None if layer.activation is None
                            else ACTIVATIONS[layer.activation]) for i, layer in enumerate(order)]
        by_name = {plan.name: plan for plan in self.layers}

        # Layout of theta: trainable weights, then biases, then frozen weights, each a
        # (start, end) span, so that grad (the trainable part) lines up with theta's start.
        conns = list(scenario.connections)
        self._link_shapes = [(by_name[c.receiver].size, by_name[c.sender].size) for c in conns]
        self._link_spans: list[tuple[int, int]] = [(0, 0)] * len(conns)
        self._bias_spans: dict[int, tuple[int, int]] = {}
        size = 0

        def take(n: int) -> tuple[int, int]:
            nonlocal size
            size += n
            return size - n, size

        for i, conn in enumerate(conns):
            if conn.trainable:
                self._link_spans[i] = take(int(np.prod(self._link_shapes[i])))
        for plan, layer in zip(self.layers, order):
            if layer.bias:
                self._bias_spans[plan.index] = take(plan.size)
        self.n_trainable = size
        for i, conn in enumerate(conns):
            if not conn.trainable:
                self._link_spans[i] = take(int(np.prod(self._link_shapes[i])))
        self.theta = np.zeros(self.runs + (size,))
        self.grad = np.zeros(self.runs + (self.n_trainable,))

        weights, biases = self.views(self.theta)
        weight_grads, bias_grads = self.views(self.grad)
        self.links: list[Link] = [
            Link(i, by_name[conn.sender], by_name[conn.receiver], weights[i],
                 weight_grads[i] if conn.trainable else None, conn.trainable)
            for i, conn in enumerate(conns)]
        for i, b in biases.items():
            self.layers[i].b, self.layers[i].b_grad = b, bias_grads[i]
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

    def layer(self, name: str) -> LayerPlan:
        return next(u for u in self.layers if u.name == name)

    def views(self, vector: np.ndarray) -> Views:
        """Per-connection matrices (receiving x sending) and per-layer biases (1 x units)
        of a vector laid out like theta: theta itself, grad, or the last change dw. A
        vector as long as grad holds only the trainable part."""
        n = vector.shape[-1]
        weights = {}
        for i, (start, end) in enumerate(self._link_spans):
            if end <= n:
                weights[i] = vector[..., start:end].reshape(vector.shape[:-1] + self._link_shapes[i])
        biases = {i: vector[..., start:end].reshape(vector.shape[:-1] + (1, end - start))
                  for i, (start, end) in self._bias_spans.items()}
        return Views(weights, biases)

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

    def backward_layer(self, p: Pass, unit: LayerPlan) -> None:
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
        before = len(remaining)
        for layer in remaining:
            if all(c.sender in done for c in scenario.connections if c.receiver == layer.name):
                order.append(layer)
                done.add(layer.name)
                remaining.remove(layer)
                break
        assert len(remaining) < before, "the loader lets no cycle through"
    return order
