"""Warnings about runs that stay finite but stop learning (bptui/core/health.py):
runaway weights and saturated units, in the JSON and the text of ``bptui train``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptui.cli import main
from bptui.core.catalog import builtin
from bptui.core.health import RUNAWAY_NET, SATURATED, run_warnings
from bptui.core.report import train_report
from bptui.core.scenario import load_scenario
from bptui.core.training import DIVERGED, MAX_EPOCHS, Run

XOR_AT_1E6 = [("learning_rate = 0.5", "learning_rate = 1e6")]

# XOR with weights given and no epoch to run: the warnings at a state chosen by hand.
PINNED_TOML = """\
format = 1
[scenario]
title = "pinned"
[[layers]]
name = "input"
units = ["x1", "x2"]
[[layers]]
name = "hidden"
units = ["h1", "h2"]
activation = "{hidden}"
bias = [{b1}, {b2}]
[[layers]]
name = "output"
units = ["y"]
activation = "sigmoid"
bias = [{b_out}]
[[connections]]
from = "input"
to = "hidden"
weights = [[{w}, {w}], [{w}, {w}]]
trainable = {trainable}
[[connections]]
from = "hidden"
to = "output"
weights = [[1.0, 1.0]]
[data]
inputs = [[0, 0], [0, {x}], [{x}, 0], [{x}, {x}]]
targets = [[0], [1], [1], [0]]
[training]
loss = "{loss}"
epochs = 0
"""


def pinned(write_scenario, hidden="sigmoid", b1=40.0, b2=-40.0, b_out=0.0, w=1.0, x=1.0,
           trainable="true", loss="sse") -> Run:
    path = write_scenario(PINNED_TOML.format(hidden=hidden, b1=b1, b2=b2, b_out=b_out, w=w, x=x,
                                             trainable=trainable, loss=loss))
    run = Run(load_scenario(path))
    run.train()  # epochs = 0: the given weights, status max_epochs
    return run


def codes(warnings: list[dict]) -> list[str]:
    return [w["code"] for w in warnings]


def test_xor_at_learning_rate_1e6_is_reported_in_the_json(variant, capsys):
    assert main(["train", str(variant("xor", XOR_AT_1E6)), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == MAX_EPOCHS  # finite: not diverged, yet nothing learned
    assert report["final_loss"] == pytest.approx(1.0)  # two of four outputs wrong by 1: 2 x 1/2
    runaway, saturated = report["warnings"]
    assert (runaway["code"], saturated["code"]) == ("runaway_weights", "saturated_units")
    for warning in report["warnings"]:
        assert warning["text"] and "learning rate" in warning["advice"]
    # Every receiver is a sigmoid and every sender (inputs 0/1, sigmoid hidden units)
    # reaches at most 1: a weight is runaway exactly when |w| > 1e3.
    params = np.concatenate([np.ravel(c["weights"]) for c in report["connections"]]
                            + [np.ravel(layer["bias"]) for layer in report["layers"].values()
                               if layer["bias"] is not None])
    assert runaway["count"] == np.count_nonzero(np.abs(params) > RUNAWAY_NET) > 0
    assert runaway["largest"] == params[np.argmax(np.abs(params))]
    assert abs(runaway["largest"]) > 1e5
    assert saturated["units"] == [{"layer": "hidden", "unit": "h1"}, {"layer": "hidden", "unit": "h2"},
                                  {"layer": "output", "unit": "y"}]
    assert saturated["loss"] == report["final_loss"]
    for p in report["patterns"]:  # the output y sits at a bound on every pattern
        assert min(p["output"][0], 1.0 - p["output"][0]) < SATURATED


def test_xor_at_learning_rate_1e6_is_reported_in_the_text(variant, capsys):
    assert main(["train", str(variant("xor", XOR_AT_1E6))]) == 0
    out = capsys.readouterr().out
    assert "stopped after 5000 epochs without converging" in out
    lines = out.splitlines()
    warnings = [k for k, line in enumerate(lines) if line.startswith("warning: ")]
    assert len(warnings) == 2
    assert "weights and biases have run away" in lines[warnings[0]]
    assert "3 units sit at the end of their range" in lines[warnings[1]]
    assert "Lower the learning rate" in out and "- halves it" in out
    assert all(len(line) <= 80 for line in lines[warnings[0]:])


def test_saturated_hidden_units_pass_no_blame(write_scenario):
    """Biases of +-40 pin both hidden units (sigmoid(40) = 1 - 4e-18); the output, at
    sigmoid(1) = 0.73 on every pattern, is wrong and unsaturated: no weight runs away."""
    run = pinned(write_scenario)
    (warning,) = run_warnings(run)
    assert warning["code"] == "saturated_units"
    assert warning["units"] == [{"layer": "hidden", "unit": "h1"}, {"layer": "hidden", "unit": "h2"}]
    # E = 1/2 sum (y - t)^2 with y = sigmoid(1) on all four: 2 targets 0, 2 targets 1
    y = 1 / (1 + np.exp(-1.0))
    assert warning["loss"] == pytest.approx(0.5 * (2 * y**2 + 2 * (1 - y) ** 2))
    p = run.inspect()
    hidden = p.a[run.network.layer("hidden").index]
    assert np.all(hidden * (1 - hidden) < SATURATED)  # f'(net) about 0 on every pattern
    w = run.network.links[0]  # input -> hidden: dE/dw_ji = sum delta_j a_i, with delta_j ~ 0
    assert np.abs(w.grad).max() < 1e-15
    assert np.abs(run.network.links[1].grad).max() > 0.1  # while the output's own weights still learn


def test_saturated_tanh_units_are_seen(write_scenario):
    (warning,) = run_warnings(pinned(write_scenario, hidden="tanh", b1=25.0, b2=-25.0))
    assert [u["unit"] for u in warning["units"]] == ["h1", "h2"]  # tanh(24) is 1 to rounding


def test_a_saturated_output_blocks_sse_but_not_cross_entropy(write_scenario):
    """With sse the output's delta is (y - t) f'(net): about 0 when y is pinned; with
    cross-entropy it is y - t, which passes whole (bptui/core/functions.py)."""
    sse = run_warnings(pinned(write_scenario, b1=0.0, b2=0.0, b_out=40.0))
    assert [u["unit"] for u in sse[0]["units"]] == ["y"]
    assert run_warnings(pinned(write_scenario, b1=0.0, b2=0.0, b_out=40.0, loss="cross_entropy")) == []


def test_runaway_is_measured_by_what_a_weight_does_to_the_net_input(write_scenario):
    """|w| 5000 on inputs of 0.001 moves net by 5 (no warning); |w| 2 on inputs of 1000
    moves it by 2000 (a warning, for all four weights)."""
    small = run_warnings(pinned(write_scenario, b1=0.0, b2=0.0, w=5000.0, x=0.001))
    assert "runaway_weights" not in codes(small)
    large = run_warnings(pinned(write_scenario, b1=0.0, b2=0.0, w=2.0, x=1000.0))
    runaway = next(w for w in large if w["code"] == "runaway_weights")
    assert (runaway["count"], runaway["largest"]) == (4, 2.0)


def test_frozen_weights_are_the_files_choice(write_scenario):
    warnings = run_warnings(pinned(write_scenario, b1=0.0, b2=0.0, w=5000.0, trainable="false"))
    assert "runaway_weights" not in codes(warnings)


def test_a_diverged_run_has_its_status_not_a_warning(variant):
    run = Run(load_scenario(variant("biscuit-factory", "diverging")))
    assert run.train() == DIVERGED
    assert run_warnings(run) == [] and train_report(run)["warnings"] == []


# digits at a limited number of epochs (its end, 300, takes a while on a loaded machine).
LIMITED = {"digits": 50}


@pytest.mark.parametrize("name", sorted(builtin()))
def test_no_warning_on_the_shipped_scenarios(name):
    run = Run(load_scenario(builtin()[name]), max_epochs=LIMITED.get(name))
    run.train()
    assert run.status != DIVERGED
    assert run_warnings(run) == []
    assert run_warnings(run, run.inspect()) == []  # the app's pass gives the same answer
