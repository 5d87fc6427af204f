"""Many seeds at once: how often does a network learn, and how fast?

A sweep trains the same scenario from N seeds together. The weights of all the runs
are stacked in one array (laid out like a network's with a leading ``runs`` axis), so
every numpy call serves every run at once. Each run starts from exactly the weights a
single ``Run`` with its seed would, and follows the same update rule through the same
numpy operations (the sweep's own walk over the plan, ``_Gradient``, repeats
Network.gradient's), so it computes the very same numbers; it stops when it converges,
diverges or runs out of epochs: a run that has stopped is frozen while the others go
on, and the stack shrinks to the runs still going.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass

import numpy as np

from bptui.core.functions import output_error
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


# Twins of the engine's most used functions (bptui/core/functions.py): the same numpy
# operations on the same numbers, so the same bits (tests/test_sweep.py checks), but
# with 0-d arrays for the constants. A numpy call over a 0-d array takes about half as
# long as over a Python float (0.2 against 0.4 us), which at a few runs of a small
# network is about a twentieth of the epoch.
_HALF, _ONE = np.array(0.5), np.array(1.0)


def _sigmoid(net: np.ndarray) -> np.ndarray:
    """Sigmoid.f: (tanh(net / 2) + 1) / 2."""
    a = np.multiply(net, _HALF)
    np.tanh(a, a)
    np.add(a, _ONE, a)
    return np.multiply(a, _HALF, a)


def _sigmoid_delta(net: np.ndarray, a: np.ndarray, dE_da: np.ndarray) -> np.ndarray:
    """Sigmoid.delta: a (1 - a) dE/da."""
    slope = np.subtract(_ONE, a)
    np.multiply(a, slope, slope)
    return np.multiply(slope, dE_da, slope)


def _sse(f_delta, net: np.ndarray, a: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """output_error for sse when no margin and no don't-care target applies."""
    err = np.subtract(a, t)
    E = np.einsum("...pk,...pk->...", err, err)
    return np.multiply(E, _HALF, E), f_delta(net, a, err)


_TWINS = {"sigmoid": (_sigmoid, _sigmoid_delta)}


