"""bptui sweep: many seeds at once give exactly what the same seeds give one by one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptui.cli import main
from bptui.core import sweep
from bptui.core.functions import ACTIVATIONS, output_error
from bptui.core.network import Network
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core.sweep import Sweep, SweepResult
from bptui.core.training import Run, init_weights, training_arrays

ONLINE = """
format = 1
[scenario]
title = "online"
[[layers]]
name = "in"
size = 3
[[layers]]
name = "h"
size = 3
activation = "tanh"
[[layers]]
name = "out"
size = 2
[[connections]]
from = "in"
to = "h"
[[connections]]
from = "h"
to = "out"
[[connections]]
from = "in"
to = "out"
trainable = false
[data]
inputs = [[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1]]
targets = [[1, 0], [0, nan], [1, 1], [0, 0], [nan, 1]]
test = ["p5"]
[training]
update = "online"
order = "{order}"
learning_rate = 0.7
momentum = 0.8
weight_decay = 0.001
margin = 0.1
epochs = 400
error_criterion = 0.01
weight_init = 1.0
[[training.schedule]]
from_epoch = 50
learning_rate = 0.4
"""


# Batch, with two input and two output layers, a layer fed by two and one feeding two,
# a skip and a frozen connection, an output layer without bias, weight decay and a
# schedule that changes the learning rate, the decay and the momentum.
BRANCHED = """
format = 1
[scenario]
title = "branched"
[[layers]]
name = "a"
size = 2
[[layers]]
name = "b"
size = 1
[[layers]]
name = "h"
size = 3
[[layers]]
name = "p"
size = 1
[[layers]]
name = "q"
size = 2
activation = "{q}"
bias = false
[[connections]]
from = "a"
to = "h"
[[connections]]
from = "b"
to = "h"
[[connections]]
from = "h"
to = "p"
[[connections]]
from = "b"
to = "p"
[[connections]]
from = "h"
to = "q"
[[connections]]
from = "a"
to = "q"
trainable = false
[data]
inputs = [[0, 1, 0], [1, 1, 1], [0, 0, 1], [1, 0, 0], [1, 1, 0], [0, 1, 1]]
targets = [[1, 0.9, 0.1], [0, 0.1, 0.9], [1, {t}, 0.9], [0, 0.9, 0.1], [1, 0.1, 0.9], [0, 0.9, {t}]]
[training]
loss = "{loss}"
update = "batch"
learning_rate = 0.5
momentum = 0.9
weight_decay = 0.0005
margin = {margin}
epochs = 300
error_criterion = {criterion}
weight_init = 1.0
[[training.schedule]]
from_epoch = 40
learning_rate = 0.2
weight_decay = 0
[[training.schedule]]
from_epoch = 120
momentum = 0.5
"""
# sse on sigmoid and linear outputs (the sweep's own sse), with a margin and don't-care
# targets, and cross-entropy on sigmoid and softmax outputs (the engine's output_error).
BRANCHES = {"sse": dict(q="linear", loss="sse", margin=0, t=0.1, criterion=0.8),
            "margin": dict(q="linear", loss="sse", margin=0.05, t="nan", criterion=0.8),
            "cross_entropy": dict(q="softmax", loss="cross_entropy", margin=0, t=0.1, criterion=2.1)}


def one_by_one(scenario, seeds, max_epochs=None):
    out = []
    for seed in seeds:
        run = Run(scenario, seed=seed, max_epochs=max_epochs)
        out.append((run.epoch if run.train() == "converged" else None, run.status))
    return out


def test_batch_sweep_matches_single_runs(shipped):
    scenario = load_scenario(shipped["xor"])
    seeds = list(range(1, 13))  # seed 11 does not converge in 5000 epochs
    result = Sweep(scenario, seeds).run()
    assert list(zip(result.epochs, result.status)) == one_by_one(scenario, seeds)
    assert None in result.epochs and result.converged == 11


@pytest.mark.parametrize("order", ["sequential", "shuffled"])
def test_online_sweep_matches_single_runs(order):
    """Online updates, each run its own shuffle, momentum, decay, margin, don't-care
    targets, a frozen connection, a held-out pattern and a schedule."""
    scenario = parse_scenario(ONLINE.replace("{order}", order))
    seeds = [3, 1, 4, 15, 9]
    result = Sweep(scenario, seeds).run()
    assert list(zip(result.epochs, result.status)) == one_by_one(scenario, seeds)
    assert result.status.count("converged") >= 2  # the comparison is of runs that stop at different epochs


@pytest.mark.parametrize("branch", BRANCHES)
def test_batch_sweep_of_a_branched_network_matches_single_runs(branch):
    scenario = parse_scenario(BRANCHED.format(**BRANCHES[branch]))
    seeds = list(range(1, 13))
    result = Sweep(scenario, seeds).run()
    assert list(zip(result.epochs, result.status)) == one_by_one(scenario, seeds)
    assert len(set(result.epochs)) >= 4  # runs that stop at different epochs, before and after a stage


@pytest.mark.parametrize("text", [BRANCHED.format(**kw) for kw in BRANCHES.values()]
                         + [ONLINE.replace("{order}", "sequential")], ids=[*BRANCHES, "online"])
def test_the_sweeps_gradient_is_the_engines_bit_for_bit(text):
    """The sweep's own walk over the plan against Network.gradient, over a stack of runs."""
    scenario = parse_scenario(text)
    runs = 5
    network = Network(scenario, runs=(runs,))
    single = Network(scenario)
    for i in range(runs):
        init_weights(single, scenario, seed=i)
        network.theta[i] = single.theta
    x, t, care = training_arrays(scenario, ~scenario.data.test)
    for rows in (slice(None), slice(1, 2)):  # a batch change, an online change
        p = network.gradient(x[rows], t[rows], None if care is None else care[rows], scenario.training.margin)
        grad = np.full_like(network.grad, np.nan)
        theta = network.theta.copy()
        E = sweep._Gradient(network, theta, grad, scenario.training.margin)(
            x[rows], t[rows], None if care is None else care[rows])
        assert E.tobytes() == p.E.tobytes() and grad.tobytes() == network.grad.tobytes()


