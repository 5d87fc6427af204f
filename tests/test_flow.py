"""The network panel's two views: the flow from left to right, and the layers view."""

from __future__ import annotations

import re

import numpy as np
from rich.text import Text

from bptui.app.app import BptuiApp
from bptui.app.glyphs import palette, short_labels, signed
from bptui.app.widgets.flow import error_words
from bptui.app.widgets.network import NetworkView
from bptui.core.scenario import load_scenario


def app_for(shipped, name: str) -> BptuiApp:
    return BptuiApp(load_scenario(shipped[name]))


async def until(pilot, condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


async def shown(pilot, app) -> NetworkView:
    """The network panel, once it has drawn the app's latest snapshot."""
    view = app.query_one(NetworkView)
    await until(pilot, lambda: view.diagram.snapshot is app.snapshot and view.diagram._lines)
    return view


def lines(view: NetworkView) -> list[str]:
    return [line.plain for line in view.diagram._lines]


def style_at(line: Text, x: int) -> str:
    return " ".join(str(span.style) for span in line.spans if span.start <= x < span.end)


def arrow_of(view: NetworkView, link: int, j: int = 0, i: int = 0) -> tuple[str, str]:
    """The arrow drawn after a weight's number, and its style."""
    x, y, width = view.diagram.spots[("weight", link, j, i)]
    line = view.diagram._lines[y]
    return line.plain[x + width], style_at(line, x + width)


def unit_delta(view: NetworkView, layer: int) -> str:
    """What a unit's card says of its delta: 'δ ·' or 'δ+0.500'."""
    x, y, width = view.diagram.spots[("unit", layer, 0)]
    return re.search(r"δ ?\S+", lines(view)[y + 2][x:]).group()


async def test_the_biscuit_factory_reads_as_a_line_from_the_recipe_to_quality_control(shipped):
    app = app_for(shipped, "biscuit-factory")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        assert view.view == "flow"
        text = lines(view)
        # The stages in the order of the line, left to right, then on from the left below.
        assert re.match(r"recipe +mixing +baking", text[0])
        second = next(n for n, line in enumerate(text) if "packaging" in line)
        assert re.search(r"packaging +quality control", text[second])
        # The scoop's weight on the link from the salt into the dough, the others frozen.
        assert re.search(r"│a 0\.50│─+2\.00▶│a 1\.00", "\n".join(text))
        assert re.search(r"╰─+1\.00▶│a 1\.00 +│─+1\.00▶│a 1\.00", "\n".join(text))
        # The output's target and error, in the story's words.
        words = " ".join(" ".join(text).split())
        assert "saltiness 1.00 · should be 0.50: too salty by 0.50" in words
        # All of it on screen at 80 x 24, above the cursor line.
        scroller = view.diagram.parent
        last = max(n for n, line in enumerate(text) if line.strip())
        assert last < scroller.size.height and scroller.max_scroll_x == 0


async def test_outputs_without_story_words_say_too_high_or_too_low(shipped):
    app = app_for(shipped, "xor")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        assert "y 0.48 · should be 0.00: 0.48 too high" in lines(view)
    assert error_words(-0.25, None, None) == "0.25 too low"
    assert error_words(-0.25, "too salty", "too bland") == "too bland by 0.25"
    assert error_words(0.001, "too salty", "too bland") == "on target"


async def test_the_forward_pass_moves_right_and_the_blame_moves_left(shipped):
    app = app_for(shipped, "biscuit-factory")  # recipe, mixing, baking, packaging, quality control
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        accent = palette(app)["accent"]
        links = range(4)  # into mixing, baking, packaging, quality control
        assert all(arrow_of(view, ci)[0] == "▶" and accent not in arrow_of(view, ci)[1] for ci in links)
        await pilot.press("full_stop")  # forward: the signal goes right, nothing is blamed yet
        await until(pilot, lambda: app.snapshot.phase == "forward")
        view = await shown(pilot, app)
        assert all(arrow_of(view, ci) [0] == "▶" and accent in arrow_of(view, ci)[1] for ci in links)
        assert [unit_delta(view, li) for li in range(1, 5)] == ["δ ·"] * 4
        await pilot.press("full_stop")  # loss: the error at quality control
        await until(pilot, lambda: app.snapshot.phase == "loss")
        view = await shown(pilot, app)
        assert [unit_delta(view, li) for li in range(1, 5)] == ["δ ·"] * 3 + ["δ+0.500"]
        target = next(line for line in view.diagram._lines if "should be" in line.plain)
        assert accent in style_at(target, 0)
        await pilot.press("full_stop", "full_stop")  # backward: quality control, then packaging
        await until(pilot, lambda: app.snapshot.phase == "backward: packaging")
        view = await shown(pilot, app)
        assert arrow_of(view, 2)[0] == "◀" and accent in arrow_of(view, 2)[1]
        assert [arrow_of(view, ci)[0] for ci in links] == ["▶", "▶", "◀", "▶"]
        assert [unit_delta(view, li) for li in range(1, 5)] == ["δ ·", "δ ·", "δ+0.500", "δ+0.500"]


async def test_after_an_update_only_the_weights_that_changed_are_marked(shipped):
    app = app_for(shipped, "biscuit-factory")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.snapshot.phase == "update")
        view = await shown(pilot, app)
        s = app.snapshot
        change = float(s.links[0].change[0, 0])  # the scoop: the one weight that learns
        assert change < 0 and all(link.change is None for link in s.links[1:])
        text = "\n".join(lines(view))
        assert text.count("Δ-") == 1 and f"Δ{change:+.2f}" in text
        accent, muted = palette(app)["accent"], palette(app)["muted"]
        x, y, width = view.diagram.spots[("weight", 0, 0, 0)]
        assert view.diagram._lines[y].plain[x:x + width] == f"{float(s.links[0].w[0, 0]):.2f}"
        assert accent in style_at(view.diagram._lines[y], x)
        for ci in (1, 2, 3):  # frozen: dimmed, never marked
            x, y, width = view.diagram.spots[("weight", ci, 0, 0)]
            assert style_at(view.diagram._lines[y], x) == muted


