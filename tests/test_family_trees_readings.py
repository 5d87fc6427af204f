"""The family-trees readings that docs/paper.md reports (benchmarks/family_trees_readings):
their trainer is bptui's own, and the stored results are what it gives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent / "benchmarks" / "family_trees_readings"
sys.path.insert(0, str(HERE))

from ftlib import Reading, check_equivalence, train  # noqa: E402


def stored(code: str) -> dict:
    rows = [json.loads(line) for line in (HERE / "results.jsonl").read_text().splitlines() if line.strip()]
    return [row for row in rows if row["reading"]["name"].split()[0] == code][-1]


def test_the_readings_trainer_with_bptuis_reading_gives_bptuis_weights():
    assert check_equivalence(seeds=(1, 2), sweeps=40) == 0.0


def test_the_stored_results_are_what_the_trainer_gives():
    row = stored("F27")  # the reading that comes closest: the table's numbers for its first seeds
    reading = Reading(**{**row["reading"], "targets": tuple(row["reading"]["targets"])})
    result = train(reading, [1, 2, 3], check_every=50)
    assert result.train.tolist() == row["train"][:3] and result.test.tolist() == row["test"][:3]
    assert np.array(result.per_test).astype(int).tolist() == row["per_test"][:3]
