"""Many seeds at once: how often does a network learn, and how fast?

A sweep trains the same scenario from N seeds together. The weights of all the runs
are stacked in one array (laid out like a network's with a leading ``runs`` axis), so
every numpy call serves every run at once. Each run starts from exactly the weights a
single ``Run`` with its seed would, and follows the same update rule through the same
numpy operations (Network.gradient over the stack, then Run.update's), so it computes
the very same numbers; it stops when it converges, diverges or runs out of epochs, and
the stack shrinks to the runs still going (the network is rebound to it, not compiled
again).

Which runs ended is checked every CHECK_EVERY epochs, not every epoch: a check costs
as much as a tenth of a small network's epoch. Each run's error of every epoch is kept
until then, so the epoch it converged at, or its error stopped being finite at, is
known exactly; a run that ended keeps training to the check, and what it did after its
end is not counted. A weight that stops being a finite number stays so (inf and nan
never turn back into numbers under the update rule), so all finite at the check means
all finite throughout; otherwise the sweep goes back to the last check and runs those
epochs again checking every one (the same numbers, so the same outcome, found exactly).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from bptui.core.network import Network
from bptui.core.scenario import Scenario
from bptui.core.training import (CONVERGED, DIVERGED, MAX_EPOCHS, finite_weights, init_weights, settings_at,
                                  training_arrays)


@dataclass(frozen=True)
class SweepResult:
    seeds: tuple[int, ...]
    max_epochs: int
    epochs: tuple[int | None, ...]  # the epoch each run converged at, None if it did not
    status: tuple[str, ...]  # converged | max_epochs | diverged, per run

    @property
    def converged(self) -> int:
        return sum(e is not None for e in self.epochs)

    def failure_interval(self, z: float = 1.96) -> tuple[float, float, float]:
        """The failure rate and its 95% Wilson score interval."""
        n = len(self.seeds)
        rate = (n - self.converged) / n
        centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return rate, max(0.0, centre - half), min(1.0, centre + half)

    def summary(self, title: str) -> list[str]:
        """What a person reads first: how many learned, how fast, how often it fails."""
        rate, low, high = self.failure_interval()
        lines = [f"{title}: {self.converged} of {len(self.seeds)} seeds converged (seeds {self.seeds[0]} "
                 f"to {self.seeds[-1]}, at most {self.max_epochs} epochs)"]
        epochs = [e for e in self.epochs if e is not None]
        if epochs:
            lines.append(f"epochs to converge: median {statistics.median(epochs):g}, "
                         f"from {min(epochs)} to {max(epochs)}")
        lines.append(f"failure rate (a local minimum, or too few epochs): {rate:.1%}, "
                     f"95% interval {low:.1%} to {high:.1%}")
        if self.status.count(DIVERGED):
            lines.append(f"{self.status.count(DIVERGED)} of them diverged")
        return lines

    def report(self) -> dict:
        """The JSON of SPEC section 2."""
        return {"seeds": len(self.seeds), "max_epochs": self.max_epochs, "epochs": list(self.epochs),
                "converged": self.converged}


CHECK_EVERY = 64  # epochs between two checks of which runs ended
MAX_SWEEP_VALUES = 200_000_000  # numbers a sweep may hold at once (1.6 GB of float64)


def values_needed(scenario: Scenario, runs: int) -> int:
    """About how many numbers a sweep of ``runs`` runs holds at once: each run's weights,
    gradient and last change, and the weights and last change of the last check; its net
    inputs, activations and deltas of every pattern, and its copy of the targets."""
    # A shared matrix is held once, however many connections use it.
    groups = {c.share: c for c in reversed(scenario.connections) if c.share is not None}
    weights = sum(scenario.layer(c.receiver).size * (scenario.layer(c.sender).size + 1)
                  for c in scenario.connections if c.share is None or groups[c.share] is c)
    units = sum(layer.size for layer in scenario.layers)
    return runs * (5 * weights + 4 * len(scenario.data.names) * units)


class Sweep:
    def __init__(self, scenario: Scenario, seeds: list[int], max_epochs: int | None = None):
        """Raises ValueError when the runs would not fit in memory (see MAX_SWEEP_VALUES)."""
        need = values_needed(scenario, len(seeds))
        if need > MAX_SWEEP_VALUES:
            raise ValueError(f"{len(seeds):,} runs of this network would hold about {need:,} numbers at once; "
                             f"the limit is {MAX_SWEEP_VALUES:,}: sweep fewer seeds")
        self.scenario = scenario
        self.training = t = scenario.training
        self.seeds = tuple(seeds)
        self.max_epochs = t.epochs if max_epochs is None else max_epochs
        n = len(self.seeds)
        # One run's network, to draw each run's starting weights; then bound to the stack.
        self.network = Network(scenario)
        theta = np.empty((n, self.network.size))
        for i, seed in enumerate(self.seeds):  # the very weights Run(seed) starts from
            init_weights(self.network, scenario, seed)
            theta[i] = self.network.theta
        self.x, self.t, self.care = training_arrays(scenario, ~scenario.data.test)
        x, care = self.x, self.care
        # The weight changes that are the same at every epoch: batch's one over every
        # pattern, or online's one per pattern in order (None: shuffled, drawn per epoch).
        self._fixed_changes = [(x, self.t, care)] if t.update == "batch" else None if t.order == "shuffled" else [
            (x[k : k + 1], self.t[k : k + 1], None if care is None else care[k : k + 1]) for k in range(len(x))]
        self.epoch = 0
        self.stopped_at = np.zeros(n, dtype=np.int64)
        self.status: list[str | None] = [None] * n
        # each run's own shuffle, drawn as its single Run draws it (made only when used: 7 us a seed)
        self._shuffles = None if self._fixed_changes else [np.random.default_rng([seed, 1]) for seed in self.seeds]
        self.net_epochs = 0  # epochs run, summed over the runs: the work done
        self._stage_starts = frozenset(stage.from_epoch for stage in t.schedule)  # where settings_at changes
        self._settings: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._window: list[np.ndarray] = []  # each run's error at every epoch since the last check
        self._window_orders: list[tuple[np.ndarray, np.ndarray]] = []  # (runs, their orders), shuffled online only
        self._replay: list[tuple[np.ndarray, np.ndarray]] = []  # orders to use again, going back over a window
        self._exact_until = 0  # until this epoch, check every epoch (going back over a window)
        self._stack(np.arange(n), theta, np.zeros((n, self.network.n_trainable)))

    def _stack(self, runs: np.ndarray, theta: np.ndarray, dw: np.ndarray) -> None:
        """Train only ``runs`` (indices into seeds) from now on, with these weights and last
        changes: when runs stop, the stack shrinks to those still going."""
        self.runs = runs
        self.theta = np.ascontiguousarray(theta)  # (runs, weights), each row laid out like one run's theta
        self.dw = dw
        self.grad = np.zeros_like(dw)
        self.network.bind(self.theta, self.grad)  # its views, and so its passes, over the stack
        self._trainable = self.theta[:, : self.network.n_trainable]
        self._step = np.empty_like(dw)  # lr dE/dw of one weight change
        if self._fixed_changes is not None:
            # Targets and care masks copied out to one per run: err = a - t then takes
            # numpy's plain loop, not its broadcasting one (0.3 against 0.8 us at 12 runs).
            self._stacked_changes = [(x, _per_run(t, len(runs)), None if care is None else _per_run(care, len(runs)))
                                     for x, t, care in self._fixed_changes]
        self._start_window()

    def _start_window(self) -> None:
        """Epochs from here to the next check: CHECK_EVERY, or one while going back over a window."""
        self._window_start = self.epoch
        self._window.clear()
        self._window_orders.clear()
        self._window_length = 1 if self.epoch < self._exact_until else CHECK_EVERY
        # what to go back to (copies: training changes theta and dw in place)
        self._checkpoint = (self.theta.copy(), self.dw.copy()) if self._window_length > 1 else None

    def _changes(self):
        """Inputs, targets and care masks of each weight change of the next epoch."""
        if self._fixed_changes is not None:
            return self._stacked_changes
        # online, shuffled: each run its own order, as its single Run would
        if self._replay:  # going back over a window: the orders drawn the first time
            runs, orders = self._replay.pop(0)
            orders = orders[np.searchsorted(runs, self.runs)]  # of the runs still going
        else:
            orders = np.stack([self._shuffles[i].permutation(len(self.x)) for i in self.runs])
        if self._checkpoint is not None:
            self._window_orders.append((self.runs, orders))
        return [(self.x[rows][:, None, :], self.t[rows][:, None, :],
                 None if self.care is None else self.care[rows][:, None, :]) for rows in orders.T]

    def _settings_for(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """learning_rate, momentum and 1 - weight_decay (None: no decay) of ``epoch``, as
        0-d arrays: the numbers of Run.update, in a form numpy takes faster."""
        lr, momentum, decay = settings_at(self.training, epoch)
        return np.array(lr), np.array(momentum), np.array(1.0 - decay) if decay else None

    def train_epoch(self) -> None:
        """One epoch of every run still going; the runs that ended are found at the next check."""
        if self._settings is None or self.epoch + 1 in self._stage_starts:
            self._settings = self._settings_for(self.epoch + 1)
        lr, momentum, keep = self._settings
        dw, step, trainable, grad = self.dw, self._step, self._trainable, self.grad
        gradient, margin = self.network.gradient, self.training.margin
        E = None
        for x, t, care in self._changes():
            E_change = gradient(x, t, care, margin).E  # and dE/dw into grad
            E = E_change if E is None else E + E_change
            # Run.update in place: dw(t) = momentum dw(t-1) - lr dE/dw;  w += dw;  w *= 1 - decay
            np.multiply(dw, momentum, dw)
            np.multiply(grad, lr, step)
            np.subtract(dw, step, dw)
            np.add(trainable, dw, trainable)
            if keep is not None:
                np.multiply(trainable, keep, trainable)
        self.epoch += 1
        self.net_epochs += len(self.runs)
        self._window.append(E)
        if self.epoch - self._window_start < self._window_length and self.epoch < self.max_epochs:
            return
        self._check()

    def _check(self) -> None:
        """Which runs ended since the last check, at which epoch and how (as Run.record
        decides: diverged, else converged, else out of epochs); the stack keeps the others."""
        finite = finite_weights(self.theta)
        if self._checkpoint is not None and not finite.all():
            self._go_back()
            return
        E = np.stack(self._window)  # (epochs since the last check, runs)
        diverged = ~np.isfinite(E)
        diverged[-1] |= ~finite  # all finite unless the window is one epoch: its weights are that epoch's
        ended = diverged | (E < self.training.error_criterion)
        ends = ended.any(axis=0)  # the runs that ended since the last check
        last = self.epoch >= self.max_epochs
        if not (last or ends.any()):
            self._start_window()
            return
        first = ended.argmax(axis=0)  # the epoch of the window each ended at, counted from 0
        for k in np.flatnonzero(ends | last):
            i = self.runs[k]
            if ends[k]:
                self.status[i] = DIVERGED if diverged[first[k], k] else CONVERGED
                self.stopped_at[i] = self._window_start + first[k] + 1
                self.net_epochs -= self.epoch - int(self.stopped_at[i])  # its epochs after its end do not count
            else:
                self.status[i], self.stopped_at[i] = MAX_EPOCHS, self.epoch
        going = ~ends & (not last)
        if going.any():
            self._stack(self.runs[going], self.theta[going], self.dw[going])
        else:
            self.runs = self.runs[going]

    def _go_back(self) -> None:
        """A weight stopped being finite since the last check, at an epoch not known: back
        to that check, to run the same epochs again checking every one."""
        theta, dw = self._checkpoint
        self.net_epochs -= len(self.runs) * (self.epoch - self._window_start)
        self._exact_until, self.epoch = self.epoch, self._window_start
        self._replay = list(self._window_orders)
        self._settings = None  # settings_at of the epoch gone back to
        self._stack(self.runs, theta, dw)

    def run(self, on_epoch=None, stop=None) -> SweepResult | None:
        """Train every run to its end and return the result (None if ``stop()`` turned true)."""
        with np.errstate(all="ignore"):  # diverging runs are an outcome
            while len(self.runs) and self.epoch < self.max_epochs:
                if stop is not None and stop():
                    return None
                self.train_epoch()
                if on_epoch is not None:
                    on_epoch(self)
        for i in self.runs:  # zero epochs asked for
            self.status[i] = MAX_EPOCHS
        epochs = tuple(int(e) if s == CONVERGED else None for e, s in zip(self.stopped_at, self.status))
        return SweepResult(self.seeds, self.max_epochs, epochs, tuple(self.status))


def _per_run(array: np.ndarray, runs: int) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(array, (runs,) + array.shape))
