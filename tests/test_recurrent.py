"""Networks unrolled in time ([time], and `delay`, `at`, `start`): a recurrent network
run for T steps is the layered network of its steps, whose copies of one connection
share one matrix and copies of one layer one bias (Rumelhart, Hinton & Williams 1986,
Fig. 5), so backprop sums each weight's gradient over the steps.

Checked: backprop's gradient against central differences on random recurrent networks
(every activation, both losses, T from 2 to 4, delay-1 self-loops and loops between two
layers, delay-0 chains within a step, starting states from the data, constant and
zero); the loss and gradient of a recurrent network against the recurrence written out
in numpy (forward through time, and backprop through time by hand); the unrolled
network against the same network written out by hand, layer by layer, as an ordinary
scenario with `share` keys (bit for bit); the names, shares and columns of the
unrolling; a trained run saved and loaded back to the same theta; every loader error,
with its line, and the table of docs/errors.md; and the rotate-3bit scenario, whose
story's numbers are the engine's.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bptui.core.errors import InputError
from bptui.core.functions import ACTIVATIONS
from bptui.core.gradcheck import check_gradients
from bptui.core.network import Network
from bptui.core.save import save_scenario, scenario_toml
from bptui.core.scenario import MAX_STEPS, load_scenario, parse_scenario
from bptui.core.stepper import Stepper
from bptui.core.sweep import Sweep
from bptui.core.training import CONVERGED, Run

from conftest import AND_TOML, slopes_at_smooth_weights

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-6
ATOL = 1e-9


def _num(x: float) -> str:
    return repr(float(x))


def _matrix(a) -> str:
    return "[" + ", ".join("[" + ", ".join(_num(v) for v in row) + "]" for row in a) + "]"


# --- random recurrent networks -------------------------------------------------------------
#
# A shape: layers (name, size, kind) and connections (from, to, delay). The kind says what
# the test writes on the layer: "in" (an input, given at the steps of `at`: "all" or
# "first"), "hidden", "out" (targets at the steps of `at`: "all", "last" or "odd"),
# "state" (sends only into the next step, targets at the last one). `start` goes on the
# layer named by the shape's third entry, as "data", a constant, or nothing (zeros).

SHAPES = {
    # x -> h -> y at each step, h -> h into the next: the simple recurrent network.
    "loop": ([("x", 2, "in", "all"), ("h", 3, "hidden", None), ("y", 2, "out", "odd")],
             [("x", "h", 0), ("h", "h", 1), ("h", "y", 0)], "h"),
    # A delay-0 chain x -> a -> b -> y within each step, and b -> a into the next.
    "pair": ([("x", 2, "in", "all"), ("a", 2, "hidden", None), ("b", 3, "hidden", None), ("y", 2, "out", "all")],
             [("x", "a", 0), ("a", "b", 0), ("b", "a", 1), ("b", "y", 0)], "b"),
    # The PDP REC net: one layer that feeds itself, its own output at the last step.
    "rec": ([("x", 2, "in", "first"), ("state", 3, "state", None)],
            [("x", "state", 0), ("state", "state", 1)], "state"),
    # Two delay-1 links in a row, an input at step 1 only and a target at the last
    # step: copies that lead to no target are left out.
    "two": ([("x", 2, "in", "first"), ("h1", 2, "hidden", None), ("h2", 3, "hidden", None), ("y", 2, "out", "last")],
            [("x", "h1", 0), ("h1", "h1", 1), ("h1", "h2", 1), ("h2", "y", 0)], "h1"),
}
STARTS = ("data", "zeros", "constant")


def _at(which: str, steps: int) -> list[int]:
    return {"all": list(range(1, steps + 1)), "first": [1], "last": [steps],
            "odd": list(range(1, steps + 1, 2)) + ([steps] if steps % 2 == 0 else [])}[which]


def recurrent_text(shape: str, steps: int = 3, hidden: str = "tanh", output: str = "sigmoid", loss: str = "sse",
                   start: str = "data", patterns: int = 4, seed: int = 0, training: str = "") -> str:
    """The scenario text; the data's widths are worked out here from the documented layout."""
    layers, conns, starter = SHAPES[shape]
    rng = np.random.default_rng(900 + seed)
    n_in = n_out = 0
    out = ["format = 1", "", "[scenario]", f'title = "{shape}"', "", "[time]", f"steps = {steps}", ""]
    for name, size, kind, at in layers:
        out += ["[[layers]]", f'name = "{name}"', f"size = {size}"]
        if kind != "in":
            out.append(f'activation = "{hidden if kind == "hidden" else output}"')
        if kind in ("in", "out"):
            out.append(f"at = {_at(at, steps)}")
            if kind == "in":
                n_in += size * len(_at(at, steps))
            else:
                n_out += size * len(_at(at, steps))
        if kind == "state":
            out.append(f"at = [{steps}]")
            n_out += size
        if name == starter and start == "data":
            out.append('start = "data"')
            n_in += size
        elif name == starter and start == "constant":
            out.append(f"start = [{', '.join(_num(v) for v in rng.uniform(-1, 1, size))}]")
        out.append("")
    for sender, receiver, delay in conns:
        out += ["[[connections]]", f'from = "{sender}"', f'to = "{receiver}"', f"delay = {delay}", ""]
    x = rng.uniform(-1.0, 1.0, size=(patterns, n_in))
    t = rng.uniform(0.0, 1.0, size=(patterns, n_out))
    out += ["[data]", f"inputs = {_matrix(x)}", f"targets = {_matrix(t)}", "",
            "[training]", f'loss = "{loss}"', "weight_init = 1.0", training]
    return "\n".join(out) + "\n"


def recurrent(shape: str, **kw):
    return parse_scenario(recurrent_text(shape, **kw), f"{shape}.toml")


