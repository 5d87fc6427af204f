"""Time travel (bptui/core/history.py): back to an epoch and on again, bit for bit; memory
bounded however long the session."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bptui.core.history import OVERHEAD, History, checkpoint, restore
from bptui.core.scenario import load_scenario
from bptui.core.stepper import Stepper
from bptui.core.training import CONVERGED, Run

SCHEDULE = [("seed = 1", "seed = 1\n\n[[training.schedule]]\nfrom_epoch = 9\nlearning_rate = 0.25\n"
             "momentum = 0.5\nweight_decay = 0.001")]
CASES = {
    "batch": ("xor", []),
    "online-shuffled": ("encoder-4-2-4", [('order = "sequential"', 'order = "shuffled"')]),
    "schedule": ("xor", SCHEDULE),
}
EPOCHS = 60


def same(a: Run, b: Run) -> None:
    """Two runs in the same state, bit for bit: everything that decides what comes next."""
    assert a.epoch == b.epoch and a.status == b.status and a.seed == b.seed
    np.testing.assert_array_equal(a.network.theta, b.network.theta)
    np.testing.assert_array_equal(a.dw, b.dw)
    assert a.losses == b.losses
    assert (a.history.epochs, a.history.stride, a.history.count, a.history.last) == (
        b.history.epochs, b.history.stride, b.history.count, b.history.last)
    assert a.start_loss == b.start_loss
    assert a._shuffle.bit_generator.state == b._shuffle.bit_generator.state


def trained(scenario, epochs: int, **kw) -> Run:
    """A run that never went back, trained ``epochs`` epochs (of at most EPOCHS)."""
    run = Run(scenario, max_epochs=EPOCHS, **kw)
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            run.train_epoch()
    return run


@pytest.fixture(params=list(CASES))
def scenario(request, variant):
    name, replacements = CASES[request.param]
    s = load_scenario(variant(name, replacements + [("error_criterion = ", "error_criterion = 0 # ")]))
    assert s.training.error_criterion == 0  # so no run stops before EPOCHS
    return s


@pytest.mark.parametrize("limit", [3, 1000])  # thinned many times, and never
def test_back_to_any_epoch_and_on_again_is_bit_for_bit(scenario, limit):
    straight = trained(scenario, EPOCHS)
    run = Run(scenario, max_epochs=EPOCHS)
    history = History(run, limit=limit)
    run.train(on_epoch=history.record)
    same(run, straight)
    for epoch in (37, 8, 0, 1, 9, 59, EPOCHS, 23):
        assert history.restore(epoch) == epoch
        same(run, trained(scenario, epoch))  # exactly where a run that never went back was
        run.train(on_epoch=history.record)  # ... and on from there as it went, recording anew
        same(run, straight)


def test_restoring_epoch_0_is_a_reset(scenario):
    run = Run(scenario, max_epochs=EPOCHS)
    history = History(run, limit=4)
    run.train(on_epoch=history.record)
    history.restore(0)
    same(run, Run(scenario, max_epochs=EPOCHS))
    reset = trained(scenario, 7)
    reset.reset()
    same(run, reset)
    assert run.losses == [] and run.status is None


def test_restoring_a_limited_loss_history_thinned_since(variant):
    # The loss history keeps about 2 x 4 epochs: by epoch 60 it has been thinned 3 times.
    scenario = load_scenario(variant(*CASES["online-shuffled"]))
    run = Run(scenario, max_epochs=EPOCHS, history=4)
    history = History(run, limit=1000)
    run.train(on_epoch=history.record)
    assert run.history.stride >= 8
    for epoch in (5, 13, 30):
        history.restore(epoch)
        same(run, trained(scenario, epoch, history=4))
        run.train()
        same(run, trained(scenario, EPOCHS, history=4))


def test_restoring_in_the_middle_of_an_online_epoch(variant):
    scenario = load_scenario(variant(*CASES["online-shuffled"]))
    run = Run(scenario)
    history = History(run)
    for _ in range(5):
        run.train_epoch()
        history.record()
    stepper = Stepper(run)
    for _ in range(7):  # into the second pattern of epoch 6
        stepper.step()
    assert run._order is not None
    history.restore(3)
    stepper.reset()
    same(run, trained(scenario, 3))
    for _ in range(4):
        run.train_epoch()
    same(run, trained(scenario, 7))


def test_a_converged_run_goes_back_and_converges_again(shipped):
    scenario = load_scenario(shipped["xor"])
    run = Run(scenario)
    history = History(run)
    assert run.train(on_epoch=history.record) == CONVERGED
    end = run.epoch
    history.restore(end - 10)
    assert run.status is None
    assert run.train(on_epoch=history.record) == CONVERGED and run.epoch == end
    history.restore(end + 5)  # past the end: it ends where it ended
    assert run.epoch == end and run.status == CONVERGED


def test_back_and_forward_find_the_nearest_kept_checkpoints(shipped):
    run = Run(load_scenario(shipped["xor"]), max_epochs=40)
    history = History(run, limit=5)  # at most 10 kept
    run.train(on_epoch=history.record)
    kept = history.epochs
    assert kept == [0, 8, 16, 24, 32, 40]  # thinned three times: 10 kept, then every 2nd, 4th, 8th
    assert history.back(0) is None
    assert history.back(kept[2]).epoch == kept[1]
    assert history.back(kept[2] + 1).epoch == kept[2]
    assert history.forward(kept[2]).epoch == kept[3]
    assert history.forward(kept[2] - 1).epoch == kept[2]
    assert history.forward(kept[-1]) is None
    assert history.at_or_before(kept[3]).epoch == kept[3]


def test_new_training_after_a_restore_drops_the_later_checkpoints(shipped):
    run = Run(load_scenario(shipped["xor"]), max_epochs=30)
    history = History(run)
    run.train(on_epoch=history.record)
    assert history.epochs == list(range(31))
    history.restore(12)
    assert history.epochs == list(range(31))  # still there: forward is possible
    assert history.forward(12).epoch == 13
    run.train_epoch()
    history.record()
    assert history.epochs == list(range(14))
    assert history.forward(13) is None


def test_a_reset_or_a_new_seed_starts_the_checkpoints_over(shipped):
    run = Run(load_scenario(shipped["xor"]), max_epochs=EPOCHS)
    history = History(run)
    run.train(on_epoch=history.record)
    run.reset(seed=5)
    history.record()
    assert history.epochs == [0] and history.checkpoints[0].seed == 5
    run.train(on_epoch=history.record)
    history.restore(10)
    same(run, trained(run.scenario, 10, seed=5))


def test_checkpoints_stay_bounded_and_evenly_spaced(variant):
    run = Run(load_scenario(variant("xor", "forever")), max_epochs=3000)
    history = History(run, limit=6)
    most = []

    def on_epoch(run):
        history.record()
        most.append(len(history.checkpoints))

    with np.errstate(all="ignore"):
        while run.epoch < 3000 and run.status is None:
            run.train_epoch()
            on_epoch(run)
    assert run.epoch == 3000
    assert max(most) < 2 * 6
    kept = history.epochs
    assert kept[0] == 0
    gaps = set(np.diff(kept))
    assert gaps == {history.stride} and history.stride >= 3000 // (2 * 6)
    # The whole memory of the checkpoints is within the documented bound.
    assert sum(size(cp) for cp in history.checkpoints) <= history.nbytes() <= history.max_bytes()
    assert history.max_bytes() == 2 * 6 * (16 * run.network.theta.size + OVERHEAD)


def size(cp) -> int:
    """The bytes a checkpoint holds itself (the loss lists it shares with the run aside)."""
    def deep(x):
        if isinstance(x, dict):
            return sys.getsizeof(x) + sum(deep(k) + deep(v) for k, v in x.items())
        return sys.getsizeof(x)
    shared = ("loss_epochs", "loss_values")
    return sys.getsizeof(cp) + sum(deep(getattr(cp, f)) for f in cp.__dataclass_fields__ if f not in shared)


def test_checkpoints_share_the_loss_lists_rather_than_copy_them(shipped):
    run = Run(load_scenario(shipped["xor"]), max_epochs=50)
    history = History(run)
    run.train(on_epoch=history.record)
    assert all(cp.loss_values is run.history.values for cp in history.checkpoints)
    assert [cp.kept for cp in history.checkpoints] == list(range(51))
    cp = checkpoint(run)
    restore(run, history.checkpoints[20])
    assert run.history.values is not cp.loss_values  # the shared list is left as it was
    assert len(cp.loss_values) == 50
