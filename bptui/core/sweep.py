"""Many seeds at once: how often does a network learn, and how fast?

A sweep trains the same scenario from N seeds together. The weights of all the runs
are stacked in one array (the network's leading ``runs`` axis), so every numpy call
of the engine serves every run at once. Each run starts from exactly the weights a
single ``Run`` with its seed would, follows the same update rule, and stops when it
converges, diverges or runs out of epochs: a run that has stopped is frozen while the
others go on, and the stack shrinks to the runs still going.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass

import numpy as np

from bptui.core.network import Network
from bptui.core.scenario import Scenario
from bptui.core.training import CONVERGED, DIVERGED, MAX_EPOCHS, init_weights, settings_at, training_arrays


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


MAX_SWEEP_VALUES = 200_000_000  # numbers a sweep may hold at once (1.6 GB of float64)


def values_needed(scenario: Scenario, runs: int) -> int:
    """About how many numbers a sweep of ``runs`` runs holds at once: each run's weights,
    gradient and last change, and its net inputs, activations and deltas of every pattern."""
    weights = sum(scenario.layer(c.receiver).size * (scenario.layer(c.sender).size + 1)
                  for c in scenario.connections)
    units = sum(layer.size for layer in scenario.layers)
    return runs * (3 * weights + 3 * len(scenario.data.names) * units)


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
        single = Network(scenario)
        theta = np.empty((n, single.theta.size))
        for i, seed in enumerate(self.seeds):  # the very weights Run(seed) starts from
            init_weights(single, scenario, seed)
            theta[i] = single.theta
        self.x, self.t, self.care = training_arrays(scenario, ~scenario.data.test)
        self.epoch = 0
        self.stopped_at = np.zeros(n, dtype=np.int64)
        self.status: list[str | None] = [None] * n
        self._shuffles = [np.random.default_rng([seed, 1]) for seed in self.seeds]
        self.net_epochs = 0  # epochs run, summed over the runs: the work done
        self._stack(np.arange(n), theta, np.zeros((n, single.n_trainable)))

    def _stack(self, runs: np.ndarray, theta: np.ndarray, dw: np.ndarray) -> None:
        """Train only ``runs`` (indices into seeds) from now on, with these weights and last
        changes: when most runs have stopped, the stack shrinks to those still going."""
        self.runs = runs
        self.network = Network(self.scenario, runs=(len(runs),))
        self.network.theta[...] = theta
        self.dw = dw
        self._trainable = self.network.theta[..., : self.network.n_trainable]

    def _changes(self):
        """Inputs, targets and care masks of each weight change of the next epoch."""
        if self.training.update == "batch":
            yield self.x, self.t, self.care
            return
        n = len(self.x)
        if self.training.order == "shuffled":  # each run its own order, as its single Run would
            orders = np.stack([self._shuffles[i].permutation(n) for i in self.runs])
            for k in range(n):
                rows = orders[:, k]
                care = None if self.care is None else self.care[rows][:, None, :]
                yield self.x[rows][:, None, :], self.t[rows][:, None, :], care
        else:
            for k in range(n):
                yield self.x[k : k + 1], self.t[k : k + 1], None if self.care is None else self.care[k : k + 1]

    def train_epoch(self) -> None:
        """One epoch of every run still going; each that ends there records how."""
        lr, momentum, decay = settings_at(self.training, self.epoch + 1)
        E = 0.0
        for x, t, care in self._changes():
            p = self.network.gradient(x, t, care, self.training.margin)
            E = E + p.E
            self.dw *= momentum
            self.dw -= lr * self.network.grad
            self._trainable += self.dw
            if decay:
                self._trainable *= 1.0 - decay
        self.epoch += 1
        self.net_epochs += len(self.runs)
        diverged = ~(np.isfinite(E) & np.isfinite(self.network.theta.sum(axis=-1)))
        converged = ~diverged & (E < self.training.error_criterion)
        going = ~(diverged | converged) & (self.epoch < self.max_epochs)
        if going.all():
            return
        for k in np.flatnonzero(~going):
            i = self.runs[k]
            self.status[i] = DIVERGED if diverged[k] else CONVERGED if converged[k] else MAX_EPOCHS
            self.stopped_at[i] = self.epoch
        if going.any():
            self._stack(self.runs[going], self.network.theta[going], self.dw[going])
        else:
            self.runs = self.runs[going]

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


def histogram(epochs: list[int], width: int = 60, height: int = 12, color: bool = False) -> str:
    """The distribution of epochs to converge, drawn in text for a terminal (plotext)."""
    import plotext  # only for this drawing

    plotext.clear_figure()
    plotext.plotsize(width, height)
    plotext.theme("clear")
    plotext.hist(epochs, bins=min(20, max(5, len(set(epochs)))))
    plotext.xlabel("epochs to converge")
    text = plotext.build()
    return text if color else re.sub(r"\x1b\[[0-9;]*m", "", text)
