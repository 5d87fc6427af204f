"""Hinton's family trees: the data matches its builder and the published counts, the two
scenarios load, and the default one learns (the issue's targets)."""

from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import pytest

from bptui.core.report import pattern_results
from bptui.core.scenario import load_scenario
from bptui.core.training import Run

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("make_family_trees", SCENARIOS / "make_family_trees.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table():
    rows = list(csv.reader(io.StringIO((SCENARIOS / "family-trees.csv").read_text(encoding="utf-8"))))
    return rows[0], rows[1:]


def test_the_committed_csv_is_what_the_script_builds(builder):
    assert (SCENARIOS / "family-trees.csv").read_text(encoding="utf-8") == builder.build_csv()


def test_the_published_counts(builder, table):
    builder.check_published_counts()  # 112 facts, 104 cases, 8 with two answers, per relation
    header, rows = table
    assert header[0] == "pattern" and len(header) == 1 + 24 + 12 + 24 == len(set(header))
    assert len(rows) == 104
    assert all(len(row) == len(header) for row in rows)
    person1 = [[int(v) for v in row[1:25]] for row in rows]
    relation = [[int(v) for v in row[25:37]] for row in rows]
    person2 = [[int(v) for v in row[37:]] for row in rows]
    assert all(sum(r) == 1 for r in person1) and all(sum(r) == 1 for r in relation)
    assert sum(map(sum, person2)) == 112  # every fact is one target unit on
    two = sorted(row[0] for row, t in zip(rows, person2) if sum(t) == 2)
    assert two == sorted(f"{p}.{r}" for p in ("Colin", "Charlotte", "Alfonso", "Sophia") for r in ("uncle", "aunt"))
    assert len({row[0] for row in rows}) == 104
    colin_aunt = next(t for row, t in zip(rows, person2) if row[0] == "Colin.aunt")
    assert {header[37 + i] for i, v in enumerate(colin_aunt) if v} == {"person2.Margaret", "person2.Jennifer"}


@pytest.mark.parametrize("name", ["family-trees", "family-trees-1986"])
def test_scenario_is_the_paper_network_with_the_scripts_held_out_cases(shipped, builder, name):
    s = load_scenario(shipped[name])
    assert s.title and s.summary
    assert "## What to watch" in s.story and "## Try next" in s.story
    assert [(layer.name, layer.size) for layer in s.layers] == [
        ("person 1", 24), ("relation", 12), ("person 1 code", 6), ("relation code", 6),
        ("central", 12), ("person 2 code", 6), ("person 2", 24)]
    assert list(s.layers[0].units) == builder.PEOPLE == list(s.layers[-1].units)
    assert list(s.layers[1].units) == builder.RELATIONS
    assert [(c.sender, c.receiver) for c in s.connections] == [
        ("person 1", "person 1 code"), ("relation", "relation code"), ("person 1 code", "central"),
        ("relation code", "central"), ("central", "person 2 code"), ("person 2 code", "person 2")]
    assert len(s.data.names) == 104
    held_out = sorted(n for n, test in zip(s.data.names, s.data.test) if test)
    assert held_out == builder.held_out() and len(held_out) == 4
    for case in held_out:  # the story names them, and none has two answers
        assert case in s.story
        assert s.data.targets[list(s.data.names).index(case)].sum() == 1


def test_the_1986_scenario_is_the_papers_recipe(shipped):
    t = load_scenario(shipped["family-trees-1986"]).training
    assert (t.update, t.loss, t.learning_rate, t.momentum) == ("batch", "sse", 0.005, 0.5)
    assert (t.weight_decay, t.margin, t.epochs) == (0.002, 0.2, 1500)
    assert [(x.from_epoch, x.learning_rate, x.momentum) for x in t.schedule] == [(21, 0.01, 0.9)]


def test_the_default_learns_and_generalises(shipped):
    """The issue's targets, over seeds 1 to 5 (about half a second each): at least 3
    learn 95% of the training cases, and on average at least 2 of the 4 held-out cases
    are answered right. (Over seeds 1 to 100, bptui measured: every seed 97% or more,
    held-out 1.9 of 4 on average; one held-out case, Margaret.husband, this network cannot
    work out from its training cases. Seeds 1 to 5 get 2.6.)"""
    scenario = load_scenario(shipped["family-trees"])
    learned, held_out = 0, []
    for seed in range(1, 6):
        run = Run(scenario, seed=seed)
        run.train()
        results = pattern_results(run)
        train = [r["correct"] for r in results if r["set"] == "train"]
        learned += sum(train) >= 0.95 * len(train)
        held_out.append(sum(r["correct"] for r in results if r["set"] == "test"))
    assert learned >= 3
    assert sum(held_out) / len(held_out) >= 2
