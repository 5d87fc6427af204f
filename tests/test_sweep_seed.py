"""``bptui sweep --seed``: the first seed, in the range ``train --seed`` takes."""

from __future__ import annotations

from bptui.cli import main
from bptui.core.scenario import MAX_SEED


def test_sweep_seed_is_the_first_seed(capsys):
    # Before, argparse took --seed for an abbreviation of --seeds: seeds 1 to 2.
    assert main(["sweep", "xor", "--seed", "7", "--seeds", "2", "--epochs", "1"]) == 0
    assert "(seeds 7 to 8," in capsys.readouterr().out


def test_sweep_seed_takes_the_range_of_train_seed(capsys):
    for argv in (["train", "xor"], ["sweep", "xor", "--seeds", "1"]):
        assert main(argv + ["--seed", str(MAX_SEED + 1)]) == 2
        assert f"argument --seed: {MAX_SEED + 1} is out of range (0 to {MAX_SEED})" in capsys.readouterr().err
    assert main(["sweep", "xor", "--seed", str(MAX_SEED - 1), "--seeds", "2", "--epochs", "1"]) == 0
    assert f"(seeds {MAX_SEED - 1} to {MAX_SEED}," in capsys.readouterr().out


def test_no_seed_of_a_sweep_goes_past_the_largest(variant, capsys):
    too_far = ["--seeds", "3", "--epochs", "1"]
    assert main(["sweep", "xor", "--seed", str(MAX_SEED - 1), *too_far]) == 2
    err = capsys.readouterr().err
    assert f"seeds {MAX_SEED - 1} to {MAX_SEED + 1} go past the largest seed" in err
    assert f"start at {MAX_SEED - 2} or lower" in err
    # the file's seed as the first: before, seeds MAX_SEED + 1 and + 2 were trained
    at_the_top = variant("xor", [("seed = 1", f"seed = {MAX_SEED}")])
    assert main(["sweep", str(at_the_top), *too_far]) == 2
    assert f"seeds {MAX_SEED} to {MAX_SEED + 2} go past" in capsys.readouterr().err
