"""The command line, as a user runs it: output, JSON, exit codes, saving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bptui.cli import main
from bptui.core.scenario import load_scenario
from bptui.core.training import Run


def bptui(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process, as a user would."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, "-m", "bptui", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_list_shows_the_three_stories():
    result = bptui("list")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    for name in ("biscuit-factory", "tutoring-chain", "xor"):
        assert name in names
    assert "exclusive-or" in result.stdout


def test_check_good_and_bad(shipped, write_scenario, capsys):
    bad = write_scenario('format = 1\n[scenario]\ntitle = "x"\n', "bad.toml")
    assert main(["check", str(shipped["xor"]), "xor"]) == 0
    out = capsys.readouterr().out
    assert f"ok: {shipped['xor']}" in out and "ok: xor" in out
    assert main(["check", "xor", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "ok: xor" in captured.out
    assert captured.err.startswith(f"bptui: {bad}")


def test_inspect_json_has_the_shape_of_spec_section_5():
    result = bptui("inspect", "xor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report["loss"], float)
    assert set(report["layers"]) == {"input", "hidden", "output"}
    assert set(report["layers"]["input"]) == {"units", "activation"}
    hidden = report["layers"]["hidden"]
    for key in ("net", "activation", "delta"):
        assert np.shape(hidden[key]) == (4, 2)  # patterns x units
    assert np.shape(hidden["bias"]) == np.shape(hidden["bias_gradient"]) == np.shape(hidden["share"]) == (2,)
    assert "blame" not in hidden  # the signed share replaced it (SPEC section 5)
    # share_j = c_j / sum_k |c_k|, c_j = sum over patterns of delta_j own_j (docs/blame.md)
    c = {name: np.sum(np.array(layer["delta"]) * np.array(layer["own"]), axis=0)
         for name, layer in report["layers"].items() if "delta" in layer}
    total = sum(np.abs(v).sum() for v in c.values())
    for name, v in c.items():
        np.testing.assert_allclose(report["layers"][name]["share"], v / total, rtol=1e-12)
    assert report["reference"] is None and hidden["responsibility"] is None
    first = report["connections"][0]
    assert (first["from"], first["to"]) == ("input", "hidden")
    assert np.shape(first["weights"]) == np.shape(first["gradient"]) == (2, 2)  # receiving x sending
    # Gradients are summed over the training patterns: dE/dw_ji = sum_p delta_j a_i.
    delta = np.array(report["layers"]["output"]["delta"])
    a = np.array(report["layers"]["hidden"]["activation"])
    np.testing.assert_allclose(report["connections"][1]["gradient"], delta.T @ a, rtol=1e-12)


def test_train_json_has_the_shape_of_spec_section_5():
    result = bptui("train", "xor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "converged" and report["converged"] is True
    assert len(report["loss"]) == report["epochs"]
    assert report["loss"][-1] < 0.04 <= report["loss"][-2]
    assert np.shape(report["layers"]["hidden"]["bias"]) == (2,)
    assert np.shape(report["connections"][1]["weights"]) == (1, 2)
    assert [p["name"] for p in report["patterns"]] == ["00", "01", "10", "11"]
    assert all(p["set"] == "train" and p["correct"] for p in report["patterns"])


def test_train_seed_and_epochs(capsys):
    assert main(["train", "xor", "--epochs", "3", "--seed", "7", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["epochs"] == 3 and report["status"] == "max_epochs" and report["seed"] == 7
    assert main(["train", "xor", "--epochs", "3", "--seed", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loss"] == report["loss"]  # same seed, same run


def test_train_human_summary(capsys):
    assert main(["train", "xor"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("XOR: converged after")
    assert out.count(" ok") == 4


def test_test_patterns_are_reported_apart(write_scenario, capsys):
    path = write_scenario("""
        format = 1
        [scenario]
        title = "held out"
        [[layers]]
        name = "in"
        size = 1
        [[layers]]
        name = "out"
        size = 1
        [[connections]]
        from = "in"
        to = "out"
        [data]
        patterns = ["a", "b", "c"]
        inputs = [[0], [1], [2]]
        targets = [[0], [1], [nan]]
        test = ["b"]
        [training]
        epochs = 10
    """)
    assert main(["train", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["set"] for p in report["patterns"]] == ["train", "test", "train"]
    assert report["patterns"][2]["target"] == [None]  # don't care: null, never NaN
    assert set(report["accuracy"]) == {"train", "test"}


def test_diverging_run_is_an_outcome_not_a_crash(variant, tmp_path, capsys):
    # Linear units and far too large a step: each change overshoots more, until overflow.
    path = variant("biscuit-factory", "diverging")
    out = tmp_path / "out.toml"
    assert main(["train", str(path), "--json", "--save-as", str(out)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["status"] == "diverged" and report["converged"] is False
    assert "not written" in captured.err and not out.exists()


def test_save_as_reproduces_the_state_bit_for_bit(tmp_path, capsys):
    out = tmp_path / "trained.toml"
    assert main(["train", "xor", "--epochs", "50", "--save-as", str(out)]) == 0
    assert f"saved: {out}" in capsys.readouterr().out
    saved = load_scenario(out)
    original = Run(load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "xor.toml"),
                   max_epochs=50)
    original.train()
    reloaded = Run(saved)
    assert np.array_equal(reloaded.network.theta, original.network.theta)
    assert saved.story == original.scenario.story and saved.training.epochs == 5000
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed, not left


def test_save_as_keeps_a_data_file_reachable(tmp_path, write_scenario, capsys):
    (tmp_path / "data.csv").write_text("pattern,x,y\na,0,0\nb,1,1\n")
    path = write_scenario("""
        format = 1
        [scenario]
        title = "csv"
        [[layers]]
        name = "in"
        size = 1
        [[layers]]
        name = "out"
        size = 1
        [[connections]]
        from = "in"
        to = "out"
        [data]
        file = "data.csv"
        [training]
        epochs = 5
    """)
    (tmp_path / "sub").mkdir()
    out = tmp_path / "sub" / "saved.toml"
    assert main(["train", str(path), "--save-as", str(out)]) == 0
    assert load_scenario(out).data.names == ("a", "b")


@pytest.mark.parametrize("args, message", [
    (["train"], "the following arguments are required"),
    (["train", "xor", "--epochs", "-1"], "out of range"),
    (["train", "xor", "--seed", "x"], "not a whole number"),
    (["train", "no-such-scenario"], "no such file, nor a built-in scenario"),
    (["inspect", "xor", "--bogus"], "unrecognized arguments"),
    (["train", "xor", "--save-as", "/no/such/folder/out.toml"], "cannot write"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, message):
    result = bptui(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bptui: ") and message in lines[0]


def test_installed_scenarios_are_found_from_another_folder(tmp_path):
    result = bptui("train", "tutoring-chain", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "converged" in result.stdout


def test_progress_bar_only_on_a_terminal():
    """stderr a terminal: a progress bar; stderr a pipe: nothing but the result."""
    import pty

    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.run([sys.executable, "-m", "bptui", "train", "xor"], stdout=subprocess.PIPE,
                          stderr=follower, env=env, timeout=120)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"epoch" in seen and b"#" in seen
    assert bptui("train", "xor").stderr == ""


def test_a_failed_save_leaves_the_old_file_whole_and_no_temporary(tmp_path, monkeypatch):
    """A crash or a full disk in the middle of a save: the old file survives untouched."""
    from bptui.core import save

    out = tmp_path / "trained.toml"
    out.write_text("the old file\n")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(save.os, "fsync", disk_full)
    result = main(["train", "xor", "--epochs", "5", "--save-as", str(out)])
    assert result == 2
    assert out.read_text() == "the old file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["trained.toml"]


def _sigmoid(net):
    return 1.0 / (1.0 + np.exp(-net))


def _trained(args, capsys) -> dict:
    assert main(["train", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _weights(report: dict):
    """The returned weights by (from, to) and biases by layer, as arrays."""
    w = {(c["from"], c["to"]): np.array(c["weights"]) for c in report["connections"]}
    b = {name: None if layer["bias"] is None else np.array(layer["bias"])
         for name, layer in report["layers"].items()}
    return w, b


def _biscuit_loss(report: dict) -> float:
    """E of the preservative biscuit factory (every unit linear), by hand from the weights."""
    w, b = _weights(report)
    salt = np.array([[0.5], [1.0], [2.0]])
    dose = np.array([[1.0], [1.0], [1.0]])
    t = np.array([[0.5], [1.0], [2.0]])
    mixing = salt @ w["recipe", "mixing"].T + b["mixing"]
    baking = mixing @ w["mixing", "baking"].T
    packaging = baking @ w["baking", "packaging"].T + dose @ w["preservative", "packaging"].T
    quality = packaging @ w["packaging", "quality control"].T
    return 0.5 * np.sum((quality - t) ** 2)


def test_final_loss_is_the_loss_at_the_weights_returned_linear(capsys):
    report = _trained(["biscuit-factory-preservative"], capsys)
    assert report["final_loss"] == pytest.approx(_biscuit_loss(report), rel=1e-12, abs=1e-15)
    assert report["final_loss"] != report["loss"][-1]  # read after the last change, not before it


# The preservative biscuit factory with a right scoop (mixing's weight 1): it stops on an
# epoch loss read before that epoch's change, and momentum then overshoots.
OVERSHOOT_TOML = """
    format = 1
    [scenario]
    title = "overshoot"
    [[layers]]
    name = "recipe"
    units = ["salt"]
    [[layers]]
    name = "preservative"
    units = ["dose"]
    [[layers]]
    name = "mixing"
    units = ["dough"]
    activation = "linear"
    bias = [0.0]
    [[layers]]
    name = "baking"
    units = ["biscuit"]
    activation = "linear"
    bias = false
    [[layers]]
    name = "packaging"
    units = ["packet"]
    activation = "linear"
    bias = false
    [[layers]]
    name = "quality control"
    units = ["saltiness"]
    activation = "linear"
    bias = false
    [[connections]]
    from = "recipe"
    to = "mixing"
    weights = [[1.0]]
    [[connections]]
    from = "mixing"
    to = "baking"
    weights = [[1.0]]
    trainable = false
    [[connections]]
    from = "baking"
    to = "packaging"
    weights = [[1.5]]
    trainable = false
    [[connections]]
    from = "preservative"
    to = "packaging"
    weights = [[0.5]]
    [[connections]]
    from = "packaging"
    to = "quality control"
    weights = [[1.0]]
    trainable = false
    [data]
    patterns = ["half batch", "batch", "double batch"]
    inputs = [[0.5, 1.0], [1.0, 1.0], [2.0, 1.0]]
    targets = [[0.5], [1.0], [2.0]]
    [training]
    loss = "sse"
    learning_rate = 0.02
    momentum = 0.5
    epochs = 2000
    error_criterion = 0.0001