def test_the_sweeps_twins_of_the_engines_functions_give_the_same_bits():
    """Its sigmoid and sse, down to signed zeros, subnormals, overflow and nan."""
    rng = np.random.default_rng(5)
    special = [0.0, -0.0, 1e-310, -1e-310, 1e-17, 1.0, 40.0, -40.0, 1e300, -1e300, np.inf, -np.inf, np.nan]
    net = np.concatenate([special, rng.normal(0, 4, 500 - len(special))]).reshape(-1, 4, 1)  # runs, patterns, units
    sigmoid = ACTIVATIONS["sigmoid"]
    a = sigmoid.f(net)
    dE_da = rng.normal(size=net.shape)
    t = rng.uniform(size=net.shape)
    assert sweep._sigmoid(net).tobytes() == a.tobytes()
    assert sweep._sigmoid_delta(net, a, dE_da).tobytes() == sigmoid.delta(net, a, dE_da).tobytes()
    E, delta = sweep._sse(sweep._sigmoid_delta, net, a, t)
    E_engine, delta_engine = output_error("sse", sigmoid, net, a, t, None, 0.0)
    assert E.tobytes() == E_engine.tobytes() and delta.tobytes() == delta_engine.tobytes()


def test_diverging_runs_are_counted_as_failures(variant):
    result = Sweep(load_scenario(variant("biscuit-factory", "diverging")), [1, 2]).run()
    assert result.status == ("diverged", "diverged") and result.epochs == (None, None)


def test_failure_interval_is_the_wilson_score_interval():
    result = SweepResult(tuple(range(10)), 100, (5,) * 8 + (None, None), ("converged",) * 8 + ("max_epochs",) * 2)
    rate, low, high = result.failure_interval()
    # By hand: p = 0.2, n = 10, z = 1.96: centre (0.2 + 0.19208) / 1.38416 = 0.28327,
    # half 1.96 sqrt(0.016 + 0.0096040) / 1.38416 = 0.22662.
    assert rate == 0.2
    assert low == pytest.approx(0.0567, abs=1e-4) and high == pytest.approx(0.5098, abs=1e-4)


def test_sweep_json_has_the_shape_of_spec_section_2(capsys):
    assert main(["sweep", "xor", "--seeds", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"seeds": 4, "max_epochs": 5000, "epochs": [259, 201, 166, 290], "converged": 4}


def test_sweep_summary_shows_the_distribution(capsys):
    assert main(["sweep", "xor", "--seeds", "12", "--epochs", "1000"]) == 0
    out = capsys.readouterr().out
    assert "11 of 12 seeds converged" in out and "median" in out and "failure rate" in out
    assert "epochs to converge" in out and "\x1b[" not in out  # a plain histogram in a file
