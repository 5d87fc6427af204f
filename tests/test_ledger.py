"""The ledger (bptui/core/ledger.py) and ``bptui train --trace``: one JSON line per weight
change, right by finite differences and by the update rule, the same bytes every time,
never half written. And the app's ledger panel (j), its newest lines in sight."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import bptui.core.ledger as ledger
from bptui.app.app import BptuiApp
from bptui.app.widgets.textview import TextView
from bptui.cli import main
from bptui.core.explain import param_name, params
from bptui.core.gradcheck import numeric_gradient
from bptui.core.ledger import Trace, ledger_lines, ledger_record
from bptui.core.network import Network
from bptui.core.scenario import load_scenario
from bptui.core.training import Run

from test_app import until
from test_explain import printed_value
from test_gradients import assert_close_gradient

SHUFFLED = [('order = "sequential"', 'order = "shuffled"')]
DECAY = [("momentum = 0.9", "momentum = 0.9\nweight_decay = 0.001")]


def trace(path, *args) -> list[dict]:
    """Run ``bptui train`` with --trace, in process; the records of the file."""
    assert main(["train", str(path), "--trace", str(path.parent / "trace.jsonl"), *args]) == 0
    text = (path.parent / "trace.jsonl").read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def vector(net: Network, record: dict, key: str, bias_key: str) -> np.ndarray:
    """A record's gradients (or changes) laid out like network.grad."""
    out = np.full(net.n_trainable, np.nan)
    weights, biases = net.views(out)
    for link, conn in zip(net.links, record["connections"]):
        assert (conn["from"], conn["to"]) == (link.sender.name, link.receiver.name)
        if link.trainable:
            weights[link.index][...] = conn[key]
    for u, b in biases.items():
        b[0] = record["layers"][net.layers[u].name][bias_key]
    assert not np.isnan(out).any()
    return out


def numeric(net: Network, run: Run, theta: np.ndarray, rows) -> np.ndarray:
    """dE/dw by central differences, over the given training rows, at weights ``theta``."""
    net.theta[...] = theta
    care = None if run.care is None else run.care[rows]
    return numeric_gradient(net, run.x[rows], run.t[rows], care, run.training.margin).dE_dw


# --- the records, against mathematics ---------------------------------------------------


@pytest.mark.parametrize("name, replacements", [("xor", DECAY), ("encoder-4-2-4", SHUFFLED)])
def test_trace_gradients_are_dE_dw_by_finite_differences(variant, tmp_path, name, replacements):
    path = variant(name, replacements)
    records = trace(path, "--epochs", "3")
    run = Run(load_scenario(path))  # replays the run alongside, for the weights before each change
    run.keep_last_change = True
    net = Network(run.scenario)
    names = list(run.scenario.data.train_names)
    for record in records[:8]:
        theta_before = run.network.theta.copy()
        run.train_epoch(stop=lambda: True)  # one weight change (a whole epoch in batch)
        rows = [names.index(n) for n in record["patterns"]]
        assert rows == list(run.last_change.rows)
        gradient = vector(net, record, "gradient", "bias_gradient")
        assert np.any(gradient != 0)
        assert_close_gradient(gradient, numeric(net, run, theta_before, rows), f"{name} {record['epoch']}")
        # E of the change: the loss of its patterns before it.
        net.theta[...] = theta_before
        p = net.forward(run.x[rows])
        net.output_error(p, run.t[rows], None, run.training.margin)
        assert record["E"] == pytest.approx(float(p.E), rel=1e-12)


@pytest.mark.parametrize("name, replacements", [
    ("xor", DECAY),
    ("encoder-4-2-4", SHUFFLED),
    ("xor", [("seed = 1", "seed = 1\n\n[[training.schedule]]\nfrom_epoch = 3\nlearning_rate = 0.25\n"
              "momentum = 0.5\nweight_decay = 0.01")]),
])
def test_trace_changes_follow_the_update_rule(variant, tmp_path, name, replacements):
    path = variant(name, replacements)
    records = trace(path, "--epochs", "5")
    run = Run(load_scenario(path))
    net = run.network
    per_epoch = 1 if run.training.update == "batch" else len(run.x)
    assert len(records) == 5 * per_epoch
    assert [(r["epoch"], r["update"]) for r in records] == [
        (e, u) for e in range(1, 6) for u in range(1, per_epoch + 1)]
    last = np.zeros(net.n_trainable)
    for r in records:
        assert (r["learning_rate"], r["momentum"], r["weight_decay"]) == run.settings(r["epoch"])
        g = vector(net, r, "gradient", "bias_gradient")
        dw = vector(net, r, "change", "bias_change")
        # dw = -lr dE/dw + momentum dw(t-1), in the engine's order of operations: bit for bit.
        np.testing.assert_array_equal(dw, r["momentum"] * last - r["learning_rate"] * g)
        last = dw
        # Every non-input layer's delta, per pattern of the change.
        for layer, values in r["layers"].items():
            assert np.shape(values["delta"]) == (len(r["patterns"]), net.layer(layer).size)
    if per_epoch > 1:  # shuffled: every pattern once per epoch, in another order each epoch
        orders = [[r["patterns"][0] for r in records if r["epoch"] == e] for e in (1, 2)]
        assert sorted(orders[0]) == sorted(orders[1]) == sorted(run.scenario.data.train_names)
        assert orders[0] != orders[1]
    else:  # batch: E of the change is the epoch's loss
        losses = [r["E"] for r in records]
        run.train()
        assert losses == run.losses[:5]


