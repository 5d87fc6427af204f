"""Big networks in the app (issue 14): built in a thread behind a first frame that says
so, drawn and listed only as far as a panel shows, and memory bounded."""

from __future__ import annotations

import threading

import numpy as np
from bptui.app import app as app_module
from bptui.app.app import BptuiApp
from bptui.app.widgets.blame import LISTED, blame_text
from bptui.app.widgets.flow import FLOW_WEIGHTS
from bptui.app.widgets.hidden import MEANING_UNITS, hidden_text
from bptui.app.widgets.network import MARGIN, NetworkView
from bptui.app.widgets.status import StatusLine
from bptui.app.widgets.updates import EVERY, changes, movers, updates_text
from bptui.core.controller import HISTORY_BYTES, QUICK_WEIGHTS, Controller, builds_quickly
from bptui.core.explain import param_at, params
from bptui.core.history import History
from bptui.core.ledger import largest, magnitude
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core.snapshot import take_snapshot
from bptui.core.training import Run

COLORS = {"positive": "green", "negative": "red", "muted": "grey50", "accent": "yellow", "background": "black"}


def wide(inputs: int, hidden: int, outputs: int, patterns: int = 2, seed: int = 0):
    """A scenario inputs x hidden x outputs, sigmoid, with random 0/1 patterns."""
    rng = np.random.default_rng(seed)
    rows = lambda a: "[" + ", ".join("[" + ", ".join(str(int(v)) for v in row) + "]" for row in a) + "]"  # noqa: E731
    text = f"""format = 1
[scenario]
title = "wide"
[[layers]]
name = "in"
size = {inputs}
[[layers]]
name = "hid"
size = {hidden}
activation = "sigmoid"
[[layers]]
name = "out"
size = {outputs}
activation = "sigmoid"
[[connections]]
from = "in"
to = "hid"
[[connections]]
from = "hid"
to = "out"
[data]
inputs = {rows(rng.integers(0, 2, (patterns, inputs)))}
targets = {rows(rng.integers(0, 2, (patterns, outputs)))}
[training]
learning_rate = 0.05
epochs = 1000000
error_criterion = 0.0
"""
    return parse_scenario(text, "wide.toml")


async def until(pilot, condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


async def test_a_big_network_is_built_in_a_thread_behind_a_line_that_says_so(monkeypatch):
    scenario = wide(600, 500, 20)
    assert not builds_quickly(scenario)  # 310,000 weights: more than QUICK_WEIGHTS
    release = threading.Event()
    real = app_module.build

    def slow_build(*args):
        release.wait(30)  # the test decides when the network is built
        return real(*args)

    monkeypatch.setattr(app_module, "build", slow_build)
    app = BptuiApp(scenario)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.building
        line = app.query_one(StatusLine)._shown.plain
        assert "building the network: 310,000 weights, 2 patterns" in line and "wide" in line
        # The run's keys wait for the run; opening another scenario and help do not.
        assert app.check_action("toggle_run", ()) is False and app.check_action("step_update", ()) is False
        assert app.check_action("open", ()) and app.check_action("help", ())
        await pilot.press("space", "n")  # nothing happens, nothing raises
        assert app.building and app.run_ is None
        release.set()
        await until(pilot, lambda: not app.building and app.snapshot is not None)
        await pilot.pause()
        assert app.scenario is scenario and "epoch 0" in app.query_one(StatusLine)._shown.plain
        await pilot.press("n")
        await until(pilot, lambda: app.run_.updates == 1)


async def test_a_network_built_for_a_scenario_no_longer_wanted_is_dropped(monkeypatch, shipped):
    release = threading.Event()
    real = app_module.build
    monkeypatch.setattr(app_module, "build", lambda *args: (release.wait(30), real(*args))[1])
    app = BptuiApp(wide(600, 500, 20))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.building
        app.load(load_scenario(shipped["xor"]))  # opened from the gallery meanwhile: built at once
        assert not app.building and app.scenario.title == "XOR"
        release.set()
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.scenario.title == "XOR"


async def test_the_layers_view_draws_only_the_lines_in_sight_and_the_flow_is_not_offered():
    scenario = wide(600, 500, 20)
    app = BptuiApp(scenario)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: not app.building and app.snapshot is not None)
        await pilot.pause()
        view = app.query_one(NetworkView)
        diagram = view.diagram
        assert view.view == "layers"
        drawn = [line for line in diagram._lines if line.plain]
        height = diagram.parent.size.height
        assert len(diagram._lines) > 1000 and len(drawn) <= height + 2 * MARGIN + 1
        assert max(line.cell_len for line in diagram._lines) < diagram._width  # the rows' far cells are not drawn
        assert 15 + 3 * 600 <= diagram._width
        await pilot.press("v")  # 310,000 weights: the flow would draw them all
        await pilot.pause()
        assert view.view == "layers"
        assert any(f"{FLOW_WEIGHTS:,} weights" in n.message for n in app._notifications)


