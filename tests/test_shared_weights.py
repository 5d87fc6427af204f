"""Shared weights (``share`` on [[connections]]) and shared biases (``bias_share`` on
[[layers]]): one span of theta per group, a gradient summed over the uses.

Checked: backprop's dE/dw of every shared (and unshared) parameter against central
differences on random networks, for every activation and loss, in several shapes
(a chain a -> h1 -> h2 -> h3 whose h1 -> h2 and h2 -> h3 share one matrix, two towers
sharing their encoder, two connections into one layer sharing one matrix, a frozen
shared matrix); the sum against the per-use gradients worked out by hand, and the
partial sum the stepper leaves between two backward layers; the layout of a network
without shares as it always was; a saved file loading back to the same theta; every
loader error, with its line; and the explanation, the gradient check, the ledger, the
responsibility and the sweep of a shared network.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bptui.core.errors import InputError
from bptui.core.explain import Param, explain_change, explain_gradient, param_name, params
from bptui.core.functions import ACTIVATIONS
from bptui.core.gradcheck import check_gradients, parameter_names, weight_index
from bptui.core.ledger import ledger_lines, ledger_record
from bptui.core.network import Network
from bptui.core.responsibility import reference_theta, responsibility
from bptui.core.save import save_scenario, scenario_toml
from bptui.core.scenario import MAX_WEIGHTS, load_scenario, parse_scenario
from bptui.core.stepper import Stepper
from bptui.core.sweep import Sweep
from bptui.core.training import Run, init_weights

from conftest import slopes_at_smooth_weights
from test_explain import check

RTOL = 1e-6
ATOL = 1e-9

# --- networks ----------------------------------------------------------------------------
#
# A shape: layers (name, size, share of the bias or None), connections (from, to, share
# or None, trainable). Input and output layers are found from the connections, as the
# loader finds them; hidden layers get the case's hidden activation, outputs its output one.

SHAPES = {
    # h1 -> h2 and h2 -> h3 are one 3 x 3 matrix; h1 and h2 one bias vector.
    "chain": ([("a", 2, None), ("h1", 3, "hb"), ("h2", 3, "hb"), ("h3", 3, None)],
              [("a", "h1", None, True), ("h1", "h2", "w", True), ("h2", "h3", "w", True)]),
    # Two towers with one encoder and one bias, read out by one matrix into one layer.
    "towers": ([("left", 2, None), ("right", 2, None), ("hl", 3, "hb"), ("hr", 3, "hb"), ("out", 3, None)],
               [("left", "hl", "enc", True), ("right", "hr", "enc", True), ("hl", "out", "dec", True),
                ("hr", "out", "dec", True)]),
    # The same matrix before and after a hidden layer, beside an unshared skip connection.
    "skip": ([("in", 3, None), ("h", 3, "b"), ("o", 3, "b")],
             [("in", "h", "s", True), ("h", "o", "s", True), ("in", "o", None, True)]),
    # A frozen shared matrix: only the skip connection and the (shared) biases learn.
    "frozen": ([("in", 3, None), ("h", 3, "b"), ("o", 3, "b")],
               [("in", "h", "f", False), ("h", "o", "f", False), ("in", "o", None, True)]),
}


def _num(x: float) -> str:
    return repr(float(x))


def _matrix(a: np.ndarray) -> str:
    return "[" + ", ".join("[" + ", ".join(_num(v) for v in row) + "]" for row in a) + "]"


def shaped_text(shape: str, hidden: str = "tanh", output: str = "sigmoid", loss: str = "sse",
                patterns: int = 4, seed: int = 0, training: str = "") -> str:
    layers, conns = SHAPES[shape]
    receivers = {c[1] for c in conns}
    senders = {c[0] for c in conns}
    rng = np.random.default_rng(500 + seed)
    n_in = sum(size for name, size, _ in layers if name not in receivers)
    n_out = sum(size for name, size, _ in layers if name not in senders)
    x = rng.uniform(-1.0, 1.0, size=(patterns, n_in))
    t = rng.uniform(0.0, 1.0, size=(patterns, n_out))
    out = ["format = 1", "", "[scenario]", f'title = "{shape}"', ""]
    for name, size, bias_share in layers:
        out += ["[[layers]]", f'name = "{name}"', f"size = {size}"]
        if name in receivers:
            out.append(f'activation = "{output if name not in senders else hidden}"')
            if bias_share is not None:
                out.append(f'bias_share = "{bias_share}"')
        out.append("")
    for sender, receiver, share, trainable in conns:
        out += ["[[connections]]", f'from = "{sender}"', f'to = "{receiver}"']
        if share is not None:
            out.append(f'share = "{share}"')
        if not trainable:
            out.append("trainable = false")
        out.append("")
    out += ["[data]", f"inputs = {_matrix(x)}", f"targets = {_matrix(t)}", "",
            "[training]", f'loss = "{loss}"', "weight_init = 1.0", training]
    return "\n".join(out) + "\n"


def shaped(shape: str, **kw):
    return parse_scenario(shaped_text(shape, **kw), shape)


# Every activation as the hidden one; every activation as the output with sse, and the
# two the cross-entropy allows with it.
OUTPUTS = [(f, "sse") for f in ACTIVATIONS] + [("sigmoid", "cross_entropy"), ("softmax", "cross_entropy")]
FD_CASES = [pytest.param(shape, hidden, output, loss, id=f"{shape}-{hidden}-{output}-{loss}")
            for shape in SHAPES for hidden in ACTIVATIONS for output, loss in OUTPUTS]


# --- gradients against finite differences --------------------------------------------------

@pytest.mark.parametrize("shape, hidden, output, loss", FD_CASES)
def test_gradients_of_shared_weights_and_biases_are_the_slopes_of_E(shape, hidden, output, loss):
    scenario = shaped(shape, hidden=hidden, output=output, loss=loss, seed=len(hidden) + len(output))
    net = Network(scenario)
    run_x, t = scenario.data.inputs, scenario.data.targets
    shared = set()
    for link in net.links:
        if link.share is not None and link.trainable:
            start, end = net._link_spans[link.index]
            shared.update(range(start, end))
    for u in net.layers:
        if u.bias_share is not None and u.b_grad is not None:
            start, end = net._bias_spans[u.index]
            shared.update(range(start, end))
    assert shared, "the case must have a trainable shared parameter"
    backprop, numeric = slopes_at_smooth_weights(net, scenario, run_x, t)
    judged = ~numeric.corner
    assert judged[sorted(shared)].any()
    np.testing.assert_allclose(backprop[judged], numeric.dE_dw[judged], rtol=RTOL, atol=ATOL)


def test_stacked_runs_sum_the_uses_as_single_runs_do():
    scenario = shaped("towers", hidden="sigmoid")
    single = Network(scenario)
    stacked = Network(scenario, runs=(3,))
    thetas = np.random.default_rng(3).uniform(-1, 1, size=(3, single.size))
    stacked.theta[...] = thetas
    stacked.gradient(scenario.data.inputs, scenario.data.targets)
    for r in range(3):
        single.theta[...] = thetas[r]
        single.gradient(scenario.data.inputs, scenario.data.targets)
        np.testing.assert_array_equal(stacked.grad[r], single.grad)


# --- the sum, by hand ----------------------------------------------------------------------

CHAIN_BY_HAND = """
format = 1
[scenario]
title = "by hand"
[[layers]]
name = "a"
units = ["a1", "a2"]
[[layers]]
name = "h1"
units = ["p", "q"]
bias = [0.1, -0.2]
bias_share = "hb"
[[layers]]
name = "h2"
units = ["r", "s"]
bias_share = "hb"
[[layers]]
name = "h3"
units = ["u", "v"]
bias = [0.05, 0.0]
[[connections]]
from = "a"
to = "h1"
weights = [[0.3, -0.6], [0.8, 0.2]]
[[connections]]
from = "h1"
to = "h2"
share = "w"
[[connections]]
from = "h2"
to = "h3"
share = "w"
weights = [[0.5, -0.4], [0.7, 0.9]]
[data]
patterns = ["one", "two", "three"]
inputs = [[1, 0], [0.5, -1], [-0.3, 0.8]]
targets = [[1, 0], [0, 1], [0.5, 0.5]]
[training]
learning_rate = 0.1
momentum = 0.0
"""


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def by_hand(x, t, w1, W, b1, b3):
    """Forward and backward of the chain, written out: returns each use's dE/dW and dE/db."""
    h1 = sigmoid(x @ w1.T + b1)
    h2 = sigmoid(h1 @ W.T + b1)  # the shared bias
    h3 = sigmoid(h2 @ W.T + b3)  # the shared matrix
    d3 = (h3 - t) * h3 * (1 - h3)
    d2 = (d3 @ W) * h2 * (1 - h2)
    d1 = (d2 @ W) * h1 * (1 - h1)
    return {"W via h2->h3": d3.T @ h2, "W via h1->h2": d2.T @ h1,
            "b via h2": d2.sum(axis=0), "b via h1": d1.sum(axis=0)}


