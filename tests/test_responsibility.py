"""Exact responsibility (Shapley values against a scenario's [reference]), knock-outs and
gradient x input on random networks, checked against mathematics: a forward pass and a
loss written here, independently of the engine, and the Shapley value computed from its
definition (the average marginal effect over every order of the players).

Random networks: 1-2 input layers, 0-2 hidden layers, an output layer and sometimes a
second one; activations sigmoid, tanh, linear, relu and softmax; sse or cross_entropy;
layers with and without biases; frozen and trainable connections, skips past layers;
a reference for a random subset of the parameters, some of it equal to the current values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from math import factorial

import numpy as np
import pytest

import bptui.core.blame as blame
import bptui.core.responsibility as responsibility_module
from bptui.core.blame import contributions, first_order, knockouts, signed_shares
from bptui.core.responsibility import SAMPLED_ORDERS, reference_theta, responsibility
from bptui.core.save import scenario_toml
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core.training import Run

CASES = 30
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "linear", "relu")


# --- Random networks, as TOML text and as plain arrays -------------------------------------

@dataclass
class Layer:
    name: str
    size: int
    activation: str | None  # None: an input layer
    bias: np.ndarray | None = None  # None: no bias (or an input layer)


@dataclass
class Conn:
    sender: str
    receiver: str
    w: np.ndarray  # receiving x sending
    trainable: bool = True


@dataclass
class Net:
    layers: list[Layer]  # declared in an order where every layer comes after those feeding it
    conns: list[Conn]
    x: np.ndarray
    t: np.ndarray
    loss: str = "sse"
    margin: float = 0.0  # sse only here
    ref_biases: dict[str, np.ndarray] = field(default_factory=dict)
    ref_weights: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @property
    def computed(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.activation is not None]

    @property
    def inputs(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.activation is None]

    @property
    def outputs(self) -> list[Layer]:
        senders = {c.sender for c in self.conns}
        return [layer for layer in self.computed if layer.name not in senders]

    def units(self) -> list[tuple[str, int]]:
        return [(layer.name, k) for layer in self.computed for k in range(layer.size)]

    def params(self):
        """The current biases (layer -> vector or None) and weights ((from, to) -> matrix), copies."""
        return ({layer.name: None if layer.bias is None else layer.bias.copy() for layer in self.computed},
                {(c.sender, c.receiver): c.w.copy() for c in self.conns})

    def reference_params(self):
        biases, weights = self.params()
        for name, b in self.ref_biases.items():
            biases[name] = b.copy()
        for pair, w in self.ref_weights.items():
            weights[pair] = w.copy()
        return biases, weights


def _num(v) -> str:
    return repr(float(v))


def _vec(v) -> str:
    return "[" + ", ".join(_num(x) for x in v) + "]"


def _mat(m) -> str:
    return "[" + ", ".join(_vec(row) for row in m) + "]"


def to_toml(net: Net) -> str:
    lines = ["format = 1", "[scenario]", 'title = "random"']
    for layer in net.layers:
        lines += ["[[layers]]", f'name = "{layer.name}"', f"size = {layer.size}"]
        if layer.activation is not None:
            lines.append(f'activation = "{layer.activation}"')
            lines.append("bias = false" if layer.bias is None else f"bias = {_vec(layer.bias)}")
    for c in net.conns:
        lines += ["[[connections]]", f'from = "{c.sender}"', f'to = "{c.receiver}"', f"weights = {_mat(c.w)}"]
        if not c.trainable:
            lines.append("trainable = false")
    for name, b in net.ref_biases.items():
        lines += ["[[reference.layers]]", f'name = "{name}"', f"bias = {_vec(b)}"]
    for (sender, receiver), w in net.ref_weights.items():
        lines += ["[[reference.connections]]", f'from = "{sender}"', f'to = "{receiver}"', f"weights = {_mat(w)}"]
    lines += ["[data]", f"inputs = {_mat(net.x)}", f"targets = {_mat(net.t)}",
              "[training]", f'loss = "{net.loss}"', f"margin = {_num(net.margin)}"]
    return "\n".join(lines) + "\n"


def run_of(net: Net) -> Run:
    return Run(parse_scenario(to_toml(net)))


def outputs(net: Net, biases, weights, x=None, shift=None) -> np.ndarray:
    """The output layers' activations (patterns x output units, in declaration order), by
    the textbook: net_j = sum_i w_ji a_i + b_j, a_j = f(net_j). ``shift`` adds a number to
    chosen units' net input: {(layer, unit): amount}."""
    x = net.x if x is None else x
    a, column = {}, 0
    for layer in net.inputs:
        a[layer.name] = x[:, column:column + layer.size]
        column += layer.size
    for layer in net.computed:
        z = np.zeros((len(x), layer.size))
        for c in net.conns:
            if c.receiver == layer.name:
                z = z + a[c.sender] @ weights[c.sender, c.receiver].T
        if biases[layer.name] is not None:
            z = z + biases[layer.name]
        for (name, k), amount in (shift or {}).items():
            if name == layer.name:
                z[:, k] += amount
        if layer.activation == "sigmoid":
            a[layer.name] = 1.0 / (1.0 + np.exp(-z))
        elif layer.activation == "tanh":
            a[layer.name] = np.tanh(z)
        elif layer.activation == "relu":
            a[layer.name] = np.where(z > 0, z, 0.0)
        elif layer.activation == "linear":
            a[layer.name] = z
        else:  # softmax
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a[layer.name] = e / e.sum(axis=1, keepdims=True)
    return np.concatenate([a[layer.name] for layer in net.outputs], axis=1)


