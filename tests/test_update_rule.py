"""The update rule and the loss of an epoch (SPEC section 4), on examples worked by hand.

The network is one input unit x feeding one output unit y with a bias:

    y = f(w x + b)        E = 1/2 sum over patterns of (y - t)^2

with two patterns, (x=1, t=1) and (x=2, t=0), starting at w = 0.5, b = 0. For a linear
output the error signal of a pattern is err = y - t, and

    dE/dw = sum of err * x        dE/db = sum of err

Every expected number below was worked out by hand, step by step, in the comments; the
engine's own functions are never used to compute an expectation.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import OVERFLOW_TOML

from bptui.core.scenario import load_scenario
from bptui.core.training import CONVERGED, DIVERGED, MAX_EPOCHS, Run

TINY = """
    format = 1

    [scenario]
    title = "tiny"

    [[layers]]
    name = "in"
    units = ["x"]

    [[layers]]
    name = "out"
    units = ["y"]
    activation = "{activation}"
    bias = [{b}]

    [[connections]]
    from = "in"
    to = "out"
    weights = [[{w}]]

    [data]
    inputs = [[1], [2]]
    targets = [[1], [0]]

    [training]
    error_criterion = {criterion}
    weight_init = 1.0
    {training}
"""


def tiny(write_scenario, training: str, activation: str = "linear", w: float = 0.5, b: float = 0.0,
         criterion: float = 0.0, **kw) -> Run:
    text = TINY.format(activation=activation, w=w, b=b, training=training, criterion=criterion)
    return Run(load_scenario(write_scenario(text)), **kw)


def wb(run: Run) -> tuple[float, float]:
    return float(run.network.links[0].w[0, 0]), float(run.network.layer("out").b[0, 0])


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-14)


def test_batch_with_momentum(write_scenario):
    run = tiny(write_scenario, """
    update = "batch"
    learning_rate = 0.1
    momentum = 0.5
    """)
    assert wb(run) == (0.5, 0.0)

    # Epoch 1 at w = 0.5, b = 0:
    #   y1 = 0.5, err1 = -0.5;  y2 = 1.0, err2 = 1.0
    #   E = 1/2 (0.25 + 1) = 0.625
    #   dE/dw = -0.5*1 + 1.0*2 = 1.5;  dE/db = -0.5 + 1.0 = 0.5
    #   dw = -0.1*1.5 = -0.15;  db = -0.1*0.5 = -0.05   ->  w = 0.35, b = -0.05
    run.train_epoch()
    assert run.losses == [approx(0.625)]
    assert wb(run) == (approx(0.35), approx(-0.05))

    # Epoch 2:
    #   y1 = 0.35 - 0.05 = 0.30, err1 = -0.70;  y2 = 0.70 - 0.05 = 0.65, err2 = 0.65
    #   E = 1/2 (0.49 + 0.4225) = 0.45625
    #   dE/dw = -0.70 + 1.30 = 0.60;  dE/db = -0.70 + 0.65 = -0.05
    #   dw = -0.06 + 0.5*(-0.15) = -0.135;  db = 0.005 + 0.5*(-0.05) = -0.02
    #   -> w = 0.215, b = -0.07
    run.train_epoch()
    assert run.losses == [approx(0.625), approx(0.45625)]
    assert wb(run) == (approx(0.215), approx(-0.07))

    # Epoch 3:
    #   y1 = 0.215 - 0.07 = 0.145, err1 = -0.855;  y2 = 0.43 - 0.07 = 0.36, err2 = 0.36
    #   E = 1/2 (0.731025 + 0.1296) = 0.4303125
    #   dE/dw = -0.855 + 0.72 = -0.135;  dE/db = -0.855 + 0.36 = -0.495
    #   dw = 0.0135 + 0.5*(-0.135) = -0.054;  db = 0.0495 + 0.5*(-0.02) = 0.0395
    #   -> w = 0.161, b = -0.0305
    run.train_epoch()
    assert run.losses == [approx(0.625), approx(0.45625), approx(0.4303125)]
    assert wb(run) == (approx(0.161), approx(-0.0305))
    assert run.epoch == 3


def test_batch_without_momentum_is_plain_gradient_descent(write_scenario):
    run = tiny(write_scenario, """
    learning_rate = 0.1
    momentum = 0.0
    """)
    # Epoch 1 as above: w = 0.35, b = -0.05, E = 0.625.
    # Epoch 2: dE/dw = 0.60, dE/db = -0.05 -> w = 0.35 - 0.06 = 0.29, b = -0.05 + 0.005 = -0.045
    # Epoch 3: y1 = 0.245, err1 = -0.755; y2 = 0.535, err2 = 0.535
    #   E = 1/2 (0.570025 + 0.286225) = 0.428125
    for _ in range(3):
        run.train_epoch()
    assert run.losses == [approx(0.625), approx(0.45625), approx(0.428125)]
    # Epoch 3 change: dE/dw = -0.755 + 1.07 = 0.315, dE/db = -0.22
    #   -> w = 0.29 - 0.0315 = 0.2585, b = -0.045 + 0.022 = -0.023
    assert wb(run) == (approx(0.2585), approx(-0.023))


def test_batch_sigmoid_output(write_scenario):
    """delta = (a - t) f'(net) with f' = a (1 - a)."""
    run = tiny(write_scenario, """
    learning_rate = 1.0
    momentum = 0.0
    """, activation="sigmoid", w=0.0, b=0.0)
    # Epoch 1: every net is 0, so a = 0.5 and f'(net) = 0.25.
    #   E = 1/2 ((0.5 - 1)^2 + 0.5^2) = 0.25
    #   delta1 = -0.5 * 0.25 = -0.125; delta2 = 0.5 * 0.25 = 0.125
    #   dE/dw = -0.125*1 + 0.125*2 = 0.125;  dE/db = 0  ->  w = -0.125, b = 0
    run.train_epoch()
    assert run.losses == [approx(0.25)]
    assert wb(run) == (approx(-0.125), approx(0.0))
    # Epoch 2: net1 = -0.125, net2 = -0.25.
    a1 = 1 / (1 + math.exp(0.125))
    a2 = 1 / (1 + math.exp(0.25))
    E2 = 0.5 * ((a1 - 1) ** 2 + a2**2)
    d1 = (a1 - 1) * a1 * (1 - a1)
    d2 = (a2 - 0) * a2 * (1 - a2)
    run.train_epoch()
    assert run.losses[1] == approx(E2)
    assert wb(run) == (approx(-0.125 - (d1 * 1 + d2 * 2)), approx(0.0 - (d1 + d2)))
    assert 0.23 < E2 < 0.24  # a1 = 0.4688, a2 = 0.4378: the hand numbers are sane


FROZEN = """
    format = 1

    [scenario]
    title = "decay"

    [[layers]]
    name = "x"
    units = ["x"]

    [[layers]]
    name = "z"
    units = ["z"]

    [[layers]]
    name = "out"
    units = ["y"]
    activation = "linear"
    bias = [0.0]

    [[connections]]
    from = "x"
    to = "out"
    weights = [[0.5]]

    [[connections]]
    from = "z"
    to = "out"
    weights = [[0.25]]
    trainable = false

    [data]
    inputs = [[1, 1], [2, 0]]
    targets = [[1], [0]]

    [training]
    learning_rate = 0.1
    momentum = 0.0
    weight_decay = 0.1
    error_criterion = 0.0