"""


def test_final_loss_shows_the_overshoot_after_the_last_epoch_loss(write_scenario, capsys):
    """The stopping rule reads each epoch's loss before its change (SPEC section 4), so a
    run can stop on a loss its returned weights no longer have: final_loss says so."""
    path = write_scenario(OVERSHOOT_TOML)
    report = _trained([str(path)], capsys)
    assert report["final_loss"] == pytest.approx(_biscuit_loss(report), rel=1e-12)
    assert report["status"] == "converged" and report["epochs"] == 8
    assert report["loss"][-1] < 1e-4 < report["final_loss"]  # below the criterion, then not
    assert report["final_loss"] == pytest.approx(3.0e-3, rel=0.01)
    assert main(["train", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "overshoot: converged after 8 epochs (loss 8.843e-05 < 0.0001); seed 1"
    assert out[1] == "loss at the final weights: 0.00301 (an epoch's loss is read before its change)"


@pytest.mark.parametrize("epochs", ["3", "200", "5000"])
def test_final_loss_is_the_loss_at_the_weights_returned_xor(epochs, capsys):
    report = _trained(["xor", "--epochs", epochs], capsys)
    w, b = _weights(report)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    t = np.array([[0], [1], [1], [0]], dtype=float)
    hidden = _sigmoid(x @ w["input", "hidden"].T + b["hidden"])
    y = _sigmoid(hidden @ w["hidden", "output"].T + b["output"])
    E = 0.5 * np.sum((y - t) ** 2)
    assert report["final_loss"] == pytest.approx(E, rel=1e-12)
    assert report["final_loss"] != report["loss"][-1]  # one more change than the last epoch loss saw
    assert np.array([p["output"] for p in report["patterns"]]) == pytest.approx(y, rel=1e-12)


def test_final_loss_counts_only_what_the_loss_counts(write_scenario, capsys):
    """Cross-entropy, with a don't-care target, a margin and a held-out pattern: final_loss
    leaves out what the epoch losses leave out."""
    path = write_scenario("""
        format = 1
        [scenario]
        title = "masked"
        [[layers]]
        name = "in"
        size = 1
        [[layers]]
        name = "out"
        size = 1
        activation = "sigmoid"
        bias = [-2.0]
        [[connections]]
        from = "in"
        to = "out"
        weights = [[4.0]]
        [data]
        patterns = ["a", "b", "c", "d", "e"]
        inputs = [[0], [1], [2], [3], [0.5]]
        targets = [[0], [0], [nan], [1], [1]]
        test = ["d"]
        [training]
        loss = "cross_entropy"
        learning_rate = 0.01
        margin = 0.15
        epochs = 3
    """)
    report = _trained([str(path)], capsys)
    w, b = _weights(report)
    x = np.array([[0.0], [1.0], [0.5]])  # the training patterns that have a target: a, b, e
    t = np.array([[0.0], [0.0], [1.0]])
    y = _sigmoid(x @ w["in", "out"].T + b["out"])
    outside = np.abs(y - t) > 0.15
    per = -(t * np.log(y) + (1 - t) * np.log(1 - y))
    assert 0 < outside.sum() < len(x)  # the margin leaves some pattern out: the test tests it
    assert report["final_loss"] == pytest.approx(np.sum(per * outside), rel=1e-12)
    assert report["final_loss"] != pytest.approx(np.sum(per), rel=1e-6)


def test_final_loss_of_a_diverged_run_is_null(variant, capsys):
    report = _trained([str(variant("biscuit-factory", "diverging"))], capsys)
    assert report["status"] == "diverged" and report["final_loss"] is None


def _matrix(lines: list[str], title: str) -> np.ndarray:
    """The confusion matrix printed under the line that starts with ``title``."""
    start = next(k for k, line in enumerate(lines) if line.startswith(title))
    assert lines[start + 1].split() == [str(d) for d in range(10)]  # the answers head the columns
    rows = [line.split() for line in lines[start + 2: start + 12]]
    assert [row[0] for row in rows] == [str(d) for d in range(10)]  # the right classes head the rows
    return np.array([[0 if v == "." else int(v) for v in row[1:]] for row in rows])


def test_classifier_summary_gives_accuracy_and_confusion_not_every_pattern(capsys):
    report = _trained(["digits", "--epochs", "3"], capsys)
    assert main(["train", "digits", "--epochs", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) < 40  # not one line per pattern: digits has 1,797
    assert not any(" target " in line for line in lines)
    train = [p["correct"] for p in report["patterns"] if p["set"] == "train"]
    test = [p["correct"] for p in report["patterns"] if p["set"] == "test"]
    assert (len(train), len(test)) == (1438, 359)
    assert (f"accuracy on the training patterns: {sum(train):,} of 1,438 right "
            f"({sum(train) / 1438:.1%})") in lines
    assert f"accuracy on the held-out patterns: {sum(test)} of 359 right ({sum(test) / 359:.1%})" in lines
    for which, title in (("train", "confusion matrix, training"), ("test", "confusion matrix, held-out")):
        matrix = _matrix(lines, title)
        assert matrix.tolist() == report["confusion"][which]
        assert matrix.sum() == len(train if which == "train" else test)
        assert np.trace(matrix) == sum(train if which == "train" else test)
    assert all(len(line) <= 80 for line in lines[2:])
    assert lines[-1] == "  (the 1,797 patterns not listed: --patterns lists every one)"


def test_patterns_lists_every_pattern(capsys):
    report = _trained(["digits", "--epochs", "3"], capsys)
    assert main(["train", "digits", "--epochs", "3", "--patterns"]) == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines() if " target " in line]
    assert [(row[0], row[1]) for row in listed] == [(p["name"], p["set"]) for p in report["patterns"]]
    assert [row[-1] == "ok" for row in listed] == [p["correct"] for p in report["patterns"]]
    # Not a classifier, and more than 50 patterns: the first 50, then how many more.
    names = [p["name"] for p in _trained(["symmetry", "--epochs", "3"], capsys)["patterns"]]
    assert len(names) == 64
    assert main(["train", "symmetry", "--epochs", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines if " target " in line] == names[:50]
    assert lines[-1] == "  (14 more patterns not listed: --patterns lists every one)"
    assert any(line.startswith("accuracy on the training patterns: ") for line in lines)
    assert main(["train", "symmetry", "--epochs", "3", "--patterns"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines if " target " in line] == names
    assert "not listed" not in "\n".join(lines)


def test_names_in_the_train_summary_cannot_drive_the_terminal(write_scenario, capsys, monkeypatch):
    """Pattern names, class names and the title come from the file: control characters in
    them are written escaped. Class names too long for a column are numbered instead.

    The loader refuses such names (tests/test_malformed.py); the text output escapes them
    all the same, so a scenario that reaches it another way cannot drive the terminal."""
    path = write_scenario(r"""
        format = 1
        [scenario]
        title = "evil title"
        [[layers]]
        name = "in"
        size = 3
        [[layers]]
        name = "out"
        units = ["clear", "bell", "a class name much too long for one column of a matrix"]
        activation = "softmax"
        [[connections]]
        from = "in"
        to = "out"
        [data]
        patterns = ["red", "b", "c", "d"]
        inputs = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]
        targets = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
        test = ["d"]
        [training]
        loss = "cross_entropy"
        epochs = 20
    """)
    clean = load_scenario(path)
    out = clean.layers[1]
    hostile = replace(clean, title="evil\x1b[2J title", data=replace(clean.data, names=("red\x1b[31m", "b", "c", "d")),
                      layers=(clean.layers[0], replace(out, units=("clear\x1b[2J", "bell\x07", out.units[2]))))
    monkeypatch.setattr("bptui.cli._load", lambda name: hostile)
    assert main(["train", str(path)]) == 0
    out = capsys.readouterr().out
    assert not any(ord(c) < 32 and c != "\n" for c in out)
    assert out.startswith(r"evil\x1b[2J title: ")
    lines = out.splitlines()
    assert r"  1 clear\x1b[2J" in "\n".join(lines) and r"2 bell\x07" in out
    assert any(line.startswith(r"  red\x1b[31m  train  output ") for line in lines)  # 4 patterns: listed
    assert sum(" target " in line for line in lines) == 4
    matrix = [line for line in lines if line.startswith("  ") and " target " not in line]
    assert len(matrix) == 8 and matrix[0].split() == ["1", "2", "3"]  # long names: numbered columns
    assert all(len(line) <= 80 for line in matrix)