def loss(net: Net, biases, weights) -> float:
    y = outputs(net, biases, weights)
    if net.loss == "sse":  # a target of nan: don't care; within the margin: no error
        error = y - np.nan_to_num(net.t)
        counts = ~np.isnan(net.t) & (np.abs(error) > net.margin)
        return 0.5 * float(np.sum(np.where(counts, error, 0.0) ** 2))
    total, column = 0.0, 0
    for layer in net.outputs:
        yy, tt = y[:, column:column + layer.size], net.t[:, column:column + layer.size]
        column += layer.size
        if layer.activation == "softmax":
            total -= float(np.sum(tt * np.log(yy)))
        else:  # sigmoid
            total -= float(np.sum(tt * np.log(yy) + (1 - tt) * np.log(1 - yy)))
    return total


def coalition_params(net: Net, coalition) -> tuple[dict, dict]:
    """Every unit in the coalition at its current parameters (bias and incoming weights),
    every other unit at its reference."""
    biases, weights = net.reference_params()
    current_b, current_w = net.params()
    for name, k in coalition:
        if biases[name] is not None:
            biases[name][k] = current_b[name][k]
        for (sender, receiver), w in weights.items():
            if receiver == name:
                w[k] = current_w[sender, receiver][k]
    return biases, weights


def players_by_hand(net: Net) -> list[tuple[str, int]]:
    """The units whose bias or some incoming weight differs from the reference."""
    cur_b, cur_w = net.params()
    ref_b, ref_w = net.reference_params()
    out = []
    for name, k in net.units():
        differs = cur_b[name] is not None and cur_b[name][k] != ref_b[name][k]
        differs |= any(receiver == name and np.any(w[k] != ref_w[sender, receiver][k])
                       for (sender, receiver), w in cur_w.items())
        if differs:
            out.append((name, k))
    return out


def shapley_by_orders(net: Net, players) -> dict[tuple[str, int], float]:
    """The definition: each player's marginal effect on E, averaged over all n! orders."""
    cache: dict[frozenset, float] = {}

    def v(coalition: frozenset) -> float:
        if coalition not in cache:
            cache[coalition] = loss(net, *coalition_params(net, coalition))
        return cache[coalition]

    phi = dict.fromkeys(players, 0.0)
    for order in itertools.permutations(players):
        before = frozenset()
        for player in order:
            after = before | {player}
            phi[player] += v(after) - v(before)
            before = after
    return {player: value / factorial(len(players)) for player, value in phi.items()}