class _Gradient:
    """dE/dw of every run in a stack, written into ``grad``: Network.gradient operation for
    operation (so bit for bit), with the walk over the network's plan done once per stack
    instead of at every weight change. At a few runs of a small network that walk, and
    np.sum's Python wrapper, cost about an eighth of the epoch."""

    def __init__(self, network: Network, theta: np.ndarray, grad: np.ndarray, margin: float):
        w, b = network.views(theta)  # stacked w_ji and biases: (runs, receiving, sending)
        w_grad, b_grad = network.views(grad)
        f = {u.index: _TWINS.get(u.f.name, (u.f.f, u.f.delta)) for u in network.computed}

        def whole(columns: slice, group) -> slice | None:  # None: every column, no slicing
            return None if len(group) == 1 else columns

        self.loss, self.margin = network.loss, margin
        self.sse = network.loss == "sse" and not margin > 0.0  # so _sse, unless a target is don't-care
        self.inputs = [(u.index, whole(u.columns, network.inputs)) for u in network.inputs]
        self.outputs = [(u.index, u.f, f[u.index][1], whole(u.columns, network.outputs)) for u in network.outputs]
        self.forward = []
        for u in network.computed:
            (first, *rest) = [(link.sender.index, w[link.index].swapaxes(-1, -2)) for link in u.incoming]
            self.forward.append((u.index, first, rest, b.get(u.index), f[u.index][0]))
        self.backward = [(u.index, None if u.is_output else f[u.index][1],
                          [(link.receiver.index, w[link.index]) for link in u.outgoing], b_grad.get(u.index),
                          [(link.sender.index, w_grad[link.index]) for link in u.incoming if link.trainable])
                         for u in reversed(network.computed)]
        # net, a and delta by layer index, refilled at every call
        self.net, self.a, self.delta = ([None] * len(network.layers) for _ in range(3))

    def __call__(self, x: np.ndarray, t: np.ndarray, care: np.ndarray | None) -> np.ndarray:
        """E per run; dE/dw into grad."""
        net, a, delta = self.net, self.a, self.delta
        for i, columns in self.inputs:
            a[i] = x if columns is None else x[..., columns]
        for i, (sender, w_t), rest, b, f in self.forward:  # net_j = sum_i w_ji a_i + b_j
            net_j = np.matmul(a[sender], w_t)
            for sender, w_t in rest:
                net_j += np.matmul(a[sender], w_t)
            if b is not None:
                np.add(net_j, b, net_j)
            net[i] = net_j
            a[i] = f(net_j)
        E = None
        for i, f, f_delta, columns in self.outputs:
            t_j, care_j = t, care
            if columns is not None:
                t_j, care_j = t[..., columns], None if care is None else care[..., columns]
            if self.sse and care_j is None:
                E_unit, delta[i] = _sse(f_delta, net[i], a[i], t_j)
            else:
                E_unit, delta[i] = output_error(self.loss, f, net[i], a[i], t_j, care_j, self.margin)
            E = E_unit if E is None else E + E_unit
        for i, f_delta, outgoing, b_grad, w_grads in self.backward:
            if f_delta is not None:  # a hidden layer: delta_j = f'(net_j) sum_k delta_k w_kj
                dE_da = None
                for receiver, w in outgoing:
                    if dE_da is None:
                        dE_da = np.matmul(delta[receiver], w)
                    else:
                        dE_da += np.matmul(delta[receiver], w)
                delta[i] = f_delta(net[i], a[i], dE_da)
            if b_grad is not None:
                np.add.reduce(delta[i], -2, None, b_grad, True)  # np.sum's own reduction, without its wrapper
            delta_t = delta[i].swapaxes(-1, -2)
            for sender, w_grad in w_grads:
                np.matmul(delta_t, a[sender], w_grad)  # dE/dw_ji = sum over patterns of delta_j a_i
        return E


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
        self.plan = Network(scenario)  # one run's network; its views lay out the stacked weights too
        theta = np.empty((n, self.plan.theta.size))
        for i, seed in enumerate(self.seeds):  # the very weights Run(seed) starts from
            init_weights(self.plan, scenario, seed)
            theta[i] = self.plan.theta
        self.x, self.t, self.care = training_arrays(scenario, ~scenario.data.test)
        x, care = self.x, self.care
        # The weight changes that are the same at every epoch: batch's one over every
        # pattern, or online's one per pattern in order (None: shuffled, drawn per epoch).
        self._fixed_changes = [(x, self.t, care)] if t.update == "batch" else None if t.order == "shuffled" else [
            (x[k : k + 1], self.t[k : k + 1], None if care is None else care[k : k + 1]) for k in range(len(x))]
        self.epoch = 0
        self.stopped_at = np.zeros(n, dtype=np.int64)
        self.status: list[str | None] = [None] * n
        self._shuffles = [np.random.default_rng([seed, 1]) for seed in self.seeds]
        self.net_epochs = 0  # epochs run, summed over the runs: the work done
        self._stage_starts = frozenset(stage.from_epoch for stage in t.schedule)  # where settings_at changes
        self._settings: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._criterion = np.array(t.error_criterion)  # 0-d, as in _settings_for
        self._stack(np.arange(n), theta, np.zeros((n, self.plan.n_trainable)))

    def _stack(self, runs: np.ndarray, theta: np.ndarray, dw: np.ndarray) -> None:
        """Train only ``runs`` (indices into seeds) from now on, with these weights and last
        changes: when runs stop, the stack shrinks to those still going."""
        self.runs = runs
        self.theta = np.ascontiguousarray(theta)  # (runs, weights), each row laid out like plan.theta
        self.dw = dw
        self.grad = np.zeros_like(dw)
        self._trainable = self.theta[:, : self.plan.n_trainable]
        self._step = np.empty_like(dw)  # lr dE/dw of one weight change
        self._theta_flat = self.theta.reshape(-1)
        self._gradient = _Gradient(self.plan, self.theta, self.grad, self.training.margin)

    def _changes(self):
        """Inputs, targets and care masks of each weight change of the next epoch."""
        if self._fixed_changes is not None:
            return self._fixed_changes
        # online, shuffled: each run its own order, as its single Run would
        orders = np.stack([self._shuffles[i].permutation(len(self.x)) for i in self.runs])
        return [(self.x[rows][:, None, :], self.t[rows][:, None, :],
                 None if self.care is None else self.care[rows][:, None, :]) for rows in orders.T]

    def _settings_for(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """learning_rate, momentum and 1 - weight_decay (None: no decay) of ``epoch``, as
        0-d arrays: the numbers of Run.update, in a form numpy takes faster."""
        lr, momentum, decay = settings_at(self.training, epoch)
        return np.array(lr), np.array(momentum), np.array(1.0 - decay) if decay else None

    def _all_going(self, E: np.ndarray) -> bool:
        """Whether no run ends at this epoch, told in four cheap numpy calls: the exact check
        per run takes a dozen, as many as a small network's forward pass."""
        if self.epoch >= self.max_epochs or np.count_nonzero(E < self._criterion):
            return False
        # nan or inf in an E or a weight, or a weight above 1e154, makes these sums of
        # squares not finite; weights below that cannot overflow a run's sum of weights.
        return math.isfinite(E.dot(E) + self._theta_flat.dot(self._theta_flat))

    def train_epoch(self) -> None:
        """One epoch of every run still going; each that ends there records how."""
        if self._settings is None or self.epoch + 1 in self._stage_starts:
            self._settings = self._settings_for(self.epoch + 1)
        lr, momentum, keep = self._settings
        dw, step, trainable, grad = self.dw, self._step, self._trainable, self.grad
        E = None
        for x, t, care in self._changes():
            E_change = self._gradient(x, t, care)
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
        if self._all_going(E):
            return
        diverged = ~(np.isfinite(E) & np.isfinite(self.theta.sum(axis=-1)))  # as Run.record decides
        converged = ~diverged & (E < self.training.error_criterion)
        going = ~(diverged | converged) & (self.epoch < self.max_epochs)
        for k in np.flatnonzero(~going):
            i = self.runs[k]
            self.status[i] = DIVERGED if diverged[k] else CONVERGED if converged[k] else MAX_EPOCHS
            self.stopped_at[i] = self.epoch
        if going.all():
            return
        if going.any():
            self._stack(self.runs[going], self.theta[going], self.dw[going])
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
