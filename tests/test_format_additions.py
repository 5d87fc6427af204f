"""Three additions to the scenario format: a frozen bias (``bias_trainable = false``), an
output layer's words (``too_high``, ``too_low``) and a story card (``[scenario] card``).

A frozen bias is checked against mathematics, not against itself: dE/db by finite
differences is sum over patterns of delta_j even though training never uses it; a
frozen bias trains exactly as a constant input unit on a frozen connection does (the
paper's own reading of a bias: a weight from a unit that is always on); and the
Shapley values that name a frozen glaze are redone from E written out by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptui.core.blame import knockouts, own_parameters
from bptui.core.catalog import builtin
from bptui.core.errors import InputError
from bptui.core.explain import Param, explain_gradient, explain_own, params
from bptui.core.gradcheck import bias_index, check_gradients, numeric_gradient, parameter_names
from bptui.core.history import History
from bptui.core.network import Network
from bptui.core.report import dumps, inspect_report
from bptui.core.responsibility import responsibility
from bptui.core.save import scenario_toml
from bptui.core.scenario import MAX_CARD, MAX_WORDS, load_scenario, parse_scenario
from bptui.core.snapshot import take_snapshot
from bptui.core.stepper import BACKWARD, UPDATE, Stepper
from bptui.core.sweep import Sweep
from bptui.core.training import CONVERGED, Run, init_weights, training_arrays

# A 2-3-2 network: a tanh hidden layer whose biases are frozen at given values, and a
# sigmoid output layer whose biases are frozen at their random starting values, or trainable.
FROZEN = """
format = 1
[scenario]
title = "frozen biases"
card = "{card}"
[[layers]]
name = "in"
units = ["x1", "x2"]
[[layers]]
name = "h"
size = 3
activation = "tanh"
bias = [0.4, -0.7, 1.1]
bias_trainable = false
[[layers]]
name = "out"
size = 2
activation = "sigmoid"
bias_trainable = {out_trainable}
too_high = "too keen"
too_low = "too shy"
[[connections]]
from = "in"
to = "h"
[[connections]]
from = "h"
to = "out"
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2]]
targets = [[0, 1], [1, 0], [1, 0.3], [0, 0.9], [0.5, 0.5]]
[training]
update = "{update}"
learning_rate = 0.6
momentum = 0.9
weight_decay = 0.01
epochs = 60
error_criterion = 0
weight_init = 1.0
seed = 7
"""


def frozen(update: str = "batch", out_trainable: str = "false", card: str = "Press space.") -> str:
    return FROZEN.replace("{update}", update).replace("{out_trainable}", out_trainable).replace("{card}", card)


def frozen_places(net: Network) -> np.ndarray:
    """The places in theta of every frozen bias."""
    index = net.views(np.arange(net.size)).biases
    return np.concatenate([index[u.index].ravel() for u in net.layers if u.b is not None and u.b_grad is None])


# --- The loader --------------------------------------------------------------------------------

def test_the_new_keys_load_with_their_defaults_and_values():
    s = parse_scenario(frozen())
    h, out = s.layer("h"), s.layer("out")
    assert (h.bias_trainable, out.bias_trainable) == (False, False)
    assert (out.too_high, out.too_low) == ("too keen", "too shy") and h.too_high is h.too_low is None
    assert s.card == "Press space."
    plain = parse_scenario(frozen(out_trainable="true").replace('too_high = "too keen"\ntoo_low = "too shy"\n', "")
                           .replace('card = "Press space."\n', ""))
    assert plain.layer("out").bias_trainable and plain.layer("out").too_high is None and plain.card == ""


def test_words_and_card_at_their_limits_load_and_one_more_character_does_not():
    words, card = "é" * MAX_WORDS, "a" * MAX_CARD
    text = frozen(card=card).replace('"too keen"', f'"{words}"')
    s = parse_scenario(text)
    assert s.layer("out").too_high == words and s.card == card
    with pytest.raises(InputError, match="too_high: is 41 characters long; the limit is 40"):
        parse_scenario(frozen().replace('"too keen"', f'"{words}é"'))
    with pytest.raises(InputError, match="card: is 401 characters long; the limit is 400"):
        parse_scenario(frozen(card=card + "a"))


def test_an_unprintable_word_is_refused_and_not_echoed():
    with pytest.raises(InputError) as caught:
        parse_scenario(frozen().replace('"too shy"', '"too\\u2028shy"'))
    assert "must be printable text on one line" in str(caught.value) and "\u2028" not in str(caught.value)


# --- The engine: layout, gradients, training -----------------------------------------------------

def test_a_frozen_bias_is_part_of_theta_but_not_of_grad():
    net = Network(parse_scenario(frozen(out_trainable="true")))
    h, out = net.layer("h"), net.layer("out")
    assert h.b_grad is None and not h.bias_trainable and out.b_grad is not None
    assert np.shares_memory(h.b, net.theta)
    # trainable weights, trainable biases | frozen weights (none), frozen biases
    assert net.n_trainable == 2 * 3 + 3 * 2 + 2 and net.size == net.n_trainable + 3
    assert frozen_places(net).tolist() == [net.size - 3, net.size - 2, net.size - 1]
    assert h.index not in net.views(net.grad).biases


@pytest.mark.parametrize("out_trainable", ["true", "false"])
def test_backprop_agrees_with_finite_differences_beside_a_frozen_bias(out_trainable):
    """Every trainable parameter's dE/dw by central differences; and the frozen biases,
    which backprop gives no gradient, still move E exactly as sum over patterns of delta_j."""
    scenario = parse_scenario(frozen(out_trainable=out_trainable))
    net = Network(scenario)
    init_weights(net, scenario, 3)
    x, t, care = training_arrays(scenario, ~scenario.data.test)
    p = net.gradient(x, t, care)
    numeric = numeric_gradient(net, x, t, care)
    assert not numeric.corner.any()
    np.testing.assert_allclose(net.grad, numeric.dE_dw, rtol=1e-6, atol=1e-9)
    places = frozen_places(net)
    slope = numeric_gradient(net, x, t, care, indices=places).dE_dw
    frozen_units = [u for u in net.layers if u.b is not None and u.b_grad is None]
    by_delta = np.concatenate([p.delta[u.index].sum(axis=0) for u in frozen_units])  # dE/db_j
    assert np.abs(slope).min() > 1e-4  # the frozen biases matter to E
    np.testing.assert_allclose(slope, by_delta, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("update", ["batch", "online"])
def test_training_never_moves_a_frozen_bias(update):
    """Momentum 0.9 and weight decay 0.01, batch and online: the frozen biases keep their
    bits while everything trainable moves."""
    run = Run(parse_scenario(frozen(update)))
    places = frozen_places(run.network)
    start = run.network.theta.copy()
    assert run.train() == "max_epochs" and run.epoch == 60
    assert run.network.theta[places].tobytes() == start[places].tobytes()
    assert run.network.layer("h").b[0].tolist() == [0.4, -0.7, 1.1]
    trainable = run.network.theta[: run.network.n_trainable]
    assert (trainable != start[: run.network.n_trainable]).all()


def test_a_frozen_bias_set_by_hand_keeps_its_value_through_training_and_steps():
    run = Run(parse_scenario(frozen("online")))
    run.network.layer("h").b[0, 1] = 0.25  # what the app's edit dialog does
    run.train_epoch()
    stepper = Stepper(run)
    while stepper.step() != UPDATE:
        pass
    assert run.network.layer("h").b[0].tolist() == [0.4, 0.25, 1.1]


def test_a_frozen_bias_trains_as_a_constant_input_on_a_frozen_connection_does():
    """net_j = sum_i w_ji a_i + b_j: a bias is a weight from a unit that is always on. So a
    frozen bias must give the very training of a network with an input unit fixed at 1
    whose frozen connection carries the bias values, and no bias of its own."""
    rng = np.random.default_rng(11)
    w_in, w_out, b_out = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 2)
    rows = lambda m: "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in m) + "]"
    common = frozen(out_trainable="true").replace('card = "Press space."\n', "")
    common = common.replace('from = "in"\nto = "h"\n', f'from = "in"\nto = "h"\nweights = {rows(w_in)}\n')
    common = common.replace('from = "h"\nto = "out"\n', f'from = "h"\nto = "out"\nweights = {rows(w_out)}\n')
    common = common.replace("bias_trainable = true\n", f"bias = [{float(b_out[0])!r}, {float(b_out[1])!r}]\n")
    with_bias = common
    with_unit = common.replace('bias = [0.4, -0.7, 1.1]\nbias_trainable = false\n', "bias = false\n")
    with_unit = with_unit.replace('[[layers]]\nname = "h"', '[[layers]]\nname = "on"\nunits = ["1"]\n\n'
                                  '[[layers]]\nname = "h"')
    with_unit = with_unit.replace("[data]", '[[connections]]\nfrom = "on"\nto = "h"\nweights = [[0.4], [-0.7], [1.1]]\n'
                                  "trainable = false\n[data]")
    with_unit = with_unit.replace("inputs = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2]]",
                                  "inputs = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0.5, 0.2, 1]]")
    a, b = Run(parse_scenario(with_bias)), Run(parse_scenario(with_unit))
    a.train(), b.train()
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-12)
    for name in ("in", "h"):
        la = next(link for link in a.network.links if link.sender.name == name)
        lb = next(link for link in b.network.links if link.sender.name == name)
        np.testing.assert_allclose(la.w, lb.w, rtol=1e-10)
    np.testing.assert_allclose(a.network.layer("out").b, b.network.layer("out").b, rtol=1e-10)
    assert a.network.layer("h").b[0].tolist() == [0.4, -0.7, 1.1]


@pytest.mark.parametrize("update", ["batch", "online"])
def test_a_sweep_with_frozen_biases_is_bit_for_bit_its_single_runs(update):
    scenario = parse_scenario(frozen(update))
    seeds = [1, 2, 3, 5]
    sweep = Sweep(scenario, seeds)
    result = sweep.run()
    assert result.status == ("max_epochs",) * 4  # error_criterion 0: every run is in the stack to the end
    for row, seed in enumerate(seeds):
        run = Run(scenario, seed=seed)
        run.train()
        assert sweep.theta[row].tobytes() == run.network.theta.tobytes()
        assert sweep.theta[row][frozen_places(run.network)].tolist()[:3] == [0.4, -0.7, 1.1]


# --- Its users: gradient check, explanations, snapshot, inspect, history ------------------------

def test_a_gradient_check_says_a_frozen_bias_is_frozen_and_checks_the_rest():
    run = Run(parse_scenario(frozen(out_trainable="true")))
    with pytest.raises(ValueError, match="the bias of layer 'h' is frozen"):
        bias_index(run.network, "h", 0)
    assert run.network.theta[bias_index(run.network, "out", 1)] == run.network.layer("out").b[0, 1]
    check = check_gradients(run)
    assert check.ok and len(check.rows) == run.network.n_trainable
    assert not any(name.startswith("b(h") for name in parameter_names(run.network))


def test_explanations_treat_a_frozen_bias_as_a_frozen_weight_but_count_it_as_own():
    run = Run(parse_scenario(frozen()))
    p = run.inspect()
    with pytest.raises(ValueError, match="the bias of h is frozen"):
        explain_gradient(run, p, Param("h", 0))
    assert all(param.sender is not None for param in params(run.network))  # every bias here is frozen
    own = explain_own(run, p, "h", 2)
    assert "b(h[2])" in own.arithmetic or any("b(h" in line for line in own.lines)


def test_a_snapshot_and_inspect_show_a_frozen_bias_without_gradient_or_change():
    run = Run(parse_scenario(frozen(out_trainable="true")))
    run.keep_last_change = True
    run.train_epoch()
    snap = take_snapshot(run, run.inspect(), "paused", counterfactuals=True)
    h, out = snap.layer("h"), snap.layer("out")
    assert h.bias.tolist() == [0.4, -0.7, 1.1] and h.bias_grad is None and h.bias_change is None
    assert out.bias_grad is not None and out.bias_change is not None
    report = json.loads(dumps(inspect_report(run)))
    assert report["layers"]["h"]["bias"] == [0.4, -0.7, 1.1]
    assert report["layers"]["h"]["bias_gradient"] is None and report["layers"]["h"]["bias_trainable"] is False
    assert len(report["layers"]["out"]["bias_gradient"]) == 2 and report["layers"]["out"]["bias_trainable"] is True


def test_going_back_in_time_keeps_a_frozen_bias_set_by_hand():
    run = Run(parse_scenario(frozen()))
    run.network.layer("h").b[0, 0] = -2.0
    history = History(run)
    run.max_epochs = 10
    run.train(on_epoch=history.record)
    assert history.restore(4) == 4 and run.network.layer("h").b[0, 0] == -2.0


# --- Save and load -----------------------------------------------------------------------------

def test_save_and_load_keep_every_new_key_and_a_hand_set_frozen_bias(tmp_path):
    card = 'Two "lines",\nwith a back\\slash and a tab\there. Press space.'
    text = frozen(card=card.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t"))
    run = Run(parse_scenario(text))
    run.network.layer("h").b[0, 2] = 0.123456789012345
    run.train()
    saved = parse_scenario(scenario_toml(run, tmp_path / "saved.toml"), "saved.toml")
    assert saved.card == card
    for layer in ("h", "out"):
        assert saved.layer(layer).bias_trainable is False
    assert (saved.layer("out").too_high, saved.layer("out").too_low) == ("too keen", "too shy")
    assert saved.layer("h").bias_values == (0.4, -0.7, 0.123456789012345)
    again = Run(saved)
    assert again.network.theta.tobytes() == run.network.theta.tobytes()
    plain = parse_scenario(scenario_toml(Run(parse_scenario(frozen(card=""))), tmp_path / "p.toml"), "p.toml")
    assert plain.card == ""


# --- The biscuit factory's glaze: blame and responsibility against hand-written E --------------

def biscuit_E(scoop: float, pinch: float, glaze: float) -> float:
    """E of the biscuit factory, written out: every stage passes the salt on (x1), so the
    saltiness is scoop x salt + pinch + glaze, against the recipe's salt."""
    salt = np.array([0.5, 1.0, 2.0] + [0.0] * 17)
    return 0.5 * float(np.sum((scoop * salt + pinch + glaze - salt) ** 2))