def random_net(rng: np.random.Generator, loss_name: str = "sse", faults: tuple[int, int] = (0, 4),
               linear: bool = False, max_size: int = 3, outputs_size: tuple[int, int] | None = None) -> Net:
    """A random network with a reference; ``faults``: how many units (at least, at most)
    get parameters that differ from the reference."""
    def activation(size: int) -> str:
        if linear:
            return "linear"
        if size >= 2 and rng.random() < 0.15:
            return "softmax"
        return str(rng.choice(HIDDEN_ACTIVATIONS))

    def bias(size: int):
        return rng.normal(0.0, 0.7, size) if rng.random() < 0.75 else None

    inputs = [Layer(f"in{i}", int(rng.integers(1, 4)), None) for i in range(int(rng.integers(1, 3)))]
    chain = []
    for i in range(int(rng.integers(0, 3))):
        size = int(rng.integers(1, max_size + 1))
        chain.append(Layer(f"h{i}", size, activation(size), bias(size)))
    low, high = outputs_size or ((2, 3) if loss_name == "cross_entropy" else (1, 2))
    size = int(rng.integers(low, high + 1))
    if loss_name == "cross_entropy":
        out = Layer("out", size, "softmax" if size >= 2 else "sigmoid", bias(size))
    else:
        out = Layer("out", size, activation(size), bias(size))
    chain.append(out)
    side = None
    if not outputs_size and rng.random() < 0.3:  # a second output layer, fed from before "out"
        size = int(rng.integers(1, 3))
        side = Layer("side", size, "sigmoid" if loss_name == "cross_entropy" else activation(size), bias(size))
    layers = inputs + chain + ([side] if side else [])

    def weights(receiver: Layer, sender: Layer) -> np.ndarray:
        return rng.normal(0.0, 0.9, (receiver.size, sender.size))

    pairs = []
    for j, layer in enumerate(chain):
        earlier = inputs + chain[:j]
        must = chain[j - 1] if j else inputs[int(rng.integers(len(inputs)))]
        pairs += [(s, layer) for s in earlier if s is must or rng.random() < 0.4]
    if side:
        earlier = inputs + chain[:-1]
        chosen = [s for s in earlier if rng.random() < 0.5] or [earlier[int(rng.integers(len(earlier)))]]
        pairs += [(s, side) for s in chosen]
    for layer in inputs:  # every layer must be connected
        if not any(s is layer for s, _ in pairs):
            pairs.append((layer, chain[int(rng.integers(len(chain)))]))
    conns = [Conn(s.name, r.name, weights(r, s), bool(rng.random() < 0.7))
             for s, r in (pairs[i] for i in rng.permutation(len(pairs)))]

    x = rng.normal(0.0, 1.0, (int(rng.integers(2, 6)), sum(layer.size for layer in inputs)))
    targets = []
    for layer in [out] + ([side] if side else []):
        if layer.activation == "softmax":
            targets.append(np.eye(layer.size)[rng.integers(layer.size, size=len(x))])
        elif loss_name == "cross_entropy":
            targets.append(rng.uniform(0.0, 1.0, (len(x), layer.size)))
        else:
            targets.append(rng.normal(0.0, 1.0, (len(x), layer.size)))
    net = Net(layers, conns, x, np.concatenate(targets, axis=1), loss_name)
    add_reference(rng, net, faults)
    return net


def add_reference(rng, net: Net, faults: tuple[int, int]) -> None:
    """A reference where a random set of units (``faults``) differ, each in a random subset
    of its parameters, and some further layers and connections are named with their
    current values (in the reference, yet equal to it)."""
    units = net.units()
    high = min(faults[1], len(units))
    n = int(rng.integers(min(faults[0], high), high + 1))
    by_name = {layer.name: layer for layer in net.layers}
    for index in rng.choice(len(units), size=n, replace=False):
        name, k = units[index]
        places = [("bias", None)] if by_name[name].bias is not None else []
        places += [("weights", c) for c in net.conns if c.receiver == name]
        chosen = [places[i] for i in rng.choice(len(places), size=int(rng.integers(1, len(places) + 1)),
                                                replace=False)]
        for kind, c in chosen:
            if kind == "bias":
                ref = net.ref_biases.setdefault(name, by_name[name].bias.copy())
                ref[k] += rng.choice([-1, 1]) * rng.uniform(0.3, 1.5)
            else:
                ref = net.ref_weights.setdefault((c.sender, c.receiver), c.w.copy())
                row = rng.random(c.w.shape[1]) < 0.6
                row[int(rng.integers(len(row)))] = True  # at least one weight differs
                ref[k, row] += rng.choice([-1, 1], size=row.sum()) * rng.uniform(0.3, 1.5, row.sum())
    for layer in net.computed:  # named, but as they are
        if layer.bias is not None and layer.name not in net.ref_biases and rng.random() < 0.3:
            net.ref_biases[layer.name] = layer.bias.copy()
    for c in net.conns:
        if (c.sender, c.receiver) not in net.ref_weights and rng.random() < 0.3:
            net.ref_weights[c.sender, c.receiver] = c.w.copy()
    if not net.ref_biases and not net.ref_weights:  # an empty [reference] is refused
        c = net.conns[0]
        net.ref_weights[c.sender, c.receiver] = c.w.copy()


