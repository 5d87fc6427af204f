"""A network unrolled in time in the app (issue 15): the steps side by side, time
running left to right; `.` takes the state forward one step a press and the blame back
one step a press; `e` on a shared weight sums its gradient over the steps."""

from __future__ import annotations

import numpy as np

from bptui.app.app import BptuiApp
from bptui.app.widgets.flow import columns
from bptui.app.widgets.network import NetworkView
from bptui.core.explain import number
from bptui.core.scenario import load_scenario


async def until(pilot, condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def text(view: NetworkView) -> str:
    return "\n".join(line.plain for line in view.diagram._lines)


async def test_the_steps_stand_side_by_side_and_the_blame_goes_back_one_step_a_press(shipped):
    app = BptuiApp(load_scenario(shipped["rotate-3bit"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        view = app.query_one(NetworkView)
        assert view.view == "flow"
        s = app.snapshot
        column = columns(s)
        assert column["state@0"] < column["state@1"] < column["state@2"]  # time runs left to right
        headings = [line for line in text(view).splitlines() if "state t=" in line][0]
        assert headings.index("state t=0") < headings.index("state t=1") < headings.index("state t=2")
        # One weight at both steps: the same numbers in both gaps.
        w = s.links[[link.sender for link in s.links].index("state@1")].w
        assert np.array_equal(w, s.links[[link.sender for link in s.links].index("state@0")].w)

        phases, computed, drawn = [], [], []
        for _ in range(5):
            await pilot.press("full_stop")
            await pilot.pause()
            phases.append(app.phase)
            computed.append([layer.name for layer in app.snapshot.layers if layer.delta is not None])
            drawn.append(text(view))
        assert phases == ["forward", "loss", "backward: state@2", "backward: state@1", "update"]
        # The blame reaches step 2 first, then step 1: one step a press.
        assert computed[2] == ["state@2"] and computed[3] == ["state@1", "state@2"]
        assert "state t=2 ◀" in drawn[2] and "state t=1 ◀" in drawn[3]  # the step the blame has reached is lit
        await pilot.press("full_stop")
        await pilot.pause()
        assert app.phase == "forward"


async def test_e_on_a_shared_weight_adds_its_gradient_up_over_the_steps(shipped):
    app = BptuiApp(load_scenario(shipped["rotate-3bit"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        diagram = app.query_one(NetworkView).diagram
        s = app.snapshot
        late = next(k for k, link in enumerate(s.links) if link.sender == "state@1")
        diagram.cursor = next(n for n, item in enumerate(diagram.items) if item.kind == "weights" and item.index == late)
        diagram.column = 1
        await pilot.press("e")
        await until(pilot, lambda: "sum over its uses" in app.query_one("#explain").text)
        explained = " ".join(app.query_one("#explain").text.split())
        assert "[use 1, t=2]" in explained and "[use 2, t=1]" in explained  # the backward pass meets step 2 first
        assert "shared ('state -> state') by 2 connections" in explained
        # The panel's sum is the engine's gradient of the one weight, and each use's part is
        # that use's own sum over the patterns of delta_j a_i.
        j = diagram.selected.row
        run, p = app.run_, app.pass_
        grad = float(app.snapshot.links[late].grad[j, 1])
        uses = [float((p.delta[net_j.index].T @ p.a[net_i.index])[j, 1])
                for link in run.network.links if link.share is not None
                for net_j, net_i in [(link.receiver, link.sender)]]
        assert len(uses) == 2 and np.isclose(sum(uses), grad, rtol=1e-12, atol=1e-15)
        assert number(grad, 3) in explained and all(number(u, 3) in explained for u in uses)


async def test_docs_app_md_quotes_the_phases_and_the_cursor_line(shipped):
    from pathlib import Path

    from bptui.app.widgets.network import describe

    doc = (Path(__file__).parent.parent / "docs" / "app.md").read_text(encoding="utf-8")
    section = " ".join(doc.split("## Networks through time")[1].split("\n## ")[0].split())
    app = BptuiApp(load_scenario(shipped["rotate-3bit"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        phases = []
        for _ in range(5):
            await pilot.press("full_stop")
            phases.append(app.phase)
        assert "the phases are forward, loss, `backward: state@2`, `backward: state@1`, update" in section
        assert phases == ["forward", "loss", "backward: state@2", "backward: state@1", "update"]
        diagram = app.query_one(NetworkView).diagram
        diagram.cursor = next(n for n, item in enumerate(diagram.items) if item.kind == "weights")
        line = describe(diagram).plain
        quoted = section.split("lists its uses (`")[1].split("`)")[0]
        assert quoted in line
