"""What a new user hit in the first minute (issue 13), driven by the keys as they pressed them."""

from __future__ import annotations

import asyncio

from bptui.app.app import BptuiApp
from bptui.app.screens.dialogs import EditScreen
from bptui.app.widgets.network import NetworkView
from bptui.app.widgets.status import StatusLine
from bptui.core.controller import NEW_SEEDS
from bptui.core.scenario import load_scenario


def status(app) -> str:
    return str(app.query_one(StatusLine).render())


async def wait_for(pilot, condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


async def cursor_to(pilot, app, kind: str, layer: str | None = None) -> None:
    diagram = app.query_one(NetworkView).diagram
    for _ in range(200):
        s = diagram.selection
        if s is not None and s.kind == kind and (layer is None or s.layer == layer):
            return
        await pilot.press("down")
    raise AssertionError(f"no {kind} {layer or ''} under the cursor")


async def test_after_an_edit_the_status_line_shows_the_error_at_the_new_weights(shipped):
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n")
        await cursor_to(pilot, app, "weight")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EditScreen))
        app.screen.query_one("#edit-value").value = "7.5"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, EditScreen))
        now = float(app.run_.inspect().E)
        assert f"loss {now:.6g}" in status(app)
        assert app.snapshot.pass_loss == now


async def test_a_frozen_link_opens_its_edit_dialog_saying_so_and_no_warning(shipped):
    app = BptuiApp(load_scenario(shipped["biscuit-factory"]))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await cursor_to(pilot, app, "weight", "baking")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EditScreen))
        assert "frozen" in app.screen.text
        assert not any(n.severity == "warning" for n in app._notifications)


async def test_a_new_seed_is_short_and_the_title_stays_on_the_status_line(shipped):
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(5):
            await pilot.press("R")
            assert app.run_.seed < NEW_SEEDS
            assert len(status(app)) <= 80 and status(app).endswith("XOR")


async def test_a_sweep_of_a_file_that_fixes_every_weight_says_why_not(shipped):
    app = BptuiApp(load_scenario(shipped["biscuit-factory"]))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("S")
        await pilot.pause()
        assert any("same run" in n.message for n in app._notifications)
        assert app.workers._workers == set() or not any(w.group == "sweep" for w in app.workers)


async def test_a_lesson_keeps_its_budget_on_the_status_line(shipped):
    app = BptuiApp(load_scenario(shipped["lesson-xor-rate"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "400 updates left" in status(app)
        await pilot.press("n")
        assert "399 updates left" in status(app)


async def test_the_palettes_screenshot_is_saved_where_there_is_no_downloads_folder(shipped, tmp_path, monkeypatch):
    import bptui.app.app as bptui_app

    monkeypatch.setattr(bptui_app, "user_downloads_path", lambda: tmp_path / "no such folder")
    monkeypatch.chdir(tmp_path)
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.deliver_screenshot()
        await wait_for(pilot, lambda: list(tmp_path.glob("*.svg")))
        await wait_for(pilot, lambda: any("Saved screenshot" in n.message for n in app._notifications))


async def test_while_a_dialog_is_open_the_run_keys_do_nothing(shipped):
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert app.check_action("toggle_run", ()) is False
        await pilot.press("escape")
        await pilot.pause()
        assert app.check_action("toggle_run", ()) is True
        await asyncio.sleep(0)


async def test_done_means_the_biscuit_factory_from_the_gallery_to_the_scoop_at_one():
    """Issue 13's first minute: bptui, pick the biscuit factory, see the story, the line
    with the scoop's 2.00, the target and the error; `.` six times takes the salt right
    and the blame back to the mixer; space trains the scoop down to 1.00."""
    from bptui.app.screens.gallery import GalleryScreen
    from bptui.app.widgets.story import StoryCard

    app = BptuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("enter")  # the learning path opens on the biscuit factory
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert app.scenario.title == "The biscuit factory"
        card = app.query_one(StoryCard)
        assert card.region.height > 0 and "too salty" in str(card.query_one("Static").render())
        view = app.query_one(NetworkView)
        words = lambda: " ".join(view.diagram._text.plain.split())  # noqa: E731
        assert view.view == "flow" and "─2.00▶" in view.diagram._text.plain
        assert "saltiness 1.00 · should be 0.50: too salty by 0.50" in words()
        for _ in range(6):
            await pilot.press("full_stop")
        assert app.phase == "backward: mixing" and "backward: mixing" in status(app)
        assert app.snapshot.layer("mixing").delta is not None and app.snapshot.layer("recipe").delta is None
        await pilot.press("space")
        await wait_for(pilot, lambda: not app.running and app.run_.status is not None, seconds=120)
        assert app.run_.status == "converged"
        assert "─1.00▶" in view.diagram._text.plain and "on target" in words()
        assert abs(app.run_.network.links[0].w[0, 0] - 1.0) < 0.01


async def test_saving_to_a_name_that_cannot_be_expanded_or_exist_says_so_and_never_crashes(shipped):
    from bptui.app.screens.dialogs import SaveScreen

    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen))
        box = app.screen.query_one("Input")
        box.value = "~nosuchuser_bptui/[red]x[/].toml"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SaveScreen))
        await wait_for(pilot, lambda: any("Not saved" in n.message for n in app._notifications))
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen))
        app.screen.query_one("Input").value = "a" * 5000 + ".toml"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SaveScreen))