def _case(seed: int, **kwargs) -> Net:
    """Case ``seed``: every third one has cross_entropy outputs (softmax, sometimes sigmoid too)."""
    rng = np.random.default_rng(seed)
    return random_net(rng, "cross_entropy" if seed % 3 == 2 else "sse", **kwargs)


def _responsibility(run: Run):
    return responsibility(run.network, run.x, run.t, run.care, run.training.margin)


def _knockouts(run: Run):
    return knockouts(run.network, run.x, run.t, run.care, run.training.margin)


# --- Shapley's axioms ----------------------------------------------------------------------

def test_the_exact_values_are_the_average_over_every_order_of_the_players():
    """Up to 5 players: the engine's values equal the definition computed here."""
    sizes = []
    for seed in range(CASES):
        net = _case(seed, faults=(0, 5))
        run = run_of(net)
        r = _responsibility(run)
        players = players_by_hand(net)
        sizes.append(len(players))
        assert r.exact and r.standard_error is None
        assert list(r.players) == players, seed
        E = loss(net, *net.params())
        E_ref = loss(net, *net.reference_params())
        assert r.loss == pytest.approx(E, rel=1e-12, abs=1e-14), seed
        assert r.reference_loss == pytest.approx(E_ref, rel=1e-12, abs=1e-14), seed
        phi = shapley_by_orders(net, players)
        scale = max(1.0, abs(E), abs(E_ref))
        for name, k in net.units():
            if (name, k) in phi:
                assert r.values[name][k] == pytest.approx(phi[name, k], rel=1e-9, abs=1e-12 * scale), (seed, name, k)
            else:
                assert r.values[name][k] == 0.0, (seed, name, k)  # no player: exactly 0
    assert 0 in sizes and max(sizes) >= 4  # the cases reach from no player to several


def test_the_values_add_up_to_the_excess_error_for_any_network():
    """Efficiency: sum_j phi_j = E - E_ref, to rounding, with up to 12 players (exact)."""
    most = 0
    for seed in range(CASES):
        net = _case(1000 + seed, faults=(4, 12), max_size=5)
        r = _responsibility(run_of(net))
        most = max(most, len(r.players))
        total = sum(v.sum() for v in r.values.values())
        excess = r.loss - r.reference_loss
        assert abs(total - excess) <= 1e-12 * max(1.0, abs(r.loss), abs(r.reference_loss)), seed
    assert most >= 8


SYMMETRIC_TOML = """\
format = 1
[scenario]
title = "twins"
[[layers]]
name = "in"
size = 2
[[layers]]
name = "hidden"
size = 3
activation = "{activation}"
bias = [0.3, -0.4, 0.3]
[[layers]]
name = "out"
size = 2
activation = "sigmoid"
bias = [0.1, -0.2]
[[connections]]
from = "in"
to = "hidden"
weights = [[0.8, -0.6], [0.2, 0.9], [0.8, -0.6]]
[[connections]]
from = "hidden"
to = "out"
weights = [[1.1, -0.7, 1.1], [-0.5, 0.4, -0.5]]
# hidden units 1 and 3 are twins: the same weights in and out, and the same reference
[[reference.layers]]
name = "hidden"
bias = [1.2, 0.1, 1.2]
[[reference.layers]]
name = "out"
bias = [0.0, 0.0]
[[reference.connections]]
from = "in"
to = "hidden"
weights = [[-0.6, 1.2], [0.2, 0.9], [-0.6, 1.2]]
[data]
inputs = [[1.0, 0.5], [-0.3, 0.8], [0.6, -1.2], [0.0, 0.4]]
targets = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.2, 0.7]]
"""


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_two_interchangeable_units_get_the_same_value(activation):
    """Symmetry: twins play the same part in every coalition, so they share alike."""
    r = _responsibility(Run(parse_scenario(SYMMETRIC_TOML.format(activation=activation))))
    assert r.players == (("hidden", 0), ("hidden", 1), ("hidden", 2), ("out", 0), ("out", 1))
    twins = r.values["hidden"]
    assert twins[0] == pytest.approx(twins[2], rel=1e-12, abs=1e-15)
    assert abs(twins[0]) > 1e-3  # not equal by being nothing
    assert abs(twins[0] - twins[1]) > 1e-3


