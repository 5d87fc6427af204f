"""bptui sweep: many seeds at once give exactly what the same seeds give one by one."""

from __future__ import annotations

import json

import pytest

from bptui.cli import main
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core.sweep import Sweep, SweepResult
from bptui.core.training import Run

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