def test_the_glaze_is_a_frozen_bias_that_blame_and_responsibility_see():
    run = Run(load_scenario(builtin()["biscuit-factory"]))
    baking = run.network.layer("baking")
    assert baking.b_grad is None and baking.b[0, 0] == 0.0
    baking.b[...] = 0.3  # "put the cursor on baking, press enter and type 0.3"
    net = run.network
    assert net.theta[own_parameters(net, baking, 0)].tolist() == [0.3]
    knocked = knockouts(net, run.x, run.t, run.care)
    assert knocked["baking"][0] == pytest.approx(biscuit_E(2, 0, 0.3) - biscuit_E(2, 0, 0), rel=1e-12)
    # Two players against the fault-free factory (scoop 1, no glaze): their Shapley values.
    resp = responsibility(net, run.x, run.t, run.care)
    assert resp.exact and sorted(resp.players) == [("baking", 0), ("mixing", 0)]
    none, both = biscuit_E(1, 0, 0), biscuit_E(2, 0, 0.3)
    scoop_only, glaze_only = biscuit_E(2, 0, 0), biscuit_E(1, 0, 0.3)
    mixing = 0.5 * ((scoop_only - none) + (both - glaze_only))
    glaze = 0.5 * ((glaze_only - none) + (both - scoop_only))
    assert resp.values["mixing"][0] == pytest.approx(mixing, rel=1e-12)
    assert resp.values["baking"][0] == pytest.approx(glaze, rel=1e-12) and glaze > 0
    run.train()
    assert run.status == CONVERGED and baking.b[0, 0] == 0.3


