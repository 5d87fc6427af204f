"""Same file and same seed give the same run, bit for bit (SPEC section 4).

Also: a different seed gives different starting weights; weights and biases given in
the file are used exactly; and giving some of them does not change the random draws
of the others.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bptui.core.scenario import load_scenario
from bptui.core.training import Run

ROOT = Path(__file__).resolve().parent.parent

NET = """
    format = 1

    [scenario]
    title = "determinism"

    [[layers]]
    name = "in"
    size = 3

    [[layers]]
    name = "hid"
    size = 4
    activation = "tanh"
    {hid_bias}

    [[layers]]
    name = "out"
    size = 2
    activation = "sigmoid"

    [[connections]]
    from = "in"
    to = "hid"
    {in_hid}

    [[connections]]
    from = "hid"
    to = "out"

    [[connections]]
    from = "in"
    to = "out"
    {in_out}

    [data]
    inputs = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0.5, -1, 0], [2, 0.25, -1]]
    targets = [[0, 1], [1, 0], [1, 0], [0, 1], [1, nan], [0, 0]]

    [training]
    update = "{update}"
    order = "{order}"
    learning_rate = 0.3
    momentum = 0.8
    weight_decay = 0.001
    epochs = 150
    error_criterion = 0.0
    weight_init = 1.0
    seed = {seed}
