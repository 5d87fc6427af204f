"""The examples of docs/scenario-format.md load, so the reference never drifts from the loader.

Every ```toml block that starts with ``format = 1`` is a complete scenario and must load
with ``parse_scenario``. A ```csv block is a data file: the line just before it names the
file (for example "The file `and-or.csv`, in the same folder:"), and it is written under
that name beside the scenarios, so an example that reads it with ``file = "..."`` loads too.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bptui.core.scenario import parse_scenario

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenario-format.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[tuple[int, str]]:
    """(line of the opening fence, text) of every fenced block in that language."""
    text = DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(2))
            for m in BLOCK.finditer(text) if m.group(1) == language]


def _csv_files() -> dict[str, str]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    files = {}
    for start, body in _blocks("csv"):
        before = next(line for line in reversed(lines[: start - 1]) if line.strip())
        name = re.search(r"`([\w.-]+\.csv)`", before)
        assert name, f"docs line {start}: say which file the CSV block is, just before it"
        files[name.group(1)] = body
    return files


SCENARIOS = [(line, body) for line, body in _blocks("toml") if body.startswith("format = 1")]


def test_the_doc_has_complete_examples():
    assert len(SCENARIOS) >= 4  # XOR, the CSV one, the worked example, softmax


@pytest.mark.parametrize("line, text", SCENARIOS, ids=[f"line-{line}" for line, _ in SCENARIOS])
def test_example_loads(line, text, tmp_path):
    for name, body in _csv_files().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    scenario = parse_scenario(text, f"docs/scenario-format.md (block at line {line})", base=tmp_path)
    assert scenario.title


def _example(title: str, tmp_path: Path):
    for name, body in _csv_files().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    text = next(body for _, body in SCENARIOS if f'title = "{title}"' in body)
    return parse_scenario(text, title, base=tmp_path)


def test_the_worked_example_shows_what_the_doc_says(tmp_path):
    s = _example("Picnic or not?", tmp_path)
    assert [layer.name for layer in s.input_layers] == ["weather", "company"]
    assert [layer.name for layer in s.output_layers] == ["decision"]
    assert s.layer("mood").units == ("mood[0]", "mood[1]")
    assert s.layer("mood").bias_values == (0.0, 0.5)
    weights = {(c.sender, c.receiver): c for c in s.connections}
    assert weights["weather", "mood"].weights.shape == (2, 2)  # receiving x sending
    assert not weights["company", "decision"].trainable
    assert s.data.inputs.shape == (8, 3) and s.data.targets.shape == (8, 1)
    assert np.isnan(s.data.targets[s.data.names.index("sunny, friends"), 0])
    assert s.data.test.tolist() == [False] * 7 + [True]
    assert s.training.schedule[0].from_epoch == 15


def test_the_csv_example_reads_as_the_doc_says(tmp_path):
    s = _example("AND and OR", tmp_path)
    assert s.data.names == ("both off", "a only", "b only", "both on")
    assert s.data.inputs.tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]
    t = s.data.targets
    assert t[0].tolist() == [0, 0] and np.isnan(t[2, 1])  # the empty cell: don't care
    assert s.data.test.tolist() == [False, False, False, True]


# --- The reference tables and the limits match the loader ----------------------------------

def _table_rows() -> dict[str, list[list[str]]]:
    """`key` -> the cells of every table row of the doc that starts with that key."""
    rows: dict[str, list[list[str]]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`(\w+)`", cells[0]) if line.startswith("|") else None
        if m:
            rows.setdefault(m.group(1), []).append(cells)
    return rows


def test_every_key_is_documented():
    from bptui.core import scenario as sc
    rows = _table_rows()
    keys = {*sc.TOP_KEYS, *sc.SCENARIO_KEYS, *sc.LAYER_KEYS, *sc.CONNECTION_KEYS, *sc.DATA_KEYS,
            *sc.TRAINING_KEYS, *sc.STAGE_KEYS} - {"scenario", "layers", "connections", "data", "training", "lesson"}
    missing = sorted(k for k in keys if k not in rows)
    assert not missing, f"not in a table of docs/scenario-format.md: {missing}"


def test_training_defaults_are_the_loaders():
    from bptui.core.scenario import Training
    rows = _table_rows()
    defaults = Training()
    for key in ("loss", "learning_rate", "momentum", "weight_decay", "update", "order", "margin",
                "epochs", "error_criterion", "weight_init", "seed"):
        value = getattr(defaults, key)
        written = f'`"{value}"`' if isinstance(value, str) else f"`{value}`"
        assert any(written in row for row in rows[key]), f"{key}: the default is {written}"


def test_allowed_choices_are_the_loaders():
    from bptui.core import scenario as sc
    text = DOC.read_text(encoding="utf-8")
    for choices in (sc.ACTIVATIONS, sc.LOSSES, sc.UPDATES, sc.ORDERS):
        assert ", ".join(f'`"{c}"`' for c in choices) in text


def test_the_limits_are_the_loaders():
    from bptui.core import scenario as sc
    text = DOC.read_text(encoding="utf-8")
    for number in (sc.MAX_FILE_BYTES, sc.MAX_DATA_FILE_BYTES, sc.MAX_LAYERS, sc.MAX_UNITS, sc.MAX_TOTAL_UNITS,
                   sc.MAX_WEIGHTS, sc.MAX_PATTERNS, sc.MAX_VALUES, sc.MAX_EPOCHS, sc.MAX_SEED, sc.MAX_PROBLEMS):
        assert f"{number:,}" in text, f"the limit {number:,} is not in the doc"