def test_trace_matches_the_run_s_last_change(shipped):
    run = Run(load_scenario(shipped["xor"]))
    run.keep_last_change = True
    run.train_epoch()
    record = ledger_record(run)
    ch = run.last_change
    np.testing.assert_array_equal(vector(run.network, record, "gradient", "bias_gradient"), ch.grad)
    np.testing.assert_array_equal(vector(run.network, record, "change", "bias_change"), run.dw)
    hidden = run.network.layer("hidden")
    assert record["layers"]["hidden"]["delta"] == ch.pass_.delta[hidden.index].tolist()
    assert record["patterns"] == ["00", "01", "10", "11"]
    run.keep_last_change = False
    run.reset()
    with pytest.raises(ValueError, match="keep_last_change"):
        ledger_record(run)


def test_frozen_connections_and_missing_biases_are_null(write_scenario, tmp_path):
    path = write_scenario("""
        format = 1
        [scenario]
        title = "frozen"
        [[layers]]
        name = "in"
        size = 2
        [[layers]]
        name = "hid"
        size = 2
        activation = "tanh"
        bias = false
        [[layers]]
        name = "out"
        size = 1
        activation = "sigmoid"
        [[connections]]
        from = "in"
        to = "hid"
        trainable = false
        [[connections]]
        from = "hid"
        to = "out"
        [data]
        inputs = [[0, 1], [1, 0]]
        targets = [[1], [0]]
    """)
    (record,) = trace(path, "--epochs", "1")
    assert record["connections"][0]["gradient"] is None and record["connections"][0]["change"] is None
    assert record["layers"]["hid"]["bias_gradient"] is None and record["layers"]["hid"]["bias_change"] is None
    assert len(record["layers"]["hid"]["delta"]) == 2
    assert np.shape(record["connections"][1]["gradient"]) == (1, 2)


# --- the file: deterministic, atomic, errors ---------------------------------------------


def test_same_scenario_and_seed_give_the_same_bytes(variant, tmp_path):
    path = variant("encoder-4-2-4", SHUFFLED)
    files = []
    for n, seed in enumerate(["3", "3", "4"]):
        out = tmp_path / f"t{n}.jsonl"
        assert main(["train", str(path), "--epochs", "20", "--seed", seed, "--trace", str(out)]) == 0
        files.append(out.read_bytes())
    assert files[0] == files[1]
    assert files[0] != files[2]  # another seed, another run
    assert files[0].count(b"\n") == 20 * 4