OUTPUTS = [(f, "sse") for f in ACTIVATIONS] + [("sigmoid", "cross_entropy"), ("softmax", "cross_entropy")]
FD_CASES = []
for shape in SHAPES:
    for hidden in (ACTIVATIONS if shape != "rec" else ("tanh",)):  # rec has no hidden layer of its own
        for output, loss in OUTPUTS:
            k = len(FD_CASES)
            steps, start = 2 + k % 3, STARTS[(k // 3) % 3]
            FD_CASES.append(pytest.param(shape, hidden, output, loss, steps, start,
                                         id=f"{shape}-{hidden}-{output}-{loss}-T{steps}-{start}"))


# --- gradients against finite differences ---------------------------------------------------

@pytest.mark.parametrize("shape, hidden, output, loss, steps, start", FD_CASES)
def test_gradients_through_time_are_the_slopes_of_E(shape, hidden, output, loss, steps, start):
    scenario = recurrent(shape, steps=steps, hidden=hidden, output=output, loss=loss, start=start,
                         seed=len(hidden) + 7 * len(output))
    assert scenario.time is not None and scenario.time.steps == steps
    net = Network(scenario)
    x, t = scenario.data.inputs, scenario.data.targets
    # A matrix used at several steps is one span; over 2 steps, "two" uses each once.
    shared = [link for link in net.links if link.share is not None]
    assert all(len(net.uses(link)) >= 2 for link in shared)
    assert shared or (shape, steps) == ("two", 2)
    backprop, numeric = slopes_at_smooth_weights(net, scenario, x, t)
    judged = ~numeric.corner
    assert judged.sum() >= net.n_trainable // 2
    np.testing.assert_allclose(backprop[judged], numeric.dE_dw[judged], rtol=RTOL, atol=ATOL)


# --- the recurrence, by hand ------------------------------------------------------------------

def test_the_unrolled_network_computes_the_recurrence_and_its_backprop_through_time():
    """h(t) = tanh(W_hx x(t) + W_hh h(t-1) + b_h), h(0) the constant start;
    y(t) = sigmoid(W_yh h(t) + b_y) with targets at some steps; E = 1/2 sum (y - t)^2.
    Backprop through time: dE/dW is the sum over the steps of delta(t) times what was
    sent, delta_h(t) = (1 - h(t)^2) (W_yh^T delta_y(t) + W_hh^T delta_h(t+1))."""
    steps = 4
    s = recurrent("loop", steps=steps, start="constant", patterns=5, seed=3)
    run = Run(s, seed=11)
    net = run.network
    views = net.views(net.theta)
    by = {(link.sender.name, link.receiver.name): link.index for link in net.links}
    W_hx, W_hh, W_yh = (views.weights[by[pair]] for pair in (("x@1", "h@1"), ("h@0", "h@1"), ("h@1", "y@1")))
    b_h, b_y = net.layer("h@1").b[0], net.layer("y@1").b[0]
    h0 = np.array(s.time.start[1])
    at = _at("odd", steps)  # [1, 3, 4]
    x = s.data.inputs[:, 3:].reshape(len(s.data.inputs), steps, 2)  # after the 3 columns of h@0
    target = {t: s.data.targets[:, 2 * k:2 * k + 2] for k, t in enumerate(at)}

    h = {0: np.broadcast_to(h0, (len(x), 3))}
    y = {}
    for t in range(1, steps + 1):
        h[t] = np.tanh(x[:, t - 1] @ W_hx.T + h[t - 1] @ W_hh.T + b_h)
        y[t] = 1 / (1 + np.exp(-(h[t] @ W_yh.T + b_y)))
    E = sum(0.5 * ((y[t] - target[t]) ** 2).sum() for t in at)
    grads = {name: 0.0 for name in ("hx", "hh", "yh", "bh", "by")}
    dh_next = np.zeros((len(x), 3))  # W_hh^T delta_h(t+1), nothing after the last step
    for t in range(steps, 0, -1):
        dE_dh = dh_next.copy()
        if t in at:
            d_y = (y[t] - target[t]) * y[t] * (1 - y[t])
            grads["yh"] = grads["yh"] + d_y.T @ h[t]
            grads["by"] = grads["by"] + d_y.sum(axis=0)
            dE_dh += d_y @ W_yh
        d_h = dE_dh * (1 - h[t] ** 2)
        grads["hx"] = grads["hx"] + d_h.T @ x[:, t - 1]
        grads["hh"] = grads["hh"] + d_h.T @ h[t - 1]
        grads["bh"] = grads["bh"] + d_h.sum(axis=0)
        dh_next = d_h @ W_hh

    p = run.inspect()
    assert p.E == pytest.approx(E, rel=1e-13)
    g = net.views(net.grad)
    for name, pair in (("hx", ("x@1", "h@1")), ("hh", ("h@0", "h@1")), ("yh", ("h@1", "y@1"))):
        np.testing.assert_allclose(g.weights[by[pair]], grads[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.biases[net.layer("h@1").index][0], grads["bh"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.biases[net.layer("y@1").index][0], grads["by"], rtol=1e-12, atol=1e-15)


# --- the same network, written out by hand ----------------------------------------------------
#
# Each recurrent scenario beside the layered scenario a person would write for it: one
# layer per layer and step, one connection per copy, in the order the loader unrolls
# them (steps in order, the declared order within a step; connections as declared, each
# copy in step order), the copies tied with `share` and `bias_share`.

HAND = {
    "rec": (textwrap.dedent("""\
        [time]
        steps = 2
        [[layers]]
        name = "state"
        size = 3
        start = "data"
        at = [2]
        [[connections]]
        from = "state"
        to = "state"
        delay = 1
        """), textwrap.dedent("""\
        [[layers]]
        name = "state@0"
        size = 3
        [[layers]]
        name = "state@1"
        size = 3
        bias_share = "b"
        [[layers]]
        name = "state@2"
        size = 3
        bias_share = "b"
        [[connections]]
        from = "state@0"
        to = "state@1"
        share = "w"
        [[connections]]
        from = "state@1"
        to = "state@2"
        share = "w"
        """), (3, 3)),
    # A constant start (a column the loader fills in), targets at steps 2 and 3.
    "loop": (textwrap.dedent("""\
        [time]
        steps = 3
        [[layers]]
        name = "x"
        size = 2
        [[layers]]
        name = "h"
        size = 3
        activation = "tanh"
        start = [0.5, -1.0, 0.25]
        [[layers]]
        name = "y"
        size = 2
        at = [2, 3]
        [[connections]]
        from = "x"
        to = "h"
        [[connections]]
        from = "h"
        to = "h"
        delay = 1
        [[connections]]
        from = "h"
        to = "y"
        """), textwrap.dedent("""\
        [[layers]]
        name = "h@0"
        size = 3
        [[layers]]
        name = "x@1"
        size = 2
        [[layers]]
        name = "h@1"
        size = 3
        activation = "tanh"
        bias_share = "bh"
        [[layers]]
        name = "x@2"
        size = 2
        [[layers]]
        name = "h@2"
        size = 3
        activation = "tanh"
        bias_share = "bh"
        [[layers]]
        name = "y@2"
        size = 2
        bias_share = "by"
        [[layers]]
        name = "x@3"
        size = 2
        [[layers]]
        name = "h@3"
        size = 3
        activation = "tanh"
        bias_share = "bh"
        [[layers]]
        name = "y@3"
        size = 2
        bias_share = "by"
        [[connections]]
        from = "x@1"
        to = "h@1"
        share = "in"
        [[connections]]
        from = "x@2"
        to = "h@2"
        share = "in"
        [[connections]]
        from = "x@3"
        to = "h@3"
        share = "in"
        [[connections]]
        from = "h@0"
        to = "h@1"
        share = "rec"
        [[connections]]
        from = "h@1"
        to = "h@2"
        share = "rec"
        [[connections]]
        from = "h@2"
        to = "h@3"
        share = "rec"
        [[connections]]
        from = "h@2"
        to = "y@2"
        share = "out"
        [[connections]]
        from = "h@3"
        to = "y@3"
        share = "out"
        """), (6, 4)),
    # Two delay-1 links in a row from a zero start; what leads to no target is left out
    # (h1@3, h2@1, h2@2), so h1 -> h2, x -> h1 and h2 -> y have one copy each.
    "two": (textwrap.dedent("""\
        [time]
        steps = 3
        [[layers]]
        name = "x"
        size = 2
        at = [1]
        [[layers]]
        name = "h1"
        size = 2
        [[layers]]
        name = "h2"
        size = 3
        activation = "relu"
        [[layers]]
        name = "y"
        size = 1
        at = [3]
        [[connections]]
        from = "x"
        to = "h1"
        [[connections]]
        from = "h1"
        to = "h1"
        delay = 1
        [[connections]]
        from = "h1"
        to = "h2"
        delay = 1
        [[connections]]
        from = "h2"
        to = "y"
        """), textwrap.dedent("""\
        [[layers]]
        name = "h1@0"
        size = 2
        [[layers]]
        name = "x@1"
        size = 2
        [[layers]]
        name = "h1@1"
        size = 2
        bias_share = "b1"
        [[layers]]
        name = "h1@2"
        size = 2
        bias_share = "b1"
        [[layers]]
        name = "h2@3"
        size = 3
        activation = "relu"
        [[layers]]
        name = "y@3"
        size = 1
        [[connections]]
        from = "x@1"
        to = "h1@1"
        [[connections]]
        from = "h1@0"
        to = "h1@1"
        share = "rec"
        [[connections]]
        from = "h1@1"
        to = "h1@2"
        share = "rec"
        [[connections]]
        from = "h1@2"
        to = "h2@3"
        [[connections]]
        from = "h2@3"
        to = "y@3"
        """), (2, 1)),
    # The starting state from the data, a delay-1 link between two layers, a delay-0
    # chain within each step.
    "pair": (textwrap.dedent("""\
        [time]
        steps = 2
        [[layers]]
        name = "x"
        size = 2
        [[layers]]
        name = "a"
        size = 2
        activation = "softmax"
        [[layers]]
        name = "b"
        size = 3
        start = "data"
        [[layers]]
        name = "y"
        size = 2
        [[connections]]
        from = "x"
        to = "a"
        [[connections]]
        from = "a"
        to = "b"
        [[connections]]
        from = "b"
        to = "a"
        delay = 1
        [[connections]]
        from = "b"
        to = "y"
        """), textwrap.dedent("""\
        [[layers]]
        name = "b@0"
        size = 3
        [[layers]]
        name = "x@1"
        size = 2
        [[layers]]
        name = "a@1"
        size = 2
        activation = "softmax"
        bias_share = "ba"
        [[layers]]
        name = "b@1"
        size = 3
        bias_share = "bb"
        [[layers]]
        name = "y@1"
        size = 2
        bias_share = "by"
        [[layers]]
        name = "x@2"
        size = 2
        [[layers]]
        name = "a@2"
        size = 2
        activation = "softmax"
        bias_share = "ba"
        [[layers]]
        name = "b@2"
        size = 3
        bias_share = "bb"
        [[layers]]
        name = "y@2"
        size = 2
        bias_share = "by"
        [[connections]]
        from = "x@1"
        to = "a@1"
        share = "xa"
        [[connections]]
        from = "x@2"
        to = "a@2"
        share = "xa"
        [[connections]]
        from = "a@1"
        to = "b@1"
        share = "ab"
        [[connections]]
        from = "a@2"
        to = "b@2"
        share = "ab"
        [[connections]]
        from = "b@0"
        to = "a@1"
        share = "ba"
        [[connections]]
        from = "b@1"
        to = "a@2"
        share = "ba"
        [[connections]]
        from = "b@1"
        to = "y@1"
        share = "by"
        [[connections]]
        from = "b@2"
        to = "y@2"
        share = "by"
        """), (7, 4)),
}


def hand_pair(name: str, patterns: int = 5) -> tuple[str, str]:
    """(the recurrent text, the text written by hand), with the same random data: the
    hand-written file's inputs have the constant start's columns in front, as the
    loader fills them in."""
    recurrent_part, hand_part, (n_in, n_out) = HAND[name]
    rng = np.random.default_rng(77)
    x = rng.uniform(-1, 1, (patterns, n_in))
    t = rng.uniform(0, 1, (patterns, n_out))
    filled = np.hstack([np.tile([0.5, -1.0, 0.25], (patterns, 1)), x]) if name == "loop" else \
        np.hstack([np.zeros((patterns, 2)), x]) if name == "two" else x
    tail = "[training]\nweight_init = 1.0\nmomentum = 0.5\n"
    head = 'format = 1\n[scenario]\ntitle = "t"\n'
    return (head + recurrent_part + f"[data]\ninputs = {_matrix(x)}\ntargets = {_matrix(t)}\n" + tail,
            head + hand_part + f"[data]\ninputs = {_matrix(filled)}\ntargets = {_matrix(t)}\n" + tail)


@pytest.mark.parametrize("name", list(HAND))
def test_the_unrolled_network_is_the_one_written_out_by_hand(name):
    rec_text, hand_text = hand_pair(name)
    rec, hand = parse_scenario(rec_text, "rec.toml"), parse_scenario(hand_text, "hand.toml")
    assert hand.time is None
    assert [layer.name for layer in rec.layers] == [layer.name for layer in hand.layers]
    assert [layer.activation for layer in rec.layers] == [layer.activation for layer in hand.layers]
    assert [(c.sender, c.receiver) for c in rec.connections] == [(c.sender, c.receiver) for c in hand.connections]
    np.testing.assert_array_equal(rec.data.inputs, hand.data.inputs)
    # The same groups of shared matrices and biases, under other names.
    assert _groups([c.share for c in rec.connections]) == _groups([c.share for c in hand.connections])
    assert _groups([layer.bias_share for layer in rec.layers]) == _groups([layer.bias_share for layer in hand.layers])

    a, b = Run(rec, seed=5), Run(hand, seed=5)
    np.testing.assert_array_equal(a.network.theta, b.network.theta)  # one layout: the same draw
    pa, pb = a.inspect(), b.inspect()
    assert pa.E == pb.E
    np.testing.assert_array_equal(a.network.grad, b.network.grad)
    for k in range(len(a.network.layers)):
        for what in ("net", "a", "delta"):
            va, vb = getattr(pa, what)[k], getattr(pb, what)[k]
            assert (va is None) == (vb is None)
            if va is not None:
                np.testing.assert_array_equal(va, vb)
    a.max_epochs = b.max_epochs = 6
    a.train()
    b.train()
    np.testing.assert_array_equal(a.network.theta, b.network.theta)
    assert a.losses == b.losses


def _groups(names) -> list[list[int]]:
    """The members of each share group (by place), whatever the groups are called."""
    groups: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        if name is not None:
            groups.setdefault(name, []).append(k)
    return sorted(groups.values())


def test_a_constant_start_is_a_start_from_data_of_those_values():
    constant = recurrent("loop", steps=3, start="constant", seed=4)
    values = constant.time.start[1]
    text = recurrent_text("loop", steps=3, start="data", seed=4)
    rows = constant.data.inputs  # the loader's columns: the start first
    text = re.sub(r"^inputs = .*$", f"inputs = {_matrix(rows)}", text, flags=re.MULTILINE)
    text = re.sub(r"^targets = .*$", f"targets = {_matrix(constant.data.targets)}", text, flags=re.MULTILINE)
    data = parse_scenario(text, "data.toml")
    np.testing.assert_array_equal(data.data.inputs, constant.data.inputs)
    np.testing.assert_array_equal(constant.data.inputs[:, :3], np.tile(values, (4, 1)))
    a, b = Run(constant, seed=2), Run(data, seed=2)
    assert a.inspect().E == b.inspect().E
    np.testing.assert_array_equal(a.network.grad, b.network.grad)


# --- the unrolling: names, shares, columns ----------------------------------------------------

def test_the_unrolled_names_steps_and_shares():
    s = parse_scenario(hand_pair("loop")[0], "loop.toml")
    time = s.time
    assert [layer.name for layer in s.layers] == ["h@0", "x@1", "h@1", "x@2", "h@2", "y@2", "x@3", "h@3", "y@3"]
    assert s.layer("h@2").units == ("h[0]@2", "h[1]@2", "h[2]@2")
    assert [(time.base(layer.name), time.step(layer.name)) for layer in s.layers] == list(time.copies)
    assert time.copies[0] == ("h", 0) and time.copies[-1] == ("y", 3)
    assert [layer.name for layer in s.input_layers] == ["h@0", "x@1", "x@2", "x@3"]
    assert [layer.name for layer in s.output_layers] == ["y@2", "y@3"]
    assert s.layer("h@0").activation is None and not s.layer("h@0").bias
    assert [c.share for c in s.connections] == ["x -> h"] * 3 + ["h -> h"] * 3 + ["h -> y"] * 2
    assert [layer.bias_share for layer in s.layers] == [None, None, "h", None, "h", "y", None, "h", "y"]
    assert time.links == ((0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 2), (2, 3))
    assert time.delays == (0, 1, 0) and time.at == (None, None, (2, 3))
    assert time.start == (None, (0.5, -1.0, 0.25), None)
    assert [layer.name for layer in time.layers] == ["x", "h", "y"]
    assert time.given_columns == tuple(range(3, 9))
    # One matrix per declared connection, one bias per declared layer: theta is as small
    # as the recurrent network's.
    net = Network(s)
    assert net.size == 3 * 2 + 3 * 3 + 2 * 3 + 3 + 2


def test_a_share_on_a_recurrent_connection_joins_its_copies_to_the_group():
    text = textwrap.dedent("""\
        format = 1
        [scenario]
        title = "two loops, one matrix"
        [time]
        steps = 3
        [[layers]]
        name = "p"
        size = 2
        start = "data"
        at = [3]
        [[layers]]
        name = "q"
        size = 2
        start = [1, 0]
        at = [3]
        [[connections]]
        from = "p"
        to = "p"
        delay = 1
        share = "loop"
        [[connections]]
        from = "q"
        to = "q"
        delay = 1
        share = "loop"
        weights = [[0.5, 0.25], [-0.5, 1]]
        [data]
        inputs = [[1, 0], [0, 1]]
        targets = [[0, 1, 1, 0], [1, 0, 0, 1]]
        """)
    s = parse_scenario(text, "loops.toml")
    assert [c.share for c in s.connections] == ["loop"] * 6
    assert [c.share for c in s.time.connections] == ["loop", "loop"]  # as declared
    run = Run(s)
    net = run.network
    assert all(np.shares_memory(link.w, net.links[0].w) for link in net.links)
    assert np.array_equal(net.links[0].w, [[0.5, 0.25], [-0.5, 1]])
    assert net.size == 4 + 2 + 2
    assert len(net.uses(net.links[0])) == 6
    # p@0 from the data, q@0 the constant (1, 0), filled in after it
    np.testing.assert_array_equal(s.data.inputs, [[1, 0, 1, 0], [0, 1, 1, 0]])
    assert check_gradients(run).ok


def test_the_stepper_sends_the_blame_back_one_step_at_a_time():
    run = Run(load_scenario(ROOT / "scenarios" / "rotate-3bit.toml"))
    net = run.network
    stepper = Stepper(run)
    grad = net.links[0].grad  # one matrix: the gradient of both copies
    i0, i1, i2 = (net.layer(f"state@{t}").index for t in range(3))
    assert [stepper.step() for _ in range(3)] == ["forward", "loss", "backward: state@2"]
    p = stepper.pass_
    assert p.delta[i1] is None  # the blame has not reached step 1 yet
    from_step_2 = p.delta[i2].T @ p.a[i1]
    np.testing.assert_allclose(grad, from_step_2, rtol=1e-14, atol=1e-16)
    assert stepper.step() == "backward: state@1"
    np.testing.assert_allclose(grad, from_step_2 + p.delta[i1].T @ p.a[i0], rtol=1e-14, atol=1e-16)
    # delta at step 1: back through the same weights, times the slope of the sigmoid
    a1 = p.a[i1]
    np.testing.assert_allclose(p.delta[i1], (p.delta[i2] @ net.links[0].w) * a1 * (1 - a1), rtol=1e-14, atol=1e-16)
    assert stepper.step() == "update"


# --- saving -----------------------------------------------------------------------------------

SAVED = {
    "rec": lambda: parse_scenario(hand_pair("rec")[0], "rec.toml"),
    "loop": lambda: parse_scenario(hand_pair("loop")[0], "loop.toml"),
    "two": lambda: parse_scenario(hand_pair("two")[0], "two.toml"),
    "pair": lambda: parse_scenario(hand_pair("pair")[0], "pair.toml"),
    "rotate-3bit": lambda: load_scenario(ROOT / "scenarios" / "rotate-3bit.toml"),
}


@pytest.mark.parametrize("name", list(SAVED))
def test_a_saved_recurrent_run_loads_back_to_the_same_theta(name, tmp_path):
    scenario = SAVED[name]()
    run = Run(scenario, max_epochs=9)
    run.train()
    path = tmp_path / "saved.toml"
    save_scenario(run, path)
    text = path.read_text(encoding="utf-8")
    loaded = load_scenario(path)
    again = Run(loaded)
    np.testing.assert_array_equal(again.network.theta, run.network.theta)
    np.testing.assert_array_equal(loaded.data.inputs, scenario.data.inputs)
    assert loaded.time.copies == scenario.time.copies and loaded.time.links == scenario.time.links
    assert (loaded.time.delays, loaded.time.at, loaded.time.start) == \
        (scenario.time.delays, scenario.time.at, scenario.time.start)
    # The recurrent form: one matrix per declared connection, one bias per declared layer.
    assert "@" not in text[text.index("[time]"):]  # (the story may speak of state@1)
    assert text.count("weights = ") == len(scenario.time.connections)
    assert text.count("[[layers]]") == len(scenario.time.layers)
    assert f"[time]\nsteps = {scenario.time.steps}\n" in text
    assert scenario_toml(again, path) == text  # and saved again, the same file


def test_a_saved_recurrent_run_keeps_its_reference_and_its_csv(tmp_path):
    (tmp_path / "seq.csv").write_text("pattern,x1,x2,x1b,x2b,y\na,0,1,1,0,1\nb,1,1,0,0,\n", encoding="utf-8")
    text = textwrap.dedent("""\
        format = 1
        [scenario]
        title = "csv"
        [time]
        steps = 2
        [[layers]]
        name = "x"
        size = 2
        [[layers]]
        name = "h"
        size = 2
        [[layers]]
        name = "y"
        size = 1
        at = [2]
        [[connections]]
        from = "x"
        to = "h"
        [[connections]]
        from = "h"
        to = "h"
        delay = 1
        [[connections]]
        from = "h"
        to = "y"
        [[reference.connections]]
        from = "h"
        to = "h"
        weights = [[1, 0], [0, 1]]
        [[reference.layers]]
        name = "h"
        bias = [0, 0]
        [data]
        file = "seq.csv"
        """)
    (tmp_path / "seq.toml").write_text(text, encoding="utf-8")
    s = load_scenario(tmp_path / "seq.toml")
    assert s.data.names == ("a", "b") and np.isnan(s.data.targets[1, 0])
    np.testing.assert_array_equal(s.data.inputs, [[0, 0, 0, 1, 1, 0], [0, 0, 1, 1, 0, 0]])  # h@0 zeros first
    # The reference is named through the first copies: it is every copy's.
    assert [name for name, _ in s.reference.biases] == ["h@1"]
    assert [(a, b) for a, b, _ in s.reference.weights] == [("h@0", "h@1")]
    run = Run(s, max_epochs=3)
    run.train()
    out = tmp_path / "out" / "saved.toml"
    out.parent.mkdir()
    save_scenario(run, out)
    saved = out.read_text(encoding="utf-8")
    assert 'file = "../seq.csv"' in saved and '[[reference.connections]]\nfrom = "h"\nto = "h"' in saved
    again = load_scenario(out)
    np.testing.assert_array_equal(Run(again).network.theta, run.network.theta)
    assert again.reference.weights[0][:2] == ("h@0", "h@1")


# --- the loader -------------------------------------------------------------------------------

BASE = """\
format = 1

[scenario]
title = "Recurrent"

{time}
[[layers]]
name = "x"
size = 2
{x}
[[layers]]
name = "h"
size = 2
{h}
[[layers]]
name = "y"
size = 1
{y}
[[connections]]
from = "x"
to = "h"
{c1}
[[connections]]
from = "h"
to = "h"
{c2}
[[connections]]
from = "h"
to = "y"
{c3}{extra}
[data]
inputs = {inputs}
targets = {targets}
"""


def base(time="[time]\nsteps = 3\n", x="", h="", y="", c1="", c2="delay = 1", c3="", extra="", inputs=6, targets=3,
         training="") -> str:
    rows = lambda n: "[" + ", ".join("[" + ", ".join(["0.5"] * n) + "]" for _ in range(2)) + "]"  # noqa: E731
    return BASE.format(time=time, x=x, h=h, y=y, c1=c1, c2=c2, c3=c3, extra=extra, inputs=rows(inputs),
                       targets=rows(targets)) + training


def problems(text: str, base_dir: Path | None = None) -> list[tuple[int | None, str]]:
    with pytest.raises(InputError) as raised:
        parse_scenario(text, "rec.toml", base=base_dir)
    return [(p.line, f"{p.where}: {p.message}" if p.where else p.message) for p in raised.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text[:at].count("\n") + 1


NOT_RECURRENT = ("is for a recurrent network only: add a [time] table with its number of steps (steps = 3), or "
                 "remove the key")
# With h -> y of delay 1 too, h sends only into the next step.
CARRIED = dict(c3="delay = 1")
CHAIN = "".join(f'\n[[layers]]\nname = "c{k}"\nsize = 1\n' for k in range(7)) + "".join(
    f'\n[[connections]]\nfrom = "{a}"\nto = "{b}"\n' for a, b in
    [("x", "c0")] + [(f"c{k}", f"c{k + 1}") for k in range(6)] + [("c6", "h")])

LOADER_ERRORS = {
    # name: (the changes to base, or a whole text; the problem; the needle whose line it names)
    "delay-without-time": (AND_TOML.replace('to = "output"\n', 'to = "output"\ndelay = 1\n'),
                           f"connections[1].delay: 'delay' {NOT_RECURRENT}", "delay = 1"),
    "at-without-time": (AND_TOML.replace('units = ["y"]\n', 'units = ["y"]\nat = [1]\n'),
                        f"layers[2].at: 'at' {NOT_RECURRENT}", "at = [1]"),
    "start-without-time": (AND_TOML.replace('units = ["x1", "x2"]\n', 'units = ["x1", "x2"]\nstart = "data"\n'),
                           f"layers[1].start: 'start' {NOT_RECURRENT}", 'start = "data"'),
    "time-not-a-table": (base(time="").replace("format = 1\n", "format = 1\ntime = 3\n"),
                         "time: must be a table, not a whole number", "time = 3"),
    "steps-missing": (dict(time="[time]\n"), "time: missing required key 'steps'", "[time]"),
    "steps-misspelled": (dict(time="[time]\nsteps = 3\nstep = 2\n"),
                         "time.step: unknown key 'step' (did you mean 'steps'?)", "step = 2"),
    "steps-one": (dict(time="[time]\nsteps = 1\n"), f"time.steps: 1 is out of range: it must be from 2 to {MAX_STEPS}",
                  "steps = 1"),
    "steps-too-many": (dict(time="[time]\nsteps = 101\n"),
                       f"time.steps: 101 is out of range: it must be from 2 to {MAX_STEPS}", "steps = 101"),
    "steps-not-whole": (dict(time='[time]\nsteps = "3"\n'), "time.steps: must be a whole number, not a string",
                        "steps = "),
    "delay-two": (dict(c2="delay = 2"), "connections[2].delay: 2 is out of range: it must be from 0 to 1",
                  "delay = 2"),
    "delay-true": (dict(c2="delay = true"), "connections[2].delay: must be a whole number, not true/false",
                   "delay = true"),
    "self-within-a-step": (dict(c2="delay = 0"), "connections[2]: layer 'h' cannot connect to itself within a "
                           "step: give the connection delay = 1 to feed its state at each step into the next",
                           ("[[connections]]", 2)),
    "cycle-within-a-step": (dict(extra='\n[[connections]]\nfrom = "y"\nto = "h"\n'),
                            "connections: the connections of delay 0 form a cycle (h -> y -> h); within a step the "
                            "signal must flow one way: give one of them delay = 1", ("[[connections]]", 3)),
    "at-not-a-list": (dict(x='at = "all"'), "layers[1].at: must be a list of steps (whole numbers from 1 to 3), "
                      "not a string", 'at = "all"'),
    "at-empty": (dict(y="at = []"), "layers[3].at: is empty: the layer must be there at one step at least (the "
                 "steps are 1 to 3)", "at = []"),
    "at-out-of-range": (dict(y="at = [2, 4]"), "layers[3].at: step 4 is out of range: the steps are 1 to 3",
                        "at = [2, 4]"),
    "at-twice": (dict(y="at = [2, 2]"), "layers[3].at: step 2 is listed twice", "at = [2, 2]"),
    "at-not-whole": (dict(y="at = [1.5]"), "layers[3].at: the steps must be whole numbers, not 1.5", "at = [1.5]"),
    "at-on-hidden": (dict(h="at = [1]"), "layers[2].at: 'h' is a hidden layer (it sends to 'y' within a step), so "
                     "it is there at every step: only input and output layers have 'at'", "at = [1]"),
    "at-carried-not-last": (dict(CARRIED, h="at = [2]", targets=2),
                            "layers[2].at: 'h' sends only into the next step, so it can have targets at the last "
                            "step only: write at = [3], or feed an output layer from it with delay 0", "at = [2]"),
    "start-without-state": (dict(x='start = "data"'), "layers[1].start: 'x' sends no connection with delay = 1, "
                            "so it has no starting state", 'start = "data"'),
    "start-wrong-length": (dict(h="start = [1]"), "layers[2].start: has 1 value, but layer 'h' (2 units) needs 2",
                           "start = [1]"),
    "start-word": (dict(h='start = "zeros"'), "layers[2].start: must be \"data\" (each pattern gives it) or a list "
                   "of 2 numbers, one per unit, not 'zeros'", 'start = "zeros"'),
    "start-nan": (dict(h="start = [nan, 0]"), "layers[2].start: value 1 must be finite, not nan", "start = [nan"),
    "too-high-without-targets": (dict(CARRIED, h='too_high = "too much"'),
                                 "layers[2].too_high: 'h' has no targets (it sends only into the next step; at = [3] "
                                 "gives it targets at the last step), so it has no too_high", "too_high"),
    "no-target": ("""\
format = 1
[scenario]
title = "REC without its at"
[time]
steps = 2
[[layers]]
name = "state"
size = 3
start = "data"
[[connections]]
from = "state"
to = "state"
delay = 1
[data]
inputs = [[0, 0, 1]]
targets = [[0, 1, 0]]
""", "layers: no layer has a target at any step: a layer that sends nothing has targets at every step (or at the "
         "steps of its 'at'), and a layer that sends only into the next step at the last one, with at = [2]",
                  "[[layers]]"),
    "nothing-coming-in": ("""\
format = 1
[scenario]
title = "a cue at step 1 only"
[time]
steps = 2
[[layers]]
name = "cue"
size = 1
at = [1]
[[layers]]
name = "y"
size = 1
[[connections]]
from = "cue"
to = "y"
[data]
inputs = [[1]]
targets = [[1, 0]]
""", "layers[2]: layer 'y' has nothing coming in at step 2: every layer that sends to it is absent at the step it "
         "would send from; leave step 2 out of its 'at'", ("[[layers]]", 2)),
    "hidden-nothing-coming-in": ("""\
format = 1
[scenario]
title = "a hidden layer with nothing at step 2"
[time]
steps = 2
[[layers]]
name = "x"
size = 1
at = [1]
[[layers]]
name = "h"
size = 1
[[layers]]
name = "y"
size = 1
[[connections]]
from = "x"
to = "h"
[[connections]]
from = "h"
to = "y"
[data]
inputs = [[1]]
targets = [[1, 0]]
""",
                                 "layers[2]: layer 'h' has nothing coming in at step 2: every layer that sends to it "
                                 "is absent at the step it would send from; a layer that others send to is computed "
                                 "at every step, so one of them must be there at step 2", ("[[layers]]", 2)),
    "input-leads-nowhere": (dict(y="at = [1]", targets=1),
                            "layers[1]: 'x' at steps 2, 3 leads to no target: nothing it sends from there reaches a "
                            "layer with a target; give it at = [1]", ("[[layers]]", 1)),
    "start-leads-nowhere": ("""\
format = 1
[scenario]
title = "a start nobody reads"
[time]
steps = 2
[[layers]]
name = "z"
size = 1
at = [1]
start = "data"
[[layers]]
name = "y"
size = 1
at = [2]
[[connections]]
from = "z"
to = "y"
delay = 1
[data]
inputs = [[1, 0]]
targets = [[1]]
""", "layers[1].start: the starting state of 'z' leads to no target: nothing it sends into step 1 reaches a layer "
         "with a target, so the data would give it for nothing", "start ="),
    "connection-leads-nowhere": (dict(CARRIED, y="at = [1]", targets=1),
                                 "connections[1]: 'x' -> 'h' leads to no target at any step: no copy of it ends in "
                                 "a layer that reaches a target, so its weights would never matter",
                                 ("[[connections]]", 1)),
    "inputs-width": (dict(inputs=5), "data.inputs: row 1 has 5 values, but the inputs laid out by step (2 at each of "
                     "steps 1 to 3: 6 columns) needs 6", "inputs ="),
    "targets-width": (dict(h='start = "data"', inputs=8, targets=2),
                      "data.targets: row 1 has 2 values, but 2 patterns and the targets laid out by step (1 at each "
                      "of steps 1 to 3: 3 columns) needs 3", "targets ="),
    "start-data-width": (dict(h='start = "data"', y="at = [3]", targets=1),
                         "data.inputs: row 1 has 6 values, but the inputs laid out by step (2 for the starting "
                         "states, 2 at each of steps 1 to 3: 8 columns) needs 8", "inputs ="),
    "cross-entropy-state": (dict(CARRIED, h="at = [3]\nactivation = \"linear\"", y="", targets=5,
                                 training='[training]\nloss = "cross_entropy"\n'),
                            "layers[2].activation: cross_entropy needs sigmoid or softmax outputs; output layer 'h' "
                            "is linear", 'activation = "linear"'),
    "too-many-layers": (dict(time="[time]\nsteps = 100\n", extra=CHAIN),
                        "time.steps: unrolled over 100 steps, the network has 1,001 layers (one for each layer at "
                        "each step); the limit is 1,000", "steps = 100"),
}
# Some mistakes are more than one problem: each is listed.
COUNTS = {"connection-leads-nowhere": 3}


def _case_text(name: str) -> str:
    changes = LOADER_ERRORS[name][0]
    return changes if isinstance(changes, str) else base(**changes)


@pytest.mark.parametrize("name", list(LOADER_ERRORS))
def test_each_mistake_in_a_recurrent_network_is_one_problem_with_its_line(name):
    _, message, needle = LOADER_ERRORS[name]
    text = _case_text(name)
    found = problems(text)
    line = line_of(text, *needle) if isinstance(needle, tuple) else line_of(text, needle)
    assert (line, message) in found, found
    assert len(found) == COUNTS.get(name, 1), found


def test_the_base_loads_and_so_do_its_variants():
    s = parse_scenario(base(), "rec.toml")
    assert s.time.steps == 3 and s.data.inputs.shape == (2, 2 + 6)  # h@0 (zeros), then x at 3 steps
    # h -> y into the next step too: h's last copy is an output beside y's (declared first).
    s = parse_scenario(base(**CARRIED, h="at = [3]", targets=5), "rec.toml")
    assert [layer.name for layer in s.output_layers] == ["y@1", "y@2", "h@3", "y@3"]
    assert [(c.sender, c.receiver) for c in s.connections][-3:] == [("h@0", "y@1"), ("h@1", "y@2"), ("h@2", "y@3")]
    # A layer's name may hold an '@': its copies' names end in '@step' all the same.
    s = parse_scenario(base().replace('"h"', '"h@home"'), "rec.toml")
    assert s.layer("h@home@2").units == ("h@home[0]@2", "h@home[1]@2")
    assert (s.time.base("h@home@2"), s.time.step("h@home@2")) == ("h@home", 2)


def test_a_csv_file_of_the_wrong_width_says_how_a_row_is_laid_out(tmp_path):
    (tmp_path / "d.csv").write_text("pattern,a,b,c\np,1,2,3\n", encoding="utf-8")
    text = base(h='start = "data"').replace("inputs = [[0.5", "file = \"d.csv\"\n#inputs = [[0.5").replace(
        "targets = [[", "#targets = [[")
    found = problems(text, tmp_path)
    assert found == [(line_of(text, "file ="), f"data.file: {tmp_path / 'd.csv'}:1: the header has 4 columns; "
                      "expected 12 (a pattern column, 8 inputs by step: 2 for the starting states, 2 at each of "
                      "steps 1 to 3; 3 targets by step: 1 at each of steps 1 to 3)")]


def test_the_errors_doc_lists_the_loaders_messages():
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Networks unrolled in time"):]
    section = section[: section.index("\n## ")]
    produced = {message for name in LOADER_ERRORS for _, message in problems(_case_text(name))}
    listed = re.findall(r"^\| `([^`]*)`", section, re.MULTILINE)
    assert len(listed) >= 20 and set(listed) <= produced, set(listed) - produced
    # Every kind of problem is in the table (as itself, or as an "also" of another row),
    # whatever its numbers.
    kinds = {re.sub(r"\d+", "#", re.sub(r"^(data|time|connections|layers)(\[\d\])?(\.\w+)?: ", "", m)
                    ).split("'")[0][:24] for m in produced}
    rows = [re.sub(r"\d+", "#", row) for row in section.splitlines()]
    assert all(any(kind in row for row in rows) for kind in kinds), \
        [kind for kind in kinds if not any(kind in row for row in rows)]
    examples = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1).splitlines()
    lines = {(line, message) for name in LOADER_ERRORS for line, message in problems(_case_text(name))}
    for example in examples:
        m = re.fullmatch(r"bptui: rec\.toml:(\d+): (.*)", example)
        assert m and (int(m.group(1)), m.group(2)) in lines, example


# --- the rotate-3bit scenario -----------------------------------------------------------------

@pytest.fixture(scope="module")
def rotate():
    return load_scenario(ROOT / "scenarios" / "rotate-3bit.toml")


def test_rotate_3bit_is_the_rec_exercise(rotate):
    s = rotate
    assert s.title and s.summary and s.card and len(s.card) <= 400 and "Press " in s.card
    assert "## What to watch" in s.story and "## Try next" in s.story
    assert [layer.name for layer in s.layers] == ["state@0", "state@1", "state@2"]
    assert s.time.steps == 2 and s.time.start == ("data",) and s.time.at == ((2,),)
    x, t = s.data.inputs, s.data.targets
    np.testing.assert_array_equal(t, x[:, [1, 2, 0]])  # rotated one place to the left
    assert s.data.names == tuple(f"{k:03b}" for k in range(8))
    tr = s.training
    assert (tr.learning_rate, tr.momentum, tr.update, tr.epochs, tr.error_criterion, tr.weight_init) == \
        (0.25, 0.9, "batch", 200, 0.02, 0.5)
    net = Network(s)
    assert net.size == 9 + 3 and net.uses(net.links[0]) == [net.links[1], net.links[0]]
    assert check_gradients(Run(s)).ok


def _code(run) -> str:
    """What the state holds at step 1 after training, as the story names it."""
    p = run.inspect()
    net = run.network
    a1 = np.round(p.a[net.layer("state@1").index])
    x = run.scenario.data.inputs
    right = x[:, [2, 0, 1]]  # each bit one place to the right
    swapped = right.copy()
    swapped[[0, 7]] = right[[7, 0]]
    codes = {"right": right, "inverted": 1 - right, "right, 000 and 111 swap": swapped,
             "inverted, 000 and 111 stay": np.where(np.isin(np.arange(8), [0, 7])[:, None], right, 1 - right)}
    return next((name for name, code in codes.items() if np.array_equal(a1, code)), "none")


def test_rotate_3bit_story_numbers_are_the_engines(rotate):
    story = " ".join(rotate.story.split())
    # "over seeds 1 to 100: 98 learn within the 200 epochs, with a median of 51 epochs"
    within = Sweep(rotate, list(range(1, 101))).run()
    assert within.converged == 98 and np.median([e for e in within.epochs if e is not None]) == 51
    assert "**98** learn within the 200 epochs, with a median of 51 epochs" in story
    # "and all 100 within 1,000 epochs (the slowest takes 735)"
    longer = Sweep(rotate, list(range(1, 101)), max_epochs=1000).run()
    assert longer.converged == 100 and max(longer.epochs) == 735
    assert "all 100 within 1,000 epochs (the slowest takes 735)" in story
    # "The default seed, 9, takes 32 epochs", with each bit one place to the right
    run = Run(rotate)
    assert run.seed == 9 and run.train() == CONVERGED and run.epoch == 32 and _code(run) == "right"
    assert "The default seed, 9, takes 32 epochs" in story
    w, b = run.network.links[0].w, run.network.layer("state@1").b[0]
    assert [round(w[0, 2], 1), round(w[1, 0], 1), round(w[2, 1], 1)] == [7.3, 7.3, 7.2]
    others = np.abs(w[~np.eye(3, dtype=bool)[[2, 0, 1]]])
    assert others.max() < 1 and np.all(np.abs(b + 3) < 0.5)
    assert "`left` gets a weight of about +7.3 from `right`, `middle` +7.3 from `left`, and `right` +7.2" in story
    # The four codes over seeds 1 to 100, trained until they learn, and how fast.
    kinds, epochs = Counter(), {}
    for seed in range(1, 101):
        r = Run(rotate, seed=seed, max_epochs=1000)
        assert r.train() == CONVERGED
        kind = _code(r)
        kinds[kind] += 1
        epochs.setdefault(kind, []).append(r.epoch)
        if seed == 1:
            assert r.epoch == 165 and kind == "inverted, 000 and 111 stay"
            assert np.round(r.network.links[0].w[0], 1).tolist() == [6.3, 6.3, -5.8]
    assert kinds == {"right": 30, "inverted": 31, "right, 000 and 111 swap": 21, "inverted, 000 and 111 stay": 18}
    medians = {kind: np.median(e) for kind, e in epochs.items()}
    assert medians == {"right": 40, "inverted": 39, "right, 000 and 111 swap": 163, "inverted, 000 and 111 stay": 158}
    for words in ("(30 seeds, 9 among them)", "(31 seeds)", "change places** (21 seeds)", "stay** (18 seeds)",
                  "a median of 40 and 39 epochs", "median of 163 and 158 epochs",
                  "with seed 1 (165 epochs), `left` gets +6.3 from `left`, +6.3 from `middle` and -5.8 from `right`"):
        assert words in story, words


def test_a_sweep_of_a_recurrent_network_runs_each_seed_as_its_run_does(rotate):
    seeds = [1, 2, 3, 9]
    result = Sweep(rotate, seeds).run()
    for seed, epochs, status in zip(seeds, result.epochs, result.status):
        run = Run(rotate, seed=seed)
        assert run.train() == status
        assert (run.epoch if status == CONVERGED else None) == epochs


def test_the_docs_examples_are_laid_out_as_the_doc_says(tmp_path):
    doc = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w+)\n(.*?)^```", doc, re.MULTILINE | re.DOTALL)
    parity = next(body for kind, body in blocks if kind == "toml" and "Odd or even" in body)
    s = parse_scenario(parity, "parity.toml")
    assert [layer.name for layer in s.layers] == ["memory@0", "bit@1", "memory@1", "bit@2", "memory@2", "bit@3",
                                                  "memory@3", "odd@3"]
    assert s.layer("memory@3").units[1] == "memory[1]@3" and s.layer("bit@2").units == ("b@2",)
    assert [c.share for c in s.connections] == ["bit -> memory"] * 3 + ["memory -> memory"] * 3 + [None]
    np.testing.assert_array_equal(s.data.inputs[:, 4:], [[int(c) for c in name] for name in s.data.names])
    by_step = next(body for kind, body in blocks if kind == "toml" and "Columns by step" in body)
    csv = next(body for kind, body in blocks if kind == "csv" and body.startswith("pattern,h1 at 0"))
    (tmp_path / "by-step.csv").write_text(csv, encoding="utf-8")
    s = parse_scenario(by_step, "by-step.toml", base=tmp_path)
    np.testing.assert_array_equal(s.data.inputs, [[0, 0, 1, 0], [1, 1, 0, 1]])
    assert s.data.targets[0].tolist() == [1, 0] and np.isnan(s.data.targets[1, 1])
    assert [layer.name for layer in s.output_layers] == ["y@1", "y@2"]