DUMMY_TOML = """\
format = 1
[scenario]
title = "dummies"
[[layers]]
name = "in"
size = 2
[[layers]]
name = "hidden"
size = 3
activation = "sigmoid"
bias = [0.5, -1.0, 0.25]
[[layers]]
name = "out"
size = 1
activation = "linear"
bias = [0.1]
[[connections]]
from = "in"
to = "hidden"
weights = [[1.0, -0.5], [0.3, 0.7], [-0.8, 0.2]]
# hidden unit 2 feeds nothing: its outgoing weight is 0 now and in the reference
[[connections]]
from = "hidden"
to = "out"
weights = [[1.5, 0.0, -2.0]]
[[reference.layers]]
name = "hidden"
bias = [0.0, 1.0, 0.25]
# named, and equal to the current values
[[reference.layers]]
name = "out"
bias = [0.1]
[data]
inputs = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
targets = [[0.0], [1.0], [0.5]]
"""


def test_a_unit_equal_to_its_reference_and_a_unit_without_effect_get_exactly_0():
    """Dummy: unit 3 is at its reference (no player); unit 2 differs but reaches nothing."""
    r = _responsibility(Run(parse_scenario(DUMMY_TOML)))
    assert r.players == (("hidden", 0), ("hidden", 1))
    assert r.values["hidden"][2] == 0.0 and r.values["out"][0] == 0.0
    assert r.values["hidden"][1] == 0.0  # a player, whose every marginal effect is exactly 0
    assert r.values["hidden"][0] == pytest.approx(r.loss - r.reference_loss, rel=1e-12)
    assert abs(r.values["hidden"][0]) > 1e-3


def test_no_reference_no_responsibility(shipped):
    run = Run(load_scenario(shipped["tutoring-chain"]))
    assert _responsibility(run) is None and reference_theta(run.network) is None


# --- Beyond 12 players: the sampled estimate --------------------------------------------

def _wide_net(rng) -> Net:
    """3 inputs, 13 tanh hidden units all differing from the reference (biases, and a few
    rows of weights), 2 linear outputs whose biases differ too: 15 players."""
    hidden = Layer("hidden", 13, "tanh", rng.normal(0.0, 0.5, 13))
    out = Layer("out", 2, "linear", rng.normal(0.0, 0.5, 2))
    w_in = rng.normal(0.0, 0.8, (13, 3))
    w_out = rng.normal(0.0, 0.6, (2, 13))
    net = Net([Layer("in", 3, None), hidden, out], [Conn("in", "hidden", w_in), Conn("hidden", "out", w_out)],
              rng.normal(0.0, 1.0, (6, 3)), rng.normal(0.0, 1.0, (6, 2)))
    net.ref_biases = {"hidden": hidden.bias + rng.normal(0.0, 0.6, 13), "out": out.bias + 0.5}
    ref_in = w_in.copy()
    ref_in[[1, 4, 9]] += rng.normal(0.0, 0.6, (3, 3))
    net.ref_weights = {("in", "hidden"): ref_in}
    return net


def _exact_wide(net: Net) -> tuple[np.ndarray, np.ndarray]:
    """v(S) for each of the 2^15 coalitions (bits 0-12: the hidden units, bits 13 and 14:
    the output units), by a vectorized forward pass, and the exact Shapley values from them."""
    (b_h, b_o), (w_in, w_out) = [net.layers[1].bias, net.layers[2].bias], [net.conns[0].w, net.conns[1].w]
    r_h, r_o, r_in = net.ref_biases["hidden"], net.ref_biases["out"], net.ref_weights["in", "hidden"]
    n = 15
    masks = np.arange(2**n)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    hidden_in = np.where(bits[:, :13, None], w_in, r_in)  # coalitions x 13 x 3
    net_h = np.einsum("pi,mki->mpk", net.x, hidden_in) + np.where(bits[:, :13], b_h, r_h)[:, None, :]
    y = np.tanh(net_h) @ w_out.T + np.where(bits[:, 13:], b_o, r_o)[:, None, :]
    v = 0.5 * ((y - net.t) ** 2).sum(axis=(1, 2))
    size = bits.sum(axis=1)
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.empty(n)
    for j in range(n):
        without = masks[~bits[:, j]]
        phi[j] = np.sum(weight[size[without]] * (v[without | (1 << j)] - v[without]))
    return v, phi