def test_largest_is_a_stable_sorts_first_k_with_ties_and_nan():
    rng = np.random.default_rng(3)
    for n in (1, 5, 50, 2000):
        for k in (1, 3, 5, 60):
            a = rng.integers(0, 4, n).astype(float)  # many ties
            a[rng.random(n) < 0.1] = np.nan
            size = magnitude(a)
            expected = np.argsort(-np.abs(a), kind="stable")[:k]  # numpy puts nan last
            assert largest(size, k).tolist() == expected.tolist()


def test_the_updates_panel_lists_the_first_changes_and_the_true_biggest_movers():
    run = Run(wide(100, 60, 5))
    run.keep_last_change = True
    run.train_epoch()
    s = take_snapshot(run, run.inspect(), "update")
    every = changes(s)
    assert len(every) == 100 * 60 + 60 * 5 + 60 + 5 > EVERY
    order = sorted(range(len(every)), key=lambda k: -abs(every[k][2]))  # stable: network order in ties
    assert movers(s) == [every[k] for k in order[:5]]
    text = updates_text(s, COLORS, 60).plain
    assert f"the first {EVERY:,} of {len(every):,} weights and biases" in text
    assert text.count(" Δ ") == EVERY + 5


def test_big_layers_list_their_most_blamed_units_and_the_hidden_panel_a_sample():
    run = Run(wide(100, 200, 10))
    s = take_snapshot(run, run.inspect(), "paused")
    hid = s.layer("hid")
    text = blame_text(s, COLORS, 60).plain
    top = sorted(np.argsort(-np.abs(hid.share), kind="stable")[:LISTED])
    listed = [int(line.split("hid[")[1].split("]")[0]) for line in text.splitlines() if line.startswith("hid · hid[")]
    assert listed == top
    assert f"the {LISTED} of 200 units with the biggest shares" in text
    hidden = hidden_text(s, COLORS, 60).plain
    assert f"(the first {MEANING_UNITS} of 200 units, each with its first 100 of 100 weights" in " ".join(hidden.split())


def test_param_at_names_every_parameter_as_params_does(shipped):
    for name in ("xor", "family-trees", "biscuit-factory", "negation"):
        net = Run(load_scenario(shipped[name])).network
        assert [param_at(net, k) for k in range(net.n_trainable)] == params(net)


def test_time_travel_keeps_fewer_checkpoints_of_a_big_network():
    """History's docstring: the app's 64 MB keeps the default for up to about 4,000
    weights, and two checkpoints for a million or more."""
    small = History(Run(wide(60, 60, 6)), budget=HISTORY_BYTES)  # 4,026 weights and biases
    assert small.run.network.theta.size == 4026 and small.limit == 500
    big = History(Run(wide(1000, 1000, 50)), budget=HISTORY_BYTES)  # 1,051,050
    assert big.limit == 1 and big.max_bytes() <= 2 * (16 * 1_051_050 + 2000)


def test_a_snapshot_owns_one_copy_of_the_weights_seen_per_connection():
    run = Run(wide(30, 20, 4))
    s = take_snapshot(run, run.inspect(), "paused")
    assert not np.shares_memory(s.theta, run.network.theta)
    assert all(np.shares_memory(link.w, s.theta) for link in s.links)
    for link, live in zip(s.links, run.network.links):
        assert np.array_equal(link.w, live.w) and np.array_equal(link.grad, live.grad)


def test_stopping_a_big_network_keeps_its_epochs():
    """A stop waits for one epoch, not for a snapshot and ledger of millions of weights:
    the run is not sent back to its starting weights."""
    said = []
    c = Controller(say=lambda text, *a, **k: said.append(text))
    c.load(wide(1000, 600, 100, patterns=4))
    assert c.run.network.theta.size > QUICK_WEIGHTS
    generation, budget = c.start()
    reports = []
    thread = threading.Thread(target=c.train, args=(generation, budget, lambda *r: reports.append(r)))
    thread.start()
    try:
        while c.run.epoch < 3:
            thread.join(0.01)
    finally:
        assert c.stop()
        thread.join()
    assert c.run.epoch >= 3 and not any("back to the starting weights" in text for text in said)


