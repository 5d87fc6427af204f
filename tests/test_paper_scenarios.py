"""The scenarios that replay experiments of Rumelhart, Hinton & Williams (1986): they load,
tell a story, learn with their default seed, and learn what their stories say they learn.

Each default run is trained once per test session (``trained``); the symmetry test
trains seeds 1 to 10 once (``symmetry_runs``). The whole file takes a few seconds.
"""

from __future__ import annotations

import statistics
from functools import lru_cache

import numpy as np
import pytest

from bptui.core.catalog import builtin
from bptui.core.report import pattern_results
from bptui.core.scenario import load_scenario
from bptui.core.training import CONVERGED, Run

PAPER = ["symmetry", "xor-2-1-1", "encoder-4-2-4", "encoder-8-3-8", "parity-4", "negation"]

SYMMETRY_SWEEPS = 1425  # Nature 323:533, Fig. 1 caption


@lru_cache(maxsize=None)
def trained(name: str, seed: int | None = None) -> Run:
    """The scenario ``name`` trained from ``seed`` (None: the file's own seed)."""
    run = Run(load_scenario(builtin()[name]), seed=seed)
    run.train()
    return run


def weights(run: Run, sender: str, receiver: str) -> np.ndarray:
    """The weights of one connection, receiving x sending."""
    return next(link.w for link in run.network.links
                if link.sender.name == sender and link.receiver.name == receiver)


def bias(run: Run, layer: str) -> np.ndarray:
    return run.network.layer(layer).b[0]


def hidden(run: Run) -> np.ndarray:
    """The hidden layer's activation for every pattern (patterns x hidden units)."""
    p = run.network.forward(run.scenario.data.inputs)
    return p.a[run.network.layer("hidden").index]


def test_the_paper_scenarios_ship():
    assert set(PAPER) <= set(builtin())


@pytest.mark.parametrize("name", PAPER)
def test_scenario_tells_a_story(name):
    scenario = load_scenario(builtin()[name])
    assert scenario.title and scenario.summary
    assert scenario.story.startswith("# ")
    assert "## What to watch" in scenario.story and "## Try next" in scenario.story


@pytest.mark.parametrize("name", PAPER)
def test_default_run_learns_every_pattern(name):
    run = trained(name)
    assert run.status == CONVERGED
    results = pattern_results(run)
    assert results and all(p["correct"] for p in results)


# --- mirror symmetry (Nature 1986, Fig. 1) ---------------------------------------------


def symmetry_runs() -> list[Run]:
    return [trained("symmetry", seed) for seed in range(1, 11)]


def test_symmetry_is_the_paper_setting():
    s = load_scenario(builtin()["symmetry"])
    assert [layer.size for layer in s.layers] == [6, 2, 1]
    t = s.training
    assert (t.learning_rate, t.momentum, t.weight_init, t.update, t.loss) == (0.1, 0.9, 0.3, "batch", "sse")
    assert len(s.data.inputs) == 64 and s.data.targets.sum() == 8
    mirrored = (s.data.inputs == s.data.inputs[:, ::-1]).all(axis=1)
    assert np.array_equal(mirrored, s.data.targets[:, 0] == 1)


def test_symmetry_learns_about_as_fast_as_the_paper():
    """At least 7 of seeds 1 to 10 learn, in a median within 0.5x to 2x the paper's 1,425
    sweeps. (Measured: 8 of 10, median 1,400; seeds 4 and 7 stay on the loss-4 plateau.)"""
    runs = symmetry_runs()
    epochs = [run.epoch for run in runs if run.status == CONVERGED]
    assert len(epochs) >= 7
    assert 0.5 * SYMMETRY_SWEEPS <= statistics.median(epochs) <= 2 * SYMMETRY_SWEEPS