def test_beyond_12_players_the_estimate_is_within_its_standard_error_of_the_exact_values():
    net = _wide_net(np.random.default_rng(7))
    run = run_of(net)
    r = _responsibility(run)
    assert len(r.players) == 15  # 13 hidden units and 2 outputs: past EXACT_PLAYERS
    assert not r.exact and r.orders == SAMPLED_ORDERS and r.standard_error is not None
    v, phi = _exact_wide(net)
    assert r.loss == pytest.approx(v[-1], rel=1e-12) and r.reference_loss == pytest.approx(v[0], rel=1e-12)
    estimate = np.concatenate([r.values["hidden"], r.values["out"]])
    error = np.concatenate([r.standard_error["hidden"], r.standard_error["out"]])
    assert abs(estimate.sum() - (r.loss - r.reference_loss)) <= 1e-9 * max(1.0, abs(r.loss), abs(r.reference_loss))
    assert np.all(error > 0)
    assert np.all(np.abs(estimate - phi) <= 4 * error), np.abs(estimate - phi) / error
    # the same estimate every time it is asked for
    again = _responsibility(run)
    assert np.array_equal(again.values["hidden"], r.values["hidden"])


def test_the_estimate_gives_up_past_its_work_limit(monkeypatch):
    run = run_of(_wide_net(np.random.default_rng(7)))
    passes = SAMPLED_ORDERS * 16 * 6 * (3 + 13 + 2)  # orders x (players + 1) x patterns x units
    monkeypatch.setattr(responsibility_module, "SAMPLING_LIMIT", passes)
    assert _responsibility(run) is not None
    monkeypatch.setattr(responsibility_module, "SAMPLING_LIMIT", passes - 1)
    assert _responsibility(run) is None


def test_exact_values_give_up_past_the_work_limit_too(shipped, monkeypatch):
    """2^n passes are bounded like the estimate's: a big network with 12 players must not
    make `inspect` or the app run for hours."""
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    work = 2**2 * 3 * 6  # coalitions x patterns x units
    monkeypatch.setattr(responsibility_module, "SAMPLING_LIMIT", work)
    assert _responsibility(run).exact
    monkeypatch.setattr(responsibility_module, "SAMPLING_LIMIT", work - 1)
    assert _responsibility(run) is None


# --- Knock-outs against a direct recomputation ---------------------------------------------

def knocked_out(net: Net, name: str, k: int) -> Net:
    """A copy of the network with unit k's bias and weights from the input layers set to 0."""
    inputs = {layer.name for layer in net.inputs}
    layers = [Layer(layer.name, layer.size, layer.activation, None if layer.bias is None else layer.bias.copy())
              for layer in net.layers]
    for layer in layers:
        if layer.name == name and layer.bias is not None:
            layer.bias[k] = 0.0
    conns = []
    for c in net.conns:
        w = c.w.copy()
        if c.receiver == name and c.sender in inputs:
            w[k] = 0.0
        conns.append(Conn(c.sender, c.receiver, w, c.trainable))
    return Net(layers, conns, net.x, net.t, net.loss, net.margin, net.ref_biases, net.ref_weights)


def has_own_part(net: Net, name: str) -> bool:
    inputs = {layer.name for layer in net.inputs}
    layer = next(layer for layer in net.layers if layer.name == name)
    return layer.bias is not None or any(c.receiver == name and c.sender in inputs for c in net.conns)


def test_knockouts_are_the_loss_recomputed_without_the_units_own_part():
    without_own = 0
    for seed in range(CASES):
        net = _case(2000 + seed)
        run = run_of(net)
        k_out = _knockouts(run)
        E = loss(net, *net.params())
        for name, k in net.units():
            if not has_own_part(net, name):
                assert k_out[name][k] == 0.0, (seed, name, k)
                without_own += 1
                continue
            other = knocked_out(net, name, k)
            E_without = loss(other, *other.params())
            assert k_out[name][k] == pytest.approx(E - E_without, rel=1e-9, abs=1e-12 * max(1, E, E_without)), \
                (seed, name, k)
            # and the engine itself, started from the knocked-out file, agrees to rounding
            fresh = run_of(other).inspect().E
            assert k_out[name][k] == pytest.approx(run.inspect().E - fresh, rel=1e-12, abs=1e-14), (seed, name, k)
    assert without_own > 0  # some unit had no bias and no input: its knock-out is exactly 0