"""

IN_HID = "weights = [[0.1, -0.2, 0.3], [0.4, -0.5, 0.6], [-0.7, 0.8, -0.9], [1.5, 0.0, -2.25]]"
IN_OUT = "weights = [[0.125, 0.0625, -3.0], [1e-3, -7.5, 0.3333333333333333]]"
HID_BIAS = "bias = [0.05, -0.15, 0.25, -0.35]"


def net_text(update="batch", order="sequential", seed=1, in_hid="", in_out="", hid_bias="") -> str:
    return NET.format(update=update, order=order, seed=seed, in_hid=in_hid, in_out=in_out, hid_bias=hid_bias)


def make_run(write_scenario, name="s.toml", seed_override=None, **kw) -> Run:
    return Run(load_scenario(write_scenario(net_text(**kw), name=name)), seed=seed_override)


def theta_bits(run: Run) -> bytes:
    return run.network.theta.tobytes()


MODES = [("batch", "sequential"), ("online", "sequential"), ("online", "shuffled")]


@pytest.mark.parametrize("update,order", MODES)
def test_same_file_same_seed_same_run_bit_for_bit(write_scenario, update, order):
    path = write_scenario(net_text(update=update, order=order, seed=7))
    a = Run(load_scenario(path))
    b = Run(load_scenario(path))  # loaded again: nothing carries over between loads
    assert theta_bits(a) == theta_bits(b)
    assert a.train() == b.train() == "max_epochs"
    assert len(a.losses) == 150
    assert a.losses == b.losses  # float ==, element by element
    assert theta_bits(a) == theta_bits(b)
    np.testing.assert_array_equal(a.network.theta, b.network.theta)
    assert a.dw.tobytes() == b.dw.tobytes()
    # It did learn something, so the comparison was not of two idle runs.
    assert a.losses[-1] < a.losses[0]


@pytest.mark.parametrize("update,order", MODES)
def test_reset_replays_the_same_run(write_scenario, update, order):
    run = make_run(write_scenario, update=update, order=order, seed=3)
    start = theta_bits(run)
    run.train()
    first_losses, first_end = list(run.losses), theta_bits(run)
    run.reset()
    assert theta_bits(run) == start and run.epoch == 0 and run.losses == []
    run.train()
    assert run.losses == first_losses
    assert theta_bits(run) == first_end


def test_seed_given_to_the_run_equals_seed_in_the_file(write_scenario):
    from_file = make_run(write_scenario, name="a.toml", seed=11, update="online", order="shuffled")
    overridden = make_run(write_scenario, name="b.toml", seed=1, seed_override=11, update="online", order="shuffled")
    assert theta_bits(from_file) == theta_bits(overridden)
    from_file.train()
    overridden.train()
    assert from_file.losses == overridden.losses
    assert theta_bits(from_file) == theta_bits(overridden)


def test_same_run_in_separate_processes(tmp_path, write_scenario):
    """Bit for bit across interpreter processes too (different hash seeds)."""
    path = write_scenario(net_text(update="online", order="shuffled", seed=5))
    script = textwrap.dedent(f"""
        import hashlib
        from bptui.core.scenario import load_scenario
        from bptui.core.training import Run
        run = Run(load_scenario({str(path)!r}), max_epochs=40)
        run.train()
        print(hashlib.sha256(run.network.theta.tobytes()).hexdigest())
        print(repr(run.losses))
    """)
    outputs = []
    for hash_seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    here = Run(load_scenario(path), max_epochs=40)
    here.train()
    assert outputs[0].splitlines()[1] == repr(here.losses)


def test_different_seed_different_starting_weights(write_scenario):
    runs = [make_run(write_scenario, name=f"s{seed}.toml", seed=seed) for seed in (1, 2, 3)]
    thetas = [r.network.theta.copy() for r in runs]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.array_equal(thetas[i], thetas[j])
            # not a shifted or partly shared draw: every weight and bias differs
            assert np.all(thetas[i] != thetas[j])
    # Drawn from uniform(-weight_init, weight_init), weight_init = 1.
    for theta in thetas:
        assert np.all(np.abs(theta) <= 1.0)
        assert np.abs(theta).max() > 0.5  # and actually spread over the range
    # The run's seed overrides the file's.
    same_file = [make_run(write_scenario, name="o.toml", seed=1, seed_override=s) for s in (8, 9)]
    assert not np.array_equal(same_file[0].network.theta, same_file[1].network.theta)


@pytest.mark.parametrize("seed", [1, 2, 99])
def test_given_weights_and_biases_are_used_exactly(write_scenario, seed):
    run = make_run(write_scenario, name=f"g{seed}.toml", seed=seed, in_hid=IN_HID, in_out=IN_OUT, hid_bias=HID_BIAS)
    net = run.network
    w_in_hid = net.links[0].w
    w_in_out = net.links[2].w
    assert (net.links[0].sender.name, net.links[0].receiver.name) == ("in", "hid")
    assert (net.links[2].sender.name, net.links[2].receiver.name) == ("in", "out")
    # Exactly the floats the file writes (Python parses the same decimal text the same way).
    expected_in_hid = [[0.1, -0.2, 0.3], [0.4, -0.5, 0.6], [-0.7, 0.8, -0.9], [1.5, 0.0, -2.25]]
    expected_in_out = [[0.125, 0.0625, -3.0], [1e-3, -7.5, 0.3333333333333333]]
    assert w_in_hid.tolist() == expected_in_hid
    assert w_in_out.tolist() == expected_in_out
    assert net.layer("hid").b[0].tolist() == [0.05, -0.15, 0.25, -0.35]
    # Given values may lie outside +-weight_init: they are not clipped or rescaled.
    assert w_in_out[1, 1] == -7.5
    # And they are the starting point again after a reset with another seed.
    run.train()
    run.reset(seed + 1000)
    assert w_in_hid.tolist() == expected_in_hid
    assert w_in_out.tolist() == expected_in_out
    assert net.layer("hid").b[0].tolist() == [0.05, -0.15, 0.25, -0.35]


@pytest.mark.parametrize("given", [
    {"in_hid": IN_HID},
    {"in_out": IN_OUT},
    {"hid_bias": HID_BIAS},
    {"in_hid": IN_HID, "hid_bias": HID_BIAS},
])
@pytest.mark.parametrize("seed", [1, 42])
def test_giving_some_weights_does_not_change_the_others(write_scenario, given, seed):
    plain = make_run(write_scenario, name="plain.toml", seed=seed).network
    partly = make_run(write_scenario, name="partly.toml", seed=seed, **given).network
    compared = 0
    for a, b, name in zip(plain.links, partly.links, ("in_hid", "hid_out", "in_out")):
        if name in given:
            assert not np.array_equal(a.w, b.w)
        else:
            assert a.w.tobytes() == b.w.tobytes(), f"connection {name} drew different weights"
            compared += 1
    for layer in ("hid", "out"):
        a, b = plain.layer(layer).b, partly.layer(layer).b
        if layer == "hid" and "hid_bias" in given:
            assert not np.array_equal(a, b)
        else:
            assert a.tobytes() == b.tobytes(), f"layer {layer} drew different biases"
            compared += 1
    assert compared >= 3


def test_giving_frozen_weights_does_not_change_the_others(write_scenario):
    frozen_given = IN_OUT + "\n    trainable = false"
    frozen_drawn = "trainable = false"
    a = make_run(write_scenario, name="a.toml", in_out=frozen_drawn).network
    b = make_run(write_scenario, name="b.toml", in_out=frozen_given).network
    assert a.links[2].grad is None and b.links[2].grad is None
    assert b.links[2].w.tolist() == [[0.125, 0.0625, -3.0], [1e-3, -7.5, 0.3333333333333333]]
    assert a.links[0].w.tobytes() == b.links[0].w.tobytes()
    assert a.links[1].w.tobytes() == b.links[1].w.tobytes()
    for layer in ("hid", "out"):
        assert a.layer(layer).b.tobytes() == b.layer(layer).b.tobytes()