"""


def test_weight_decay_spares_frozen_weights(write_scenario):
    run = Run(load_scenario(write_scenario(FROZEN)))
    w = lambda: float(run.network.links[0].w[0, 0])  # noqa: E731
    v = lambda: float(run.network.links[1].w[0, 0])  # noqa: E731  frozen
    b = lambda: float(run.network.layer("out").b[0, 0])  # noqa: E731
    # y = w x + v z + b with w = 0.5, v = 0.25 (frozen), b = 0.
    # Epoch 1: y1 = 0.5 + 0.25 = 0.75, err1 = -0.25;  y2 = 1.0, err2 = 1.0
    #   E = 1/2 (0.0625 + 1) = 0.53125
    #   dE/dw = -0.25 + 2.0 = 1.75;  dE/db = 0.75
    #   w = (0.5 - 0.175) * 0.9 = 0.2925;  b = (0 - 0.075) * 0.9 = -0.0675;  v stays 0.25
    run.train_epoch()
    assert run.losses == [approx(0.53125)]
    assert (w(), b()) == (approx(0.2925), approx(-0.0675))
    assert v() == 0.25
    # Epoch 2: y1 = 0.2925 + 0.25 - 0.0675 = 0.475, err1 = -0.525
    #          y2 = 0.585 - 0.0675 = 0.5175, err2 = 0.5175
    #   E = 1/2 (0.275625 + 0.26780625) = 0.271715625
    #   dE/dw = -0.525 + 1.035 = 0.51;  dE/db = -0.0075
    #   w = (0.2925 - 0.051) * 0.9 = 0.21735;  b = (-0.0675 + 0.00075) * 0.9 = -0.060075
    run.train_epoch()
    assert run.losses == [approx(0.53125), approx(0.271715625)]
    assert (w(), b()) == (approx(0.21735), approx(-0.060075))
    assert v() == 0.25


def test_weight_decay_with_momentum_decays_the_weights_not_the_momentum(write_scenario):
    """dw(t) = -lr g + momentum dw(t-1); w += dw; w *= (1 - decay): dw(t-1) is the step, undecayed."""
    run = tiny(write_scenario, """
    learning_rate = 0.1
    momentum = 0.5
    weight_decay = 0.1
    """)
    # Epoch 1: E = 0.625, dE/dw = 1.5, dE/db = 0.5 (as in test_batch_with_momentum)
    #   dw = -0.15, db = -0.05;  w = 0.35 * 0.9 = 0.315;  b = -0.05 * 0.9 = -0.045
    run.train_epoch()
    assert wb(run) == (approx(0.315), approx(-0.045))
    # Epoch 2: y1 = 0.27, err1 = -0.73;  y2 = 0.63 - 0.045 = 0.585, err2 = 0.585
    #   E = 1/2 (0.5329 + 0.342225) = 0.4375625
    #   dE/dw = -0.73 + 1.17 = 0.44;  dE/db = -0.145
    #   dw = -0.044 + 0.5*(-0.15) = -0.119;  db = 0.0145 + 0.5*(-0.05) = -0.0105
    #   w = (0.315 - 0.119) * 0.9 = 0.1764;  b = (-0.045 - 0.0105) * 0.9 = -0.04995
    run.train_epoch()
    assert wb(run) == (approx(0.1764), approx(-0.04995))
    # Epoch 3: y1 = 0.1764 - 0.04995 = 0.12645, err1 = -0.87355
    #          y2 = 0.3528 - 0.04995 = 0.30285, err2 = 0.30285
    #   E = 1/2 (0.7630896025 + 0.0917181225) = 0.4274038625
    #   dE/dw = -0.87355 + 0.6057 = -0.26785;  dE/db = -0.5707
    #   dw = 0.026785 + 0.5*(-0.119) = -0.032715;  db = 0.05707 + 0.5*(-0.0105) = 0.05182
    #   w = (0.1764 - 0.032715) * 0.9 = 0.1293165;  b = (-0.04995 + 0.05182) * 0.9 = 0.001683
    run.train_epoch()
    assert run.losses == [approx(0.625), approx(0.4375625), approx(0.4274038625)]
    assert wb(run) == (approx(0.1293165), approx(0.001683))


def test_schedule_switches_from_epoch_counted_from_1(write_scenario):
    run = tiny(write_scenario, """
    learning_rate = 0.1
    momentum = 0.5

    [[training.schedule]]
    from_epoch = 2
    learning_rate = 0.2
    momentum = 0.25

    [[training.schedule]]
    from_epoch = 3
    momentum = 0.0
    """)
    # Epoch 1 (lr 0.1, momentum 0.5): as in test_batch_with_momentum:
    #   dw = -0.15, db = -0.05  ->  w = 0.35, b = -0.05
    run.train_epoch()
    assert wb(run) == (approx(0.35), approx(-0.05))
    # Epoch 2 (lr 0.2, momentum 0.25): dE/dw = 0.60, dE/db = -0.05, E = 0.45625
    #   dw = -0.2*0.6 + 0.25*(-0.15) = -0.12 - 0.0375 = -0.1575
    #   db = -0.2*(-0.05) + 0.25*(-0.05) = 0.01 - 0.0125 = -0.0025
    #   -> w = 0.1925, b = -0.0525
    run.train_epoch()
    assert wb(run) == (approx(0.1925), approx(-0.0525))
    # Epoch 3 (lr still 0.2: the second entry changes only momentum, to 0):
    #   y1 = 0.1925 - 0.0525 = 0.14, err1 = -0.86;  y2 = 0.385 - 0.0525 = 0.3325, err2 = 0.3325
    #   E = 1/2 (0.7396 + 0.11055625) = 0.425078125
    #   dE/dw = -0.86 + 0.665 = -0.195;  dE/db = -0.5275
    #   dw = 0.039, db = 0.1055  ->  w = 0.2315, b = 0.053
    run.train_epoch()
    assert run.losses == [approx(0.625), approx(0.45625), approx(0.425078125)]
    assert wb(run) == (approx(0.2315), approx(0.053))


def test_schedule_can_change_weight_decay(write_scenario):
    run = tiny(write_scenario, """
    learning_rate = 0.1
    momentum = 0.0

    [[training.schedule]]
    from_epoch = 2
    weight_decay = 0.5
    """)
    # Epoch 1, no decay: w = 0.35, b = -0.05.
    # Epoch 2: dE/dw = 0.60, dE/db = -0.05:  w = (0.35 - 0.06) * 0.5 = 0.145;  b = (-0.05 + 0.005) * 0.5 = -0.0225
    run.train_epoch()
    assert wb(run) == (approx(0.35), approx(-0.05))
    run.train_epoch()
    assert wb(run) == (approx(0.145), approx(-0.0225))


def test_online_sequential_with_momentum(write_scenario):
    run = tiny(write_scenario, """
    update = "online"
    order = "sequential"
    learning_rate = 0.1
    momentum = 0.5
    """)
    # Epoch 1, pattern 1 at w = 0.5, b = 0: y = 0.5, err = -0.5, E = 0.125
    #   g = (-0.5, -0.5);  dw = (0.05, 0.05)  ->  w = 0.55, b = 0.05
    # pattern 2: y = 1.1 + 0.05 = 1.15, err = 1.15, E = 0.66125
    #   g = (2.3, 1.15);  dw = (-0.23 + 0.025, -0.115 + 0.025) = (-0.205, -0.09)  ->  w = 0.345, b = -0.04
    # loss of epoch 1 = 0.125 + 0.66125 = 0.78625
    run.train_epoch()
    assert run.losses == [approx(0.78625)]
    assert wb(run) == (approx(0.345), approx(-0.04))
    # Epoch 2, pattern 1: y = 0.305, err = -0.695, E = 0.2415125
    #   g = (-0.695, -0.695);  dw = (0.0695 - 0.1025, 0.0695 - 0.045) = (-0.033, 0.0245)
    #   -> w = 0.312, b = -0.0155
    # pattern 2: y = 0.624 - 0.0155 = 0.6085, E = 0.185136125
    #   g = (1.217, 0.6085);  dw = (-0.1217 - 0.0165, -0.06085 + 0.01225) = (-0.1382, -0.0486)
    #   -> w = 0.1738, b = -0.0641
    # loss of epoch 2 = 0.2415125 + 0.185136125 = 0.426648625
    run.train_epoch()
    assert run.losses == [approx(0.78625), approx(0.426648625)]
    assert wb(run) == (approx(0.1738), approx(-0.0641))
    # The loss is the sum of each pattern's error before its own change, not E at the end:
    # at w = 0.1738, b = -0.0641 it would be 1/2 (0.8903^2 + 0.2835^2) = 0.43650...
    assert run.losses[1] != approx(0.5 * (0.8903**2 + 0.2835**2))


def test_online_weight_decay_after_every_pattern(write_scenario):
    run = tiny(write_scenario, """
    update = "online"
    learning_rate = 0.1
    momentum = 0.0
    weight_decay = 0.5
    """)
    # pattern 1: err = -0.5, E = 0.125, g = (-0.5, -0.5)
    #   w = (0.5 + 0.05) * 0.5 = 0.275;  b = (0 + 0.05) * 0.5 = 0.025
    # pattern 2: y = 0.55 + 0.025 = 0.575, err = 0.575, E = 0.1653125, g = (1.15, 0.575)
    #   w = (0.275 - 0.115) * 0.5 = 0.08;  b = (0.025 - 0.0575) * 0.5 = -0.01625
    run.train_epoch()
    assert run.losses == [approx(0.125 + 0.1653125)]
    assert wb(run) == (approx(0.08), approx(-0.01625))


def test_batch_loss_is_E_before_the_change(shipped):
    """On XOR (sigmoid hidden layer, momentum): each epoch's loss is E at its starting weights."""
    run = Run(load_scenario(shipped["xor"]))
    for _ in range(6):
        before = float(run.inspect().E)
        theta = run.network.theta.copy()
        run.train_epoch()
        assert run.losses[-1] == before
        assert not np.array_equal(run.network.theta, theta)  # and then it changed