def test_knockouts_and_responsibility_count_only_the_errors_the_scenario_counts():
    """A margin and don't-care targets: E is the scenario's loss on both sides."""
    for seed in range(10):
        net = _case(3 * seed, faults=(1, 4))  # sse
        rng = np.random.default_rng(6000 + seed)
        net.t[rng.random(net.t.shape) < 0.3] = np.nan
        net.margin = 0.3
        run = run_of(net)
        r, k_out = _responsibility(run), _knockouts(run)
        E, E_ref = loss(net, *net.params()), loss(net, *net.reference_params())
        assert r.loss == pytest.approx(E, rel=1e-12, abs=1e-14)
        assert r.reference_loss == pytest.approx(E_ref, rel=1e-12, abs=1e-14)
        phi = shapley_by_orders(net, players_by_hand(net))
        for (name, k), value in phi.items():
            assert r.values[name][k] == pytest.approx(value, rel=1e-9, abs=1e-12 * max(1, E, E_ref)), (seed, name, k)
        for name, k in net.units():
            if has_own_part(net, name):
                other = knocked_out(net, name, k)
                E_without = loss(other, *other.params())
                assert k_out[name][k] == pytest.approx(E - E_without, rel=1e-9, abs=1e-12 * max(1, E, E_without))


def test_knockouts_give_up_past_their_work_limit(shipped, monkeypatch):
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    work = 2 * 3 * 6  # units with an own part (mixing, packaging) x patterns x units
    monkeypatch.setattr(blame, "KNOCKOUT_LIMIT", work)
    assert _knockouts(run) is not None
    monkeypatch.setattr(blame, "KNOCKOUT_LIMIT", work - 1)
    assert _knockouts(run) is None


# --- First order and exact: where they must agree ------------------------------------------

def test_one_fault_in_an_additive_stage_takes_the_whole_share_and_the_whole_responsibility():
    """A linear network that is right on centred inputs (x and -x), except for one unit's
    bias. The error is then the same on every pattern, e = g_j b_j (g_j: d output / d net_j),
    so every other unit k has c_k = sum_p g_k e (b_k + w_k x_p) = 0 (its bias is 0, its
    inputs sum to 0), and the faulty unit has c_j = P g_j^2 b_j^2 > 0: share +100%. It is
    the only player, so it carries all of E - E_ref = E."""
    checked = 0
    for seed in range(10):
        rng = np.random.default_rng(3000 + seed)
        net = random_net(rng, "sse", faults=(0, 0), linear=True)
        for layer in net.computed:
            if layer.bias is not None:
                layer.bias[:] = 0.0
        half = rng.normal(0.0, 1.0, (3, net.x.shape[1]))
        net.x = np.concatenate([half, -half])
        net.t = outputs(net, *net.params())  # the network without the fault is exact
        with_bias = [(name, k) for name, k in net.units()
                     if next(layer for layer in net.computed if layer.name == name).bias is not None]
        if not with_bias:
            continue
        name, k = with_bias[int(rng.integers(len(with_bias)))]
        layer = next(layer for layer in net.computed if layer.name == name)
        net.ref_biases = {name: layer.bias.copy()}
        net.ref_weights = {}
        layer.bias[k] = 0.75  # the fault
        run = run_of(net)
        p = run.inspect()
        shares = signed_shares(run.network, p)
        r = _responsibility(run)
        assert r.players == ((name, k),)
        assert r.reference_loss == pytest.approx(0.0, abs=1e-20)
        assert r.values[name][k] == pytest.approx(p.E, rel=1e-12)
        assert p.E > 1e-6  # the fault reaches the output
        for other, j in net.units():
            expected = 1.0 if (other, j) == (name, k) else 0.0
            assert shares[other][j] == pytest.approx(expected, abs=1e-9), (seed, other, j)
        checked += 1
    assert checked >= 5


