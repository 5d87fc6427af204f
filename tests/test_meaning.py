"""What hidden units came to mean: the readings of bptui/core/meaning.py, the layer keys
that feed them (``grid``, ``features``), and the paper's representations they show."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bptui.cli import main
from bptui.core.errors import InputError
from bptui.core.meaning import best_match, codes, feature_matches, ratios
from bptui.core.save import scenario_toml
from bptui.core.scenario import load_scenario
from bptui.core.training import CONVERGED, Run

XOR_WITH_DRAWING = """
    format = 1
    [scenario]
    title = "XOR drawn"
    [[layers]]
    name = "input"
    units = ["x1", "x2"]
    {input_keys}
    [[layers]]
    name = "hidden"
    size = 2
    [[layers]]
    name = "output"
    units = ["y"]
    [[connections]]
    from = "input"
    to = "hidden"
    [[connections]]
    from = "hidden"
    to = "output"
    [data]
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    targets = [[0], [1], [1], [0]]
"""


def test_a_feature_the_weights_follow_exactly_has_r_of_one():
    feature = [1.0, 2.0, 3.0, 1.0]
    w = 2.0 * np.array(feature) + 0.5
    matches = feature_matches(w, [("age", feature), ("flat", [1.0] * 4), ("against", [-x for x in feature])])
    # A constant feature has no correlation at all: it is left out, not reported as 0.
    assert [m.feature for m in matches] == ["age", "against"]
    assert matches[0].r == pytest.approx(1.0) and matches[1].r == pytest.approx(-1.0)
    assert best_match(w, [("age", feature)]).feature == "age"


def test_a_weak_correlation_is_no_match():
    # r by hand: w - mean = (-1.5, -0.5, 0.5, 1.5), v - mean = (-0.5, 0.5, -0.5, 0.5): sum 1, norm sqrt(5 x 1)
    w, v = [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 1.0]
    (match,) = feature_matches(w, [("odd", v)])
    assert match.r == pytest.approx(1 / np.sqrt(5))
    assert best_match(w, [("odd", v)]) is None  # 0.45 < MATCH


def test_codes_are_bits_at_one_half_and_ratios_are_over_the_smallest():
    assert codes(np.array([[0.49, 0.5], [0.9, 0.1]])) == ["01", "10"]
    assert ratios(np.array([-2.0, 4.0, 0.0, -8.0])).tolist() == [-1.0, 2.0, 0.0, -4.0]


def test_grid_and_features_load_and_survive_a_save(write_scenario, tmp_path):
    path = write_scenario(XOR_WITH_DRAWING.format(input_keys='grid = [1, 2]\n    features = { left = [1, 0] }'))
    scenario = load_scenario(path)
    layer = scenario.layer("input")
    assert layer.grid == (1, 2) and layer.features == (("left", (1.0, 0.0)),)
    saved = tmp_path / "saved.toml"
    saved.write_text(scenario_toml(Run(scenario), saved))
    again = load_scenario(saved).layer("input")
    assert again.grid == (1, 2) and again.features == layer.features


@pytest.mark.parametrize("keys, message", [
    ("grid = [2, 2]", "2 x 2 is not the layer's 2 units"),
    ("grid = [2]", "must be [rows, columns]"),
    ("features = { left = [1, 0, 1] }", "has 3 values, but the layer (2 units) needs 2"),
    ("features = [1, 0]", "must be a table of name = [one number per unit]"),
    ('features = { left = "x" }', "must be a list of 2 numbers"),
])
def test_a_wrong_grid_or_feature_names_its_line(write_scenario, keys, message):
    path = write_scenario(XOR_WITH_DRAWING.format(input_keys=keys))
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    (line,) = caught.value.lines()
    assert message in line
    number = path.read_text().splitlines().index(keys) + 1
    assert f"scenario.toml:{number}: layers[1]." in line


def test_symmetry_detectors_weights_are_mirrored_in_ratio_one_two_four(shipped):
    """The Nature paper, Fig. 1: each hidden unit's weights from the two halves mirror
    each other with opposite signs, in the ratio 1 : 2 : 4."""
    run = Run(load_scenario(shipped["symmetry"]), seed=1)
    assert run.train() == CONVERGED
    w = run.network.layer("hidden").incoming[0].w
    for row in w:
        r = ratios(row)
        np.testing.assert_allclose(r, -r[::-1], rtol=0.05)  # mirrored, opposite signs
        np.testing.assert_allclose(np.sort(np.abs(r)), [1, 1, 2, 2, 4, 4], rtol=0.1)


def test_the_8_3_8_encoder_gives_each_pattern_its_own_code(shipped):
    """The PDP chapter: the 3 hidden units learn a roughly binary code of the 8 patterns.
    Roughly: every seed tells all 8 apart, but some use a middle value (0.48, say) for
    one pattern, so read as bits two patterns share a code (seeds 1-20: 13 of 20 give
    8 different bit codes)."""
    scenario = load_scenario(shipped["encoder-8-3-8"])
    binary = 0
    for seed in range(1, 11):
        run = Run(scenario, seed=seed)
        assert run.train() == CONVERGED
        a = run.inspect().a[run.network.layer("hidden").index]
        apart = min(np.abs(a[i] - a[j]).max() for i in range(8) for j in range(i))
        assert apart > 0.4, seed  # some unit differs by more than 0.4 between any two patterns
        binary += len(set(codes(a))) == 8
    assert binary >= 6


def test_inspect_json_has_each_hidden_layers_codes(shipped, capsys):
    assert main(["inspect", str(shipped["xor"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["representations"]) == {"hidden"}
    assert len(report["representations"]["hidden"]["codes"]) == 4


def test_family_trees_person_code_units_come_to_encode_tree_generation_and_branch(shipped):
    """The Nature paper, Fig. 4: units of the person code stand for nationality,
    generation and branch of the family, ideas nobody put in. (Measured with bptui's
    family-trees, seeds 1-20: tree and generation in every run, branch in 17.)"""
    scenario = load_scenario(shipped["family-trees"])
    run = Run(scenario, seed=1)
    run.train()
    w = run.network.layer("person 1 code").incoming[0].w
    features = scenario.layer("person 1").features
    found = {}
    for row in w:
        match = best_match(row, features)
        if match is not None:
            found[match.feature] = max(found.get(match.feature, 0.0), abs(match.r))
    assert {"tree", "generation", "branch"} <= set(found)
    assert min(found[f] for f in ("tree", "generation", "branch")) >= 0.7
