"""The network: a scenario compiled once into a plan, run forward and backward.

Notation of Rumelhart, Hinton and Williams (1986):

    net_j = sum_i w_ji a_i + b_j        a_j = f(net_j)
    delta_j = dE/dnet_j                 dE/dw_ji = sum over patterns of delta_j a_i

All weights and biases live in one vector ``theta`` (trainable ones first), and each
connection's matrix ``w`` (receiving x sending) and each layer's bias ``b`` is a view into it. So the update rule is
three numpy calls whatever the shape of the network, and a gradient ``grad`` of the
same layout lines up with it. Connections (layers) that share weights (a bias) by name
view one span of theta, so they are one parameter, whose gradient is the sum over its
uses: dE/dw = sum over the uses u of sum over patterns of delta_j(u) a_i(u). Arrays are
(..., patterns, units); leading axes, when a network is built with ``runs`` (or bound
to stacked arrays, see ``bind``), stack independent runs that share one plan.
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
    b_grad: np.ndarray | None = None  # a view into grad; None when there is no bias or it is frozen
    bias_trainable: bool = True
    columns: slice | None = None  # its columns of the inputs (input layers) or targets (outputs)
    bias_share: str | None = None  # the name of the bias it shares with other layers (None: its own)

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
    trainable: bool
    w: np.ndarray | None = None  # receiving x sending, a view into theta (see Network.bind)
    grad: np.ndarray | None = None  # a view into grad; None when frozen
    share: str | None = None  # the name of the matrix it shares with other links (None: its own)


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
                                 else ACTIVATIONS[layer.activation], bias_trainable=layer.bias_trainable,
                                 bias_share=layer.bias_share)
                       for i, layer in enumerate(order)]
        by_name = {plan.name: plan for plan in self.layers}

        # Layout of theta: trainable weights, trainable biases, then frozen weights and
        # frozen biases, each a (start, end) span, so that grad (the trainable part) lines
        # up with theta's start. Without frozen biases the layout is the one random starting
        # weights have always been drawn in, so freezing nothing changes no seed's run.
        # A share group takes one span, where its first member (in that order) would take
        # its own, and later members view it: without shares the layout is as it was.
        conns = list(scenario.connections)
        self._link_shapes = [(by_name[c.receiver].size, by_name[c.sender].size) for c in conns]
        self._link_spans: list[tuple[int, int]] = [(0, 0)] * len(conns)
        self._bias_spans: dict[int, tuple[int, int]] = {}
        size = 0
        shared: dict[tuple[str, str], tuple[int, int]] = {}  # (kind, share name) -> its span

        def take(n: int, kind: str, share: str | None) -> tuple[int, int]:
            nonlocal size
            if share is not None and (kind, share) in shared:
                return shared[kind, share]
            size += n
            if share is not None:
                shared[kind, share] = size - n, size
            return size - n, size

        for i, conn in enumerate(conns):
            if conn.trainable:
                self._link_spans[i] = take(int(np.prod(self._link_shapes[i])), "w", conn.share)
        for plan, layer in zip(self.layers, order):
            if layer.bias and layer.bias_trainable:
                self._bias_spans[plan.index] = take(plan.size, "b", layer.bias_share)
        self.n_trainable = size
        for i, conn in enumerate(conns):
            if not conn.trainable:
                self._link_spans[i] = take(int(np.prod(self._link_shapes[i])), "w", conn.share)
        for plan, layer in zip(self.layers, order):
            if layer.bias and not layer.bias_trainable:
                self._bias_spans[plan.index] = take(plan.size, "b", layer.bias_share)
        self.size = size

        self.links: list[Link] = [Link(i, by_name[conn.sender], by_name[conn.receiver], conn.trainable,
                                       share=conn.share)
                                  for i, conn in enumerate(conns)]
        for link in self.links:  # in declaration order, so sums run in a fixed order
            link.sender.outgoing.append(link)
            link.receiver.incoming.append(link)
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
        self._backward_order = list(reversed(self.computed))
        # Each share group's uses in the order backward_layer adds their gradients up.
        self._weight_uses: dict[str, list[Link]] = {}
        self._bias_uses: dict[str, list[LayerPlan]] = {}
        for unit in self._backward_order:
            if unit.bias_share is not None:
                self._bias_uses.setdefault(unit.bias_share, []).append(unit)
            for link in unit.incoming:
                if link.share is not None:
                    self._weight_uses.setdefault(link.share, []).append(link)
        self.bind(np.zeros(self.runs + (size,)), np.zeros(self.runs + (self.n_trainable,)))

    def bind(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Make these arrays theta and grad: laid out like them, with any leading runs axes.
        Every view (w, b and their gradients) is re-made over them, and so is the plan of
        a pass: a sweep whose stack of runs shrinks rebinds its network, compiled once."""
        assert theta.shape[-1] == self.size and grad.shape == theta.shape[:-1] + (self.n_trainable,)
        self.theta, self.grad, self.runs = theta, grad, theta.shape[:-1]
        weights, biases = self.views(theta)
        weight_grads, bias_grads = self.views(grad)
        for link in self.links:
            link.w, link.grad = weights[link.index], weight_grads.get(link.index)  # grad None: frozen
        for unit in self.layers:
            unit.b, unit.b_grad = biases.get(unit.index), bias_grads.get(unit.index)  # b_grad None: frozen
        # The views must share memory with theta and grad: a copy would silently not learn.
        assert all(np.shares_memory(link.w, theta) for link in self.links)
        assert all(np.shares_memory(u.b, theta) for u in self.layers if u.b is not None)
        self._plan_passes()

    def _plan_passes(self) -> None:
        """What a pass reads of the plan, looked up once, so that forward and backward_layer
        do arithmetic only: on a small network, walking the layers and links at every pass
        costs as much as the numpy calls. Layers go by their index (i, j, k) into a Pass."""
        single_input, single_output = len(self.inputs) == 1, len(self.outputs) == 1
        # columns None: a lone input (output) layer takes every column, unsliced
        self._inputs = [(u.index, None if single_input else u.columns) for u in self.inputs]
        self._outputs = [(u.index, u.f, None if single_output else u.columns) for u in self.outputs]
        # per layer j: (i, w_ji transposed) for each sender i, as a_i @ w_ji^T sums w_ji a_i; b_j; f
        self._forward = [(u.index, [(link.sender.index, link.w.swapaxes(-1, -2)) for link in u.incoming],
                          u.b, u.f.f) for u in self.computed]
        # per layer j: its f's delta (None for an output layer, whose delta the loss gives),
        # (k, w_kj) for each receiver k, dE/db_j and (i, dE/dw_ji) to fill, then the
        # gradients to add to: a shared parameter's first use in backward order writes its
        # gradient, the later ones add theirs, so the unshared path has no test to make
        self._backward = {}
        for u in self.computed:
            b_first = u.b_grad is not None and (u.bias_share is None or self._bias_uses[u.bias_share][0] is u)
            trained = [link for link in u.incoming if link.grad is not None]
            first = [link.share is None or self._weight_uses[link.share][0] is link for link in trained]
            self._backward[u.index] = (
                None if u.is_output else u.f.delta, [(link.receiver.index, link.w) for link in u.outgoing],
                u.b_grad if b_first else None,
                [(link.sender.index, link.grad) for link, is_first in zip(trained, first) if is_first],
                u.b_grad if not b_first else None,
                [(link.sender.index, link.grad) for link, is_first in zip(trained, first) if not is_first])

    def uses(self, link: Link) -> list[Link]:
        """The links that view ``link``'s weights: every member of its share group, in the
        order backward_layer adds their gradients up (so mid-step the first few are in
        grad), or just ``link`` when it shares nothing."""
        return list(self._weight_uses[link.share]) if link.share is not None else [link]

    def bias_uses(self, layer: LayerPlan) -> list[LayerPlan]:
        """The layers that view ``layer``'s bias, as ``uses`` does for weights."""
        return list(self._bias_uses[layer.bias_share]) if layer.bias_share is not None else [layer]

    def layer(self, name: str) -> LayerPlan:
        return next(u for u in self.layers if u.name == name)

    def views(self, vector: np.ndarray) -> Views:
        """Per-connection matrices (receiving x sending) and per-layer biases (1 x units)
        of a vector laid out like theta: theta itself, grad, or the last change dw. A
        vector as long as grad holds only the trainable part: frozen weights and biases
        are not among its views."""
        n = vector.shape[-1]
        weights = {}
        for i, (start, end) in enumerate(self._link_spans):
            if end <= n:
                weights[i] = vector[..., start:end].reshape(vector.shape[:-1] + self._link_shapes[i])
        biases = {i: vector[..., start:end].reshape(vector.shape[:-1] + (1, end - start))
                  for i, (start, end) in self._bias_spans.items() if end <= n}
        return Views(weights, biases)

    # The three phases of a step. ``train`` and the app call them in this order;
    # the app may stop between any two of them, and between backward layers.

    def forward(self, x: np.ndarray) -> Pass:
        n = len(self.layers)
        p = Pass([None] * n, [None] * n, [None] * n)
        net, a = p.net, p.a
        for i, columns in self._inputs:
            a[i] = x if columns is None else x[..., columns]
        for j, senders, b_j, f in self._forward:  # net_j = sum_i w_ji a_i + b_j;  a_j = f(net_j)
            net_j = None
            for i, w_ji_t in senders:
                if net_j is None:
                    net_j = np.matmul(a[i], w_ji_t)
                else:
                    net_j += np.matmul(a[i], w_ji_t)
            if b_j is not None:
                net_j += b_j
            net[j] = net_j
            a[j] = f(net_j)
        return p

    def output_error(self, p: Pass, t: np.ndarray, care: np.ndarray | None, margin: float) -> None:
        """The loss E and the output layers' delta."""
        E = 0.0  # each E_j added to 0.0, never taken as it is: a -0.0 loss comes out as 0.0
        for j, f, columns in self._outputs:
            t_j, care_j = t, care
            if columns is not None:
                t_j, care_j = t[..., columns], None if care is None else care[..., columns]
            E_j, p.delta[j] = output_error(self.loss, f, p.net[j], p.a[j], t_j, care_j, margin)
            E = E + E_j
        p.E = E

    def backward_layer(self, p: Pass, unit: LayerPlan) -> None:
        """delta of one layer from the layers ahead, then the gradients of its incoming weights."""
        j = unit.index
        f_delta, receivers, b_grad, w_grads, b_add, w_adds = self._backward[j]
        a, delta = p.a, p.delta
        if f_delta is not None:  # a hidden layer: delta_j = f'(net_j) sum_k delta_k w_kj
            dE_da = None
            for k, w_kj in receivers:
                if dE_da is None:
                    dE_da = np.matmul(delta[k], w_kj)
                else:
                    dE_da += np.matmul(delta[k], w_kj)
            delta[j] = f_delta(p.net[j], a[j], dE_da)
        delta_j = delta[j]
        if b_grad is not None:  # dE/db_j = sum over patterns of delta_j (np.sum, minus its Python wrapper)
            np.add.reduce(delta_j, axis=-2, out=b_grad, keepdims=True)
        elif b_add is not None:  # a shared bias used before: its gradient sums over the uses
            b_add += np.add.reduce(delta_j, axis=-2, keepdims=True)
        delta_j_t = delta_j.swapaxes(-1, -2)
        for i, w_grad in w_grads:  # dE/dw_ji = sum over patterns of delta_j a_i
            np.matmul(delta_j_t, a[i], out=w_grad)
        for i, w_grad in w_adds:  # shared weights used before: their gradient sums over the uses
            w_grad += np.matmul(delta_j_t, a[i])

    def backward(self, p: Pass) -> None:
        for unit in self._backward_order:
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
