"""The controller without a screen: what each key does to a run."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from bptui.core import catalog
from bptui.core.controller import NEW_SEEDS, SWEEP_SEEDS, Controller, starting_weights_fixed
from bptui.core.scenario import load_scenario
from bptui.core.stepper import BACKWARD, FORWARD, LOSS, PAUSED, UPDATE
from bptui.core.training import CONVERGED, Run


def controller_for(name: str):
    said: list[tuple[str, str]] = []
    c = Controller(say=lambda text, severity="information", **_: said.append((text, severity)))
    c.load(load_scenario(catalog.resolve(name)))
    return c, said


def test_the_biscuit_factory_steps_forward_then_sends_the_blame_back_layer_by_layer():
    c, _ = controller_for("biscuit-factory")
    assert c.phase == PAUSED and c.snapshot.links[0].w[0, 0] == 2.0
    phases, reached = [], []
    for _ in range(6):
        assert c.step_phase() is None
        phases.append(c.phase)
        reached.append([layer.name for layer in c.snapshot.layers if layer.delta is not None])
    assert phases == [FORWARD, LOSS, BACKWARD + "quality control", BACKWARD + "packaging", BACKWARD + "baking",
                      BACKWARD + "mixing"]
    assert reached[0] == [] and reached[1] == ["quality control"] and reached[-1][0] == "mixing"
    # The seventh phase changes the weights: the scoop by -rate x dE/dw, as one whole update does.
    c.step_phase()
    assert c.phase == UPDATE
    fresh = Run(c.scenario)
    fresh.train_epoch()
    assert c.run.network.links[0].w[0, 0] == fresh.network.links[0].w[0, 0] < 2.0
    assert c.ledger, "an update writes the ledger"


def test_training_in_a_thread_reports_snapshots_and_the_scoop_settles_at_one():
    c, _ = controller_for("biscuit-factory")
    generation, budget = c.start()
    assert c.running and budget is None
    reports = []
    worker = threading.Thread(target=c.train, args=(generation, budget, lambda *r: reports.append(r)))
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert reports and all(r[0] == generation for r in reports)
    for report in reports:
        c.progressed(*report)
    assert c.stopped(generation), "it ended by itself"
    assert c.run.status == CONVERGED and not c.running and c.phase == PAUSED
    assert abs(c.snapshot.links[0].w[0, 0] - 1.0) < 0.01


def test_a_late_report_of_an_old_thread_is_ignored():
    c, _ = controller_for("xor")
    generation, budget = c.start()
    c._halt.set()
    c.train(generation, budget, lambda *r: None)
    c.stop()
    shown = c.snapshot
    c.progressed(generation - 1, shown, 1.0, ["old"])
    assert c.snapshot is shown and "old" not in c.ledger


def test_an_input_unit_and_a_unit_without_bias_say_why_they_cannot_be_edited():
    c, said = controller_for("xor")
    assert c.editable("unit", "input", 0) is None
    assert "input unit" in said[-1][0]
    target = c.editable("unit", "hidden", 1)
    assert target.name == "bias of h2" and not target.frozen
    c.set_value(target, 0.3)
    assert c.run.network.layer("hidden").b[0, 1] == 0.3
    # The snapshot shown is of the new weights: the status line and panels follow.
    assert c.snapshot.pass_loss == pytest.approx(float(c.run.inspect().E))
    assert f"{c.snapshot.pass_loss:.6g}" in said[-1][0]


def test_a_frozen_weight_can_be_set_by_hand_and_says_it_is_frozen():
    c, said = controller_for("biscuit-factory")
    target = c.editable("weight", "baking", 0, link=1, i=0)
    assert target.frozen and target.name == "w(biscuit ← dough)"
    c.set_value(target, 1.5)
    assert c.run.network.links[1].w[0, 0] == 1.5


def test_a_lesson_budget_stops_stepping_and_its_goal_is_met_by_learning(tmp_path):
    text = catalog.resolve("lesson-xor-rate").read_text()
    path = tmp_path / "lesson.toml"
    path.write_text(text.replace("steps = 400", "steps = 3"))
    c = Controller()
    c.load(load_scenario(path))
    for _ in range(3):
        c.step_update()
    assert c.budget_left() == 0 and c.lesson_status() == "0 updates left"
    epoch = c.run.epoch
    c.step_update()
    assert c.run.epoch == epoch, "no update past the budget"
    assert c.locked("seed") and not c.locked("learning_rate")
    assert c.hidden("blame") and not c.hidden("loss")


def test_the_goal_is_met_when_the_run_learns_within_the_budget(tmp_path):
    text = catalog.resolve("lesson-xor-rate").read_text()
    path = tmp_path / "lesson.toml"
    # A rate that learns: the lesson's answer, as a teacher would find it.
    path.write_text(text.replace("learning_rate = 0.5", "learning_rate = 2.0").replace("steps = 400", "steps = 4000"))
    said = []
    c = Controller(say=lambda text, *a, **k: said.append(text))
    c.load(load_scenario(path))
    while c.run.status is None and c.budget_left():
        c.step_update()
    assert c.run.status == CONVERGED
    assert c.goal_met_at == c.run.updates and c.lesson_status().startswith("goal met")
    assert any(text.startswith("Goal met") for text in said)
    c.reset()
    assert c.goal_met_at is None


def test_the_quiz_asks_before_the_blame_goes_back_and_keeps_the_score():
    c, said = controller_for("biscuit-factory")
    c.toggle_quiz()
    question = c.step_update()
    assert question is not None and c.phase == LOSS
    assert ("mixing/0", "dough (mixing)") in question.units
    assert c.answer(None) is False and c.phase == LOSS, "skipped: the step waits"
    assert c.answer("baking/0") is True
    assert c.score == (0, 1) and said[-1][0].startswith("Not this time. dough carries the most blame")


def test_new_seeds_are_short_and_a_sweep_of_fixed_weights_says_why_not():
    c, said = controller_for("xor")
    for _ in range(20):
        c.new_seed()
        assert 0 <= c.run.seed < NEW_SEEDS
    assert len(c.sweep_seeds()) == SWEEP_SEEDS
    c, said = controller_for("biscuit-factory")
    assert starting_weights_fixed(c.scenario)
    assert c.sweep_seeds() is None and "same run" in said[-1][0]


def test_time_travel_goes_back_to_the_weights_of_an_epoch():
    c, said = controller_for("xor")
    for _ in range(3):
        c.step_update()
    after_one = None
    c.travel(-1)
    c.travel(-1)
    assert c.run.epoch == 1
    after_one = c.run.network.theta.copy()
    fresh = Run(c.scenario)
    fresh.train_epoch()
    assert np.array_equal(after_one, fresh.network.theta)
    c.travel(1)
    assert c.run.epoch == 2


def test_the_storys_try_next_gives_baking_a_bias_of_0_3_by_hand():
    c, said = controller_for("biscuit-factory")
    target = c.editable("unit", "baking", 0)
    assert target is not None and target.frozen and target.name == "bias of biscuit"
    c.set_value(target, 0.3)
    assert c.snapshot.layer("baking").share[0] != 0  # the glaze is baking's own addition now
    c.step_update()
    assert c.run.network.layer("baking").b[0, 0] == 0.3, "training keeps a frozen bias"


def test_a_unit_without_bias_says_so_and_how_to_give_it_one(tmp_path):
    text = catalog.resolve("biscuit-factory").read_text()
    path = tmp_path / "no-bias.toml"
    # baking as it was: no bias at all
    text = text[:text.index("[[reference.layers]]")] + text[text.index("[data]"):]  # nothing to compare with
    path.write_text(text.replace('name = "baking"\nunits = ["biscuit"]\nactivation = "linear"\nbias = [0.0]\n'
                                 'bias_trainable = false', 'name = "baking"\nunits = ["biscuit"]\n'
                                 'activation = "linear"\nbias = false'))
    said = []
    c = Controller(say=lambda text, *a, **k: said.append(text))
    c.load(load_scenario(path))
    assert c.scenario.layer("baking").bias is False
    assert c.editable("unit", "baking", 0) is None and "bias = false" in said[-1]


def test_runaway_weights_are_said_once_and_shown_until_reset(tmp_path):
    text = catalog.resolve("xor").read_text()
    path = tmp_path / "xor-1e6.toml"
    path.write_text(text.replace("learning_rate = 0.5", "learning_rate = 1e6").replace("epochs = 5000", "epochs = 200"))
    said = []
    c = Controller(say=lambda text, severity="information", **_: said.append((text, severity)))
    c.load(load_scenario(path))
    generation, budget = c.start()
    c.train(generation, budget, c.progressed)
    assert c.stopped(generation) and c.run.status == "max_epochs"
    codes = {w["code"] for w in c.warnings}
    assert "runaway_weights" in codes and "runaway weights" in c.warning_status()
    warned = [text for text, severity in said if severity == "warning"]
    assert len(warned) == len(codes)
    c.check_health()  # the same warnings again: not said twice
    assert len([1 for _, severity in said if severity == "warning"]) == len(codes)
    c.reset()
    assert c.warnings == [] and c.warning_status() == ""