# --- stopping ----------------------------------------------------------------------


def test_error_criterion_stops_after_first_epoch_below_it(write_scenario):
    # losses (see test_batch_with_momentum): 0.625, 0.45625, 0.4303125, ...
    run = tiny(write_scenario, """
    learning_rate = 0.1
    momentum = 0.5
    epochs = 100
    """, criterion=0.44)
    assert run.scenario.training.error_criterion == 0.44
    status = run.train()
    assert status == CONVERGED == "converged"
    assert run.status == CONVERGED
    assert run.epoch == 3
    assert run.losses == [approx(0.625), approx(0.45625), approx(0.4303125)]
    # The converging epoch's change was made: the weights are those after epoch 3.
    assert wb(run) == (approx(0.161), approx(-0.0305))


def test_error_criterion_online(write_scenario):
    # losses (see test_online_sequential_with_momentum): 0.78625, 0.426648625, ...
    run = tiny(write_scenario, """
    update = "online"
    learning_rate = 0.1
    momentum = 0.5
    epochs = 100
    """, criterion=0.5)
    assert run.train() == CONVERGED
    assert run.losses == [approx(0.78625), approx(0.426648625)]
    assert wb(run) == (approx(0.1738), approx(-0.0641))
    # A finished run stays finished.
    assert run.train() == CONVERGED and run.epoch == 2


