"""The terminal app, driven by its keys (Textual's Pilot), as a user would."""

from __future__ import annotations

import re

import numpy as np
import pytest
from textual.widgets import ContentSwitcher, Input, OptionList, Static

from bptui.app.app import BptuiApp
from bptui.app.screens.dialogs import DivergedScreen, SaveScreen
from bptui.app.screens.gallery import GalleryScreen
from bptui.app.screens.help import HelpScreen
from bptui.app.widgets.loss import LossPlot
from bptui.app.widgets.network import NetworkDiagram
from bptui.app.widgets.status import StatusLine
from bptui.app.widgets.sweep import SweepPanel
from bptui.core.blame import knockouts, signed_shares
from bptui.core.report import inspect_report
from bptui.core.scenario import load_scenario
from bptui.core.training import Run


def status(app) -> str:
    return str(app.query_one(StatusLine).render())


def app_for(shipped, name: str = "xor", **kwargs) -> BptuiApp:
    return BptuiApp(load_scenario(shipped[name]), **kwargs)


async def test_opens_paused_at_epoch_0_on_the_starting_weights(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = status(app)
        assert "epoch 0" in text and "paused" in text and "loss 0.501477" in text
        fresh = Run(load_scenario(shipped["xor"]))
        for shown, link in zip(app.snapshot.links, fresh.network.links):
            assert np.array_equal(shown.w, link.w)


async def test_phase_key_walks_forward_loss_backward_update(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        phases = []
        for _ in range(5):
            await pilot.press("full_stop")
            await pilot.pause()
            phases.append(app.snapshot.phase)
            assert app.snapshot.phase in status(app)
        assert phases == ["forward", "loss", "backward: output", "backward: hidden", "update"]
        assert app.snapshot.epoch == 1 and "epoch 1" in status(app)


async def test_blame_arrives_one_layer_at_a_time(shipped):
    app = app_for(shipped, "tutoring-chain")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("full_stop", "full_stop")  # forward, loss
        await pilot.pause()
        known = lambda: [layer.name for layer in app.snapshot.layers if layer.delta is not None]  # noqa: E731
        assert known() == ["Sunita"]
        await pilot.press("full_stop")  # backward: Sunita (her weights' gradients)
        await pilot.press("full_stop")
        await pilot.pause()
        assert app.snapshot.phase == "backward: Arjun" and known() == ["Arjun", "Sunita"]
        await pilot.press("full_stop")
        await pilot.pause()
        assert known() == ["Priya", "Arjun", "Sunita"]
        # The deltas are the engine's own: the same as one inspect pass.
        report = inspect_report(Run(load_scenario(shipped["tutoring-chain"])))
        for name in ("Priya", "Arjun", "Sunita"):
            assert app.snapshot.layer(name).delta.tolist() == report["layers"][name]["delta"]


async def test_n_makes_one_whole_update(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert app.snapshot.epoch == 1 and app.snapshot.phase == "update"
        headless = Run(load_scenario(shipped["xor"]))
        headless.train_epoch()
        assert np.array_equal(app.run_.network.theta, headless.network.theta)
        # n in the middle of a step finishes that step.
        await pilot.press("full_stop", "full_stop", "n")
        await pilot.pause()
        assert app.snapshot.epoch == 2 and app.snapshot.phase == "update"


@pytest.fixture
def forever(variant):
    """XOR that never stops on its own: no error criterion."""
    return load_scenario(variant("xor", "forever"))


async def test_a_run_stops_by_itself_when_it_converges(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await app.workers.wait_for_complete()  # XOR converges well within a second
        await pilot.pause()
        assert not app.running and app.snapshot.status == "converged"
        assert "converged" in status(app) and "paused" in status(app)
        assert app.snapshot.epoch == len(app.run_.losses) > 0


async def test_keys_work_while_training(forever):
    app = BptuiApp(forever)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await pilot.pause(0.3)
        assert app.running and "running" in status(app)
        await pilot.press("b")
        await pilot.pause()
        assert app.query_one("#aside", ContentSwitcher).current == "blame" and app.running
        await pilot.press("full_stop")  # a phase step pauses training first
        await pilot.pause()
        assert not app.running and app.snapshot.phase == "forward"


async def test_space_pauses_a_long_run(forever):
    app = BptuiApp(forever)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await pilot.pause(0.5)
        await pilot.press("space")
        await pilot.pause()
        assert not app.running and "paused" in status(app)
        epoch = app.run_.epoch
        assert epoch > 0 and app.snapshot.epoch == epoch
        await pilot.pause(0.3)
        assert app.run_.epoch == epoch  # paused means paused


async def test_reset_returns_to_the_same_starting_weights(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        start = app.run_.network.theta.copy()
        await pilot.press("n", "n", "r")
        await pilot.pause()
        assert app.snapshot.epoch == 0 and np.array_equal(app.run_.network.theta, start)
        await pilot.press("R")
        await pilot.pause()
        assert app.snapshot.epoch == 0 and not np.array_equal(app.run_.network.theta, start)
        assert f"seed {app.run_.seed}" in status(app)


async def test_open_shows_the_gallery_and_loads_a_scenario(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)
        options = app.screen.query_one(OptionList)
        options.highlighted = [o.id for o in options.options].index("tutoring-chain")
        await pilot.press("enter")
        await pilot.pause()
        assert app.scenario.title == "The tutoring chain" and "tutoring" in status(app).lower()


async def test_gallery_path_input_reports_a_bad_file(shipped, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("format = 1\n")
    app = BptuiApp()  # bptui with no scenario starts in the gallery
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)
        app.screen.query_one("#gallery-path").value = str(bad)
        app.screen.query_one("#gallery-path").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)
        assert "bptui: " in str(app.screen.query_one("#gallery-error").render())
        app.screen.query_one("#gallery-path").value = str(shipped["biscuit-factory"])
        await pilot.press("enter")
        await pilot.pause()
        assert app.scenario.title == "The biscuit factory"


async def test_help_lists_every_key_and_closes(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = [key for key, _ in app.screen.keys]
        for key in ("space", "n", ".", "r", "R", "o", "w", "ctrl+r", "-", "?", "q", "l", "b", "u", "h", "s", "L", "p",
                    "P", "S", "arrows", "tab"):
            assert key in keys
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_every_action_is_in_the_command_palette(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for key, title, _ in BptuiApp.ACTIONS.values():
            assert f"{title} ({key})" in titles


@pytest.mark.parametrize("key, panel", [("b", "blame"), ("u", "updates"), ("h", "hidden"), ("s", "story")])
async def test_panels_are_one_key_away(shipped, key, panel):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        # Before the first epoch the story card holds the plot's place; then the plot.
        await pilot.pause()
        assert app.query_one("#story-card").region.height > 0 and app.query_one(LossPlot).region.height == 0
        await pilot.press("n")
        await pilot.pause()
        assert app.query_one(LossPlot).display and app.query_one(LossPlot).region.height > 0
        await pilot.press(key)
        await pilot.pause()
        assert app.query_one("#aside", ContentSwitcher).current == panel
        assert app.query_one(f"#{panel}").region.height > 0
        await pilot.press("l")
        await pilot.pause()
        assert app.query_one(LossPlot).region.height > 0


async def test_large_terminals_show_more_at_once(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.query_one("#story-card").region.height > 0
        assert app.query_one("#blame").region.height > 0
        await pilot.press("n")
        await pilot.pause()
        assert app.query_one(LossPlot).region.height > 0
        assert app.query_one("#blame").region.height > 0


async def test_log_scale_and_patterns(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n", "L")
        await pilot.pause()
        assert app.query_one(LossPlot).log_scale
        assert "pattern 00" in app.query_one("#network").border_title
        await pilot.press("p")
        await pilot.pause()
        assert "pattern 01" in app.query_one("#network").border_title
        await pilot.press("P", "P")
        await pilot.pause()
        assert "pattern 11" in app.query_one("#network").border_title


async def test_cursor_shows_exact_values_of_a_weight(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        detail = lambda: str(app.query_one("#network-detail").render())  # noqa: E731
        assert detail().startswith("y (output)")
        await pilot.press("down")
        await pilot.pause()
        w = app.snapshot.links[1].w
        assert f"w(y ← h1) = {w[0, 0]:+.6g}" in detail()
        await pilot.press("right")
        await pilot.pause()
        assert f"w(y ← h2) = {w[0, 1]:+.6g}" in detail()
        await pilot.press("up")
        await pilot.pause()
        assert detail().startswith("y (output)")


def words(panel) -> str:
    """A text panel's text as read, wrapped or not: one space between words."""
    return " ".join(panel.text.split())


async def until(pilot, condition, seconds: float = 10.0) -> None:
    """Wait for ``condition()`` (the screen or a thread catching up), failing after ``seconds``."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


async def test_app_shows_the_same_shares_as_the_json(shipped):
    app = app_for(shipped, "biscuit-factory-preservative")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
        report = inspect_report(run)
        for name in ("mixing", "packaging"):
            assert app.snapshot.layer(name).share.tolist() == report["layers"][name]["share"]
            assert app.snapshot.layer(name).knockout.tolist() == report["layers"][name]["knockout"]
            assert app.snapshot.layer(name).responsibility.tolist() == report["layers"][name]["responsibility"]
        await pilot.press("b")
        await pilot.pause()
        text = words(app.query_one("#blame"))
        assert "Most blame (first-order share): mixing +86%" in text


async def test_the_blame_panel_shows_priya_s_credit_with_its_sign(shipped):
    """In the tutoring chain Priya's own part lowers Sunita's error: credit, with a minus,
    and removing it raises E for real (its knock-out is below 0 too)."""
    app = app_for(shipped, "tutoring-chain")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: "Priya" in app.query_one("#blame").text)
        lines = app.query_one("#blame").text.splitlines()
        priya = lines.index("Priya")
        assert "│" in lines[priya + 1] and lines[priya + 1].split("│")[0].strip()  # the bar left of the line
        assert lines[priya + 1].split()[-2:] == ["-7.1%", "credit"]
        assert lines[priya + 2].split() == ["first", "order", "-0.0117"]
        assert lines[priya + 3].split() == ["knock-out", "-0.017"]
        sunita = lines.index("Sunita")
        assert lines[sunita + 1].split()[-2:] == ["+72%", "blame"]
        text = words(app.query_one("#blame"))
        assert "First-order share: gradient x input." in text and "docs/blame.md" in text
        assert "E - E_ref" not in text  # no reference, no responsibility
        # The numbers are the engine's: a headless run's knock-outs.
        run = Run(load_scenario(shipped["tutoring-chain"]))
        assert app.snapshot.layer("Priya").knockout.tolist() == knockouts(run.network, run.x, run.t)["Priya"].tolist()


async def test_the_blame_panel_shares_the_preservative_s_excess_exactly(shipped):
    app = app_for(shipped, "biscuit-factory-preservative")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*["full_stop"] * 6, "b")  # to the backward pass's last layer
        await until(pilot, lambda: "E - E_ref" in app.query_one("#blame").text)
        lines = [line.split() for line in app.query_one("#blame").text.splitlines()]
        text = words(app.query_one("#blame"))
        assert "E - E_ref = 6.664, shared exactly:" in text
        block = lines[[n for n, line in enumerate(lines) if line[:1] == ["shared"]][0] + 1:]
        assert block[:2] == [["packaging", "+3.957", "59%"], ["mixing", "+2.707", "41%"]]
        assert "Most responsible: packaging (59%)." in text and "E_ref = 0" in text
        assert "0: quality control, baking" in text
        mixing = lines.index(["mixing", "·", "dough"])
        assert lines[mixing + 1][-2:] == ["+86%", "blame"]
        assert lines[mixing + 2:mixing + 4] == [["first", "order", "+18.7"], ["knock-out", "+5.41"]]
        packaging = lines.index(["packaging", "·", "packet"])
        assert lines[packaging + 3] == ["knock-out", "+2.56"]
        # At 80 columns every line fits the narrow panel: nothing is cropped, nothing hides to the right.
        assert app.query_one("#blame").max_scroll_x == 0


async def test_xor_has_knock_outs_and_disagreeing_patterns_but_no_responsibility(shipped):
    app = app_for(shipped, "xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: "knock-out" in app.query_one("#blame").text)
        text = words(app.query_one("#blame"))
        assert "E - E_ref" not in text and "responsib" not in text.lower()
        # The output's terms pull both ways: blame on two patterns, credit on the other two.
        assert "patterns disagree: +0.0117 blame on 2, -0.013 credit on 2" in text
        assert app.snapshot.reference_loss is None and app.snapshot.layer("output").responsibility is None


async def test_the_network_shows_signed_shares_and_the_cursor_line_the_counterfactuals(shipped):
    app = app_for(shipped, "tutoring-chain")
    async with app.run_test(size=(80, 24)) as pilot:
        diagram = app.query_one(NetworkDiagram)
        await until(pilot, lambda: diagram.snapshot is not None)
        await pilot.press("v")  # the layers view: a row per unit
        await pilot.pause()
        rows = {line.lstrip(" ▸").split()[0]: line.rstrip() for line in diagram._text.plain.splitlines() if " δ" in line}
        assert rows["Priya"].endswith("-7.1%") and "▕│" in rows["Priya"]  # a sliver of credit, left
        assert rows["Sunita"].endswith("+72%") and "│█▌" in rows["Sunita"]
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "Priya"):
            await pilot.press("down")
        await pilot.pause()
        detail = str(app.query_one("#network-detail").render())
        assert "share -7.1% credit" in detail and "knock-out -0.017048" in detail
        assert "responsibility" not in detail  # no reference
    app = app_for(shipped, "biscuit-factory-preservative")
    async with app.run_test(size=(80, 24)) as pilot:
        diagram = app.query_one(NetworkDiagram)
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "mixing"):
            await pilot.press("down")
        await pilot.pause()
        detail = str(app.query_one("#network-detail").render())
        assert "share +86.4% blame" in detail and "knock-out +5.4141" in detail and "responsibility +2.707" in detail
        assert app.query_one("#network-detail").region.height == 4  # every value, none cropped


async def test_too_small_terminal_says_so(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.resize_terminal(50, 12)
        await pilot.pause()
        assert app.query_one("#too-small").display
        assert not app.query_one("#main").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.query_one("#too-small").display and app.query_one("#main").display


async def test_a_diverging_run_pauses_and_offers_a_lower_rate(variant):
    app = BptuiApp(load_scenario(variant("biscuit-factory", "diverging")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.snapshot.status == "diverged" and "DIVERGED" in status(app)
        assert isinstance(app.screen, DivergedScreen)
        assert "learning rate (100) is too large" in str(app.screen.query_one(Static).render())
        await pilot.press("minus")
        await pilot.pause()
        assert not isinstance(app.screen, DivergedScreen)
        assert app.run_.settings(1)[0] == 50.0 and app.snapshot.epoch == 0 and app.snapshot.status is None


async def test_save_writes_the_state_and_asks_before_overwriting(shipped, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n", "n", "w")
        await pilot.pause()
        assert isinstance(app.screen, SaveScreen)
        assert app.screen.query_one(Input).value == "xor-epoch3.toml"
        await pilot.press("enter")
        await pilot.pause()
        saved = tmp_path / "xor-epoch3.toml"
        assert np.array_equal(Run(load_scenario(saved)).network.theta, app.run_.network.theta)
        saved.write_text("old")
        await pilot.press("w", "enter")  # the file exists now: the first enter only warns
        await pilot.pause()
        assert isinstance(app.screen, SaveScreen) and saved.read_text() == "old"
        assert "exists" in str(app.screen.query_one("#save-warning").render())
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SaveScreen) and saved.read_text().startswith("format = 1")


async def test_an_edited_file_changes_nothing_until_reloaded(shipped, tmp_path):
    path = tmp_path / "xor.toml"
    path.write_text(shipped["xor"].read_text())
    app = BptuiApp(load_scenario(path))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("n", "n")
        await pilot.pause()
        theta = app.run_.network.theta.copy()
        path.write_text("format = 1\n[scenario]\ntitle = 42\n")  # broken while open
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.snapshot.epoch == 2 and np.array_equal(app.run_.network.theta, theta)
        assert any("Not reloaded" in n.message for n in app._notifications)
        path.unlink()  # deleted while open
        await pilot.press("ctrl+r", "n")
        await pilot.pause()
        assert app.snapshot.epoch == 3
        path.write_text(shipped["xor"].read_text().replace('title = "XOR"', 'title = "XOR, edited"'))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.scenario.title == "XOR, edited" and app.snapshot.epoch == 0


async def test_q_quits(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.running


@pytest.mark.parametrize("theme", ["ansi-dark", "ansi-light", "textual-light"])
async def test_every_panel_draws_in_other_themes(shipped, theme):
    app = app_for(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = theme
        for key in ("n", "b", "u", "h", "s", "m", "full_stop", "full_stop"):
            await pilot.press(key)
            await pilot.pause()
        assert "loss" in status(app)  # drawn, and no style the theme cannot express crashed it


async def test_no_color_is_respected(shipped, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "b")
        await pilot.pause()
        assert app.no_color
        # Signs stay readable without colour: the weights are drawn with + and -, and every
        # share of the blame panel with its sign and the word blame or credit.
        text = str(app.query_one(NetworkDiagram).render())
        assert "+" in text and "-" in text
        shares = [line for line in app.query_one("#blame").text.splitlines() if "│" in line and "%" in line]
        assert shares and all(re.search(r"│.* [+-]\d+(\.\d)?% (blame|credit)$", line.rstrip()) for line in shares)


async def test_online_steps_show_the_pattern_they_are_about(variant):
    path = variant("xor", [('update = "batch"', 'update = "online"')])
    app = BptuiApp(load_scenario(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n", "full_stop")  # the third pattern's forward pass
        await pilot.pause()
        assert app.snapshot.patterns == ("10",) and app.snapshot.layer("hidden").a.shape == (1, 2)
        assert "pattern 10 (1/1)" in app.query_one("#network").border_title
        await pilot.press("p", "h", "full_stop", "o", "escape", "full_stop", "full_stop", "full_stop")
        await pilot.pause()
        assert app.snapshot.phase == "update"
        headless = Run(load_scenario(path))
        for _ in range(3):
            _, x, t, care = headless.next_patterns()
            headless.finish_change(headless.network.gradient(x, t, care))
        # Opening the gallery mid-step did not disturb the step's gradient.
        assert np.array_equal(app.run_.network.theta, headless.network.theta)
        assert app.snapshot.loss == pytest.approx(headless.start_loss)  # the status shows a whole loss


async def test_held_out_patterns_are_shown_apart(variant):
    held = variant("xor", [('targets = [[0], [1], [1], [0]]', 'targets = [[0], [1], [1], [0]]\ntest = ["11"]')])
    app = BptuiApp(load_scenario(held))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert app.snapshot.patterns == ("00", "01", "10")
        assert [r["name"] for r in app.snapshot.held_out] == ["11"]
        assert "held out (never trained on)" in app.query_one("#hidden").text


async def test_a_sweep_of_the_open_scenario_shows_its_histogram(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.press("S")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#aside", ContentSwitcher).current == "sweep"
        text = app.query_one(SweepPanel).query_one("TextView")._text.plain
        assert "XOR: 96 of 100 seeds converged" in text and "epochs to converge" in text


async def test_hidden_panel_shows_the_symmetry_detectors_mirror_weights(shipped):
    """Trained, the symmetry network's hidden units read as the paper's Fig. 1: each
    weight over the unit's smallest, 1 : 2 : 4 on one side and -1 : -2 : -4 on the other."""
    app = app_for(shipped, "symmetry", seed=1)
    async with app.run_test(size=(80, 24)) as pilot:
        app.run_.train()  # headless, to its end; then shown at rest
        app._rest("paused")
        await pilot.press("h")
        await pilot.pause()
        lines = app.query_one("#hidden").text.splitlines()
        # each row: name, the two weights, the two ratios
        ratios = {line.split()[0]: [float(v) for v in line.split()[3:5]]
                  for line in lines if line.split() and line.split()[0] in {f"x{i}" for i in range(1, 7)}}
        for i in range(1, 4):
            assert ratios[f"x{i}"] == [-v for v in ratios[f"x{7 - i}"]]  # mirrored, opposite signs
        assert sorted(abs(ratios[f"x{i}"][0]) for i in range(1, 4)) == [1.0, 2.0, 4.0]
        assert "×min" in lines[1]


async def test_hidden_panel_draws_a_grid_and_names_the_feature_a_unit_follows(variant):
    drawn = variant("xor", [('units = ["x1", "x2"]',
                             'units = ["x1", "x2"]\ngrid = [1, 2]\nfeatures = { first = [1, 0] }')])
    app = BptuiApp(load_scenario(drawn))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        text = app.query_one("#hidden").text
        # Two inputs and a feature: every unit's two weights follow "first" exactly, r = +-1.
        assert text.count("≈ first (r ") == 2 and ("r +1.00" in text or "r -1.00" in text)
        assert "rows: x1…x2" in text
        assert "different codes for 4 patterns" in text


async def test_the_decision_map_shows_each_unit_over_the_input_plane(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        app.run_.train()
        app._rest("paused")
        await pilot.press("m")
        await pilot.pause()
        text = app.query_one("#map").text
        assert "output y" in text and "hidden h1" in text and "hidden h2" in text
        assert "x1 → from -0.25 to 1.25" in text
        # The four patterns are marked by their targets: two 1s and two 0s per map.
        first_map = text.split("hidden h2")[0]
        assert sum(line.count("1") for line in first_map.splitlines()[1:]) == 4  # 2 per map, 2 maps across


async def test_the_decision_map_follows_the_live_weights(shipped):
    """The map is the network's own output: the cell at a pattern shows what the run
    answers for it (checked against a forward pass of the run itself)."""
    from bptui.core.plane import Plane

    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        app.run_.train()
        app._rest("paused")
        plane = Plane(app.scenario)
        m = plane.map(app.snapshot.theta, 5, 5)  # -0.25, 0.125, 0.5, 0.875, 1.25
        corner = app.run_.outputs(np.array([[-0.25, 1.25]]))[0, 0]
        assert m.a["output"][0, 0, 0] == pytest.approx(corner)  # top left: x1 lowest, x2 highest
        await pilot.press("m")
        await pilot.pause()
        assert "output y" in app.query_one("#map").text


async def test_the_decision_map_explains_itself_for_other_networks(shipped):
    app = app_for(shipped, "biscuit-factory")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert "for networks with two inputs" in words(app.query_one("#map"))


async def test_the_decision_map_without_colour_uses_shades(shipped, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        text = app.query_one("#map").text
        assert "▀" not in text and "shade: activation" in text


async def test_quiz_asks_before_the_blame_travels_back_and_keeps_score(shipped):
    from bptui.app.screens.dialogs import QuizScreen
    from bptui.core.blame import most_blamed

    headless = Run(load_scenario(shipped["xor"]))
    layer, k = most_blamed(signed_shares(headless.network, headless.inspect()))
    app = app_for(shipped)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("k", "n")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        assert app.stepper.phase == "loss"  # the error is known, no delta sent back yet
        assert app.snapshot.layer("hidden").delta is None
        ids = [unit_id for unit_id, _ in app.screen.units]
        assert ids == ["hidden/0", "hidden/1", "output/0"]
        await pilot.press(*["down"] * ids.index(f"{layer}/{k}"), "enter")
        await pilot.pause()
        assert app.score == (1, 1)
        assert app.stepper.phase == "backward: hidden"  # revealed: every delta, no update yet
        assert app.query_one("#aside", ContentSwitcher).current == "blame"
        assert "quiz 1/1" in status(app)
        # A wrong answer counts too; escape skips without counting.
        await pilot.press("n")  # the rest of this step: its update
        await pilot.pause()
        assert app.run_.epoch == 1 and not isinstance(app.screen, QuizScreen)
        await pilot.press("n")  # the next step asks again
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.score == (1, 1) and app.stepper.phase == "loss"


async def test_editing_a_weight_while_paused_changes_the_run_and_training_goes_on(shipped):
    from bptui.app.screens.dialogs import EditScreen

    app = app_for(shipped)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "n")
        diagram = app.query_one(NetworkDiagram)
        while diagram.selection.kind != "weight":
            await pilot.press("down")
        selection = diagram.selection
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)
        field = app.screen.query_one("#edit-value")
        field.value = "nonsense"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)  # refused where it was typed
        assert "is not a number" in str(app.screen.query_one("#edit-warning").render())
        field.value = "2.5"
        await pilot.press("enter")
        await pilot.pause()
        assert app.run_.epoch == 2  # editing does not reset
        assert app.run_.network.links[selection.link].w[selection.j, selection.i] == 2.5
        # The loss shown is the error at the edited weights, as a headless run computes it.
        headless = Run(load_scenario(shipped["xor"]))
        headless.train_epoch(), headless.train_epoch()
        headless.network.links[selection.link].w[selection.j, selection.i] = 2.5
        assert app.snapshot.pass_loss == pytest.approx(float(headless.inspect().E))
        await pilot.press("n")
        headless.train_epoch()
        assert np.array_equal(app.run_.network.theta, headless.network.theta)


async def test_editing_the_learning_rate_applies_from_the_next_epoch(shipped, tmp_path):
    app = app_for(shipped)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "n", "n", "t")
        await pilot.pause()
        app.screen.query_one("#edit-learning_rate").value = "0.1"
        app.screen.query_one("#edit-momentum").value = "0"
        await pilot.press("enter")
        await pilot.pause()
        assert app.run_.epoch == 3
        assert app.run_.settings(3)[:2] == (0.5, 0.9) and app.run_.settings(4)[:2] == (0.1, 0.0)
        await pilot.press("n")
        assert app.snapshot.learning_rate == 0.1 and app.snapshot.momentum == 0.0


async def test_gradient_check_of_the_selected_weight_and_of_the_whole_network(shipped):
    from bptui.core.gradcheck import check_gradients, weight_index

    app = app_for(shipped)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        diagram = app.query_one(NetworkDiagram)
        while diagram.selection.kind != "weight":
            await pilot.press("down")
        selection = diagram.selection
        await pilot.press("g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#aside", ContentSwitcher).current == "check"
        text = app.query_one("#check").text
        expected = check_gradients(app.run_, weight_index(app.run_.network, selection.link, selection.j,
                                                          selection.i))
        (row,) = expected.rows
        assert "1 checked: they agree" in text and row.name in text
        assert f"backprop {row.backprop:+.8e}" in text and f"numeric  {row.numeric:+.8e}" in text
        await pilot.press("G")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = app.query_one("#check").text
        assert f"{app.run_.network.n_trainable} checked: they agree" in text


async def test_a_lesson_hides_locks_and_counts_the_updates(shipped):
    app = app_for(shipped, "lesson-xor-rate")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "400 updates left" in status(app)
        await pilot.press("b")  # hidden by the lesson
        await pilot.pause()
        assert app.query_one("#aside", ContentSwitcher).current != "blame"
        seed = app.run_.seed
        await pilot.press("R")  # the seed is locked
        assert app.run_.seed == seed
        await pilot.press("space")  # at the file's rate, 400 updates are not enough ...
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.run_.updates == 400 and app.run_.status is None and not app.running
        assert "0 updates left" in status(app)
        await pilot.press("n")
        assert app.run_.updates == 400  # ... and no more are allowed
        await pilot.press("r", "t")  # a reset gives the budget back; t sets the rate
        await pilot.pause()
        assert any("momentum (locked by the lesson)" in str(w.render()) for w in app.screen.query(".edit-label"))
        app.screen.query_one("#edit-learning_rate").value = "4"
        app.screen.query_one("#edit-momentum").value = "0.9"  # locked: only the file's value is taken
        await pilot.press("enter")
        await pilot.pause()
        assert "is not a number from 0 to 0" in str(app.screen.query_one("#edit-warning").render())
        app.screen.query_one("#edit-momentum").value = "0"
        await pilot.press("enter")
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.run_.status == "converged" and app.run_.updates < 400


async def test_explain_derives_the_selected_units_delta_with_the_engines_numbers(shipped):
    from bptui.core.explain import explain_delta, number
    from bptui.core.snapshot import pass_weights

    app = app_for(shipped, "tutoring-chain")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", "n")
        diagram = app.query_one(NetworkDiagram)
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "Arjun"):
            await pilot.press("down")
        await pilot.press("e")
        await pilot.pause()
        text = app.query_one("#explain").text
        # At the update phase the pass shown ran with the weights before the update: its
        # arithmetic is with those (w = 1.27 here, where the update made it 1.36).
        assert app.phase == "update"
        with pass_weights(app.run_, app.phase):
            expected = explain_delta(app.run_, app.pass_, "Arjun", 0)
        assert expected.value == app.pass_.delta[app.run_.network.layer("Arjun").index][0, 0]
        assert "delta(Arjun)" in text and f"= {expected.arithmetic}" in text.replace("\n    ", " ")
        assert f"= {number(expected.value)}" in text
        w, slope, delta = (f.value for f in expected.outer + expected.terms[0].factors)
        assert number(slope * w * delta) == number(expected.value)  # the printed factors give the result
        await pilot.press("up")  # the weight row above Arjun: its gradient and last change
        await pilot.pause()
        text = app.query_one("#explain").text
        assert "dE/dw(Sunita<-Arjun)" in text and "dw(Sunita<-Arjun)" in text


async def test_explain_derives_a_units_share_knock_out_and_responsibility(shipped):
    app = app_for(shipped, "biscuit-factory-preservative")
    async with app.run_test(size=(120, 40)) as pilot:
        diagram = app.query_one(NetworkDiagram)
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "mixing"):
            await pilot.press("down")
        await pilot.press("e")
        await until(pilot, lambda: "responsibility(dough)" in app.query_one("#explain").text)
        text = words(app.query_one("#explain"))
        assert "own(dough) = b_j + sum over the inputs i of w_ji x_i = 0 + 1.5 x 0.5 = 0.75" in text
        assert "c(dough) = sum over patterns of delta_j x own_j = 1.69 x 0.75 + 2.62 x 1.5 + 4.5 x 3 = 18.7" in text
        assert "share(dough) = c_j / sum_k |c_k| = 18.7 / 21.6 = 0.864" in text
        assert "knock-out(dough) = E - E without dough's own part = 6.66 - 1.25 = 5.41" in text
        assert "= 0.5 x 0.656 + 0.5 x 4.76 = 2.71" in text and "v({dough, packet}) - v({packet})" in text
        await pilot.press("up")  # baking's biscuit, above mixing's weights: no own part, no player
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "baking"):
            await pilot.press("up")
        await until(pilot, lambda: "responsibility(biscuit)" in app.query_one("#explain").text)
        text = words(app.query_one("#explain"))
        assert "No own part: c_j is 0 and so is its share of the blame" in text and "it is no player" in text


async def test_counterfactuals_are_computed_only_for_a_view_that_shows_them(shipped):
    app = app_for(shipped, "biscuit-factory-preservative")
    async with app.run_test(size=(80, 24)) as pilot:
        diagram = app.query_one(NetworkDiagram)
        assert app.snapshot.counterfactuals  # the cursor line, on the output unit, shows them
        while diagram.selection.kind != "weight":
            await pilot.press("down")
        await pilot.press("r")  # at 80 x 24 the loss plot is shown, not the blame: none on screen
        await pilot.pause()
        assert not app.snapshot.counterfactuals and app.snapshot.layer("mixing").knockout is None
        await pilot.press("b")  # paused: taken again with them, at once
        await until(pilot, lambda: "knock-out" in app.query_one("#blame").text)
        assert app.snapshot.counterfactuals and app.snapshot.layer("mixing").knockout.tolist() == [5.4140625]


@pytest.mark.parametrize("share, computed", [(1.0, True), (0.0, False)], ids=["cheap", "dear"])
async def test_while_training_counterfactuals_are_computed_only_when_cheap(forever, monkeypatch, share, computed):
    """They may take COUNTERFACTUAL_SHARE of a chunk's time (small networks, under a ms);
    more (the digits: 60 ms a snapshot) and the panel says when they come."""
    import bptui.core.controller as bptui_app

    monkeypatch.setattr(bptui_app, "COUNTERFACTUAL_SHARE", share)
    app = BptuiApp(forever)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b", "space")
        epoch = app.run_.epoch
        await until(pilot, lambda: app.snapshot.phase == "running" and app.snapshot.epoch > epoch
                    and app.snapshot.counterfactuals == computed and app.counterfactuals_dear != computed)
        note = "pause (space) or step (n, .) to see them"
        await until(pilot, lambda: (note in words(app.query_one("#blame"))) != computed)
        await pilot.press("space")
        await pilot.pause()
        assert not app.running and app.snapshot.counterfactuals  # paused: always


async def test_explain_says_what_is_not_computed_yet_mid_step(shipped):
    app = app_for(shipped, "xor")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e", "full_stop", "full_stop")  # forward, loss: no hidden delta yet
        diagram = app.query_one(NetworkDiagram)
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "hidden"):
            await pilot.press("down")
        await pilot.pause()
        assert "not" in app.query_one("#explain").text  # said in words, never a stale number


async def test_the_ledger_lists_every_step_and_copies(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "n", "j")
        await pilot.pause()
        text = app.query_one("#ledger").text
        assert "epoch 1 · 4 patterns" in text and "epoch 2 · 4 patterns" in text
        assert len(app.ledger) == 6  # the 3 biggest changes of each update
        await pilot.press("y")
        assert app.clipboard == "\n".join(app.ledger)


async def test_time_travel_goes_back_and_training_resumes_exactly(shipped):
    app = app_for(shipped)
    headless = Run(load_scenario(shipped["xor"]))
    thetas = [headless.network.theta.copy()]
    for _ in range(5):
        headless.train_epoch()
        thetas.append(headless.network.theta.copy())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*["n"] * 5, "left_square_bracket", "left_square_bracket")
        assert app.run_.epoch == 3 and np.array_equal(app.run_.network.theta, thetas[3])
        await pilot.press("right_square_bracket")
        assert app.run_.epoch == 4 and np.array_equal(app.run_.network.theta, thetas[4])
        await pilot.press("left_square_bracket", "n", "n")  # a new future from epoch 3
        assert app.run_.epoch == 5 and np.array_equal(app.run_.network.theta, thetas[5])
        await pilot.press("r")
        assert app.run_.epoch == 0 and np.array_equal(app.run_.network.theta, thetas[0])


async def test_time_travel_mid_epoch_goes_back_to_the_start_of_that_epoch(shipped):
    app = app_for(shipped, "encoder-4-2-4")  # online: four updates an epoch
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*["n"] * 6)  # epoch 1 done, two updates into epoch 2
        assert app.run_.epoch == 1 and app.run_.mid_epoch
        await pilot.press("left_square_bracket")
        assert app.run_.epoch == 1 and not app.run_.mid_epoch and app.run_.updates == 4
        await pilot.press("left_square_bracket")
        assert app.run_.epoch == 0 and app.run_.updates == 0


async def test_the_network_draws_the_weights_in_sight_and_those_a_scroll_brings(shipped):
    """The digits' 2,368 weights are too many to draw 5 times a second: the lines out of
    sight are left empty (the drawing keeps its width), and moving the cursor to one draws it."""
    from bptui.app.glyphs import palette, weight_cell
    from bptui.app.widgets.network import INDENT

    app = app_for(shipped, "digits")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        diagram = app.query_one(NetworkDiagram)
        view = diagram.parent
        rows = [item for item in diagram.items if item.kind == "weights"]
        last = rows[-1]  # the pixels' weights into the last hidden unit, far below
        assert diagram._lines[last.line].plain == diagram._lines[rows[-2].line].plain == ""
        assert diagram._width == INDENT + 3 * 64 and diagram.virtual_size.width >= INDENT + 3 * 64

        def drawn_in_sight(item) -> int:
            """How many of the row's cells the panel shows; each must be the weight's glyph."""
            s = app.snapshot
            link = s.links[item.index]
            scale = max(float(abs(k.w).max()) for k in s.links)
            colours = palette(app)
            row = diagram._lines[item.line].plain
            seen = 0
            for i in range(item.columns):
                x = 1 + INDENT + 3 * i  # 1: the padding
                if view.scroll_x <= x and x + 2 <= view.scroll_x + view.size.width:
                    glyph = weight_cell(float(link.w[item.row, i]), scale, colours["positive"], colours["negative"])
                    assert row[INDENT + 3 * i : INDENT + 3 * i + 2] == glyph.plain
                    seen += 1
            return seen

        view.scroll_to(y=last.line - 5, animate=False)  # as a mouse wheel would
        await pilot.pause()
        assert drawn_in_sight(last) > 0
        view.scroll_home(animate=False)
        await pilot.pause()
        assert diagram._lines[last.line].plain.strip() == ""
        while diagram.selected != last:  # from the first item, the cursor wraps to the last (an input unit)
            await pilot.press("up")
        await pilot.pause()
        assert view.scroll_y > 80 and drawn_in_sight(last) > 0
        for _ in range(40):
            await pilot.press("right")
        await pilot.pause()
        assert view.scroll_x > 0 and drawn_in_sight(last) > 0
        assert diagram._lines[last.line].cell_len <= diagram._width  # drawn as far as the panel shows


async def test_text_panels_render_only_the_lines_in_sight(shipped):
    """The digits' updates panel has 2,422 lines: rendering them all at every redraw took
    350 ms. Only those in sight are rendered, and rendered again when they change."""
    from bptui.app.widgets.textview import TextPanel, TextView

    app = app_for(shipped, "digits")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("u")
        await pilot.pause()
        panel = app.query_one("#updates", TextPanel)
        view = panel.query_one(TextView)
        assert len(view._lines) > 2400 and 0 < len(view._strips) < 60
        def last_line() -> int:  # the text ends in a newline: the last line is blank
            return max(y for y, line in enumerate(view._lines) if line.plain.strip())

        last = last_line()
        panel.scroll_end(animate=False)
        await pilot.pause()
        before = view._lines[last].plain
        assert view._strips[last].text.rstrip() == before.rstrip()
        for _ in range(2):  # an update: every weight changes (the first also drops a hint line)
            await pilot.press("n")
            await pilot.pause(0.5)
            panel.scroll_end(animate=False)
            await pilot.pause()
            last = last_line()
            assert view._lines[last].plain != before
            assert view._strips[last].text.rstrip() == view._lines[last].plain.rstrip()
            before = view._lines[last].plain


def test_the_blame_panel_docs_app_md_shows_is_the_app_s(shipped):
    """docs/app.md quotes the blame panel of the preservative story at 80 columns, and the
    numbers of the other stories it tells: each is the panel's or the engine's."""
    from pathlib import Path

    from bptui.app.widgets.blame import blame_text
    from bptui.core.snapshot import take_snapshot

    doc = (Path(__file__).parent.parent / "docs" / "app.md").read_text(encoding="utf-8")
    quoted = re.search(r"\n\n(    E = 6\.66406.*?)\n\n\(`biscuit-factory-preservative`", doc, re.S).group(1)
    colours = {"positive": "green", "negative": "red", "accent": "yellow", "muted": "dim"}

    def panel(name: str, epochs: int = 0) -> str:
        run = Run(load_scenario(shipped[name]))
        for _ in range(epochs):
            run.train_epoch()
        return blame_text(take_snapshot(run, run.inspect(), "paused", counterfactuals=True), colours, 27).plain

    lines = [line.rstrip() for line in panel("biscuit-factory-preservative").splitlines()]
    for chunk in quoted.split("\n\n"):  # the panel's top, and its packaging section
        block = [line[4:].rstrip() for line in chunk.splitlines()]
        start = lines.index(block[0])
        assert lines[start:start + len(block)] == block
    # biscuit-factory: first order 10.5 where the knock-out is 0
    mixing = " ".join(panel("biscuit-factory").split()).split("mixing · dough")[1]
    assert "first order +10.5 knock-out 0" in mixing and "10.5 against 0" in " ".join(doc.split())
    # biscuit-factory-baking: first order blames the mixer, the oven is responsible; trained, they cancel
    baking = " ".join(panel("biscuit-factory-baking").split())
    assert "Most blame (first-order share): mixing +100%" in baking and "Most responsible: baking (100%)." in baking
    run = Run(load_scenario(shipped["biscuit-factory-baking"]))
    run.train()
    trained = " ".join(panel("biscuit-factory-baking", run.epoch).split())
    assert "baking +0.98" in trained and "mixing -0.98" in trained and "The faults nearly cancel" in trained
    assert "%" not in trained.split("shared exactly:")[1].split("E_ref")[0]
    assert "mixing -0.98, baking +0.98" in " ".join(doc.split())
