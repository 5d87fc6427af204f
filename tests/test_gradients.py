"""Finite-difference checks of backpropagation (SPEC section 4).

For every case: random weights and data (fixed seeds), one ``network.gradient`` pass,
then dE/dtheta_k by central differences (``bptui.core.gradcheck.numeric_gradient``, the
routine of the app's gradient check) for EVERY trainable weight and bias, where E is
exactly the loss ``network.output_error`` computes. Also: E itself against the SPEC's
formulas (so a gradient consistent with a wrong loss cannot pass), delta against
dE/dnet, and the batched ``runs`` mode against single runs.

Weights are uniform(-1, 1) (weight_init 1), data random, all from fixed seeds. Non-smooth
points are kept away from: the weights are the first of a fixed list of seeds where no
relu net is within KINK of 0, no output is within KINK of a margin edge (and the margin
hides some outputs but not all), and most gradients are not 0.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import pytest

from bptui.core.gradcheck import STEP, bias_index, loss, numeric_gradient
from bptui.core.network import Network
from bptui.core.scenario import parse_scenario

KINK = 1e-4  # how far every relu net and margin edge must be from the base point
RTOL = 1e-6
ATOL = 1e-9


# --- building scenarios -----------------------------------------------------------


@dataclass
class Case:
    id: str
    layers: list  # (name, size, activation or None for inputs, bias: bool)
    connections: list  # (from, to) or (from, to, trainable)
    loss: str = "sse"
    margin: float = 0.0
    targets: str = "unit"  # how targets are drawn, see make_targets
    nan_targets: bool = False  # some targets are don't-care
    patterns: int = 5
    seed: int = 0  # seeds the case's data


def _num(x: float) -> str:
    return "nan" if np.isnan(x) else repr(float(x))


def _matrix(a: np.ndarray) -> str:
    return "[" + ", ".join("[" + ", ".join(_num(v) for v in row) + "]" for row in a) + "]"


def _make_targets(case: Case, rng, outputs: list) -> np.ndarray:
    """Targets for the output layers side by side (declaration order)."""
    P = case.patterns
    cols = []
    for name, size, activation, _ in outputs:
        if case.targets == "unit":  # in [0, 1]: fits every activation and cross-entropy
            block = rng.uniform(0.0, 1.0, size=(P, size))
        elif case.targets == "signed":
            block = rng.uniform(-1.0, 1.0, size=(P, size))
        elif case.targets == "onehot":
            block = np.eye(size)[rng.integers(0, size, size=P)]
        elif case.targets == "unnormalized":
            # Softmax targets that do NOT sum to 1: two ones, all zeros, fractions, ...
            rows = [np.zeros(size), np.ones(size), rng.uniform(0, 1, size)]
            two = np.zeros(size)
            two[:2] = 1.0
            rows.insert(0, two)
            block = np.array([rows[k % len(rows)] for k in range(P)])
        else:
            raise ValueError(case.targets)
        cols.append(block)
    t = np.concatenate(cols, axis=1)
    if case.nan_targets:
        mask = rng.uniform(size=t.shape) < 0.3
        mask[0, 0] = True  # at least one don't-care
        mask[1, :] = False  # and at least one fully cared-for pattern
        t[mask] = np.nan
    return t


def scenario_text(case: Case) -> str:
    rng = np.random.default_rng(1000 + case.seed)
    receivers = {c[1] for c in case.connections}
    senders = {c[0] for c in case.connections}
    inputs = [layer for layer in case.layers if layer[0] not in receivers]
    outputs = [layer for layer in case.layers if layer[0] not in senders]
    n_in = sum(layer[1] for layer in inputs)
    x = rng.normal(0.0, 1.0, size=(case.patterns, n_in))
    t = _make_targets(case, rng, outputs)

    parts = ["format = 1", "", "[scenario]", f'title = "{case.id}"', ""]
    for name, size, activation, bias in case.layers:
        parts += ["[[layers]]", f'name = "{name}"', f"size = {size}"]
        if name in receivers:
            parts.append(f'activation = "{activation}"')
            if not bias:
                parts.append("bias = false")
        parts.append("")
    for conn in case.connections:
        parts += ["[[connections]]", f'from = "{conn[0]}"', f'to = "{conn[1]}"']
        if len(conn) > 2 and not conn[2]:
            parts.append("trainable = false")
        parts.append("")
    parts += ["[data]", f"inputs = {_matrix(x)}", f"targets = {_matrix(t)}", ""]
    parts += ["[training]", f'loss = "{case.loss}"', f"margin = {case.margin!r}", "weight_init = 1.0"]
    return "\n".join(parts) + "\n"


def build(case: Case, runs: tuple[int, ...] = ()):
    scenario = parse_scenario(scenario_text(case), case.id)
    net = Network(scenario, runs=runs)
    data = scenario.data
    missing = np.isnan(data.targets)
    t = np.where(missing, 0.0, data.targets)
    care = (~missing).astype(np.float64) if missing.any() else None
    if case.nan_targets:
        assert care is not None and (care == 0).any()
    return scenario, net, data.inputs, t, care


def random_theta(net: Network, seed: int, size=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=size if size is not None else net.theta.shape)


def well_placed(case: Case, net: Network, p, t, care) -> bool:
    """The point is away from every kink, the margin matters, and most gradients are not 0.

    Central differences are only meaningful away from kinks (relu at 0, the margin edge),
    and a case where a dead relu zeroes most gradients would check little.
    """
    for unit in net.computed:
        if unit.f.name == "relu" and np.abs(p.net[unit.index]).min() <= KINK:
            return False
    if case.margin > 0:
        inside = outside = 0
        for unit in net.outputs:
            err = np.abs(p.a[unit.index] - t[..., unit.columns])
            if care is not None:
                err = err[care[..., unit.columns] > 0]
            if np.abs(err - case.margin).min() <= KINK:
                return False
            inside += int((err <= case.margin).sum())
            outside += int((err > case.margin).sum())
        if inside == 0 or outside == 0:  # the margin must matter, and not hide everything
            return False
    return np.count_nonzero(net.grad) >= 0.75 * net.grad.size


def place(case: Case, net: Network, x, t, care):
    """Random weights (uniform(-1, 1)) at the first of a fixed list of seeds that is well placed."""
    for seed in range(77, 77 + 50):
        net.theta[...] = random_theta(net, seed)
        p = net.gradient(x, t, care, case.margin)
        if well_placed(case, net, p, t, care):
            return p
    raise AssertionError(f"{case.id}: no seed gives a point away from kinks; change the case")


REFERENCE_F = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0.0, z, 0.0),
    "linear": lambda z: z,
    "softmax": lambda z: np.exp(z - z.max(axis=-1, keepdims=True))
    / np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True),
}


def reference_forward(scenario, net: Network, x) -> dict:
    """Activations by layer name, computed from the scenario alone with the network's weights.

    Independent of the engine's plan: inputs columns go to the input layers in declaration
    order (SPEC section 3), and net_j = sum_i w_ji a_i + b_j over the declared connections.
    """
    receivers = {c.receiver for c in scenario.connections}
    a, col = {}, 0
    for layer in scenario.layers:
        if layer.name not in receivers:
            a[layer.name] = x[..., col : col + layer.size]
            col += layer.size
    assert col == x.shape[-1]
    weights = {}
    for conn, link in zip(scenario.connections, net.links):
        assert (link.sender.name, link.receiver.name) == (conn.sender, conn.receiver)
        weights[conn.sender, conn.receiver] = link.w
    pending = [layer for layer in scenario.layers if layer.name in receivers]
    while pending:
        for layer in pending:
            feeding = [c.sender for c in scenario.connections if c.receiver == layer.name]
            if all(name in a for name in feeding):
                z = sum(a[name] @ weights[name, layer.name].swapaxes(-1, -2) for name in feeding)
                b = net.layer(layer.name).b
                if layer.bias:
                    z = z + b
                else:
                    assert b is None
                a[layer.name] = REFERENCE_F[layer.activation](z)
                pending.remove(layer)
                break
    return a


def reference_loss(scenario, net: Network, x, t, care, margin) -> float:
    """E as SPEC sections 3 and 4 define it, from the reference activations; target
    columns go to the output layers in declaration order."""
    a_all = reference_forward(scenario, net, x)
    senders = {c.sender for c in scenario.connections}
    E, col = 0.0, 0
    for layer in scenario.layers:
        if layer.name in senders:
            continue
        cols = slice(col, col + layer.size)
        col += layer.size
        a, tt = a_all[layer.name], t[..., cols]
        keep = np.ones_like(a) if care is None else care[..., cols].copy()
        if margin > 0:
            keep = keep * (np.abs(a - tt) > margin)
        if scenario.training.loss == "sse":
            E += 0.5 * float((keep * (a - tt) ** 2).sum())
        elif layer.activation == "sigmoid":
            E += float(-(keep * (tt * np.log(a) + (1 - tt) * np.log(1 - a))).sum())
        else:  # softmax
            E += float(-(keep * tt * np.log(a)).sum())
    assert col == t.shape[-1]
    return E


def assert_close_gradient(analytic: np.ndarray, numeric: np.ndarray, what: str = "") -> None:
    err = np.abs(analytic - numeric)
    bound = RTOL * np.maximum(np.abs(analytic), np.abs(numeric)) + ATOL
    bad = np.flatnonzero(err > bound)
    assert bad.size == 0, (
        f"{what}: {bad.size} of {analytic.size} gradients disagree with finite differences; "
        f"first at {bad[0]}: backprop {analytic[bad[0]]!r}, numeric {numeric[bad[0]]!r}"
    )


# --- the cases ----------------------------------------------------------------------

ACTS = ["sigmoid", "tanh", "relu", "linear", "softmax"]


def _two_layer(hidden: str, output: str, **kw) -> Case:
    return Case(
        id=f"hidden-{hidden}-output-{output}",
        layers=[("in", 3, None, True), ("hid", 4, hidden, True), ("out", 3, output, True)],
        connections=[("in", "hid"), ("hid", "out")],
        targets="signed" if output in ("tanh", "linear") else "unit",
        **kw,
    )


ACTIVATION_CASES = [_two_layer(h, o) for h in ACTS for o in ACTS]

LOSS_CASES = [
    Case("ce-sigmoid", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy"),
    Case("ce-sigmoid-binary-targets", [("in", 3, None, True), ("hid", 4, "sigmoid", True),
                                       ("out", 2, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", targets="onehot"),
    Case("ce-softmax-onehot", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 4, "softmax", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", targets="onehot"),
    Case("ce-softmax-soft-targets", [("in", 3, None, True), ("hid", 4, "relu", True),
                                     ("out", 3, "softmax", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", targets="unit", seed=3),
    Case("ce-softmax-targets-not-summing-to-1", [("in", 3, None, True), ("hid", 4, "sigmoid", True),
                                                 ("out", 4, "softmax", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", targets="unnormalized", patterns=8),
    Case("ce-softmax-hidden-softmax", [("in", 3, None, True), ("hid", 3, "softmax", True),
                                       ("out", 3, "softmax", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", targets="onehot"),
    Case("sse-softmax-targets-not-summing-to-1", [("in", 3, None, True), ("hid", 4, "tanh", True),
                                                  ("out", 4, "softmax", True)],
         [("in", "hid"), ("hid", "out")], targets="unnormalized", patterns=8),
]

MARGIN_CASES = [
    Case("margin-sse-sigmoid", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], margin=0.3, patterns=8),
    Case("margin-sse-linear", [("in", 3, None, True), ("hid", 4, "sigmoid", True), ("out", 2, "linear", True)],
         [("in", "hid"), ("hid", "out")], margin=0.4, targets="signed", patterns=8),
    Case("margin-ce-sigmoid", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", margin=0.3, patterns=8),
    Case("margin-ce-softmax", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "softmax", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", margin=0.3, targets="onehot", patterns=8),
    Case("margin-sse-softmax", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "softmax", True)],
         [("in", "hid"), ("hid", "out")], margin=0.25, targets="onehot", patterns=8),
    Case("margin-and-dont-care", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], margin=0.3, nan_targets=True, patterns=8),
]

DONT_CARE_CASES = [
    Case("nan-sse-sigmoid", [("in", 3, None, True), ("hid", 4, "sigmoid", True), ("out", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], nan_targets=True, patterns=6),
    Case("nan-sse-linear", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "linear", True)],
         [("in", "hid"), ("hid", "out")], nan_targets=True, targets="signed", patterns=6),
    Case("nan-ce-sigmoid", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", nan_targets=True, patterns=6),
    Case("nan-ce-softmax", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "softmax", True)],
         [("in", "hid"), ("hid", "out")], loss="cross_entropy", nan_targets=True, targets="unit", patterns=6),
    Case("nan-sse-softmax", [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 3, "softmax", True)],
         [("in", "hid"), ("hid", "out")], nan_targets=True, patterns=6),
]

GRAPH_CASES = [
    Case("skip-input-to-output",
         [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 2, "sigmoid", True)],
         [("in", "hid"), ("hid", "out"), ("in", "out")]),
    Case("skip-declared-first",  # the skip connection is declared before the path through hidden
         [("in", 3, None, True), ("out", 2, "linear", True), ("hid", 4, "sigmoid", True)],
         [("in", "out"), ("in", "hid"), ("hid", "out")], targets="signed"),
    Case("two-input-groups",
         [("a", 2, None, True), ("b", 3, None, True), ("hid", 4, "tanh", True), ("out", 2, "sigmoid", True)],
         [("a", "hid"), ("b", "hid"), ("hid", "out"), ("b", "out")]),
    Case("two-output-groups-sse",
         [("in", 3, None, True), ("hid", 4, "tanh", True), ("o1", 2, "linear", True), ("o2", 3, "sigmoid", True)],
         [("in", "hid"), ("hid", "o1"), ("hid", "o2")], targets="unit"),
    Case("two-output-groups-ce",
         [("in", 3, None, True), ("hid", 4, "tanh", True), ("o1", 3, "softmax", True), ("o2", 2, "sigmoid", True)],
         [("in", "hid"), ("hid", "o1"), ("hid", "o2"), ("in", "o2")], loss="cross_entropy"),
    Case("two-output-groups-after-a-shared-layer",  # o1 feeds o2 and o3: the outputs are o2 and o3
         [("in", 3, None, True), ("o1", 3, "tanh", True), ("o2", 2, "sigmoid", True), ("o3", 2, "linear", True)],
         [("in", "o1"), ("o1", "o2"), ("o1", "o3"), ("in", "o3")], targets="unit"),
    # Output layers declared in another order than the topological one: target columns
    # follow the declaration (oA, then oB), though oB is computed first.
    Case("declared-out-of-order",
         [("oA", 2, "sigmoid", True), ("b", 2, None, True), ("oB", 3, "linear", True), ("h", 4, "tanh", True),
          ("a", 3, None, True)],
         [("h", "oA"), ("a", "h"), ("b", "h"), ("a", "oB"), ("b", "oA")]),
    Case("declared-out-of-order-ce",
         [("oB", 3, "softmax", True), ("a", 1, None, True), ("oA", 2, "sigmoid", True), ("h", 3, "relu", True),
          ("b", 2, None, True)],
         [("b", "h"), ("h", "oB"), ("a", "oA"), ("b", "oA")], loss="cross_entropy", nan_targets=True,
         patterns=6),
    Case("deep-chain",
         [("in", 3, None, True), ("h1", 4, "tanh", True), ("h2", 3, "sigmoid", True), ("h3", 4, "relu", True),
          ("h4", 3, "linear", True), ("out", 2, "sigmoid", True)],
         [("in", "h1"), ("h1", "h2"), ("h2", "h3"), ("h3", "h4"), ("h4", "out")], seed=1),
    Case("deep-chain-with-skips",
         [("in", 3, None, True), ("h1", 4, "tanh", True), ("h2", 3, "sigmoid", True), ("h3", 3, "softmax", True),
          ("out", 2, "linear", True)],
         [("in", "h1"), ("h1", "h2"), ("h2", "h3"), ("h3", "out"), ("in", "h3"), ("h1", "out")],
         targets="signed"),
    Case("no-bias-hidden",
         [("in", 3, None, True), ("hid", 4, "tanh", False), ("out", 2, "sigmoid", True)],
         [("in", "hid"), ("hid", "out")]),
    Case("no-bias-anywhere",
         [("in", 3, None, True), ("hid", 4, "sigmoid", False), ("out", 2, "linear", False)],
         [("in", "hid"), ("hid", "out")], targets="signed"),
    Case("frozen-first-connection",
         [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 2, "sigmoid", True)],
         [("in", "hid", False), ("hid", "out")]),
    Case("frozen-last-connection",
         [("in", 3, None, True), ("hid", 4, "tanh", True), ("out", 2, "sigmoid", True)],
         [("in", "hid"), ("hid", "out", False)]),
    Case("frozen-skip-and-no-bias",
         [("in", 3, None, True), ("hid", 4, "sigmoid", False), ("out", 2, "sigmoid", True)],
         [("in", "hid"), ("in", "out", False), ("hid", "out")], loss="cross_entropy"),
]

ALL_CASES = ACTIVATION_CASES + LOSS_CASES + MARGIN_CASES + DONT_CARE_CASES + GRAPH_CASES


def _ids(cases):
    return [c.id for c in cases]


# --- the tests ----------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=_ids(ALL_CASES))
def test_gradient_matches_finite_differences(case: Case):
    scenario, net, x, t, care = build(case)
    assert net.grad.shape == (net.n_trainable,)
    p = place(case, net, x, t, care)
    analytic = net.grad.copy()
    E = float(p.E)
    assert np.isfinite(E)
    # The loss that is differentiated is the SPEC's loss.
    assert E == pytest.approx(reference_loss(scenario, net, x, t, care, case.margin), rel=1e-10, abs=1e-12)
    reference = reference_forward(scenario, net, x)
    for unit in net.layers:
        np.testing.assert_allclose(p.a[unit.index], reference[unit.name], rtol=1e-12, atol=1e-15)
    assert np.any(analytic != 0.0), "a vacuous case: every gradient is zero"

    before = net.theta.copy()
    numeric, corner = numeric_gradient(net, x, t, care, case.margin)
    assert not corner.any(), f"{case.id}: a step crossed a kink, though place() kept away from them"
    np.testing.assert_array_equal(net.theta, before)  # put back bit for bit
    assert_close_gradient(analytic, numeric, case.id)
    # The finite differences did not disturb the weights or the gradient buffer's meaning.
    net.gradient(x, t, care, case.margin)
    np.testing.assert_array_equal(net.grad, analytic)


@pytest.mark.parametrize("case", [c for c in GRAPH_CASES if any(len(k) > 2 for k in c.connections)],
                         ids=_ids([c for c in GRAPH_CASES if any(len(k) > 2 for k in c.connections)]))
def test_frozen_connection_has_no_gradient_slot(case: Case):
    scenario, net, x, t, care = build(case)
    frozen = [link for link, conn in zip(net.links, scenario.connections) if not conn.trainable]
    assert frozen
    n_frozen = sum(link.w.size for link in frozen)
    assert net.n_trainable == net.theta.size - n_frozen
    assert net.grad.shape == (net.n_trainable,)
    trainable_part = net.theta[: net.n_trainable]
    for link in net.links:
        if link.trainable:
            assert link.grad is not None
            assert np.shares_memory(link.w, trainable_part)
            assert np.shares_memory(link.grad, net.grad)
        else:
            assert link.grad is None
            assert not np.shares_memory(link.w, trainable_part)
    # A frozen weight still matters to E (so freezing is not trivially right) ...
    net.theta[...] = random_theta(net, 5)
    link = frozen[0]
    e0 = loss(net, x, t, care, case.margin)
    link.w[0, 0] += 0.1
    assert loss(net, x, t, care, case.margin) != e0
    link.w[0, 0] -= 0.1
    # ... but a pass leaves it where it was.
    before = link.w.copy()
    net.gradient(x, t, care, case.margin)
    np.testing.assert_array_equal(link.w, before)


@pytest.mark.parametrize("case", [c for c in GRAPH_CASES if "no-bias" in c.id], ids=_ids(
    [c for c in GRAPH_CASES if "no-bias" in c.id]))
def test_layer_without_bias_has_no_bias_parameters(case: Case):
    scenario, net, x, t, care = build(case)
    unbiased = [layer.name for layer in scenario.layers if layer.activation is not None and not layer.bias]
    assert unbiased
    for name in unbiased:
        assert net.layer(name).b is None and net.layer(name).b_grad is None
    n_weights = sum(link.w.size for link in net.links)
    n_bias = sum(u.size for u in net.computed if u.b is not None)
    assert net.theta.size == n_weights + n_bias


# delta = dE/dnet, checked per pattern through the bias (net_j moves 1:1 with b_j).
DELTA_CASES = [c for c in ALL_CASES if c.id in (
    "hidden-sigmoid-output-sigmoid", "hidden-tanh-output-softmax", "hidden-softmax-output-linear",
    "hidden-relu-output-tanh", "ce-softmax-targets-not-summing-to-1", "margin-and-dont-care",
    "skip-input-to-output", "two-output-groups-ce", "deep-chain", "deep-chain-with-skips",
    "frozen-first-connection",
)]


def test_case_lists_are_as_intended():
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES)
    assert len(DELTA_CASES) == 11
    assert {c.id for c in GRAPH_CASES if "no-bias" in c.id} and any(
        len(k) > 2 for c in GRAPH_CASES for k in c.connections)


@pytest.mark.parametrize("case", DELTA_CASES, ids=_ids(DELTA_CASES))
def test_delta_is_dE_dnet(case: Case):
    scenario, net, x, t, care = build(case)
    p = place(case, net, x, t, care)
    checked = 0
    for unit in net.computed:
        if unit.b is None:
            continue
        delta = p.delta[unit.index]
        assert delta.shape == (len(x), unit.size)
        # Summed over patterns, delta is dE/db (and the engine's bias gradient).
        np.testing.assert_array_equal(unit.b_grad[0], delta.sum(axis=0))
        for k in range(len(x)):
            xk, tk = x[k : k + 1], t[k : k + 1]
            ck = None if care is None else care[k : k + 1]
            biases = [bias_index(net, unit.name, j) for j in range(unit.size)]
            assert [unit.b[0, j] for j in range(unit.size)] == [net.theta[i] for i in biases]
            numeric, corner = numeric_gradient(net, xk, tk, ck, case.margin, biases)
            assert not corner.any(), f"{case.id}: a step crossed a kink on pattern {k}"
            for j in range(unit.size):
                assert abs(delta[k, j] - numeric[j]) <= RTOL * max(abs(numeric[j]), abs(delta[k, j])) + ATOL, (
                    f"{case.id}: delta of {unit.name}[{j}] on pattern {k}: {delta[k, j]!r} vs {numeric[j]!r}")
                checked += 1
        if not unit.is_output:
            assert np.any(delta != 0)
    assert checked > 0
    assert any(not u.is_output and u.b is not None for u in net.computed)


def test_softmax_cross_entropy_delta_with_targets_not_summing_to_1():
    """The SPEC's softmax cross-entropy E = -sum t log a: delta = a sum(t) - t, not a - t."""
    text = """
        format = 1
        [scenario]
        title = "t"
        [[layers]]
        name = "in"
        size = 1
        [[layers]]
        name = "out"
        size = 3
        activation = "softmax"
        bias = [0.0, 0.0, 0.0]
        [[connections]]
        from = "in"
        to = "out"
        weights = [[0.0], [0.0], [0.0]]
        [data]
        inputs = [[1.0]]
        targets = [[1.0, 1.0, 0.0]]
        [training]
        loss = "cross_entropy"
    """
    net = Network(parse_scenario(textwrap.dedent(text)))
    x = np.array([[1.0]])
    t = np.array([[1.0, 1.0, 0.0]])
    p = net.gradient(x, t)
    # All nets 0: a = 1/3 each. E = -(log 1/3 + log 1/3) = 2 log 3.
    assert float(p.E) == pytest.approx(2 * np.log(3.0), rel=1e-14)
    # delta = a * sum(t) - t = (2/3 - 1, 2/3 - 1, 2/3 - 0)
    np.testing.assert_allclose(p.delta[net.layer("out").index], [[-1 / 3, -1 / 3, 2 / 3]], rtol=1e-14)