def test_every_shipped_network_is_built_at_once(shipped):
    for path in shipped.values():
        assert builds_quickly(load_scenario(path))


def test_docs_app_md_gives_the_limits_the_app_uses():
    from pathlib import Path

    from bptui.app.widgets.flow import FLOW_UNITS
    from bptui.app.widgets.hidden import MEANING_SENDERS
    from bptui.core.controller import QUICK_WORK, weights_of

    doc = (Path(__file__).parent.parent / "docs" / "app.md").read_text(encoding="utf-8")
    section = " ".join(doc.split("## Big networks")[1].split("\n## ")[0].split())
    assert f"more than {QUICK_WEIGHTS:,} weights, or more than {QUICK_WORK // 10**6} million multiply-adds" in section
    assert f"up to {FLOW_UNITS} units and {FLOW_WEIGHTS:,} weights" in section
    assert f"the {LISTED} units of a layer" in section and f"the first {EVERY:,} weights" in section
    assert f"the first {MEANING_UNITS} units of a layer, each by its first {MEANING_SENDERS:,} weights" in section
    assert f"at most {HISTORY_BYTES // 2**20} MB" in " ".join(doc.split())
    from bptui.cli import READ_LATER

    assert f"A scenario file over {READ_LATER // 1024} KB" in section
    # The status line it quotes is the one the app writes for such a network.
    scenario = wide(2500, 2500, 1000, patterns=10)
    assert f"building the network: {weights_of(scenario):,} weights, 10 patterns …" in section


def test_a_network_too_big_for_knock_outs_says_so_and_a_step_does_not_wait_for_them():
    """520 units of 310,000 weights: their knock-outs took 3 to 10 s a snapshot."""
    run = Run(wide(600, 500, 20))
    p = run.inspect()
    s = take_snapshot(run, p, "paused", counterfactuals=True)
    assert all(layer.knockout is None for layer in s.layers)
    assert "No knock-outs" in blame_text(s, COLORS, 60).plain
    small = Run(wide(20, 10, 3))  # a small one has them
    assert take_snapshot(small, small.inspect(), "paused", counterfactuals=True).layer("hid").knockout is not None


async def test_a_file_still_being_read_gets_a_first_frame_that_says_so(shipped):
    from concurrent.futures import Future

    from bptui.app.app import Reading

    future: Future = Future()
    app = BptuiApp(reading=Reading("huge.toml", future))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.query_one(StatusLine)._shown.plain.strip() == "reading huge.toml …"
        future.set_result(load_scenario(shipped["xor"]))
        await until(pilot, lambda: app.scenario is not None and app.scenario.title == "XOR")
        await pilot.pause()
        assert "epoch 0" in app.query_one(StatusLine)._shown.plain


async def test_a_file_found_bad_once_read_ends_the_app_with_its_error_and_2(tmp_path):
    from concurrent.futures import Future

    from bptui.app.app import Reading
    from bptui.core.errors import InputError

    future: Future = Future()
    app = BptuiApp(reading=Reading("bad.toml", future))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bad = tmp_path / "bad.toml"
        bad.write_text("format = 1\n[scenario\n")
        try:
            load_scenario(bad)
        except InputError as e:
            future.set_exception(e)
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 2 and app.read_error is not None
    assert "bad.toml" in app.read_error.lines()[0]


def test_the_command_line_opens_a_quickly_read_file_at_once_and_reports_a_bad_one_before(monkeypatch, tmp_path,
                                                                                           capsys, shipped):
    import time as clock

    from bptui import cli
    from bptui.app import app as app_module

    opened = []
    monkeypatch.setattr(app_module, "run_app", lambda scenario, seed, reading=None: opened.append((scenario, reading)) or 0)
    assert cli.main([str(shipped["xor"])]) == 0
    assert opened[-1][0].title == "XOR" and opened[-1][1] is None
    bad = tmp_path / "bad.toml"
    bad.write_text("format = 1\n[scenario\n")
    assert cli.main([str(bad)]) == 2 and "bad.toml" in capsys.readouterr().err
    real = cli._load
    monkeypatch.setattr(cli, "_load", lambda path: (clock.sleep(2 * cli.READ_HERE), real(path))[1])
    assert cli.main([str(shipped["xor"])]) == 0
    scenario, reading = opened[-1]
    assert scenario is None and reading.path == str(shipped["xor"]) and reading.future.result(10).title == "XOR"