def test_knockout_is_first_order_less_the_square_term_in_a_linear_network():
    """For linear units and sse, E is quadratic in own_j: the outputs move by g_jo own_jp
    when own_j is removed (g_jo = d y_o / d net_j, the sum over paths of the products of
    weights), so with e_po = y_po - t_po

        E(without) = 1/2 sum_p,o (e_po - g_jo own_jp)^2
                   = E - sum_p,o e_po g_jo own_jp + 1/2 sum_p,o (g_jo own_jp)^2

    and delta_jp = sum_o g_jo e_po, so c_j = sum_p delta_jp own_jp and

        knockout_j = c_j - 1/2 sum_p,o (g_jo own_jp)^2.

    c_j is exactly the first-order term of the knock-out: "first order" is the right word."""
    checked = 0
    for seed in range(CASES):
        net = random_net(np.random.default_rng(4000 + seed), "sse", linear=True)
        run = run_of(net)
        p = run.inspect()
        c = contributions(first_order(run.network, p))
        k_out = _knockouts(run)
        biases, weights = net.params()
        y = outputs(net, biases, weights)
        e = y - net.t
        inputs = {layer.name for layer in net.inputs}
        a_in, column = {}, 0
        for layer in net.inputs:
            a_in[layer.name] = net.x[:, column:column + layer.size]
            column += layer.size
        for name, k in net.units():
            own = np.zeros(len(net.x))
            if biases[name] is not None:
                own += biases[name][k]
            for (sender, receiver), w in weights.items():
                if receiver == name and sender in inputs:
                    own += a_in[sender] @ w[k]
            g = outputs(net, biases, weights, shift={(name, k): 1.0})[0] - y[0]  # the same for every pattern
            c_hand = float(np.sum(own * (e @ g)))
            scale = max(1.0, float(np.sum(np.abs(own[:, None] * g * e))), float(np.sum((own[:, None] * g) ** 2)))
            assert c[name][k] == pytest.approx(c_hand, abs=1e-9 * scale), (seed, name, k)
            square = 0.5 * float(np.sum((own[:, None] * g[None, :]) ** 2))
            assert k_out[name][k] == pytest.approx(c_hand - square, abs=1e-9 * scale), (seed, name, k)
            checked += abs(square) > 1e-6
    assert checked > 20


# --- The reference in a file -----------------------------------------------------------------

def test_the_reference_is_what_the_file_says(shipped):
    s = load_scenario(shipped["biscuit-factory-preservative"]).reference
    assert [name for name, _ in s.biases] == ["mixing"]
    assert s.biases[0][1].tolist() == [0.0]
    assert [(a, b, w.tolist()) for a, b, w in s.weights] == [
        ("recipe", "mixing", [[1.0]]), ("mixing", "baking", [[1.0]]), ("baking", "packaging", [[1.0]]),
        ("preservative", "packaging", [[0.0]]), ("packaging", "quality control", [[1.0]])]
    # theta at the reference: the named values in place, the rest as they are
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    current = run.network.theta.copy()
    theta = reference_theta(run.network)
    weights, biases = run.network.views(theta)
    by_pair = {(link.sender.name, link.receiver.name): weights[link.index] for link in run.network.links}
    assert by_pair["recipe", "mixing"].tolist() == [[1.0]] and by_pair["baking", "packaging"].tolist() == [[1.0]]
    assert by_pair["preservative", "packaging"].tolist() == [[0.0]]
    assert by_pair["packaging", "quality control"].tolist() == [[1.0]]
    assert np.array_equal(run.network.theta, current)  # the network itself is untouched


@pytest.mark.parametrize("seed", [*range(6), "biscuit-factory-preservative"])
def test_saving_keeps_the_reference(seed, tmp_path, shipped):
    run = Run(load_scenario(shipped[seed])) if isinstance(seed, str) else run_of(_case(5000 + seed, faults=(1, 4)))
    before = run.scenario.reference
    path = tmp_path / "saved.toml"
    path.write_text(scenario_toml(run, path))
    after = load_scenario(path).reference
    assert [name for name, _ in after.biases] == [name for name, _ in before.biases]
    assert [(a, b) for a, b, _ in after.weights] == [(a, b) for a, b, _ in before.weights]
    for (_, x), (_, y) in zip(before.biases, after.biases):
        assert np.array_equal(x, y)
    for (_, _, x), (_, _, y) in zip(before.weights, after.weights):
        assert np.array_equal(x, y)
    # and so the same responsibility
    again = _responsibility(Run(load_scenario(path)))
    first = _responsibility(run)
    for name in first.values:
        assert np.array_equal(first.values[name], again.values[name])