# --- The shipped stories -----------------------------------------------------------------------

STORIES = ("biscuit-factory", "biscuit-factory-baking", "biscuit-factory-preservative", "tutoring-chain",
           "xor", "xor-2-1-1")


@pytest.mark.parametrize("name", STORIES)
def test_each_story_has_a_card_that_ends_with_what_to_press(name):
    card = load_scenario(builtin()[name]).card
    assert 0 < len(card) <= MAX_CARD and card.isprintable()
    assert "Press " in card and card.endswith(".")


@pytest.mark.parametrize("name, too_high, too_low", [
    ("biscuit-factory", "too salty", "too bland"), ("biscuit-factory-baking", "too salty", "too bland"),
    ("biscuit-factory-preservative", "too salty", "too bland"),
    ("tutoring-chain", "scores above her target", "scores below her target")])
def test_the_factory_and_the_tutors_have_words_for_a_miss(name, too_high, too_low):
    (output,) = load_scenario(builtin()[name]).output_layers
    assert (output.too_high, output.too_low) == (too_high, too_low)


def test_the_biscuit_factory_card_is_what_the_app_shows():
    """"Press . six times to watch the salt go in and the blame come back to the mixer;
    space trains it away." (its numbers are checked in tests/test_blame_doc.py)"""
    scenario = load_scenario(builtin()["biscuit-factory"])
    assert "Press . six times" in scenario.card and "space trains it away" in scenario.card
    stepper = Stepper(Run(scenario))
    phases = [stepper.step() for _ in range(6)]
    assert phases[0] == "forward" and phases[-1] == BACKWARD + "mixing"
    run = Run(scenario)
    assert run.train() == CONVERGED
    assert run.network.links[0].w[0, 0] == pytest.approx(1.0, abs=0.01)