def test_loss_equal_to_the_criterion_does_not_stop(write_scenario):
    # All weights zero: every output is 0, so E = 1/2 (1 + 0) = 0.5 exactly, and with
    # learning_rate 0 it stays 0.5: "below" is strict.
    run = tiny(write_scenario, "learning_rate = 0.0\nepochs = 4\n", w=0.0, b=0.0, criterion=0.5)
    assert run.train() == MAX_EPOCHS
    assert run.losses == [0.5, 0.5, 0.5, 0.5]


def test_max_epochs(write_scenario):
    run = tiny(write_scenario, """
    learning_rate = 0.1
    momentum = 0.5
    epochs = 3
    """)
    assert run.train() == MAX_EPOCHS == "max_epochs"
    assert run.epoch == 3 and len(run.losses) == 3
    assert run.losses == [approx(0.625), approx(0.45625), approx(0.4303125)]
    # max_epochs given to the run overrides the file's epochs.
    run = tiny(write_scenario, "learning_rate = 0.1\nepochs = 3\n", max_epochs=5)
    assert run.train() == MAX_EPOCHS and len(run.losses) == 5


def test_zero_criterion_never_stops_early(write_scenario):
    # w = -1, b = 2 fits both patterns exactly: y1 = -1 + 2 = 1 = t1, y2 = -2 + 2 = 0 = t2.
    # So E = 0 exactly at every epoch, and still a criterion of 0 does not stop the run.
    run = tiny(write_scenario, "learning_rate = 0.1\nepochs = 5\n", w=-1.0, b=2.0, criterion=0.0)
    assert run.train() == MAX_EPOCHS
    assert run.losses == [0.0] * 5
    assert wb(run) == (-1.0, 2.0)


