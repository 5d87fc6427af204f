"""The gradient check: backprop beside finite differences, at a run's weights.

Right gradients give tiny relative errors on the shipped scenarios and on a softmax
cross-entropy network; a deliberately broken derivative is caught; the run is left
bit for bit as it was; corners of E (a relu at 0, a margin edge) get no verdict.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from bptui.core import gradcheck
from bptui.core.functions import Sigmoid, Tanh
from bptui.core.gradcheck import (THRESHOLD, bias_index, check_gradients, numeric_gradient, parameter_names,
                                  weight_index)
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core.training import Run

# A softmax output with cross-entropy (no shipped scenario has one), behind a tanh layer.
SOFTMAX = """
    format = 1
    [scenario]
    title = "Two bits, four answers"
    [[layers]]
    name = "bits"
    units = ["high", "low"]
    [[layers]]
    name = "hidden"
    size = 3
    activation = "tanh"
    [[layers]]
    name = "number"
    units = ["zero", "one", "two", "three"]
    activation = "softmax"
    [[connections]]
    from = "bits"
    to = "hidden"
    [[connections]]
    from = "hidden"
    to = "number"
    [data]
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    targets = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    [training]
    loss = "cross_entropy"
    learning_rate = 0.5
"""


def trained(scenario, epochs: int) -> Run:
    """A run after ``epochs`` epochs: weights that are not just the starting ones."""
    run = Run(scenario, max_epochs=epochs)
    run.train()
    return run


def state(run: Run) -> bytes:
    """Every number of the run that a check could disturb, as raw bytes (bit for bit)."""
    return run.network.theta.tobytes() + run.network.grad.tobytes() + run.dw.tobytes()


def softmax_scenario():
    return parse_scenario(textwrap.dedent(SOFTMAX), "softmax")


@pytest.mark.parametrize("name, epochs", [("xor", 0), ("xor", 150), ("tutoring-chain", 0), ("tutoring-chain", 10),
                                          ("biscuit-factory-preservative", 3)])
def test_right_gradients_agree_on_shipped_scenarios(shipped, name, epochs):
    run = trained(load_scenario(shipped[name]), epochs)
    before = state(run)
    check = check_gradients(run)
    assert state(run) == before  # the run is untouched, bit for bit
    assert check.skipped == 0 and len(check.rows) == run.network.n_trainable
    assert check.ok and check.above == 0 and check.corners == 0
    assert check.max_relative_error < 1e-6  # far better than the threshold
    # The rows are the run's own backprop gradient and loss, as Run.inspect computes them.
    p = run.inspect()
    assert check.loss == float(p.E)
    assert [row.backprop for row in check.rows] == run.network.grad.tolist()
    assert max(abs(row.numeric) for row in check.rows) > 1e-3  # not a vacuous check of zeros


def test_softmax_with_cross_entropy_agrees():
    run = trained(softmax_scenario(), 30)
    check = check_gradients(run)
    assert check.ok and check.corners == 0
    assert check.max_relative_error < 1e-6


def test_family_trees_with_a_limit_checks_a_spread_of_parameters(shipped):
    run = trained(load_scenario(shipped["family-trees"]), 5)
    net = run.network
    before = state(run)
    check = check_gradients(run, limit=100)
    assert state(run) == before
    assert len(check.rows) == 100 and check.skipped == net.n_trainable - 100
    assert check.ok and check.max_relative_error < THRESHOLD
    indices = [row.index for row in check.rows]
    assert indices == sorted(set(indices)) and indices[0] == 0 and indices[-1] == net.n_trainable - 1
    # Spread over the network: every connection and every layer's biases get their share ...
    for link in net.links:
        rows, cols = link.w.shape
        first, last = weight_index(net, link.index, 0, 0), weight_index(net, link.index, rows - 1, cols - 1)
        assert any(first <= k <= last for k in indices), f"no weight of {link.sender.name} -> {link.receiver.name}"
    for layer in net.computed:
        first, last = bias_index(net, layer.name, 0), bias_index(net, layer.name, layer.size - 1)
        assert any(first <= k <= last for k in indices), f"no bias of {layer.name}"
    # ... and the same ones every time.
    assert [row.index for row in check_gradients(run, limit=100).rows] == indices


def test_a_broken_activation_derivative_is_caught(shipped, monkeypatch):
    run = trained(load_scenario(shipped["xor"]), 50)
    assert check_gradients(run).ok
    # A derivative 1% off: E is unchanged (the forward pass does not use it), backprop is wrong.
    monkeypatch.setattr(Sigmoid, "delta", lambda self, net, a, dE_da: 1.01 * a * (1.0 - a) * dE_da)
    check = check_gradients(run)
    assert not check.ok
    assert check.above == len(check.rows)  # the output is a sigmoid: every delta is off
    assert check.max_relative_error > 1e-3
    assert min(row.relative_error for row in check.rows) > 100 * THRESHOLD


def test_a_broken_hidden_derivative_is_caught_where_it_is(monkeypatch):
    run = trained(softmax_scenario(), 30)
    # tanh' written as 1 - a instead of 1 - a^2: only the blame of the hidden units is wrong.
    monkeypatch.setattr(Tanh, "slope", lambda self, net, a: 1.0 - a)
    check = check_gradients(run)
    assert not check.ok
    wrong = {row.name for row in check.rows if row.relative_error > THRESHOLD}
    into_hidden = {name for name in parameter_names(run.network)
                   if name.startswith("b(hidden") or name.startswith("w(hidden")}
    assert wrong == into_hidden  # the weights into the softmax layer are still right


def test_one_weight_or_one_bias(shipped):
    run = trained(load_scenario(shipped["xor"]), 20)
    net = run.network
    w = check_gradients(run, weight_index(net, 1, 0, 1))
    b = check_gradients(run, bias_index(net, "hidden", 0))
    assert [row.name for row in w.rows] == ["w(y<-h2)"] and [row.name for row in b.rows] == ["b(h1)"]
    assert w.skipped == b.skipped == 0 and w.ok and b.ok
    run.inspect()
    assert w.rows[0].backprop == net.links[1].grad[0, 1]
    assert b.rows[0].backprop == net.layer("hidden").b_grad[0, 0]
    # A parameter's row is the same whether it is checked alone or with all the others.
    whole = check_gradients(run)
    assert whole.rows[w.rows[0].index] == w.rows[0]
    assert check_gradients(run, iter([8, 0])).rows == (whole.rows[8], whole.rows[0])


def test_names_in_the_scenarios_words(shipped):
    net = Run(load_scenario(shipped["xor"])).network
    assert parameter_names(net) == ["w(h1<-x1)", "w(h1<-x2)", "w(h2<-x1)", "w(h2<-x2)", "w(y<-h1)",
                                    "w(y<-h2)", "b(h1)", "b(h2)", "b(y)"]
    assert parameter_names(net, [8, 0]) == ["b(y)", "w(h1<-x1)"]


def test_frozen_weights_and_missing_biases_have_no_place():
    text = textwrap.dedent("""
        format = 1
        [scenario]
        title = "Frozen"
        [[layers]]
        name = "in"
        units = ["a", "b"]
        [[layers]]
        name = "hid"
        units = ["h"]
        bias = false
        [[layers]]
        name = "out"
        units = ["y"]
        [[connections]]
        from = "in"
        to = "hid"
        weights = [[1.0, -1.0]]
        trainable = false
        [[connections]]
        from = "hid"
        to = "out"
        [data]
        inputs = [[0, 1], [1, 0]]
        targets = [[0], [1]]
    """)
    run = Run(parse_scenario(text, "frozen"))
    assert parameter_names(run.network) == ["w(y<-h)", "b(y)"]
    with pytest.raises(ValueError, match="frozen"):
        weight_index(run.network, 0, 0, 0)
    with pytest.raises(ValueError, match="no bias"):
        bias_index(run.network, "hid", 0)
    with pytest.raises(IndexError):
        check_gradients(run, 2)
    assert check_gradients(run).ok


# Weights that put E exactly on a corner: a relu unit's net input at 0, an output exactly
# at the margin's edge. The slope of a chord across a corner is not dE/dw.
CORNERS = {
    # w(h <- x) = 0 and b(h) = 0: net_h is 0, and a nudge of either switches h on or off.
    "relu at 0": ("relu", 0.0, {"w(h<-x)", "b(h)"}),
    # h = 0.5 (a sigmoid at 0), y = 1 * 0.5 + 0 is exactly 0.5 from its target 0: a nudge
    # of anything y depends on crosses the edge of the margin.
    "margin edge": ("sigmoid", 0.5, {"w(h<-x)", "b(h)", "w(y<-h)", "b(y)"}),
}


@pytest.mark.parametrize("case", CORNERS, ids=list(CORNERS))
def test_a_corner_of_E_gets_no_verdict(case):
    hidden, margin, at_corner = CORNERS[case]
    text = textwrap.dedent(f"""
        format = 1
        [scenario]
        title = "On a corner"
        [[layers]]
        name = "in"
        units = ["x"]
        [[layers]]
        name = "hid"
        units = ["h"]
        activation = "{hidden}"
        bias = [0.0]
        [[layers]]
        name = "out"
        units = ["y", "z"]
        activation = "linear"
        bias = [0.0, 0.0]
        [[connections]]
        from = "in"
        to = "hid"
        weights = [[0.0]]
        [[connections]]
        from = "hid"
        to = "out"
        weights = [[1.0], [0.3]]
        [data]
        inputs = [[1.0]]
        targets = [[{0.0 if margin else 1.0}, 1.0]]
        [training]
        margin = {margin}
    """)
    check = check_gradients(Run(parse_scenario(text, case)))
    assert {row.name for row in check.rows if row.corner} == at_corner
    assert check.corners == len(at_corner) and len(check.judged) == len(check.rows) - len(at_corner)
    # No verdict is not a failure, and the parameters off the corner are judged as usual.
    assert check.ok and any(abs(row.backprop) > 0.1 for row in check.judged)


def test_diverged_weights_never_pass(shipped):
    run = Run(load_scenario(shipped["xor"]))
    run.network.theta[0] = np.nan
    check = check_gradients(run)
    assert not check.ok and math.isnan(check.max_relative_error)


def test_numeric_gradient_puts_the_weights_back_even_when_interrupted(shipped, monkeypatch):
    run = trained(load_scenario(shipped["xor"]), 20)
    net = run.network
    before = net.theta.tobytes()
    numeric, corner = numeric_gradient(net, run.x, run.t, run.care, run.training.margin)
    assert net.theta.tobytes() == before and not corner.any()
    calls = []

    def fail_on_the_fifth(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args)

    real = gradcheck._loss_and_sides
    monkeypatch.setattr(gradcheck, "_loss_and_sides", fail_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        numeric_gradient(net, run.x, run.t, run.care, run.training.margin)
    assert net.theta.tobytes() == before  # the third weight was up by h when it stopped


def test_a_copy_of_the_weights_is_checked_even_if_the_run_moves_on(shipped):
    run = trained(load_scenario(shipped["xor"]), 20)
    theta = run.network.theta.copy()
    expected = check_gradients(run)
    run.train_epoch()  # the run goes on after the copy was taken
    again = check_gradients(run, theta=theta)
    assert [r.backprop for r in again.rows] == [r.backprop for r in expected.rows]
    assert [r.numeric for r in again.rows] == [r.numeric for r in expected.rows]
