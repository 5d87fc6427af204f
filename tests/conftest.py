"""Shared fixtures: scenarios written on the fly, and the shipped ones by name."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bptui.core.catalog import builtin
from bptui.core.gradcheck import numeric_gradient
from bptui.core.training import init_weights

# The smallest whole scenario: one layer of weights learns AND. Tests that need a valid
# file to break, or to add a table to, start from it.
AND_TOML = """\
format = 1

[scenario]
title = "AND"

[[layers]]
name = "input"
units = ["x1", "x2"]

[[layers]]
name = "output"
units = ["y"]

[[connections]]
from = "input"
to = "output"

[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [[0], [0], [0], [1]]
"""

# A 2-3-2 network with direct links from the inputs to the outputs, for runs pushed
# until their numbers overflow: its activations and [training] table are filled in.
OVERFLOW_TOML = """\
format = 1
[scenario]
title = "diverging"
[[layers]]
name = "in"
size = 2
[[layers]]
name = "hid"
size = 3
activation = "{hidden}"
[[layers]]
name = "out"
size = 2
activation = "{output}"
[[connections]]
from = "in"
to = "hid"
[[connections]]
from = "hid"
to = "out"
[[connections]]
from = "in"
to = "out"
[data]
inputs = [[0, 1], [1, 0], [1, 1], [3, -2]]
targets = {targets}
[training]
{training}
"""


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write TOML text (dedented) to a file and return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def shipped() -> dict[str, Path]:
    return builtin()


# Changes to shipped scenarios that many tests need, by name.
CHANGES = {
    "forever": [("error_criterion = 0.04", "error_criterion = 0"), ("epochs = 5000", "epochs = 1000000000")],
    "diverging": [("learning_rate = 0.05", "learning_rate = 100.0")],
}


@pytest.fixture
def variant(shipped, tmp_path: Path):
    """A copy of a shipped scenario with text replaced, written to a file; returns its path.

    Each replacement must match, so a test never silently runs on the unchanged file.
    """

    def make(name: str, replacements, file: str = "variant.toml") -> Path:
        """``replacements``: (old, new) pairs, or the name of a set in CHANGES."""
        text = shipped[name].read_text()
        for old, new in CHANGES.get(replacements, replacements) if isinstance(replacements, str) else replacements:
            assert old in text, f"{name}: no {old!r} to replace"
            text = text.replace(old, new)
        path = tmp_path / file
        path.write_text(text)
        return path

    return make


def slopes_at_smooth_weights(net, scenario, x, t):
    """Backprop's gradient and the finite differences, at the first random weights (seeds
    20 to 39) where few slopes cross a corner of E (a relu's kink, a margin's edge): those
    are judged only where they do not (``numeric.corner``)."""
    for seed in range(20, 40):
        init_weights(net, scenario, seed)
        net.gradient(x, t)
        backprop = net.grad.copy()
        numeric = numeric_gradient(net, x, t)
        if numeric.corner.sum() <= net.n_trainable // 4:
            break
    return backprop, numeric