def test_symmetry_learns_the_papers_mirror_weights():
    """What the paper says of its solution, in every run that learned (seeds 1 to 10):
    for each hidden unit, the weights from mirror positions are of opposite sign and
    equal size; the two hidden units hold the same weights with opposite signs; the
    hidden biases are negative and the output's bias positive.

    (The 1 : 2 : 4 ratio is not checked across seeds: about one run in three learns
    another ratio that works too, near 1 : 1.5 : 2. It is checked for the default seed.)
    """
    learned = [run for run in symmetry_runs() if run.status == CONVERGED]
    assert learned
    for run in learned:
        w = weights(run, "input", "hidden")  # 2 hidden units x 6 inputs
        for unit in w:
            left, right = unit[:3], unit[::-1][:3]  # x1 x2 x3 against x6 x5 x4
            assert np.all(np.sign(left) == -np.sign(right))
            assert np.all(np.abs(left + right) <= 0.05 * np.abs(left))
            assert np.all(np.abs(unit) > 1.0)  # learned, not left near the starting +-0.3
        assert np.allclose(w[0], -w[1], rtol=0.1)
        assert np.all(bias(run, "hidden") < 0) and np.all(bias(run, "output") > 0)
        assert np.all(weights(run, "hidden", "output") < 0)


def test_symmetry_default_seed_learns_the_1_2_4_ratio():
    run = trained("symmetry")
    for unit in weights(run, "input", "hidden"):
        sizes = np.sort(np.abs(unit[:3]))
        assert np.allclose(sizes / sizes[0], [1, 2, 4], rtol=0.05)


# --- the other experiments: what their stories say the default run learns -----------


def test_xor_2_1_1_has_one_hidden_unit_and_direct_links():
    s = load_scenario(builtin()["xor-2-1-1"])
    assert [layer.size for layer in s.layers] == [2, 1, 1]
    assert {(c.sender, c.receiver) for c in s.connections} == {
        ("input", "hidden"), ("input", "output"), ("hidden", "output")}
    t = s.training
    assert (t.learning_rate, t.momentum, t.update) == (0.5, 0.9, "batch")


def test_xor_2_1_1_default_hidden_unit_is_an_and_detector():
    h = hidden(trained("xor-2-1-1"))[:, 0]  # patterns 00, 01, 10, 11
    assert np.all(h[:3] < 0.2) and h[3] > 0.8
    assert weights(trained("xor-2-1-1"), "hidden", "output")[0, 0] < 0


@pytest.mark.parametrize("name", ["encoder-4-2-4", "encoder-8-3-8"])
def test_encoder_default_run_finds_a_binary_code(name):
    """Every pattern gets its own corner: each hidden unit clearly on or off, no two
    patterns with the same code."""
    h = hidden(trained(name))
    assert np.all(np.abs(h - 0.5) > 0.25)
    codes = {tuple(row > 0.5) for row in h}
    assert len(codes) == len(h)


def test_encoder_4_2_4_is_the_bp_exercise():
    s = load_scenario(builtin()["encoder-4-2-4"])
    assert tuple(s.data.names) == ("one", "two", "three", "four")
    t = s.training
    assert (t.learning_rate, t.momentum, t.update, t.order) == (0.5, 0.9, "online", "sequential")


def test_parity_4_default_hidden_units_count_the_bits():
    """Each hidden unit has nearly the same weight from all four inputs, and their
    thresholds differ: a thermometer of the number of bits on."""
    run = trained("parity-4")
    w = weights(run, "input", "hidden")
    assert w.shape == (4, 4)
    spread = (w.max(axis=1) - w.min(axis=1)) / np.abs(w).max(axis=1)
    assert np.all(spread < 0.2)
    h = hidden(run)
    counts = run.scenario.data.inputs.sum(axis=1)
    on = [frozenset(int(c) for c in counts[h[:, j] > 0.5]) for j in range(4)]
    assert sorted(on, key=len) == [frozenset(range(k)) for k in range(1, 5)]


def test_negation_hidden_units_listen_to_the_flag():
    run = trained("negation")
    w = weights(run, "input", "hidden")  # columns: negate, b1, b2, b3
    biggest = np.abs(w).argmax(axis=1)
    assert np.sum(biggest == 0) >= 4