async def test_the_layers_view_marks_only_the_layers_whose_weights_changed(shipped):
    app = app_for(shipped, "biscuit-factory")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        view.toggle_view()
        await pilot.press("n")
        await until(pilot, lambda: app.snapshot.phase == "update")
        view = await shown(pilot, app)
        assert view.view == "layers"
        marked = [line.split(" · ")[0] for line in lines(view) if "weights changed" in line]
        assert marked == ["mixing"]  # its scoop; baking, packaging and quality control are frozen


async def test_v_switches_views_and_the_cursor_stays_on_the_same_weight(shipped):
    app = app_for(shipped, "xor")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        diagram = view.diagram
        assert view.view == "flow"
        await pilot.press("down", "right")  # the weight from h2 into y
        await pilot.pause()
        selection = diagram.selection
        assert (selection.kind, selection.link, selection.j, selection.i) == ("weight", 1, 0, 1)
        detail = str(app.query_one("#network-detail").render())
        view.toggle_view()
        await pilot.pause()
        assert view.view == "layers" and diagram.selection == selection
        assert "▲ from hidden" in "\n".join(lines(view))
        assert str(app.query_one("#network-detail").render()) == detail
        view.toggle_view()
        await pilot.pause()
        assert view.view == "flow" and diagram.selection == selection


async def test_left_and_right_follow_the_arrows(shipped):
    app = app_for(shipped, "biscuit-factory")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        diagram = view.diagram
        while not (diagram.selection.kind == "unit" and diagram.selection.layer == "recipe"):
            await pilot.press("down")
        walk = []
        for key in ("right", "right", "right", "left", "left"):
            await pilot.press(key)
            await pilot.pause()
            s = diagram.selection
            walk.append((s.kind, s.layer) if s.kind == "unit" else (s.kind, s.layer, s.link))
        assert walk == [("weight", "mixing", 0), ("unit", "mixing"), ("weight", "baking", 1),
                        ("unit", "mixing"), ("weight", "mixing", 0)]
        assert "w(dough ← salt) = +2" in str(app.query_one("#network-detail").render())


