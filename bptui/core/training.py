"""Training: the update rule of the 1986 paper, epoch by epoch.

    dw(t) = -learning_rate * dE/dw + momentum * dw(t-1);   w += dw;   w *= (1 - decay)

``batch`` sums dE/dw over all training patterns and changes the weights once per
epoch; ``online`` changes them after every pattern. The loss of an epoch is the error
of the patterns as they were presented (SPEC section 4): for batch, E at the weights
before the epoch's change; for online, the sum of each pattern's error just before its
own change, the ``tss`` of the PDP ``bp`` program (with the 1/2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bptui.core.network import Network, Pass
from bptui.core.scenario import Scenario

CONVERGED, MAX_EPOCHS, DIVERGED = "converged", "max_epochs", "diverged"


def init_weights(network: Network, scenario: Scenario, seed: int) -> None:
    """Starting weights: the file's where it gives them, else uniform(-weight_init, weight_init).

    Every parameter is drawn, given or not, so giving one connection's weights does not
    change the random draws of the others.
    """
    rng = np.random.default_rng(seed)
    r = scenario.training.weight_init
    network.theta[...] = rng.uniform(-r, r, size=network.theta.shape)
    for link, conn in zip(network.links, scenario.connections):
        if conn.weights is not None:
            link.w[...] = conn.weights
    for layer in scenario.layers:
        if layer.bias_values is not None:
            network.layer(layer.name).b[...] = layer.bias_values


def settings_at(training, epoch: int) -> tuple[float, float, float]:
    """learning_rate, momentum and weight_decay of ``training`` in force for ``epoch``
    (counted from 1): the base settings, then each schedule entry from its epoch on."""
    lr, momentum, decay = training.learning_rate, training.momentum, training.weight_decay
    for stage in training.schedule:
        if stage.from_epoch > epoch:
            break
        lr = lr if stage.learning_rate is None else stage.learning_rate
        momentum = momentum if stage.momentum is None else stage.momentum
        decay = decay if stage.weight_decay is None else stage.weight_decay
    return lr, momentum, decay


def finite_weights(theta: np.ndarray):
    """Whether every weight and bias is a finite number (per run, for a stack of runs):
    a run whose loss or weights are not is diverged (SPEC section 5)."""
    finite = np.isfinite(theta)
    return finite.all(axis=-1) if theta.ndim > 1 else np.count_nonzero(finite) == finite.size


def training_arrays(scenario: Scenario, which: np.ndarray):
    """Inputs, targets (don't-care as 0) and the care mask (None if every target counts)."""
    x = scenario.data.inputs[which]
    t = scenario.data.targets[which]
    missing = np.isnan(t)
    care = (~missing).astype(np.float64) if missing.any() else None
    return x, np.where(missing, 0.0, t), care


class LossHistory:
    """The loss of every epoch, or, with a limit, of evenly spaced epochs.

    A long session in the app must not grow without bound: when a limited history is
    full, every other point is dropped and from then on only every other epoch is
    kept, so a million epochs take no more memory than a thousand. The last loss is
    always known.
    """

    def __init__(self, limit: int | None = None):
        self.limit = limit
        self.epochs: list[int] = []  # the epochs kept, counted from 1
        self.values: list[float] = []
        self.stride = 1
        self.count = 0
        self.last: float | None = None

    def append(self, loss: float) -> None:
        self.count += 1
        self.last = loss
        if (self.count - 1) % self.stride:
            return
        self.epochs.append(self.count)
        self.values.append(loss)
        if self.limit is not None and len(self.values) >= 2 * self.limit:
            self.epochs = self.epochs[::2]
            self.values = self.values[::2]
            self.stride *= 2


@dataclass(frozen=True)
class Change:
    """What one weight change used and did, as the engine computed it.

    Kept in ``Run.last_change`` only while ``Run.keep_last_change`` is true, so that
    training pays for the copies only when something (an explanation, a trace) reads them.
    Vectors are laid out like theta (``Network.views`` splits them per connection);
    ``grad``, ``dw_before`` and ``dw`` hold the trainable part only.
    """

    epoch: int  # the epoch the change belongs to, counted from 1
    update: int  # its place within that epoch, counted from 1 (always 1 for batch)
    rows: np.ndarray  # the training patterns it was computed over: indices into Run.x
    learning_rate: float
    momentum: float
    weight_decay: float
    E: float  # the error of those patterns at the weights before the change
    grad: np.ndarray  # dE/dw summed over those patterns
    dw_before: np.ndarray  # dw(t-1), the last change, which momentum carries on
    dw: np.ndarray  # dw(t) = -learning_rate * grad + momentum * dw_before
    theta_before: np.ndarray  # every weight and bias before the change
    theta: np.ndarray  # ... and after it, decay included
    pass_: Pass  # the forward and backward pass over those patterns (net, a, delta)


class Run:
    """One training run: the weights, their last changes (for momentum) and the losses so far."""

    def __init__(self, scenario: Scenario, seed: int | None = None, max_epochs: int | None = None,
                 history: int | None = None):
        """``history``: keep at most about twice this many epochs' losses (None: every one)."""
        self.scenario = scenario
        self.history_limit = history
        self.training = scenario.training
        self.max_epochs = self.training.epochs if max_epochs is None else max_epochs
        self.network = Network(scenario)
        self.x, self.t, self.care = training_arrays(scenario, ~scenario.data.test)
        self._trainable = self.network.theta[..., : self.network.n_trainable]
        self.dw = np.zeros_like(self.network.grad)
        self._every_row = slice(None)
        # Off by default: the copies a Change holds would slow every weight change.
        self.keep_last_change = False
        self.reset(self.training.seed if seed is None else seed)

    def reset(self, seed: int | None = None) -> None:
        """Back to the starting weights of ``seed`` (the same seed gives the same run)."""
        if seed is not None:
            self.seed = seed
        init_weights(self.network, self.scenario, self.seed)
        self.dw[...] = 0.0
        self.epoch = 0
        self.history = LossHistory(self.history_limit)
        self.status: str | None = None  # CONVERGED, MAX_EPOCHS or DIVERGED once finished
        self._shuffle = np.random.default_rng([self.seed, 1])
        self._order = None  # this epoch's pattern order, while an epoch is under way
        self.last_change: Change | None = None  # kept only while keep_last_change is true
        with np.errstate(all="ignore"):
            p = self.network.forward(self.x)
            self.network.output_error(p, self.t, self.care, self.training.margin)
        self.start_loss = float(p.E)  # E at the starting weights: the loss before any epoch

    def settings(self, epoch: int) -> tuple[float, float, float]:
        """learning_rate, momentum and weight_decay in force for ``epoch`` (counted from 1)."""
        return settings_at(self.training, epoch)

    def update(self, lr: float, momentum: float, decay: float) -> None:
        """Change the weights by the gradient in ``network.grad``."""
        dw = self.dw
        dw *= momentum
        dw -= lr * self.network.grad
        self._trainable += dw
        if decay:
            self._trainable *= 1.0 - decay

    def next_patterns(self):
        """The next weight change's training patterns (their rows), inputs, targets and care
        mask: every pattern (batch), or the next one in this epoch's order (online)."""
        if self._order is None:
            n = len(self.x)
            shuffled = self.training.update == "online" and self.training.order == "shuffled"
            self._order = self._shuffle.permutation(n) if shuffled else range(n)
            self._done = 0
            self._E = 0.0
        if self.training.update == "batch":
            return self._every_row, self.x, self.t, self.care
        k = self._order[self._done]
        rows = slice(k, k + 1)
        return rows, self.x[rows], self.t[rows], None if self.care is None else self.care[rows]

    def finish_change(self, p: Pass) -> None:
        """Change the weights by the gradient the backward pass ``p`` left in network.grad,
        and count its error."""
        settings = self.settings(self.epoch + 1)
        if self.keep_last_change:
            before = self.network.theta.copy(), self.dw.copy()
            self.update(*settings)
            self._keep(p, settings, *before)
        else:
            self.update(*settings)
        self.record(p.E)

    def _keep(self, p: Pass, settings, theta_before: np.ndarray, dw_before: np.ndarray) -> None:
        if self.training.update == "batch":
            rows = np.arange(len(self.x))
        else:
            rows = np.array([self._order[self._done]])
        self.last_change = Change(self.epoch + 1, self._done + 1, rows, *settings, float(p.E),
                                  self.network.grad.copy(), dw_before, self.dw.copy(), theta_before,
                                  self.network.theta.copy(), p)

    def record(self, E) -> None:
        """Count the error of one weight change; at the end of an epoch record the epoch's
        loss and, when the run ends there, its status."""
        self._E += float(E)
        self._done += 1
        if self.training.update == "online" and self._done < len(self.x):
            return
        E = self._E
        self._order = None
        self.epoch += 1
        self.history.append(E)
        if not (math.isfinite(E) and finite_weights(self.network.theta)):
            self.status = DIVERGED
        elif E < self.training.error_criterion:
            self.status = CONVERGED
        elif self.epoch >= self.max_epochs:
            self.status = MAX_EPOCHS

    @property
    def mid_epoch(self) -> bool:
        """True between the weight changes of an online epoch under way."""
        return self._order is not None and self._done > 0

    @property
    def updates(self) -> int:
        """Weight changes made since the starting weights (what a lesson's budget counts)."""
        per_epoch = 1 if self.training.update == "batch" else len(self.x)
        return self.epoch * per_epoch + (self._done if self._order is not None else 0)

    @property
    def losses(self) -> list[float]:
        """The loss of every epoch so far (of the epochs kept, when the history is limited)."""
        return self.history.values

    def train_epoch(self, stop=None, on_change=None) -> float | None:
        """Run (the rest of) one epoch and return its loss; or, when ``stop()`` turns true
        between two weight changes of an online epoch, stop there and return None.
        ``on_change(run)``, if given, is called after every weight change."""
        while True:
            _, x, t, care = self.next_patterns()
            self.finish_change(self.network.gradient(x, t, care, self.training.margin))
            if on_change is not None:
                on_change(self)
            if self._order is None:
                return self.history.last
            if stop is not None and stop():
                return None

    def train(self, on_epoch=None, on_change=None) -> str:
        """Train until converged, diverged or out of epochs; return the status.
        ``on_epoch(run)`` is called after every epoch, ``on_change(run)`` after every
        weight change."""
        if self.status is None and self.epoch >= self.max_epochs:
            self.status = MAX_EPOCHS
        with np.errstate(all="ignore"):  # overflow on the way to diverging is an outcome
            while self.status is None:
                self.train_epoch(on_change=on_change)
                if on_epoch is not None:
                    on_epoch(self)
        return self.status

    def inspect(self) -> Pass:
        """Forward and backward over all training patterns at the current weights (no change)."""
        with np.errstate(all="ignore"):  # at diverged weights the numbers overflow: an outcome
            return self.network.gradient(self.x, self.t, self.care, self.training.margin)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The outputs for the given patterns, output layers side by side."""
        with np.errstate(all="ignore"):
            p = self.network.forward(x)
        return np.concatenate([p.a[u.index] for u in self.network.outputs], axis=-1)
