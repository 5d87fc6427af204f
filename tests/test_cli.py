"""The command line, as a user runs it: output, JSON, exit codes, saving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    assert np.shape(hidden["bias"]) == np.shape(hidden["bias_gradient"]) == np.shape(hidden["blame"]) == (2,)
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
