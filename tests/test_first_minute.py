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
