"""bptui sweep: many seeds at once give exactly what the same seeds give one by one."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import OVERFLOW_TOML

from bptui.cli import main
from bptui.core.functions import ACTIVATIONS
from bptui.core.network import Network
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core import sweep as sweep_module
from bptui.core.sweep import Sweep, SweepResult
from bptui.core.training import CONVERGED, DIVERGED, MAX_EPOCHS, Run, finite_weights, init_weights, training_arrays

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
# sse on sigmoid and linear outputs, with a margin and don't-care targets, and
# cross-entropy on sigmoid and softmax outputs.
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
def test_a_network_rebound_to_a_smaller_stack_computes_what_a_new_one_does(text):
    """As a sweep's stack shrinks, Network.bind re-makes the network's views: its passes are,
    bit for bit, those of a network built for the smaller stack, and the old arrays are let be."""
    scenario = parse_scenario(text)
    network = Network(scenario, runs=(5,))
    single = Network(scenario)
    for i in range(5):
        init_weights(single, scenario, seed=i)
        network.theta[i] = single.theta
    x, t, care = training_arrays(scenario, ~scenario.data.test)
    margin = scenario.training.margin
    network.gradient(x, t, care, margin)
    old_theta, old_grad = network.theta, network.grad
    before = old_theta.tobytes(), old_grad.tobytes()
    going = np.array([True, False, True, True, False])
    network.bind(np.ascontiguousarray(old_theta[going]), np.full((3, network.n_trainable), np.nan))
    fresh = Network(scenario, runs=(3,))
    fresh.theta[...] = network.theta
    for rows in (slice(None), slice(1, 2)):  # a batch change, an online change
        args = x[rows], t[rows], None if care is None else care[rows], margin
        p, q = network.gradient(*args), fresh.gradient(*args)
        assert p.E.tobytes() == q.E.tobytes() and network.grad.tobytes() == fresh.grad.tobytes()
        for mine, theirs in zip(p.net + p.a + p.delta, q.net + q.a + q.delta):
            assert (mine is None and theirs is None) or mine.tobytes() == theirs.tobytes()
    assert (old_theta.tobytes(), old_grad.tobytes()) == before


def test_the_engines_sigmoid_gives_the_bits_of_its_plain_formula():
    """Sigmoid.f and Sigmoid.delta, which take their constants as 0-d arrays and work in
    place, against (tanh(net / 2) + 1) / 2 and a (1 - a) dE/da written plainly, down to
    signed zeros, subnormals, overflow and nan."""
    rng = np.random.default_rng(5)
    special = [0.0, -0.0, 1e-310, -1e-310, 1e-17, 1.0, 40.0, -40.0, 1e300, -1e300, np.inf, -np.inf, np.nan]
    net = np.concatenate([special, rng.normal(0, 4, 500 - len(special))]).reshape(-1, 4, 1)  # runs, patterns, units
    sigmoid = ACTIVATIONS["sigmoid"]
    dE_da = rng.normal(size=net.shape)
    with np.errstate(all="ignore"):
        a = np.tanh(net * 0.5)
        a += 1.0
        a *= 0.5
        assert sigmoid.f(net).tobytes() == a.tobytes()
        assert sigmoid.delta(net, a, dE_da).tobytes() == (a * (1.0 - a) * dE_da).tobytes()


def test_diverging_runs_are_counted_as_failures(variant):
    result = Sweep(load_scenario(variant("biscuit-factory", "diverging")), [1, 2]).run()
    assert result.status == ("diverged", "diverged") and result.epochs == (None, None)


# Learning rates near the largest float: a weight overflows to inf at an epoch whose
# loss (of the weights before the change) is still finite, or the loss goes first.
OVERFLOWING = OVERFLOW_TOML.format(
    hidden="sigmoid", output="sigmoid", targets="[[1, 0], [0, 1], [1, 0], [0, 1]]",
    training='learning_rate = {lr}\nmomentum = 0.9\nupdate = "{update}"\norder = "shuffled"\n'
             'epochs = 300\nerror_criterion = 0.3')


@pytest.mark.parametrize("update, lr", [("batch", "4e307"), ("online", "1.7e308")])
@pytest.mark.parametrize("check_every", [1, 3, sweep_module.CHECK_EVERY])
def test_runs_end_at_the_epoch_and_as_their_single_runs_do(monkeypatch, update, lr, check_every):
    """Which runs ended is checked every few epochs; a weight that stopped being finite
    since the last check sends the sweep back to run those epochs again, checking each
    (for shuffled online training, with the orders it drew). Every run still ends at the
    epoch and with the status its single run has, and the work counted is theirs."""
    monkeypatch.setattr(sweep_module, "CHECK_EVERY", check_every)
    scenario = parse_scenario(OVERFLOWING.format(lr=lr, update=update))
    seeds = list(range(1, 13))
    sweep = Sweep(scenario, seeds)
    result = sweep.run()
    runs = [Run(scenario, seed=seed) for seed in seeds]
    with np.errstate(all="ignore"):
        assert list(result.status) == [run.train() for run in runs]
    assert list(sweep.stopped_at) == [run.epoch for run in runs]
    assert sweep.net_epochs == sum(run.epoch for run in runs)
    # the mix that makes the comparison: runs whose weights overflowed while the loss was
    # still finite, and runs that converged or ran out of epochs
    assert any(run.status == DIVERGED and math.isfinite(run.losses[-1]) for run in runs)
    assert {CONVERGED, MAX_EPOCHS} & set(result.status)


def test_a_run_diverges_when_a_weight_is_not_a_finite_number():
    """Not when the weights' sum overflows: 1e308 twice is two finite weights."""
    assert finite_weights(np.array([1e308, 1e308, -0.5]))
    assert not finite_weights(np.array([1.0, np.inf])) and not finite_weights(np.array([np.nan, 1.0]))
    stack = np.array([[1e308, 1e308], [0.0, -np.inf], [np.nan, 2.0]])
    assert finite_weights(stack).tolist() == [True, False, False]


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