def test_the_gradient_of_a_shared_matrix_is_the_sum_of_its_uses_gradients():
    s = parse_scenario(CHAIN_BY_HAND, "by hand")
    run = Run(s)
    net = run.network
    h12, h23 = net.links[1], net.links[2]
    # One matrix, starting from the weights given on the second connection only.
    assert np.shares_memory(h12.w, h23.w) and np.array_equal(h12.w, [[0.5, -0.4], [0.7, 0.9]])
    assert np.array_equal(net.layer("h2").b, [[0.1, -0.2]])
    assert net.n_trainable == net.size == 4 + 4 + 2 + 2
    w1, W = net.links[0].w.copy(), h12.w.copy()
    hand = by_hand(run.x, run.t, w1, W, net.layer("h1").b[0].copy(), net.layer("h3").b[0].copy())
    run.inspect()
    np.testing.assert_allclose(h12.grad, hand["W via h2->h3"] + hand["W via h1->h2"], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(net.layer("h1").b_grad[0], hand["b via h2"] + hand["b via h1"], rtol=1e-14,
                               atol=1e-16)
    # The uses, in the order the backward pass adds them.
    assert net.uses(h12) == net.uses(h23) == [h23, h12]
    assert net.uses(net.links[0]) == [net.links[0]]
    assert [u.name for u in net.bias_uses(net.layer("h1"))] == ["h2", "h1"]
    assert (h12.share, net.links[0].share, net.layer("h1").bias_share, net.layer("h3").bias_share) == \
        ("w", None, "hb", None)

    # Mid-step, grad holds the uses the backward pass has reached: the app's stepper.
    stepper = Stepper(Run(s))
    grad_w = stepper.run.network.links[1].grad
    grad_b = stepper.run.network.layer("h1").b_grad
    for _ in range(3):  # forward, loss, backward: h3
        stepper.step()
    np.testing.assert_allclose(grad_w, hand["W via h2->h3"], rtol=1e-14, atol=1e-16)
    stepper.step()  # backward: h2
    np.testing.assert_allclose(grad_w, hand["W via h2->h3"] + hand["W via h1->h2"], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(grad_b[0], hand["b via h2"], rtol=1e-14, atol=1e-16)
    stepper.step()  # backward: h1
    np.testing.assert_allclose(grad_b[0], hand["b via h2"] + hand["b via h1"], rtol=1e-14, atol=1e-16)

    # One weight change moves every use alike: dW = -learning_rate x the sum.
    stepper.step()  # update
    np.testing.assert_allclose(stepper.run.network.links[2].w, W - 0.1 * (hand["W via h2->h3"] + hand["W via h1->h2"]),
                               rtol=1e-14, atol=1e-16)


# --- the layout ----------------------------------------------------------------------------

def expected_layout(scenario) -> tuple[list, dict]:
    """theta's spans worked out from the documented order, without the engine's help:
    trainable weights by connection, trainable biases by layer (topologically), then the
    frozen ones; a share group at its first member's place."""
    sizes = {layer.name: layer.size for layer in scenario.layers}
    order = Network(scenario).layers  # the topological order: tested elsewhere
    link_spans, bias_spans, size, groups = [None] * len(scenario.connections), {}, 0, {}

    def take(n, key):
        nonlocal size
        if key is not None and key in groups:
            return groups[key]
        size += n
        if key is not None:
            groups[key] = (size - n, size)
        return size - n, size

    for frozen in (False, True):
        for k, c in enumerate(scenario.connections):
            if c.trainable != frozen:
                link_spans[k] = take(sizes[c.receiver] * sizes[c.sender], None if c.share is None else ("w", c.share))
        for plan in order:
            layer = scenario.layer(plan.name)
            if layer.bias and layer.bias_trainable != frozen:
                bias_spans[plan.index] = take(layer.size, None if layer.bias_share is None else ("b", layer.bias_share))
    return link_spans, bias_spans


@pytest.mark.parametrize("name", ["xor", "biscuit-factory", "tutoring-chain", "digits", "family-trees"])
def test_a_network_without_shares_keeps_its_layout_and_its_starting_weights(shipped, name):
    scenario = load_scenario(shipped[name])
    assert all(c.share is None for c in scenario.connections)
    net = Network(scenario)
    links, biases = expected_layout(scenario)
    assert net._link_spans == links and net._bias_spans == biases
    assert net.size == sum(e - s for s, e in links) + sum(e - s for s, e in biases.values())
    # Every parameter is drawn from the seed in this layout, then the given ones are put in.
    init_weights(net, scenario, 7)
    draw = np.random.default_rng(7).uniform(-scenario.training.weight_init, scenario.training.weight_init,
                                            size=net.size)
    given = np.zeros(net.size, dtype=bool)
    for c, (s, e) in zip(scenario.connections, links):
        given[s:e] |= c.weights is not None
    for plan in net.layers:
        if plan.index in biases and scenario.layer(plan.name).bias_values is not None:
            given[slice(*biases[plan.index])] = True
    np.testing.assert_array_equal(net.theta[~given], draw[~given])


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_share_group_takes_one_span_where_its_first_member_would(shape):
    scenario = shaped(shape)
    net = Network(scenario)
    links, biases = expected_layout(scenario)
    assert net._link_spans == links and net._bias_spans == biases
    for link in net.links:
        for use in net.uses(link):
            assert np.shares_memory(use.w, link.w) and net._link_spans[use.index] == net._link_spans[link.index]
            assert (use.grad is None) == (link.grad is None)
    # A shared matrix counts once.
    distinct = {span for span in links} | set(biases.values())
    assert net.size == sum(e - s for s, e in distinct)


def test_a_shared_matrix_counts_once_in_the_limit_on_weights():
    def text(share: bool) -> str:
        key = 'share = "big"\n' if share else ""
        return textwrap.dedent(f"""\
            format = 1
            [scenario]
            title = "big"
            [[layers]]
            name = "in"
            size = 2500
            [[layers]]
            name = "h1"
            size = 2500
            [[layers]]
            name = "h2"
            size = 2500
            [[connections]]
            from = "in"
            to = "h1"
            {key}[[connections]]
            from = "h1"
            to = "h2"
            {key}[data]
            inputs = [[{", ".join(["0"] * 2500)}]]
            targets = [[{", ".join(["0"] * 2500)}]]
            """)
    assert 2 * 2500 * 2500 > MAX_WEIGHTS > 2500 * 2500 + 2 * 2500
    parse_scenario(text(True), "big")
    with pytest.raises(InputError, match="the network has 12,505,000 weights"):
        parse_scenario(text(False), "big")


# --- saving --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_saved_shared_network_loads_back_to_the_same_theta(shape, tmp_path):
    run = Run(shaped(shape, hidden="tanh"), max_epochs=7)
    run.train()
    path = tmp_path / "saved.toml"
    save_scenario(run, path)
    text = path.read_text(encoding="utf-8")
    loaded = load_scenario(path)
    again = Run(loaded)
    np.testing.assert_array_equal(again.network.theta, run.network.theta)
    assert [c.share for c in loaded.connections] == [c.share for c in run.scenario.connections]
    assert [layer.bias_share for layer in loaded.layers] == [layer.bias_share for layer in run.scenario.layers]
    # Each shared matrix written once: with the first connection of its group.
    groups = {c.share for c in run.scenario.connections if c.share is not None}
    unshared = sum(c.share is None for c in run.scenario.connections)
    assert text.count("weights = ") == unshared + len(groups)
    assert scenario_toml(again, path) == text  # and saved again, the same file


# --- the loader ----------------------------------------------------------------------------

BASE = """\
format = 1

[scenario]
title = "Shares"

[[layers]]
name = "a"
size = 2

[[layers]]
name = "h1"
size = 2
{h1}
[[layers]]
name = "h2"
size = 2
{h2}
[[layers]]
name = "h3"
size = {h3_size}
{h3}
[[connections]]
from = "a"
to = "h1"
{c1}
[[connections]]
from = "h1"
to = "h2"
{c2}
[[connections]]
from = "h2"
to = "h3"
{c3}
[data]
inputs = [[0, 1], [1, 0]]
targets = [{targets}]
{reference}"""


def base(h1="", h2="", h3="", c1="", c2="", c3="", h3_size=2, reference="") -> str:
    targets = ", ".join("[" + ", ".join(["0.5"] * h3_size) + "]" for _ in range(2))
    return BASE.format(h1=h1, h2=h2, h3=h3, c1=c1, c2=c2, c3=c3, h3_size=h3_size, targets=targets,
                       reference=reference)


def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(InputError) as raised:
        parse_scenario(text, "shares.toml")
    return [(p.line, f"{p.where}: {p.message}") for p in raised.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text[:at].count("\n") + 1


def test_the_base_loads_with_and_without_shares():
    parse_scenario(base(), "shares.toml")
    s = parse_scenario(base(c2='share = "w"', c3='share = "w"', h1='bias_share = "b"', h2='bias_share = "b"'),
                       "shares.toml")
    assert [c.share for c in s.connections] == [None, "w", "w"]
    assert [layer.bias_share for layer in s.layers] == [None, "b", "b", None]


LOADER_ERRORS = {
    # name: (the changes to base, the problem, the needle whose line it names)
    "share-not-a-string": (dict(c2="share = 1", c3='share = "w"'),
                           "connections[2].share: must be a string, not a whole number", "share = 1"),
    "share-empty": (dict(c2='share = " "', c3='share = "w"'),
                    "connections[2].share: the share name is empty: give the group a name, the same in each of its "
                    "members", 'share = " "'),
    "share-control-code": (dict(c2='share = "w\\u001b[2J"', c3='share = "w"'),
                           r"connections[2].share: 'w\x1b[2J' has a line break or a control character: it must be "
                           "printable text on one line", "share = \"w\\"),
    "share-used-once": (dict(c2='share = "tied"', c1='share = "w"', c3='share = "w"'),
                        "connections[2].share: nothing else shares 'tied': a share joins two or more", 'share = "tied"'),
    "share-misspelled": (dict(c2='share = "tied"', c3='share = "tide"'),  # each is alone: both are listed
                         "connections[2].share: nothing else shares 'tied': a share joins two or more (did you mean "
                         "'tide'?)", 'share = "tied"'),
    "share-shape": (dict(c2='share = "w"', c3='share = "w"', h3_size=3),
                    "connections[3].share: 'h2' -> 'h3' is 3 receiving x 2 sending units, but it shares 'w' with "
                    "'h1' -> 'h2' (connections[2], line {c2}), which is 2 x 2: shared weights are one matrix, so "
                    "their shapes must be the same", 'share = "w"\n[data]'),
    "share-trainable": (dict(c2='share = "w"', c3='share = "w"\ntrainable = false'),
                        "connections[3].share: this connection is frozen, but it shares 'w' with 'h1' -> 'h2' "
                        "(connections[2], line {c2}), which is trainable: a shared matrix is trainable or frozen as a "
                        "whole, so 'trainable' must be the same", 'share = "w"\ntrainable'),
    "share-weights-differ": (dict(c2='share = "w"\nweights = [[1, 0], [0, 1]]',
                                  c3='share = "w"\nweights = [[1, 0], [0, 2]]'),
                             "connections[3].weights: differ from the weights of 'h1' -> 'h2' (connections[2], line "
                             "{c2}), which shares 'w': a shared matrix has one set of starting weights, so give them "
                             "once, or the same each time", "weights = [[1, 0], [0, 2]]"),
    "bias-share-not-a-string": (dict(h1="bias_share = true", h2='bias_share = "b"'),
                                "layers[2].bias_share: must be a string, not true/false", "bias_share = true"),
    "bias-share-used-once": (dict(h1='bias_share = "b"'),
                             "layers[2].bias_share: nothing else shares 'b': a share joins two or more",
                             'bias_share = "b"'),
    "bias-share-without-bias": (dict(h1='bias_share = "b"', h2='bias = false\nbias_share = "b"'),
                                "layers[3].bias_share: layer 'h2' has no bias (bias = false), so there is no bias to "
                                "share", ('bias_share = "b"', 2)),
    "bias-share-size": (dict(h2='bias_share = "b"', h3='bias_share = "b"', h3_size=3),
                        "layers[4].bias_share: layer 'h3' has 3 units, but it shares 'b' with layer 'h2' (layers[3], "
                        "line {h2}), which has 2: a shared bias is one vector, so the layers must have as many units",
                        'bias_share = "b"\n[[connections]]'),
    "bias-share-trainable": (dict(h1='bias_share = "b"', h2='bias_trainable = false\nbias_share = "b"'),
                             "layers[3].bias_share: this layer's bias is frozen, but it shares 'b' with layer 'h1' "
                             "(layers[2], line {h1}), whose bias is trainable: 'bias_trainable' must be the same",
                             ('bias_share = "b"', 2)),
    "bias-share-values-differ": (dict(h1='bias = [0.0, 1.0]\nbias_share = "b"', h2='bias = [0.0, 2.0]\nbias_share = "b"'),
                                 "layers[3].bias: differs from the bias of layer 'h1' (layers[2], line {h1}), which "
                                 "shares 'b': a shared bias has one set of starting values, so give them once, or the "
                                 "same each time", "bias = [0.0, 2.0]"),
    "reference-differs": (dict(c2='share = "w"', c3='share = "w"', reference=(
        '[[reference.connections]]\nfrom = "h1"\nto = "h2"\nweights = [[1, 0], [0, 1]]\n\n'
        '[[reference.connections]]\nfrom = "h2"\nto = "h3"\nweights = [[1, 0], [0, 3]]\n')),
        "reference.connections[2].weights: differs from the reference for 'h1' -> 'h2' (reference.connections[1], "
        "line {r1}): both name the shared matrix 'w', which has one correct value", "weights = [[1, 0], [0, 3]]"),
    "reference-bias-differs": (dict(h1='bias_share = "b"', h2='bias_share = "b"', reference=(
        '[[reference.layers]]\nname = "h1"\nbias = [0, 0]\n\n[[reference.layers]]\nname = "h2"\nbias = [0, 1]\n')),
        "reference.layers[2].bias: differs from the reference for layer 'h1' (reference.layers[1], line {rl1}): "
        "both name the shared bias 'b', which has one correct value", "bias = [0, 1]"),
}


def _lines(text: str) -> dict[str, int]:
    """The lines the expected messages name: each table's header."""
    out = {}
    for key, needle, k in (("c2", "[[connections]]", 2), ("h1", "[[layers]]", 2), ("h2", "[[layers]]", 3),
                           ("r1", "[[reference.connections]]", 1), ("rl1", "[[reference.layers]]", 1)):
        try:
            out[key] = line_of(text, needle, k)
        except ValueError:
            pass
    return out


@pytest.mark.parametrize("name", list(LOADER_ERRORS))
def test_each_mistake_in_a_share_is_one_problem_with_its_line(name):
    changes, message, needle = LOADER_ERRORS[name]
    text = base(**changes)
    expected = message.format(**_lines(text))
    found = problems(text)
    assert (line_of(text, *needle) if isinstance(needle, tuple) else line_of(text, needle), expected) in found
    assert len(found) == (2 if name == "share-misspelled" else 1), found


INPUT_LAYER = "layers[1].bias_share: 'input' is an input layer (nothing connects to it), so it has no bias_share"


def input_layer_text() -> str:
    text = base(h1='bias_share = "b"', h2='bias_share = "b"').replace('"a"', '"input"')
    return text.replace('name = "input"\nsize = 2\n', 'name = "input"\nsize = 2\nbias_share = "b"\n')


def test_an_input_layer_has_no_bias_to_share():
    text = input_layer_text()
    assert problems(text) == [(line_of(text, 'bias_share = "b"'), INPUT_LAYER)]


def test_the_errors_doc_lists_the_loaders_messages_and_example_lines():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Shared weights"):]
    section = section[: section.index("\n## ")]
    produced = {message for text in [base(**changes) for changes, _, _ in LOADER_ERRORS.values()]
                for _, message in problems(text)} | {INPUT_LAYER}
    listed = re.findall(r"^\| `([^`]*)`", section, re.MULTILINE)
    assert len(listed) >= 13 and set(listed) <= produced, set(listed) - produced
    # Every kind of problem is in the table (as itself, or as an "also" of another row).
    kinds = {re.sub(r"^(reference\.)?\w+\[\d\]\.\w+: ", "", m).split("'")[0][:20] for m in produced}
    assert all(any(kind in row for row in section.splitlines()) for kind in kinds), kinds
    examples = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1).splitlines()
    lines = {(line, message) for changes, _, _ in LOADER_ERRORS.values() for line, message in problems(base(**changes))}
    for example in examples:
        m = re.fullmatch(r"bptui: picnic\.toml:(\d+): (.*)", example)
        assert m and (int(m.group(1)), m.group(2)) in lines, example


def test_weights_given_once_or_alike_are_taken_by_every_member():
    for c2, c3 in (("", "weights = [[1, 2], [3, 4]]"), ("weights = [[1, 2], [3, 4]]", "weights = [[1, 2], [3, 4]]")):
        s = parse_scenario(base(c2='share = "w"\n' + c2, c3='share = "w"\n' + c3), "shares.toml")
        run = Run(s)
        assert np.array_equal(run.network.links[1].w, [[1, 2], [3, 4]])
        assert np.array_equal(run.network.links[2].w, [[1, 2], [3, 4]])


def test_share_and_bias_share_names_are_apart():
    # A connection and a layer may use the same word: they name different groups.
    parse_scenario(base(c2='share = "x"', c3='share = "x"', h1='bias_share = "x"', h2='bias_share = "x"'), "s.toml")
    found = problems(base(c2='share = "x"', c3='share = "y"', h1='bias_share = "x"', h2='bias_share = "y"'))
    assert len(found) == 4


# --- explain, gradcheck, ledger --------------------------------------------------------------

def test_explain_of_a_shared_weight_is_the_sum_of_its_uses_with_their_numbers():
    run = Run(parse_scenario(CHAIN_BY_HAND, "by hand"))
    net = run.network
    p = run.inspect()
    grad = net.views(net.grad)
    hand = by_hand(run.x, run.t, net.links[0].w, net.links[1].w, net.layer("h1").b[0], net.layer("h3").b[0])
    for param in (Param("h2", 1, "h1", 0), Param("h3", 1, "h2", 0)):  # one weight, by either of its names
        d = explain_gradient(run, p, param)
        check(d, float(grad.weights[1][1, 0]))
        assert d.what == f"dE/d{param_name(net, param)}"
        assert [part.what for part in d.parts] == ["dE/dw(v<-r) [use 1]", "dE/dw(s<-p) [use 2]"]
        assert [part.value for part in d.parts] == pytest.approx(
            [hand["W via h2->h3"][1, 0], hand["W via h1->h2"][1, 0]], rel=1e-14)
        assert math.fsum(t.value for t in d.terms) == pytest.approx(d.value, rel=1e-15)
        assert (f"  {param_name(net, param)} is one weight shared ('w') by 2 connections: its gradient is the sum "
                "over its uses, in the order the backward pass adds them") in d.lines
    d = explain_gradient(run, p, Param("h2", 0))
    check(d, float(grad.biases[net.layer("h1").index][0, 0]))
    assert [part.what for part in d.parts] == ["dE/db(r) [use 1]", "dE/db(p) [use 2]"]
    assert d.value == pytest.approx(hand["b via h2"][0] + hand["b via h1"][0], rel=1e-14)
    # Every parameter of the network, shared or not, adds up to the engine's gradient.
    for k, param in enumerate(params(net)):
        check(explain_gradient(run, p, param), float(net.grad[k]))


def test_explain_mid_step_shows_the_uses_reached_so_far():
    run = Run(parse_scenario(CHAIN_BY_HAND, "by hand"))
    stepper = Stepper(run)
    stepper.step()
    stepper.step()  # the loss: h3's delta, but no gradient yet
    with pytest.raises(ValueError, match="not computed yet"):
        explain_gradient(run, stepper.pass_, Param("h2", 1, "h1", 0), rows=stepper.rows)
    stepper.step()  # backward: h3, the first use
    d = explain_gradient(run, stepper.pass_, Param("h2", 1, "h1", 0), rows=stepper.rows)
    check(d, float(run.network.links[1].grad[1, 0]))
    assert len(d.parts) == 1 and "  so far 1 of its 2 uses: the backward phase of h2 is still to come" in d.lines
    stepper.step()  # backward: h2
    d = explain_gradient(run, stepper.pass_, Param("h2", 1, "h1", 0), rows=stepper.rows)
    check(d, float(run.network.links[1].grad[1, 0]))
    assert len(d.parts) == 2 and not any("so far" in line for line in d.lines)


def test_explain_change_of_a_shared_weight_on_one_pattern_sums_the_uses():
    text = CHAIN_BY_HAND.replace("momentum = 0.0", 'momentum = 0.5\nupdate = "online"')
    run = Run(parse_scenario(text, "online"), max_epochs=2)
    run.keep_last_change = True
    run.train()
    ch = run.last_change
    for param in (Param("h2", 1, "h1", 0), Param("h2", 0), Param("h1", 0, "a", 1)):
        d = explain_change(run, param)
        check(d)
        dw = run.network.views(ch.dw)
        unit = run.network.layer(param.layer)
        expected = (dw.biases[unit.index][0, param.j] if param.sender is None else
                    dw.weights[next(l.index for l in unit.incoming if l.sender.name == param.sender)][param.j, param.i])
        assert d.value == expected
        shared = param.layer == "h2"
        assert (d.symbolic.startswith("-learning_rate x dE/dw")) == shared, d.line
        if shared:
            assert len(d.parts[0].parts) == 2  # the gradient, as the sum over the 2 uses


def test_gradient_check_ledger_and_names_count_a_shared_weight_once():
    run = Run(shaped("chain", hidden="tanh"), max_epochs=3)
    run.keep_last_change = True
    run.train()
    net = run.network
    result = check_gradients(run)
    assert result.ok and len(result.rows) == net.n_trainable == 6 + 9 + 3 + 3
    names = parameter_names(net)
    assert len(set(names)) == len(names)
    assert "w(h2[0]<-h1[1]) (shared 'w')" in names and "b(h1[2]) (shared 'hb')" in names
    assert not any("h3[0]<-h2" in name for name in names)  # named by the group's first connection
    assert weight_index(net, 1, 0, 1) == weight_index(net, 2, 0, 1)
    lines = ledger_lines(run, k=net.n_trainable)
    assert len(lines) == net.n_trainable
    record = ledger_record(run)
    assert record["connections"][1]["gradient"] == record["connections"][2]["gradient"]


# --- responsibility and the sweep ------------------------------------------------------------

def test_responsibility_of_a_shared_network_adds_up_to_the_excess():
    reference = ('[[reference.connections]]\nfrom = "h2"\nto = "h3"\nweights = [[1, 0], [0, 1]]\n\n'
                 '[[reference.layers]]\nname = "h2"\nbias = [0, 0]\n')
    s = parse_scenario(base(c2='share = "w"', c3='share = "w"', h1='bias_share = "b"', h2='bias_share = "b"',
                            reference=reference), "shares.toml")
    run = Run(s)
    net = run.network
    result = responsibility(net, run.x, run.t, run.care)
    assert result is not None and result.exact
    total = sum(float(v.sum()) for v in result.values.values())
    assert total == pytest.approx(result.loss - result.reference_loss, rel=1e-12, abs=1e-15)
    # The reference named through h2 -> h3 is that of h1 -> h2 too, and through h2 that of h1's bias.
    ref = net.views(reference_theta(net))
    assert np.array_equal(ref.weights[1], np.eye(2)) and np.array_equal(ref.biases[net.layer("h1").index], [[0, 0]])
    # A shared parameter has one player, its first user nearest the inputs: h1 plays the
    # bias it shares with h2, h2 the matrix it shares with h3 (whose other parameters are
    # the reference's, so h3 is no player).
    assert sorted(result.players) == [("h1", 0), ("h1", 1), ("h2", 0), ("h2", 1)]


def test_a_sweep_of_a_shared_network_runs_each_seed_as_its_run_does():
    scenario = shaped("towers", hidden="sigmoid", training="learning_rate = 2.0\nerror_criterion = 0.3\nepochs = 300")
    seeds = [1, 2, 3, 4]
    result = Sweep(scenario, seeds).run()
    for seed, epochs, status in zip(seeds, result.epochs, result.status):
        run = Run(scenario, seed=seed)
        assert run.train() == status
        assert (run.epoch if status == "converged" else None) == epochs


# --- in the app ------------------------------------------------------------------------------

async def test_the_app_shows_a_shared_weight_as_one_with_its_uses_listed():
    from bptui.app.app import BptuiApp
    from bptui.app.widgets.network import NetworkView, describe

    app = BptuiApp(shaped("chain"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        view = app.query_one(NetworkView)
        if view.view == "flow":
            await pilot.press("v")  # the layers view names each connection over its weights
            await pilot.pause()
        diagram = view.diagram
        text = "\n".join(line.plain for line in diagram._lines)
        assert text.count("(shared 'w')") == 2
        row = next(k for k, item in enumerate(diagram.items)
                   if item.kind == "weights" and app.snapshot.links[item.index].share == "w")
        diagram.cursor = row
        line = describe(diagram).plain
        assert "shared 'w', 2 uses: h1→h2, h2→h3" in line
        # One weight: the same value at both uses, and one gradient, the sum over them.
        s = app.snapshot
        first, second = (link for link in s.links if link.share == "w")
        assert np.array_equal(first.w, second.w) and np.array_equal(first.grad, second.grad)