async def test_reset_brings_the_cursor_and_the_scroll_back_to_the_start(shipped):
    app = app_for(shipped, "digits")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        diagram, scroller = view.diagram, view.diagram.parent
        await pilot.press("up")  # from the first item to the last, far below
        await until(pilot, lambda: scroller.scroll_y > 0)
        assert diagram.cursor == len(diagram.items) - 1
        view.reset()
        await pilot.pause()
        assert diagram.cursor == 0 and diagram.column == 0 and scroller.scroll_y == 0
        assert str(app.query_one("#network-detail").render()).startswith("0 (digit)")


async def test_hidden_shares_show_in_neither_view_nor_on_the_cursor_line(shipped):
    app = app_for(shipped, "tutoring-chain")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        detail = lambda: str(app.query_one("#network-detail").render())  # noqa: E731
        assert "%" in "\n".join(lines(view)) and "share +71.7%" in detail()
        view.hide_shares(True)
        await pilot.pause()
        for _ in range(2):
            assert "%" not in "\n".join(lines(view))
            assert "share" not in detail() and "knock-out" not in detail()
            view.toggle_view()
            await pilot.pause()
        view.hide_shares(False)
        await pilot.pause()
        assert "%" in "\n".join(lines(view))


async def test_the_digits_weight_columns_are_told_apart(shipped):
    app = app_for(shipped, "digits")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        assert view.view == "layers"  # too big for a flow at 80 x 24
        text = lines(view)
        header = text[text.index("  ▲ from hidden") + 1]
        # hidden[0]... once "hi hi hi"; as far as the panel shows (and a margin for a scroll)
        assert header.split() == [str(i) for i in range(len(header.split()))] and len(header.split()) >= 16


async def test_a_tiny_delta_is_never_a_signed_zero(write_scenario):
    # A weight of 1e-6 back to the hidden unit: its delta, -1e-6 x ..., rounds to -0.0000.
    path = write_scenario("""\
        format = 1
        [scenario]
        title = "a faint link"
        [[layers]]
        name = "in"
        units = ["x"]
        [[layers]]
        name = "mid"
        units = ["m"]
        activation = "linear"
        bias = false
        [[layers]]
        name = "out"
        units = ["y"]
        activation = "linear"
        bias = false
        [[connections]]
        from = "in"
        to = "mid"
        weights = [[1.0]]
        [[connections]]
        from = "mid"
        to = "out"
        weights = [[0.000001]]
        [data]
        inputs = [[1.0]]
        targets = [[1.0]]
        """)
    app = BptuiApp(load_scenario(path))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await shown(pilot, app)
        delta = float(app.snapshot.layer("mid").delta[0, 0])
        assert -5e-5 < delta < 0
        for _ in range(2):
            text = "\n".join(lines(view))
            assert not re.search(r"δ ?[+-]0\.0+\b", text)
            assert re.search(r"δ *-1e-6", text)
            view.toggle_view()
            await pilot.pause()


async def test_small_networks_flow_and_big_ones_keep_the_layers_view(shipped):
    for size, flows, layers in (((80, 24), ["xor", "biscuit-factory", "tutoring-chain", "encoder-4-2-4"],
                                 ["digits", "family-trees"]),
                                ((120, 40), ["encoder-8-3-8"], ["digits"])):
        for name in flows + layers:
            app = app_for(shipped, name)
            async with app.run_test(size=size) as pilot:
                view = await shown(pilot, app)
                assert view.view == ("flow" if name in flows else "layers"), (name, size)


def test_numbers_keep_their_sign_and_labels_tell_units_apart():
    assert signed(-3.2e-5) == " -3.2e-5" and signed(0.0) == "       0" and signed(-0.0054) == " -0.0054"
    assert signed(None) == "       ·"
    assert short_labels([f"hidden[{i}]" for i in range(12)], 2) == [str(i) for i in range(12)]
    assert short_labels(["out1", "out2"], 2) == ["1", "2"] and short_labels(["x1", "x2"], 2) == ["x1", "x2"]
    assert short_labels(["Christopher", "Christine", "Penelope"], 2) == ["0", "1", "2"]
    assert np.unique(short_labels([f"r{i // 8}c{i % 8}" for i in range(64)], 2)).size == 64