# --- the batched runs mode ----------------------------------------------------------

RUNS_CASES = ALL_CASES


@pytest.mark.parametrize("case", RUNS_CASES, ids=_ids(RUNS_CASES))
def test_runs_axis_matches_single_runs(case: Case):
    scenario, single, x, t, care = build(case)
    _, batched, _, _, _ = build(case, runs=(3,))
    assert batched.theta.shape == (3, single.theta.size)
    assert batched.grad.shape == (3, single.n_trainable)
    thetas = random_theta(single, 500 + case.seed, size=(3, single.theta.size))
    batched.theta[...] = thetas
    pb = batched.gradient(x, t, care, case.margin)
    E_b = np.asarray(pb.E)
    assert E_b.shape == (3,)
    Es = []
    for r in range(3):
        single.theta[...] = thetas[r]
        ps = single.gradient(x, t, care, case.margin)
        Es.append(float(ps.E))
        assert float(E_b[r]) == pytest.approx(float(ps.E), rel=1e-12, abs=1e-13)
        np.testing.assert_allclose(batched.grad[r], single.grad, rtol=1e-10, atol=1e-12)
        for unit in single.computed:
            np.testing.assert_allclose(pb.delta[unit.index][r], ps.delta[unit.index], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(pb.a[unit.index][r], ps.a[unit.index], rtol=1e-12, atol=1e-14)
    # The three runs really are different runs.
    assert len(set(Es)) == 3


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.id in (
    "hidden-tanh-output-softmax", "ce-softmax-targets-not-summing-to-1", "nan-ce-sigmoid",
    "margin-sse-sigmoid", "deep-chain-with-skips", "frozen-skip-and-no-bias", "two-output-groups-ce")],
    ids=lambda c: c.id)
