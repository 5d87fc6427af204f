"""Editing the settings mid-run: the epochs already run keep theirs, the rest take the new."""

from __future__ import annotations

from dataclasses import replace

from bptui.core.save import scenario_toml
from bptui.core.scenario import Stage, Training, change_settings, load_scenario
from bptui.core.training import Run, settings_at


def test_new_settings_start_at_the_epoch_given():
    t = Training(learning_rate=0.5, momentum=0.9, weight_decay=0.01,
                 schedule=(Stage(3, learning_rate=0.2), Stage(10, momentum=0.5, weight_decay=0.02)))
    edited = change_settings(t, 6, 0.1, 0.0)
    for epoch in range(1, 6):
        assert settings_at(edited, epoch) == settings_at(t, epoch)
    assert settings_at(edited, 6) == (0.1, 0.0, 0.01)
    # A later stage keeps its weight decay, but no longer undoes the edit.
    assert settings_at(edited, 10) == (0.1, 0.0, 0.02)


def test_an_edit_before_the_first_epoch_replaces_the_base_settings():
    t = Training(learning_rate=0.5, momentum=0.9, schedule=(Stage(3, learning_rate=0.2),))
    edited = change_settings(t, 1, 0.3, 0.1)
    assert edited.learning_rate == 0.3 and edited.momentum == 0.1 and edited.schedule == ()
    assert settings_at(edited, 5)[:2] == (0.3, 0.1)


def test_an_edited_run_saved_and_reloaded_replays_the_same_run(shipped, tmp_path):
    scenario = load_scenario(shipped["xor"])
    run = Run(scenario)
    for _ in range(4):
        run.train_epoch()
    run.training = change_settings(run.training, run.epoch + 1, 0.25, 0.5)
    run.scenario = replace(run.scenario, training=run.training)
    path = tmp_path / "edited.toml"
    path.write_text(scenario_toml(run, path))
    again = load_scenario(path).training
    assert [settings_at(again, e) for e in range(1, 9)] == [settings_at(run.training, e) for e in range(1, 9)]
