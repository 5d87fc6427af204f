"""Time travel: checkpoints of a run at epoch boundaries, and going back to one exactly.

A ``Checkpoint`` holds everything that decides what training does next: the weights
and biases (theta), the last change dw (momentum carries it), the epoch, the status,
the state of the online-shuffle generator, and the loss history up to then. Training
on from a restored checkpoint therefore gives, bit for bit, the weights and losses of
a run that never went back. Training is deterministic, so any epoch between two kept
checkpoints is reached exactly too: ``History.restore`` goes to the nearest kept one
before it and trains forward from there.

Memory is bounded, the way ``LossHistory`` bounds the loss curve: a ``History`` keeps
every epoch's checkpoint until it holds ``2 * limit`` of them, then drops every other
one and from then on keeps every other epoch, and so on. So at most ``2 * limit``
checkpoints are held however long the session; after a million epochs they are spaced
between 1,000,000 / (2 * limit) and 1,000,000 / limit epochs apart (1,024 for the
default limit), and restoring an epoch between two of them replays fewer epochs than that. Each checkpoint takes

    16 x len(theta) bytes (theta and dw) + at most 2,000 bytes (the generator state,
    the checkpoint itself and its numbers; about 1,600 measured)

so the bound is ``2 * limit * (16 * len(theta) + 2000)`` bytes (``History.max_bytes``):
for the default limit of 500, about 2.1 MB for XOR's 9 weights and biases, 18 MB for a
network of 1,000. A ``budget`` in bytes lowers the limit for big networks, never below
1 (the first checkpoint and one more): the app's 64 MB keeps the default for networks of
up to about 4,000 weights, and 2 checkpoints (2 x 16 bytes a weight) for one of about a
million or more; going back then replays more epochs (issue 14: memory stays a small
multiple of the network's own arrays). The loss history costs almost nothing more: a checkpoint shares the
run's loss lists and remembers only how long they were (a LossHistory only appends to
its lists, and when it thins them it makes new ones, so a prefix once written never
changes). Besides the run's current lists, checkpoints keep alive at most one older
pair per thinning of a limited loss history, log2(epochs / (2 x its limit)) of them:
for the app's limit of 5,000 and a million epochs, 7 pairs of at most 10,000 entries,
about 3 MB in all. An unlimited history is never thinned: it costs nothing more.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from bptui.core.training import Run

LIMIT = 500  # a History holds at most 2 * LIMIT checkpoints
OVERHEAD = 2000  # bytes per checkpoint besides theta's and dw's numbers (see above)


@dataclass(frozen=True, slots=True)  # slots: no per-checkpoint __dict__
class Checkpoint:
    """A run at the end of an epoch (epoch 0: at its starting weights)."""

    epoch: int
    seed: int
    theta: np.ndarray
    dw: np.ndarray
    status: str | None
    shuffle: dict  # the bit generator state of the online-shuffle order
    start_loss: float
    # The loss history: the run's lists (shared, not copied), how much of them was
    # written then, and the rest of the LossHistory's state.
    loss_epochs: list
    loss_values: list
    kept: int
    stride: int
    count: int
    last: float | None


def checkpoint(run: Run) -> Checkpoint:
    """The run as it is now. Meant for the end of an epoch: a weight change half way
    through an online epoch is not recorded (restoring starts the next epoch afresh)."""
    h = run.history
    return Checkpoint(run.epoch, run.seed, run.network.theta.copy(), run.dw.copy(), run.status,
                      run._shuffle.bit_generator.state, run.start_loss,
                      h.epochs, h.values, len(h.values), h.stride, h.count, h.last)


def restore(run: Run, cp: Checkpoint) -> None:
    """Put ``run`` back to the checkpoint, exactly. A Stepper on the run must be reset too."""
    run.seed = cp.seed
    run.network.theta[...] = cp.theta
    run.dw[...] = cp.dw
    run.epoch = cp.epoch
    run.status = cp.status
    run.start_loss = cp.start_loss
    run._shuffle.bit_generator.state = cp.shuffle
    run._order = None  # an epoch under way is abandoned: the next change starts a new one
    run.last_change = None
    h = run.history
    # New lists: the shared ones must stay as the older checkpoints saw them.
    h.epochs = cp.loss_epochs[: cp.kept]
    h.values = cp.loss_values[: cp.kept]
    h.stride, h.count, h.last = cp.stride, cp.count, cp.last


class History:
    """The checkpoints of one run, at most ``2 * limit`` of them, evenly spaced.

    Call ``record()`` after every epoch (it fits ``Run.train``'s ``on_epoch``) and after
    ``run.reset()``; it is cheap on the epochs it does not keep. A record after a
    ``restore`` drops the checkpoints after the restored epoch: that future is being
    written again.
    """

    def __init__(self, run: Run, limit: int = LIMIT, budget: int | None = None):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.run = run
        if budget is not None:
            limit = min(limit, max(1, budget // (2 * (16 * run.network.theta.size + OVERHEAD))))
        self.limit = limit
        self.stride = 1  # epochs kept: every stride-th from the first kept one
        self.checkpoints: list[Checkpoint] = []
        self.record()

    @property
    def epochs(self) -> list[int]:
        """The epochs kept, oldest first."""
        return [cp.epoch for cp in self.checkpoints]

    def record(self, run: Run | None = None) -> None:
        """Keep a checkpoint of the run as it is now, if its epoch is one to keep.
        (``run`` is ignored: it lets ``record`` serve as an ``on_epoch`` callback.)"""
        run = self.run
        cps = self.checkpoints
        if run.epoch == 0 or (cps and cps[0].seed != run.seed):
            # A reset (or a new seed): every checkpoint is of another run.
            self.stride = 1
            self.checkpoints = [checkpoint(run)]
            return
        while cps and cps[-1].epoch >= run.epoch:
            cps.pop()
        if cps and (run.epoch - cps[0].epoch) % self.stride:
            return
        cps.append(checkpoint(run))
        if len(cps) >= 2 * self.limit:
            self.checkpoints = cps[::2]  # the first stays, and every 2 * stride-th epoch after it
            self.stride *= 2

    def at_or_before(self, epoch: int) -> Checkpoint | None:
        """The latest kept checkpoint at or before ``epoch``."""
        n = bisect.bisect_right(self.epochs, epoch)
        return self.checkpoints[n - 1] if n else None

    def back(self, epoch: int) -> Checkpoint | None:
        """The latest kept checkpoint strictly before ``epoch`` (None: there is none)."""
        return self.at_or_before(epoch - 1)

    def forward(self, epoch: int) -> Checkpoint | None:
        """The earliest kept checkpoint strictly after ``epoch`` (None: there is none)."""
        n = bisect.bisect_right(self.epochs, epoch)
        return self.checkpoints[n] if n < len(self.checkpoints) else None

    def restore(self, epoch: int) -> int:
        """Put the run back to the end of ``epoch`` exactly: the nearest kept checkpoint
        at or before it, then training forward to it. Returns the epoch reached, which
        is less than ``epoch`` only when the run ends before it (or when ``epoch`` is
        before the oldest checkpoint kept, which cannot happen after a reset)."""
        cp = self.at_or_before(epoch)
        if cp is None:
            raise ValueError(f"no checkpoint at or before epoch {epoch}")
        run = self.run
        restore(run, cp)
        with np.errstate(all="ignore"):  # overflow on the way to diverging is an outcome
            while run.epoch < epoch and run.status is None:
                run.train_epoch()
        return run.epoch

    def max_bytes(self) -> int:
        """The most memory the checkpoints take (see the module's docstring)."""
        return 2 * self.limit * (16 * self.run.network.theta.size + OVERHEAD)

    def nbytes(self) -> int:
        """About the memory the checkpoints take now."""
        return len(self.checkpoints) * (16 * self.run.network.theta.size + OVERHEAD)