def test_two_run_axes_match_single_runs(case: Case):
    scenario, single, x, t, care = build(case)
    _, batched, _, _, _ = build(case, runs=(2, 3))
    thetas = random_theta(single, 900 + case.seed, size=(2, 3, single.theta.size))
    batched.theta[...] = thetas
    pb = batched.gradient(x, t, care, case.margin)
    assert np.asarray(pb.E).shape == (2, 3)
    for i in range(2):
        for j in range(3):
            single.theta[...] = thetas[i, j]
            ps = single.gradient(x, t, care, case.margin)
            assert float(pb.E[i, j]) == pytest.approx(float(ps.E), rel=1e-12, abs=1e-13)
            np.testing.assert_allclose(batched.grad[i, j], single.grad, rtol=1e-10, atol=1e-12)


def test_batched_gradient_matches_finite_differences_per_run():
    """Finite differences straight through the runs axis: perturbing run r moves only E[r]."""
    case = next(c for c in ALL_CASES if c.id == "deep-chain-with-skips")
    scenario, net, x, t, care = build(case, runs=(3,))
    net.theta[...] = random_theta(net, 4, size=net.theta.shape)
    net.gradient(x, t, care, case.margin)
    analytic = net.grad.copy()
    numeric = np.zeros_like(analytic)
    for k in range(net.n_trainable):
        old = net.theta[:, k].copy()
        net.theta[:, k] = old + STEP
        p = net.forward(x)
        net.output_error(p, t, care, case.margin)
        e_plus = np.asarray(p.E).copy()
        net.theta[:, k] = old - STEP
        p = net.forward(x)
        net.output_error(p, t, care, case.margin)
        e_minus = np.asarray(p.E).copy()
        net.theta[:, k] = old
        numeric[:, k] = (e_plus - e_minus) / (2 * STEP)
    for r in range(3):
        assert_close_gradient(analytic[r], numeric[r], f"run {r}")