def test_a_trace_cannot_be_written_one_line_exit_2(tmp_path, capsys):
    out = tmp_path / "missing" / "t.jsonl"
    assert main(["train", "xor", "--epochs", "2", "--trace", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"bptui: {out}: cannot write: No such file or directory\n"
    assert not out.parent.exists()


def test_a_failure_while_tracing_leaves_no_file_and_the_old_one_whole(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.jsonl"
    out.write_text("the old trace\n")
    calls = []

    def failing(run):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return {"n": len(calls)}

    monkeypatch.setattr(ledger, "ledger_record", failing)
    assert main(["train", "xor", "--epochs", "5", "--trace", str(out)]) == 2
    assert capsys.readouterr().err == f"bptui: {out}: cannot write: No space left on device\n"
    assert out.read_text() == "the old trace\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]  # no temporary left


def test_an_interrupted_trace_is_not_written(tmp_path, shipped):
    out = tmp_path / "t.jsonl"
    run = Run(load_scenario(shipped["xor"]))
    run.keep_last_change = True

    def interrupt(run):
        if run.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with Trace(out) as t:
            run.train(on_epoch=interrupt, on_change=t.write)
    assert list(tmp_path.iterdir()) == []


def test_trace_of_zero_epochs_is_an_empty_file(tmp_path):
    out = tmp_path / "t.jsonl"
    assert main(["train", "xor", "--epochs", "0", "--trace", str(out)]) == 0
    assert out.read_bytes() == b""


# --- the text form ----------------------------------------------------------------------


@pytest.mark.parametrize("name, replacements, where", [
    ("xor", DECAY, r"4 patterns"), ("encoder-4-2-4", SHUFFLED, r"pattern (?:one|two|three|four)")])
def test_ledger_lines_biggest_changes_first_and_the_arithmetic_adds_up(variant, name, replacements, where):
    run = Run(load_scenario(variant(name, replacements)))
    run.keep_last_change = True
    for _ in range(3):
        run.train_epoch()
    lines = ledger_lines(run, k=4)
    assert len(lines) == 4
    net = run.network
    every = params(net)
    size = np.abs(run.dw)
    biggest = sorted(range(len(every)), key=lambda n: (-size[n], n))[:4]
    for line, n in zip(lines, biggest):
        m = re.fullmatch(rf"epoch 3 · {where} · (\S+) (.+) = (\S+)", line)
        assert m, line
        assert m[1] == param_name(net, every[n])
        shown, result = printed_value(m[2]), float(m[3])
        assert result == pytest.approx(run.dw[n], rel=5e-3)
        assert shown == pytest.approx(result, rel=3e-2, abs=1e-3 * size.max())
    assert len(ledger_lines(run, k=100)) == len(every)


# --- the panel: its newest lines in sight ------------------------------------------------


def _at_end(panel) -> bool:
    return panel.max_scroll_y > 0 and panel.scroll_y == panel.max_scroll_y


async def _stays_at_end(pilot) -> None:
    """The ledger reaches its end, and stays there once every refresh under way is done."""
    panel = pilot.app.query_one("#ledger")
    await until(pilot, lambda: _at_end(panel))
    for _ in range(5):  # a late layout (a re-wrap, a scroll after a stale refresh) would move it
        await pilot.pause(0.05)
    assert panel.scroll_y == panel.max_scroll_y > 0, (panel.scroll_y, panel.max_scroll_y)


@pytest.mark.parametrize("keys", [
    ["n", "n", "n", "j"],  # opened on lines already there
    ["j", "n", "n", "n"],  # open while the lines arrive
    ["n"] * 5 + ["left_square_bracket", "left_square_bracket", "j"],  # after time travel
], ids=["steps-then-open", "open-then-steps", "travelled"])
async def test_the_ledger_shows_its_newest_lines(shipped, keys):
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*keys)
        await _stays_at_end(pilot)


async def test_the_ledger_keeps_its_end_when_its_layout_comes_late(shipped, monkeypatch):
    """The race of issue 13, made certain. A scroll to the end after the next refresh used
    the size of the text of before whenever the layout that the new text needs came after
    that refresh: Textual lays a widget out when the widget's own message queue passes its
    request on to the screen, and under load the screen can refresh in between. Here the
    ledger's text always arrives after the refresh, with its layout after that."""
    set_text = TextView.set_text

    def late(view, text) -> None:
        if view.parent is not None and view.parent.id == "ledger":
            view.call_after_refresh(set_text, view, text)
        else:
            set_text(view, text)

    monkeypatch.setattr(TextView, "set_text", late)
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n", "n", "j")
        await _stays_at_end(pilot)
        await pilot.press("n")
        await _stays_at_end(pilot)


async def test_the_ledger_keeps_its_end_when_it_wraps_again(shipped):
    """A narrower panel wraps the lines again, into more of them, with no redraw of the app."""
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*["n"] * 6, "j")
        await _stays_at_end(pilot)
        lines = app.query_one("#ledger").virtual_size.height
        await pilot.resize_terminal(70, 30)
        await until(pilot, lambda: app.query_one("#ledger").virtual_size.height > lines)
        await _stays_at_end(pilot)
        await pilot.resize_terminal(70, 20)  # shorter only: the same lines, less room
        await _stays_at_end(pilot)


async def test_the_ledger_stays_where_it_is_scrolled_until_it_changes(shipped):
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j")
        panel = app.query_one("#ledger")
        await until(pilot, lambda: panel.virtual_size.height > 0)
        assert panel.max_scroll_y == 0 and panel.scroll_y == 0  # the note, shorter than the panel
        await pilot.press("n", "n", "n")
        await _stays_at_end(pilot)
        panel.scroll_home(animate=False)  # the reader goes back to the first update
        await until(pilot, lambda: panel.scroll_y == 0)
        for _ in range(5):  # paused: nothing new, so nothing moves it
            await pilot.pause(0.05)
        assert panel.scroll_y == 0
        await pilot.press("n")  # a new update: to the end, where it is
        await _stays_at_end(pilot)