def test_zero_epochs(write_scenario):
    run = tiny(write_scenario, "epochs = 0\n")
    assert run.train() == MAX_EPOCHS
    assert run.losses == [] and run.epoch == 0
    assert wb(run) == (0.5, 0.0)


DEEP_DIVERGING = OVERFLOW_TOML.format(
    hidden="{hidden}", output="linear", targets="[[1, 0], [0, 1], [5, 5], [-3, 2]]",
    training='learning_rate = 1e6\nupdate = "{update}"\nepochs = 1000\nerror_criterion = 0')


@pytest.mark.parametrize("update", ["batch", "online"])
@pytest.mark.parametrize("hidden", [None, "tanh", "relu", "softmax"])
def test_huge_learning_rate_diverges_without_exception(write_scenario, update, hidden):
    if hidden is None:
        run = tiny(write_scenario, f'learning_rate = 1e6\nmomentum = 0.9\nepochs = 1000\nupdate = "{update}"\n')
    else:
        run = Run(load_scenario(write_scenario(DEEP_DIVERGING.format(hidden=hidden, update=update))))
    with warnings.catch_warnings():
        # Diverging is an outcome, not an error (SPEC section 5): no exception, and not
        # even a numpy RuntimeWarning (overflow, invalid value) leaking out to the user.
        warnings.simplefilter("error")
        status = run.train()
    assert status == DIVERGED == "diverged"
    assert run.status == DIVERGED
    assert 1 < run.epoch < 1000
    assert len(run.losses) == run.epoch
    assert not (math.isfinite(run.losses[-1]) and np.isfinite(run.network.theta).all())
    assert math.isfinite(run.losses[0])  # it started finite
    # A finished run stays finished.
    assert run.train() == DIVERGED and len(run.losses) == run.epoch


