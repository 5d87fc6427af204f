"""[lesson]: a teacher's exercise in a scenario file (docs/scenario-format.md).

Valid lessons load into ``Scenario.lesson``; each mistake is one problem with its key
path and line, through the loader and through ``bptui check``; a saved run keeps its
lesson; the shipped exercise can be solved, and only within a window of rates.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bptui.cli import main
from bptui.core.errors import InputError
from bptui.core.save import scenario_toml
from bptui.core.scenario import LOCKABLE, PANELS, Lesson, load_scenario, parse_scenario
from bptui.core.training import CONVERGED, Run

from conftest import AND_TOML

DOCS = Path(__file__).resolve().parent.parent / "docs"

BASE = AND_TOML


def with_lesson(body: str) -> str:
    return BASE + "\n[lesson]\n" + body


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --- Valid lessons --------------------------------------------------------------------------

def test_a_scenario_without_a_lesson_has_none(shipped):
    assert parse_scenario(BASE).lesson is None
    assert load_scenario(shipped["xor"]).lesson is None


def test_every_key():
    text = with_lesson('goal = "Learn AND in 50 updates"\nlocked = ["learning_rate", "seed"]\n'
                       'hide = ["blame", "sweep"]\nsteps = 50\n')
    assert parse_scenario(text).lesson == Lesson("Learn AND in 50 updates", ("learning_rate", "seed"),
                                                 ("blame", "sweep"), 50)


def test_an_empty_lesson_is_a_lesson_with_nothing_locked_or_hidden():
    assert parse_scenario(with_lesson("")).lesson == Lesson(goal="", locked=(), hide=(), steps=None)


def test_every_name_can_be_locked_and_all_panels_but_one_hidden():
    names = ", ".join(f'"{n}"' for n in LOCKABLE)
    panels = ", ".join(f'"{p}"' for p in PANELS if p != "network")
    lesson = parse_scenario(with_lesson(f"locked = [{names}]\nhide = [{panels}]\nsteps = 1000000000\n")).lesson
    assert lesson.locked == LOCKABLE and set(lesson.hide) == set(PANELS) - {"network"}
    assert lesson.steps == 1_000_000_000


def test_an_inline_lesson_table():
    text = BASE.replace("format = 1\n", 'format = 1\nlesson = { steps = 10, hide = ["story"] }\n')
    assert parse_scenario(text).lesson == Lesson(hide=("story",), steps=10)


# --- Mistakes: one clear problem each, at the right line ------------------------------------

# (the [lesson] body or a top-level line, where the problem is, the text on its line, the message)
BAD = {
    "not a table": ('lesson = "xor"', "lesson", 'lesson = "xor"', "must be a table, not a string"),
    "unknown key": ("step = 3", "lesson.step", "step = 3", "unknown key 'step' (did you mean 'steps'?)"),
    "unknown key, nothing close": ('colour = "red"', "lesson.colour", "colour",
                                   "unknown key 'colour' (known keys: goal, locked, hide, steps)"),
    "goal not text": ("goal = 3", "lesson.goal", "goal = 3", "must be a string, not a whole number"),
    "locked not a list": ('locked = "seed"', "lesson.locked", "locked", "must be a list of setting names (strings)"),
    "locked not strings": ("locked = [1]", "lesson.locked", "locked", "must be a list of setting names (strings)"),
    "locked misspelled": ('locked = ["seed", "learnig_rate"]', "lesson.locked", "locked",
                          "'learnig_rate' is not one of: learning_rate, momentum, weights, seed, scenario "
                          "(did you mean 'learning_rate'?)"),
    "locked unknown": ('locked = ["volume"]', "lesson.locked", "locked",
                       "'volume' is not one of: learning_rate, momentum, weights, seed, scenario"),
    "locked twice": ('locked = ["seed", "seed"]', "lesson.locked", "locked", "setting name 'seed' is used twice"),
    "locked empty name": ('locked = [""]', "lesson.locked", "locked", "setting name 1 is empty"),
    "hide misspelled": ('hide = ["blam"]', "lesson.hide", "hide",
                        "'blam' is not one of: story, network, loss, blame, updates, hidden, map, explain, ledger, check, sweep "
                        "(did you mean 'blame'?)"),
    "hide not a list": ("hide = true", "lesson.hide", "hide", "must be a list of panel names (strings)"),
    "hide every panel": ("hide = [" + ", ".join(f'"{p}"' for p in PANELS) + "]", "lesson.hide", "hide",
                         "hides every panel; leave the student at least one to look at"),
    "steps 0": ("steps = 0", "lesson.steps", "steps", "0 is out of range: it must be from 1 to 1000000000"),
    "steps too many": ("steps = 1000000001", "lesson.steps", "steps",
                       "1000000001 is out of range: it must be from 1 to 1000000000"),
    "steps a fraction": ("steps = 2.5", "lesson.steps", "steps", "must be a whole number, not 2.5"),
    "steps a string": ('steps = "400"', "lesson.steps", "steps", "must be a whole number, not a string"),
}


def bad_text(case: str) -> str:
    body = BAD[case][0]
    if body.startswith("lesson ="):  # a top-level key: it goes before the first table
        return BASE.replace("format = 1\n", f"format = 1\n{body}\n")
    return with_lesson(body + "\n")


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_each_mistake_is_one_problem_at_its_line(case, tmp_path, capsys):
    _, where, needle, message = BAD[case]
    text = bad_text(case)
    line = line_of(text, needle)
    with pytest.raises(InputError) as raised:
        parse_scenario(text, "lesson.toml")
    assert [(p.where, p.line, p.message) for p in raised.value.problems] == [(where, line, message)]
    # `bptui check` prints it as one line, and exits 2.
    path = tmp_path / "lesson.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == f"bptui: {path}:{line}: {where}: {message}\n"


def test_a_misspelled_table_name_is_an_unknown_key():
    text = BASE + "\n[lessons]\nsteps = 3\n"
    with pytest.raises(InputError) as raised:
        parse_scenario(text)
    assert [(p.where, p.message) for p in raised.value.problems] == [
        ("lessons", "unknown key 'lessons' (did you mean 'lesson'?)")]


def test_lesson_mistakes_are_listed_even_when_the_network_is_broken():
    text = with_lesson('locked = ["volume", "seed", "speed"]\nsteps = 0\n')
    text = text.replace('units = ["y"]', 'size = "one"')  # the network cannot be checked past this
    with pytest.raises(InputError) as raised:
        parse_scenario(text)
    problems = raised.value.problems
    assert [p.where for p in problems] == ["layers[2].size", "lesson.locked", "lesson.locked", "lesson.steps"]
    assert problems[1].message.startswith("'volume' ") and problems[2].message.startswith("'speed' ")


# --- Saving keeps the lesson ----------------------------------------------------------------

@pytest.mark.parametrize("lesson", [
    'goal = "Find a rate: \\"fast\\" is not enough"\nlocked = ["learning_rate"]\nhide = ["story"]\nsteps = 7\n',
    'goal = """\nTwo lines,\nwith a \\\\ backslash"""\n',
    "",
], ids=["every key", "a multi-line goal", "empty"])
def test_a_saved_run_keeps_its_lesson(lesson, tmp_path):
    scenario = parse_scenario(with_lesson(lesson))
    run = Run(scenario)
    run.train()
    out = tmp_path / "saved.toml"
    saved = parse_scenario(scenario_toml(run, out), str(out))
    assert saved.lesson == scenario.lesson is not None
    assert saved.lesson == parse_scenario(scenario_toml(Run(saved), out)).lesson  # and again


def test_the_shipped_lesson_survives_a_save(shipped, tmp_path):
    scenario = load_scenario(shipped["lesson-xor-rate"])
    out = tmp_path / "saved.toml"
    assert parse_scenario(scenario_toml(Run(scenario), out)).lesson == scenario.lesson


def test_a_saved_run_without_a_lesson_gets_none(shipped, tmp_path):
    out = tmp_path / "saved.toml"
    text = scenario_toml(Run(load_scenario(shipped["xor"])), out)
    assert "[lesson]" not in text and parse_scenario(text).lesson is None


# --- The shipped exercise -------------------------------------------------------------------

def test_the_shipped_lesson_loads_and_checks(shipped, capsys):
    lesson = load_scenario(shipped["lesson-xor-rate"]).lesson
    assert lesson == Lesson("Find a learning rate that makes XOR learn within 400 updates",
                            ("momentum", "seed"), ("blame", "updates"), 400)
    assert main(["check", "lesson-xor-rate"]) == 0
    assert capsys.readouterr().out == "ok: lesson-xor-rate\n"


def _updates_to_learn(scenario, learning_rate: float, budget: int) -> int | None:
    """How many weight updates the run needs at this rate (batch: one per epoch), or None
    if it has not learned within ``budget``."""
    run = Run(replace(scenario, training=replace(scenario.training, learning_rate=learning_rate)),
              max_epochs=budget)
    return run.epoch if run.train() == CONVERGED else None


def test_the_shipped_lesson_can_be_solved_by_the_learning_rate_alone(shipped):
    """What its story says: the file's rate is too slow, some larger rates learn in time,
    and much larger ones do not (a window, not just a minimum)."""
    scenario = load_scenario(shipped["lesson-xor-rate"])
    t = scenario.training
    assert t.update == "batch" and t.momentum == 0.0  # so an update is an epoch, and momentum is locked at 0
    steps = scenario.lesson.steps
    assert _updates_to_learn(scenario, t.learning_rate, steps) is None
    assert 1500 < _updates_to_learn(scenario, t.learning_rate, 5000) < 2500  # "about 2,000"
    assert _updates_to_learn(scenario, 4.0, steps) is not None
    assert _updates_to_learn(scenario, 20.0, steps) is None


def test_a_lesson_does_not_change_the_run(shipped):
    with_ = load_scenario(shipped["lesson-xor-rate"])
    without = replace(with_, lesson=None)
    runs = [Run(s, max_epochs=50) for s in (with_, without)]
    for run in runs:
        run.train()
    assert runs[0].losses == runs[1].losses
    assert runs[0].network.theta.tobytes() == runs[1].network.theta.tobytes()


# --- The documentation names what the loader accepts ----------------------------------------

def test_the_docs_list_exactly_the_names_the_loader_accepts():
    doc = (DOCS / "scenario-format.md").read_text(encoding="utf-8")
    assert "[lesson](#lesson-a-focused-exercise)" in doc  # in the contents
    lines = doc[doc.index("## [lesson]: a focused exercise"):doc.index("## Limits")].splitlines()

    def quoted(row_start: str) -> list[str]:
        return re.findall(r'"(\w+)"', next(line for line in lines if line.startswith(row_start)))

    assert quoted("| `locked` |") == list(LOCKABLE)
    assert quoted("| `hide` |") == list(PANELS)
    # The table of what each lock keeps: one row per name, in order.
    start = lines.index("| `locked` | the student cannot |") + 2
    rows = [line for line in lines[start:start + len(LOCKABLE) + 1] if line.startswith("| `")]
    assert [re.match(r"\| `(\w+)` \|", row).group(1) for row in rows] == list(LOCKABLE)