def test_the_xor_cards_are_what_training_shows():
    xor = Run(load_scenario(builtin()["xor"]))
    assert "the loss sits on a plateau, then falls" in xor.scenario.card
    assert xor.train() == CONVERGED
    losses = np.array(xor.losses)
    assert (np.abs(losses[: len(losses) // 2] - 0.5) < 0.01).all() and losses[-1] < 0.04
    one = Run(load_scenario(builtin()["xor-2-1-1"]))
    assert "With this seed it learns AND" in one.scenario.card
    assert one.train() == CONVERGED
    hidden = one.inspect().a[one.network.layer("hidden").index][:, 0]
    both_on = (one.x == 1).all(axis=1)
    assert (hidden[both_on] > 0.8).all() and (hidden[~both_on] < 0.1).all()


def test_the_tutoring_card_is_what_stepping_shows():
    """"her score, her error, then the blame going back one tutor at a time, shrinking as it goes." """
    run = Run(load_scenario(builtin()["tutoring-chain"]))
    assert "then the blame going back one tutor at a time, shrinking as it goes" in run.scenario.card
    stepper = Stepper(run)
    phases = [stepper.step() for _ in range(5)]
    assert phases == ["forward", "loss"] + [BACKWARD + name for name in ("Sunita", "Arjun", "Priya")]
    delta = stepper.pass_.delta
    sizes = [abs(float(delta[run.network.layer(name).index][0, 0])) for name in ("Sunita", "Arjun", "Priya")]
    assert sizes[0] > sizes[1] > sizes[2] > 0