# --- online order ------------------------------------------------------------------

SHUFFLED = """
    format = 1

    [scenario]
    title = "shuffled"

    [[layers]]
    name = "in"
    units = ["x"]

    [[layers]]
    name = "out"
    units = ["y"]
    activation = "sigmoid"
    bias = [0.1]

    [[connections]]
    from = "in"
    to = "out"
    weights = [[0.3]]

    [data]
    patterns = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "held"]
    inputs = [[0], [1], [2], [3], [4], [5], [6], [7], [99]]
    targets = [[1], [0], [1], [1], [0], [0], [1], [0], [1]]
    test = ["held"]

    [training]
    update = "online"
    order = "{order}"
    learning_rate = 0.5
    momentum = 0.5
    epochs = 6
    error_criterion = 0.0
    seed = {seed}
"""


def presented(write_scenario, order: str, seed: int, epochs: int = 6) -> tuple[list[list[int]], list[float]]:
    """The patterns each epoch presented, in order (spying on the network), and the losses."""
    run = Run(load_scenario(write_scenario(SHUFFLED.format(order=order, seed=seed), name=f"{order}{seed}.toml")))
    seen: list[int] = []
    real = run.network.gradient

    def spy(x, t, care=None, margin=0.0):
        assert x.shape == (1, 1)  # online: one pattern per change
        seen.append(int(x[0, 0]))
        return real(x, t, care, margin)

    run.network.gradient = spy
    epochs_seen = []
    for _ in range(epochs):
        start = len(seen)
        run.train_epoch()
        epochs_seen.append(seen[start:])
    return epochs_seen, list(run.losses)


def test_online_sequential_presents_patterns_in_file_order(write_scenario):
    orders, _ = presented(write_scenario, "sequential", 1)
    assert orders == [list(range(8))] * 6  # and never the held-out pattern


def test_online_shuffled_presents_every_training_pattern_once_per_epoch(write_scenario):
    orders, losses = presented(write_scenario, "shuffled", 1)
    for order in orders:
        assert sorted(order) == list(range(8))  # each once; the held-out one (99) never
    # Shuffled anew each epoch, not one fixed permutation, and not the file order.
    assert len({tuple(o) for o in orders}) > 1
    assert any(o != list(range(8)) for o in orders)
    assert len(losses) == 6


def test_online_shuffled_order_is_seeded(write_scenario):
    orders_a, losses_a = presented(write_scenario, "shuffled", 1)
    orders_b, losses_b = presented(write_scenario, "shuffled", 1)
    orders_c, losses_c = presented(write_scenario, "shuffled", 2)
    # Same seed: the same order and the same losses, exactly.
    assert orders_a == orders_b
    assert losses_a == losses_b
    # Another seed (all weights are given in the file, so only the order can change it):
    assert orders_c != orders_a
    assert losses_c != losses_a
    for order in orders_c:
        assert sorted(order) == list(range(8))


def test_a_limited_loss_history_stays_bounded_and_evenly_spaced():
    from bptui.core.training import LossHistory

    history = LossHistory(limit=100)
    for epoch in range(1, 100_001):
        history.append(float(epoch))
    assert history.count == 100_000 and history.last == 100_000.0
    assert 100 <= len(history.values) < 200
    steps = np.diff(history.epochs)
    assert history.epochs[0] == 1 and np.all(steps == history.stride)
    assert history.values == [float(e) for e in history.epochs]  # each loss with its own epoch
    unlimited = LossHistory()
    for epoch in range(1, 1001):
        unlimited.append(float(epoch))
    assert unlimited.epochs == list(range(1, 1001))
