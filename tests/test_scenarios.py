"""The shipped scenarios: they load, tell a story, and learn what they claim."""

from __future__ import annotations

import pytest

from bptui.core.report import pattern_results
from bptui.core.scenario import load_scenario
from bptui.core.training import CONVERGED, Run

SEEDS = ["xor", "biscuit-factory", "biscuit-factory-preservative", "tutoring-chain"]


def test_the_seed_stories_ship(shipped):
    assert set(SEEDS) <= set(shipped)


@pytest.mark.parametrize("name", SEEDS)
def test_scenario_tells_a_story_and_converges(shipped, name):
    scenario = load_scenario(shipped[name])
    assert scenario.title and scenario.summary
    assert "## What to watch" in scenario.story and "## Try next" in scenario.story
    run = Run(scenario)
    assert run.train() == CONVERGED
    assert all(p["correct"] for p in pattern_results(run))


def test_xor_is_the_2_2_1_sigmoid_net_of_the_paper(shipped):
    s = load_scenario(shipped["xor"])
    assert [layer.size for layer in s.layers] == [2, 2, 1]
    assert [layer.activation for layer in s.layers[1:]] == ["sigmoid", "sigmoid"]
    assert s.training.update == "batch" and s.training.loss == "sse"


def test_xor_converges_for_at_least_9_seeds_in_10(shipped):
    scenario = load_scenario(shipped["xor"])
    converged = [Run(scenario, seed=seed).train() == CONVERGED for seed in range(1, 11)]
    assert sum(converged) >= 9

